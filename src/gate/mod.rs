//! Gating: label every transition between consecutive frames CUT (new
//! shot), HOLD (the same drawing, compression noise only), MOTION, or
//! FLASH (into, inside or out of a 1-3 frame flash within a shot), and find
//! each shot's drawing cadence.
//!
//! [`metrics`] turns two thumbnails (downscaled luma, plus a joint
//! Y/Cb/Cr histogram) into raw scores and [`fine`] compares full-resolution
//! luma; this module turns scores into labels with thresholds from
//! [`GateParams`] (set by the presets and config files, never hard-coded in
//! the decision). Labels come out [`LOOKAHEAD`] transitions late: a cut is
//! judged against the transitions on both sides of it.
//!
//! Rules (thresholds are `GateParams` fields; luma scores on a 0..255 scale):
//! - **HOLD** needs three things. (1) On the thumbnail every 8x8 window is
//!   nearly unchanged (`block_max <= hold_block_max`, `mad <= hold_mad`),
//!   against the previous frame and against the first frame of the run, so
//!   a slow fade or pan is never frozen into one reused picture. (2) At full
//!   resolution no more than `hold_fine_blocks` 4x4 blocks changed in a way
//!   codec noise does not explain (module [`fine`]: coherent signed change
//!   above `hold_fine_levels`, plus `hold_fine_texture` times the texture
//!   both frames share, with a changed neighbour), against the run's first
//!   frame: the picture a HOLD reuses. Thin rain, snow,
//!   sparkles and blinks that the thumbnail averages away are MOTION; grain,
//!   ringing along lines and sub-pixel drift are not. Figures in [`fine`].
//! - **CUT**, hard: the whole picture is replaced (SSIM `<= cut_ssim` and at
//!   least `cut_changed` of the 8x8 windows changed) and the change stands
//!   out against the transitions around it in the same shot (the nearest
//!   `cut_neighbours` on each side that are not themselves such breaks; the
//!   earlier side stops at the previous cut, the later one at the next
//!   break). Evidence is either a jump of the
//!   colour distribution (`color >= cut_color` and `>= cut_color_contrast`
//!   x the neighbours' mean), or a jump of level (`mad >= cut_mad` and `>=
//!   cut_contrast` x the neighbours' mean, only when there is a calm
//!   neighbour to compare with). Motion, even fast, keeps the picture's
//!   colours and is as large as its neighbours; a cut between two shots of
//!   one scene with similar luma still changes hue or stands out.
//! - **CUT**, by line art (module [`edges`]): the chance-normalised edge
//!   change of the transition is at least `cut_edge` and `cut_edge_isolation`
//!   times the largest within `cut_edge_window` transitions on either side.
//!   A cut between two camera set-ups in one flat-coloured room keeps its
//!   colours and leaves a fifth of the windows nearly unchanged (the wall),
//!   so the rule above misses it; its lines are new. Shakes, pull-backs,
//!   punches, wipes and ghosted blends change as many lines, but over
//!   several transitions, not one. Not subject to the flash rule: an A-B-A
//!   set-up returns to the first shot's picture within frames, and is
//!   still two cuts.
//! - **CUT**, after a black gap: after at least `black_gap_frames` identical
//!   black frames (mean luma `<= black_level`), a change that is abrupt
//!   (`cut_changed` of the windows at once, or the colour distribution
//!   jumping by `2 x cut_color`) starts a new shot. A fade-in, whose colours
//!   emerge a little per frame, stays a fade.
//! - **FLASH**: when a would-be cut is followed, within `flash_frames`
//!   frames, by a picture that is no break from the frame before it (a
//!   white, black or tinted frame inside one shot), the transitions into,
//!   inside and out of it are FLASH: no cut is counted and nothing is
//!   interpolated across them.
//! - everything else is MOTION.
//!
//! Measured on the labelled clips of `../shared/media` (README, "Gating"):
//! real cuts have SSIM 0.10-0.52 with 84-100% of windows changed and a
//! colour distance of 0.17-1.0; the closest non-cuts are camera shakes
//! (SSIM 0.61-0.67 but at most 73% of windows changed) and AMV zoom/glow
//! bursts (up to 94% changed but colour distance at most 0.17 and no spike
//! against their neighbours). Varying `cut_ssim` 0.6-0.7, `cut_color`
//! 0.12-0.2 or `cut_color_contrast` 1.5-3 changes none of the labels there.

