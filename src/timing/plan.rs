//! The streaming planner: input frames in, output-grid decisions out.
//!
//! # Time
//! Output frame `k` is at `T_k = first_pts + k * target_den / target_num`
//! seconds after the first input frame. Every comparison is exact: times are
//! kept as `i128` multiples of `1/D` input ticks, with
//! `D = target_num * in_num` and one output step `= target_den * in_den` such
//! units (both divided by their gcd). No floating point accumulates; the only
//! floats are the final timestep `t` handed to the model.
//!
//! # Output count
//! An output frame exists for every `k >= 0` with `T_k < end_pts` (the last
//! output starts strictly before the input ends), so
//!
//! `count = ceil((end_pts - first_pts) * in_num * target_num / (in_den * target_den))`
//!
//! For constant-rate input of `N` frames converted to exactly `m` times its
//! rate this is `m * N`: the input frames are outputs `0, m, 2m, ...` and the
//! last `m - 1` outputs lie between the last frame and the end of the input,
//! where the last frame stays on screen ([`Decision::Hold`] of the last frame).
//! The output duration (`count` output frames) therefore matches the input
//! duration to within one output frame.
//!
//! # Rules for an output time `T`
//! Let `a`, `b` be the consecutive input frames with `pts_a <= T < pts_b`.
//! * `T` equal to an input frame's pts, or within half an input tick of it, is
//!   *on* that frame: [`Decision::Copy`] (but see smooth mode below). The half
//!   tick absorbs timestamps that a container rounded (e.g. milliseconds:
//!   23.976 fps in a 1/1000 time base still copies every input frame at 2x).
//!   The tolerance is also capped at a quarter of an output frame, so a coarse
//!   time base (1/24 for 24 fps input, where half a tick is a whole 48 fps
//!   output frame) does not swallow the in-betweens; pts in such a time base
//!   are exact anyway. Comparisons are exact (inclusive); a tie between two
//!   frames goes to the earlier one. At most one output is on any frame.
//! * Otherwise by the label of the transition a→b:
//!   * `Hold` → `Hold { src: a }`;
//!   * `Cut` → `CutSide { src: a }`: the new shot starts at `pts_b`, so every
//!     time before it belongs to the old shot. (Repeating the last frame of the
//!     old shot never shows the new shot early, which keeps cuts on the
//!     frame where the source put them.)
//!   * `Motion` → `Interp { a, b, t = (T - pts_a) / (pts_b - pts_a) }`.
//! * After the last input frame (until `end_pts`): `Hold` of the last frame.
//!
//! ## Smooth mode
//! Frames joined by `Hold` transitions form a *run* (one drawing). A run's
//! duration is from its first frame `F` to the first frame `B` of the next
//! drawing. A run that ends in a `Motion` transition, lasts at most
//! `max_cadence_hold_s` and has at most [`Planner::max_run_frames`] frames is
//! *cadence*: every output time strictly after `pts_F` and before `pts_B`
//! (including times on the run's repeated frames) becomes
//! `Interp { a: F, b: B, t = (T - pts_F) / (pts_B - pts_F) }`, so motion
//! spreads evenly over the run. Times on `F` are `Copy { F }`. Any other run
//! (longer, or ending in a cut or at the end of input) behaves as in preserve
//! mode: `Hold`/`Copy` through the run, then the normal motion rule from its
//! last frame to `B`. Interpolation never crosses a cut.
//!
//! # Lookahead bound
//! Buffered frames are the frames that a pending decision may still refer to,
//! plus the newest frame. Measured right after a frame is accepted (the peak):
//! * preserve mode: at most 2 frames;
//! * smooth mode: at most `max(2, min(max_run_frames, ceil(L / m)) + 1)`
//!   frames, where `L` is the cadence limit in input ticks
//!   (`floor(max_cadence_hold_s * in_den / in_num)`) and `m` the smallest pts
//!   step of the input; for constant-rate input at `f` fps that is
//!   `ceil(max_cadence_hold_s * f) + 1` (7 frames for 24000/1001 fps and the
//!   default 0.25 s), never more than `max_cadence_hold_s * f + 2`. Whatever
//!   the timestamps, it never exceeds `max_run_frames + 1`
//!   (see [`Planner::buffer_bound`]).
//!
//! A run is known to be long as soon as its frames so far span `L` ticks or
//! more (its drawing then lasts longer than the limit) or it has more than
//! `max_run_frames` frames; it is then held and its first frame released.
//!
//! # Odd input
//! Never panics. A frame whose pts is not greater than the previous accepted
//! frame's (or whose index is not greater) is ignored and counted in
//! [`PlanCounts::skipped_frames`]; its transition label is merged into the
//! next accepted frame's ([`Class::merge`]: a cut anywhere in between stays a
//! cut). A missing label (`None`) on any frame but the first is taken as a cut
//! (never blend what was not classified). Frames pushed after
//! [`Planner::finish`] are ignored and counted. An `end_pts` that is not after
//! the last frame's pts is replaced by the last frame's pts plus the previous
//! frame step (1 tick for a single frame). A gap of `G` seconds between two
//! frames yields `G * rate` output frames from one call; a forward jump of more
//! than [`MAX_GAP_S`] seconds (between frames, or from the last frame to
//! `end_pts`) is taken as a broken timestamp rather than a 10-minute still: the
//! timeline is closed up so the frame follows its predecessor by the previous
//! frame step, and it is counted in [`PlanCounts::discontinuities`] (so one bad
//! pts cannot make the planner emit billions of frames). Arithmetic is `i128`
//! and saturates instead of overflowing.

