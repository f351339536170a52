//! `enhance`: validate everything, then run the stages.
//!
//! [`enhance`] reads top to bottom as the job does: `Prepared::new`
//! checks the settings, opens the input, loads the models, decides the
//! output size and opens the output (so every user error surfaces before
//! the first frame); `Pipeline::spawn` starts one named thread per stage;
//! `Pipeline::watch` shows progress until they end; `Pipeline::join`
//! collects what they return; `Report::new` turns that into the figures.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::gate::{GateStage, Gated, Replay};
use super::interp::{InterpStage, Staged};
use super::report::{Finished, Outcome, Report, StageReport};
use super::upscale::UpscaleStage;
use super::{run_stage, RunState, Stage, StageMeter, DECODE_QUEUE, GATE_QUEUE, UPSCALE_QUEUE};
use crate::clip::ClipRange;
use crate::config::{Config, InbetweenMode};
use crate::error::{Error, Result};
use crate::fields::FieldsMode;
use crate::gate::Class;
use crate::media::decode::{DecodePart, DecodeStats, VideoDecoder, VideoFormat};
use crate::media::mux::{check_output, Muxer, OutputPlan, OutputSummary};
use crate::media::{seconds_ts, Rational};
use crate::model::RunModels;
use crate::output_lock::OutputLock;
use crate::picture::{Family, Frame};
use crate::progress::Progress;
use crate::resize::size::output_size;
use crate::timing::{GridPart, OutputGrid, Planner};

/// Everything `enhance` needs, already resolved by the config.
#[derive(Clone, Debug)]
pub struct EnhanceOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    pub overwrite: bool,
    pub clip: Option<ClipRange>,
    pub config: Config,
    /// Model and runtime options (device, threads, paths).
    pub models: crate::model::ModelOptions,
    /// Switch gating off: every frame through every model (benchmarks).
    pub no_gate: bool,
    /// Only one chunk of a plan ([`crate::chunk`]): its frames, the
    /// plan's labels for them, and which output frames are its own.
    pub part: Option<ChunkPart>,
}

/// One chunk of a longer run, done on its own: the frames from its first
/// up to and including the next chunk's first (the lookahead), labelled as
/// the plan labelled them. It writes only the output frames before the
/// lookahead frame's time, exactly as the whole run would write them.
#[derive(Clone, Debug)]
pub struct ChunkPart {
    pub decode: DecodePart,
    /// Incoming label of each frame decoded (the first one's is unused).
    pub labels: Vec<Class>,
    /// Digest of the decoded frames' pts (see [`super::gate::pts_digest`]).
    pub pts_digest: u64,
    /// Pts of the whole run's first frame: the output grid's origin.
    pub origin_pts: i64,
    /// The lookahead frame (index, pts): the next chunk's first.
    pub next: Option<(u64, i64)>,
}

impl ChunkPart {
    /// Where this chunk lies on the whole run's output grid.
    fn grid(&self) -> GridPart {
        GridPart {
            origin_pts: self.origin_pts,
            first: (self.decode.first_index, self.decode.first_pts),
            next: self.next,
        }
    }
}

/// Run the whole job. `abort` is the process's Ctrl-C flag. The output
/// is locked for the run ([`OutputLock`]): a second run on it is refused.
pub fn enhance(
    opts: &EnhanceOptions,
    progress: &mut dyn Progress,
    abort: Arc<AtomicBool>,
) -> Result<Report> {
    // Checked before the lock so that a bad setting or output path gets
    // its own message (`Prepared::new` checks again, for chunks too).
    opts.config.validate("settings")?;
    check_output(&opts.output, &opts.input, opts.overwrite)?;
    let lock = OutputLock::acquire(&opts.output)?;
    if let Some(w) = lock.warning() {
        progress.warn(w);
    }
    enhance_reusing(opts, progress, abort, &mut None)
}

