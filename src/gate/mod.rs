//! Gating: label every transition between consecutive frames CUT (new
//! shot), HOLD (the same drawing, compression noise only) or MOTION, and
//! find each shot's drawing cadence.
//!
//! [`metrics`] turns two downscaled luma planes into raw scores; this module
//! turns scores into labels with thresholds from [`GateParams`] (set by the
//! presets and config files, never hard-coded in the decision).
//!
//! Rules (all thresholds are `GateParams` fields; scores are measured on a
//! thumbnail whose luma is on a 0..255 scale):
//! - HOLD: every 8x8 window of the thumbnail is nearly unchanged
//!   (`block_max <= hold_block_max`) and so is the whole (`mad <=
//!   hold_mad`), both against the previous frame and against the first
//!   frame of the run. Using the per-window maximum means a small mouth
//!   movement in a still shot is MOTION, while codec noise (small
//!   everywhere) is not; checking the run's first frame means a very slow
//!   fade or pan, whose frame-to-frame steps are tiny, is never frozen into
//!   one reused picture.
//! - CUT, hard: the picture is structurally different (`ssim <= cut_ssim`),
//!   the level change is large (`mad >= cut_mad`), and it stands out against
//!   the motion of the shot so far (`mad >= cut_contrast` x the mean `mad`
//!   of the last `cut_window` MOTION transitions), so fast action and pans
//!   are not taken for cuts. A fade changes a little every frame and never
//!   passes; a single-frame jump does.
//! - CUT, after a black gap: when at least `black_gap_frames` identical
//!   black frames (mean luma <= `black_level`) are followed by a change,
//!   the change starts a new shot (a fade-in after a blackout). A quick dip
//!   through black inside a fade is shorter and stays a fade.
//! - everything else is MOTION.
//!
//! The luma histogram distance and the SSIM structure term are computed and
//! reported but not used: measured on the test clips, flat regions keep the
//! structure term near 1 across real cuts, and a fade through black moves
//! the whole histogram by a bin per frame.

pub mod metrics;

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

pub use metrics::{compare, thumbnail, Luma, Scores, Thumb};

/// Label of one transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    Cut,
    Hold,
    Motion,
}

/// Gate thresholds. Scores are on thumbnails with luma on a 0..255 scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateParams {
    /// HOLD: largest allowed mean absolute difference of any 8x8 window (0..255 levels).
    pub hold_block_max: f32,
    /// HOLD: largest allowed mean absolute difference over the whole picture (0..255 levels).
    pub hold_mad: f32,
    /// CUT: largest windowed SSIM (-1..1) of a cut.
    pub cut_ssim: f32,
    /// CUT: smallest mean absolute difference (0..255 levels) of a cut.
    pub cut_mad: f32,
    /// CUT: the cut's mean absolute difference must be at least this many
    /// times the mean of the shot's recent MOTION transitions.
    pub cut_contrast: f32,
    /// CUT: how many recent MOTION transitions the contrast is measured against.
    pub cut_window: usize,
    /// Black gap: a frame whose mean luma is at most this (0..255 code values; limited-range black is 16) is black.
    pub black_level: f32,
    /// Black gap: identical black frames needed before a change counts as a new shot.
    pub black_gap_frames: u64,
}

impl Default for GateParams {
    /// Defaults chosen from the score distributions of the test clips
    /// (README, "Gating"): real cuts measured SSIM 0.19-0.42 with MAD
    /// 30-78; the strongest non-cut motion MAD 21.6 at SSIM 0.53; held
    /// drawings block_max <= 3.7; codec noise and fades stay far below.
    fn default() -> Self {
        GateParams {
            hold_block_max: 4.0,
            hold_mad: 1.0,
            cut_ssim: 0.5,
            cut_mad: 25.0,
            cut_contrast: 2.0,
            cut_window: 6,
            black_level: 24.0,
            black_gap_frames: 12,
        }
    }
}