use std::collections::VecDeque;

use crate::rational::reduce;

use super::{CadenceMode, Class, Decision, OutFrame, PlanCounts, PlanParams};

/// Default cap on the frames of one cadence run: enough for a 0.25 s run at
/// 120 fps input; derived from `max_cadence_hold_s` (see [`Planner::new`]).
const CAP_RATE_FPS: f64 = 120.0;
/// Absolute ceiling for the derived run cap.
const CAP_CEILING: u32 = 1024;
/// A forward pts jump longer than this (seconds) between consecutive frames,
/// or from the last frame to `end_pts`, is a broken timestamp.
pub const MAX_GAP_S: u32 = 600;

/// Smallest `k >= 0` with `k * step >= gap` (units).
fn first_k_from(gap: i128, step: i128) -> u64 {
    if gap <= 0 || step <= 0 {
        return 0;
    }
    u64::try_from((gap + step - 1) / step).unwrap_or(u64::MAX)
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    index: u64,
    /// Internal time in units (1/D ticks), after closing up discontinuities.
    at: i128,
    /// Label of the transition from the previous accepted frame (`Cut` for the
    /// first frame).
    class_in: Class,
    /// First frame of the run (drawing) this frame belongs to.
    run_first_index: u64,
    run_first_at: i128,
    /// Position in the run: 0 for the first frame.
    run_pos: u32,
}

/// How a run of identical frames ends, seen from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Cadence: interpolate from the run's first frame to the frame at this
    /// buffer position (the next drawing).
    Smooth(usize),
    /// Held (long, or ends at a cut or at the end of input).
    Held,
    /// Not known yet: needs more input.
    Undecided,
}

/// Streaming planner; see the module documentation for the rules.
#[derive(Debug, Clone)]
pub struct Planner {
    params: PlanParams,
    in_tb: (i32, i32),
    /// Units per input tick.
    d: i128,
    /// Units per output frame.
    step: i128,
    /// Four times the snap tolerance, in units: `min(2 * d, step)`.
    snap4: i128,
    /// Cadence limit in whole input ticks.
    limit_ticks: i128,
    max_run_frames: u32,
    frames: VecDeque<Frame>,
    /// Time of the first frame (units): the grid origin.
    first_at: Option<i128>,
    /// Pts of the grid origin when placed by [`Planner::with_grid`].
    origin_pts: Option<i64>,
    /// Index and external pts of the last accepted frame.
    last: Option<(u64, i64)>,
    /// Internal step (units) between the last two accepted frames.
    last_step: Option<i128>,
    last_at: i128,
    /// Largest index ever pushed (accepted or not).
    max_index: Option<u64>,
    /// Units removed from the timeline at discontinuities.
    offset: i128,
    /// Largest accepted gap between frames (units): MAX_GAP_S.
    max_gap: i128,
    /// Cadence limit in units.
    limit_units: i128,
    pending_class: Option<Class>,
    next_k: u64,
    finished: bool,
    end_units: Option<i128>,
    counts: PlanCounts,
    peak_buffered: usize,
}

