//! Interpolate stage: turns gated input frames into frames on the output
//! time grid, calling the interpolation model only for MOTION in-betweens.
//!
//! The planner ([`crate::timing::Planner`]) decides what each output frame
//! is; this stage fetches the pictures, runs the model, checks the result
//! with the bad-in-between guard and converts back to YUV.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use serde::Serialize;

use super::guard::{judge, Guard, Verdict};
use super::{Report, Stage};
use crate::color::{from_rgb, to_rgb, Colorimetry};
use crate::error::{Error, Result};
use crate::gate::GateParams;
use crate::model::{Interpolate, ModelError, RunModels};
use crate::picture::{Flow, Frame, Picture, RgbImage};
use crate::timing::{Decision, OutFrame, Planner};

pub use super::gate::Gated;

/// A frame on the output grid, ready for upscaling.
#[derive(Clone, Debug)]
pub struct Staged {
    pub frame: Frame,
    pub picture_id: u64,
    /// An in-between to be made at output size from the upscaled drawings
    /// beside it (`upscale.inbetweens = "warp"`); `frame.picture` is then
    /// the interpolator's own in-between at input size.
    pub warp: Option<Arc<WarpJob>>,
}

/// What an in-between is made from at output size: the drawings beside it
/// (picture id and picture, earlier first) and the interpolator's flow.
#[derive(Debug)]
pub struct WarpJob {
    pub a: (u64, Arc<Picture>),
    pub b: (u64, Arc<Picture>),
    pub flow: Flow,
}

/// Ids of generated pictures live above every input index.
const SYNTHETIC_ID: u64 = 1 << 62;

/// Counters for the report (`interpolate.*`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct InterpCounts {
    /// In-betweens made by the model and kept.
    pub inferred: u64,
    /// Input frames shown as they are (on-grid copies and held drawings).
    pub copied: u64,
    /// Of `copied`: frames repeated across a HOLD instead of a model call.
    pub held: u64,
    /// Frames on the old side of a cut (never a blend of two shots).
    pub cut_copies: u64,
    /// In-betweens rejected by the guard and replaced by the nearer input frame.
    pub rejected: u64,
    /// Model calls (one call may make several in-betweens of one pair).
    pub model_calls: u64,
}

impl InterpCounts {
    /// Add another run's counts (the chunks of one run).
    pub fn add(&mut self, o: &InterpCounts) {
        self.inferred += o.inferred;
        self.copied += o.copied;
        self.held += o.held;
        self.cut_copies += o.cut_copies;
        self.rejected += o.rejected;
        self.model_calls += o.model_calls;
    }
}

pub struct InterpStage {
    planner: Planner,
    model: Box<dyn Interpolate>,
    colorimetry: Colorimetry,
    /// The bad-in-between guard (None: no guard).
    guard: Option<Guard>,
    frames: VecDeque<Gated>,
    rgb: HashMap<u64, Arc<RgbImage>>,
    last_pts: Option<i64>,
    last_step: Option<i64>,
    nominal_step: i64,
    /// Where the input ends (`--clip` END), in the input time base.
    end_limit: Option<i64>,
    /// Place the output grid on the input's timeline; false: output pts
    /// start at 0.
    on_timeline: bool,
    /// Output pts of grid point 0 ([`Planner::origin_output_pts`]).
    pts_offset: i64,
    next_synthetic: u64,
    /// Hand each kept in-between on with its flow, to be made at output
    /// size by the upscale stage.
    warp: bool,
    /// The output frames (k) this stage's part of the run owns (a chunk
    /// also makes frames the runner drops): only those are counted.
    window: Option<(u64, u64)>,
    /// The model's own seconds counter when this stage got it (a model
    /// reused from an earlier chunk has counted already).
    model_s0: f64,
    pub counts: InterpCounts,
}

