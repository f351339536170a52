//! The final resampling of the super-resolution output to the exact output
//! size ([`resize`]); the size itself is decided in [`crate::size`].

pub mod filter;

pub use filter::{pick_filter, resize, resize_into, Filter, Planar};
