//! The models of one run: the two interfaces the pipeline stages call
//! ([`Interpolate`], [`Upscale`]), loading the models `enhance` needs
//! ([`load`]), and the adapters from ONNX sessions to those interfaces
//! (batching, the tile size, the out-of-memory fallback to smaller tiles).

use std::path::{Path, PathBuf};

use ndarray::{ArrayView3, ArrayView4};

use super::tiling::plan_tiles;
use super::{
    select_device, DeviceOptions, ExecutionPlan, Interpolator, Manifest, ModelEntry, ModelError,
    ModelKind, Precision, Runtime, TileConfig, Upscaler,
};
use crate::config::{Config, FlowMode};
use crate::error::{Error, Result};
use crate::picture::{Flow, RgbImage};

/// In-betweens, each with the flow and weight it was made from (None from
/// a model that cannot tell).
pub type FlowMids = Vec<(RgbImage, Option<Flow>)>;

/// An interpolation model: in-betweens of `a` and `b` at each timestep.
pub trait Interpolate: Send {
    /// The model's name (manifest name), for the report.
    fn name(&self) -> &str;
    fn interpolate(&mut self, a: &RgbImage, b: &RgbImage, ts: &[f32]) -> Result<Vec<RgbImage>>;
    /// Whether [`Interpolate::interpolate_with_flow`] gives flows.
    fn has_flow(&self) -> bool {
        false
    }
    /// As [`Interpolate::interpolate`], each in-between with the flow and
    /// weight it was made from (None from a model that cannot tell).
    fn interpolate_with_flow(
        &mut self,
        a: &RgbImage,
        b: &RgbImage,
        ts: &[f32],
    ) -> Result<FlowMids> {
        Ok(self
            .interpolate(a, b, ts)?
            .into_iter()
            .map(|m| (m, None))
            .collect())
    }
    /// Seconds spent inside model calls so far.
    fn model_seconds(&self) -> f64 {
        0.0
    }
}

/// A super-resolution model run over a whole frame (tiling is the
/// implementation's business). Output values are clamped to 0..1.
pub trait Upscale: Send {
    /// The model's name (manifest name), for the report.
    fn name(&self) -> &str;
    /// Native factor (2 or 4).
    fn scale(&self) -> u32;
    fn upscale(&mut self, img: &RgbImage) -> Result<RgbImage>;
    /// (tiles run, tile-size fallbacks after out-of-memory) so far.
    fn tile_stats(&self) -> (u64, u64) {
        (0, 0)
    }
    /// Seconds spent inside model calls so far.
    fn model_seconds(&self) -> f64 {
        0.0
    }
    /// Warnings since the last call (e.g. a smaller tile after running out
    /// of device memory), for the run's progress display and report.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// Model and runtime options from the command line.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Device, threads per session, TensorRT and OpenVINO settings.
    pub device: DeviceOptions,
    /// ONNX Runtime library (`--ort-lib`), else `ORT_DYLIB_PATH`, else the set-up path.
    pub ort_lib: Option<PathBuf>,
    /// Folder with models.toml (`--models-dir`), else `AINIMOTION_MODELS`, else the built-in path.
    pub models_dir: Option<PathBuf>,
    /// A second manifest of the user's own models (`--extra-models`).
    pub extra_models: Option<PathBuf>,
}

/// The manifest of `models_dir`, with the entries of `--extra-models`
/// added (their files relative to that manifest; a name both use is an
/// error naming both files).
pub fn manifest(opts: &ModelOptions) -> Result<Manifest> {
    let main = Manifest::load(models_dir(opts.models_dir.as_deref()).join("models.toml"))?;
    match &opts.extra_models {
        Some(extra) => Ok(main.merged(Manifest::load(extra)?)?),
        None => Ok(main),
    }
}

/// The models folder: flag, then `AINIMOTION_MODELS`, then the folder the
/// build baked in (this checkout's `models/`).
pub fn models_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match std::env::var_os("AINIMOTION_MODELS") {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/models")),
    }
}

