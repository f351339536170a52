//! Command-line interface (clap derive). Doc comments become `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::clip::ClipRange;
use crate::config::{CadenceMode, FlowMode};
use crate::media::encode::Codec;
use crate::model::{Device, PrecisionMode};

#[derive(Debug, Parser)]
#[command(
    name = "ainimotion",
    version,
    about = "Make anime video smoother and sharper without the artefacts generic tools leave",
    long_about = None,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// More log output (-v: warnings from FFmpeg, -vv: debug)
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// No progress bar or summary; warnings and errors only
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enhance a video: interpolate and upscale it, copying every other stream
    Enhance(Box<EnhanceArgs>),
    /// Show what is in a media file
    Info(InfoArgs),
    /// List the built-in presets, or show one's resolved settings
    Presets(PresetsArgs),
}

#[derive(Debug, Args)]
pub struct PresetsArgs {
    /// Print the resolved settings of this preset (with --config applied) as TOML
    #[arg(long, value_name = "NAME")]
    pub show: Option<String>,

    /// A settings file to apply on top of the preset (same keys as the preset files)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct EnhanceArgs {
    /// Input video file
    pub input: PathBuf,

    /// Output file (.mkv keeps every stream; .mp4/.mov/.webm drop what they cannot carry)
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Overwrite the output if it exists
    #[arg(short = 'y', long = "overwrite")]
    pub overwrite: bool,

    /// Process only this range: START-END as seconds or HH:MM:SS(.ms), e.g. 00:10:00-00:10:20, 600-+20
    #[arg(long, value_name = "START-END")]
    pub clip: Option<ClipRange>,

    /// Write the end-of-run figures as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,

    /// Built-in preset (see `ainimotion presets`)
    #[arg(long, default_value = crate::config::DEFAULT_PRESET, value_name = "NAME")]
    pub preset: String,

    /// Settings file applied on top of the preset; flags override both
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub interpolate: InterpolateArgs,

    #[command(flatten)]
    pub upscale: UpscaleArgs,

    #[command(flatten)]
    pub encode: EncodeArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Switch gating off: every frame through every model (to measure what gating and reuse save)
    #[arg(long, help_heading = "Benchmarking")]
    pub no_gate: bool,
}

/// Where models run.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Models and device")]
pub struct ModelArgs {
    /// Where the models run: auto tries TensorRT, then CUDA, then OpenVINO on CPUs with AMX / AVX512-BF16, then ONNX Runtime's CPU provider; cpu = ONNX Runtime CPU; cpu-openvino = OpenVINO CPU
    #[arg(long, value_enum, default_value = "auto", env = "AINIMOTION_DEVICE")]
    pub device: Device,

    /// Model precision on cpu-openvino: auto = per model, what models.toml measured at >= 45 dB against fp32 (bf16 for the upscalers, fp32 for RIFE) on CPUs with bf16 units
    #[arg(long, value_enum, default_value = "auto", env = "AINIMOTION_PRECISION")]
    pub precision: PrecisionMode,

    /// Threads per model session (default: all cores)
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Folder holding models.toml and the model files [default: $AINIMOTION_MODELS, else this checkout's models/]
    #[arg(long, value_name = "DIR")]
    pub models_dir: Option<PathBuf>,

    /// ONNX Runtime library [default: $ORT_DYLIB_PATH, else .deps/onnxruntime/lib/libonnxruntime.so from ./setup.sh]
    #[arg(long, value_name = "FILE")]
    pub ort_lib: Option<PathBuf>,

    /// OpenVINO C library for cpu-openvino [default: $AINIMOTION_OPENVINO_LIB, else .deps/openvino/libopenvino_c.so from ./setup.sh]
    #[arg(long, value_name = "FILE")]
    pub openvino_lib: Option<PathBuf>,

    /// TensorRT: folder for cached engines (builds once, reused by later runs)
    #[arg(long, value_name = "DIR")]
    pub trt_cache: Option<PathBuf>,

    /// TensorRT: allow fp16 engines (faster, tiny numeric differences)
    #[arg(long)]
    pub trt_fp16: bool,
}

impl ModelArgs {
    pub fn options(&self) -> crate::stage::models::ModelOptions {
        crate::stage::models::ModelOptions {
            device: crate::model::DeviceOptions {
                device: self.device,
                threads: self.threads,
                gpu: 0,
                trt_cache_dir: self.trt_cache.clone(),
                trt_fp16: self.trt_fp16,
                precision: self.precision,
                openvino_lib: self.openvino_lib.clone(),
            },
            ort_lib: self.ort_lib.clone(),
            models_dir: self.models_dir.clone(),
        }
    }
}

/// Frame interpolation.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Interpolation")]
pub struct InterpolateArgs {
    /// Output frame rate: none, a multiple (2x), or a rate (48, 59.94, 60000/1001)
    #[arg(long, value_name = "RATE")]
    pub fps: Option<String>,

    /// How drawing cadence is treated
    #[arg(long, value_enum)]
    pub cadence: Option<CadenceMode>,

    /// Smooth mode: repeats up to this long (seconds) are cadence; longer ones stay held
    #[arg(long, value_name = "SECONDS")]
    pub max_cadence_hold: Option<f64>,

    /// Interpolation model (name from models/models.toml)
    #[arg(long, value_name = "NAME")]
    pub interpolator: Option<String>,

    /// Flow resolution: auto (half-resolution flow above 2560x1440) or full
    #[arg(long, value_enum)]
    pub flow: Option<FlowMode>,
}

/// Super-resolution.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Upscaling")]
pub struct UpscaleArgs {
    /// Output size factor (1 = keep the size)
    #[arg(long, value_name = "FACTOR")]
    pub scale: Option<f64>,

