//! Choosing the execution provider: `auto` tries TensorRT, then CUDA, then
//! OpenVINO's CPU runtime on processors with bf16 units (AMX, AVX-512 BF16),
//! then ONNX Runtime's CPU provider, and says in one line what it chose and
//! why the others were skipped; an explicit device that cannot be used is
//! an error naming what is missing.

use std::fmt;
use std::path::PathBuf;

use ort::ep::{self, ExecutionProvider};
use ort::session::builder::SessionBuilder;
use ort::session::Session;
use serde::{Deserialize, Serialize};

use super::cpu::CpuUnits;
use super::error::{one_line, ModelError, Result};
use super::manifest::ModelEntry;
use super::onnx_proto::probe_model;
use super::openvino_cpu::{self, OpenVino, Precision, PrecisionMode};
use super::runtime::Runtime;

/// Environment variable that sets `--device` when the flag is not given
/// (tests and CI use it to run the same suite on each path).
pub const DEVICE_ENV: &str = "AINIMOTION_DEVICE";

/// The `--device` choice. (The CLI can add `clap::ValueEnum` to this enum;
/// give `TensorRt` `#[value(name = "tensorrt")]` so the names match serde's.)
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// TensorRT, then CUDA, then CPU: the first that works.
    #[default]
    Auto,
    /// ONNX Runtime's CPU provider (fp32); always available.
    Cpu,
    /// OpenVINO's CPU runtime (bf16 on AMX / AVX-512 BF16 where the model
    /// tolerates it); an error when the library cannot be loaded.
    #[serde(rename = "cpu-openvino")]
    #[value(name = "cpu-openvino")]
    CpuOpenVino,
    /// The CUDA provider; an error when it cannot be used.
    Cuda,
    /// The TensorRT provider (with CUDA for nodes TensorRT does not take);
    /// an error when it cannot be used.
    #[serde(rename = "tensorrt")]
    #[value(name = "tensorrt")]
    TensorRt,
}

spelled_enum!(Device {
    Auto => "auto",
    Cpu => "cpu",
    CpuOpenVino => "cpu-openvino",
    Cuda => "cuda",
    TensorRt => "tensorrt",
} parse "device");

impl Device {
    /// The device named by `AINIMOTION_DEVICE`, if set and not empty.
    pub fn from_env() -> Result<Option<Device>> {
        match std::env::var(DEVICE_ENV) {
            Ok(v) if !v.trim().is_empty() => v.parse().map(Some).map_err(|e| match e {
                ModelError::InvalidSetting {
                    value, expected, ..
                } => ModelError::InvalidSetting {
                    setting: "AINIMOTION_DEVICE",
                    value,
                    expected,
                },
                other => other,
            }),
            _ => Ok(None),
        }
    }
}

/// A concrete execution provider, the result of [`select_device`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// ONNX Runtime's CPU provider.
    Cpu,
    /// OpenVINO's CPU runtime (not an ONNX Runtime provider).
    OpenVino,
    Cuda,
    TensorRt,
}

spelled_enum!(Provider {
    Cpu => "cpu",
    OpenVino => "cpu-openvino",
    Cuda => "cuda",
    TensorRt => "tensorrt",
});

impl Provider {
    /// Whether the provider runs on the CPU.
    pub fn is_cpu(self) -> bool {
        matches!(self, Self::Cpu | Self::OpenVino)
    }

    fn ort_name(self) -> &'static str {
        match self {
            Self::Cpu | Self::OpenVino => ep::CPU::NAME,
            Self::Cuda => ep::CUDA::NAME,
            Self::TensorRt => ep::TensorRT::NAME,
        }
    }
}

/// Device settings from the command line / config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceOptions {
    /// Which provider (`--device`).
    pub device: Device,
    /// Intra-op threads per session (`--threads`); `None` = all cores.
    pub threads: Option<usize>,
    /// GPU index for CUDA / TensorRT.
    pub gpu: u32,
    /// Folder for TensorRT engine and timing caches; `None` = no cache.
    pub trt_cache_dir: Option<PathBuf>,
    /// Let TensorRT build fp16 engines.
    pub trt_fp16: bool,
    /// Model precision on the OpenVINO CPU path (`--precision`).
    pub precision: PrecisionMode,
    /// OpenVINO's `libopenvino_c.so`; `None` = `AINIMOTION_OPENVINO_LIB`,
    /// else `.deps/openvino/`.
    pub openvino_lib: Option<PathBuf>,
}

