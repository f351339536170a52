//! `ainimotion eval INPUT...`: how well each model reconstructs your own
//! clips.
//!
//! - **Interpolation**, drop and reconstruct: the inputs are cut into
//!   triplets exactly as `triplets` cuts them (lossless PNG, in a work
//!   folder), and for each triplet every interpolation model predicts im2
//!   from im1 and im3 at the triplet's own timestep, beside two baselines:
//!   `blend` (50/50 mix of im1 and im3) and `nearest` (im1 below t = 0.5,
//!   else im3; im1 at 0.5), and FFmpeg's `minterpolate` (motion-compensated,
//!   the classic CPU peer, when the `ffmpeg` command is installed). Only triplets whose im2 differs from both
//!   neighbours count (a middle that repeats a neighbour is a hold, not
//!   motion): by the motion range this is always so; the pixels are checked
//!   again (mean absolute difference above [`SAME_PICTURE`] levels).
//! - **Upscaling**: im2 of each triplet, cropped to a multiple of the
//!   model's factor, is downscaled by that factor (Lanczos3) and upscaled
//!   back by the model, beside `lanczos3` (the same downscaled picture
//!   resized back with Lanczos3).
//!
//! Scores ([`super::metrics`]): PSNR, SSIM and the line-art chamfer
//! distance against the true picture, overall and per shot, with the
//! model's time per frame (wall time of its calls, sessions as `enhance`
//! loads them: same device selection and precision).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use serde::Serialize;

use super::dataset::{Record, MANIFEST};
use super::image::{decode, StillFormat};
use super::metrics::{chamfer, psnr, ssim};
use super::output_size::{with_flow, OutputSize};
use super::triplets::{triplets, TripletOptions};
use crate::config::{Config, FlowMode};
use crate::error::{Error, Result};
use crate::model::run::manifest;
use crate::model::{load, Interpolate, ModelKind, ModelOptions, Upscale};
use crate::picture::RgbImage;
use crate::progress::Progress;
use crate::resize::{resize, Filter, Planar};

/// Mean absolute difference (levels of 255) below which two pictures of a
/// triplet are the same picture.
pub const SAME_PICTURE: f64 = 0.5;

/// What `eval` needs.
#[derive(Clone, Debug)]
pub struct EvalOptions {
    /// How triplets are cut (inputs, height, crop, motion range...); its
    /// `out` is the work folder.
    pub triplets: TripletOptions,
    /// Interpolation models (manifest names); None: every interpolation
    /// model of the manifest that is not another's large-frame variant.
    pub interpolators: Option<Vec<String>>,
    /// Upscaling models (manifest names).
    pub upscalers: Vec<String>,
    /// At most this many triplets, evenly spread over all found.
    pub max_triplets: usize,
    /// Worst triplets on the sheet.
    pub sheet_rows: usize,
    /// Also score the first interpolator's in-betweens at this upscaler's
    /// output size, both ways (see [`super::output_size`]).
    pub at_output_size: Option<String>,
    pub models: ModelOptions,
}

/// Scores of one prediction, or the means of many.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Scores {
    pub psnr_db: f64,
    pub ssim: f64,
    /// Line-art chamfer distance, pixels (lower is better).
    pub chamfer_px: f64,
}

#[derive(Clone, Debug, Default)]
struct Acc {
    n: u64,
    psnr: f64,
    ssim: f64,
    chamfer: f64,
}

impl Acc {
    fn add(&mut self, s: Scores) {
        self.n += 1;
        self.psnr += s.psnr_db;
        self.ssim += s.ssim;
        self.chamfer += s.chamfer_px;
    }
    fn mean(&self) -> Scores {
        let n = self.n.max(1) as f64;
        Scores {
            psnr_db: self.psnr / n,
            ssim: self.ssim / n,
            chamfer_px: self.chamfer / n,
        }
    }
}

/// One shot's means for one method.
#[derive(Clone, Debug, Serialize)]
pub struct ShotScores {
    pub source: PathBuf,
    pub shot: u64,
    pub triplets: u64,
    #[serde(flatten)]
    pub scores: Scores,
}