impl InterpStage {
    /// `nominal_step`: the input's nominal frame duration in its time base,
    /// used as the last frame's duration when it cannot be measured.
    pub fn new(
        planner: Planner,
        model: Box<dyn Interpolate>,
        colorimetry: Colorimetry,
        guard: Option<GateParams>,
        nominal_step: i64,
    ) -> InterpStage {
        let model_s0 = model.model_seconds();
        InterpStage {
            planner,
            model,
            colorimetry,
            guard: guard.map(Guard::new),
            frames: VecDeque::new(),
            rgb: HashMap::new(),
            last_pts: None,
            last_step: None,
            nominal_step: nominal_step.max(1),
            end_limit: None,
            on_timeline: false,
            pts_offset: 0,
            next_synthetic: SYNTHETIC_ID,
            warp: false,
            window: None,
            model_s0,
            counts: InterpCounts::default(),
        }
    }

    /// The input ends here (a `--clip` END, input time base): the last
    /// frame is shown until then at most.
    pub fn with_end_limit(mut self, end: Option<i64>) -> InterpStage {
        self.end_limit = end;
        self
    }

    /// Hand each kept in-between on with the flow it was made from
    /// (`upscale.inbetweens = "warp"`), when the model gives one.
    pub fn with_warp(mut self, warp: bool) -> InterpStage {
        self.warp = warp && self.model.has_flow();
        self
    }

    /// Count only output frames k in `lo..hi` (a chunk's own frames), so
    /// that the chunks' counts add up to the whole run's.
    pub fn with_window(mut self, window: Option<(u64, u64)>) -> InterpStage {
        self.window = window;
        self
    }

    fn owns(&self, k: u64) -> bool {
        self.window.is_none_or(|(lo, hi)| (lo..hi).contains(&k))
    }

    /// Keep the output on the input's timeline: output frame k is written
    /// at pts `k` plus the planner's [`Planner::origin_output_pts`] (the
    /// whole run's first frame, also for a chunk), keeping video in sync
    /// with the copied audio when the video starts late.
    pub fn with_grid_origin(mut self) -> InterpStage {
        self.on_timeline = true;
        self
    }

    /// Seconds spent inside the model so far (by this stage).
    pub fn model_seconds(&self) -> f64 {
        self.model.model_seconds() - self.model_s0
    }

    /// The model back, for the next run (the next chunk of a plan).
    pub fn into_model(self) -> Box<dyn Interpolate> {
        self.model
    }

    fn frame(&self, index: u64) -> Result<&Gated> {
        self.frames
            .iter()
            .find(|g| g.frame.index == index)
            .ok_or_else(|| {
                Error::Internal(format!(
                    "interpolation needs input frame {index}, which was already released"
                ))
            })
    }

    fn rgb_of(&mut self, index: u64) -> Result<Arc<RgbImage>> {
        if let Some(img) = self.rgb.get(&index) {
            return Ok(img.clone());
        }
        let pic = self.frame(index)?.frame.picture.clone();
        let img = Arc::new(to_rgb(&pic, self.colorimetry));
        self.rgb.insert(index, img.clone());
        Ok(img)
    }

    fn copy_of(&self, k: u64, pts: i64, src: u64) -> Result<Staged> {
        let g = self.frame(src)?;
        Ok(Staged {
            frame: Frame {
                index: k,
                pts: pts + self.pts_offset,
                sub: 0,
                picture: g.frame.picture.clone(),
            },
            picture_id: g.picture_id,
            warp: None,
        })
    }

    fn resolve(&mut self, outs: Vec<OutFrame>) -> Result<Vec<Staged>> {
        let mut result = Vec::with_capacity(outs.len());
        let mut i = 0;
        while i < outs.len() {
            let o = outs[i];
            match o.decision {
                Decision::Copy { src } => {
                    self.counts.copied += u64::from(self.owns(o.k));
                    result.push(self.copy_of(o.k, o.pts, src)?);
                    i += 1;
                }
                Decision::Hold { src } => {
                    self.counts.copied += u64::from(self.owns(o.k));
                    self.counts.held += u64::from(self.owns(o.k));
                    result.push(self.copy_of(o.k, o.pts, src)?);
                    i += 1;
                }
                Decision::CutSide { src } => {
                    self.counts.cut_copies += u64::from(self.owns(o.k));
                    result.push(self.copy_of(o.k, o.pts, src)?);
                    i += 1;
                }
                Decision::Interp { a, b, .. } => {
                    // Every consecutive in-between of the same pair, in one
                    // model call.
                    let ts: Vec<f32> = outs[i..]
                        .iter()
                        .map_while(|o| match o.decision {
                            Decision::Interp { a: a2, b: b2, t } if (a2, b2) == (a, b) => Some(t),
                            _ => None,
                        })
                        .collect();
                    let run = ts.len();
                    result.extend(self.in_betweens(&outs[i..i + run], (a, b), &ts)?);
                    i += run;
                }
            }
        }
        self.forget_passed();
        Ok(result)
    }

