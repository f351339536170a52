//! `enhance`: validate everything, then run the stages.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Serialize;

use super::gate::{GateCounts, GateStage, Gated};
use super::interp::{InterpCounts, InterpStage, Staged};
use super::upscale::{UpscaleCounts, UpscaleStage};
use super::{run_stage, RunState, Stage, StageMeter, DECODE_QUEUE, GATE_QUEUE, UPSCALE_QUEUE};
use crate::clip::ClipRange;
use crate::config::{Config, FpsSetting};
use crate::error::{Error, Result};
use crate::interp::{output_time_base, resolve_rate, PlanParams, Planner};
use crate::media::decode::{DecodeStats, VideoDecoder, VideoFormat};
use crate::media::encode::EncodeSettings;
use crate::media::mux::{check_output, Muxer, OutputPlan, OutputSummary};
use crate::media::{seconds_ts, Rational};
use crate::picture::Frame;
use crate::progress::Progress;
use crate::resize::{output_size, SizeRequest};

/// Everything `enhance` needs, already resolved by the config.
#[derive(Clone, Debug)]
pub struct EnhanceOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    pub overwrite: bool,
    pub clip: Option<ClipRange>,
    pub config: Config,
    /// Model and runtime options (device, threads, paths).
    pub models: super::models::ModelOptions,
    /// Switch gating off: every frame through every model (benchmarks).
    pub no_gate: bool,
}

/// Busy time of one stage.
#[derive(Clone, Debug, Serialize)]
pub struct StageReport {
    pub busy_s: f64,
    pub frames: u64,
}

/// End-of-run figures; field names are the stable keys of `--report`.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub input: PathBuf,
    pub output: OutputSummary,
    pub frames_in: u64,
    pub frames_out: u64,
    pub width: usize,
    pub height: usize,
    pub fps_out: f64,
    pub gate: Option<GateCounts>,
    pub interpolate: Option<InterpCounts>,
    pub upscale: Option<UpscaleCounts>,
    pub stages: BTreeMap<String, StageReport>,
    /// Total seconds inside model calls (all model stages).
    pub model_s: f64,
    pub wall_s: f64,
    /// Output frames per second of wall time.
    pub speed_fps: f64,
    pub device: String,
    /// Manifest names of the models that ran (none when a stage is off).
    pub interpolator: Option<String>,
    pub upscaler: Option<String>,
    pub decode: DecodeStats,
    pub warnings: Vec<String>,
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

impl Stage for GateStage {
    type In = Frame;
    type Out = Gated;
    fn push(&mut self, f: Frame) -> Result<Vec<Gated>> {
        GateStage::push(self, f)
    }
    fn finish(&mut self) -> Result<Vec<Gated>> {
        GateStage::finish(self)
    }
}

impl Stage for InterpStage {
    type In = Gated;
    type Out = Staged;
    fn push(&mut self, g: Gated) -> Result<Vec<Staged>> {
        InterpStage::push(self, g)
    }
    fn finish(&mut self) -> Result<Vec<Staged>> {
        InterpStage::finish(self)
    }
}

impl Stage for UpscaleStage {
    type In = Staged;
    type Out = Frame;
    fn push(&mut self, s: Staged) -> Result<Vec<Frame>> {
        Ok(vec![self.process(s)?])
    }
    fn finish(&mut self) -> Result<Vec<Frame>> {
        Ok(Vec::new())
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
}

fn spawn<T: Send + 'static>(
    name: &'static str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<JoinHandle<T>> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|e| Error::Internal(format!("cannot start the {name} thread: {e}")))
}

/// Reads a channel's (fill, capacity) for the progress line.
type QueueProbe = Box<dyn Fn() -> (usize, usize) + Send>;

/// The output's time grid.
struct Timing {
    time_base: Rational,
    frame_rate: Rational,
    planner: Option<Planner>,
    /// Output frames per input frame (for the progress total).
    ratio: f64,
}