impl Planner {
    /// A planner for input in time base `in_tb = (num, den)` seconds per tick.
    ///
    /// Never fails: invalid values are sanitised (a zero rate or time base
    /// component becomes 1, negative values are taken by magnitude, a
    /// non-finite or negative cadence limit becomes 0 = no smoothing). Use
    /// [`Planner::try_new`] to get an error instead.
    pub fn new(params: PlanParams, in_tb: (i32, i32)) -> Planner {
        let pos = |v: i32| i128::from(v).abs().max(1);
        let in_num = pos(in_tb.0);
        let in_den = pos(in_tb.1);
        let t_num = i128::from(params.target_num.max(1));
        let t_den = i128::from(params.target_den.max(1));
        let (d, step) = reduce(t_num * in_num, t_den * in_den);

        let max_s = if params.max_cadence_hold_s.is_finite() && params.max_cadence_hold_s > 0.0 {
            params.max_cadence_hold_s
        } else {
            0.0
        };
        // Ticks = seconds * den / num; the epsilon keeps e.g. 0.25 s at 1/24
        // from rounding down to 5.999.. ticks.
        let limit = (max_s * in_den as f64 / in_num as f64 + 1e-6).floor();
        let limit_ticks = if limit >= 4.0e18 {
            4_000_000_000_000_000_000
        } else {
            limit as i128
        };
        let cap = (max_s * CAP_RATE_FPS).ceil();
        let max_run_frames = if cap >= CAP_CEILING as f64 {
            CAP_CEILING
        } else {
            (cap as u32).max(2)
        };

        Planner {
            params,
            in_tb,
            d,
            step,
            snap4: (2 * d).min(step),
            limit_ticks,
            max_run_frames,
            frames: VecDeque::new(),
            first_at: None,
            origin_pts: None,
            last: None,
            last_step: None,
            last_at: 0,
            max_index: None,
            offset: 0,
            max_gap: {
                // MAX_GAP_S seconds = MAX_GAP_S * num / den output frames.
                let frames = i128::from(MAX_GAP_S) * t_num / t_den;
                frames.max(1).saturating_mul(step)
            },
            limit_units: limit_ticks.saturating_mul(d),
            pending_class: None,
            next_k: 0,
            finished: false,
            end_units: None,
            counts: PlanCounts::default(),
            peak_buffered: 0,
        }
    }

    /// Like [`Planner::new`] but rejects invalid parameters or time base with
    /// an error naming the setting.
    pub fn try_new(params: PlanParams, in_tb: (i32, i32)) -> Result<Planner, String> {
        params.validate()?;
        if in_tb.0 <= 0 || in_tb.1 <= 0 {
            return Err(format!(
                "input video time base {}/{} is invalid: both parts must be positive",
                in_tb.0, in_tb.1
            ));
        }
        Ok(Planner::new(params, in_tb))
    }

    /// Overrides the cap on frames in one cadence run (smooth mode); at least 2.
    /// Default: `ceil(max_cadence_hold_s * 120)`, clamped to 2..=1024.
    pub fn with_max_run_frames(mut self, n: u32) -> Planner {
        self.max_run_frames = n.max(2);
        self
    }

    /// Place the output grid at `origin_pts` (the first frame of the whole
    /// run) instead of at the first frame pushed, and start at the first
    /// output time at or after `from_pts`. A chunk of a longer run, fed
    /// from `from_pts` on, then decides exactly the frames the whole run
    /// decides there.
    pub fn with_grid(mut self, origin_pts: i64, from_pts: i64) -> Planner {
        let origin = i128::from(origin_pts).saturating_mul(self.d);
        let from = i128::from(from_pts).saturating_mul(self.d);
        self.first_at = Some(origin);
        self.origin_pts = Some(origin_pts);
        self.next_k = first_k_from(from - origin, self.step);
        self
    }