/// The models for one run, and the device line to show the user.
pub struct RunModels {
    pub interpolator: Option<Box<dyn Interpolate>>,
    pub upscaler: Option<Box<dyn Upscale>>,
    pub device: String,
}

/// Load the runtime, pick the device and load every model the settings
/// need (checked against the manifest), before the first frame.
/// `frame` is the decoded size (what the interpolation model sees): above
/// 2560x1440 it picks the model's reduced-flow variant unless
/// `interpolate.flow = "full"`.
pub fn load(
    cfg: &Config,
    opts: &ModelOptions,
    need_interp: bool,
    need_upscale: bool,
    frame: (u32, u32),
) -> Result<RunModels> {
    if !need_interp && !need_upscale {
        return Ok(RunModels {
            interpolator: None,
            upscaler: None,
            device: "none".into(),
        });
    }
    let manifest = manifest(opts)?;
    let rt = Runtime::load(opts.ort_lib.as_deref())?;
    let plan = select_device(rt, &opts.device)?;
    // On cpu-openvino the device line ends with each model's precision.
    let mut precisions = Vec::new();
    let sessions = (rt, &plan);
    let interp_plan = interp_share(&plan, opts, need_upscale);
    let interpolator: Option<Box<dyn Interpolate>> = if need_interp {
        let m = RifeAdapter::load(cfg, &manifest, (rt, &interp_plan), frame, &mut precisions)?;
        Some(Box::new(m))
    } else {
        None
    };
    let upscaler: Option<Box<dyn Upscale>> = if need_upscale {
        let m = SrAdapter::load(cfg, &manifest, sessions, &mut precisions)?;
        Some(Box::new(m))
    } else {
        None
    };
    let mut device = if plan.openvino().is_some() {
        format!("{} [{}]", plan.summary(), precisions.join(", "))
    } else {
        plan.summary().to_string()
    };
    if need_interp && interp_plan.threads() != plan.threads() && plan.provider().is_cpu() {
        device.push_str(&format!(
            "; interpolation on {} of them while the upscaler runs",
            interp_plan.threads()
        ));
    }
    Ok(RunModels {
        interpolator,
        upscaler,
        device,
    })
}

/// The runtime and the device plan every session is built with.
pub(crate) type Sessions<'a> = (&'a Runtime, &'a ExecutionPlan);

/// The interpolator's share of the cores on a CPU device. With both model
/// stages running, the upscaler is the limit (busy 95% of the wall time on
/// the One Piece demo, the interpolator a third) and both sessions taking
/// every core oversubscribes them; the upscaler keeps all cores and the
/// interpolator takes half. Measured on 2 cores, `cpu-openvino`, demo
/// `--clip 0-2`, anime-clean, three alternated rounds: all/all 26.2,
/// 24.9, 25.0 s; all/half 25.8, 24.0, 24.6 s (1.6% faster by the medians,
/// faster in every round), where one thread for both stages took 35.4 s.
/// On `cpu` (ONNX Runtime fp32) two rounds: all/all 54.2, 54.2 s;
/// all/half 54.7, 52.5 s (no worse within the noise).
/// `--threads N` sets every session to N, as asked.
fn interp_share(plan: &ExecutionPlan, opts: &ModelOptions, need_upscale: bool) -> ExecutionPlan {
    if need_upscale && opts.device.threads.is_none() && plan.provider().is_cpu() {
        plan.with_threads(plan.threads().div_ceil(2))
    } else {
        plan.clone()
    }
}

/// "name precision", for the device line.
fn precision_label(entry: &ModelEntry, precision: Precision) -> String {
    format!("{} {precision}", entry.name)
}

/// A frame buffer that does not have the shape it claims: our bug.
fn shape_bug(e: ndarray::ShapeError) -> Error {
    Error::Internal(format!("frame buffer shape: {e}"))
}

