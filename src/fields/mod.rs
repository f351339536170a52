//! Fields: turn what was decoded into the pictures that were drawn.
//!
//! DVD and broadcast anime reaches us in three forms that all decode to
//! 29.97 (or 25) "frames": progressive video (often *flagged* interlaced),
//! telecined film (3:2 or 2:3:3:2 pulldown: 4 film frames spread over 10
//! fields, so 2 frames in 5 weave two film frames together), and truly
//! interlaced video (every field its own moment). Treating the last two as
//! progressive gives combed frames, which the upscaler draws as doubled
//! lines and the interpolator blends.
//!
//! The decision is made from the pictures, never from the stream's flags
//! ([`analyse`] over windows spread across the file, [`Decision`]):
//! - a frame is *combed* when weaving its own two fields shows combing
//!   ([`comb`]), counted only on frames that moved (a still frame cannot
//!   show combing whatever it is);
//! - a combed frame is *matched* when pairing one of its fields with the
//!   opposite field of the previous or next frame gives a clean picture:
//!   the two fields came from one film frame (telecine). In true interlace
//!   every field is its own moment, so no pairing is clean;
//! - which pairing is cleaner for the unmatched frames gives the field
//!   order (top field first when the top field pairs with the previous
//!   frame's bottom field).
//!
//! What is done ([`Apply`]): film → FFmpeg's `fieldmatch` (field matching),
//! `bwdif` on the frames it could not match (video-rate sections), then our
//! own decimation ([`decimate`]: drop a frame only where it repeats its
//! predecessor, so a 29.97 section keeps every picture, and retime the
//! film frames evenly); interlace → `bwdif` on every frame (one frame per
//! frame: the interpolator makes any higher rate); progressive → untouched,
//! bit for bit.
//!
//! Why not FFmpeg's `decimate`: in FFmpeg 5.1 (Debian 12) it drops one
//! frame in every cycle of 5 whatever the content, so a 29.97 section
//! inside a telecined episode (credits, overlays) would lose a unique
//! picture in every five, and it invents constant-rate timestamps.

pub mod comb;
pub mod decimate;

use serde::{Deserialize, Serialize};

pub use comb::{comb, rough_difference, Comb, Plane};

/// What the user asked for (`--fields`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum FieldsMode {
    /// Decide from the pictures (combing and field matching over windows
    /// spread across the input).
    #[default]
    Auto,
    /// Telecined film: match fields back into film frames and drop the
    /// repeats (frames that cannot be matched are deinterlaced).
    Film,
    /// Truly interlaced: deinterlace every frame (bwdif).
    Deinterlace,
    /// Leave every frame as decoded.
    Progressive,
}

impl FieldsMode {
    pub fn name(self) -> &'static str {
        match self {
            FieldsMode::Auto => "auto",
            FieldsMode::Film => "film",
            FieldsMode::Deinterlace => "deinterlace",
            FieldsMode::Progressive => "progressive",
        }
    }
}

/// Which field is earlier in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldOrder {
    Tff,
    Bff,
}

impl FieldOrder {
    pub fn name(self) -> &'static str {
        match self {
            FieldOrder::Tff => "top field first",
            FieldOrder::Bff => "bottom field first",
        }
    }
    /// FFmpeg's option value (`fieldmatch order=`, `bwdif parity=`).
    pub fn ffmpeg(self) -> &'static str {
        match self {
            FieldOrder::Tff => "tff",
            FieldOrder::Bff => "bff",
        }
    }
}

/// What the pictures are, as found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Found {
    /// No combing.
    Progressive,
    /// Combed frames, nearly all of them matched by a neighbour's field.
    Telecined,
    /// Combed frames that no field pairing cleans.
    Interlaced,
    /// Both: film with video-rate sections.
    Mixed,
    /// Not measured (`--fields` other than auto, or nothing moved).
    NotAnalysed,
}

/// Counts from the analysis windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct FieldStats {
    /// Frames looked at.
    pub frames: u64,
    /// Frames that moved against the previous one.
    pub moving: u64,
    /// Moving frames whose own fields comb.
    pub combed: u64,
    /// Combed frames that a neighbour's field cleans.
    pub matched: u64,
    /// Unmatched combed frames that look top-field-first / bottom-field-first.
    pub tff_votes: u64,
    pub bff_votes: u64,
}