impl GateParams {
    /// Range checks; the error names the key and the allowed range.
    pub fn validate(&self) -> Result<(), String> {
        let check = |name: &str, v: f32, lo: f32, hi: f32| {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!(
                    "gate.{name} = {v} is out of range (expected {lo} to {hi})"
                ))
            }
        };
        check("hold_block_max", self.hold_block_max, 0.0, 255.0)?;
        check("hold_mad", self.hold_mad, 0.0, 255.0)?;
        check("cut_ssim", self.cut_ssim, -1.0, 1.0)?;
        check("cut_mad", self.cut_mad, 0.0, 255.0)?;
        check("cut_contrast", self.cut_contrast, 1.0, 100.0)?;
        check("black_level", self.black_level, 0.0, 255.0)?;
        if !(1..=120).contains(&self.cut_window) {
            return Err(format!(
                "gate.cut_window = {} is out of range (expected 1 to 120)",
                self.cut_window
            ));
        }
        if !(1..=100_000).contains(&self.black_gap_frames) {
            return Err(format!(
                "gate.black_gap_frames = {} is out of range (expected 1 to 100000)",
                self.black_gap_frames
            ));
        }
        Ok(())
    }
}

/// One labelled transition `from → to` (consecutive frame indices).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Transition {
    pub from: u64,
    pub to: u64,
    pub class: Class,
    #[serde(flatten)]
    pub scores: Scores,
    /// For HOLD: the first frame of the run of identical frames `to` belongs to.
    pub repeat_of: Option<u64>,
}

/// Streaming classifier: push one thumbnail per frame, in order. Labels
/// come out one transition late (the cut test looks at its neighbours).
pub struct Gate {
    params: GateParams,
    prev: Option<Thumb>,
    next_index: u64,
    /// Transitions scored but not yet labelled, with the earlier frame's
    /// mean luma and the later frame's thumbnail.
    waiting: VecDeque<(u64, u64, Scores, f32, Thumb)>,
    /// Thumbnail of the first frame of the current run of identical frames.
    run_thumb: Option<Thumb>,
    /// MAD of the shot's recent MOTION transitions.
    recent: VecDeque<f32>,
    run_start: u64,
    /// Length (frames) of the current run of identical black frames.
    black_run: u64,
}

impl Gate {
    pub fn new(params: GateParams) -> Gate {
        Gate {
            params,
            prev: None,
            next_index: 0,
            waiting: VecDeque::new(),
            recent: VecDeque::new(),
            run_start: 0,
            black_run: 0,
            run_thumb: None,
        }
    }

    /// Frames of delay between pushing a frame and getting its label.
    pub fn lookahead(&self) -> usize {
        1
    }

    pub fn params(&self) -> &GateParams {
        &self.params
    }

    /// Push the next frame's thumbnail; returns transitions now labelled.
    pub fn push(&mut self, thumb: Thumb) -> Vec<Transition> {
        let index = self.next_index;
        self.next_index += 1;
        let mut out = Vec::new();
        if let Some(prev) = self.prev.take() {
            let scores = compare(&prev, &thumb);
            if self.run_thumb.is_none() {
                self.run_thumb = Some(prev.clone());
            }
            self.waiting
                .push_back((index - 1, index, scores, prev.mean(), thumb.clone()));
            if self.waiting.len() > 1 {
                if let Some(t) = self.label_front() {
                    out.push(t);
                }
            }
        }
        self.prev = Some(thumb);
        out
    }

    /// End of input: label what is left.
    pub fn finish(&mut self) -> Vec<Transition> {
        let mut out = Vec::new();
        while let Some(t) = self.label_front() {
            out.push(t);
        }
        out
    }

    fn label_front(&mut self) -> Option<Transition> {
        let (from, to, s, from_mean, to_thumb) = self.waiting.pop_front()?;
        let p = &self.params;
        let close = |x: &Scores| x.block_max <= p.hold_block_max && x.mad <= p.hold_mad;
        let hold = close(&s)
            && match (self.run_start == from, self.run_thumb.as_ref()) {
                // `from` starts the run: the check above is the run check.
                (true, _) | (_, None) => true,
                (false, Some(first)) => close(&compare(first, &to_thumb)),
            };
        // Frames in the current identical-black run, counting `from`.
        let black_from = from_mean <= p.black_level;
        let black_frames = if black_from { self.black_run + 1 } else { 0 };
        let class = if s.is_incomparable() {
            Class::Cut
        } else if hold {
            Class::Hold
        } else {
            let baseline = if self.recent.is_empty() {
                0.0
            } else {
                self.recent.iter().sum::<f32>() / self.recent.len() as f32
            };
            let hard =
                s.ssim <= p.cut_ssim && s.mad >= p.cut_mad && s.mad >= p.cut_contrast * baseline;
            let after_black = black_frames >= p.black_gap_frames;
            if hard || after_black {
                Class::Cut
            } else {
                Class::Motion
            }
        };
        self.black_run = match class {
            Class::Hold if black_from => black_frames,
            _ => 0,
        };
        match class {
            // A new shot: the motion baseline starts again.
            Class::Cut => self.recent.clear(),
            Class::Motion => {
                self.recent.push_back(s.mad);
                if self.recent.len() > p.cut_window {
                    self.recent.pop_front();
                }
            }
            Class::Hold => {}
        }
        let repeat_of = if class == Class::Hold {
            Some(self.run_start)
        } else {
            self.run_start = to;
            self.run_thumb = Some(to_thumb);
            None
        };
        Some(Transition {
            from,
            to,
            class,
            scores: s,
            repeat_of,
        })
    }
}

