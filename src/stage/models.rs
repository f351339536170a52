//! Loading the models a run needs, and adapting the ONNX sessions to the
//! stage traits ([`Interpolate`], [`Upscale`]).

use std::path::{Path, PathBuf};

use ndarray::{ArrayView3, ArrayView4};

use crate::color::RgbImage;
use crate::config::{Config, FlowMode};
use crate::error::{Error, Result};
use crate::model::tiling::plan_tiles;
use crate::model::{
    select_device, CpuUnits, DeviceOptions, ExecutionPlan, Interpolator, Manifest, ModelEntry,
    ModelError, ModelKind, OpenVino, Precision, Runtime, TileConfig, Upscaler,
};

use super::interp::Interpolate;
use super::upscale::Upscale;

/// Model and runtime options from the command line.
#[derive(Clone, Debug, Default)]
pub struct ModelOptions {
    /// Device, threads per session, TensorRT and OpenVINO settings.
    pub device: DeviceOptions,
    /// ONNX Runtime library (`--ort-lib`), else `ORT_DYLIB_PATH`, else the set-up path.
    pub ort_lib: Option<PathBuf>,
    /// Folder with models.toml (`--models-dir`), else `AINIMOTION_MODELS`, else the built-in path.
    pub models_dir: Option<PathBuf>,
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
    let manifest = Manifest::load(models_dir(opts.models_dir.as_deref()).join("models.toml"))?;
    let rt = Runtime::load(opts.ort_lib.as_deref())?;
    let plan = select_device(rt, &opts.device)?;
    // On cpu-openvino the device line ends with each model's precision.
    let mut precisions = Vec::new();
    let sessions = (rt, &plan);
    let interpolator: Option<Box<dyn Interpolate>> = if need_interp {
        let m = RifeAdapter::load(cfg, &manifest, sessions, frame, &mut precisions)?;
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
    let device = if plan.openvino().is_some() {
        format!("{} [{}]", plan.summary(), precisions.join(", "))
    } else {
        plan.summary().to_string()
    };
    Ok(RunModels {
        interpolator,
        upscaler,
        device,
    })
}

/// The runtime and the device plan every session is built with.
type Sessions<'a> = (&'a Runtime, &'a ExecutionPlan);

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

fn view4(img: &RgbImage) -> Result<ArrayView4<'_, f32>> {
    ArrayView4::from_shape((1, 3, img.height, img.width), &img.data).map_err(shape_bug)
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

impl Interpolate for RifeAdapter {
    fn name(&self) -> &str {
        &self.inner.entry().name
    }