pub mod edges;
pub mod fine;
pub mod metrics;

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use fine::Fine;
pub use metrics::{compare, thumbnail, thumbnail_of, Luma, Scores, Thumb};

/// Label of one transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// A new shot starts at the later frame.
    Cut,
    /// The later frame shows the same picture as the earlier one.
    Hold,
    /// The drawing changed within the same shot.
    Motion,
    /// Into, inside or out of a flash frame (1-3 frames inside a shot).
    /// Not a cut; never interpolated across.
    Flash,
}

impl Class {
    /// Label of the transition a→c when the frame b between them is dropped
    /// (a→b labelled `self`, b→c labelled `other`): a cut on either side is a
    /// cut, then a flash; two holds are a hold; anything else is motion.
    pub fn merge(self, other: Class) -> Class {
        match (self, other) {
            (Class::Cut, _) | (_, Class::Cut) => Class::Cut,
            (Class::Flash, _) | (_, Class::Flash) => Class::Flash,
            (Class::Hold, Class::Hold) => Class::Hold,
            _ => Class::Motion,
        }
    }

    /// Whether frames on the two sides must never be blended (cut or flash).
    pub fn is_break(self) -> bool {
        matches!(self, Class::Cut | Class::Flash)
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::Cut => "cut",
            Class::Hold => "hold",
            Class::Motion => "motion",
            Class::Flash => "flash",
        }
    }
}

/// Why a transition was labelled a CUT or FLASH (`info --gate`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The pictures cannot be compared (size change, empty frame).
    Incomparable,
    /// Structural break with a jump of the colour distribution.
    ColorJump,
    /// Structural break with a jump of the luma level.
    LevelJump,
    /// An abrupt change after a run of black frames.
    BlackGap,
    /// New line art that stands alone in time (a cut inside one room).
    EdgeJump,
    /// A short excursion that returns to the shot.
    Flash,
}

/// What the cut rule saw: the rule that fired and the neighbours' means it
/// compared against.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Evidence {
    pub rule: Rule,
    /// Mean `mad` of the calm neighbours (None: no calm neighbour).
    pub neighbours_mad: Option<f32>,
    /// Mean `color` of the calm neighbours.
    pub neighbours_color: Option<f32>,
}

impl Evidence {
    /// A rule that fired without comparing against neighbours.
    fn alone(rule: Rule) -> Evidence {
        Evidence {
            rule,
            neighbours_mad: None,
            neighbours_color: None,
        }
    }
}

/// Gate thresholds. Luma scores are on a 0..255 scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateParams {
    /// HOLD: largest allowed mean absolute difference of any 8x8 thumbnail window (0..255 levels).
    pub hold_block_max: f32,
    /// HOLD: largest allowed mean absolute difference over the whole thumbnail (0..255 levels).
    pub hold_mad: f32,
    /// HOLD, full resolution: a 4x4 block's signed mean change must stay within this many levels (0..255).
    pub hold_fine_levels: f32,
    /// HOLD, full resolution: extra allowance per level of texture both frames share in the block.
    pub hold_fine_texture: f32,
    /// HOLD, full resolution: most changed blocks allowed (0: none).
    pub hold_fine_blocks: u32,
    /// CUT: detect cuts at all (false: every change is MOTION or FLASH; for tests of the guard).
    pub detect_cuts: bool,
    /// CUT: largest windowed thumbnail SSIM (-1..1) of a cut.
    pub cut_ssim: f32,
    /// CUT: smallest fraction (0..1) of 8x8 thumbnail windows that changed.
    pub cut_changed: f32,
    /// CUT: smallest colour-histogram distance (0..1) for the colour evidence.
    pub cut_color: f32,
    /// CUT: the colour distance must be this many times the neighbours' mean.
    pub cut_color_contrast: f32,
    /// CUT: smallest mean absolute luma difference (0..255 levels) for the level evidence.
    pub cut_mad: f32,
    /// CUT: the level change must be this many times the neighbours' mean.
    pub cut_contrast: f32,
    /// CUT: transitions looked at on each side.
    pub cut_neighbours: usize,
    /// CUT by line art: smallest chance-normalised edge change (0..~1.5;
    /// 0 switches the rule off).
    pub cut_edge: f32,
    /// CUT by line art: the edge change must be this many times the largest
    /// of the transitions within `cut_edge_window` on each side.
    pub cut_edge_isolation: f32,
    /// CUT by line art: transitions looked at on each side.
    pub cut_edge_window: usize,
    /// FLASH: longest flash, in frames (0: no flash rule).
    pub flash_frames: usize,
    /// Black gap: a frame whose mean luma is at most this (0..255 code values; limited-range black is 16) is black.
    pub black_level: f32,
    /// Black gap: identical black frames needed before an abrupt change counts as a new shot.
    pub black_gap_frames: u64,
}