/// The chosen provider with its settings; builds session options for every
/// worker's session.
#[derive(Clone, Debug)]
pub struct ExecutionPlan {
    provider: Provider,
    summary: String,
    threads: usize,
    gpu: u32,
    trt_cache: Option<String>,
    trt_fp16: bool,
    precision: PrecisionMode,
    cpu: CpuUnits,
    openvino: Option<&'static OpenVino>,
}

impl ExecutionPlan {
    /// The provider sessions will use.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// One line for the user, e.g.
    /// `device: cpu (tensorrt: provider not in this ONNX Runtime build; cuda: ...)`.
    pub fn summary(&self) -> &str {
        &self.summary
    }

    /// Intra-op threads per session.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The same plan with `threads` threads per session.
    pub fn with_threads(&self, threads: usize) -> ExecutionPlan {
        ExecutionPlan {
            threads: threads.max(1),
            ..self.clone()
        }
    }

    /// The loaded OpenVINO library when the provider is `cpu-openvino`.
    pub(crate) fn openvino(&self) -> Option<&'static OpenVino> {
        self.openvino
    }

    /// The precision `entry` runs in with this plan: on `cpu-openvino`,
    /// `--precision` if fp32 / bf16, else (`auto`) the manifest's
    /// `cpu_precision` when the CPU has bf16 units and fp32 when it has
    /// none; fp32 on every other provider.
    pub fn precision_for(&self, entry: &ModelEntry) -> Precision {
        if self.provider != Provider::OpenVino {
            return Precision::Fp32;
        }
        match self.precision {
            PrecisionMode::Fp32 => Precision::Fp32,
            PrecisionMode::Bf16 => Precision::Bf16,
            PrecisionMode::Auto if self.cpu.has_bf16() => entry.cpu_precision,
            PrecisionMode::Auto => Precision::Fp32,
        }
    }

    /// Session options for this plan: threads plus the provider(s), which
    /// must register (no silent fallback to CPU).
    pub(crate) fn session_builder(
        &self,
        rt: &Runtime,
    ) -> std::result::Result<SessionBuilder, String> {
        session_builder(
            rt,
            self.provider,
            self.threads,
            self.gpu,
            self.trt_cache.as_deref(),
            self.trt_fp16,
        )
    }
}

fn session_builder(
    rt: &Runtime,
    provider: Provider,
    threads: usize,
    gpu: u32,
    trt_cache: Option<&str>,
    trt_fp16: bool,
) -> std::result::Result<SessionBuilder, String> {
    let err = |e: &dyn fmt::Display| one_line(&e.to_string());
    let builder = Session::builder(rt.environment()).map_err(|e| err(&e))?;
    let builder = builder.with_intra_threads(threads).map_err(|e| err(&e))?;
    let device_id = i32::try_from(gpu).map_err(|e| err(&e))?;
    let cuda = || {
        ep::CUDA::default()
            .with_device_id(device_id)
            .build()
            .error_on_failure()
    };
    let eps = match provider {
        Provider::Cpu | Provider::OpenVino => return Ok(builder),
        Provider::Cuda => vec![cuda()],
        Provider::TensorRt => {
            let mut trt = ep::TensorRT::default()
                .with_device_id(device_id)
                .with_fp16(trt_fp16);
            if let Some(dir) = trt_cache {
                trt = trt
                    .with_engine_cache(true)
                    .with_engine_cache_path(dir)
                    .with_timing_cache(true)
                    .with_timing_cache_path(dir);
            }
            vec![trt.build().error_on_failure(), cuda()]
        }
    };
    builder.with_execution_providers(eps).map_err(|e| err(&e))
}

/// Picks the provider for `opts.device` and checks that it really works by
/// committing a one-node session with it (this catches a missing provider
/// library, CUDA runtime, cuDNN, TensorRT or driver before the first frame).
pub fn select_device(rt: &Runtime, opts: &DeviceOptions) -> Result<ExecutionPlan> {
    let mut plan = ExecutionPlan::new(opts)?;
    match opts.device {
        Device::Cpu => {
            if opts.precision == PrecisionMode::Bf16 {
                return Err(bf16_elsewhere("cpu"));
            }
            plan.summary = format!("device: cpu (requested; {} threads)", plan.threads);
        }
        Device::CpuOpenVino => {
            let ov = probe_openvino(opts).map_err(|reason| ModelError::DeviceUnavailable {
                device: Provider::OpenVino.as_str().into(),
                reason,
            })?;
            plan.use_openvino(ov);
            plan.summary = format!(
                "device: cpu-openvino (requested; {})",
                plan.openvino_note(ov)
            );
        }
        Device::Cuda | Device::TensorRt => select_gpu(rt, opts, &mut plan)?,
        Device::Auto => select_auto(rt, opts, &mut plan)?,
    }
    Ok(plan)
}

