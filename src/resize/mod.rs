//! The final resampling of the super-resolution output to the exact output
//! size ([`resize`]), the in-betweens warped at output size ([`warp`]); the
//! size itself is decided in [`size`].

pub mod filter;
pub mod size;
pub mod warp;

pub use filter::{pick_filter, resize, resize_into, Filter, Planar};
