//! OpenVINO's own runtime for the `cpu-openvino` device: the same `.onnx`
//! files run through OpenVINO's CPU plugin, which uses the AMX and
//! AVX-512 BF16 units in bf16 where the manifest says a model tolerates it
//! (ONNX Runtime's CPU provider runs fp32 only).
//!
//! The library is `libopenvino_c.so` from the PyPI wheel `openvino`, opened
//! at run time through the `openvino` crate's `runtime-linking`: an explicit
//! path, else `AINIMOTION_OPENVINO_LIB`, else `.deps/openvino/` in the crate
//! folder, where `./setup.sh` puts it. The CPU plugin and the ONNX frontend
//! are found beside it. A missing or broken library is an error, never a
//! panic, so `--device auto` can fall back to ONNX Runtime with the reason.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::{Array4, ArrayView4};
use openvino::{
    CompiledModel, Core, DeviceType, ElementType, InferRequest, PropertyKey, RwPropertyKey, Shape,
    Tensor,
};
use serde::{Deserialize, Serialize};

use super::error::{one_line, ModelError, Result};

/// Environment variable naming `libopenvino_c.so` when no explicit path is given.
pub const OPENVINO_LIB_ENV: &str = "AINIMOTION_OPENVINO_LIB";

/// Numeric precision of a model on the OpenVINO CPU path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit float, as the model file stores it.
    #[default]
    Fp32,
    /// bfloat16 activations and weights (fp32 accumulation) on AMX /
    /// AVX-512 BF16 units.
    Bf16,
}

spelled_enum!(Precision {
    Fp32 => "fp32",
    Bf16 => "bf16",
});

impl Precision {
    /// OpenVINO's `INFERENCE_PRECISION_HINT` value.
    fn hint(self) -> &'static str {
        match self {
            Self::Fp32 => "f32",
            Self::Bf16 => "bf16",
        }
    }
}

/// The `--precision` choice.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum PrecisionMode {
    /// Per model, the fastest precision measured at >= 45 dB against fp32
    /// (`cpu_precision` in models.toml), where the CPU has bf16 units.
    #[default]
    Auto,
    /// Every model in fp32.
    Fp32,
    /// Every model in bf16 (cpu-openvino only).
    Bf16,
}

spelled_enum!(PrecisionMode {
    Auto => "auto",
    Fp32 => "fp32",
    Bf16 => "bf16",
} parse "precision");

/// The path baked in at build time: `<crate>/.deps/openvino/libopenvino_c.so`.
pub fn default_openvino_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".deps")
        .join("openvino")
        .join(format!(
            "{}openvino_c{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
}

/// `explicit`, else `AINIMOTION_OPENVINO_LIB` (when set and not empty), else
/// [`default_openvino_path`].
pub fn resolve_openvino_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match std::env::var_os(OPENVINO_LIB_ENV) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => default_openvino_path(),
    }
}

/// The loaded OpenVINO library (once per process).
#[derive(Debug)]
pub struct OpenVino {
    path: PathBuf,
    version: String,
}

static OPENVINO: OnceLock<OpenVino> = OnceLock::new();
static LOAD_LOCK: Mutex<()> = Mutex::new(());

impl OpenVino {
    /// Opens `libopenvino_c.so` (see [`resolve_openvino_path`]) or returns
    /// the library loaded earlier in this process (the `openvino` crate
    /// holds one library per process: a later, different path is ignored).
    pub fn load(explicit: Option<&Path>) -> Result<&'static OpenVino> {
        let path = resolve_openvino_path(explicit);
        if let Some(ov) = OPENVINO.get() {
            return Ok(ov);
        }
        if !path.is_file() {
            return Err(ModelError::OpenVinoNotFound { path });
        }
        let load_err = |reason: String| ModelError::OpenVinoLoad {
            path: path.clone(),
            reason: one_line(&reason),
        };
        let _guard = LOAD_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(ov) = OPENVINO.get() {
            return Ok(ov);
        }
        let loaded = catch_unwind(AssertUnwindSafe(|| {
            openvino_sys::library::load_from(path.clone())?;
            Ok::<String, String>(openvino::version().build_number)
        }));
        let version = match loaded {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => return Err(load_err(e)),
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "the library panicked while loading".into());
                return Err(load_err(reason));
            }
        };
        Ok(OPENVINO.get_or_init(|| OpenVino { path, version }))
    }

    /// The library that was loaded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// OpenVINO's build number, e.g. `2026.4.1-22982-…`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The short version (`2026.4.1`).
    pub fn short_version(&self) -> &str {
        self.version.split('-').next().unwrap_or(&self.version)
    }
}