    /// Output height; the width follows the aspect ratio
    #[arg(long, value_name = "PIXELS", conflicts_with = "width")]
    pub height: Option<u32>,

    /// Output width; the height follows the aspect ratio
    #[arg(long, value_name = "PIXELS")]
    pub width: Option<u32>,

    /// Super-resolution model (name from models/models.toml)
    #[arg(long, value_name = "NAME")]
    pub upscaler: Option<String>,

    /// Tile size in input pixels (0 = automatic)
    #[arg(long, value_name = "PIXELS")]
    pub tile: Option<u32>,

    /// Run the model on every frame, even repeated pictures (for benchmarking)
    #[arg(long)]
    pub no_reuse: bool,
}

impl EnhanceArgs {
    /// The flags that were given, as a settings layer (TOML keys of the presets).
    pub fn overrides(&self) -> toml::Table {
        use toml::Value;
        fn put(t: &mut toml::Table, section: &str, key: &str, v: Value) {
            let entry = t
                .entry(section.to_string())
                .or_insert_with(|| Value::Table(toml::Table::new()));
            if let Value::Table(s) = entry {
                s.insert(key.to_string(), v);
            }
        }
        let mut t = toml::Table::new();
        let i = &self.interpolate;
        if let Some(v) = &i.fps {
            put(&mut t, "interpolate", "fps", Value::String(v.clone()));
        }
        if let Some(v) = i.cadence {
            let name = match v {
                CadenceMode::Preserve => "preserve",
                CadenceMode::Smooth => "smooth",
            };
            put(&mut t, "interpolate", "cadence", Value::String(name.into()));
        }
        if let Some(v) = i.max_cadence_hold {
            put(&mut t, "interpolate", "max_cadence_hold_s", Value::Float(v));
        }
        if let Some(v) = &i.interpolator {
            put(&mut t, "interpolate", "model", Value::String(v.clone()));
        }
        if let Some(v) = i.flow {
            let name = match v {
                FlowMode::Auto => "auto",
                FlowMode::Full => "full",
            };
            put(&mut t, "interpolate", "flow", Value::String(name.into()));
        }
        let u = &self.upscale;
        if let Some(v) = u.scale {
            put(&mut t, "upscale", "scale", Value::Float(v));
        }
        if let Some(v) = u.height {
            put(&mut t, "upscale", "height", Value::Integer(v.into()));
            put(&mut t, "upscale", "width", Value::Integer(0));
        }
        if let Some(v) = u.width {
            put(&mut t, "upscale", "width", Value::Integer(v.into()));
            put(&mut t, "upscale", "height", Value::Integer(0));
        }
        if let Some(v) = &u.upscaler {
            put(&mut t, "upscale", "model", Value::String(v.clone()));
        }
        if let Some(v) = u.tile {
            put(&mut t, "upscale", "tile", Value::Integer(v.into()));
        }
        if u.no_reuse {
            put(&mut t, "upscale", "reuse", Value::Boolean(false));
        }
        let e = &self.encode;
        if let Some(v) = e.codec {
            let name = toml::Value::try_from(v).ok();
            if let Some(n) = name {
                put(&mut t, "encode", "codec", n);
            }
            // Without --crf / --encoder-preset, the codec's defaults apply
            // (config::resolve drops the preset's values).
        }
        if e.lossless {
            put(&mut t, "encode", "lossless", Value::Boolean(true));
        }
        if let Some(v) = e.crf {
            put(&mut t, "encode", "crf", Value::Float(v.into()));
        }
        if let Some(v) = &e.encoder_preset {
            put(&mut t, "encode", "preset", Value::String(v.clone()));
        }
        t
    }
}

/// Output encoding.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Encoding")]
pub struct EncodeArgs {
    /// Video encoder
    #[arg(long, value_enum)]
    pub codec: Option<Codec>,

    /// Constant quality on the encoder's own scale, lower is better and bigger (x264 0-51, 0 = lossless; x265 0-51; av1 1-63; NVENC 1-51) [default: 16 x264, 18 x265, 24 av1, 19 NVENC]
    #[arg(long, value_name = "N", conflicts_with = "lossless")]
    pub crf: Option<f32>,

    /// Mathematically lossless output: x264 qp 0, x265 lossless, FFV1 (always); other encoders refuse it
    #[arg(long)]
    pub lossless: bool,

    /// Encoder speed preset (x264/x265: ultrafast…veryslow; av1: 0-13; nvenc: p1-p7)
    #[arg(long, value_name = "NAME")]
    pub encoder_preset: Option<String>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Media file to describe (not needed with --models)
    #[arg(required_unless_present = "models")]
    pub input: Option<PathBuf>,

    /// Print JSON with stable keys instead of text
    #[arg(long)]
    pub json: bool,

    /// Count frames by decoding the whole video (exact, slower)
    #[arg(long)]
    pub count: bool,

    /// Analyse every transition: cuts, holds, motion, cadence per shot
    #[arg(long)]
    pub gate: bool,

    /// With --gate: analyse only this range (START-END)
    #[arg(long, value_name = "START-END", requires = "gate")]
    pub clip: Option<ClipRange>,

    /// With --gate: a settings file whose [gate] thresholds apply on top of the preset's
    #[arg(long, value_name = "FILE", requires = "gate")]
    pub config: Option<PathBuf>,

    /// List the models of the manifest: file present and valid, inputs/outputs, device
    #[arg(long)]
    pub models: bool,

    #[command(flatten)]
    pub model: ModelArgs,
}