    fn interpolate(&mut self, a: &RgbImage, b: &RgbImage, ts: &[f32]) -> Result<Vec<RgbImage>> {
        let n = ts.len();
        let (va, vb) = (view4(a)?, view4(b)?);
        let shape = (n, 3, a.height, a.width);
        let (ba, bb) = match (va.broadcast(shape), vb.broadcast(shape)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(Error::Internal("cannot batch interpolation inputs".into())),
        };
        let out = self.inner.run(ba, bb, ts)?;
        Ok(to_images(out))
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

/// One model as `info --models` reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelStatus {
    pub name: String,
    pub kind: String,
    pub scale: u32,
    pub file: PathBuf,
    pub present: bool,
    /// sha256 matches the manifest.
    pub valid: bool,
    /// The ONNX Runtime session loads and its inputs/outputs match the manifest.
    pub loads: Option<bool>,
    /// The precision it loaded in (bf16 only on cpu-openvino).
    pub precision: Option<String>,
    pub problem: Option<String>,
    pub inputs: Vec<String>,
    pub output: String,
    pub tileable: bool,
    pub licence: String,
    pub source: String,
    pub description: String,
}

/// `info --models`: the manifest, each file's state, and the device.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelsInfo {
    pub manifest: PathBuf,
    pub runtime: Option<String>,
    /// OpenVINO for `cpu-openvino`: the library and version, or why it
    /// does not load, with the CPU's units.
    pub openvino: String,
    pub device: Option<String>,
    pub problem: Option<String>,
    pub models: Vec<ModelStatus>,
}

/// Check every model of the manifest: file present, sha256, and (when the
/// runtime loads) a real session with matching inputs/outputs.
pub fn models_info(opts: &ModelOptions) -> Result<ModelsInfo> {
    let path = models_dir(opts.models_dir.as_deref()).join("models.toml");
    let manifest = Manifest::load(&path)?;
    let mut info = ModelsInfo {
        manifest: path,
        runtime: None,
        openvino: openvino_status(opts),
        device: None,
        problem: None,
        models: Vec::new(),
    };
    let runtime = match Runtime::load(opts.ort_lib.as_deref()) {
        Ok(rt) => {
            info.runtime = Some(format!(
                "{} ({})",
                rt.path().display(),
                rt.version().unwrap_or("unknown version")
            ));
            Some(rt)
        }
        Err(e) => {
            info.problem = Some(e.to_string());
            None
        }
    };
    let plan = runtime.and_then(|rt| match select_device(rt, &opts.device) {
        Ok(p) => Some(p),
        Err(e) => {
            info.problem = Some(e.to_string());
            None
        }
    });
    info.device = plan.as_ref().map(|p| p.summary().to_string());
    let sessions = runtime.zip(plan.as_ref());
    info.models = manifest
        .models()
        .iter()
        .map(|entry| model_status(entry, sessions))
        .collect();
    Ok(info)
}

/// One entry's file state and, with a runtime and a device, whether a
/// session loads (and in which precision).
fn model_status(entry: &ModelEntry, sessions: Option<Sessions>) -> ModelStatus {
    let mut st = ModelStatus {
        name: entry.name.clone(),
        kind: entry.kind.as_str().to_string(),
        scale: entry.scale,
        file: entry.path().to_path_buf(),
        present: entry.path().is_file(),
        valid: false,
        loads: None,
        precision: None,
        problem: None,
        inputs: entry.inputs.clone(),
        output: entry.output.clone(),
        tileable: entry.tileable,
        licence: entry.licence.clone(),
        source: format!("{} {}", entry.source_package, entry.source_path),
        description: entry.description.clone(),
    };
    let verified = match entry.verify() {
        Ok(v) => v,
        Err(e) => {
            st.problem = Some(e.to_string());
            return st;
        }
    };
    st.valid = true;
    let Some((rt, plan)) = sessions else {
        return st;
    };
    let loaded = match entry.kind {
        ModelKind::Upscale => Upscaler::new(rt, &verified, plan).map(|m| m.precision()),
        ModelKind::Interpolate => Interpolator::new(rt, &verified, plan).map(|m| m.precision()),
    };
    st.loads = Some(loaded.is_ok());
    match loaded {
        Ok(p) => st.precision = Some(p.to_string()),
        Err(e) => st.problem = Some(e.to_string()),
    }
    st
}

/// Whether OpenVINO loads and compiles for its CPU plugin, in one line.
fn openvino_status(opts: &ModelOptions) -> String {
    let units = CpuUnits::detect();
    match OpenVino::load(opts.device.openvino_lib.as_deref()) {
        Ok(ov) => format!(
            "{} (OpenVINO {}; CPU: {})",
            ov.path().display(),
            ov.short_version(),
            units.label()
        ),
        Err(e) => format!("not available: {e} (CPU: {})", units.label()),
    }
}

/// Human-readable `info --models`.
pub fn render_models(info: &ModelsInfo) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "manifest: {}", info.manifest.display());
    let _ = writeln!(
        s,
        "runtime:  {}",
        info.runtime.as_deref().unwrap_or("not loaded")
    );
    let _ = writeln!(s, "openvino: {}", info.openvino);
    let _ = writeln!(s, "{}", info.device.as_deref().unwrap_or("device: none"));
    if let Some(p) = &info.problem {
        let _ = writeln!(s, "problem:  {p}");
    }
    for m in &info.models {
        let state = match (m.present, m.valid, m.loads) {
            (false, _, _) => "MISSING (run ./setup.sh)",
            (true, false, _) => "INVALID (sha256 mismatch or unreadable; run ./setup.sh)",
            (true, true, Some(false)) => "DOES NOT LOAD",
            (true, true, Some(true)) => match m.precision.as_deref() {
                Some("bf16") => "ok (bf16)",
                _ => "ok",
            },
            (true, true, None) => "ok (not loaded: no runtime)",
        };
        let _ = writeln!(
            s,
            "  {:<28} {:<11} x{} {}  [{}]",
            m.name, m.kind, m.scale, state, m.licence
        );
        let _ = writeln!(
            s,
            "    {} -> {}{}; {}",
            m.inputs.join(", "),
            m.output,
            if m.tileable { "" } else { ", whole-frame only" },
            m.description
        );
        if let Some(p) = &m.problem {
            let _ = writeln!(s, "    problem: {p}");
        }
    }
    s
}
