//! Command-line interface (clap derive). Doc comments become `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde::{Serialize, Serializer};

use crate::clip::ClipRange;
use crate::config::{CadenceMode, FlowMode, InbetweenMode};
use crate::lab::image::StillFormat;
use crate::lab::TripletOptions;
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
    /// A PNG sheet of input and output frames at the same times, with a 4x zoom of the busiest region
    Compare(CompareArgs),
    /// Split a run into chunks at scene cuts (for `enhance --plan --chunk` on many machines, then `join`)
    Plan(Box<PlanArgs>),
    /// Join a plan's finished chunks into the output, with every other stream of the source
    Join(JoinArgs),
    /// Run a video's chunks as a Slurm job array, then join them (needs sbatch)
    Slurm(Box<SlurmArgs>),
    /// Cut training triplets (three consecutive distinct drawings of one shot) in the Vimeo-90K layout
    Triplets(Box<TripletsArgs>),
    /// Score the interpolation (and upscaling) models on your own clips: drop and reconstruct
    Eval(Box<EvalArgs>),
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Input video file
    pub input: PathBuf,

    /// The plan to write (JSON); its folder becomes the work folder for the chunks
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Plan only this range (as `enhance --clip`)
    #[arg(long, value_name = "START-END")]
    pub clip: Option<ClipRange>,

    /// Longest chunk in seconds, where cuts and drawings allow (0: one chunk)
    #[arg(long, value_name = "S", default_value_t = crate::chunk::DEFAULT_CHUNK_SECONDS)]
    pub chunk_seconds: f64,

    /// Overwrite the plan if it exists
    #[arg(short = 'y', long = "overwrite")]
    pub overwrite: bool,

    /// Built-in preset (see `ainimotion presets`)
    #[arg(long, default_value = crate::config::DEFAULT_PRESET, value_name = "NAME")]
    pub preset: String,

    /// Settings file applied on top of the preset; flags override both
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: SettingFlags,

    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct JoinArgs {
    /// The plan whose chunks to join
    pub plan: PathBuf,

    /// The output file (as `enhance --out`)
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// The input, when it is not at the path the plan names (another machine)
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,

    /// Delete the chunks and their journal records after joining (the plan file stays)
    #[arg(long)]
    pub remove_chunks: bool,

    /// Overwrite the output if it exists
    #[arg(short = 'y', long = "overwrite")]
    pub overwrite: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The original video
    pub input: PathBuf,

    /// The enhanced video
    pub output: PathBuf,

    /// Times to compare, comma-separated, as seconds or HH:MM:SS(.ms): the first frame at or after each, in each file
    #[arg(long, value_name = "TIME[,TIME...]", value_delimiter = ',', required = true, value_parser = parse_time_arg)]
    pub at: Vec<f64>,

    /// The sheet to write (PNG)
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Where OUTPUT's time 0 lies in INPUT: the START of the --clip the output was made with
    #[arg(long, value_name = "START", default_value = "0", value_parser = parse_time_arg)]
    pub clip_start: f64,

    /// Overwrite the sheet if it exists
    #[arg(short = 'y', long = "overwrite")]
    pub overwrite: bool,
}

