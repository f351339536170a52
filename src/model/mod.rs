//! ONNX Runtime setup, execution providers, the model manifest, model
//! sessions and the tiling maths that feeds them.
//!
//! The flow for a caller:
//!
//! 1. [`Runtime::load`] finds and loads the ONNX Runtime library once per
//!    process (explicit path, then `ORT_DYLIB_PATH`, then the path baked in
//!    at build time).
//! 2. [`select_device`] picks the execution provider (`auto`: TensorRT, then
//!    CUDA, then OpenVINO on CPUs with bf16 units, then ONNX Runtime's CPU
//!    provider) and says why in one line.
//! 3. [`Manifest::load`] reads `models/models.toml`; [`ModelEntry::verify`]
//!    checks the file's sha256 once and gives a [`VerifiedModel`].
//! 4. Each worker builds its own [`Upscaler`] or [`Interpolator`] (one ONNX
//!    session per worker: `Session::run` takes `&mut self`).
//! 5. [`tiling`] splits frames into overlapping tiles and stitches the
//!    scaled tiles back without seams; it has no ONNX Runtime dependency.
//!
//! For the pipeline, [`load`] (in `run.rs`) does all of this for the models a
//! run needs and hands them to the stages behind the two interfaces the
//! stages call, [`Interpolate`] and [`Upscale`]; `report.rs` is
//! `info --models` ([`models_info`]).

#[macro_use]
mod names;
mod cpu;
mod device;
mod error;
mod manifest;
mod onnx_proto;
mod openvino_cpu;
mod report;
pub mod run;
mod runtime;
mod session;
pub mod tiling;

pub use cpu::CpuUnits;
pub use device::{select_device, Device, DeviceOptions, ExecutionPlan, Provider};
pub use error::{ModelError, Result};
pub use manifest::{
    sha256_reader, Manifest, ModelEntry, ModelKind, VerifiedModel, LARGE_FRAME_PIXELS,
};
pub use openvino_cpu::{
    default_openvino_path, resolve_openvino_path, OpenVino, Precision, PrecisionMode,
    OPENVINO_LIB_ENV,
};
pub use report::{models_info, render_models, ModelStatus, ModelsInfo};
pub use run::{load, models_dir, Interpolate, ModelOptions, RunModels, Upscale};
pub use runtime::{default_library_path, resolve_library_path, LibrarySource, Runtime};
pub use session::{Interpolator, ModelTimer, Upscaler};
pub use tiling::{PadMode, TileConfig};

#[doc(hidden)]
pub use onnx_proto::test_models;