/// [`enhance`] with models loaded by an earlier run of the same settings
/// and frame size (the previous chunk of a plan): `models` holds them, or
/// `None` to load them; it holds this run's models afterwards.
pub fn enhance_reusing(
    opts: &EnhanceOptions,
    progress: &mut dyn Progress,
    abort: Arc<AtomicBool>,
    models: &mut Option<RunModels>,
) -> Result<Report> {
    let started = Instant::now();
    let input_bytes = std::fs::metadata(&opts.input).map(|m| m.len()).ok();
    let preloaded = models.take();
    let reused = preloaded.is_some();
    let mut job = Prepared::new(opts, preloaded)?;
    if !reused && (job.models.interpolator.is_some() || job.models.upscaler.is_some()) {
        progress.info(&job.models.device);
    }
    for w in &job.warnings {
        progress.warn(w);
    }
    let pipeline = Pipeline::spawn(&mut job, opts, abort)?;
    let expected = job.fmt.expected_frames;
    let raised = pipeline.watch(
        progress,
        expected.map(|n| (n as f64 * job.ratio).round() as u64),
    );
    job.warnings.extend(raised);
    let done = pipeline.join();
    progress.finish();
    let done = done?;
    input_kept_its_size(opts, input_bytes)?;
    let settled = settled(opts, &mut job, started.elapsed().as_secs_f64());
    let lookahead = opts.part.as_ref().is_some_and(|p| p.next.is_some());
    let (mut report, back) = Report::new(settled, done, lookahead);
    let late = report.output.warnings.clone();
    for w in decode_warnings(opts, &job.fmt, &report.decode)
        .into_iter()
        .chain(late)
    {
        progress.warn(&w);
        report.warnings.push(w);
    }
    *models = Some(back);
    Ok(report)
}

/// After a run: an input cut short or rewritten while it was read (the
/// decoder stopped at its new end) leaves an output silently short, so the
/// output is removed and the run fails. An input deleted meanwhile was read
/// whole through the open file and passes.
fn input_kept_its_size(opts: &EnhanceOptions, bytes_at_start: Option<u64>) -> Result<()> {
    let (Some(before), Ok(now)) = (bytes_at_start, std::fs::metadata(&opts.input)) else {
        return Ok(());
    };
    if now.len() == before {
        return Ok(());
    }
    let _ = std::fs::remove_file(&opts.output);
    Err(Error::input(
        &opts.input,
        format!(
            "changed during the run (was {before} bytes, now {}); its output was removed: run again on the complete file",
            now.len()
        ),
    ))
}

/// A run with every user error already ruled out: the input open, the
/// models loaded, the output size decided and the output open.
struct Prepared {
    decoder: Option<VideoDecoder>,
    muxer: Option<Muxer>,
    fmt: VideoFormat,
    planner: Option<Planner>,
    /// For a chunk: the output frames (numbers) that are its own.
    window: Option<(u64, u64)>,
    frame_rate: Rational,
    ratio: f64,
    models: RunModels,
    /// Output size; `None` when nothing is upscaled or resized.
    size: Option<(usize, usize)>,
    /// Manifest names of the models that run (the stages take the models).
    interpolator: Option<String>,
    upscaler: Option<String>,
    warnings: Vec<String>,
}

impl Prepared {
    /// `preloaded`: models from an earlier run of the same settings and
    /// frame size, used instead of loading them again.
    fn new(opts: &EnhanceOptions, preloaded: Option<RunModels>) -> Result<Prepared> {
        let cfg = &opts.config;
        cfg.validate("settings")?;
        check_output(&opts.output, &opts.input, opts.overwrite)?;
        let part = opts.part.as_ref();
        let decoder = VideoDecoder::open_part(
            &opts.input,
            opts.clip,
            part.map(|p| p.decode),
            cfg.decode.fields,
        )?;
        let mut fmt = decoder.format().clone();
        if let Some(p) = part {
            fmt.expected_frames = Some(p.labels.len() as u64 - u64::from(p.next.is_some()));
        }
        let grid = OutputGrid::new(cfg.grid_request(), &fmt, part.map(ChunkPart::grid))?;
        let modelled = grid.planner.is_some() || cfg.upscales();
        let mut warnings = input_warnings(opts, &fmt, modelled);
        let mut models = match preloaded {
            Some(m) => m,
            None => crate::model::load(
                cfg,
                &opts.models,
                grid.planner.is_some(),
                cfg.upscales(),
                (fmt.width as u32, fmt.height as u32),
            )?,
        };
        let size = Self::size(cfg, &fmt, &mut models)?;
        if let (InbetweenMode::Warp, Some(interp), Some(_)) = (
            cfg.upscale.inbetweens,
            &models.interpolator,
            &models.upscaler,
        ) {
            if !interp.has_flow() {
                warnings.push(format!(
                    "upscale.inbetweens = warp: the interpolation model {} gives no flow (no flow_output in its manifest entry); its in-betweens go through the upscaler",
                    interp.name()
                ));
            }
        }
        let muxer = Self::open_output(opts, &fmt, &grid, size)?;
        warnings.extend(muxer.warnings.iter().cloned());
        // The grid applies when the interpolation stage runs (planner and model).
        let window = grid.window(models.interpolator.is_some());
        Ok(Prepared {
            window,
            decoder: Some(decoder),
            muxer: Some(muxer),
            interpolator: models.interpolator.as_ref().map(|m| m.name().to_string()),
            upscaler: models.upscaler.as_ref().map(|m| m.name().to_string()),
            fmt,
            planner: grid.planner,
            frame_rate: grid.frame_rate,
            ratio: grid.ratio,
            models,
            size,
            warnings,
        })
    }