/// Drawing cadence of a shot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    /// A new drawing every frame.
    Ones,
    /// Each drawing shown for 2 frames.
    Twos,
    /// Each drawing shown for 3 frames.
    Threes,
    /// Each drawing shown for 4 or more frames (still cadence, not a hold).
    Fours,
    /// No single cadence dominates.
    Mixed,
    /// No new drawing at all in the shot.
    Still,
}

/// One shot (between cuts) and its cadence.
#[derive(Clone, Debug, Serialize)]
pub struct ShotCadence {
    /// First frame of the shot.
    pub start: u64,
    /// One past its last frame.
    pub end: u64,
    pub cadence: Cadence,
    /// Distinct drawings in the shot.
    pub distinct: u64,
    /// Runs of identical frames longer than the cadence limit (real holds).
    pub holds: u64,
}

/// Whether a run of `len_frames` identical frames is drawing cadence (may be
/// smoothed across) rather than a real hold (stays held).
pub fn is_cadence_run(len_frames: u64, fps: f64, max_cadence_hold_s: f64) -> bool {
    fps > 0.0 && (len_frames as f64) / fps <= max_cadence_hold_s + 1e-9
}

/// Shots and their cadence from the labelled transitions of frames
/// `0..frames`.
pub fn analyse_cadence(
    transitions: &[Transition],
    frames: u64,
    fps: f64,
    max_cadence_hold_s: f64,
) -> Vec<ShotCadence> {
    // Run lengths of identical frames, split into shots at cuts.
    let mut shots = Vec::new();
    let mut start = 0u64;
    let mut runs: Vec<u64> = Vec::new();
    let mut run = 1u64;
    let mut close = |start: u64, end: u64, runs: &mut Vec<u64>| {
        if end <= start {
            return;
        }
        let cadence_runs: Vec<u64> = runs
            .iter()
            .copied()
            .filter(|&r| is_cadence_run(r, fps, max_cadence_hold_s))
            .collect();
        let holds = (runs.len() - cadence_runs.len()) as u64;
        let mut hist: BTreeMap<u64, u64> = BTreeMap::new();
        for &r in &cadence_runs {
            *hist.entry(r.min(4)).or_default() += 1;
        }
        let total: u64 = hist.values().sum();
        let cadence = if runs.len() <= 1 {
            Cadence::Still
        } else {
            // The run length covering most frames, if it covers >= 60% of them.
            let frames_by_len: Vec<(u64, u64)> =
                hist.iter().map(|(&len, &n)| (len, len * n)).collect();
            let covered: u64 = frames_by_len.iter().map(|(_, f)| f).sum();
            match frames_by_len.iter().max_by_key(|(_, f)| *f) {
                Some(&(len, f)) if total > 0 && f * 10 >= covered * 6 => match len {
                    1 => Cadence::Ones,
                    2 => Cadence::Twos,
                    3 => Cadence::Threes,
                    _ => Cadence::Fours,
                },
                Some(_) => Cadence::Mixed,
                None => Cadence::Still,
            }
        };
        shots.push(ShotCadence {
            start,
            end,
            cadence,
            distinct: runs.len() as u64,
            holds,
        });
        runs.clear();
    };
    for t in transitions {
        match t.class {
            Class::Hold => run += 1,
            Class::Motion => {
                runs.push(run);
                run = 1;
            }
            Class::Cut => {
                runs.push(run);
                run = 1;
                close(start, t.to, &mut runs);
                start = t.to;
            }
        }
    }
    if frames > start {
        runs.push(run);
        close(start, frames, &mut runs);
    }
    shots
}