    /// Output pts of grid point 0 on the input's timeline: the grid's
    /// origin (the [`Planner::with_grid`] origin, else `first_pts`, the
    /// first frame pushed) in output frames, rounded to the nearest. Output
    /// frame k written at pts `k` plus this keeps video in sync with the
    /// copied audio when the video starts late.
    pub fn origin_output_pts(&self, first_pts: i64) -> i64 {
        let origin = i128::from(self.origin_pts.unwrap_or(first_pts));
        // pts * in_num/in_den seconds * target_num/target_den frames per second.
        let num = origin * i128::from(self.in_tb.0) * i128::from(self.params.target_num);
        let den = (i128::from(self.in_tb.1) * i128::from(self.params.target_den)).max(1);
        (2 * num + den).div_euclid(2 * den) as i64
    }

    /// The first output frame at or after input pts `pts` on a grid that
    /// starts at `origin_pts` (see [`Planner::with_grid`]).
    pub fn first_k_at(&self, origin_pts: i64, pts: i64) -> u64 {
        let gap = i128::from(pts).saturating_sub(i128::from(origin_pts));
        first_k_from(gap.saturating_mul(self.d), self.step)
    }

    pub fn params(&self) -> &PlanParams {
        &self.params
    }

    pub fn input_time_base(&self) -> (i32, i32) {
        self.in_tb
    }

    /// Cap on frames in one cadence run (smooth mode).
    pub fn max_run_frames(&self) -> u32 {
        self.max_run_frames
    }

    /// Push the next input frame and the label of the transition from the
    /// previous frame to it (`None` for the first frame). Returns the output
    /// frames that are now fully decided, in order.
    pub fn push(&mut self, index: u64, pts: i64, class: Option<Class>) -> Vec<OutFrame> {
        self.max_index = Some(self.max_index.map_or(index, |m| m.max(index)));
        if self.finished {
            self.counts.skipped_frames += 1;
            return Vec::new();
        }
        let ext = i128::from(pts).saturating_mul(self.d);
        let frame = match self.frames.back().copied() {
            None => {
                // First accepted frame: its label (if any) is meaningless.
                self.first_at.get_or_insert(ext);
                Frame {
                    index,
                    at: ext,
                    class_in: Class::Cut,
                    run_first_index: index,
                    run_first_at: ext,
                    run_pos: 0,
                }
            }
            Some(prev) => {
                let class = class.unwrap_or(Class::Cut);
                let prev_pts = self.last.map_or(i64::MIN, |(_, p)| p);
                if pts <= prev_pts || index <= prev.index {
                    self.counts.skipped_frames += 1;
                    self.pending_class = Some(match self.pending_class {
                        Some(c) => c.merge(class),
                        None => class,
                    });
                    return Vec::new();
                }
                let class_in = match self.pending_class.take() {
                    Some(c) => c.merge(class),
                    None => class,
                };
                let mut at = ext.saturating_sub(self.offset);
                if at.saturating_sub(prev.at) > self.max_gap {
                    // Broken timestamp: close the gap up.
                    let want = prev.at + self.last_step.unwrap_or(self.step).min(self.max_gap);
                    self.offset = self.offset.saturating_add(at - want);
                    at = want;
                    self.counts.discontinuities += 1;
                }
                self.last_step = Some(at - prev.at);
                if class_in == Class::Hold {
                    Frame {
                        index,
                        at,
                        class_in,
                        run_first_index: prev.run_first_index,
                        run_first_at: prev.run_first_at,
                        run_pos: prev.run_pos.saturating_add(1),
                    }
                } else {
                    Frame {
                        index,
                        at,
                        class_in,
                        run_first_index: index,
                        run_first_at: at,
                        run_pos: 0,
                    }
                }
            }
        };
        self.last = Some((frame.index, pts));
        self.last_at = frame.at;
        self.frames.push_back(frame);
        self.peak_buffered = self.peak_buffered.max(self.frames.len());
        let out = self.drain();
        self.trim();
        out
    }

    /// End of input: `end_pts` is where the last input frame ends (its pts
    /// plus its duration, in the input time base). Returns the remaining
    /// output frames. Calling it again returns nothing.
    pub fn finish(&mut self, end_pts: i64) -> Vec<OutFrame> {
        if self.finished {
            return Vec::new();
        }
        self.finished = true;
        let Some((_, last_pts)) = self.last else {
            return Vec::new();
        };
        let fallback = self.last_at + self.last_step.unwrap_or(self.d).min(self.max_gap);
        let end = if end_pts > last_pts {
            let end = i128::from(end_pts)
                .saturating_mul(self.d)
                .saturating_sub(self.offset);
            if end - self.last_at > self.max_gap {
                self.counts.discontinuities += 1;
                fallback
            } else {
                end
            }
        } else {
            fallback
        };
        self.end_units = Some(end);
        let out = self.drain();
        self.frames.clear();
        out
    }