fn parse_time_arg(text: &str) -> Result<f64, String> {
    crate::clip::parse_time(text.trim())
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
    /// Input video file, or a folder of them (then --out is a folder)
    pub input: PathBuf,

    /// Output file (.mkv keeps every stream; .mp4/.mov/.webm drop what they cannot carry), or the output folder for a folder input (not with --plan: a chunk goes into the plan's work folder)
    #[arg(
        short,
        long,
        value_name = "FILE|DIR",
        required_unless_present = "plan",
        conflicts_with = "plan"
    )]
    pub out: Option<PathBuf>,

    /// With a folder input: also every video in its subfolders (mirrored under --out)
    #[arg(short, long)]
    pub recursive: bool,

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
    pub settings: SettingFlags,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Do one chunk of this plan (from `ainimotion plan`) into its work folder; needs --chunk
    #[arg(
        long,
        value_name = "FILE",
        requires = "chunk",
        help_heading = "Chunks and resume"
    )]
    pub plan: Option<PathBuf>,

    /// The chunk of --plan to do (0 for the first; $SLURM_ARRAY_TASK_ID in an array job)
    #[arg(
        long,
        value_name = "K",
        requires = "plan",
        help_heading = "Chunks and resume"
    )]
    pub chunk: Option<usize>,

    /// Inputs at least twice this long run in chunks of at most this many seconds, with a work folder beside the output that a rerun resumes from (0: never)
    #[arg(long, value_name = "S", default_value_t = crate::chunk::DEFAULT_CHUNK_SECONDS, help_heading = "Chunks and resume")]
    pub chunk_seconds: f64,

    /// Keep the work folder (.NAME.ainimotion/ beside the output) after a chunked run
    #[arg(long, help_heading = "Chunks and resume")]
    pub keep_work: bool,

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

    /// A second manifest with your own models, added to the first (files relative to it) [default: $AINIMOTION_EXTRA_MODELS]
    #[arg(long, value_name = "FILE", env = "AINIMOTION_EXTRA_MODELS")]
    pub extra_models: Option<PathBuf>,

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
    pub fn options(&self) -> crate::model::ModelOptions {
        crate::model::ModelOptions {
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
            extra_models: self.extra_models.clone(),
        }
    }
}

/// The flags of `enhance` that override settings. Serialised, they are the
/// top settings layer ([`crate::config::resolve`]): each group is a section
/// and each flag given is its key in the presets' TOML (`--interpolator` is
/// `interpolate.model`, `--no-reuse` is `upscale.reuse = false`); a flag not
/// given writes nothing, so the layers below show through.
#[derive(Debug, Args, Clone, Default, Serialize)]
pub struct SettingFlags {
    #[command(flatten)]
    pub interpolate: InterpolateArgs,

    #[command(flatten)]
    pub upscale: UpscaleArgs,

    #[command(flatten)]
    pub encode: EncodeArgs,

    #[command(flatten)]
    pub decode: DecodeArgs,
}

/// Decoding.
#[derive(Debug, Args, Clone, Default, Serialize)]
#[command(next_help_heading = "Decoding")]
pub struct DecodeArgs {
    /// Telecined and interlaced video: auto (decided from the pictures), film (match fields, drop repeats), deinterlace (bwdif), progressive (untouched)
    #[arg(long, value_enum, value_name = "MODE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<crate::fields::FieldsMode>,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

/// A `--no-...` switch as the setting it turns off.
fn negated<S: Serializer>(flag: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(!*flag)
}

/// Frame interpolation.
#[derive(Debug, Args, Clone, Default, Serialize)]
#[command(next_help_heading = "Interpolation")]
pub struct InterpolateArgs {
    /// Output frame rate: none, a multiple (2x), or a rate (48, 59.94, 60000/1001)
    // Text here, parsed into `FpsSetting` with the other layers, so that a
    // bad rate is reported like one in a file: "command line: ... `interpolate.fps`".
    #[arg(long, value_name = "RATE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<String>,

    /// How drawing cadence is treated
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cadence: Option<CadenceMode>,

    /// Smooth mode: repeats up to this long (seconds) are cadence; longer ones stay held
    #[arg(long, value_name = "SECONDS")]
    #[serde(rename = "max_cadence_hold_s", skip_serializing_if = "Option::is_none")]
    pub max_cadence_hold: Option<f64>,

    /// Interpolation model (name from models/models.toml)
    #[arg(long, value_name = "NAME")]
    #[serde(rename = "model", skip_serializing_if = "Option::is_none")]
    pub interpolator: Option<String>,