fn plan_timing(cfg: &Config, fmt: &VideoFormat) -> Result<Timing> {
    match cfg.fps() {
        FpsSetting::None => Ok(Timing {
            time_base: fmt.time_base,
            frame_rate: fmt.frame_rate,
            planner: None,
            ratio: 1.0,
        }),
        FpsSetting::Target(target) => {
            let (num, den) = resolve_rate(target, fmt.nominal_rate())
                .map_err(|e| Error::Config(format!("--fps: {e}")))?;
            let mut params = PlanParams::new((num, den), cfg.interpolate.cadence);
            params.max_cadence_hold_s = cfg.interpolate.max_cadence_hold_s;
            let tb = (fmt.time_base.numerator(), fmt.time_base.denominator());
            let planner =
                Planner::try_new(params, tb).map_err(|e| Error::Config(format!("--fps: {e}")))?;
            let (tb_num, tb_den) = output_time_base(&params);
            Ok(Timing {
                time_base: Rational::new(tb_num, tb_den),
                frame_rate: Rational::new(num as i32, den as i32),
                planner: Some(planner),
                ratio: (num as f64 / den as f64) / fmt.fps(),
            })
        }
    }
}

/// Run the whole job. `abort` is the process's Ctrl-C flag.
pub fn enhance(
    opts: &EnhanceOptions,
    progress: &mut dyn Progress,
    abort: Arc<AtomicBool>,
) -> Result<Report> {
    let started = Instant::now();
    // ---- validate everything before the first frame
    let cfg = &opts.config;
    cfg.validate("settings")?;
    check_output(&opts.output, &opts.input, opts.overwrite)?;
    let decoder = VideoDecoder::open(&opts.input, opts.clip)?;
    let fmt = decoder.format().clone();
    let mut warnings = Vec::new();
    if fmt.interlaced {
        warnings.push(format!(
            "{}: video is interlaced; it is processed as progressive frames (deinterlace it first for best results)",
            opts.input.display()
        ));
    }
    if fmt.alpha {
        warnings.push(format!(
            "{}: the video's alpha channel ({}) is dropped; the output is opaque",
            opts.input.display(),
            fmt.pix_fmt
        ));
    }
    let timing = plan_timing(cfg, &fmt)?;
    if fmt.colors.is_hdr() && (timing.planner.is_some() || cfg.upscales()) {
        warnings.push(format!(
            "{}: HDR video (PQ/HLG) goes through models trained on SDR pictures; its colour tags are kept, but bright highlights may shift",
            opts.input.display()
        ));
    }
    // The matrix matters only where pictures are converted to RGB.
    if fmt.family != crate::picture::Family::Rgb && (timing.planner.is_some() || cfg.upscales()) {
        if let Some(note) = fmt.colors.matrix_note(fmt.height) {
            warnings.push(format!("{}: {note}", opts.input.display()));
        }
    }
    let need_interp = timing.planner.is_some();
    let mut models = super::models::load(
        cfg,
        &opts.models,
        need_interp,
        cfg.upscales(),
        (fmt.width as u32, fmt.height as u32),
    )?;
    let size = if cfg.upscales() {
        let req = if cfg.upscale.height > 0 {
            SizeRequest::Height(cfg.upscale.height)
        } else if cfg.upscale.width > 0 {
            SizeRequest::Width(cfg.upscale.width)
        } else {
            SizeRequest::Scale(cfg.upscale.scale)
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
        Some(s)
    } else {
        None
    };
    let (out_w, out_h) = size.map_or((fmt.width, fmt.height), |s| {
        (s.width as usize, s.height as usize)
    });
    let encode = EncodeSettings {
        codec: cfg.encode.codec,
        crf: cfg.encode.effective_crf(),
        lossless: cfg.encode.lossless,
        preset: cfg.encode.effective_preset(),
    };
    let muxer = Muxer::create(&OutputPlan {
        target: &opts.output,
        input: &opts.input,
        video_stream_index: fmt.stream_index,
        width: out_w,
        height: out_h,
        family: fmt.family,
        colorimetry: fmt.colorimetry(),
        chroma: fmt.chroma,
        depth: fmt.depth,
        colors: fmt.colors,
        sample_aspect_ratio: fmt.sample_aspect_ratio,
        time_base: timing.time_base,
        frame_rate: timing.frame_rate,
        settings: &encode,
        origin_s: fmt.origin_s,
        end_s: opts
            .clip
            .and_then(|c| c.end)
            .map(|e| e + (fmt.origin_s - opts.clip.map_or(0.0, |c| c.start))),
    })?;
    warnings.extend(muxer.warnings.iter().cloned());
    // Names of the models that run, for the report (the stages take the models).
    let interpolator_name = models.interpolator.as_ref().map(|m| m.name().to_string());
    let upscaler_name = models.upscaler.as_ref().map(|m| m.name().to_string());
    if models.interpolator.is_some() || models.upscaler.is_some() {
        progress.info(&models.device);
    }
    for w in &warnings {
        progress.warn(w);
    }
    let colorimetry = fmt.colorimetry();

    // ---- run
    let state = Arc::new(RunState::new(abort));
    let names = ["decode", "gate", "interp", "upscale", "encode"];
    let meters: BTreeMap<&'static str, Arc<StageMeter>> = names
        .iter()
        .map(|n| (*n, Arc::new(StageMeter::default())))
        .collect();
    let meter = |n: &str| meters.get(n).cloned().unwrap_or_default();
    let modelled = need_interp || size.is_some();

    let (dec_tx, dec_rx) = bounded::<Frame>(DECODE_QUEUE);
    let decode_handle = {
        let (state, m) = (state.clone(), meter("decode"));
        spawn("decode", move || decode_stage(decoder, dec_tx, &state, &m))?
    };
    let mut queues: Vec<(&'static str, QueueProbe)> = Vec::new();
    {
        let r = dec_rx.clone();
        queues.push(("decode", Box::new(move || (r.len(), DECODE_QUEUE))));
    }
    let mut gate_handle = None;
    let mut interp_handle = None;
    let mut upscale_handle = None;
    let enc_rx: Receiver<Frame> = if modelled {
        let gate_params = cfg.gate.clone();
        let (g_tx, g_rx) = bounded::<Gated>(GATE_QUEUE);
        let (i_tx, i_rx) = bounded::<Staged>(GATE_QUEUE);
        let (u_tx, u_rx) = bounded::<Frame>(UPSCALE_QUEUE);
        let gate = if opts.no_gate {
            GateStage::disabled()
        } else {
            GateStage::new(gate_params)
        };
        {
            let (state, m) = (state.clone(), meter("gate"));
            gate_handle = Some(spawn("gate", move || {
                run_stage(gate, dec_rx, g_tx, "gate", &state, &m)
            })?);
        }
        let interp: Either<InterpStage, KeepTiming> =
            match (timing.planner, models.interpolator.take()) {
                (Some(planner), Some(model)) => {
                    let nominal = seconds_ts(1.0 / fmt.fps(), fmt.time_base).max(1);
                    // With --clip END, the last frame lasts until END at most.
                    let end_limit = opts
                        .clip
                        .and_then(|c| c.duration())
                        .map(|d| seconds_ts(d, fmt.time_base));
                    let tb = fmt.time_base;
                    Either::On(
                        InterpStage::new(
                            planner,
                            model,
                            colorimetry,
                            cfg.interpolate.guard.then(|| cfg.gate.clone()),
                            nominal,
                        )
                        .with_end_limit(end_limit)
                        .with_grid_origin(
                            (tb.numerator() as i64, tb.denominator() as i64),
                            (
                                timing.frame_rate.numerator() as i64,
                                timing.frame_rate.denominator() as i64,
                            ),
                        ),
                    )
                }
                _ => Either::Off(KeepTiming),
            };
        {
            let (state, m) = (state.clone(), meter("interp"));
            interp_handle = Some(spawn("interp", move || {
                run_stage(interp, g_rx.clone(), i_tx, "interp", &state, &m)
            })?);
        }
        let upscale: Either<UpscaleStage, KeepSize> = if size.is_some() {
            Either::On(UpscaleStage::new(
                models.upscaler.take(),
                out_w,
                out_h,
                colorimetry,
                cfg.upscale.reuse,
            ))
        } else {
            Either::Off(KeepSize)
        };
        {
            let (state, m) = (state.clone(), meter("upscale"));
            let rx = i_rx.clone();
            upscale_handle = Some(spawn("upscale", move || {
                run_stage(upscale, rx, u_tx, "upscale", &state, &m)
            })?);
        }
        {
            let r = i_rx;
            queues.push(("interp", Box::new(move || (r.len(), GATE_QUEUE))));
            let r = u_rx.clone();
            queues.push(("upscale", Box::new(move || (r.len(), UPSCALE_QUEUE))));
        }
        u_rx
    } else {
        dec_rx
    };
    let encode_handle = {
        let (state, m) = (state.clone(), meter("encode"));
        spawn("encode", move || encode_stage(muxer, enc_rx, &state, &m))?
    };

    let expected_out = fmt
        .expected_frames
        .map(|n| (n as f64 * timing.ratio).round() as u64);
    progress.start(expected_out, "frames");
    let enc_meter = meter("encode");
    loop {
        let all_done = decode_handle.is_finished()
            && encode_handle.is_finished()
            && gate_handle.as_ref().is_none_or(|h| h.is_finished())
            && interp_handle.as_ref().is_none_or(|h| h.is_finished())
            && upscale_handle.as_ref().is_none_or(|h| h.is_finished());
        if all_done {
            break;
        }
        thread::sleep(Duration::from_millis(100));
        let wall = started.elapsed().as_secs_f64().max(1e-9);
        let busy: Vec<String> = names
            .iter()
            .filter(|n| modelled || matches!(**n, "decode" | "encode"))
            .map(|n| format!("{n} {:.0}%", 100.0 * meter(n).busy().as_secs_f64() / wall))
            .collect();
        let fill: Vec<String> = queues
            .iter()
            .map(|(n, f)| {
                let (len, cap) = f();
                format!("{n}→{len}/{cap}")
            })
            .collect();
        progress.update(
            enc_meter.frames.load(Ordering::Relaxed),
            &format!("busy: {} | queues: {}", busy.join(" "), fill.join(" ")),
        );
    }
    let decode_stats = joined(decode_handle, "decode", &state);
    let gate = gate_handle.and_then(|h| joined(h, "gate", &state));
    let interp = interp_handle.and_then(|h| joined(h, "interp", &state));
    let upscale = upscale_handle.and_then(|h| joined(h, "upscale", &state));
    let summary = joined(encode_handle, "encode", &state);
    progress.finish();
    if let Some(err) = state.take_error() {
        return Err(err);
    }
    if state.aborted() {
        return Err(Error::Interrupted);
    }
    let (Some(decode_stats), Some(summary)) = (decode_stats, summary) else {
        return Err(Error::Interrupted);
    };
    if let Some(expected) = fmt.expected_duration_s {
        // Where decoding stopped, measured from the container's start and
        // from 0: containers disagree on whether their duration counts from
        // the first timestamp or from 0 (mp4/mkv whose video starts late),
        // and a late start is not a truncation. Short by both counts (more
        // than 1 s and 5%) is.
        let end = decode_stats.last_end_s;
        let short = |got: f64| expected - got > 1.0 && got < 0.95 * expected;
        let from_start = end - fmt.container_start_s;
        if opts.clip.is_none() && short(end) && short(from_start) {
            warnings.push(format!(
                "{}: input ended early: decoding stopped at {:.1} s of the {:.1} s the container states (file truncated?); the output holds what decoded",
                opts.input.display(),
                from_start.max(0.0),
                expected
            ));
            progress.warn(warnings.last().map(String::as_str).unwrap_or_default());
        }
    }
    if decode_stats.corrupt_packets > 0 {
        warnings.push(format!(
            "{}: skipped {} corrupt video packet(s)",
            opts.input.display(),
            decode_stats.corrupt_packets
        ));
        progress.warn(warnings.last().map(String::as_str).unwrap_or_default());
    }
    let wall_s = started.elapsed().as_secs_f64();
    let mut stages = BTreeMap::new();
    for n in names {
        if modelled || matches!(n, "decode" | "encode") {
            let m = meter(n);
            stages.insert(
                n.to_string(),
                StageReport {
                    busy_s: m.busy().as_secs_f64(),
                    frames: m.frames.load(Ordering::Relaxed),
                },
            );
        }
    }
    let (gate_counts, interp_counts, interp_model_s) = (
        gate.map(|g| g.counts),
        match &interp {
            Some(Either::On(s)) => Some(s.counts.clone()),
            _ => None,
        },
        match &interp {
            Some(Either::On(s)) => s.model_seconds(),
            _ => 0.0,
        },
    );
    let (upscale_counts, upscale_model_s) = match &upscale {
        Some(Either::On(s)) => (Some(s.counts.clone()), s.model_seconds()),
        _ => (None, 0.0),
    };
    Ok(Report {
        input: opts.input.clone(),
        frames_in: decode_stats.frames,
        frames_out: summary.frames,
        width: out_w,
        height: out_h,
        fps_out: timing.frame_rate.numerator() as f64
            / timing.frame_rate.denominator().max(1) as f64,
        speed_fps: summary.frames as f64 / wall_s.max(1e-9),
        output: summary,
        gate: gate_counts,
        interpolate: interp_counts,
        upscale: upscale_counts,
        stages,
        model_s: interp_model_s + upscale_model_s,
        wall_s,
        device: models.device.clone(),
        interpolator: interpolator_name,
        upscaler: upscaler_name,
        decode: decode_stats,
        warnings,
    })
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
    loop {
        if state.aborted() {
            return None;
        }
        let t = Instant::now();
        let next = decoder.next_frame();
        meter.add_busy(t.elapsed());
        match next {
            Ok(Some(frame)) => {
                meter.frames.fetch_add(1, Ordering::Relaxed);
                if tx.send(frame).is_err() {
                    state.fail(Error::Disconnected("decode"));
                    return None;
                }
            }
            Ok(None) => return Some(decoder.stats.clone()),
            Err(e) => {
                state.fail(e);
                return None;
            }
        }
    }
}

fn encode_stage(
    mut muxer: Muxer,
    rx: Receiver<Frame>,
    state: &RunState,
    meter: &StageMeter,
) -> Option<OutputSummary> {
    let mut last_pts: Option<i64> = None;
    for frame in rx.iter() {
        if state.aborted() {
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

/// The end-of-run summary for the terminal.
pub fn render_summary(r: &Report) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "done: {} frames in, {} frames out ({}x{} at {:.3} fps) in {:.1} s ({:.2} frames/s)",
        r.frames_in, r.frames_out, r.width, r.height, r.fps_out, r.wall_s, r.speed_fps
    );
    let _ = writeln!(
        s,
        "  output: {} ({:.1} MB, {} other stream(s) copied)",
        r.output.path.display(),
        r.output.bytes as f64 / 1e6,
        r.output.copied_streams
    );
    if let Some(g) = &r.gate {
        let _ = writeln!(
            s,
            "  gate: {} cut, {} hold, {} motion; {} distinct pictures",
            g.cut, g.hold, g.motion, g.distinct
        );
    }
    if let Some(i) = &r.interpolate {
        let _ = writeln!(
            s,
            "  interpolate ({}): {} made by the model ({} calls), {} copied ({} held), {} cut-side copies, {} rejected by the guard",
            r.interpolator.as_deref().unwrap_or("no model"),
            i.inferred,
            i.model_calls,
            i.copied,
            i.held,
            i.cut_copies,
            i.rejected
        );
    }
    if let Some(u) = &r.upscale {
        let _ = writeln!(
            s,
            "  upscale ({}): {} through the model, {} reused, {} resized only; {} tiles, {} tile-size fallbacks",
            r.upscaler.as_deref().unwrap_or("no model"),
            u.inferred,
            u.reused,
            u.resized_only,
            u.tiles,
            u.tile_fallbacks
        );
    }
    if r.model_s > 0.0 {
        let _ = writeln!(
            s,
            "  {}; model time {:.1} s ({:.0}% of wall)",
            r.device,
            r.model_s,
            100.0 * r.model_s / r.wall_s.max(1e-9)
        );
    }
    let busy: Vec<String> = r
        .stages
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {:.1} s ({:.0}%)",
                v.busy_s,
                100.0 * v.busy_s / r.wall_s.max(1e-9)
            )
        })
        .collect();
    let _ = writeln!(s, "  busy: {}", busy.join(", "));
    s
}