    /// Input frame indices that no future decision can refer to: every index
    /// below this may be freed. (0 before the first frame; one past the
    /// largest index ever pushed after [`Planner::finish`].)
    pub fn oldest_needed(&self) -> u64 {
        if self.finished {
            return self.max_index.map_or(0, |i| i.saturating_add(1));
        }
        self.frames.front().map_or(0, |f| f.index)
    }

    pub fn counts(&self) -> PlanCounts {
        self.counts
    }

    /// Frames currently buffered (those that pending decisions may need).
    pub fn buffered(&self) -> usize {
        self.frames.len()
    }

    /// Largest number of frames ever buffered (measured right after a frame
    /// was accepted).
    pub fn peak_buffered(&self) -> usize {
        self.peak_buffered
    }

    /// Upper bound on [`Planner::peak_buffered`] for input whose pts steps
    /// are at least `min_step_ticks` (use 1 for "anything").
    pub fn buffer_bound(&self, min_step_ticks: i64) -> usize {
        match self.params.mode {
            CadenceMode::Preserve => 2,
            CadenceMode::Smooth => {
                let m = i128::from(min_step_ticks.max(1));
                let per_window = (self.limit_ticks + m - 1) / m; // ceil(L / m)
                let run = per_window.min(i128::from(self.max_run_frames)) as usize;
                (run + 1).max(2)
            }
        }
    }

    /// Output frames decided so far.
    pub fn emitted(&self) -> u64 {
        self.next_k
    }

    /// Time of output frame `k` in units (1/D ticks).
    fn t_units(&self, k: u64) -> i128 {
        let first = self.first_at.unwrap_or(0);
        first.saturating_add(i128::from(k).saturating_mul(self.step))
    }

    /// Is an output time this far from an input pts *on* that frame? Within
    /// half an input tick, and within a quarter of an output frame.
    fn near(&self, diff_units: i128) -> bool {
        diff_units.saturating_abs().saturating_mul(4) <= self.snap4
    }

    fn drain(&mut self) -> Vec<OutFrame> {
        let mut out = Vec::new();
        loop {
            let t = self.t_units(self.next_k);
            if let Some(end) = self.end_units {
                if t >= end {
                    break;
                }
            }
            let Some(decision) = self.decide(t) else {
                break;
            };
            match decision {
                Decision::Copy { .. } => self.counts.copies += 1,
                Decision::Hold { .. } => self.counts.holds += 1,
                Decision::CutSide { .. } => self.counts.cut_sides += 1,
                Decision::Interp { .. } => self.counts.interps += 1,
            }
            out.push(OutFrame {
                k: self.next_k,
                pts: i64::try_from(self.next_k).unwrap_or(i64::MAX),
                decision,
            });
            if self.next_k == u64::MAX {
                // Cannot number any further output; treat as the end.
                self.end_units = Some(t);
                break;
            }
            self.next_k += 1;
        }
        out
    }

    /// Buffer position of the last frame with pts <= t (exact), if any.
    fn floor_pos(&self, t: i128) -> Option<usize> {
        let pp = self.frames.partition_point(|f| f.at <= t);
        pp.checked_sub(1)
    }

    fn decide(&self, t: i128) -> Option<Decision> {
        let n = self.frames.len();
        if n == 0 {
            return None;
        }
        let Some(p) = self.floor_pos(t) else {
            // Before the oldest kept frame: cannot happen (trim keeps the
            // frame at or before the next output time); stay safe.
            return Some(Decision::Copy {
                src: self.frames[0].index,
            });
        };
        let fa = self.frames[p];
        if self.near(t.saturating_sub(fa.at)) {
            return self.on_frame(p);
        }
        if p + 1 < n {
            let fb = self.frames[p + 1];
            if self.near(fb.at.saturating_sub(t)) {
                return self.on_frame(p + 1);
            }
            return self.between(p, t);
        }
        if self.finished {
            Some(Decision::Hold { src: fa.index })
        } else {
            None
        }
    }

