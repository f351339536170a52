//! `eval --at-output-size UPSCALER`: the two ways an in-between reaches
//! output size (`upscale.inbetweens`), scored by drop and reconstruct.
//!
//! Per triplet (a, m, b) and interpolator with a flow output:
//! - truth: the upscaled middle drawing, up(m);
//! - `upscale` (the pipeline's default): up(interp(a, b));
//! - `warp`: the interpolator's last step redone on up(a) and up(b) with
//!   its flow (as [`crate::resize::warp`] does in the pipeline, here on
//!   RGB rather than Y'CbCr planes).
//!
//! Pictures stay at the upscaler's own factor (no resize to a target
//! size): the pipeline's resize after it is the same for both ways.

use super::dataset::Record;
use super::eval::{score, Method};
use crate::error::{Error, Result};
use crate::model::{Interpolate, Upscale};
use crate::picture::{Flow, RgbImage};
use crate::resize::warp::warp_blend_rgb;
use std::time::Instant;

/// Both ways for one interpolator, with the upscaler they share.
pub(super) struct OutputSize {
    /// "interpolator + upscaler", for the table.
    pub(super) title: String,
    pub(super) upscaler: Box<dyn Upscale>,
    pub(super) upscale: Method,
    pub(super) warp: Method,
}

impl OutputSize {
    pub(super) fn new(upscaler: Box<dyn Upscale>, interpolator: &str) -> OutputSize {
        OutputSize {
            title: format!("{interpolator} + {}", upscaler.name()),
            upscale: Method::new("upscale", "model"),
            warp: Method::new("warp", "model"),
            upscaler,
        }
    }

    /// Score one triplet; `mid` and `flow` are the interpolator's
    /// in-between of (a, b) and its flow. Returns the pictures for a sheet:
    /// truth, `upscale`, `warp`.
    pub(super) fn score(
        &mut self,
        r: &Record,
        (a, truth, b): (&RgbImage, &RgbImage, &RgbImage),
        mid: &RgbImage,
        flow: &Flow,
    ) -> Result<[RgbImage; 3]> {
        let up_truth = self.upscaler.upscale(truth)?;
        let (up_a, up_b) = (self.upscaler.upscale(a)?, self.upscaler.upscale(b)?);
        let t0 = Instant::now();
        let via_model = self.upscaler.upscale(mid)?;
        self.upscale.seconds += t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let mut warped = warp_blend_rgb(&up_a, &up_b, flow).map_err(Error::Internal)?;
        warped.data.iter_mut().for_each(|v| *v = v.clamp(0.0, 1.0));
        self.warp.seconds += t0.elapsed().as_secs_f64();
        self.upscale.add(r, score(&via_model, &up_truth));
        self.warp.add(r, score(&warped, &up_truth));
        Ok([up_truth, via_model, warped])
    }
}

/// The in-between of (a, b) at `t` and its flow, from an interpolator that
/// gives one.
pub(super) fn with_flow(
    m: &mut dyn Interpolate,
    a: &RgbImage,
    b: &RgbImage,
    t: f32,
) -> Result<(RgbImage, Flow)> {
    match m.interpolate_with_flow(a, b, &[t])?.into_iter().next() {
        Some((mid, Some(flow))) => Ok((mid, flow)),
        _ => Err(Error::Config(format!(
            "--at-output-size: the interpolation model {} gives no flow (no flow_output in its manifest entry)",
            m.name()
        ))),
    }
}