    /// The in-betweens `outs` of the pair `(a, b)`, at timesteps `ts`, from
    /// one model call, each kept, or replaced by the nearer input frame
    /// where the ghost guard rejects it.
    fn in_betweens(
        &mut self,
        outs: &[OutFrame],
        (a, b): (u64, u64),
        ts: &[f32],
    ) -> Result<Vec<Staged>> {
        let mut result = Vec::with_capacity(outs.len());
        let ia = self.rgb_of(a)?;
        let ib = self.rgb_of(b)?;
        // Flows serve the warp at output size and the guard's
        // failed-flow test.
        let with_flow = self.warp || (self.guard.is_some() && self.model.has_flow());
        let mids = if with_flow {
            self.model.interpolate_with_flow(&ia, &ib, ts)?
        } else {
            let mids = self.model.interpolate(&ia, &ib, ts)?;
            mids.into_iter().map(|m| (m, None)).collect()
        };
        self.counts.model_calls += 1;
        if mids.len() != ts.len() {
            return Err(ModelError::BadOutput {
                model: "interpolation model",
                what: format!("{} frames for {} timesteps", mids.len(), ts.len()),
            }
            .into());
        }
        let template = self.frame(a)?.frame.picture.clone();
        let pair_is_break = match &self.guard {
            Some(guard) => {
                let pb = self.frame(b)?.frame.picture.clone();
                guard.pair_is_break(&template, &pb)
            }
            None => false,
        };
        for (n, (mid, flow)) in mids.into_iter().enumerate() {
            let out = outs[n];
            let t = ts[n];
            if self.guard.is_some()
                && judge(&ia, &ib, &mid, pair_is_break, flow.as_ref()) != Verdict::Keep
            {
                self.counts.rejected += u64::from(self.owns(out.k));
                let nearer = if t < 0.5 { a } else { b };
                result.push(self.copy_of(out.k, out.pts, nearer)?);
                continue;
            }
            self.counts.inferred += u64::from(self.owns(out.k));
            let pic = from_rgb(&mid, template.chroma, template.depth, self.colorimetry);
            let id = self.next_synthetic;
            self.next_synthetic += 1;
            let warp = match flow.filter(|_| self.warp) {
                Some(flow) => {
                    let (ga, gb) = (self.frame(a)?, self.frame(b)?);
                    Some(Arc::new(WarpJob {
                        a: (ga.picture_id, ga.frame.picture.clone()),
                        b: (gb.picture_id, gb.frame.picture.clone()),
                        flow,
                    }))
                }
                None => None,
            };
            result.push(Staged {
                frame: Frame {
                    index: out.k,
                    pts: out.pts + self.pts_offset,
                    sub: 0,
                    picture: Arc::new(pic),
                },
                picture_id: id,
                warp,
            });
        }
        Ok(result)
    }

    /// Drops the decoded frames and RGB copies no later output needs.
    fn forget_passed(&mut self) {
        let keep_from = self.planner.oldest_needed();
        while self
            .frames
            .front()
            .is_some_and(|g| g.frame.index < keep_from)
        {
            self.frames.pop_front();
        }
        self.rgb.retain(|&idx, _| idx >= keep_from);
    }
}

impl Stage for InterpStage {
    type In = Gated;
    type Out = Staged;

    /// Feed the next input frame; returns output frames now decided.
    fn push(&mut self, g: Gated) -> Result<Vec<Staged>> {
        let (index, pts, class) = (g.frame.index, g.frame.pts, g.class);
        if self.last_pts.is_none() && self.on_timeline {
            self.pts_offset = self.planner.origin_output_pts(pts);
        }
        if let Some(last) = self.last_pts {
            if pts > last {
                self.last_step = Some(pts - last);
            }
        }
        self.last_pts = Some(pts);
        self.frames.push_back(g);
        let outs = self.planner.push(index, pts, class);
        self.resolve(outs)
    }