    /// Output time on the frame at buffer position `q`.
    fn on_frame(&self, q: usize) -> Option<Decision> {
        let f = self.frames[q];
        if self.params.mode == CadenceMode::Preserve || f.run_pos == 0 {
            return Some(Decision::Copy { src: f.index });
        }
        match self.fate(q) {
            Fate::Smooth(b) => {
                let fb = self.frames[b];
                Some(self.interp(f.run_first_index, f.run_first_at, fb.index, fb.at, f.at))
            }
            Fate::Held => Some(Decision::Copy { src: f.index }),
            Fate::Undecided => None,
        }
    }

    /// Output time strictly between the frames at positions `p` and `p + 1`
    /// (more than half a tick from both).
    fn between(&self, p: usize, t: i128) -> Option<Decision> {
        let fa = self.frames[p];
        let fb = self.frames[p + 1];
        let smooth = self.params.mode == CadenceMode::Smooth;
        match fb.class_in {
            // Never blend across a cut or a flash: show the earlier side.
            Class::Cut | Class::Flash => Some(Decision::CutSide { src: fa.index }),
            Class::Hold => {
                if !smooth {
                    return Some(Decision::Hold { src: fa.index });
                }
                match self.fate(p) {
                    Fate::Smooth(b) => {
                        let nb = self.frames[b];
                        Some(self.interp(fa.run_first_index, fa.run_first_at, nb.index, nb.at, t))
                    }
                    Fate::Held => Some(Decision::Hold { src: fa.index }),
                    Fate::Undecided => None,
                }
            }
            Class::Motion => {
                if smooth && fa.run_pos > 0 && self.fate(p) == Fate::Smooth(p + 1) {
                    Some(self.interp(fa.run_first_index, fa.run_first_at, fb.index, fb.at, t))
                } else {
                    Some(self.interp(fa.index, fa.at, fb.index, fb.at, t))
                }
            }
        }
    }

    /// How the run containing the frame at position `q` ends.
    fn fate(&self, q: usize) -> Fate {
        let n = self.frames.len();
        let first_at = self.frames[q].run_first_at;
        let mut j = q + 1;
        while j < n && self.frames[j].class_in == Class::Hold {
            j += 1;
        }
        let last = self.frames[j - 1];
        let run_frames = u64::from(last.run_pos) + 1;
        let too_many = run_frames > u64::from(self.max_run_frames);
        if j < n {
            let next = self.frames[j];
            if next.class_in == Class::Motion && !too_many && next.at - first_at <= self.limit_units
            {
                Fate::Smooth(j)
            } else {
                Fate::Held
            }
        } else if self.finished || too_many || last.at - first_at >= self.limit_units {
            // Ends at the end of input, or already longer than the limit (the
            // next drawing starts after `last`).
            Fate::Held
        } else {
            Fate::Undecided
        }
    }

    fn interp(&self, a: u64, a_at: i128, b: u64, b_at: i128, t: i128) -> Decision {
        let num = t.saturating_sub(a_at) as f64;
        let den = b_at.saturating_sub(a_at) as f64;
        let mut ts = (num / den) as f32;
        if ts.is_nan() || ts <= 0.0 {
            ts = f32::MIN_POSITIVE;
        } else if ts >= 1.0 {
            ts = 1.0f32.next_down();
        }
        Decision::Interp { a, b, t: ts }
    }

    /// Drops frames no pending decision can refer to.
    fn trim(&mut self) {
        let t = self.t_units(self.next_k);
        let Some(p) = self.floor_pos(t) else { return };
        let mut keep_from = p;
        if self.params.mode == CadenceMode::Smooth && self.frames[p].run_pos > 0 {
            match self.fate(p) {
                Fate::Held => {}
                Fate::Smooth(_) | Fate::Undecided => {
                    // The run's first frame is still in the buffer: a run is
                    // only trimmed once it is known to be held.
                    let first = self.frames[p].run_first_index;
                    if let Some(pos) = (0..=p).rev().find(|&i| self.frames[i].index == first) {
                        keep_from = pos;
                    }
                }
            }
        }
        self.frames.drain(..keep_from);
    }
}