    /// Flow resolution: auto (half-resolution flow above 2560x1440) or full
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<FlowMode>,
}

/// Super-resolution.
#[derive(Debug, Args, Clone, Default, Serialize)]
#[command(next_help_heading = "Upscaling")]
pub struct UpscaleArgs {
    /// Output size factor (1 = keep the size)
    #[arg(long, value_name = "FACTOR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<f64>,

    /// Output height; the width follows the aspect ratio
    #[arg(long, value_name = "PIXELS", conflicts_with = "width")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,

    /// Output width; the height follows the aspect ratio
    #[arg(long, value_name = "PIXELS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,

    /// Super-resolution model (name from models/models.toml)
    #[arg(long, value_name = "NAME")]
    #[serde(rename = "model", skip_serializing_if = "Option::is_none")]
    pub upscaler: Option<String>,

    /// Tile size in input pixels (0 = automatic)
    #[arg(long, value_name = "PIXELS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tile: Option<u32>,

    /// Run the model on every frame, even repeated pictures (for benchmarking)
    #[arg(long)]
    #[serde(
        rename = "reuse",
        skip_serializing_if = "is_false",
        serialize_with = "negated"
    )]
    pub no_reuse: bool,

    /// In-betweens at output size: upscale (run the upscaler on each) or warp (warp the upscaled drawings beside it with the interpolator's flow; each drawing is upscaled once)
    #[arg(long, value_enum, value_name = "MODE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inbetweens: Option<InbetweenMode>,
}

/// Output encoding.
#[derive(Debug, Args, Clone, Default, Serialize)]
#[command(next_help_heading = "Encoding")]
pub struct EncodeArgs {
    /// Video encoder
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codec: Option<Codec>,

    /// Constant quality on the encoder's own scale, lower is better and bigger (x264 0-51, 0 = lossless; x265 0-51; av1 1-63; NVENC 1-51) [default: 16 x264, 18 x265, 24 av1, 19 NVENC]
    #[arg(long, value_name = "N", conflicts_with = "lossless")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crf: Option<f32>,

    /// Mathematically lossless output: x264 qp 0, x265 lossless, FFV1 (always); other encoders refuse it
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub lossless: bool,

    /// Encoder speed preset (x264/x265: ultrafast…veryslow; av1: 0-13; nvenc: p1-p7)
    #[arg(long, value_name = "NAME")]
    #[serde(rename = "preset", skip_serializing_if = "Option::is_none")]
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

    /// With --gate: every cut and flash as a strip of thumbnails (frames c-2..c+1, the rule that fired) in this PNG (overwritten)
    #[arg(long, value_name = "PNG", requires = "gate")]
    pub sheet: Option<PathBuf>,

    /// With --gate: telecine and interlace handling, as `enhance --fields`
    #[arg(long, value_enum, value_name = "MODE", requires = "gate")]
    pub fields: Option<crate::fields::FieldsMode>,

    /// List the models of the manifest: file present and valid, inputs/outputs, device
    #[arg(long)]
    pub models: bool,

    #[command(flatten)]
    pub model: ModelArgs,
}

/// `triplets`: training data for interpolation models.
#[derive(Debug, Args)]
pub struct TripletsArgs {
    /// Input videos, in this order (a rerun must give the same ones first)
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Output folder (Vimeo-90K layout); a rerun into it continues where it stopped
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,

    #[command(flatten)]
    pub cut: CutArgs,

    /// At most N triplets per shot (the first N)
    #[arg(long, value_name = "N")]
    pub max_per_shot: Option<u64>,

    /// Keep every Nth triplet of each shot (the 1st, N+1th, ...)
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub every: u64,

    /// Picture format
    #[arg(long, value_enum, default_value = "jpg")]
    pub format: StillFormatArg,

    /// JPEG quality (1-100, libjpeg scale)
    #[arg(long, value_name = "Q", default_value_t = crate::lab::triplets::DEFAULT_QUALITY)]
    pub quality: u8,