/// RIFE behind [`Interpolate`]: one call per pair, every timestep of the
/// pair in one batch.
struct RifeAdapter {
    inner: Interpolator,
}

impl RifeAdapter {
    /// The interpolation model the settings name (its reduced-flow variant
    /// for large frames with `flow = "auto"`), verified and loaded.
    fn load(
        cfg: &Config,
        manifest: &Manifest,
        (rt, plan): Sessions,
        frame: (u32, u32),
        precisions: &mut Vec<String>,
    ) -> Result<RifeAdapter> {
        let entry = manifest.interpolator_for(
            &cfg.interpolate.model,
            frame.0,
            frame.1,
            cfg.interpolate.flow == FlowMode::Auto,
        )?;
        let inner = Interpolator::new(rt, &entry.verify()?, plan)?;
        precisions.push(precision_label(inner.entry(), inner.precision()));
        Ok(RifeAdapter { inner })
    }
}

fn to_images(out: ndarray::Array4<f32>) -> Vec<RgbImage> {
    let (n, _, h, w) = out.dim();
    let out = out.as_standard_layout().into_owned();
    let flat = out.into_raw_vec_and_offset().0;
    flat.chunks_exact(3 * h * w)
        .take(n)
        .map(|c| RgbImage {
            width: w,
            height: h,
            data: c.to_vec(),
        })
        .collect()
}

/// `img` repeated `n` times as a `[n, 3, H, W]` view (one per timestep).
fn batch_of(img: &RgbImage, n: usize) -> Result<ArrayView4<'_, f32>> {
    use ndarray::ShapeBuilder;
    let (h, w) = (img.height, img.width);
    let shape = (n, 3, h, w).strides((0, h * w, w, 1));
    ArrayView4::from_shape(shape, &img.data).map_err(shape_bug)
}

impl Interpolate for RifeAdapter {
    fn name(&self) -> &str {
        &self.inner.entry().name
    }

    fn interpolate(&mut self, a: &RgbImage, b: &RgbImage, ts: &[f32]) -> Result<Vec<RgbImage>> {
        let (ba, bb) = (batch_of(a, ts.len())?, batch_of(b, ts.len())?);
        let out = self.inner.run(ba, bb, ts)?;
        Ok(to_images(out))
    }

    fn has_flow(&self) -> bool {
        self.inner.has_flow()
    }

    fn interpolate_with_flow(
        &mut self,
        a: &RgbImage,
        b: &RgbImage,
        ts: &[f32],
    ) -> Result<FlowMids> {
        let (ba, bb) = (batch_of(a, ts.len())?, batch_of(b, ts.len())?);
        let (out, flow) = self.inner.run_with_flow(ba, bb, ts)?;
        let images = to_images(out);
        let Some((flow, mask)) = flow else {
            return Ok(images.into_iter().map(|m| (m, None)).collect());
        };
        // Flow [N,4,H,W] and mask [N,1,H,W] side by side: [N,5,H,W].
        let both = ndarray::concatenate(ndarray::Axis(1), &[flow.view(), mask.view()])
            .map_err(|e| Error::Internal(format!("flow and mask: {e}")))?;
        let (_, _, h, w) = both.dim();
        let flat = both
            .as_standard_layout()
            .into_owned()
            .into_raw_vec_and_offset()
            .0;
        Ok(images
            .into_iter()
            .zip(flat.chunks_exact(5 * h * w))
            .map(|(m, f)| {
                let flow = Flow {
                    width: w,
                    height: h,
                    data: f.to_vec(),
                };
                (m, Some(flow))
            })
            .collect())
    }

    fn model_seconds(&self) -> f64 {
        self.inner.model_time().as_secs_f64()
    }
}

/// Smallest tile before out-of-memory becomes an error.
const MIN_TILE: usize = 64;
/// Tiles per model call.
const TILE_BATCH: usize = 4;
/// Overlap between tiles: animevideov3 tiles equal the whole frame exactly
/// from 40 px (measured); 48 keeps a margin.
const OVERLAP: usize = 48;

