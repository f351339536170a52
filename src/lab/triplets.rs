//! `ainimotion triplets INPUT... --out DIR`: training triplets for frame
//! interpolation models, cut from your own anime.
//!
//! Each input goes through the same decode and gate stages as `enhance`;
//! [`super::pick`] turns the gate's labels into triplets of three
//! consecutive distinct drawings of one shot; a motion range on the gate's
//! own score drops near-static and near-cut ones; the kept ones are
//! cropped, resized and encoded on every core and written in the Vimeo-90K
//! layout ([`super::dataset`]).
//!
//! Threads: `decode` (FFmpeg) → this thread (gate, picking: cheap) →
//! `write` (a rayon pool: colour conversion, resize, encode, files). Memory
//! stays bounded: 16 decoded frames in flight, the gate's lookahead, the
//! last three drawings, and 2 jobs per core of three pictures each.
//!
//! **Motion range** (`--min-motion`, `--max-motion`): every pair of the
//! three pictures (im1-im2, im2-im3, im1-im3) must differ by a mean absolute
//! difference of the gate's luma thumbnails (0..255, cropped like the
//! pictures) within the range. Defaults 2 and 40, from the scores of the
//! triplets the gate finds on the test clips (README, "Training
//! triplets"). Below 2: pictures the gate tells apart only by a small local
//! change (One Piece: a mouth or an eye at 0.1-1.1, real motion from 3.8
//! up; the JJK TV clip: camera shake and sub-pixel drift at 0.3-1.6, real
//! motion from 2.0 up), an A-B-A alternation (im1 = im3), or a slow pan of a
//! pixel a drawing: the middle is no in-between of anything a model can
//! learn from, or nearly a copy of a neighbour (a model learns to copy).
//! Above 40 most of the picture changed between two drawings (a whip pan, a
//! smear, a glow burst, a dissolve the gate did not call a cut; the gate's
//! own cut test starts at 25 with a jump against the neighbours): flow
//! cannot follow those, and they teach a model to blur.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::dataset::{self, Dataset, PairScores, Record, SourceState};
use super::image::{encode, still, Geometry, StillFormat};
use super::pick::{Found, Picker};
use crate::color::Colorimetry;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::gate::{compare, thumbnail_of, Thumb};
use crate::media::decode::{VideoDecoder, VideoFormat};
use crate::media::ts_seconds;
use crate::picture::{Frame, Picture};
use crate::progress::Progress;
use crate::stage::gate::{gate_file, GatePass, GateStage, Gated, Next};

pub const DEFAULT_HEIGHT: usize = 720;
pub const DEFAULT_MIN_MOTION: f32 = 2.0;
pub const DEFAULT_MAX_MOTION: f32 = 40.0;
pub const DEFAULT_QUALITY: u8 = 95;
pub const DEFAULT_TEST_FRACTION: f64 = 0.1;

/// What `triplets` needs.
#[derive(Clone, Debug)]
pub struct TripletOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    /// Height of the written pictures (never more than the source's).
    pub height: usize,
    /// Seconds left out at the start (opening) and the end (credits).
    pub skip_start: f64,
    pub skip_end: f64,
    /// Fractions of the height cut off (burned-in subtitles).
    pub crop_top: f64,
    pub crop_bottom: f64,
    /// Range of the thumbnail mean absolute difference every pair of the
    /// three must lie in.
    pub min_motion: f32,
    pub max_motion: f32,
    /// At most this many triplets per shot (the first ones).
    pub max_per_shot: Option<u64>,
    /// Keep the 1st, (N+1)th, (2N+1)th... triplet of each shot.
    pub every: u64,
    pub format: StillFormat,
    /// JPEG quality 1..=100.
    pub quality: u8,
    /// Share of shots held out for `tri_testlist.txt`.
    pub test_fraction: f64,
}