impl ExecutionPlan {
    /// A plan on ONNX Runtime's CPU provider with the settings every
    /// provider shares (threads, GPU index, TensorRT cache, precision).
    fn new(opts: &DeviceOptions) -> Result<ExecutionPlan> {
        let threads = match opts.threads {
            Some(0) => {
                return Err(ModelError::InvalidSetting {
                    setting: "thread count",
                    value: "0".into(),
                    expected: ">= 1".into(),
                })
            }
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, usize::from),
        };
        let trt_cache = match &opts.trt_cache_dir {
            None => None,
            Some(dir) => Some(prepare_cache_dir(dir)?),
        };
        Ok(ExecutionPlan {
            provider: Provider::Cpu,
            summary: String::new(),
            threads,
            gpu: opts.gpu,
            trt_cache,
            trt_fp16: opts.trt_fp16,
            precision: opts.precision,
            cpu: CpuUnits::detect(),
            openvino: None,
        })
    }

    fn use_openvino(&mut self, ov: &'static OpenVino) {
        self.provider = Provider::OpenVino;
        self.openvino = Some(ov);
    }

    /// The device line's detail on cpu-openvino: CPU units, precision,
    /// OpenVINO version, threads.
    fn openvino_note(&self, ov: &OpenVino) -> String {
        let precision = match self.precision {
            PrecisionMode::Auto if self.cpu.has_bf16() => "bf16 where the model allows",
            PrecisionMode::Auto => "fp32: no bf16 units",
            PrecisionMode::Fp32 => "fp32",
            PrecisionMode::Bf16 => "bf16",
        };
        format!(
            "{}; {precision}; OpenVINO {}; {} threads",
            self.cpu.label(),
            ov.short_version(),
            self.threads
        )
    }

    /// The device line's detail on a GPU: index, and for TensorRT fp16 and
    /// the engine cache.
    fn gpu_note(&self, p: Provider) -> String {
        let mut note = format!("GPU {}", self.gpu);
        if p == Provider::TensorRt {
            if self.trt_fp16 {
                note.push_str(", fp16");
            }
            if let Some(dir) = &self.trt_cache {
                note.push_str(&format!(", engine cache {dir}"));
            }
        }
        note
    }
}

fn bf16_elsewhere(device: &str) -> ModelError {
    ModelError::InvalidSetting {
        setting: "precision",
        value: format!("bf16 with --device {device}"),
        expected: "auto or fp32: bf16 runs on --device cpu-openvino".into(),
    }
}

/// `--device cuda` / `tensorrt`: that provider, or an error saying why not.
fn select_gpu(rt: &Runtime, opts: &DeviceOptions, plan: &mut ExecutionPlan) -> Result<()> {
    if opts.precision == PrecisionMode::Bf16 {
        return Err(bf16_elsewhere(opts.device.as_str()));
    }
    let p = if opts.device == Device::Cuda {
        Provider::Cuda
    } else {
        Provider::TensorRt
    };
    if let Err(skip) = probe(rt, p, plan) {
        return Err(ModelError::DeviceUnavailable {
            device: p.as_str().into(),
            reason: skip.long,
        });
    }
    plan.provider = p;
    plan.summary = format!("device: {p} (requested; {})", plan.gpu_note(p));
    Ok(())
}

