//! Frame-interpolation stage: planning core.
//!
//! The planner turns the decoded input frames (index, pts in the input time
//! base, and the gate's label for each transition) into a decision for every
//! timestamp of a constant-rate output grid: copy an input frame, repeat a held
//! drawing, show the frame on the correct side of a cut, or call the
//! interpolation model (RIFE) between two frames at a timestep `t` in `(0, 1)`.
//!
//! Everything here is pure and deterministic: no I/O, no model, no pictures.
//! All timing is exact rational arithmetic in `i128` (see [`plan`] for the
//! rules, the output-count rule and the lookahead bound). [`grid`] is the one
//! entry point that builds a run's output grid (whole run, chunk or join).

pub mod grid;
pub mod plan;

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::rational::{gcd, reduce};

pub use grid::{GridPart, GridRequest, OutputGrid};
pub use plan::Planner;

/// Default for [`PlanParams::max_cadence_hold_s`]: hold runs up to a quarter of
/// a second (on twos/threes/fours at 24 fps, up to on sixes at exactly 24 fps)
/// count as drawing cadence in [`CadenceMode::Smooth`].
pub const DEFAULT_MAX_CADENCE_HOLD_S: f64 = 0.25;

/// Highest output frame rate accepted by [`resolve_rate`].
pub const MAX_OUTPUT_FPS: u32 = 480;

/// The gate's label for each transition: one type shared with the gate.
pub use crate::gate::Class;

/// Requested output frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FpsTarget {
    /// An absolute rate `num/den` frames per second, e.g. 48/1 or 60000/1001.
    Rate { num: u32, den: u32 },
    /// A multiple of the input's nominal rate (`Multiple(2)` = 2x).
    Multiple(u32),
}

impl Default for FpsTarget {
    fn default() -> Self {
        FpsTarget::Multiple(2)
    }
}

impl fmt::Display for FpsTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FpsTarget::Rate { num, den: 1 } => write!(f, "{num}"),
            FpsTarget::Rate { num, den } => write!(f, "{num}/{den}"),
            FpsTarget::Multiple(k) => write!(f, "{k}x"),
        }
    }
}

impl FromStr for FpsTarget {
    type Err = String;

    /// Accepts `48`, `60000/1001`, `2x` (or `x2`), and decimals such as
    /// `59.94` / `23.976` / `47.952` / `29.97` (the usual NTSC rates map to
    /// their exact `/1001` values, other decimals are taken literally).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || {
            format!(
                "output frame rate (--fps) `{s}` is not understood: use a rate such as 48, \
                 60000/1001 or 59.94, or a multiple of the input rate such as 2x"
            )
        };
        let lower = s.to_ascii_lowercase();
        if let Some(k) = lower.strip_suffix('x').or_else(|| lower.strip_prefix('x')) {
            let k: u32 = k.trim().parse().map_err(|_| bad())?;
            return Ok(FpsTarget::Multiple(k));
        }
        if let Some((n, d)) = s.split_once('/') {
            let num: u32 = n.trim().parse().map_err(|_| bad())?;
            let den: u32 = d.trim().parse().map_err(|_| bad())?;
            return Ok(FpsTarget::Rate { num, den });
        }
        if let Some((int, frac)) = s.split_once('.') {
            let ntsc = [
                ("23.976", 24000),
                ("23.98", 24000),
                ("29.97", 30000),
                ("47.952", 48000),
                ("47.95", 48000),
                ("59.94", 60000),
                ("119.88", 120000),
            ];
            if let Some(&(_, num)) = ntsc.iter().find(|(txt, _)| *txt == s) {
                return Ok(FpsTarget::Rate { num, den: 1001 });
            }
            if frac.is_empty() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let int: u64 = if int.is_empty() {
                0
            } else {
                int.parse().map_err(|_| bad())?
            };
            let den = 10u64.pow(frac.len() as u32);
            let num = int
                .checked_mul(den)
                .and_then(|v| v.checked_add(frac.parse::<u64>().ok()?))
                .ok_or_else(bad)?;
            let (num, den) = reduce(num, den);
            let num = u32::try_from(num).map_err(|_| bad())?;
            return Ok(FpsTarget::Rate {
                num,
                den: den as u32,
            });
        }
        let num: u32 = s.parse().map_err(|_| bad())?;
        Ok(FpsTarget::Rate { num, den: 1 })
    }
}