    /// Share of shots held out for tri_testlist.txt (split by a hash of file name and shot, so no shot is in both)
    #[arg(long, value_name = "F", default_value_t = crate::lab::triplets::DEFAULT_TEST_FRACTION)]
    pub test_fraction: f64,

    /// Built-in preset whose [gate] thresholds and max_cadence_hold apply
    #[arg(long, default_value = crate::config::DEFAULT_PRESET, value_name = "NAME")]
    pub preset: String,

    /// Settings file applied on top of the preset ([gate] thresholds, interpolate.max_cadence_hold)
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl TripletsArgs {
    /// The options of this run.
    pub fn options(&self) -> TripletOptions {
        let mut opts = self
            .cut
            .triplet_options(self.inputs.clone(), self.out.clone());
        opts.max_per_shot = self.max_per_shot;
        opts.every = self.every;
        opts.format = match self.format {
            StillFormatArg::Jpg => StillFormat::Jpg,
            StillFormatArg::Png => StillFormat::Png,
        };
        opts.quality = self.quality;
        opts.test_fraction = self.test_fraction;
        opts
    }
}

/// `eval`: the models scored on triplets of your own clips. The cutting
/// flags are `triplets`' own, with eval's height and a pointer to them.
#[derive(Debug, Args)]
#[command(
    mut_arg("height", |a| a
        .help("Height the triplets are cut at (as `triplets --height`)")
        .default_value("480")),
    mut_arg("skip_start", as_triplets),
    mut_arg("skip_end", as_triplets),
    mut_arg("crop_top", as_triplets),
    mut_arg("crop_bottom", as_triplets),
    mut_arg("min_motion", as_triplets),
    mut_arg("max_motion", as_triplets)
)]
pub struct EvalArgs {
    /// Input videos
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Interpolation models to score, comma-separated; `none` for upscalers only [default: every interpolation model of the manifest]
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub interpolators: Option<Vec<String>>,

    /// Upscaling models to score (downscale by their factor, upscale back, against Lanczos3), comma-separated
    #[arg(long, value_name = "X,Y", value_delimiter = ',')]
    pub upscalers: Vec<String>,

    /// Write every score (overall and per shot) as JSON
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Write a bar chart of the table: PSNR, SSIM and chamfer per method (PNG)
    #[arg(long, value_name = "PNG")]
    pub chart: Option<PathBuf>,

    /// Also score the first interpolator's in-betweens at this upscaler's output size, both ways of `--inbetweens` (truth: the upscaled middle drawing)
    #[arg(long, value_name = "UPSCALER")]
    pub at_output_size: Option<String>,

    /// Write the worst triplets side by side: truth, then each method in the table's order; with --at-output-size: the upscaled truth, upscale, warp, worst by warp (PNG)
    #[arg(long, value_name = "PNG")]
    pub sheet: Option<PathBuf>,

    /// Rows of the sheet
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub sheet_rows: usize,

    /// At most N triplets, evenly spread over those found
    #[arg(long, value_name = "N", default_value_t = 40)]
    pub max_triplets: usize,

    /// Keep the triplets (lossless PNG) in this folder; a rerun reuses them [default: a temporary folder]
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,

    #[command(flatten)]
    pub cut: CutArgs,

    /// Built-in preset whose [gate] thresholds apply
    #[arg(long, default_value = crate::config::DEFAULT_PRESET, value_name = "NAME")]
    pub preset: String,

    /// Settings file applied on top of the preset
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub model: ModelArgs,
}

/// How triplets are cut from the clips (`triplets`, and `eval` before it scores).
#[derive(Debug, Args, Clone)]
pub struct CutArgs {
    /// Height of the written pictures; smaller sources keep theirs (never upscaled)
    #[arg(long, value_name = "PX", default_value_t = crate::lab::triplets::DEFAULT_HEIGHT)]
    pub height: usize,

