//! `enhance`: validate everything, then run the stages.
//!
//! [`enhance`] reads top to bottom as the job does: `Prepared::new`
//! checks the settings, opens the input, loads the models, decides the
//! output size and opens the output (so every user error surfaces before
//! the first frame); `Pipeline::spawn` starts one named thread per stage;
//! `Pipeline::watch` shows progress until they end; `Pipeline::join`
//! collects what they return; `Report::new` turns that into the figures.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};

use super::gate::{GateStage, Gated, Replay};
use super::interp::{InterpStage, Staged};
use super::report::{Report, StageReport};
use super::upscale::UpscaleStage;
use super::{run_stage, RunState, Stage, StageMeter, DECODE_QUEUE, GATE_QUEUE, UPSCALE_QUEUE};
use crate::clip::ClipRange;
use crate::config::{Config, InbetweenMode};
use crate::error::{Error, Result};
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
    let late = done.output.warnings.iter().cloned();
    for w in decode_warnings(opts, &job.fmt, &done.decode)
        .into_iter()
        .chain(late)
    {
        progress.warn(&w);
        job.warnings.push(w);
    }
    let (report, back) = Report::new(opts, job, done, started.elapsed().as_secs_f64());
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
    if fmt.interlaced {
        warnings.push(format!(
            "{input}: video is flagged interlaced but its pictures show no combing; frames are left as decoded (use --fields film or --fields deinterlace if the output shows combing)"
        ));
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

/// Stage names, in pipeline order (thread names, meters, report keys).
const STAGES: [&str; 5] = ["decode", "gate", "interp", "upscale", "encode"];

/// Reads a channel's (fill, capacity) for the progress line.
type QueueProbe = Box<dyn Fn() -> (usize, usize) + Send>;

fn probe<T: Send + 'static>(rx: &Receiver<T>, capacity: usize) -> QueueProbe {
    let r = rx.clone();
    Box::new(move || (r.len(), capacity))
}

/// The running stage threads.
struct Pipeline {
    state: Arc<RunState>,
    started: Instant,
    meters: BTreeMap<&'static str, Arc<StageMeter>>,
    queues: Vec<(&'static str, QueueProbe)>,
    decode: JoinHandle<Option<DecodeStats>>,
    /// Gate, interpolation and upscale; `None` when frames go from decode
    /// straight to the encoder.
    models: Option<ModelThreads>,
    encode: JoinHandle<Option<OutputSummary>>,
}

struct ModelThreads {
    gate: JoinHandle<Option<GateStage>>,
    interp: JoinHandle<Option<Windowed<Either<InterpStage, KeepTiming>>>>,
    upscale: JoinHandle<Option<Either<UpscaleStage, KeepSize>>>,
}

/// What the stage threads handed back at the end of a clean run.
struct Finished {
    decode: DecodeStats,
    output: OutputSummary,
    gate: Option<GateStage>,
    interp: Option<InterpStage>,
    upscale: Option<UpscaleStage>,
    stages: BTreeMap<String, StageReport>,
}

impl Pipeline {
    /// Start every stage thread; the stages take the decoder, models and
    /// muxer out of `job`.
    fn spawn(
        job: &mut Prepared,
        opts: &EnhanceOptions,
        abort: Arc<AtomicBool>,
    ) -> Result<Pipeline> {
        let (Some(decoder), Some(muxer)) = (job.decoder.take(), job.muxer.take()) else {
            return Err(Error::Internal("the pipeline was started twice".into()));
        };
        let state = Arc::new(RunState::new(abort));
        let meters: BTreeMap<&'static str, Arc<StageMeter>> = STAGES
            .iter()
            .map(|n| (*n, Arc::new(StageMeter::default())))
            .collect();
        let (dec_tx, dec_rx) = bounded::<Frame>(DECODE_QUEUE);
        let mut queues = vec![("decode", probe(&dec_rx, DECODE_QUEUE))];
        let decode = {
            let (st, m) = (state.clone(), meters["decode"].clone());
            spawn("decode", &state, move || {
                decode_stage(decoder, dec_tx, &st, &m)
            })?
        };
        let (models, enc_rx) = if job.modelled() {
            let (threads, rx) = ModelThreads::spawn(job, opts, dec_rx, &state, &meters)?;
            queues.extend(threads.1);
            (Some(threads.0), rx)
        } else {
            (None, dec_rx)
        };
        let encode = {
            let (st, m) = (state.clone(), meters["encode"].clone());
            spawn("encode", &state, move || {
                encode_stage(muxer, enc_rx, &st, &m)
            })?
        };
        Ok(Pipeline {
            state,
            started: Instant::now(),
            meters,
            queues,
            decode,
            models,
            encode,
        })
    }