/// Compiles `onnx` (a tiny model) for the CPU: proves that the CPU plugin
/// and the ONNX frontend load beside the C library.
pub(crate) fn probe(_ov: &OpenVino, onnx: &[u8]) -> std::result::Result<(), String> {
    let attempt = catch_unwind(AssertUnwindSafe(|| -> std::result::Result<(), String> {
        let mut core = Core::new().map_err(ov_err)?;
        let model = core.read_model_from_buffer(onnx, None).map_err(ov_err)?;
        core.compile_model(&model, DeviceType::CPU)
            .map(drop)
            .map_err(ov_err)
    }));
    attempt.unwrap_or_else(|_| Err("OpenVINO panicked while compiling the probe model".into()))
}

/// A declared model input or output, as a runtime reads it from the file.
pub(crate) struct IoDecl {
    pub name: String,
    /// The element type's name; `None` when the value is not a tensor.
    pub element: Option<String>,
    pub is_f32: bool,
    /// `None` for a dynamic rank; `-1` for a dynamic dimension.
    pub dims: Option<Vec<i64>>,
}

/// One compiled model and its inference request (one per worker).
pub(crate) struct OvSession {
    // Field order is drop order: the request before the compiled model
    // before the core that made them.
    request: InferRequest,
    _compiled: CompiledModel,
    _core: Core,
    precision: Precision,
    inputs: Vec<IoDecl>,
    outputs: Vec<IoDecl>,
}

fn ov_err(e: impl fmt::Display) -> String {
    one_line(&e.to_string())
}

fn decl(node: &openvino::Node) -> std::result::Result<IoDecl, String> {
    let name = node.get_name().map_err(ov_err)?;
    let ty = node.get_element_type().map_err(ov_err)?;
    let shape = node.get_partial_shape().map_err(ov_err)?;
    let dims = if shape.get_rank().is_dynamic() {
        None
    } else {
        Some(
            shape
                .get_dimensions()
                .iter()
                .map(|d| if d.is_dynamic() { -1 } else { d.get_min() })
                .collect(),
        )
    };
    Ok(IoDecl {
        name,
        element: Some(format!("{ty:?}")),
        is_f32: ty == ElementType::F32,
        dims,
    })
}