    /// The output size when upscaling; drops the upscaler when the size
    /// needs no model pass (a plain resize).
    fn size(
        cfg: &Config,
        fmt: &VideoFormat,
        models: &mut RunModels,
    ) -> Result<Option<(usize, usize)>> {
        let Some(req) = cfg.size_request() else {
            return Ok(None);
        };
        let sar = fmt.sample_aspect_ratio;
        let model_scale = models.upscaler.as_ref().map_or(1, |m| m.scale());
        let s = output_size(
            req,
            fmt.width as u32,
            fmt.height as u32,
            (
                sar.numerator().max(0) as u32,
                sar.denominator().max(0) as u32,
            ),
            model_scale,
        )
        .map_err(Error::Config)?;
        if s.model_passes == 0 {
            models.upscaler = None;
        }
        Ok(Some((s.width as usize, s.height as usize)))
    }

    fn open_output(
        opts: &EnhanceOptions,
        fmt: &VideoFormat,
        grid: &OutputGrid,
        size: Option<(usize, usize)>,
    ) -> Result<Muxer> {
        let settings = opts.config.encode.settings();
        let size = size.unwrap_or((fmt.width, fmt.height));
        Muxer::create(
            &OutputPlan::new(&opts.output, &opts.input, fmt, opts.clip, settings)
                .shaped(size, grid.time_base, grid.frame_rate)
                .video_only(opts.part.is_some()),
        )
    }

    /// Whether frames go through the model stages at all (else decode
    /// feeds the encoder directly). A chunk always does: its labels come
    /// through the gate stage and its window is applied after timing.
    fn modelled(&self) -> bool {
        self.planner.is_some() || self.size.is_some() || self.window.is_some()
    }

    fn out_size(&self) -> (usize, usize) {
        self.size.unwrap_or((self.fmt.width, self.fmt.height))
    }
}

/// What the input itself warrants saying before the run.
fn input_warnings(opts: &EnhanceOptions, fmt: &VideoFormat, modelled: bool) -> Vec<String> {
    let input = opts.input.display();
    let mut warnings = Vec::new();
    // Still flagged after the fields step: it found nothing to do, or was
    // told to do nothing (then nothing was measured, so nothing is claimed).
    if fmt.interlaced {
        warnings.push(if opts.config.decode.fields == FieldsMode::Progressive {
            format!("{input}: video is flagged interlaced; --fields progressive leaves its frames as decoded")
        } else {
            format!("{input}: video is flagged interlaced but its pictures show no combing; frames are left as decoded (use --fields film or --fields deinterlace if the output shows combing)")
        });
    }
    if fmt.alpha {
        warnings.push(format!(
            "{input}: the video's alpha channel ({}) is dropped; the output is opaque",
            fmt.pix_fmt
        ));
    }
    if fmt.colors.is_hdr() && modelled {
        warnings.push(format!(
            "{input}: HDR video (PQ/HLG) goes through models trained on SDR pictures; its colour tags are kept, but bright highlights may shift"
        ));
    }
    // The matrix matters only where pictures are converted to RGB.
    if fmt.family != Family::Rgb && modelled {
        if let Some(note) = fmt.colors.matrix_note(fmt.height) {
            warnings.push(format!("{input}: {note}"));
        }
    }
    warnings
}