    /// Seconds left out at the start (an opening)
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub skip_start: f64,

    /// Seconds left out at the end (credits)
    #[arg(long, value_name = "S", default_value_t = 0.0)]
    pub skip_end: f64,

    /// Fraction of the height cut off at the top (burned-in subtitles)
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub crop_top: f64,

    /// Fraction of the height cut off at the bottom (burned-in subtitles)
    #[arg(long, value_name = "F", default_value_t = 0.0)]
    pub crop_bottom: f64,

    /// Skip near-static triplets: a pair of the three (im1-im2, im2-im3, im1-im3) whose mean absolute luma difference (0..255, gate thumbnails) is below this
    #[arg(long, value_name = "MAD", default_value_t = crate::lab::triplets::DEFAULT_MIN_MOTION)]
    pub min_motion: f32,

    /// Skip near-cut triplets (whip pans, smears, glows): a pair whose mean absolute difference is above this
    #[arg(long, value_name = "MAD", default_value_t = crate::lab::triplets::DEFAULT_MAX_MOTION)]
    pub max_motion: f32,
}

impl CutArgs {
    /// The triplet options these flags give, the rest at their defaults.
    pub fn triplet_options(&self, inputs: Vec<PathBuf>, out: PathBuf) -> TripletOptions {
        let mut opts = TripletOptions::new(inputs, out);
        opts.height = self.height;
        opts.skip_start = self.skip_start;
        opts.skip_end = self.skip_end;
        opts.crop_top = self.crop_top;
        opts.crop_bottom = self.crop_bottom;
        opts.min_motion = self.min_motion;
        opts.max_motion = self.max_motion;
        opts
    }
}

/// `eval`'s help for a cutting flag: it works as in `triplets`.
fn as_triplets(arg: clap::Arg) -> clap::Arg {
    arg.help("As `triplets`")
}