/// Super-resolution behind [`Upscale`], tiled, with out-of-memory fallback.
struct SrAdapter {
    inner: Upscaler,
    tiles: TileConfig,
    tiles_run: u64,
    fallbacks: u64,
    warnings: Vec<String>,
}

impl SrAdapter {
    /// Tile size: `--tile` if given (only for tileable models); else the
    /// whole frame up to 1920 px on CPU (a 1080p frame needs ~2 GB of
    /// activations, and tiles only add overlap work: a 720p frame split in
    /// two 1088 px tiles measured 18 s against 9 s whole) and 512 px tiles on
    /// a GPU, where memory is the limit.
    fn new(inner: Upscaler, plan: &ExecutionPlan, tile: u32) -> Result<SrAdapter> {
        let tiles = if !inner.entry().tileable {
            TileConfig::WHOLE_FRAME
        } else if tile > 0 {
            TileConfig::new(tile as usize, OVERLAP.min(tile as usize / 4))?
        } else if plan.provider().is_cpu() {
            TileConfig::new(1920, OVERLAP)?
        } else {
            TileConfig::new(512, OVERLAP)?
        };
        Ok(SrAdapter {
            inner,
            tiles,
            tiles_run: 0,
            fallbacks: 0,
            warnings: Vec::new(),
        })
    }

    /// The super-resolution model the settings name, verified and loaded.
    fn load(
        cfg: &Config,
        manifest: &Manifest,
        (rt, plan): Sessions,
        precisions: &mut Vec<String>,
    ) -> Result<SrAdapter> {
        let entry = manifest.get_kind(&cfg.upscale.model, ModelKind::Upscale)?;
        let inner = Upscaler::new(rt, &entry.verify()?, plan)?;
        precisions.push(precision_label(inner.entry(), inner.precision()));
        SrAdapter::new(inner, plan, cfg.upscale.tile)
    }
}

fn is_out_of_memory(e: &ModelError) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    [
        "out of memory",
        "failed to allocate",
        "cudaerrormemoryallocation",
        "bad_alloc",
    ]
    .iter()
    .any(|p| text.contains(p))
}

impl Upscale for SrAdapter {
    fn name(&self) -> &str {
        &self.inner.entry().name
    }

    fn scale(&self) -> u32 {
        self.inner.scale() as u32
    }

    fn upscale(&mut self, img: &RgbImage) -> Result<RgbImage> {
        let view =
            ArrayView3::from_shape((3, img.height, img.width), &img.data).map_err(shape_bug)?;
        loop {
            match self.inner.upscale_frame(view, &self.tiles, TILE_BATCH) {
                Ok(out) => {
                    self.tiles_run += plan_tiles(img.height, img.width, &self.tiles)
                        .map_or(1, |t| t.len() as u64);
                    let (_, h, w) = out.dim();
                    let data = out
                        .as_standard_layout()
                        .into_owned()
                        .into_raw_vec_and_offset()
                        .0;
                    return Ok(RgbImage {
                        width: w,
                        height: h,
                        data,
                    });
                }
                Err(e) if is_out_of_memory(&e) => {
                    let current = self.tiles.tile.min(img.width.max(img.height));
                    let next = current / 2;
                    if next < MIN_TILE {
                        return Err(ModelError::OutOfMemory {
                            tile: current,
                            reason: e.to_string(),
                        }
                        .into());
                    }
                    self.warnings.push(format!(
                        "out of device memory; retrying with {next} px tiles"
                    ));
                    self.fallbacks += 1;
                    self.tiles = TileConfig::new(next, OVERLAP.min(next / 4))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn tile_stats(&self) -> (u64, u64) {
        (self.tiles_run, self.fallbacks)
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn model_seconds(&self) -> f64 {
        self.inner.model_time().as_secs_f64()
    }
}