/// One method (a model or a baseline) over every triplet.
#[derive(Clone, Debug, Serialize)]
pub struct MethodScores {
    pub name: String,
    /// `model`, `peer` (FFmpeg's minterpolate) or `baseline`.
    pub kind: String,
    pub frames: u64,
    #[serde(flatten)]
    pub scores: Scores,
    /// Wall time per frame of the model's calls (0 for baselines that cost nothing).
    pub ms_per_frame: f64,
    pub per_shot: Vec<ShotScores>,
}

/// Everything `eval` measured (the `--json` file).
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    pub device: String,
    /// Triplets scored, and those left out because im2 repeats a neighbour.
    pub triplets: u64,
    pub repeats_left_out: u64,
    pub interpolation: Vec<MethodScores>,
    pub upscaling: Vec<MethodScores>,
    /// In-betweens at output size (`--at-output-size`): `upscale`, then
    /// `warp`, by "interpolator + upscaler" (`at_output_size_of`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at_output_size: Vec<MethodScores>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub at_output_size_of: String,
    /// The worst triplets by the first interpolation model's PSNR (with
    /// `--at-output-size`: by the `warp` way's PSNR).
    pub worst: Vec<String>,
}

pub(super) struct Method {
    name: String,
    kind: &'static str,
    pub(super) seconds: f64,
    all: Acc,
    shots: BTreeMap<(PathBuf, u64), Acc>,
}

impl Method {
    pub(super) fn new(name: &str, kind: &'static str) -> Method {
        Method {
            name: name.to_string(),
            kind,
            seconds: 0.0,
            all: Acc::default(),
            shots: BTreeMap::new(),
        }
    }

    pub(super) fn add(&mut self, r: &Record, s: Scores) {
        self.all.add(s);
        self.shots
            .entry((r.source.clone(), r.shot))
            .or_default()
            .add(s);
    }

    fn report(&self) -> MethodScores {
        MethodScores {
            name: self.name.clone(),
            kind: self.kind.into(),
            frames: self.all.n,
            scores: self.all.mean(),
            ms_per_frame: 1000.0 * self.seconds / self.all.n.max(1) as f64,
            per_shot: self
                .shots
                .iter()
                .map(|((source, shot), a)| ShotScores {
                    source: source.clone(),
                    shot: *shot,
                    triplets: a.n,
                    scores: a.mean(),
                })
                .collect(),
        }
    }
}

pub(super) fn score(pred: &RgbImage, truth: &RgbImage) -> Scores {
    Scores {
        psnr_db: psnr(pred, truth),
        ssim: ssim(pred, truth),
        chamfer_px: chamfer(pred, truth),
    }
}

fn to_image((w, h, rgb): (usize, usize, Vec<u8>)) -> RgbImage {
    let n = w * h;
    let mut img = RgbImage::new(w, h);
    for i in 0..n {
        for c in 0..3 {
            img.data[c * n + i] = f32::from(rgb[3 * i + c]) / 255.0;
        }
    }
    img
}

fn mean_abs_levels(a: &RgbImage, b: &RgbImage) -> f64 {
    crate::gate::metrics::rgb_mean_abs_diff(a, b, 1) * 255.0
}

fn resized(img: &RgbImage, w: usize, h: usize) -> Result<RgbImage> {
    let p = Planar::new(&img.data, img.width, img.height, 3).map_err(Error::Internal)?;
    Ok(RgbImage {
        width: w,
        height: h,
        data: resize(&p, w, h, Filter::Lanczos3),
    })
}

fn crop_to_multiple(img: &RgbImage, m: usize) -> RgbImage {
    let (w, h) = (img.width / m * m, img.height / m * m);
    let mut out = RgbImage::new(w, h);
    let n = img.width * img.height;
    for c in 0..3 {
        for y in 0..h {
            let src = &img.data[c * n + y * img.width..][..w];
            out.data[c * w * h + y * w..][..w].copy_from_slice(src);
        }
    }
    out
}