/// What `info --gate` reports.
#[derive(Clone, Debug, Serialize)]
pub struct GateSummary {
    pub frames: u64,
    /// cut / hold / motion transition counts.
    pub counts: BTreeMap<String, u64>,
    pub percent: BTreeMap<String, f64>,
    /// First frame of each new shot (0-based).
    pub cuts: Vec<u64>,
    /// Presentation time (s, from the start of the analysed range) of each cut.
    pub cut_times_s: Vec<f64>,
    /// Distinct pictures (frames that are not a HOLD of the previous one).
    pub distinct_pictures: u64,
    /// Run length (frames a drawing is shown) → number of runs.
    pub hold_runs: BTreeMap<u64, u64>,
    pub shots: Vec<ShotCadence>,
    pub params: GateParams,
    pub transitions: Vec<Transition>,
}

/// Build the summary; `times_s[i]` is frame i's time.
pub fn summarise(
    transitions: Vec<Transition>,
    times_s: &[f64],
    fps: f64,
    max_cadence_hold_s: f64,
    params: GateParams,
) -> GateSummary {
    let frames = times_s.len() as u64;
    let mut counts: BTreeMap<String, u64> = ["cut", "hold", "motion"]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    for t in &transitions {
        let key = match t.class {
            Class::Cut => "cut",
            Class::Hold => "hold",
            Class::Motion => "motion",
        };
        *counts.entry(key.into()).or_default() += 1;
    }
    let total = transitions.len().max(1) as f64;
    let percent = counts
        .iter()
        .map(|(k, v)| (k.clone(), 100.0 * *v as f64 / total))
        .collect();
    let cuts: Vec<u64> = transitions
        .iter()
        .filter(|t| t.class == Class::Cut)
        .map(|t| t.to)
        .collect();
    let cut_times_s = cuts
        .iter()
        .map(|&c| times_s.get(c as usize).copied().unwrap_or(0.0))
        .collect();
    let mut hold_runs: BTreeMap<u64, u64> = BTreeMap::new();
    let mut run = 1u64;
    for t in &transitions {
        if t.class == Class::Hold {
            run += 1;
        } else {
            *hold_runs.entry(run).or_default() += 1;
            run = 1;
        }
    }
    if frames > 0 {
        *hold_runs.entry(run).or_default() += 1;
    }
    let distinct_pictures = frames.saturating_sub(counts.get("hold").copied().unwrap_or(0));
    let shots = analyse_cadence(&transitions, frames, fps, max_cadence_hold_s);
    GateSummary {
        frames,
        counts,
        percent,
        cuts,
        cut_times_s,
        distinct_pictures,
        hold_runs,
        shots,
        params,
        transitions,
    }
}

/// Human-readable `info --gate`.
pub fn render_summary(g: &GateSummary) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let c = |k: &str| g.counts.get(k).copied().unwrap_or(0);
    let p = |k: &str| g.percent.get(k).copied().unwrap_or(0.0);
    let _ = writeln!(
        s,
        "gate: {} frames, {} distinct pictures",
        g.frames, g.distinct_pictures
    );
    let _ = writeln!(
        s,
        "  transitions: {} cut ({:.1}%), {} hold ({:.1}%), {} motion ({:.1}%)",
        c("cut"),
        p("cut"),
        c("hold"),
        p("hold"),
        c("motion"),
        p("motion")
    );
    let cuts: Vec<String> = g
        .cuts
        .iter()
        .zip(&g.cut_times_s)
        .map(|(f, t)| format!("{f} ({})", crate::clip::format_time(*t)))
        .collect();
    let _ = writeln!(
        s,
        "  cuts at frame: {}",
        if cuts.is_empty() {
            "none".into()
        } else {
            cuts.join(", ")
        }
    );
    let runs: Vec<String> = g
        .hold_runs
        .iter()
        .map(|(len, n)| format!("{len}f×{n}"))
        .collect();
    let _ = writeln!(
        s,
        "  drawing runs (frames shown × count): {}",
        runs.join(" ")
    );
    for shot in &g.shots {
        let _ = writeln!(
            s,
            "  shot {}-{}: {:?} cadence, {} drawings, {} long hold(s)",
            shot.start,
            shot.end.saturating_sub(1),
            shot.cadence,
            shot.distinct,
            shot.holds
        );
    }
    s
}

#[cfg(test)]
mod tests;