/// Smallest share of the moving frames that must comb before anything is
/// done: 2% (a 24-minute progressive episode has no combed frame at all;
/// telecine combs 2 frames in 5 where everything moves, 1 in 5 or fewer for
/// drawings on twos; a few combed frames can be a badly edited cut).
pub const MIN_COMBED_SHARE: f64 = 0.02;
/// Fewest combed frames to act on, whatever the share.
pub const MIN_COMBED_FRAMES: u64 = 3;
/// Share of combed frames a neighbour's field must clean for film: 0.8.
/// Pure telecine measures 0.95-1.0 (the unmatched rest are cuts, where no
/// neighbour has the same picture); true interlace 0-0.3 (a field of a
/// slow pan can happen to fit its neighbour).
pub const FILM_MATCHED_SHARE: f64 = 0.8;
/// Below this share matched the film is only a part: below 0.3 it is
/// interlaced video throughout.
pub const MIXED_MATCHED_SHARE: f64 = 0.3;

impl FieldStats {
    /// What these counts say.
    pub fn found(&self) -> Found {
        if self.moving == 0 {
            return Found::NotAnalysed;
        }
        let enough = (self.moving as f64 * MIN_COMBED_SHARE).max(MIN_COMBED_FRAMES as f64);
        if (self.combed as f64) < enough {
            return Found::Progressive;
        }
        let matched = self.matched as f64 / self.combed as f64;
        if matched >= FILM_MATCHED_SHARE {
            Found::Telecined
        } else if matched >= MIXED_MATCHED_SHARE {
            Found::Mixed
        } else {
            Found::Interlaced
        }
    }

    /// Field order from the unmatched frames' votes (top first when tied).
    pub fn order(&self) -> FieldOrder {
        if self.bff_votes > self.tff_votes {
            FieldOrder::Bff
        } else {
            FieldOrder::Tff
        }
    }

    /// Add one frame: its own combing, the moved flag and the four
    /// pairings with its neighbours' opposite fields, as
    /// `[top+prev bottom, top+next bottom, prev top+bottom, next top+bottom]`.
    pub fn add(&mut self, moved: bool, own: Comb, pairings: Option<[Comb; 4]>) {
        self.frames += 1;
        if !moved {
            return;
        }
        self.moving += 1;
        if !own.is_combed() {
            return;
        }
        self.combed += 1;
        let Some(p) = pairings else { return };
        if p.iter().any(|c| !c.is_combed()) {
            self.matched += 1;
            return;
        }
        // True interlace, top first: frame n's top field is next to the
        // previous frame's bottom field in time; bottom first: next to the
        // next frame's bottom field.
        match p[0].max_block.cmp(&p[1].max_block) {
            std::cmp::Ordering::Less => self.tff_votes += 1,
            std::cmp::Ordering::Greater => self.bff_votes += 1,
            std::cmp::Ordering::Equal => {}
        }
    }
}

/// What will be done to the decoded frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "apply", rename_all = "snake_case")]
pub enum Apply {
    /// Frames pass untouched.
    Nothing,
    /// Field matching, deinterlacing of unmatched frames, decimation.
    Film { order: FieldOrder },
    /// Deinterlace every frame.
    Deinterlace { order: FieldOrder },
}

/// The fields decision for one input: what was found and what is done.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Decision {
    pub mode: FieldsMode,
    pub found: Found,
    #[serde(flatten)]
    pub apply: Apply,
    pub stats: FieldStats,
    /// The stream says interlaced (its flags; not used to decide).
    pub flagged_interlaced: bool,
    /// Pts (stream time base) of the clip's first decoded frame: where
    /// decimation cycles start.
    #[serde(skip)]
    pub anchor_pts: i64,
}

impl Decision {
    /// The decision for `mode` given the analysis (`stats`, None when not
    /// analysed) and the stream's own flag.
    pub fn new(mode: FieldsMode, stats: Option<FieldStats>, flagged_interlaced: bool) -> Decision {
        Decision::anchored(mode, stats, flagged_interlaced, 0)
    }