    /// End of input: the remaining output frames.
    fn finish(&mut self) -> Result<Vec<Staged>> {
        let Some(last) = self.last_pts else {
            return Ok(Vec::new());
        };
        let mut end = last.saturating_add(self.last_step.unwrap_or(self.nominal_step));
        if let Some(limit) = self.end_limit {
            if limit > last {
                end = end.min(limit);
            }
        }
        let outs = self.planner.finish(end);
        self.resolve(outs)
    }

    fn report(self, report: &mut Report, models: &mut RunModels) {
        report.model_s += self.model_seconds();
        report.interpolate = Some(self.counts.clone());
        models.interpolator = Some(self.into_model());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Matrix;
    use crate::gate::Class;
    use crate::picture::{Chroma, Picture};
    use crate::timing::{CadenceMode, PlanParams};

    const CM: Colorimetry = Colorimetry::new(Matrix::Bt709, false);

    /// A grey picture whose luma encodes a value, for identity checks.
    fn pic(value: u16) -> Arc<Picture> {
        let mut p = Picture::black(64, 64, Chroma::Yuv420, 8);
        p.planes[0].iter_mut().for_each(|v| *v = value);
        Arc::new(p)
    }

    /// Averages its inputs (a perfect "model" for flat frames).
    struct Blend;
    impl Interpolate for Blend {
        fn name(&self) -> &str {
            "blend"
        }
        fn interpolate(&mut self, a: &RgbImage, b: &RgbImage, ts: &[f32]) -> Result<Vec<RgbImage>> {
            Ok(ts
                .iter()
                .map(|&t| RgbImage {
                    width: a.width,
                    height: a.height,
                    data: a
                        .data
                        .iter()
                        .zip(&b.data)
                        .map(|(x, y)| x + (y - x) * t)
                        .collect(),
                })
                .collect())
        }
    }

    /// A broken model: returns noise far from both inputs.
    struct Broken;
    impl Interpolate for Broken {
        fn name(&self) -> &str {
            "broken"
        }
        fn interpolate(&mut self, a: &RgbImage, _: &RgbImage, ts: &[f32]) -> Result<Vec<RgbImage>> {
            Ok(ts
                .iter()
                .map(|_| RgbImage {
                    width: a.width,
                    height: a.height,
                    data: (0..a.data.len())
                        .map(|i| if (i * 7919) % 13 < 6 { 0.0 } else { 1.0 })
                        .collect(),
                })
                .collect())
        }
    }

    fn stage(model: Box<dyn Interpolate>, guard: bool) -> InterpStage {
        let planner = Planner::new(PlanParams::new((48, 1), CadenceMode::Preserve), (1, 24));
        InterpStage::new(planner, model, CM, guard.then(GateParams::default), 1)
    }

    fn run(stage: &mut InterpStage, frames: &[(u16, Option<Class>)]) -> Vec<Staged> {
        let mut out = Vec::new();
        for (i, &(v, class)) in frames.iter().enumerate() {
            let g = Gated {
                frame: Frame {
                    index: i as u64,
                    pts: i as i64,
                    sub: 0,
                    picture: pic(v),
                },
                class,
                picture_id: i as u64,
            };
            out.extend(stage.push(g).unwrap());
        }
        out.extend(stage.finish().unwrap());
        out
    }

    #[test]
    fn doubles_frames_and_counts_decisions() {
        let mut s = stage(Box::new(Blend), true);
        let out = run(
            &mut s,
            &[
                (40, None),
                (40, Some(Class::Hold)),
                (56, Some(Class::Motion)),
                (200, Some(Class::Cut)),
            ],
        );
        assert_eq!(out.len(), 8);
        for (k, f) in out.iter().enumerate() {
            assert_eq!(f.frame.pts, k as i64);
        }
        let c = &s.counts;
        assert_eq!((c.inferred, c.cut_copies, c.rejected), (1, 1, 0));
        assert_eq!(c.copied, 6);
        assert_eq!(c.inferred + c.copied + c.cut_copies + c.rejected, 8);
        // The motion in-between is a new picture between 40 and 56.
        let mid = out[3].frame.picture.planes[0][0];
        assert!(mid > 44 && mid < 52, "{mid}");
        assert!(out[3].picture_id >= SYNTHETIC_ID);
        // The cut side is the old shot's last frame, never a blend.
        assert_eq!(out[5].frame.picture.planes[0][0], 56);
        assert_eq!(out[6].frame.picture.planes[0][0], 200);
    }

    #[test]
    fn guard_shows_a_real_frame_where_a_missed_cut_would_be_blended() {
        // The gate called a full-picture jump MOTION (a missed cut): the
        // model's blend is rejected and the nearer input frame shown.
        let mut s = stage(Box::new(Blend), true);
        let out = run(&mut s, &[(40, None), (200, Some(Class::Motion))]);
        assert_eq!((s.counts.inferred, s.counts.rejected), (0, 1));
        for f in &out {
            let v = f.frame.picture.planes[0][0];
            assert!(v == 40 || v == 200, "a blend got through: {v}");
        }
    }

    #[test]
    fn guard_rejects_a_broken_model() {
        let mut s = stage(Box::new(Broken), true);
        let out = run(
            &mut s,
            &[
                (60, None),
                (70, Some(Class::Motion)),
                (80, Some(Class::Motion)),
            ],
        );
        assert_eq!(s.counts.rejected, 2);
        assert_eq!(s.counts.inferred, 0);
        for f in &out {
            let v = f.frame.picture.planes[0][0];
            assert!([60, 70, 80].contains(&v), "guard let through {v}");
        }
        // Without the guard the broken frames go through.
        let mut s = stage(Box::new(Broken), false);
        run(&mut s, &[(60, None), (70, Some(Class::Motion))]);
        assert_eq!(s.counts.inferred, 1);
    }

    /// [`Blend`] that tells how it blended: no motion, weight 1 - t.
    struct FlowBlend;
    impl Interpolate for FlowBlend {
        fn name(&self) -> &str {
            "flow-blend"
        }
        fn interpolate(&mut self, a: &RgbImage, b: &RgbImage, ts: &[f32]) -> Result<Vec<RgbImage>> {
            Blend.interpolate(a, b, ts)
        }
        fn has_flow(&self) -> bool {
            true
        }
        fn interpolate_with_flow(
            &mut self,
            a: &RgbImage,
            b: &RgbImage,
            ts: &[f32],
        ) -> Result<crate::model::run::FlowMids> {
            let n = a.width * a.height;
            let mids = self.interpolate(a, b, ts)?;
            Ok(mids
                .into_iter()
                .zip(ts)
                .map(|(m, &t)| {
                    let mut data = vec![0.0; 5 * n];
                    data[4 * n..].iter_mut().for_each(|w| *w = 1.0 - t);
                    let flow = Flow {
                        width: a.width,
                        height: a.height,
                        data,
                    };
                    (m, Some(flow))
                })
                .collect())
        }
    }

    /// With `warp`, a kept in-between carries the drawings beside it and
    /// its flow; held frames, cut sides and rejected in-betweens are plain
    /// copies of a drawing, so the upscaler sees each drawing once.
    #[test]
    fn warp_mode_hands_on_the_drawings_and_flow_of_each_kept_in_between() {
        let mut s = stage(Box::new(FlowBlend), true).with_warp(true);
        let out = run(
            &mut s,
            &[
                (40, None),
                (40, Some(Class::Hold)),
                (56, Some(Class::Motion)),
                (200, Some(Class::Motion)), // a missed cut: the guard rejects it
            ],
        );
        let jobs: Vec<_> = out.iter().filter_map(|f| f.warp.as_ref()).collect();
        assert_eq!(jobs.len(), 1);
        assert_eq!((jobs[0].a.0, jobs[0].b.0), (1, 2));
        assert_eq!(jobs[0].flow.plane(4)[0], 0.5);
        assert_eq!((s.counts.inferred, s.counts.rejected), (1, 1));
        let rejected = &out[5];
        assert!(rejected.warp.is_none() && rejected.picture_id <= 3);
        // Without a flow from the model, warp mode falls back to plain
        // in-betweens.
        let s = stage(Box::new(Blend), true).with_warp(true);
        assert!(!s.warp);
    }
}
