//! The bad-in-between guard: every in-between the interpolator makes is
//! judged before it is shown, whatever the gate said of its two frames.
//!
//! Three tests, any of which rejects it (the nearer input frame is shown
//! instead, counted as `interpolate.rejected`):
//! - **Implausible:** non-finite values, or further from both neighbours
//!   than they are from each other (a broken model).
//! - **Break:** the two neighbours are a structural break by the gate's own
//!   rule, or their line art is unrelated ([`GUARD_EDGE_CHANGE`]); no model
//!   can in-between them, so anything but a copy is a morph.
//! - **Failed flow:** the interpolator's own two warps disagree over a large
//!   part of the picture ([`FLOW_FAILED_SHARE`]): it found no motion that
//!   carries one frame onto the other, and its mask mixes two pictures.
//!   This sees a morph itself, where the gate's measures are fooled (cuts
//!   inside one flat-coloured room).
//!
//! A flat neighbour (a black frame) beside one with content is a break too:
//! an in-between there is a fade step the source never had.

use crate::gate::edges::edge_change;
use crate::gate::metrics::rgb_mean_abs_diff;
use crate::gate::{compare, is_break, thumbnail_of, GateParams};
use crate::picture::{Flow, Picture, RgbImage};
use crate::resize::warp::warp_disagreement;

/// Mean absolute difference of two RGB images on a sparse grid (every 2nd
/// pixel and row): cheap, and enough to judge plausibility.
fn mad(a: &RgbImage, b: &RgbImage) -> f32 {
    rgb_mean_abs_diff(a, b, 2) as f32
}

/// What the guard makes of one in-between.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Kept.
    Keep,
    /// Further from both neighbours than they are from each other, or
    /// holding non-finite values: a broken model output.
    Implausible,
    /// A morph of two pictures that differ strongly: a missed cut or a flow
    /// that failed on a large motion.
    Ghost,
}

/// Guard tolerance: 2/255 of mean absolute difference.
pub const GUARD_TOLERANCE: f32 = 2.0 / 255.0;

/// Across a structural break, an in-between is kept only when it is a
/// copy of one neighbour: within this mean absolute difference (0..1
/// units, 1 level) of it. Anything else there mixes two pictures, however
/// faintly; showing the neighbour itself costs nothing to the eye and lets
/// the upscaler reuse its picture (3 levels, the earlier tolerance, let a
/// model's near-copy through).
pub const GHOST_COPY: f32 = 1.0 / 255.0;

/// Edge change (see [`crate::gate::edges::edge_change`]) of two frames
/// above which no flow can carry one drawing into the other: their line
/// art is unrelated, so whatever the model makes between them mixes two
/// pictures. 0.8: every labelled cut of the public clips with line art on
/// both sides measures 0.85 or more (the same-room cuts 0.82-0.97 by this
/// guard's own thumbnails), while 0.58% of the in-shot MOTION transitions
/// there do (6195 transitions over 16 clips; violent camera shakes, wipes
/// and Bad Apple's morphing silhouettes); Big Buck Bunny's none.
pub const GUARD_EDGE_CHANGE: f32 = 0.8;

/// A sample's two warps disagree when they differ by more than this
/// (mean over R, G, B; 0..1 units, about 25 levels of 8-bit).
pub const FLOW_APART_LEVEL: f32 = 0.1;

/// An in-between whose two warps disagree ([`FLOW_APART_LEVEL`]) over at
/// least this share of the picture is a morph. 0.2, from RIFE 4.26 on the
/// public clips (640x360 or native below): every labelled cut whose sides
/// both hold a picture measures 0.26 or more (same-room cuts 0.47-0.67),
/// while of 466 sampled in-shot motion pairs 464 stay at 0.16 or less (the
/// blended frames of a rate-converted tracking shot are the highest); the
/// two above, 0.22 and 0.28, are a whip-fast head turn and a smear in an
/// AMV, where the model's in-between is itself a morph.
pub const FLOW_FAILED_SHARE: f32 = 0.2;