/// What decoding found that the user should know: a truncated file,
/// skipped packets.
fn decode_warnings(opts: &EnhanceOptions, fmt: &VideoFormat, stats: &DecodeStats) -> Vec<String> {
    let input = opts.input.display();
    let mut warnings = Vec::new();
    if let Some(expected) = fmt.expected_duration_s {
        // Where decoding stopped, measured from the container's start and
        // from 0: containers disagree on whether their duration counts from
        // the first timestamp or from 0 (mp4/mkv whose video starts late),
        // and a late start is not a truncation. Short by both counts (more
        // than 1 s and 5%) is.
        let end = stats.last_end_s;
        let short = |got: f64| expected - got > 1.0 && got < 0.95 * expected;
        let from_start = end - fmt.container_start_s;
        let whole = opts.clip.is_none() && opts.part.is_none();
        if whole && short(end) && short(from_start) {
            warnings.push(format!(
                "{input}: input ended early: decoding stopped at {:.1} s of the {:.1} s the container states (file truncated?); the output holds what decoded",
                from_start.max(0.0),
                expected
            ));
        }
    }
    if stats.corrupt_packets > 0 {
        warnings.push(format!(
            "{input}: skipped {} corrupt video packet(s)",
            stats.corrupt_packets
        ));
    }
    warnings
}

/// Reads a channel's (fill, capacity) for the progress line.
type QueueProbe = Box<dyn Fn() -> (usize, usize) + Send>;

fn probe<T: Send + 'static>(rx: &Receiver<T>, capacity: usize) -> QueueProbe {
    let r = rx.clone();
    Box::new(move || (r.len(), capacity))
}

/// One stage's thread. Its name is the thread's, its meter's, its
/// `stages.<name>` report key and its `AINIMOTION_FAIL_STAGE` name.
struct Running {
    name: &'static str,
    meter: Arc<StageMeter>,
    thread: JoinHandle<Option<Outcome>>,
}

/// The running stage threads, in pipeline order.
struct Pipeline {
    state: Arc<RunState>,
    started: Instant,
    stages: Vec<Running>,
    /// Each stage's output queue, under the stage's name.
    queues: Vec<(&'static str, QueueProbe)>,
}

impl Pipeline {
    /// Start every stage thread; the stages take the decoder, models and
    /// muxer out of `job`. Decode feeds the model stages, or the encoder
    /// straight when nothing is modelled.
    fn spawn(
        job: &mut Prepared,
        opts: &EnhanceOptions,
        abort: Arc<AtomicBool>,
    ) -> Result<Pipeline> {
        let (Some(decoder), Some(muxer)) = (job.decoder.take(), job.muxer.take()) else {
            return Err(Error::Internal("the pipeline was started twice".into()));
        };
        let mut p = Pipeline {
            state: Arc::new(RunState::new(abort)),
            started: Instant::now(),
            stages: Vec::new(),
            queues: Vec::new(),
        };
        let (tx, mut frames) = bounded::<Frame>(DECODE_QUEUE);
        p.queues.push(("decode", probe(&frames, DECODE_QUEUE)));
        p.start("decode", move |st, m| {
            let stats = decode_stage(decoder, tx, st, m)?;
            Some(outcome(move |r, _| r.decode = stats))
        })?;
        if job.modelled() {
            frames = p.model_stages(job, opts, frames)?;
        }
        p.start("encode", move |st, m| {
            let summary = encode_stage(muxer, frames, st, m)?;
            Some(outcome(move |r, _| r.output = summary))
        })?;
        p.started = Instant::now();
        Ok(p)
    }

    /// The stages between decode and encode, in order, one line each: its
    /// name, the [`Stage`], the queue it reads, its own output queue's
    /// capacity.
    fn model_stages(
        &mut self,
        job: &mut Prepared,
        opts: &EnhanceOptions,
        frames: Receiver<Frame>,
    ) -> Result<Receiver<Frame>> {
        let gated = self.stage("gate", gate_stage(opts), frames, GATE_QUEUE)?;
        let staged = self.stage("interp", interp_stage(job, opts), gated, GATE_QUEUE)?;
        let frames = self.stage("upscale", upscale_stage(job, opts), staged, UPSCALE_QUEUE)?;
        Ok(frames)
    }