/// Which flow resolution the interpolation model runs at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FlowMode {
    /// Frames above 2560x1440 px use the model's reduced-flow variant
    /// (`large_variant` in the manifest); smaller frames use the model itself.
    #[default]
    Auto,
    /// Always the model as named, whatever the frame size.
    Full,
}

/// How in-betweens reach output size when a run both interpolates and
/// upscales.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum InbetweenMode {
    /// The interpolator's in-between goes through the upscaler like a
    /// drawing: one upscaler call per in-between.
    #[default]
    Upscale,
    /// The in-between is made at output size from the two upscaled
    /// drawings beside it, warped with the interpolator's own flow and
    /// blended with its mask: each drawing goes through the upscaler once.
    Warp,
}

/// How held drawings are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CadenceMode {
    /// Anime-safe: holds stay holds, only consecutive differing frames are
    /// interpolated.
    #[default]
    Preserve,
    /// Short hold runs (drawing cadence, "on twos/threes") count as one
    /// drawing so motion is spread evenly across them; long holds stay held.
    Smooth,
}

/// Resolved planning parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlanParams {
    /// Output rate numerator (frames per second = target_num / target_den).
    pub target_num: u32,
    /// Output rate denominator.
    pub target_den: u32,
    pub mode: CadenceMode,
    /// In [`CadenceMode::Smooth`]: a run of identical frames whose drawing is
    /// on screen for at most this many seconds is cadence, not a hold.
    pub max_cadence_hold_s: f64,
}

impl PlanParams {
    /// Parameters for an already resolved rate (see [`resolve_rate`]) with the
    /// default cadence limit.
    pub fn new(rate: (u32, u32), mode: CadenceMode) -> PlanParams {
        PlanParams {
            target_num: rate.0,
            target_den: rate.1,
            mode,
            max_cadence_hold_s: DEFAULT_MAX_CADENCE_HOLD_S,
        }
    }

    /// Checks what [`Planner::try_new`] checks; error strings name the setting.
    pub fn validate(&self) -> Result<(), String> {
        check_rate(
            self.target_num as u64,
            self.target_den as u64,
            "output frame rate (--fps)",
        )?;
        if !self.max_cadence_hold_s.is_finite() || self.max_cadence_hold_s < 0.0 {
            return Err(format!(
                "cadence hold limit (max_cadence_hold_s) is {}: it must be a finite number of \
                 seconds >= 0 (default {DEFAULT_MAX_CADENCE_HOLD_S})",
                self.max_cadence_hold_s
            ));
        }
        Ok(())
    }
}

impl Default for PlanParams {
    /// 48 fps, preserve mode, default cadence limit.
    fn default() -> Self {
        PlanParams::new((48, 1), CadenceMode::Preserve)
    }
}

/// What to put at one output timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Decision {
    /// The output time coincides with input frame `src`: the frame itself.
    Copy { src: u64 },
    /// Between two frames showing the same drawing (or after the last input
    /// frame, until the input ends): the held picture, no model call.
    Hold { src: u64 },
    /// Between two frames across a cut: the frame on the same side of the cut
    /// as the timestamp. The new shot starts at the later frame's pts, so any
    /// time before it belongs to the old shot: `src` is the earlier frame.
    CutSide { src: u64 },
    /// Model call: RIFE(img0 = frame `a`, img1 = frame `b`, timestep `t`),
    /// with `a < b` and `0 < t < 1`.
    Interp { a: u64, b: u64, t: f32 },
}

impl Decision {
    /// Smallest input index this decision refers to.
    pub fn min_src(&self) -> u64 {
        match *self {
            Decision::Copy { src } | Decision::Hold { src } | Decision::CutSide { src } => src,
            Decision::Interp { a, .. } => a,
        }
    }