/// Time grid of the `minterpolate` peer: it makes frames at multiples of
/// 1/8 of the interval, so a timestep is rounded to the nearest eighth
/// (0.5 stays 0.5; 0.4 becomes 0.375).
pub const MINTERPOLATE_GRID: usize = 8;

/// Whether the `ffmpeg` command (for the `minterpolate` peer) runs.
fn ffmpeg_cli() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// FFmpeg's motion-compensated interpolation (`minterpolate`,
/// `mi_mode=mci`, overlapped blocks, bidirectional search, no scene-change
/// detection), the classic CPU peer, through the `ffmpeg` command: it gets
/// a, b, b at 1 fps (with only a, b it gives nothing; the frames between a
/// and b are the same as with a, a, b, b, b, checked by hand) and the frame
/// at k/8 s is taken.
fn minterpolate(a: &RgbImage, b: &RgbImage, t: f32, dir: &Path) -> Result<RgbImage> {
    let grid = MINTERPOLATE_GRID;
    let k = ((t * grid as f32).round() as usize).clamp(1, grid - 1);
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::output(dir, format!("cannot create the folder: {e}")))?;
    let (ra, rb) = (super::image::interleaved(a), super::image::interleaved(b));
    for (i, rgb) in [&ra, &rb, &rb].iter().enumerate() {
        crate::media::still::write_png(
            &dir.join(format!("f{}.png", i + 1)),
            a.width,
            a.height,
            rgb,
        )?;
    }
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-framerate", "1", "-i"])
        .arg(dir.join("f%d.png"))
        .arg("-vf")
        .arg(format!(
            "minterpolate=fps={grid}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:scd=none"
        ))
        .args(["-frames:v", &(k + 1).to_string()])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .map_err(|e| Error::Config(format!("cannot run ffmpeg for minterpolate: {e}")))?;
    let n = a.width * a.height * 3;
    let frame = out
        .stdout
        .get(k * n..(k + 1) * n)
        .ok_or_else(|| Error::Encode {
            codec: "minterpolate".into(),
            reason: format!(
                "ffmpeg gave {} bytes, not the frame at {k}/{grid} s: {}",
                out.stdout.len(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })?;
    Ok(to_image((a.width, a.height, frame.to_vec())))
}

/// The interpolation models `eval` runs by default: every one of the
/// manifest that is not another's large-frame variant.
fn default_interpolators(opts: &ModelOptions) -> Result<Vec<String>> {
    let m = manifest(opts)?;
    let variants: Vec<&str> = m
        .models()
        .iter()
        .filter_map(|e| e.large_variant.as_deref())
        .collect();
    Ok(m.models()
        .iter()
        .filter(|e| e.kind == ModelKind::Interpolate && !variants.contains(&e.name.as_str()))
        .map(|e| e.name.clone())
        .collect())
}

/// One row of the sheet: truth, then each interpolation method's picture.
pub struct SheetRow {
    pub id: String,
    pub psnr: f64,
    pub pictures: Vec<RgbImage>,
}

/// Run the evaluation. Returns the report and the worst triplets' pictures
/// (truth, then each interpolation method in report order).
pub fn eval(
    opts: &EvalOptions,
    config: &Config,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<(EvalReport, Vec<SheetRow>)> {
    if opts.max_triplets == 0 {
        return Err(Error::Config("--max-triplets 0 (expected >= 1)".into()));
    }
    let names = interpolator_names(opts)?;
    let mut topts = opts.triplets.clone();
    topts.format = StillFormat::Png;
    topts.test_fraction = 0.0;
    topts.validate()?;
    // Models first: a bad name or a missing file fails in the first second.
    let mut models = Models::load(opts, config, &names)?;
    progress.info(&models.device);
    let records = cut_and_pick(opts, &topts, config, progress, abort)?;
    // `--interpolators none` (upscalers only) leaves the peer out too.
    let none = opts
        .interpolators
        .as_ref()
        .is_some_and(|_| names.is_empty());
    let mut tally = Tally::new(&models, none, opts.sheet_rows, progress);
    progress.start(Some(records.len() as u64), "triplets");
    for (k, r) in records.iter().enumerate() {
        if abort.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        tally.triplet(r, &mut models, &topts.out)?;
        progress.update(k as u64 + 1, &format!("{} scored", tally.scored));
    }
    progress.finish();
    Ok(tally.report(models))
}

/// The interpolation models to score: those named (`none`: no model), else
/// the manifest's default set.
fn interpolator_names(opts: &EvalOptions) -> Result<Vec<String>> {
    Ok(match &opts.interpolators {
        // `--interpolators none`: upscalers only.
        Some(n) => n
            .iter()
            .filter(|s| !s.is_empty() && s.as_str() != "none")
            .cloned()
            .collect(),
        None => default_interpolators(&opts.models)?,
    })
}

/// The models of a run, loaded as `enhance` loads them.
struct Models {
    /// Where the last one loaded runs.
    device: String,
    interpolators: Vec<Box<dyn Interpolate>>,
    upscalers: Vec<Box<dyn Upscale>>,
    /// `--at-output-size`: its upscaler and the first interpolator's flow.
    output_size: Option<OutputSize>,
}

impl Models {
    fn load(opts: &EvalOptions, config: &Config, names: &[String]) -> Result<Models> {
        let mut device = String::from("none");
        let mut interpolators: Vec<Box<dyn Interpolate>> = Vec::new();
        for name in names {
            let mut cfg = config.clone();
            cfg.interpolate.model = name.clone();
            cfg.interpolate.flow = FlowMode::Full;
            let m = load(&cfg, &opts.models, true, false, (0, 0))?;
            device = m.device;
            interpolators.extend(m.interpolator);
        }
        let mut upscalers: Vec<Box<dyn Upscale>> = Vec::new();
        for name in &opts.upscalers {
            let mut cfg = config.clone();
            cfg.upscale.model = name.clone();
            let m = load(&cfg, &opts.models, false, true, (0, 0))?;
            device = m.device;
            upscalers.extend(m.upscaler);
        }
        let output_size = output_size(opts, config, interpolators.first().map(|b| b.as_ref()))?;
        Ok(Models {
            device,
            interpolators,
            upscalers,
            output_size,
        })
    }
}

/// `--at-output-size NAME`: that upscaler, with the first interpolator,
/// which must give its flow.
fn output_size(
    opts: &EvalOptions,
    config: &Config,
    first: Option<&dyn Interpolate>,
) -> Result<Option<OutputSize>> {
    match (&opts.at_output_size, first) {
        (Some(name), Some(first)) => {
            let mut cfg = config.clone();
            cfg.upscale.model = name.clone();
            let m = load(&cfg, &opts.models, false, true, (0, 0))?;
            let up = m.upscaler.ok_or_else(|| {
                Error::Config(format!("--at-output-size {name}: not an upscaling model"))
            })?;
            if !first.has_flow() {
                return Err(Error::Config(format!(
                    "--at-output-size: the interpolation model {} gives no flow (no flow_output in its manifest entry); name one that does with --interpolators",
                    first.name()
                )));
            }
            Ok(Some(OutputSize::new(up, first.name())))
        }
        (Some(_), None) => Err(Error::Config(
            "--at-output-size needs an interpolation model (--interpolators)".into(),
        )),
        _ => Ok(None),
    }
}

/// Cut the inputs' triplets into the work folder and pick those to score:
/// this run's inputs only, at most `max_triplets`, evenly spread.
fn cut_and_pick(
    opts: &EvalOptions,
    topts: &TripletOptions,
    config: &Config,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<Vec<Record>> {
    progress.info(&format!("cutting triplets into {}", topts.out.display()));
    triplets(topts, config, progress, abort)?;
    let text = std::fs::read_to_string(topts.out.join(MANIFEST))
        .map_err(|e| Error::output(topts.out.join(MANIFEST), format!("cannot read: {e}")))?;
    let mut records: Vec<Record> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // Only the inputs of this run (a work folder may hold more).
    let wanted: Vec<PathBuf> = topts
        .inputs
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    records.retain(|r| wanted.contains(&r.source));
    if records.is_empty() {
        return Err(Error::Config(
            "no triplets to score: the inputs have no three consecutive distinct drawings within the motion range (see --min-motion / --max-motion)".into(),
        ));
    }
    if records.len() > opts.max_triplets {
        let step = records.len() as f64 / opts.max_triplets as f64;
        records = (0..opts.max_triplets)
            .map(|k| records[(k as f64 * step) as usize].clone())
            .collect();
    }
    Ok(records)
}

/// The scores so far: every method's, the sheet's worst rows, the counts.
struct Tally {
    /// The interpolation models, then `minterpolate` (with `peer`), then
    /// `blend` and `nearest`.
    methods: Vec<Method>,
    peer: bool,
    up_methods: Vec<Method>,
    /// The Lanczos3 baseline of each upscaling factor.
    lanczos: BTreeMap<u32, Method>,
    sheet: Vec<SheetRow>,
    sheet_rows: usize,
    scored: u64,
    repeats: u64,
}

impl Tally {
    fn new(models: &Models, none: bool, sheet_rows: usize, progress: &mut dyn Progress) -> Tally {
        let mut methods: Vec<Method> = models
            .interpolators
            .iter()
            .map(|m| Method::new(m.name(), "model"))
            .collect();
        let peer = !none && ffmpeg_cli();
        if peer {
            methods.push(Method::new("minterpolate", "peer"));
        } else if !none {
            progress.warn("the ffmpeg command is not installed: no minterpolate row");
        }
        methods.push(Method::new("blend", "baseline"));
        methods.push(Method::new("nearest", "baseline"));
        let up_methods = models
            .upscalers
            .iter()
            .map(|m| Method::new(m.name(), "model"))
            .collect();
        Tally {
            methods,
            peer,
            up_methods,
            lanczos: BTreeMap::new(),
            sheet: Vec::new(),
            sheet_rows,
            scored: 0,
            repeats: 0,
        }
    }

    /// Score one triplet (of the work folder `out`) by every method; one
    /// whose middle repeats a neighbour is only counted.
    fn triplet(&mut self, r: &Record, models: &mut Models, out: &Path) -> Result<()> {
        let dir = out.join("sequences").join(&r.id);
        let [a, truth, b] = [1, 2, 3].map(|i| dir.join(format!("im{i}.png")));
        let (a, truth, b) = (
            to_image(decode(&a)?),
            to_image(decode(&truth)?),
            to_image(decode(&b)?),
        );
        if mean_abs_levels(&a, &truth) <= SAME_PICTURE
            || mean_abs_levels(&b, &truth) <= SAME_PICTURE
        {
            self.repeats += 1;
            return Ok(());
        }
        self.scored += 1;
        let (mut pictures, at_output) = self.interpolate(r, models, (&a, &truth, &b), out)?;
        // With --at-output-size the sheet shows those pictures instead,
        // worst by the warp way's PSNR.
        if let Some([up_truth, via_model, warped]) = at_output {
            pictures = vec![up_truth, via_model, warped];
        }
        self.keep_if_worst(r, pictures, &truth, models.output_size.is_some());
        self.upscale(r, &truth, &mut models.upscalers)
    }

    /// The in-between by every interpolation method, scored: the truth and
    /// each method's picture, and with `--at-output-size` its pictures.
    fn interpolate(
        &mut self,
        r: &Record,
        models: &mut Models,
        (a, truth, b): (&RgbImage, &RgbImage, &RgbImage),
        out: &Path,
    ) -> Result<(Vec<RgbImage>, Option<[RgbImage; 3]>)> {
        let t = r.timestep as f32;
        let mut pictures = vec![truth.clone()];
        let mut at_output = None;
        let output_size = &mut models.output_size;
        for (i, (m, method)) in models
            .interpolators
            .iter_mut()
            .zip(self.methods.iter_mut())
            .enumerate()
        {
            let t0 = Instant::now();
            let pred = match (&mut *output_size, i) {
                (Some(os), 0) => {
                    let (mid, flow) = with_flow(m.as_mut(), a, b, t)?;
                    method.seconds += t0.elapsed().as_secs_f64();
                    at_output = Some(os.score(r, (a, truth, b), &mid, &flow)?);
                    mid
                }
                _ => m
                    .interpolate(a, b, &[t])?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Internal(format!("{} gave no picture", method.name)))?,
            };
            if i > 0 || output_size.is_none() {
                method.seconds += t0.elapsed().as_secs_f64();
            }
            method.add(r, score(&pred, truth));
            pictures.push(pred);
        }
        let mut n = models.interpolators.len();
        if self.peer {
            let t0 = Instant::now();
            let pred = minterpolate(a, b, t, &out.join("minterpolate"))?;
            self.methods[n].seconds += t0.elapsed().as_secs_f64();
            self.methods[n].add(r, score(&pred, truth));
            pictures.push(pred);
            n += 1;
        }
        let mut blend = a.clone();
        for (o, &y) in blend.data.iter_mut().zip(&b.data) {
            *o = 0.5 * (*o + y);
        }
        self.methods[n].add(r, score(&blend, truth));
        pictures.push(blend);
        let nearest = if t <= 0.5 { a.clone() } else { b.clone() };
        self.methods[n + 1].add(r, score(&nearest, truth));
        pictures.push(nearest);
        Ok((pictures, at_output))
    }

    /// Keep the sheet's worst rows by the first method's PSNR (with
    /// `--at-output-size`: by the warp way's).
    fn keep_if_worst(
        &mut self,
        r: &Record,
        pictures: Vec<RgbImage>,
        truth: &RgbImage,
        at_output_size: bool,
    ) {
        if self.sheet_rows == 0 {
            return;
        }
        let key = if at_output_size {
            psnr(&pictures[2], &pictures[0])
        } else {
            psnr(&pictures[1], truth)
        };
        self.sheet.push(SheetRow {
            id: r.id.clone(),
            psnr: key,
            pictures,
        });
        self.sheet.sort_by(|x, y| x.psnr.total_cmp(&y.psnr));
        self.sheet.truncate(self.sheet_rows);
    }

    /// The middle picture downscaled and upscaled back by every upscaling
    /// model, and by Lanczos3 once per factor.
    fn upscale(
        &mut self,
        r: &Record,
        truth: &RgbImage,
        upscalers: &mut [Box<dyn Upscale>],
    ) -> Result<()> {
        for (m, method) in upscalers.iter_mut().zip(self.up_methods.iter_mut()) {
            let s = m.scale() as usize;
            let hr = crop_to_multiple(truth, s);
            let lr = resized(&hr, hr.width / s, hr.height / s)?;
            let t0 = Instant::now();
            let up = m.upscale(&lr)?;
            method.seconds += t0.elapsed().as_secs_f64();
            let up = if (up.width, up.height) == (hr.width, hr.height) {
                up
            } else {
                resized(&up, hr.width, hr.height)?
            };
            method.add(r, score(&up, &hr));
            let base = self
                .lanczos
                .entry(m.scale())
                .or_insert_with(|| Method::new(&format!("lanczos3-x{s}"), "baseline"));
            if base.all.n < method.all.n {
                let t0 = Instant::now();
                let back = resized(&lr, hr.width, hr.height)?;
                base.seconds += t0.elapsed().as_secs_f64();
                base.add(r, score(&back, &hr));
            }
        }
        Ok(())
    }

    /// The report, and the sheet's rows.
    fn report(self, models: Models) -> (EvalReport, Vec<SheetRow>) {
        let mut upscaling: Vec<MethodScores> = self.up_methods.iter().map(Method::report).collect();
        upscaling.extend(self.lanczos.values().map(Method::report));
        let output_size = models.output_size;
        let report = EvalReport {
            device: models.device,
            triplets: self.scored,
            repeats_left_out: self.repeats,
            interpolation: self.methods.iter().map(Method::report).collect(),
            upscaling,
            at_output_size: output_size
                .iter()
                .flat_map(|os| [os.upscale.report(), os.warp.report()])
                .collect(),
            at_output_size_of: output_size
                .as_ref()
                .map_or(String::new(), |os| os.title.clone()),
            worst: self.sheet.iter().map(|r| r.id.clone()).collect(),
        };
        (report, self.sheet)
    }
}

/// The table printed on the terminal.
pub fn render_table(r: &EvalReport) -> String {
    let mut s = format!(
        "{} triplets scored ({} left out: im2 repeats a neighbour); {}\n",
        r.triplets, r.repeats_left_out, r.device
    );
    let mut block = |title: &str, rows: &[MethodScores]| {
        if rows.is_empty() {
            return;
        }
        s.push_str(&format!(
            "\n{title:<28} {:>9} {:>7} {:>12} {:>10} {:>7}\n",
            "PSNR dB", "SSIM", "chamfer px", "ms/frame", "shots"
        ));
        for m in rows {
            s.push_str(&format!(
                "{:<28} {:>9.2} {:>7.4} {:>12.3} {:>10.1} {:>7}\n",
                format!("{} ({})", m.name, m.kind),
                m.scores.psnr_db,
                m.scores.ssim,
                m.scores.chamfer_px,
                m.ms_per_frame,
                m.per_shot.len()
            ));
        }
    };
    block("interpolation", &r.interpolation);
    block("upscaling", &r.upscaling);
    block(
        &format!("at output size: {}", r.at_output_size_of),
        &r.at_output_size,
    );
    s
}

/// Check an output path for a PNG (`--chart`, `--sheet`).
pub fn check_png(path: &Path) -> Result<()> {
    let ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !ok {
        return Err(Error::Config(format!(
            "{}: the picture is a PNG; name it .png",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::output(
            path,
            format!("folder {} does not exist", dir.display()),
        ));
    }
    Ok(())
}

/// The sheet of the worst triplets: one row per triplet, truth first, then
/// each interpolation method in the table's order, 4 px grey gaps; rows
/// of smaller inputs are scaled (Lanczos3) to the tallest row's height.
pub fn write_sheet(path: &Path, rows: &[SheetRow]) -> Result<()> {
    if rows.is_empty() {
        return Err(Error::Config("no triplets for the sheet".into()));
    }
    let gap = 4;
    let h = rows.iter().map(|r| r.pictures[0].height).max().unwrap_or(1);
    let mut scaled: Vec<Vec<RgbImage>> = Vec::new();
    for row in rows {
        let mut out = Vec::new();
        for p in &row.pictures {
            if p.height == h {
                out.push(p.clone());
            } else {
                let w = ((p.width * h) as f64 / p.height as f64).round().max(1.0) as usize;
                out.push(resized(p, w, h)?);
            }
        }
        scaled.push(out);
    }
    let w = scaled.iter().flatten().map(|p| p.width).max().unwrap_or(1);
    let cols = scaled.iter().map(Vec::len).max().unwrap_or(1);
    let (sw, sh) = (
        cols * w + (cols - 1) * gap,
        rows.len() * h + (rows.len() - 1) * gap,
    );
    let mut out = vec![96u8; sw * sh * 3];
    for (ri, row) in scaled.iter().enumerate() {
        for (ci, pic) in row.iter().enumerate() {
            let rgb = super::image::interleaved(pic);
            for y in 0..pic.height {
                let dst = ((ri * (h + gap) + y) * sw + ci * (w + gap)) * 3;
                out[dst..dst + pic.width * 3]
                    .copy_from_slice(&rgb[y * pic.width * 3..][..pic.width * 3]);
            }
        }
    }
    crate::media::still::write_png(path, sw, sh, &out)
}