impl TripletOptions {
    /// Defaults for everything but the inputs and the folder.
    pub fn new(inputs: Vec<PathBuf>, out: PathBuf) -> TripletOptions {
        TripletOptions {
            inputs,
            out,
            height: DEFAULT_HEIGHT,
            skip_start: 0.0,
            skip_end: 0.0,
            crop_top: 0.0,
            crop_bottom: 0.0,
            min_motion: DEFAULT_MIN_MOTION,
            max_motion: DEFAULT_MAX_MOTION,
            max_per_shot: None,
            every: 1,
            format: StillFormat::Jpg,
            quality: DEFAULT_QUALITY,
            test_fraction: DEFAULT_TEST_FRACTION,
        }
    }

    /// Every setting checked before the first frame.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if self.inputs.is_empty() {
            return bad("give at least one input video".into());
        }
        if self.height < 16 {
            return bad(format!("--height {} (expected >= 16)", self.height));
        }
        for (name, v) in [
            ("--skip-start", self.skip_start),
            ("--skip-end", self.skip_end),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} {v} (expected seconds >= 0)"));
            }
        }
        for (name, v) in [
            ("--crop-top", self.crop_top),
            ("--crop-bottom", self.crop_bottom),
        ] {
            if !(v.is_finite() && (0.0..0.5).contains(&v)) {
                return bad(format!(
                    "{name} {v} (expected a fraction of the height, >= 0 and < 0.5)"
                ));
            }
        }
        if !(self.min_motion.is_finite() && self.min_motion >= 0.0) {
            return bad(format!("--min-motion {} (expected >= 0)", self.min_motion));
        }
        if !(self.max_motion.is_finite() && self.max_motion > self.min_motion) {
            return bad(format!(
                "--max-motion {} (expected more than --min-motion {})",
                self.max_motion, self.min_motion
            ));
        }
        if self.max_per_shot == Some(0) {
            return bad("--max-per-shot 0 (expected >= 1)".into());
        }
        if self.every == 0 {
            return bad("--every 0 (expected >= 1)".into());
        }
        if !(1..=100).contains(&self.quality) {
            return bad(format!("--quality {} (expected 1..=100)", self.quality));
        }
        if !(self.test_fraction.is_finite() && (0.0..=1.0).contains(&self.test_fraction)) {
            return bad(format!(
                "--test-fraction {} (expected 0..=1)",
                self.test_fraction
            ));
        }
        for p in &self.inputs {
            if !p.exists() {
                return Err(Error::input(p, "no such file"));
            }
            if p.is_dir() {
                return Err(Error::input(p, "is a directory (give the video files)"));
            }
        }
        Ok(())
    }

    /// The settings a folder's triplets were cut with (the state file).
    fn settings(&self, config: &Config) -> std::collections::BTreeMap<String, serde_json::Value> {
        use serde_json::json;
        let mut s = std::collections::BTreeMap::new();
        let mut put = |k: &str, v: serde_json::Value| {
            s.insert(k.to_string(), v);
        };
        put("height", json!(self.height));
        put("skip_start", json!(self.skip_start));
        put("skip_end", json!(self.skip_end));
        put("crop_top", json!(self.crop_top));
        put("crop_bottom", json!(self.crop_bottom));
        put("min_motion", json!(self.min_motion));
        put("max_motion", json!(self.max_motion));
        put("max_per_shot", json!(self.max_per_shot));
        put("every", json!(self.every));
        put("format", json!(self.format));
        put("quality", json!(self.quality));
        put("test_fraction", json!(self.test_fraction));
        put("max_hold_s", json!(config.interpolate.max_cadence_hold_s));
        put(
            "gate",
            serde_json::to_value(&config.gate).unwrap_or_default(),
        );
        s
    }
}

/// What became of one input.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SourceSummary {
    pub path: PathBuf,
    /// Finished by an earlier run: not decoded again.
    pub already_done: bool,
    pub frames: u64,
    pub drawings: u64,
    /// Triplets of three distinct drawings found (before the filters).
    pub found: u64,
    pub too_static: u64,
    pub too_fast: u64,
    /// Left out by `--every` and `--max-per-shot`.
    pub thinned: u64,
    /// Triplets kept: written now plus already there.
    pub kept: u64,
    pub written: u64,
    pub existing: u64,
    pub shots: u64,
    pub wall_s: f64,
}