    /// Whether this decision needs a model call.
    pub fn is_model_call(&self) -> bool {
        matches!(self, Decision::Interp { .. })
    }
}

/// One output frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutFrame {
    /// Output frame number, from 0.
    pub k: u64,
    /// Presentation timestamp in [`output_time_base`]; always equal to `k`.
    pub pts: i64,
    pub decision: Decision,
}

/// How many output frames of each kind were planned, and how many input frames
/// were ignored (non-increasing pts or index, or pushed after `finish`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PlanCounts {
    pub copies: u64,
    pub holds: u64,
    pub cut_sides: u64,
    pub interps: u64,
    pub skipped_frames: u64,
    /// Forward pts jumps longer than [`plan::MAX_GAP_S`] that were closed up.
    pub discontinuities: u64,
}

impl PlanCounts {
    /// Total output frames planned so far.
    pub fn total(&self) -> u64 {
        self.copies + self.holds + self.cut_sides + self.interps
    }
}

/// Resolves `target` against the input's nominal rate `input_rate` (num, den
/// frames per second) into a reduced output rate `(num, den)`.
///
/// Errors (naming the setting) when a rate is zero or has a zero denominator,
/// when the multiple is 0, when the result exceeds [`MAX_OUTPUT_FPS`], or when
/// it cannot be represented with 31-bit numerator and denominator (so that the
/// output time base fits an `i32` rational).
pub fn resolve_rate(target: FpsTarget, input_rate: (u32, u32)) -> Result<(u32, u32), String> {
    let (num, den) = match target {
        FpsTarget::Rate { num, den } => {
            check_rate(num as u64, den as u64, "output frame rate (--fps)")?;
            (num as u64, den as u64)
        }
        FpsTarget::Multiple(k) => {
            if k == 0 {
                return Err(
                    "output frame rate (--fps) 0x: the multiple of the input rate must be at \
                     least 1 (e.g. 2x)"
                        .to_string(),
                );
            }
            let (inum, iden) = input_rate;
            if inum == 0 || iden == 0 {
                return Err(format!(
                    "output frame rate (--fps) {k}x needs the input's nominal frame rate, but \
                     the video stream reports {inum}/{iden}: give an absolute rate such as \
                     --fps 48 instead"
                ));
            }
            let num = k as u64 * inum as u64;
            let den = iden as u64;
            let (num, den) = reduce(num, den);
            check_rate(
                num,
                den,
                &format!("output frame rate (--fps {k}x of {inum}/{iden})"),
            )?;
            (num, den)
        }
    };
    let (num, den) = reduce(num, den);
    Ok((num as u32, den as u32))
}

fn check_rate(num: u64, den: u64, what: &str) -> Result<(), String> {
    if den == 0 {
        return Err(format!("{what} {num}/0 has a zero denominator"));
    }
    if num == 0 {
        return Err(format!("{what} must be greater than 0 fps"));
    }
    if num > MAX_OUTPUT_FPS as u64 * den {
        return Err(format!(
            "{what} {num}/{den} ({:.3} fps) is above the limit of {MAX_OUTPUT_FPS} fps",
            num as f64 / den as f64
        ));
    }
    let g = gcd(num, den);
    if num / g > i32::MAX as u64 || den / g > i32::MAX as u64 {
        return Err(format!(
            "{what} {num}/{den} cannot be represented as a time base: use a rate with smaller \
             numerator and denominator"
        ));
    }
    Ok(())
}

/// Output time base `(target_den, target_num)` (seconds per tick), so that an
/// output frame's pts equals its number `k`: 1/48 s, or 1001/60000 s.
/// Values beyond `i32` (only possible for unvalidated parameters) saturate.
pub fn output_time_base(p: &PlanParams) -> (i32, i32) {
    let clamp = |v: u32| i32::try_from(v.max(1)).unwrap_or(i32::MAX);
    (clamp(p.target_den), clamp(p.target_num))
}

#[cfg(test)]
mod tests;