    /// Start `stage` on a thread of its own reading `rx`; returns the
    /// receiving end of its output queue, which holds `capacity` items.
    fn stage<S: Stage>(
        &mut self,
        name: &'static str,
        stage: S,
        rx: Receiver<S::In>,
        capacity: usize,
    ) -> Result<Receiver<S::Out>> {
        let (tx, out) = bounded(capacity);
        self.queues.push((name, probe(&out, capacity)));
        self.start(name, move |st, m| {
            let done = run_stage(stage, rx, tx, name, st, m)?;
            Some(outcome(move |r, models| done.report(r, models)))
        })?;
        Ok(out)
    }

    /// Start the thread of stage `name`, with its meter.
    fn start(
        &mut self,
        name: &'static str,
        body: impl FnOnce(&RunState, &StageMeter) -> Option<Outcome> + Send + 'static,
    ) -> Result<()> {
        let meter = Arc::new(StageMeter::default());
        let (st, m) = (self.state.clone(), meter.clone());
        let thread = spawn(name, &self.state, move || body(&st, &m))?;
        self.stages.push(Running {
            name,
            meter,
            thread,
        });
        Ok(())
    }

    fn all_finished(&self) -> bool {
        self.stages.iter().all(|s| s.thread.is_finished())
    }

    /// Show progress, and the stages' warnings as they come, until every
    /// stage thread has ended; returns the warnings shown.
    fn watch(&self, progress: &mut dyn Progress, expected_frames: Option<u64>) -> Vec<String> {
        progress.start(expected_frames, "frames");
        let mut shown = Vec::new();
        loop {
            // Checked before the warnings are taken, so none is missed.
            let finished = self.all_finished();
            for w in self.state.take_warnings() {
                progress.warn(&w);
                shown.push(w);
            }
            if finished {
                return shown;
            }
            thread::sleep(Duration::from_millis(100));
            let wall = self.started.elapsed().as_secs_f64().max(1e-9);
            let busy: Vec<String> = self
                .stages
                .iter()
                .map(|s| {
                    let busy = s.meter.busy().as_secs_f64();
                    format!("{} {:.0}%", s.name, 100.0 * busy / wall)
                })
                .collect();
            let fill: Vec<String> = self
                .queues
                .iter()
                .map(|(n, f)| {
                    let (len, cap) = f();
                    format!("{n}→{len}/{cap}")
                })
                .collect();
            // The last stage writes the output.
            let written = self
                .stages
                .last()
                .map_or(0, |s| s.meter.frames.load(Ordering::Relaxed));
            progress.update(
                written,
                &format!("busy: {} | queues: {}", busy.join(" "), fill.join(" ")),
            );
        }
    }

