//! The end-of-run figures: [`Report`] (the `--report` JSON, whose field
//! names are its stable keys) and the summary printed after a run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::gate::GateCounts;
use super::interp::InterpCounts;
use super::upscale::UpscaleCounts;
use crate::media::decode::DecodeStats;
use crate::media::mux::OutputSummary;
use crate::model::RunModels;

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
    /// A run done in chunks ([`crate::chunk`]): how many, and how many of
    /// them an earlier, interrupted run had finished already.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<ChunkCounts>,
}

/// `chunks.*` of the report.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ChunkCounts {
    pub total: u64,
    /// Finished by an earlier run and kept.
    pub reused: u64,
    /// Done by this run.
    pub done: u64,
}

/// A stage's part of the report, handed back by its thread when the run
/// ends cleanly and folded in by [`Report::new`] (for a [`super::Stage`],
/// its [`super::Stage::report`]).
pub(crate) type Outcome = Box<dyn FnOnce(&mut Report, &mut RunModels) + Send>;

/// What the stage threads handed back at the end of a clean run.
pub(crate) struct Finished {
    /// Each stage's outcome, in pipeline order.
    pub(crate) outcomes: Vec<Outcome>,
    /// Each stage's busy time and item count, under its name.
    pub(crate) stages: BTreeMap<String, StageReport>,
}

fn add_to<T: Clone>(into: &mut Option<T>, from: &Option<T>, add: impl Fn(&mut T, &T)) {
    match (into.as_mut(), from) {
        (Some(a), Some(b)) => add(a, b),
        (None, Some(b)) => *into = Some(b.clone()),
        _ => {}
    }
}

impl Report {
    /// The figures of a finished run: `settled` (the figures known before
    /// its first frame: size, rate, device, models, warnings, wall time)
    /// with every stage's outcome folded in; and the run's models back, for
    /// the next chunk of a plan to reuse. `lookahead`: the run is a chunk
    /// whose last decoded frame is the next chunk's first, and so the next
    /// chunk's to count.
    pub(crate) fn new(settled: Report, done: Finished, lookahead: bool) -> (Report, RunModels) {
        let mut models = RunModels {
            interpolator: None,
            upscaler: None,
            device: settled.device.clone(),
        };
        let mut report = Report {
            stages: done.stages,
            ..settled
        };
        for outcome in done.outcomes {
            outcome(&mut report, &mut models);
        }
        if lookahead {
            report.decode.frames = report.decode.frames.saturating_sub(1);
        }
        report.frames_in = report.decode.frames;
        report.frames_out = report.output.frames;
        report.speed_fps = report.output.frames as f64 / report.wall_s.max(1e-9);
        (report, models)
    }

    /// The report of a run whose every chunk was done before: only the
    /// join's figures.
    pub fn joined(input: &std::path::Path, output: OutputSummary) -> Report {
        Report {
            frames_out: output.frames,
            output,
            ..Report::blank(input)
        }
    }

    /// A report with nothing in it yet but the input.
    pub(crate) fn blank(input: &std::path::Path) -> Report {
        Report {
            input: input.to_path_buf(),
            frames_in: 0,
            frames_out: 0,
            width: 0,
            height: 0,
            fps_out: 0.0,
            output: OutputSummary::default(),
            gate: None,
            interpolate: None,
            upscale: None,
            stages: BTreeMap::new(),
            model_s: 0.0,
            wall_s: 0.0,
            speed_fps: 0.0,
            device: String::new(),
            interpolator: None,
            upscaler: None,
            decode: DecodeStats::default(),
            warnings: Vec::new(),
            chunks: None,
        }
    }

    /// Fold the report of the run's next chunk into this one.
    pub fn absorb(&mut self, o: &Report) {
        self.frames_in += o.frames_in;
        self.frames_out += o.frames_out;
        add_to(&mut self.gate, &o.gate, GateCounts::add);
        add_to(&mut self.interpolate, &o.interpolate, InterpCounts::add);
        add_to(&mut self.upscale, &o.upscale, UpscaleCounts::add);
        for (name, s) in &o.stages {
            let e = self.stages.entry(name.clone()).or_insert(StageReport {
                busy_s: 0.0,
                frames: 0,
            });
            e.busy_s += s.busy_s;
            e.frames += s.frames;
        }
        self.model_s += o.model_s;
        self.wall_s += o.wall_s;
        self.decode.frames += o.decode.frames;
        // On the input's own timeline: the run's end is the latest chunk end.
        self.decode.last_end_s = self.decode.last_end_s.max(o.decode.last_end_s);
        if self.decode.read_error.is_none() {
            self.decode.read_error = o.decode.read_error.clone();
        }
        self.decode.corrupt_packets += o.decode.corrupt_packets;
        self.decode.pts_repaired += o.decode.pts_repaired;
        self.decode.resized_frames += o.decode.resized_frames;
        if self.decode.fields.is_none() {
            self.decode.fields = o.decode.fields.clone();
        } else if let (Some(mine), Some(theirs)) = (self.decode.fields.as_mut(), &o.decode.fields) {
            mine.counts.add(&theirs.counts);
        }
        for w in &o.warnings {
            if !self.warnings.contains(w) {
                self.warnings.push(w.clone());
            }
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
        "  output: {} ({:.1} MB, {} other stream(s) kept)",
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
