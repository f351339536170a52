//! The model lab: data to train interpolation models on, cut from your own
//! anime ([`triplets`]), and a benchmark of the models on them ([`eval`]).
//!
//! It reuses what `enhance` knows about a video (the gate's cuts, holds and
//! drawings) rather than a plain SSIM filter: a triplet never spans a cut
//! or a flash, never holds two copies of one drawing, and records the
//! middle drawing's real timestep when the animation is on twos or threes.
//!
//! - [`pick`]: which frames form triplets (pure bookkeeping on labels),
//! - [`image`]: crop, resize and encode a frame (JPEG / PNG via FFmpeg),
//! - [`dataset`]: the Vimeo-90K layout, the manifest, resuming,
//! - [`triplets`]: the threaded run over the inputs,
//! - [`metrics`]: PSNR, SSIM and the line-art chamfer distance,
//! - [`eval`]: drop-and-reconstruct on the triplets, every model and two baselines,
//! - [`chart`]: the bar chart of `eval --chart`,
//! - [`cut_sheet`]: `info --gate --sheet`, every cut and flash as a strip of thumbnails,
//! - [`compare`]: the `compare` sheet, input and output frames at the same times.

pub mod chart;
pub mod compare;
pub mod cut_sheet;
pub mod dataset;
pub mod eval;
pub mod image;
pub mod metrics;
mod output_size;
pub mod pick;
pub mod triplets;

pub use triplets::{triplets, TripletOptions, TripletSummary};