    /// The stages that run in this pipeline.
    fn stages(&self) -> impl Iterator<Item = &'static str> + '_ {
        STAGES
            .into_iter()
            .filter(|n| self.models.is_some() || matches!(*n, "decode" | "encode"))
    }

    fn all_finished(&self) -> bool {
        self.decode.is_finished()
            && self.encode.is_finished()
            && self.models.as_ref().is_none_or(|t| {
                t.gate.is_finished() && t.interp.is_finished() && t.upscale.is_finished()
            })
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
                .stages()
                .map(|n| {
                    let busy = self.meters[n].busy().as_secs_f64();
                    format!("{n} {:.0}%", 100.0 * busy / wall)
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
            progress.update(
                self.meters["encode"].frames.load(Ordering::Relaxed),
                &format!("busy: {} | queues: {}", busy.join(" "), fill.join(" ")),
            );
        }
    }

    /// Collect what the stages returned: the first real error, or an
    /// interruption, or everything a report needs.
    fn join(self) -> Result<Finished> {
        let stages = self
            .stages()
            .map(|n| {
                let m = &self.meters[n];
                let report = StageReport {
                    busy_s: m.busy().as_secs_f64(),
                    frames: m.frames.load(Ordering::Relaxed),
                };
                (n.to_string(), report)
            })
            .collect();
        let state = &self.state;
        let decode = joined(self.decode, "decode", state);
        let (gate, interp, upscale) = match self.models {
            Some(t) => (
                joined(t.gate, "gate", state),
                joined(t.interp, "interp", state).and_then(|w| w.inner.on()),
                joined(t.upscale, "upscale", state).and_then(Either::on),
            ),
            None => (None, None, None),
        };
        let output = joined(self.encode, "encode", state);
        if let Some(err) = state.take_error() {
            return Err(err);
        }
        let (false, Some(decode), Some(output)) = (state.aborted(), decode, output) else {
            return Err(Error::Interrupted);
        };
        Ok(Finished {
            decode,
            output,
            gate,
            interp,
            upscale,
            stages,
        })
    }
}

impl ModelThreads {
    /// Gate, interpolate and upscale threads reading decoded frames from
    /// `rx`; returns them, the receiver of finished frames, and probes of
    /// their queues.
    #[allow(clippy::type_complexity)]
    fn spawn(
        job: &mut Prepared,
        opts: &EnhanceOptions,
        rx: Receiver<Frame>,
        state: &Arc<RunState>,
        meters: &BTreeMap<&'static str, Arc<StageMeter>>,
    ) -> Result<(
        (ModelThreads, Vec<(&'static str, QueueProbe)>),
        Receiver<Frame>,
    )> {
        let (g_tx, g_rx) = bounded::<Gated>(GATE_QUEUE);
        let (i_tx, i_rx) = bounded::<Staged>(GATE_QUEUE);
        let (u_tx, u_rx) = bounded::<Frame>(UPSCALE_QUEUE);
        let queues = vec![
            ("interp", probe(&i_rx, GATE_QUEUE)),
            ("upscale", probe(&u_rx, UPSCALE_QUEUE)),
        ];
        let gate = match &opts.part {
            Some(p) => GateStage::replay(
                Replay::new(p.labels.clone(), p.pts_digest, opts.input.clone())
                    .part(p.decode.first_pts == p.origin_pts, p.next.is_some()),
            ),
            None if opts.no_gate => GateStage::disabled(),
            None => GateStage::new(opts.config.gate.clone()),
        };
        let timing = Windowed {
            inner: interp_stage(job, opts),
            window: job.window,
        };
        let threads = ModelThreads {
            gate: stage_thread("gate", gate, rx, g_tx, state, meters)?,
            interp: stage_thread("interp", timing, g_rx, i_tx, state, meters)?,
            upscale: stage_thread(
                "upscale",
                upscale_stage(job, opts),
                i_rx,
                u_tx,
                state,
                meters,
            )?,
        };
        Ok(((threads, queues), u_rx))
    }
}

/// The interpolation stage the settings ask for (or none: input timing).
fn interp_stage(job: &mut Prepared, opts: &EnhanceOptions) -> Either<InterpStage, KeepTiming> {
    let (Some(planner), Some(model)) = (job.planner.take(), job.models.interpolator.take()) else {
        return Either::Off(KeepTiming);
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
    Either::On(stage.with_end_limit(end_limit).with_grid_origin())
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

impl Report {
    /// The figures of a finished run, and its models back (for the next
    /// chunk of a plan to reuse).
    fn new(
        opts: &EnhanceOptions,
        job: Prepared,
        done: Finished,
        wall_s: f64,
    ) -> (Report, RunModels) {
        let model_s = done.interp.as_ref().map_or(0.0, |s| s.model_seconds())
            + done.upscale.as_ref().map_or(0.0, |s| s.model_seconds());
        let (width, height) = job.out_size();
        let fps_out =
            job.frame_rate.numerator() as f64 / job.frame_rate.denominator().max(1) as f64;
        let (interpolate, interpolator) = match done.interp {
            Some(s) => (Some(s.counts.clone()), Some(s.into_model())),
            None => (None, None),
        };
        let (upscale, upscaler) = match done.upscale {
            Some(s) => (Some(s.counts.clone()), s.into_model()),
            None => (None, None),
        };
        let models = RunModels {
            interpolator,
            upscaler,
            device: job.models.device.clone(),
        };
        // A chunk decodes the next chunk's first frame too (its lookahead):
        // that frame is the next chunk's to count, so the chunks add up.
        let mut decode = done.decode;
        if opts.part.as_ref().is_some_and(|p| p.next.is_some()) {
            decode.frames = decode.frames.saturating_sub(1);
        }
        let report = Report {
            input: opts.input.clone(),
            frames_in: decode.frames,
            frames_out: done.output.frames,
            width,
            height,
            fps_out,
            speed_fps: done.output.frames as f64 / wall_s.max(1e-9),
            output: done.output,
            gate: done.gate.map(|g| g.counts),
            interpolate,
            upscale,
            stages: done.stages,
            model_s,
            wall_s,
            device: job.models.device,
            interpolator: job.interpolator,
            upscaler: job.upscaler,
            decode,
            warnings: job.warnings,
            chunks: None,
        };
        (report, models)
    }
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

/// A thread running one [`Stage`] between two channels.
fn stage_thread<S: Stage>(
    name: &'static str,
    stage: S,
    rx: Receiver<S::In>,
    tx: Sender<S::Out>,
    state: &Arc<RunState>,
    meters: &BTreeMap<&'static str, Arc<StageMeter>>,
) -> Result<JoinHandle<Option<S>>> {
    let (st, m) = (state.clone(), meters[name].clone());
    spawn(name, state, move || run_stage(stage, rx, tx, name, &st, &m))
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
}

/// A stage that may be switched off.
enum Either<A, B> {
    On(A),
    Off(B),
}

impl<A, B> Either<A, B> {
    fn on(self) -> Option<A> {
        match self {
            Either::On(a) => Some(a),
            Either::Off(_) => None,
        }
    }
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
    for n in 0u64.. {
        if state.aborted() {
            return None;
        }
        if let Err(e) = super::FailPoint::check(fail, "decode", n) {
            state.fail(e);
            return None;
        }
        let t = Instant::now();
        let next = decoder.next_frame();
        meter.add_busy(t.elapsed());
        match next {
            Ok(Some(frame)) => {
                meter.frames.fetch_add(1, Ordering::Relaxed);
                if !super::send_or_abort(&tx, frame, state) {
                    state.fail(Error::Disconnected("decode"));
                    return None;
                }
            }
            Ok(None) => return Some(decoder.final_stats()),
            Err(e) => {
                state.fail(e);
                return None;
            }
        }
    }
    None
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