    /// Collect what the stages returned: the first real error, or an
    /// interruption, or everything a report needs.
    fn join(self) -> Result<Finished> {
        let stages = self
            .stages
            .iter()
            .map(|s| {
                let report = StageReport {
                    busy_s: s.meter.busy().as_secs_f64(),
                    frames: s.meter.frames.load(Ordering::Relaxed),
                };
                (s.name.to_string(), report)
            })
            .collect();
        let state = &self.state;
        let outcomes: Vec<Option<Outcome>> = self
            .stages
            .into_iter()
            .map(|s| joined(s.thread, s.name, state))
            .collect();
        if let Some(err) = state.take_error() {
            return Err(err);
        }
        // A stage ends without an outcome only when the run was stopped.
        let (false, Some(outcomes)) = (state.aborted(), outcomes.into_iter().collect()) else {
            return Err(Error::Interrupted);
        };
        Ok(Finished { outcomes, stages })
    }
}

/// A stage's part of the report, as a closure that folds it in.
fn outcome(fold: impl FnOnce(&mut Report, &mut RunModels) + Send + 'static) -> Outcome {
    Box::new(fold)
}

/// The gate the run asks for: the plan's labels replayed for a chunk,
/// none with `--no-gate`, else the preset's.
fn gate_stage(opts: &EnhanceOptions) -> GateStage {
    match &opts.part {
        Some(p) => GateStage::replay(
            Replay::new(p.labels.clone(), p.pts_digest, opts.input.clone())
                .part(p.decode.first_pts == p.origin_pts, p.next.is_some()),
        ),
        None if opts.no_gate => GateStage::disabled(),
        None => GateStage::new(opts.config.gate.clone()),
    }
}

/// The report's figures that the run settled before its first frame
/// (the warnings taken from `job`), and its wall time.
fn settled(opts: &EnhanceOptions, job: &mut Prepared, wall_s: f64) -> Report {
    let (width, height) = job.out_size();
    let rate = job.frame_rate;
    Report {
        width,
        height,
        fps_out: rate.numerator() as f64 / rate.denominator().max(1) as f64,
        wall_s,
        device: job.models.device.clone(),
        interpolator: job.interpolator.clone(),
        upscaler: job.upscaler.clone(),
        warnings: std::mem::take(&mut job.warnings),
        ..Report::blank(&opts.input)
    }
}

/// Interpolation (or none: input timing), keeping only a chunk's own
/// output frames.
type Timed = Windowed<Either<InterpStage, KeepTiming>>;

/// The interpolation stage the settings ask for.
fn interp_stage(job: &mut Prepared, opts: &EnhanceOptions) -> Timed {
    let window = job.window;
    let (Some(planner), Some(model)) = (job.planner.take(), job.models.interpolator.take()) else {
        return Windowed {
            inner: Either::Off(KeepTiming),
            window,
        };
    };
    let (cfg, fmt) = (&opts.config, &job.fmt);
    let nominal = seconds_ts(1.0 / fmt.fps(), fmt.time_base).max(1);
    // With --clip END, the last frame lasts until END at most.
    let end_limit = opts
        .clip
        .and_then(|c| c.duration())
        .map(|d| seconds_ts(d, fmt.time_base));
    let guard = cfg.interpolate.guard.then(|| cfg.gate.clone());
    // Warp in-betweens at output size only when an upscaler makes the
    // drawings' output size pictures; otherwise there is nothing to gain.
    let warp = cfg.upscale.inbetweens == InbetweenMode::Warp && job.models.upscaler.is_some();
    let stage = InterpStage::new(planner, model, fmt.colorimetry(), guard, nominal)
        .with_warp(warp)
        .with_window(job.window);
    Windowed {
        inner: Either::On(stage.with_end_limit(end_limit).with_grid_origin()),
        window,
    }
}

/// The upscale stage (or none: frames keep their size).
fn upscale_stage(job: &mut Prepared, opts: &EnhanceOptions) -> Either<UpscaleStage, KeepSize> {
    let Some((w, h)) = job.size else {
        return Either::Off(KeepSize);
    };
    let (colorimetry, reuse) = (job.fmt.colorimetry(), opts.config.upscale.reuse);
    Either::On(UpscaleStage::new(
        job.models.upscaler.take(),
        w,
        h,
        colorimetry,
        reuse,
    ))
}

/// Start a stage thread. A panic in it fails the run like an error does:
/// without that, the other stages would wait on a queue that the runner's
/// probe keeps open, or the encoder would see its input end and finish a
/// truncated output.
fn spawn<T: Send + 'static>(
    name: &'static str,
    state: &Arc<RunState>,
    f: impl FnOnce() -> Option<T> + Send + 'static,
) -> Result<JoinHandle<Option<T>>> {
    let state = state.clone();
    thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
                let why = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                state.fail(Error::Internal(format!("the {name} stage panicked: {why}")));
                None
            })
        })
        .map_err(|e| Error::Internal(format!("cannot start the {name} thread: {e}")))
}

/// No interpolation: input frames keep their timing.
struct KeepTiming;
impl Stage for KeepTiming {
    type In = Gated;
    type Out = Staged;
    fn push(&mut self, g: Gated) -> Result<Vec<Staged>> {
        Ok(vec![Staged {
            frame: g.frame,
            picture_id: g.picture_id,
            warp: None,
        }])
    }
    fn finish(&mut self) -> Result<Vec<Staged>> {
        Ok(Vec::new())
    }
}