/// What a `triplets` run did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TripletSummary {
    pub sources: Vec<SourceSummary>,
    pub frames: u64,
    pub written: u64,
    pub existing: u64,
    /// Lines of the two lists (the whole folder).
    pub train: usize,
    pub test: usize,
    pub wall_s: f64,
}

impl TripletSummary {
    /// Frames read per second of wall time (decode, gate, write).
    pub fn fps(&self) -> f64 {
        if self.wall_s > 0.0 {
            self.frames as f64 / self.wall_s
        } else {
            0.0
        }
    }
}

/// A drawing kept in the picker's window.
#[derive(Clone)]
struct Pic {
    picture: Arc<Picture>,
    thumb: Arc<Thumb>,
    /// The encoded still, made once by whichever job needs it first (a
    /// drawing is in up to three triplets).
    still: Arc<OnceLock<std::result::Result<Arc<Vec<u8>>, String>>>,
}

/// One triplet to write.
struct Job {
    record: Record,
    pics: [Pic; 3],
}

/// What the writers share.
#[derive(Clone)]
struct WriteCtx {
    root: PathBuf,
    format: StillFormat,
    quality: u8,
    cm: Colorimetry,
    geometry: Geometry,
}

impl WriteCtx {
    fn still(&self, p: &Pic) -> Result<Arc<Vec<u8>>> {
        let made = p.still.get_or_init(|| {
            still(
                &p.picture,
                self.cm,
                &self.geometry,
                self.format,
                self.quality,
            )
            .map(Arc::new)
            .map_err(|e| e.to_string())
        });
        made.clone().map_err(|reason| Error::Encode {
            codec: self.format.extension().into(),
            reason,
        })
    }

    fn write(&self, job: &Job) -> Result<()> {
        let [a, b, c] = &job.pics;
        let (a, b, c) = (self.still(a)?, self.still(b)?, self.still(c)?);
        dataset::write_triplet(
            &self.root,
            &job.record.id,
            self.format.extension(),
            [&a, &b, &c],
        )
    }
}