/// Smallest neighbourhood edge change the line-art rule divides by: still
/// shots have none, and a cut in one must still be a clear jump.
pub const EDGE_FLOOR: f32 = 0.05;

/// Most transitions a label waits for: `cut_neighbours` and `flash_frames`
/// are capped so that labels never wait longer than this.
pub const LOOKAHEAD: usize = 4;
/// Largest accepted `gate.hold_fine_blocks`: more blocks than a 4K frame has.
const MAX_FINE_BLOCKS: u64 = 1_000_000;

impl Default for GateParams {
    /// Defaults chosen from the score distributions of the labelled clips
    /// (module doc and README, "Gating"), not clip by clip.
    fn default() -> Self {
        GateParams {
            hold_block_max: 8.0,
            hold_mad: 1.0,
            hold_fine_levels: 5.0,
            hold_fine_texture: 0.5,
            hold_fine_blocks: 4,
            detect_cuts: true,
            cut_ssim: 0.65,
            cut_changed: 0.8,
            cut_color: 0.15,
            cut_color_contrast: 2.0,
            cut_mad: 25.0,
            cut_contrast: 2.5,
            cut_neighbours: 2,
            cut_edge: 0.5,
            cut_edge_isolation: 2.5,
            cut_edge_window: 4,
            flash_frames: 3,
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
        let count = |name: &str, v: u64, range: std::ops::RangeInclusive<u64>| {
            if range.contains(&v) {
                Ok(())
            } else {
                let (lo, hi) = (range.start(), range.end());
                Err(format!(
                    "gate.{name} = {v} is out of range (expected {lo} to {hi})"
                ))
            }
        };
        // The frame counts a label may wait for are bounded by the lookahead.
        let lookahead = LOOKAHEAD as u64;
        let (fine_blocks, edge_window) = (
            u64::from(self.hold_fine_blocks),
            self.cut_edge_window as u64,
        );
        check("hold_block_max", self.hold_block_max, 0.0, 255.0)?;
        check("hold_mad", self.hold_mad, 0.0, 255.0)?;
        check("hold_fine_levels", self.hold_fine_levels, 0.0, 255.0)?;
        check("hold_fine_texture", self.hold_fine_texture, 0.0, 10.0)?;
        count("hold_fine_blocks", fine_blocks, 0..=MAX_FINE_BLOCKS)?;
        check("cut_ssim", self.cut_ssim, -1.0, 1.0)?;
        check("cut_changed", self.cut_changed, 0.0, 1.0)?;
        check("cut_color", self.cut_color, 0.0, 1.0)?;
        check("cut_color_contrast", self.cut_color_contrast, 1.0, 100.0)?;
        check("cut_mad", self.cut_mad, 0.0, 255.0)?;
        check("cut_contrast", self.cut_contrast, 1.0, 100.0)?;
        count("cut_neighbours", self.cut_neighbours as u64, 1..=lookahead)?;
        check("cut_edge", self.cut_edge, 0.0, 10.0)?;
        check("cut_edge_isolation", self.cut_edge_isolation, 1.0, 100.0)?;
        count("cut_edge_window", edge_window, 1..=lookahead)?;
        count("flash_frames", self.flash_frames as u64, 0..=lookahead - 1)?;
        check("black_level", self.black_level, 0.0, 255.0)?;
        count("black_gap_frames", self.black_gap_frames, 1..=100_000)?;
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
    /// For CUT and FLASH: the rule that fired and what it compared against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// What the gate needs of one frame: its thumbnail and, for the
/// full-resolution HOLD check, its luma.
pub struct Sample {
    pub thumb: Thumb,
    pub fine: Option<Fine>,
}

impl Sample {
    /// Thumbnail and full-resolution data of a decoded picture.
    pub fn of(pic: Arc<crate::picture::Picture>) -> Sample {
        Sample {
            thumb: thumbnail_of(&pic),
            fine: Some(Fine::new(pic)),
        }
    }
}

impl From<Thumb> for Sample {
    /// A thumbnail alone (tests, synthetic input): no full-resolution check.
    fn from(thumb: Thumb) -> Sample {
        Sample { thumb, fine: None }
    }
}

/// A structural break: the whole picture replaced (SSIM at most
/// `cut_ssim`, at least `cut_changed` of the windows changed, and the
/// colours or the level changed by a cut's amount), or incomparable
/// pictures. Cuts and flashes are breaks; a break is a cut only when it
/// also stands out against its neighbours (module doc). The ghost guard
/// uses the same test on the two frames around an in-between.
pub fn is_break(p: &GateParams, s: &Scores) -> bool {
    s.is_incomparable()
        || (s.ssim <= p.cut_ssim
            && s.changed >= p.cut_changed
            && (s.color >= p.cut_color || s.mad >= p.cut_mad))
}

/// A scored transition waiting for its label.
struct Scored {
    from: u64,
    to: u64,
    scores: Scores,
    /// A structural break (see [`Gate::is_break`]): never a calm neighbour.
    brk: bool,
}

/// Streaming classifier: push one frame at a time, in order. Labels come
/// out up to [`LOOKAHEAD`] transitions late.
pub struct Gate {
    params: GateParams,
    /// Frames from the earlier frame of the oldest waiting transition on
    /// (`frames[0]` is frame `base`), so flashes can be checked ahead.
    frames: VecDeque<Sample>,
    base: u64,
    next_index: u64,
    waiting: VecDeque<Scored>,
    /// The first frame of the current run of identical frames.
    run_start: u64,
    run_first: Option<Sample>,
    /// (mad, color) of the shot's latest calm labelled transitions.
    recent: VecDeque<(f32, f32)>,
    /// Length (frames) of the current run of identical black frames.
    black_run: u64,
    /// Transitions up to this `to` are inside a flash already found.
    flash_until: Option<u64>,
    /// Edge change of the latest labelled transitions (any label).
    recent_edges: VecDeque<f32>,
}

impl Gate {
    pub fn new(params: GateParams) -> Gate {
        Gate {
            params,
            frames: VecDeque::new(),
            base: 0,
            next_index: 0,
            waiting: VecDeque::new(),
            run_start: 0,
            run_first: None,
            recent: VecDeque::new(),
            black_run: 0,
            flash_until: None,
            recent_edges: VecDeque::new(),
        }
    }

    /// Frames of delay between pushing a frame and getting its label.
    pub fn lookahead(&self) -> usize {
        self.horizon()
    }

    fn horizon(&self) -> usize {
        let edge_window = if self.params.cut_edge > 0.0 {
            self.params.cut_edge_window
        } else {
            0
        };
        self.params
            .cut_neighbours
            .max(self.params.flash_frames)
            .max(edge_window)
            .clamp(1, LOOKAHEAD)
    }

    pub fn params(&self) -> &GateParams {
        &self.params
    }

    fn is_break(&self, s: &Scores) -> bool {
        is_break(&self.params, s)
    }

    /// Push the next frame; returns the transitions now labelled.
    pub fn push(&mut self, sample: impl Into<Sample>) -> Vec<Transition> {
        let sample = sample.into();
        let index = self.next_index;
        self.next_index += 1;
        if let Some(prev) = self.frames.back() {
            let scores = compare(&prev.thumb, &sample.thumb);
            let brk = self.is_break(&scores);
            self.waiting.push_back(Scored {
                from: index - 1,
                to: index,
                scores,
                brk,
            });
        } else {
            self.base = index;
        }
        self.frames.push_back(sample);
        let mut out = Vec::new();
        while self.waiting.len() > self.horizon() {
            if let Some(t) = self.label_front() {
                out.push(t);
            }
        }
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

    fn frame(&self, index: u64) -> Option<&Sample> {
        index
            .checked_sub(self.base)
            .and_then(|i| self.frames.get(i as usize))
    }

    /// Full-resolution changed blocks between two frames (None when either
    /// has no full-resolution data).
    fn fine_blocks(&self, a: &Sample, b: &Sample) -> Option<u32> {
        let p = &self.params;
        let (fa, fb) = (a.fine.as_ref()?, b.fine.as_ref()?);
        Some(
            fine::changed_blocks(fa, fb, p.hold_fine_levels, p.hold_fine_texture)
                .unwrap_or(u32::MAX),
        )
    }

    /// Whether `to` shows the same picture as `from` and as the run's first
    /// frame. Fills `scores.fine_blocks` when the full-resolution check ran.
    fn is_hold(&self, from: u64, to: u64, scores: &mut Scores) -> bool {
        let p = &self.params;
        let close = |x: &Scores| x.block_max <= p.hold_block_max && x.mad <= p.hold_mad;
        let (Some(a), Some(b)) = (self.frame(from), self.frame(to)) else {
            return false;
        };
        if !close(scores) {
            return false;
        }
        let first = if self.run_start == from {
            None
        } else {
            self.run_first.as_ref()
        };
        if let Some(first) = first {
            if !close(&compare(&first.thumb, &b.thumb)) {
                return false;
            }
        }
        // At full resolution against the run's first frame only: that is
        // the picture a HOLD reuses (the previous frame when it starts the
        // run), so it is the comparison that decides what is shown.
        let fine = self.fine_blocks(first.unwrap_or(a), b);
        scores.fine_blocks = fine;
        fine.is_none_or(|n| n <= p.hold_fine_blocks)
    }

    /// Cut evidence for the front transition, or None (not a cut).
    fn cut_evidence(&self, t: &Scored, black_frames: u64) -> Option<Evidence> {
        let p = &self.params;
        let s = &t.scores;
        if s.is_incomparable() {
            return Some(Evidence::alone(Rule::Incomparable));
        }
        if !p.detect_cuts {
            return None;
        }
        if black_frames >= p.black_gap_frames
            && (s.changed >= p.cut_changed || s.color >= 2.0 * p.cut_color)
        {
            return Some(Evidence::alone(Rule::BlackGap));
        }
        if !t.brk {
            return self.edge_jump(t).then(|| Evidence::alone(Rule::EdgeJump));
        }
        // Calm neighbours: the shot's recent labelled transitions and the
        // next ones waiting up to the next break (past a break may be
        // another shot, whose calm says nothing about this one).
        let after = self
            .waiting
            .iter()
            .skip(1)
            .take(p.cut_neighbours)
            .take_while(|n| !n.brk)
            .map(|n| (n.scores.mad, n.scores.color));
        let calm: Vec<(f32, f32)> = self.recent.iter().copied().chain(after).collect();
        let (nm, nc) = if calm.is_empty() {
            (None, None)
        } else {
            let n = calm.len() as f32;
            (
                Some(calm.iter().map(|c| c.0).sum::<f32>() / n),
                Some(calm.iter().map(|c| c.1).sum::<f32>() / n),
            )
        };
        let rule = if s.color >= p.cut_color && s.color >= p.cut_color_contrast * nc.unwrap_or(0.0)
        {
            Some(Rule::ColorJump)
        } else if nm.is_some_and(|m| s.mad >= p.cut_mad && s.mad >= p.cut_contrast * m) {
            Some(Rule::LevelJump)
        } else {
            None
        };
        let rule = rule.or_else(|| self.edge_jump(t).then_some(Rule::EdgeJump));
        rule.map(|rule| Evidence {
            rule,
            neighbours_mad: nm,
            neighbours_color: nc,
        })
    }

    /// The line-art rule: the front transition's edge change is at least
    /// `cut_edge` and `cut_edge_isolation` times the largest edge change
    /// within `cut_edge_window` transitions on either side (0.05 at
    /// least). Motion that moves as much as a cut (a shake, a pull-back, a
    /// punch, a wipe, ghosted blends) changes the lines of its neighbours
    /// too; a cut changes them once.
    fn edge_jump(&self, t: &Scored) -> bool {
        let p = &self.params;
        let v = t.scores.edge;
        if p.cut_edge <= 0.0 || v < p.cut_edge {
            return false;
        }
        let around = self
            .recent_edges
            .iter()
            .copied()
            .chain(
                self.waiting
                    .iter()
                    .skip(1)
                    .take(p.cut_edge_window)
                    .map(|n| n.scores.edge),
            )
            .fold(EDGE_FLOOR, f32::max);
        v >= p.cut_edge_isolation * around
    }

    /// A flash starting at `to`: the first frame `to + k` (k up to
    /// `flash_frames`) that is back in the shot of `from`: no break from
    /// it, or its colour distribution returned (distance below `cut_color`
    /// and below half of the excursion's). A fast shot moves on during the
    /// flash, so the returned frame need not match `from` in detail.
    fn flash_end(&self, from: u64, to: u64, excursion_color: f32) -> Option<u64> {
        let before = self.frame(from)?;
        let back = self.params.cut_color.min(0.5 * excursion_color);
        (1..=self.params.flash_frames as u64).find_map(|k| {
            let after = self.frame(to + k)?;
            let s = compare(&before.thumb, &after.thumb);
            (!s.is_incomparable() && (!self.is_break(&s) || s.color < back)).then_some(to + k)
        })
    }

    fn label_front(&mut self) -> Option<Transition> {
        let front = self.waiting.front()?;
        let (from, to, mut scores) = (front.from, front.to, front.scores);
        let from_mean = self.frame(from).map_or(255.0, |f| f.thumb.mean());
        let black_from = from_mean <= self.params.black_level;
        let black_frames = if black_from { self.black_run + 1 } else { 0 };
        let mut evidence = None;
        let class = if self.flash_until.is_some_and(|end| to <= end) {
            Class::Flash
        } else if !scores.is_incomparable() && self.is_hold(from, to, &mut scores) {
            Class::Hold
        } else {
            match self.cut_evidence(front, black_frames) {
                // Only a hard cut can be a flash: a change out of black
                // is a new shot whatever follows.
                Some(ev) => match matches!(ev.rule, Rule::ColorJump | Rule::LevelJump)
                    .then(|| self.flash_end(from, to, scores.color))
                    .flatten()
                {
                    Some(end) => {
                        self.flash_until = Some(end);
                        evidence = Some(Evidence {
                            rule: Rule::Flash,
                            ..ev
                        });
                        Class::Flash
                    }
                    _ => {
                        evidence = Some(ev);
                        Class::Cut
                    }
                },
                None => Class::Motion,
            }
        };
        let brk = front.brk;
        self.recent_edges.push_back(front.scores.edge);
        if self.recent_edges.len() > self.params.cut_edge_window {
            self.recent_edges.pop_front();
        }
        self.waiting.pop_front();
        self.black_run = match class {
            Class::Hold if black_from => black_frames,
            _ => 0,
        };
        match class {
            // A new shot: its neighbourhood starts again.
            Class::Cut => self.recent.clear(),
            Class::Motion | Class::Hold if !brk => {
                self.recent.push_back((scores.mad, scores.color));
                if self.recent.len() > self.params.cut_neighbours {
                    self.recent.pop_front();
                }
            }
            _ => {}
        }
        let repeat_of = if class == Class::Hold {
            Some(self.run_start)
        } else {
            self.run_start = to;
            None
        };
        // Release frames no longer needed: keep the run's first frame aside
        // and everything from `to` on.
        while self.base < to {
            let Some(f) = self.frames.pop_front() else {
                break;
            };
            if self.base == self.run_start {
                self.run_first = Some(f);
            }
            self.base += 1;
        }
        if self.run_start == to {
            self.run_first = None;
        }
        Some(Transition {
            from,
            to,
            class,
            scores,
            repeat_of,
            evidence,
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
            Class::Motion | Class::Flash => {
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
    let mut counts: BTreeMap<String, u64> = ["cut", "hold", "motion", "flash"]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
    for t in &transitions {
        *counts.entry(t.class.name().into()).or_default() += 1;
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
        "  transitions: {} cut ({:.1}%), {} hold ({:.1}%), {} motion ({:.1}%), {} flash ({:.1}%)",
        c("cut"),
        p("cut"),
        c("hold"),
        p("hold"),
        c("motion"),
        p("motion"),
        c("flash"),
        p("flash")
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
    for t in g.transitions.iter().filter(|t| t.class.is_break()) {
        let Some(ev) = t.evidence else { continue };
        let fmt = |v: Option<f32>| v.map_or("-".to_string(), |v| format!("{v:.3}"));
        let _ = writeln!(
            s,
            "    {} at {}: {:?}; ssim {:.3}, changed {:.3}, color {:.3} (neighbours {}), mad {:.1} (neighbours {})",
            t.class.name(),
            t.to,
            ev.rule,
            t.scores.ssim,
            t.scores.changed,
            t.scores.color,
            fmt(ev.neighbours_color),
            t.scores.mad,
            fmt(ev.neighbours_mad),
        );
    }
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