/// `--format` of `triplets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StillFormatArg {
    Jpg,
    Png,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(flags: &[&str]) -> SettingFlags {
        let argv = ["ainimotion", "enhance", "in.mkv", "-o", "out.mkv"];
        let cli = Cli::try_parse_from(argv.iter().chain(flags)).expect("flags parse");
        match cli.command {
            Command::Enhance(args) => args.settings,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn setting_flags_serialise_to_the_preset_keys() {
        let given = settings(&[
            "--fps",
            "60",
            "--interpolator",
            "r",
            "--max-cadence-hold",
            "0.5",
            "--cadence",
            "smooth",
            "--flow",
            "full",
            "--height",
            "720",
            "--upscaler",
            "u",
            "--tile",
            "256",
            "--no-reuse",
            "--codec",
            "x265",
            "--encoder-preset",
            "slow",
            "--crf",
            "20",
            "--fields",
            "film",
        ]);
        let want: toml::Value = toml::from_str(
            r#"
            [interpolate]
            fps = "60"
            cadence = "smooth"
            max_cadence_hold_s = 0.5
            model = "r"
            flow = "full"
            [upscale]
            height = 720
            model = "u"
            tile = 256
            reuse = false
            [encode]
            codec = "x265"
            crf = 20.0
            preset = "slow"
            [decode]
            fields = "film"
            "#,
        )
        .expect("toml");
        assert_eq!(toml::Value::try_from(&given).expect("serialise"), want);
        let cfg = crate::config::resolve("anime-clean", None, &given).expect("resolves");
        assert!(!cfg.upscale.reuse);
        assert_eq!(cfg.upscale.height, Some(720));
        assert_eq!(cfg.interpolate.model, "r");
        assert_eq!(cfg.encode.effective_preset(), "slow");
        assert_eq!(cfg.decode.fields, crate::fields::FieldsMode::Film);
    }

    #[test]
    fn flags_not_given_write_no_keys() {
        let none = toml::Value::try_from(settings(&[])).expect("serialise");
        let want: toml::Value =
            toml::from_str("interpolate = {}\nupscale = {}\nencode = {}\ndecode = {}\n")
                .expect("toml");
        assert_eq!(none, want);
        let lossless =
            toml::Value::try_from(settings(&["--lossless", "--width", "640"])).expect("serialise");
        assert_eq!(lossless["encode"]["lossless"].as_bool(), Some(true));
        assert_eq!(lossless["upscale"]["width"].as_integer(), Some(640));
        assert!(lossless["upscale"].get("height").is_none());
    }
}

#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// Input video file (on a file system every node sees)
    pub input: PathBuf,

    /// Output file, written by the join job; the work folder .NAME.ainimotion/ goes beside it
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Let the join overwrite the output if it exists
    #[arg(short = 'y', long = "overwrite")]
    pub overwrite: bool,

    /// Process only this range: START-END as seconds or HH:MM:SS(.ms)
    #[arg(long, value_name = "START-END")]
    pub clip: Option<ClipRange>,

    /// Longest chunk in seconds (chunks start at scene cuts)
    #[arg(long, value_name = "S", default_value_t = crate::chunk::DEFAULT_CHUNK_SECONDS)]
    pub chunk_seconds: f64,

    /// Slurm partition of the jobs
    #[arg(long, value_name = "P", help_heading = "Slurm")]
    pub partition: Option<String>,

    /// GPUs for each chunk task
    #[arg(long, value_name = "N", help_heading = "Slurm")]
    pub gpus_per_task: Option<u32>,

    /// CPUs for each chunk task (also its --threads unless given)
    #[arg(long, value_name = "N", help_heading = "Slurm")]
    pub cpus_per_task: Option<u32>,

    /// Run at most N chunk tasks at once
    #[arg(long, value_name = "N", help_heading = "Slurm")]
    pub max_parallel: Option<u32>,

    /// Time limit of each job, in Slurm's format (e.g. 2:00:00)
    #[arg(long, value_name = "LIMIT", help_heading = "Slurm")]
    pub time: Option<String>,

    /// Write the plan and the scripts and print them; submit nothing
    #[arg(long, help_heading = "Slurm")]
    pub dry_run: bool,

    /// Built-in preset (see `ainimotion presets`)
    #[arg(long, default_value = crate::config::DEFAULT_PRESET, value_name = "NAME")]
    pub preset: String,

    /// Settings file applied on top of the preset; flags override both
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: SettingFlags,

    #[command(flatten)]
    pub model: ModelArgs,
}

impl SlurmArgs {
    /// The runtime flags given here that every `enhance --plan --chunk`
    /// repeats (the settings are in the plan): device, precision, threads
    /// and model paths (made absolute).
    pub fn chunk_flags(&self) -> Vec<String> {
        let m = &self.model;
        let mut flags = Vec::new();
        if m.device != Device::Auto {
            flags.extend(["--device".into(), value_name(&m.device)]);
        }
        if m.precision != PrecisionMode::Auto {
            flags.extend(["--precision".into(), value_name(&m.precision)]);
        }
        if let Some(n) = m.threads.or(self.cpus_per_task.map(|n| n as usize)) {
            flags.extend(["--threads".into(), n.to_string()]);
        }
        for (flag, path) in [
            ("--models-dir", &m.models_dir),
            ("--extra-models", &m.extra_models),
            ("--ort-lib", &m.ort_lib),
            ("--openvino-lib", &m.openvino_lib),
            ("--trt-cache", &m.trt_cache),
        ] {
            if let Some(p) = path {
                let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                flags.extend([flag.to_string(), abs.to_string_lossy().into_owned()]);
            }
        }
        if m.trt_fp16 {
            flags.push("--trt-fp16".into());
        }
        flags
    }
}

/// The command-line spelling of a `ValueEnum` value.
fn value_name(v: &impl clap::ValueEnum) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}