/// Cut triplets from every input into `opts.out`.
pub fn triplets(
    opts: &TripletOptions,
    config: &Config,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<TripletSummary> {
    let t0 = Instant::now();
    opts.validate()?;
    config.gate.validate().map_err(Error::Config)?;
    // The encoder works before the first frame is decoded.
    encode(
        &crate::picture::RgbImage::new(16, 16),
        opts.format,
        opts.quality,
    )?;
    let mut inputs = Vec::new();
    for p in &opts.inputs {
        let abs =
            std::fs::canonicalize(p).map_err(|e| Error::input(p, format!("cannot read: {e}")))?;
        let size = std::fs::metadata(&abs)
            .map_err(|e| Error::input(p, format!("cannot read: {e}")))?
            .len();
        let info = crate::probe(p, false)?;
        if info.video.is_none() {
            return Err(Error::unsupported(p, "has no video stream"));
        }
        inputs.push((p.clone(), abs, size));
    }
    let mut ds = Dataset::open(&opts.out, opts.settings(config))?;
    let ext = opts.format.extension();
    let mut summary = TripletSummary::default();
    let mut next = 0u64;
    let n = inputs.len();
    for (position, (path, abs, size)) in inputs.into_iter().enumerate() {
        if abort.load(Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        if let Some(count) = ds.finished(position, &abs, size, ext) {
            progress.info(&format!(
                "[{}/{n}] {}: done by an earlier run ({count} triplets)",
                position + 1,
                path.display()
            ));
            summary.existing += count;
            summary.sources.push(SourceSummary {
                path: abs,
                already_done: true,
                kept: count,
                existing: count,
                ..Default::default()
            });
            next += count;
            continue;
        }
        progress.info(&format!("[{}/{n}] {}", position + 1, path.display()));
        let s = cut_source(&mut ds, &path, &abs, next, opts, config, progress, abort)?;
        next += s.kept;
        ds.finish_source(
            position,
            SourceState {
                path: abs,
                size,
                triplets: s.kept,
            },
        )?;
        summary.frames += s.frames;
        summary.written += s.written;
        summary.existing += s.existing;
        summary.sources.push(s);
    }
    let (train, test) = ds.close()?;
    summary.train = train;
    summary.test = test;
    summary.wall_s = t0.elapsed().as_secs_f64();
    Ok(summary)
}

/// Per-shot thinning state.
#[derive(Default)]
struct ShotCount {
    shot: Option<u64>,
    passing: u64,
    kept: u64,
}

#[allow(clippy::too_many_arguments)]
fn cut_source(
    ds: &mut Dataset,
    path: &Path,
    abs: &Path,
    first_number: u64,
    opts: &TripletOptions,
    config: &Config,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<SourceSummary> {
    let t0 = Instant::now();
    let decoder = VideoDecoder::open(path, None, crate::fields::FieldsMode::Auto)?;
    let fmt = decoder.format().clone();
    let geometry = geometry_of(path, &fmt, opts)?;
    let end_s = end_of(path, &fmt, opts)?;
    let time_of = {
        let (tb, start) = (fmt.time_base, fmt.container_start_s);
        move |pts: i64| ts_seconds(pts, tb) - start
    };

    let writer = Writer::spawn(WriteCtx {
        root: ds.root.clone(),
        format: opts.format,
        quality: opts.quality,
        cm: fmt.colorimetry(),
        geometry,
    })?;
    let mut cutter = Cutter {
        ds,
        abs,
        opts,
        geometry,
        crop: (opts.crop_top, opts.crop_bottom),
        picker: Picker::new(config.interpolate.max_cadence_hold_s, fmt.fps()),
        shot: ShotCount::default(),
        next: first_number,
        jobs: Some(writer.jobs),
        s: SourceSummary {
            path: abs.to_path_buf(),
            ..Default::default()
        },
        first_error: None,
        first_index: None,
        time_of,
    };
    progress.start(fmt.expected_frames, "frames");
    let mut gate = GateStage::new(config.gate.clone());
    let keep = move |f: &Frame| time_of(f.pts) < end_s;
    let mut reading = Reading {
        cutter: &mut cutter,
        done: &writer.done,
        progress,
    };
    let end = gate_file(decoder, keep, &mut gate, Some(abort), &mut reading)?;
    cutter.jobs = None;
    writer
        .thread
        .join()
        .map_err(|_| Error::Internal("the write stage panicked".into()))?;
    cutter.collect(&writer.done);
    progress.update(end.read, &cutter.status());
    progress.finish();
    if let Some(e) = cutter.first_error.take() {
        return Err(e);
    }
    if end.aborted {
        progress.warn(&format!(
            "stopped in {}: {} triplets are in {}; the same command continues from there",
            path.display(),
            cutter.ds.records.len(),
            cutter.ds.root.display()
        ));
        return Err(Error::Interrupted);
    }
    end.decoded?;
    let mut s = cutter.s;
    s.frames = end.read;
    s.shots = cutter.picker.shot() + 1;
    s.wall_s = t0.elapsed().as_secs_f64();
    Ok(s)
}

/// The written pictures' geometry for this source: `--crop-*` and
/// `--height` on its size and sample aspect ratio.
fn geometry_of(path: &Path, fmt: &VideoFormat, opts: &TripletOptions) -> Result<Geometry> {
    let sar = f64::from(fmt.sample_aspect_ratio.numerator())
        / f64::from(fmt.sample_aspect_ratio.denominator().max(1));
    Geometry::new(
        fmt.width,
        fmt.height,
        sar,
        opts.crop_top,
        opts.crop_bottom,
        opts.height,
    )
    .map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// Where `--skip-end` ends the source, in seconds (infinite without it);
/// an error when nothing is left after `--skip-start`.
fn end_of(path: &Path, fmt: &VideoFormat, opts: &TripletOptions) -> Result<f64> {
    let end_s = if opts.skip_end > 0.0 {
        let d = fmt.expected_duration_s.ok_or_else(|| {
            Error::input(
                path,
                "--skip-end needs the video's duration, which the file does not state",
            )
        })?;
        d - opts.skip_end
    } else {
        f64::INFINITY
    };
    if end_s <= opts.skip_start {
        return Err(Error::Config(format!(
            "{}: --skip-start {} and --skip-end {} leave nothing of its {:.1} s",
            path.display(),
            opts.skip_start,
            opts.skip_end,
            fmt.expected_duration_s.unwrap_or(0.0)
        )));
    }
    Ok(end_s)
}

/// The `write` thread: each job's pictures encoded and written on rayon's
/// pool; each result comes back on `done`.
struct Writer {
    jobs: crossbeam_channel::Sender<Job>,
    done: crossbeam_channel::Receiver<(Record, Result<()>)>,
    thread: std::thread::JoinHandle<()>,
}

impl Writer {
    fn spawn(ctx: WriteCtx) -> Result<Writer> {
        let (jobs, jobs_rx) = crossbeam_channel::bounded::<Job>(2 * rayon::current_num_threads());
        let (done_tx, done) = crossbeam_channel::unbounded::<(Record, Result<()>)>();
        let thread = std::thread::Builder::new()
            .name("write".into())
            .spawn(move || {
                jobs_rx
                    .into_iter()
                    .par_bridge()
                    .for_each_with(done_tx, |done, job| {
                        let r = ctx.write(&job);
                        let _ = done.send((job.record, r));
                    });
            })
            .map_err(|e| Error::Internal(format!("cannot start the write thread: {e}")))?;
        Ok(Writer { jobs, done, thread })
    }
}

/// The main thread's side: picking, filtering, numbering, the manifest.
struct Cutter<'a, T: Fn(i64) -> f64> {
    ds: &'a mut Dataset,
    abs: &'a Path,
    opts: &'a TripletOptions,
    geometry: Geometry,
    crop: (f64, f64),
    picker: Picker<Pic>,
    shot: ShotCount,
    next: u64,
    jobs: Option<crossbeam_channel::Sender<Job>>,
    s: SourceSummary,
    first_error: Option<Error>,
    /// Index of the first frame gated (the first after --skip-start).
    first_index: Option<u64>,
    time_of: T,
}

/// A source's frames through the gate for the [`Cutter`]: from
/// `--skip-start` on, renumbered from 0 as the gate numbers them; finished
/// writes taken in after each frame; a failed write stops the pass.
struct Reading<'r, 'a, T: Fn(i64) -> f64> {
    cutter: &'r mut Cutter<'a, T>,
    done: &'r crossbeam_channel::Receiver<(Record, Result<()>)>,
    progress: &'r mut dyn Progress,
}

impl<T: Fn(i64) -> f64> GatePass for Reading<'_, '_, T> {
    fn before(&mut self, mut frame: Frame) -> Option<Frame> {
        let c = &mut *self.cutter;
        if (c.time_of)(frame.pts) < c.opts.skip_start {
            return None;
        }
        // The gate numbers frames from 0 as it sees them: hand it frames
        // numbered from the first one after --skip-start.
        frame.index -= *c.first_index.get_or_insert(frame.index);
        Some(frame)
    }

    fn gated(&mut self, gated: Gated) {
        self.cutter.take(gated);
    }

    fn after(&mut self, read: u64) -> Next {
        self.cutter.collect(self.done);
        if self.cutter.first_error.is_some() {
            return Next::Stop;
        }
        self.progress.update(read, &self.cutter.status());
        Next::Go
    }
}

impl<T: Fn(i64) -> f64> Cutter<'_, T> {
    fn status(&self) -> String {
        format!(
            "{} triplets written, {} there already",
            self.s.written, self.s.existing
        )
    }

    fn take(&mut self, g: Gated) {
        if self.first_error.is_some() {
            return;
        }
        let t = (self.time_of)(g.frame.pts);
        let crop = self.crop;
        let picture = g.frame.picture;
        let mut drawing = false;
        let index = g.frame.index + self.first_index.unwrap_or(0);
        let found = self.picker.push(index, t, g.class, || {
            drawing = true;
            Pic {
                thumb: Arc::new(cropped_thumb(&picture, crop)),
                picture: picture.clone(),
                still: Arc::new(OnceLock::new()),
            }
        });
        self.s.drawings += u64::from(drawing);
        if let Some(f) = found {
            if let Err(e) = self.consider(f) {
                self.first_error = Some(e);
            }
        }
    }

    /// Filter a found triplet, number it, and send it to the writers
    /// unless it is there already.
    fn consider(&mut self, f: Found<Pic>) -> Result<()> {
        self.s.found += 1;
        let [a, b, c] = &f.drawings;
        let scores = |x: &Pic, y: &Pic| {
            let s = compare(&x.thumb, &y.thumb);
            PairScores {
                mad: s.mad,
                ssim: s.ssim,
                changed: s.changed,
            }
        };
        let pairs = [
            scores(&a.payload, &b.payload),
            scores(&b.payload, &c.payload),
            scores(&a.payload, &c.payload),
        ];
        if pairs.iter().any(|p| p.mad < self.opts.min_motion) {
            self.s.too_static += 1;
            return Ok(());
        }
        if pairs.iter().any(|p| p.mad > self.opts.max_motion) {
            self.s.too_fast += 1;
            return Ok(());
        }
        if self.shot.shot != Some(f.shot) {
            self.shot = ShotCount {
                shot: Some(f.shot),
                ..Default::default()
            };
        }
        self.shot.passing += 1;
        let thinned = !(self.shot.passing - 1).is_multiple_of(self.opts.every)
            || self.opts.max_per_shot.is_some_and(|m| self.shot.kept >= m);
        if thinned {
            self.s.thinned += 1;
            return Ok(());
        }
        self.shot.kept += 1;
        self.s.kept += 1;
        let id = dataset::sequence_id(self.next);
        self.next += 1;
        let frames = [a.index, b.index, c.index];
        let ext = self.opts.format.extension();
        if self.ds.is_done(&id, ext, self.abs, frames)? {
            self.s.existing += 1;
            return Ok(());
        }
        let test = dataset::is_test_shot(self.abs, f.shot, self.opts.test_fraction);
        let record = Record {
            id,
            split: if test { "test" } else { "train" }.into(),
            source: self.abs.to_path_buf(),
            shot: f.shot,
            shot_start: f.shot_start,
            frames,
            times_s: [a.time_s, b.time_s, c.time_s].map(micro),
            timestep: micro(f.timestep),
            shown: [a.frames, b.frames, c.frames],
            width: self.geometry.out_width,
            height: self.geometry.out_height,
            im1_im2: pairs[0],
            im2_im3: pairs[1],
            im1_im3: pairs[2],
        };
        let pics = f.drawings.map(|d| d.payload);
        if let Some(tx) = &self.jobs {
            if tx.send(Job { record, pics }).is_err() {
                return Err(Error::Internal("the write stage stopped".into()));
            }
        }
        Ok(())
    }

    /// Manifest lines for the triplets written so far.
    fn collect(&mut self, done: &crossbeam_channel::Receiver<(Record, Result<()>)>) {
        for (record, r) in done.try_iter() {
            match r.and_then(|()| self.ds.add(record)) {
                Ok(()) => self.s.written += 1,
                Err(e) => {
                    if self.first_error.is_none() {
                        self.first_error = Some(e);
                    }
                }
            }
        }
    }
}

/// Rounded to a millionth (1.2089999999999999 s reads 1.209 s).
fn micro(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

/// The gate's thumbnail of `picture`, with the rows the crop removes cut
/// off too (subtitles coming and going are not motion).
fn cropped_thumb(picture: &Picture, (top, bottom): (f64, f64)) -> Thumb {
    let t = thumbnail_of(picture);
    if top == 0.0 && bottom == 0.0 {
        return t;
    }
    let (w, h) = (t.width(), t.height());
    let a = (top * h as f64).round() as usize;
    let b = (bottom * h as f64).round() as usize;
    let rows = h.saturating_sub(a + b).max(1);
    let a = a.min(h.saturating_sub(1));
    Thumb::from_samples(w, rows, &t.data()[a * w..])
}
