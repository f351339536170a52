//! ainimotion: anime-aware frame interpolation and super-resolution.
//!
//! The library does all the work; the binary only parses arguments
//! (`main.rs`) and, one file per subcommand (`src/commands/`), calls the
//! library, draws progress and maps errors to exit codes. Entry points:
//! [`enhance`] and [`probe`].

pub mod analyze;
pub mod batch;
pub mod chunk;
pub mod cli;
pub mod clip;
pub mod color;
pub mod config;
pub mod error;
pub mod fields;
pub mod gate;
pub mod lab;
pub mod media;
pub mod model;
pub mod output_lock;
pub mod picture;
pub mod progress;
pub mod rational;
pub mod resize;
pub mod stage;
#[cfg(test)]
pub(crate) mod testutil;
pub mod timing;

pub use analyze::analyze;
pub use error::{Error, Result};
pub use media::probe::{probe, MediaInfo};
pub use stage::{enhance, EnhanceOptions};