    /// [`Decision::new`] with the clip's first pts.
    pub fn anchored(
        mode: FieldsMode,
        stats: Option<FieldStats>,
        flagged_interlaced: bool,
        anchor_pts: i64,
    ) -> Decision {
        let stats_or_default = stats.unwrap_or_default();
        let found = stats.map_or(Found::NotAnalysed, |s| s.found());
        let order = stats_or_default.order();
        let apply = match mode {
            FieldsMode::Progressive => Apply::Nothing,
            FieldsMode::Film => Apply::Film { order },
            FieldsMode::Deinterlace => Apply::Deinterlace { order },
            FieldsMode::Auto => match found {
                Found::Telecined | Found::Mixed => Apply::Film { order },
                Found::Interlaced => Apply::Deinterlace { order },
                Found::Progressive | Found::NotAnalysed => Apply::Nothing,
            },
        };
        Decision {
            mode,
            found,
            apply,
            stats: stats_or_default,
            flagged_interlaced,
            anchor_pts,
        }
    }

    /// Untouched frames.
    pub fn is_nothing(&self) -> bool {
        self.apply == Apply::Nothing
    }

    /// One line for `info`: what was found (`rate`: the stream's rate in fps).
    pub fn describe_found(&self, rate: f64) -> String {
        let s = &self.stats;
        let counts = if s.frames > 0 {
            format!(
                " ({} of {} moving frames combed, {} of those matched by a neighbour's field)",
                s.combed, s.moving, s.matched
            )
        } else {
            String::new()
        };
        let flagged = if self.flagged_interlaced {
            ", flagged interlaced"
        } else {
            ""
        };
        match self.found {
            Found::Progressive => format!("progressive{flagged}{counts}"),
            Found::Telecined => format!("telecined: {:.3} film in {:.3}{counts}", rate * 0.8, rate),
            Found::Mixed => format!(
                "mixed: telecined film with interlaced sections, {}{counts}",
                s.order().name()
            ),
            Found::Interlaced => format!("interlaced, {}{counts}", s.order().name()),
            Found::NotAnalysed => format!("not analysed{flagged}"),
        }
    }

    /// One line for the report: what was done.
    pub fn describe_applied(&self) -> String {
        let why = if self.mode == FieldsMode::Auto {
            "found by analysis"
        } else {
            "as --fields asked"
        };
        match self.apply {
            Apply::Nothing => format!("frames left as decoded ({why})"),
            Apply::Film { order } => format!(
                "field matching ({}), unmatched frames deinterlaced, repeats dropped ({why})",
                order.ffmpeg()
            ),
            Apply::Deinterlace { order } => {
                format!("deinterlaced with bwdif ({}) ({why})", order.ffmpeg())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn combed(n: u32) -> Comb {
        Comb {
            max_block: n,
            fraction: 0.0,
        }
    }

    #[test]
    fn telecine_interlace_and_progressive_are_told_apart() {
        let clean = combed(0);
        let teeth = combed(200);
        // Telecine: 2 of 5 moving frames combed, each cleaned by a neighbour.
        let mut tc = FieldStats::default();
        for i in 0..100 {
            let own = if i % 5 >= 3 { teeth } else { clean };
            tc.add(true, own, Some([clean, teeth, teeth, teeth]));
        }
        assert_eq!(tc.found(), Found::Telecined);
        // Interlace, top first: every moving frame combed, no pairing clean,
        // the previous bottom field closer than the next.
        let mut il = FieldStats::default();
        for _ in 0..100 {
            il.add(true, teeth, Some([combed(120), teeth, teeth, teeth]));
        }
        assert_eq!(il.found(), Found::Interlaced);
        assert_eq!(il.order(), FieldOrder::Tff);
        // Progressive: nothing combed; still frames say nothing.
        let mut p = FieldStats::default();
        for _ in 0..100 {
            p.add(true, clean, None);
        }
        assert_eq!(p.found(), Found::Progressive);
        let mut still = FieldStats::default();
        still.add(false, teeth, None);
        assert_eq!(still.found(), Found::NotAnalysed);
    }

    #[test]
    fn auto_applies_what_was_found_and_explicit_modes_win() {
        let mut tc = FieldStats::default();
        for _ in 0..10 {
            tc.add(true, combed(200), Some([combed(0); 4]));
        }
        let d = Decision::new(FieldsMode::Auto, Some(tc), false);
        assert_eq!(
            d.apply,
            Apply::Film {
                order: FieldOrder::Tff
            }
        );
        let d = Decision::new(FieldsMode::Progressive, Some(tc), true);
        assert!(d.is_nothing());
        let d = Decision::new(FieldsMode::Auto, None, true);
        assert!(d.is_nothing());
        assert!(d.describe_found(29.97).contains("flagged interlaced"));
    }
}
