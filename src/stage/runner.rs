//! `enhance`: validate everything, then run the stages.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender};
use serde::Serialize;

use super::{RunState, StageMeter, DECODE_QUEUE};
use crate::clip::ClipRange;
use crate::config::{Config, FpsSetting};
use crate::error::{Error, Result};
use crate::media::decode::{DecodeStats, VideoDecoder};
use crate::media::encode::EncodeSettings;
use crate::media::mux::{check_output, Muxer, OutputPlan, OutputSummary};
use crate::picture::Frame;
use crate::progress::Progress;

/// Everything `enhance` needs, already resolved and validated by the config.
#[derive(Clone, Debug)]
pub struct EnhanceOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    pub overwrite: bool,
    pub clip: Option<ClipRange>,
    pub config: Config,
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
    pub wall_s: f64,
    pub output_fps: f64,
    pub device: String,
    pub model_s: f64,
    pub stages: BTreeMap<String, StageReport>,
    pub decode: DecodeStats,
    pub warnings: Vec<String>,
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
    if cfg.fps() != FpsSetting::None || cfg.upscales() {
        return Err(Error::Config(
            "interpolation and upscaling are not in this build yet: use --preset reencode (or --fps none --scale 1)".into(),
        ));
    }
    let encode = EncodeSettings {
        codec: cfg.encode.codec,
        crf: cfg.encode.effective_crf(),
        preset: cfg.encode.effective_preset(),
    };
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
    let muxer = Muxer::create(&OutputPlan {
        target: &opts.output,
        input: &opts.input,
        video_stream_index: fmt.stream_index,
        width: fmt.width,
        height: fmt.height,
        chroma: fmt.chroma,
        depth: fmt.depth,
        colors: fmt.colors,
        sample_aspect_ratio: fmt.sample_aspect_ratio,
        time_base: fmt.time_base,
        frame_rate: fmt.frame_rate,
        settings: &encode,
        origin_s: fmt.origin_s,
        end_s: opts
            .clip
            .and_then(|c| c.end)
            .map(|e| e + (fmt.origin_s - opts.clip.map_or(0.0, |c| c.start))),
    })?;
    warnings.extend(muxer.warnings.iter().cloned());
    for w in &warnings {
        progress.warn(w);
    }

    // ---- run
    let state = Arc::new(RunState::new(abort));
    let decode_meter = Arc::new(StageMeter::default());
    let encode_meter = Arc::new(StageMeter::default());
    let (tx, rx) = bounded::<Frame>(DECODE_QUEUE);

    let decode_handle = {
        let state = state.clone();
        let meter = decode_meter.clone();
        thread::Builder::new()
            .name("decode".into())
            .spawn(move || decode_stage(decoder, tx, &state, &meter))
            .map_err(|e| Error::Config(format!("cannot start decode thread: {e}")))?
    };
    let encode_handle = {
        let state = state.clone();
        let meter = encode_meter.clone();
        thread::Builder::new()
            .name("encode".into())
            .spawn(move || encode_stage(muxer, rx, &state, &meter))
            .map_err(|e| Error::Config(format!("cannot start encode thread: {e}")))?
    };

    progress.start(fmt.expected_frames, "frames");
    while !(decode_handle.is_finished() && encode_handle.is_finished()) {
        thread::sleep(Duration::from_millis(100));
        let wall = started.elapsed().as_secs_f64().max(1e-9);
        let status = format!(
            "decode {:>3.0}% busy | encode {:>3.0}% busy",
            100.0 * decode_meter.busy().as_secs_f64() / wall,
            100.0 * encode_meter.busy().as_secs_f64() / wall,
        );
        progress.update(encode_meter.frames.load(Ordering::Relaxed), &status);
    }
    let decode_stats = decode_handle.join().unwrap_or_else(|_| {
        state.fail(Error::Config("decode thread panicked".into()));
        None
    });
    let summary = encode_handle.join().unwrap_or_else(|_| {
        state.fail(Error::Config("encode thread panicked".into()));
        None
    });
    progress.finish();
    if let Some(err) = state.take_error() {
        return Err(err);
    }
    let (Some(decode_stats), Some(summary)) = (decode_stats, summary) else {
        return Err(Error::Interrupted);
    };
    if state.aborted() {
        return Err(Error::Interrupted);
    }
    if let Some(expected) = fmt.expected_duration_s {
        let got = decode_stats.frames as f64 / fmt.fps();
        if opts.clip.is_none() && expected - got > 1.0 && got < 0.95 * expected {
            warnings.push(format!(
                "{}: input ended early: decoded {:.1} s of the {:.1} s the container states (file truncated?); the output holds what decoded",
                opts.input.display(),
                got,
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
    stages.insert(
        "decode".to_string(),
        StageReport {
            busy_s: decode_meter.busy().as_secs_f64(),
            frames: decode_meter.frames.load(Ordering::Relaxed),
        },
    );
    stages.insert(
        "encode".to_string(),
        StageReport {
            busy_s: encode_meter.busy().as_secs_f64(),
            frames: encode_meter.frames.load(Ordering::Relaxed),
        },
    );
    Ok(Report {
        input: opts.input.clone(),
        frames_in: decode_stats.frames,
        frames_out: summary.frames,
        output_fps: summary.frames as f64 / wall_s.max(1e-9),
        output: summary,
        wall_s,
        device: "none".into(),
        model_s: 0.0,
        stages,
        decode: decode_stats,
        warnings,
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
                state.fail(Error::Config(format!(
                    "internal error: frame {} reached the encoder out of order (pts {} after {})",
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
