//! Pure pieces of the upscale stage: the output-size rules ([`output_size`])
//! and the final resampling of the super-resolution output to that size
//! ([`resize`]).

pub mod filter;
pub mod size;

pub use filter::{pick_filter, resize, resize_into, Filter, Planar};
pub use size::{normalise_sar, output_size, OutputSize, SizeRequest, MAX_SIDE, MIN_SIDE};