/// `--device auto`: TensorRT, then CUDA, then the CPU (see [`select_auto_cpu`]),
/// with the reasons the skipped ones were passed over.
fn select_auto(rt: &Runtime, opts: &DeviceOptions, plan: &mut ExecutionPlan) -> Result<()> {
    let mut skipped = Vec::new();
    for p in [Provider::TensorRt, Provider::Cuda] {
        match probe(rt, p, plan) {
            Ok(()) => {
                plan.provider = p;
                break;
            }
            Err(skip) => skipped.push(format!("{p}: {}", skip.short)),
        }
    }
    if plan.provider == Provider::Cpu {
        select_auto_cpu(opts, plan, &mut skipped)?;
    }
    let chosen = plan.provider;
    if opts.precision == PrecisionMode::Bf16 && chosen != Provider::OpenVino {
        return Err(bf16_elsewhere(chosen.as_str()));
    }
    let detail = match (chosen, plan.openvino) {
        (Provider::Cpu, _) => format!("{} threads", plan.threads),
        (Provider::OpenVino, Some(ov)) => plan.openvino_note(ov),
        (p, _) => plan.gpu_note(p),
    };
    plan.summary = if skipped.is_empty() {
        format!("device: {chosen} ({detail})")
    } else {
        format!("device: {chosen} ({detail}; {})", skipped.join("; "))
    };
    Ok(())
}

/// `auto` without a GPU: OpenVINO where the processor has bf16 units and
/// the library loads, else ONNX Runtime's CPU provider.
fn select_auto_cpu(
    opts: &DeviceOptions,
    plan: &mut ExecutionPlan,
    skipped: &mut Vec<String>,
) -> Result<()> {
    let ov = if plan.cpu.has_bf16() || opts.precision == PrecisionMode::Bf16 {
        probe_openvino(opts)
    } else {
        Err(format!("{}, no AMX or AVX512-BF16 units", plan.cpu.label()))
    };
    match ov {
        Ok(ov) => plan.use_openvino(ov),
        Err(reason) if opts.precision == PrecisionMode::Bf16 => {
            return Err(ModelError::DeviceUnavailable {
                device: "cpu-openvino (needed by --precision bf16)".into(),
                reason,
            });
        }
        Err(reason) => skipped.push(format!("cpu-openvino: {reason}")),
    }
    Ok(())
}

/// Loads OpenVINO and compiles the probe model on its CPU plugin; the
/// error is one line saying what is missing.
fn probe_openvino(opts: &DeviceOptions) -> std::result::Result<&'static OpenVino, String> {
    let ov = OpenVino::load(opts.openvino_lib.as_deref()).map_err(|e| e.to_string())?;
    openvino_cpu::probe(ov, &probe_model()).map_err(|e| {
        format!(
            "OpenVINO {} at {} cannot compile for its CPU plugin: {e} (run ./setup.sh to reinstall .deps/openvino/)",
            ov.short_version(),
            ov.path().display()
        )
    })?;
    Ok(ov)
}

fn prepare_cache_dir(dir: &std::path::Path) -> Result<String> {
    let text =
        dir.to_str()
            .filter(|s| !s.contains('\0'))
            .ok_or_else(|| ModelError::InvalidSetting {
                setting: "TensorRT cache folder",
                value: dir.display().to_string(),
                expected: "a UTF-8 path".into(),
            })?;
    std::fs::create_dir_all(dir).map_err(|e| ModelError::InvalidSetting {
        setting: "TensorRT cache folder",
        value: dir.display().to_string(),
        expected: format!("a folder that can be created and written ({e})"),
    })?;
    Ok(text.to_string())
}

/// Why a provider could not be used: a short reason for the `auto` line
/// and a longer one (with what to do) for an explicit request.
struct Skip {
    short: String,
    long: String,
}

/// Registers provider `p` and commits the probe model with it; the error
/// says what is missing.
fn probe(rt: &Runtime, p: Provider, plan: &ExecutionPlan) -> std::result::Result<(), Skip> {
    if !rt.has_provider(p.ort_name()) {
        let short = "provider not in this ONNX Runtime build".to_string();
        let long = format!(
            "{short} ({}, ONNX Runtime {}, offers only {}; install the GPU build from the onnxruntime-gpu package, or point --ort-lib / ORT_DYLIB_PATH at one)",
            rt.path().display(),
            rt.version().unwrap_or("of unknown version"),
            rt.available_providers().join(", ")
        );
        return Err(Skip { short, long });
    }
    let fail = |e: String| {
        let text = explain(p, &e);
        Skip {
            short: text.clone(),
            long: text,
        }
    };
    let mut builder = session_builder(rt, p, 1, plan.gpu, plan.trt_cache.as_deref(), plan.trt_fp16)
        .map_err(fail)?;
    builder
        .commit_from_memory(&probe_model())
        .map(drop)
        .map_err(|e| fail(one_line(&e.to_string())))
}