/// A picture counts as flat (no content to mix) when its samples stay
/// within this mean absolute deviation of their mean (0..1 units, 2 levels).
pub const FLAT_DEVIATION: f32 = 2.0 / 255.0;

/// Samples each way the flow check and the flatness test take: about
/// 60,000 of the picture whatever its size (every 2nd pixel at 360p, every
/// 6th at 1080p), a millisecond or two.
fn sample_step(width: usize, height: usize) -> usize {
    (((width * height) as f64 / 60_000.0).sqrt().round() as usize).max(1)
}

/// Mean absolute deviation of an image from its own mean, sampled every
/// `step` pixels each way (two passes over the samples, nothing stored).
fn deviation(img: &RgbImage, step: usize) -> f32 {
    let (w, h) = (img.width, img.height);
    let n = w * h;
    let samples = || {
        (0..3).flat_map(move |c| {
            (0..h).step_by(step).flat_map(move |y| {
                (0..w)
                    .step_by(step)
                    .map(move |x| img.data[c * n + y * w + x])
            })
        })
    };
    let count = samples().count();
    if count == 0 {
        return 0.0;
    }
    let mean = samples().sum::<f32>() / count as f32;
    samples().map(|v| (v - mean).abs()).sum::<f32>() / count as f32
}

/// The guard, with the gate's thresholds for its break test.
#[derive(Clone, Debug)]
pub struct Guard {
    params: GateParams,
}

impl Guard {
    pub fn new(params: GateParams) -> Guard {
        Guard { params }
    }

    /// Whether two input pictures are a structural break: by the gate's
    /// own rule, or line art that no flow can carry across.
    pub fn pair_is_break(&self, a: &Picture, b: &Picture) -> bool {
        let (ta, tb) = (thumbnail_of(a), thumbnail_of(b));
        is_break(&self.params, &compare(&ta, &tb))
            || edge_change(ta.edges(), tb.edges()) >= GUARD_EDGE_CHANGE
    }
}

/// The guard's judgement of an in-between `mid` of `a` and `b`, made with
/// `flow` (the interpolator's own, when it gives one). Broken output
/// (non-finite, or further from both neighbours than they are from each
/// other) is [`Verdict::Implausible`]. It is a [`Verdict::Ghost`] unless it
/// is a copy of a neighbour ([`GHOST_COPY`]) when the neighbours are a
/// structural break (`pair_is_break`, see [`Guard::pair_is_break`]), when
/// one of them is flat and the other is not, or when the flow's two warps
/// disagree over [`FLOW_FAILED_SHARE`] of the picture or more.
pub fn judge(
    a: &RgbImage,
    b: &RgbImage,
    mid: &RgbImage,
    pair_is_break: bool,
    flow: Option<&Flow>,
) -> Verdict {
    if mid.data.iter().any(|v| !v.is_finite()) {
        return Verdict::Implausible;
    }
    let d_ab = mad(a, b);
    let nearest = mad(a, mid).min(mad(b, mid));
    if nearest > d_ab + GUARD_TOLERANCE {
        return Verdict::Implausible;
    }
    if nearest <= GHOST_COPY {
        return Verdict::Keep;
    }
    if pair_is_break || flow_failed(a, b, flow) {
        return Verdict::Ghost;
    }
    let step = sample_step(a.width, a.height);
    let (flat_a, flat_b) = (
        deviation(a, step) <= FLAT_DEVIATION,
        deviation(b, step) <= FLAT_DEVIATION,
    );
    if flat_a != flat_b {
        return Verdict::Ghost;
    }
    Verdict::Keep
}

/// Whether the flow's two warps disagree over [`FLOW_FAILED_SHARE`] of
/// the picture or more (false without a flow, or with one of another size).
pub fn flow_failed(a: &RgbImage, b: &RgbImage, flow: Option<&Flow>) -> bool {
    flow_share(a, b, flow).is_some_and(|s| s >= FLOW_FAILED_SHARE)
}