/// No upscaling: frames go to the encoder as they are.
struct KeepSize;
impl Stage for KeepSize {
    type In = Staged;
    type Out = Frame;
    fn push(&mut self, s: Staged) -> Result<Vec<Frame>> {
        Ok(vec![s.frame])
    }
    fn finish(&mut self) -> Result<Vec<Frame>> {
        Ok(Vec::new())
    }
}

/// Output frames outside `window` (numbers, half-open) are dropped: a
/// chunk writes only its own (see [`ChunkPart`]).
struct Windowed<S> {
    inner: S,
    window: Option<(u64, u64)>,
}

impl<S: Stage<Out = Staged>> Windowed<S> {
    fn keep(&self, out: Vec<Staged>) -> Vec<Staged> {
        match self.window {
            Some((lo, hi)) => out
                .into_iter()
                .filter(|s| (lo..hi).contains(&s.frame.index))
                .collect(),
            None => out,
        }
    }
}

impl<S: Stage<Out = Staged>> Stage for Windowed<S> {
    type In = S::In;
    type Out = Staged;
    fn push(&mut self, x: S::In) -> Result<Vec<Staged>> {
        let out = self.inner.push(x)?;
        Ok(self.keep(out))
    }
    fn finish(&mut self) -> Result<Vec<Staged>> {
        let out = self.inner.finish()?;
        Ok(self.keep(out))
    }
    fn report(self, report: &mut Report, models: &mut RunModels) {
        self.inner.report(report, models);
    }
}

/// A stage that may be switched off.
enum Either<A, B> {
    On(A),
    Off(B),
}

impl<A: Stage, B: Stage<In = A::In, Out = A::Out>> Stage for Either<A, B> {
    type In = A::In;
    type Out = A::Out;
    fn push(&mut self, x: A::In) -> Result<Vec<A::Out>> {
        match self {
            Either::On(a) => a.push(x),
            Either::Off(b) => b.push(x),
        }
    }
    fn finish(&mut self) -> Result<Vec<A::Out>> {
        match self {
            Either::On(a) => a.finish(),
            Either::Off(b) => b.finish(),
        }
    }
    fn report(self, report: &mut Report, models: &mut RunModels) {
        match self {
            Either::On(a) => a.report(report, models),
            Either::Off(b) => b.report(report, models),
        }
    }
}

/// Join a stage thread; a panic is recorded as an internal error.
fn joined<T>(h: JoinHandle<Option<T>>, name: &str, state: &RunState) -> Option<T> {
    h.join().unwrap_or_else(|_| {
        state.fail(Error::Internal(format!("the {name} stage panicked")));
        None
    })
}

fn decode_stage(
    mut decoder: VideoDecoder,
    tx: Sender<Frame>,
    state: &RunState,
    meter: &StageMeter,
) -> Option<DecodeStats> {
    let _guard = super::PanicGuard::new(state, "decode");
    let fail = super::FailPoint::for_stage("decode");
    super::decode_into(&mut decoder, &tx, state, meter, &|_| true, fail)
}

fn encode_stage(
    mut muxer: Muxer,
    rx: Receiver<Frame>,
    state: &RunState,
    meter: &StageMeter,
) -> Option<OutputSummary> {
    let _guard = super::PanicGuard::new(state, "encode");
    let mut last_pts: Option<i64> = None;
    let fail = super::FailPoint::for_stage("encode");
    for (n, frame) in rx.iter().enumerate() {
        if state.aborted() {
            return None;
        }
        if let Err(e) = super::FailPoint::check(fail, "encode", n as u64) {
            state.fail(e);
            return None;
        }
        if let Some(p) = last_pts {
            if frame.pts <= p {
                state.fail(Error::Internal(format!(
                    "frame {} reached the encoder out of order (pts {} after {})",
                    frame.index, frame.pts, p
                )));
                return None;
            }
        }
        last_pts = Some(frame.pts);
        if let Err(e) = meter.time(|| muxer.write_frame(&frame)) {
            state.fail(e);
            return None;
        }
        meter.frames.fetch_add(1, Ordering::Relaxed);
    }
    // The sender is gone: a clean end only if nobody aborted.
    if state.aborted() {
        return None;
    }
    match meter.time(|| muxer.finish()) {
        Ok(s) => Some(s),
        Err(e) => {
            state.fail(e);
            None
        }
    }
}