/// The library named just before "cannot open shared object file" in a
/// dlopen error, e.g. `libcublasLt.so.12`.
fn missing_library(raw: &str) -> Option<String> {
    let at = raw.find("cannot open shared object")?;
    let before = raw[..at].trim_end().trim_end_matches(':').trim_end();
    let token = before.rsplit([' ', '\'', '"']).next()?;
    let name = token.rsplit('/').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Turns a provider registration/initialisation failure into "what is
/// missing: raw message".
fn explain(p: Provider, raw: &str) -> String {
    let lower = raw.to_ascii_lowercase();
    let what = match missing_library(raw) {
        Some(lib) => {
            let l = lib.to_ascii_lowercase();
            if l.starts_with("libonnxruntime_providers_") {
                format!("the {p} provider library {lib} is missing beside libonnxruntime.so (install the complete onnxruntime-gpu build)")
            } else if l.starts_with("libcudnn") {
                format!("cuDNN ({lib}) is missing (install cuDNN 9 for CUDA 12, e.g. the nvidia-cudnn-cu12 package)")
            } else if l.starts_with("libnvinfer") || l.starts_with("libnvonnxparser") {
                format!(
                    "the TensorRT libraries ({lib}) are missing (install TensorRT 10 for CUDA 12)"
                )
            } else if l.starts_with("libcuda.") || l.starts_with("libnvidia") {
                format!("the NVIDIA driver is not installed ({lib} not found)")
            } else if l.starts_with("libcu") || l.starts_with("libnv") {
                format!(
                    "the CUDA 12 runtime library {lib} is missing (install the CUDA runtime, e.g. nvidia-cuda-runtime-cu12 and nvidia-cublas-cu12)"
                )
            } else {
                format!("a library the {p} provider needs ({lib}) is missing")
            }
        }
        None if lower.contains("driver")
            && (lower.contains("insufficient") || lower.contains("version")) =>
        {
            "the NVIDIA driver is too old for this CUDA runtime (update the driver)".to_string()
        }
        None if lower.contains("no cuda-capable device") || lower.contains("cudaerrornodevice") => {
            "no NVIDIA GPU is visible (check the driver with nvidia-smi)".to_string()
        }
        None if lower.contains("invalid device ordinal") => {
            "there is no GPU with that index (see nvidia-smi)".to_string()
        }
        None => format!("the {p} provider failed to start"),
    };
    format!("{what}: {raw}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_names_the_missing_piece() {
        let cases = [
            (
                Provider::Cuda,
                "Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.12: cannot open shared object file: No such file or directory",
                "the CUDA 12 runtime library libcublasLt.so.12 is missing",
            ),
            (
                Provider::Cuda,
                "Failed to load library libonnxruntime_providers_cuda.so with error: libcudnn.so.9: cannot open shared object file",
                "cuDNN (libcudnn.so.9) is missing",
            ),
            (
                Provider::TensorRt,
                "Failed to load library libonnxruntime_providers_tensorrt.so with error: libnvinfer.so.10: cannot open shared object file",
                "the TensorRT libraries (libnvinfer.so.10) are missing",
            ),
            (
                Provider::Cuda,
                "Failed to load library libonnxruntime_providers_cuda.so with error: /opt/ort/lib/libonnxruntime_providers_cuda.so: cannot open shared object file: No such file or directory",
                "the cuda provider library libonnxruntime_providers_cuda.so is missing",
            ),
            (
                Provider::Cuda,
                "Failed to load library libonnxruntime_providers_cuda.so with error: libcuda.so.1: cannot open shared object file",
                "the NVIDIA driver is not installed (libcuda.so.1 not found)",
            ),
            (Provider::Cuda, "CUDA failure 100: no CUDA-capable device is detected ; GPU=0", "no NVIDIA GPU is visible"),
            (
                Provider::Cuda,
                "CUDA failure 35: CUDA driver version is insufficient for CUDA runtime version",
                "the NVIDIA driver is too old",
            ),
            (Provider::Cuda, "CUDA failure 101: invalid device ordinal", "there is no GPU with that index"),
        ];
        for (p, raw, want) in cases {
            let m = explain(p, raw);
            assert!(m.starts_with(want), "{m}");
            assert!(m.ends_with(raw), "{m}");
        }
    }
}