impl OvSession {
    /// Reads the `.onnx` file with OpenVINO's ONNX frontend and compiles it
    /// for the CPU at `precision` with `threads` threads (one stream,
    /// latency mode: one frame at a time, all threads on it).
    pub fn load(
        _ov: &OpenVino,
        path: &Path,
        precision: Precision,
        threads: usize,
    ) -> std::result::Result<OvSession, String> {
        let file = path
            .to_str()
            .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
        let mut core = Core::new().map_err(ov_err)?;
        let cpu = DeviceType::CPU;
        let threads = threads.to_string();
        core.set_property(&cpu, &RwPropertyKey::HintPerformanceMode, "LATENCY")
            .map_err(ov_err)?;
        core.set_property(&cpu, &RwPropertyKey::InferenceNumThreads, &threads)
            .map_err(ov_err)?;
        core.set_property(
            &cpu,
            &RwPropertyKey::HintInferencePrecision,
            precision.hint(),
        )
        .map_err(ov_err)?;
        // Two model stages share the cores: pinning each session's threads
        // to cores would make them fight over the same ones.
        core.set_property(&cpu, &RwPropertyKey::HintEnableCpuPinning, "NO")
            .map_err(ov_err)?;
        let model = core.read_model_from_file(file, "").map_err(ov_err)?;
        let mut inputs = Vec::new();
        for i in 0..model.get_inputs_len().map_err(ov_err)? {
            inputs.push(decl(&model.get_input_by_index(i).map_err(ov_err)?)?);
        }
        let mut outputs = Vec::new();
        for i in 0..model.get_outputs_len().map_err(ov_err)? {
            outputs.push(decl(&model.get_output_by_index(i).map_err(ov_err)?)?);
        }
        let mut compiled = core.compile_model(&model, cpu).map_err(ov_err)?;
        // What the plugin really runs (a CPU without bf16 units runs f32
        // whatever the hint says).
        let actual = compiled
            .get_property(&PropertyKey::Rw(RwPropertyKey::HintInferencePrecision))
            .map(|v| v.to_ascii_lowercase())
            .map_err(ov_err)?;
        let precision = if actual.contains("bf16") {
            Precision::Bf16
        } else {
            Precision::Fp32
        };
        let request = compiled.create_infer_request().map_err(ov_err)?;
        Ok(OvSession {
            request,
            _compiled: compiled,
            _core: core,
            precision,
            inputs,
            outputs,
        })
    }

    /// The precision the compiled model runs in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn inputs(&self) -> &[IoDecl] {
        &self.inputs
    }

    pub fn outputs(&self) -> &[IoDecl] {
        &self.outputs
    }

    /// Runs the model on named NCHW f32 inputs; returns the named outputs.
    pub fn run(
        &mut self,
        inputs: &[(&str, ArrayView4<'_, f32>)],
        outputs: &[&str],
    ) -> std::result::Result<Vec<Array4<f32>>, String> {
        for (name, array) in inputs {
            let (n, c, h, w) = array.dim();
            let dims = [n, c, h, w].map(|d| i64::try_from(d).unwrap_or(i64::MAX));
            let shape = Shape::new(&dims).map_err(ov_err)?;
            let mut tensor = Tensor::new(ElementType::F32, &shape).map_err(ov_err)?;
            let dst = tensor.get_data_mut::<f32>().map_err(ov_err)?;
            match array.as_slice() {
                Some(src) if src.len() == dst.len() => dst.copy_from_slice(src),
                _ => {
                    for (d, s) in dst.iter_mut().zip(array.iter()) {
                        *d = *s;
                    }
                }
            }
            self.request.set_tensor(name, &tensor).map_err(ov_err)?;
        }
        self.request.infer().map_err(ov_err)?;
        outputs.iter().map(|o| self.output(o)).collect()
    }

    /// The named output of the last inference, copied out.
    fn output(&mut self, output: &str) -> std::result::Result<Array4<f32>, String> {
        let tensor = self.request.get_tensor(output).map_err(ov_err)?;
        let shape = tensor.get_shape().map_err(ov_err)?;
        let dims: Vec<usize> = shape
            .get_dimensions()
            .iter()
            .map(|&d| usize::try_from(d).unwrap_or(0))
            .collect();
        let [n, c, h, w] = dims[..] else {
            return Err(format!(
                "output '{output}' has shape {dims:?} (expected 4 dimensions)"
            ));
        };
        let data = tensor.get_data::<f32>().map_err(ov_err)?;
        Array4::from_shape_vec((n, c, h, w), data.to_vec()).map_err(ov_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_hints() {
        assert_eq!(Precision::Bf16.hint(), "bf16");
        assert_eq!(Precision::Fp32.hint(), "f32");
    }

    #[test]
    fn missing_library_is_a_one_line_error() {
        if OPENVINO.get().is_some() {
            return; // loaded by another test in this process: no second load.
        }
        let err = OpenVino::load(Some(Path::new("/nonexistent/libopenvino_c.so")))
            .expect_err("must fail");
        assert_eq!(
            err.to_string(),
            "OpenVINO library not found at /nonexistent/libopenvino_c.so (run ./setup.sh, or set AINIMOTION_OPENVINO_LIB)"
        );
    }
}