/// The share of the picture where the flow's two warps disagree (see
/// [`warp_disagreement`]), sampled as the guard samples it.
pub fn flow_share(a: &RgbImage, b: &RgbImage, flow: Option<&Flow>) -> Option<f32> {
    let step = sample_step(a.width, a.height);
    warp_disagreement(a, b, flow?, step, FLOW_APART_LEVEL)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_keeps_in_shot_in_betweens_and_rejects_morphs_across_breaks() {
        // 16x8 grey pictures with a bright bar moving 4 px per frame.
        let bar = |x0: usize, level: f32| RgbImage {
            width: 16,
            height: 8,
            data: (0..3 * 128)
                .map(|i| {
                    let x = i % 16;
                    if (x0..x0 + 4).contains(&x) {
                        level
                    } else {
                        0.2
                    }
                })
                .collect(),
        };
        let (a, b) = (bar(2, 0.9), bar(10, 0.9));
        let fade = RgbImage {
            width: 16,
            height: 8,
            data: a
                .data
                .iter()
                .zip(&b.data)
                .map(|(x, y)| 0.5 * (x + y))
                .collect(),
        };
        // Within a shot (no break) the in-between is kept, true or blended.
        assert_eq!(judge(&a, &b, &bar(6, 0.9), false, None), Verdict::Keep);
        assert_eq!(judge(&a, &b, &fade, false, None), Verdict::Keep);
        // Across a break (a missed cut) anything but a neighbour is a ghost.
        assert_eq!(judge(&a, &b, &fade, true, None), Verdict::Ghost);
        assert_eq!(judge(&a, &b, &bar(6, 0.9), true, None), Verdict::Ghost);
        // Showing one of the neighbours is never rejected.
        assert_eq!(judge(&a, &b, &a, true, None), Verdict::Keep);
        let nan = RgbImage {
            width: 8,
            height: 8,
            data: vec![f32::NAN; 192],
        };
        let grey = RgbImage {
            width: 8,
            height: 8,
            data: vec![0.5; 192],
        };
        assert_eq!(judge(&grey, &grey, &nan, false, None), Verdict::Implausible);

        // The interpolator's own flow: the true motion (4 px each way at
        // t = 0.5) makes its two warps agree and the in-between is kept;
        // a flow that found no motion (a morph: zero offsets, half
        // weights) leaves them apart over the half of the picture the bar
        // crossed, and the in-between is a ghost whatever the gate said.
        let flow = |d: f32| Flow {
            width: 16,
            height: 8,
            data: [-d, 0.0, d, 0.0, 0.5]
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, 128))
                .collect(),
        };
        assert_eq!(flow_share(&a, &b, Some(&flow(4.0))), Some(0.0));
        assert_eq!(
            judge(&a, &b, &bar(6, 0.9), false, Some(&flow(4.0))),
            Verdict::Keep
        );
        assert_eq!(flow_share(&a, &b, Some(&flow(0.0))), Some(0.5));
        assert_eq!(
            judge(&a, &b, &fade, false, Some(&flow(0.0))),
            Verdict::Ghost
        );
        assert_eq!(judge(&a, &b, &a, false, Some(&flow(0.0))), Verdict::Keep);
    }

    /// A cut from a black frame: what the model makes is a fade step of
    /// the new shot that the source never had (and no flow can tell, as
    /// black warps onto black). A fade within a shot that has content on
    /// both sides is kept.
    #[test]
    fn an_in_between_beside_a_flat_frame_is_a_ghost() {
        let image = |f: &dyn Fn(usize) -> f32| RgbImage {
            width: 16,
            height: 8,
            data: (0..3 * 128).map(|i| f(i % 16)).collect(),
        };
        let black = image(&|_| 0.0);
        let shot = image(&|x| if x < 8 { 0.1 } else { 0.6 });
        let half = image(&|x| if x < 8 { 0.05 } else { 0.3 });
        assert_eq!(judge(&black, &shot, &half, false, None), Verdict::Ghost);
        assert_eq!(judge(&shot, &black, &half, false, None), Verdict::Ghost);
        let dimmer = image(&|x| if x < 8 { 0.08 } else { 0.45 });
        assert_eq!(judge(&half, &shot, &dimmer, false, None), Verdict::Keep);
        assert_eq!(judge(&black, &black, &black, false, None), Verdict::Keep);
    }
}
