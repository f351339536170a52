//! Upscale stage: super-resolution of every output frame, reusing the
//! result for a picture already upscaled, then a resize to the exact target.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::Serialize;

use super::interp::Staged;
use super::{Report, Stage};
use crate::color::{from_rgb, to_rgb, Colorimetry};
use crate::error::{Error, Result};
use crate::model::{ModelError, RunModels, Upscale};
use crate::picture::RgbImage;
use crate::picture::{Frame, Picture};
use crate::resize::warp::warp_blend;
use crate::resize::{pick_filter, resize_into, Planar};

/// Counters for the report (`upscale.*`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct UpscaleCounts {
    /// Frames that went through the model.
    pub inferred: u64,
    /// Frames whose picture was upscaled already: result reused, no model call.
    pub reused: u64,
    /// Frames only resized (target not larger than the input).
    pub resized_only: u64,
    /// In-betweens made at output size from the upscaled drawings beside
    /// them (`upscale.inbetweens = "warp"`): no model call of their own.
    pub warped: u64,
    pub tiles: u64,
    pub tile_fallbacks: u64,
}

impl UpscaleCounts {
    /// Add another run's counts (the chunks of one run).
    pub fn add(&mut self, o: &UpscaleCounts) {
        self.inferred += o.inferred;
        self.reused += o.reused;
        self.resized_only += o.resized_only;
        self.warped += o.warped;
        self.tiles += o.tiles;
        self.tile_fallbacks += o.tile_fallbacks;
    }
}

/// How many distinct recent results to keep. Repeats arrive next to each
/// other (holds, copied in-betweens), so a handful is enough and memory
/// stays bounded.
const REUSE_CACHE: usize = 4;

pub struct UpscaleStage {
    model: Option<Box<dyn Upscale>>,
    width: usize,
    height: usize,
    colorimetry: Colorimetry,
    reuse: bool,
    /// Recent results: picture id, picture, and whether a frame showed it
    /// yet (a drawing upscaled ahead for the in-betweens before it has
    /// not: its first showing is the frame that model call was for).
    cache: VecDeque<(u64, Arc<Picture>, bool)>,
    resize_buf: Vec<f32>,
    /// The model's own seconds counter when this stage got it.
    model_s0: f64,
    pub counts: UpscaleCounts,
}

impl UpscaleStage {
    /// `model` None: only resize (target not larger than the input).
    pub fn new(
        model: Option<Box<dyn Upscale>>,
        width: usize,
        height: usize,
        colorimetry: Colorimetry,
        reuse: bool,
    ) -> UpscaleStage {
        UpscaleStage {
            model_s0: model.as_ref().map_or(0.0, |m| m.model_seconds()),
            model,
            width,
            height,
            colorimetry,
            reuse,
            cache: VecDeque::new(),
            resize_buf: Vec::new(),
            counts: UpscaleCounts::default(),
        }
    }

    /// Seconds spent inside the model so far (by this stage).
    pub fn model_seconds(&self) -> f64 {
        self.model.as_ref().map_or(0.0, |m| m.model_seconds()) - self.model_s0
    }

    /// The model back, for the next run (the next chunk of a plan).
    pub fn into_model(self) -> Option<Box<dyn Upscale>> {
        self.model
    }

    pub fn process(&mut self, s: Staged) -> Result<Frame> {
        if let Some(job) = &s.warp {
            if self.model.is_some() {
                let (a, _) = self.upscaled(job.a.0, &job.a.1, true, false)?;
                let (b, _) = self.upscaled(job.b.0, &job.b.1, true, false)?;
                let pic = warp_blend(&a, &b, &job.flow).map_err(Error::Internal)?;
                self.counts.warped += 1;
                return Ok(Frame {
                    picture: Arc::new(pic),
                    ..s.frame
                });
            }
        }
        let (picture, reused) = self.upscaled(s.picture_id, &s.frame.picture, self.reuse, true)?;
        if reused {
            self.counts.reused += 1;
        }
        Ok(Frame { picture, ..s.frame })
    }

    /// The picture at output size, and whether it counts as reused: the
    /// cached result when `cached` allows it and there is one, else through
    /// the model (or the resize alone) and into the cache. `shown`: a frame
    /// shows it (not only an in-between warped from it). A frame showing a
    /// result made ahead for in-betweens is not a reuse but the frame that
    /// model call was for, so that with every drawing on the output grid
    /// `inferred + reused + warped + resized_only = frames_out`.
    fn upscaled(
        &mut self,
        id: u64,
        src: &Arc<Picture>,
        cached: bool,
        shown: bool,
    ) -> Result<(Arc<Picture>, bool)> {
        if cached {
            if let Some(entry) = self.cache.iter_mut().find(|(i, _, _)| *i == id) {
                let reused = !shown || entry.2;
                entry.2 |= shown;
                return Ok((entry.1.clone(), reused));
            }
        }
        let rgb = to_rgb(src, self.colorimetry);
        let big = match self.model.as_mut() {
            Some(m) => {
                let out = m.upscale(&rgb)?;
                let k = m.scale() as usize;
                if out.width != rgb.width * k || out.height != rgb.height * k {
                    return Err(ModelError::BadOutput {
                        model: "upscaler",
                        what: format!(
                            "{}x{} for a {}x{} frame (expected x{k})",
                            out.width, out.height, rgb.width, rgb.height
                        ),
                    }
                    .into());
                }
                self.counts.inferred += 1;
                let (tiles, fallbacks) = m.tile_stats();
                self.counts.tiles = tiles;
                self.counts.tile_fallbacks = fallbacks;
                out
            }
            None => {
                self.counts.resized_only += 1;
                rgb
            }
        };
        let sized = if big.width == self.width && big.height == self.height {
            big
        } else {
            let planar =
                Planar::new(&big.data, big.width, big.height, 3).map_err(Error::Internal)?;
            let filter = pick_filter(big.width, big.height, self.width, self.height);
            self.resize_buf.resize(3 * self.width * self.height, 0.0);
            resize_into(
                &planar,
                &mut self.resize_buf,
                self.width,
                self.height,
                filter,
            )
            .map_err(Error::Internal)?;
            // Lend the buffer to the frame; it comes back after conversion.
            RgbImage {
                width: self.width,
                height: self.height,
                data: std::mem::take(&mut self.resize_buf),
            }
        };
        let pic = Arc::new(from_rgb(&sized, src.chroma, src.depth, self.colorimetry));
        if sized.width == self.width && sized.height == self.height && self.resize_buf.is_empty() {
            self.resize_buf = sized.data;
        }
        // Kept even without reuse: an in-between warped from this drawing
        // asks for it again.
        self.cache.retain(|(i, _, _)| *i != id);
        self.cache.push_back((id, pic.clone(), shown));
        if self.cache.len() > REUSE_CACHE {
            self.cache.pop_front();
        }
        Ok((pic, false))
    }
}

impl Stage for UpscaleStage {
    type In = Staged;
    type Out = Frame;

    fn push(&mut self, s: Staged) -> Result<Vec<Frame>> {
        Ok(vec![self.process(s)?])
    }

    fn finish(&mut self) -> Result<Vec<Frame>> {
        Ok(Vec::new())
    }

    fn take_warnings(&mut self) -> Vec<String> {
        self.model
            .as_mut()
            .map_or_else(Vec::new, |m| m.take_warnings())
    }

    fn report(self, report: &mut Report, models: &mut RunModels) {
        report.model_s += self.model_seconds();
        report.upscale = Some(self.counts.clone());
        models.upscaler = self.into_model();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::Matrix;
    use crate::picture::Chroma;

    /// Nearest-neighbour x2 "model" that counts its calls.
    struct Nearest2(u64);
    impl Upscale for Nearest2 {
        fn name(&self) -> &str {
            "nearest2"
        }
        fn scale(&self) -> u32 {
            2
        }
        fn upscale(&mut self, img: &RgbImage) -> Result<RgbImage> {
            self.0 += 1;
            let (w, h) = (img.width * 2, img.height * 2);
            let mut out = RgbImage::new(w, h);
            for c in 0..3 {
                for y in 0..h {
                    for x in 0..w {
                        out.data[c * w * h + y * w + x] =
                            img.data[c * img.width * img.height + (y / 2) * img.width + x / 2];
                    }
                }
            }
            Ok(out)
        }
    }

    fn staged(id: u64, k: u64, luma: u16) -> Staged {
        let mut p = Picture::black(33, 17, Chroma::Yuv420, 10);
        p.planes[0].iter_mut().for_each(|v| *v = luma);
        Staged {
            frame: Frame {
                index: k,
                pts: k as i64,
                sub: 0,
                picture: Arc::new(p),
            },
            picture_id: id,
            warp: None,
        }
    }

    const CM: Colorimetry = Colorimetry::new(Matrix::Bt709, false);

    #[test]
    fn reuses_repeated_pictures_and_keeps_depth() {
        let mut s = UpscaleStage::new(Some(Box::new(Nearest2(0))), 66, 34, CM, true);
        let ids = [0u64, 0, 0, 3, 3, 5, 0];
        for (k, &id) in ids.iter().enumerate() {
            let f = s.process(staged(id, k as u64, 300 + id as u16)).unwrap();
            assert_eq!(
                (f.picture.width, f.picture.height, f.picture.depth),
                (66, 34, 10)
            );
            assert_eq!(f.pts, k as i64);
            // 10-bit values survive the round trip through RGB.
            assert!((f.picture.planes[0][100] as i32 - (300 + id as i32)).abs() <= 1);
        }
        assert_eq!(s.counts.inferred, 3);
        assert_eq!(s.counts.reused, 4);
    }

    #[test]
    fn no_reuse_runs_every_frame_and_resizes_to_target() {
        let mut s = UpscaleStage::new(Some(Box::new(Nearest2(0))), 50, 26, CM, false);
        for k in 0..3 {
            let f = s.process(staged(0, k, 500)).unwrap();
            assert_eq!((f.picture.width, f.picture.height), (50, 26));
        }
        assert_eq!(s.counts.inferred, 3);
        assert_eq!(s.counts.reused, 0);
    }

    /// An in-between made from the upscaled drawings beside it: the model
    /// runs once per drawing, the in-between costs no call, and the
    /// drawing shown after it reuses the result made for it.
    #[test]
    fn warped_in_betweens_cost_no_model_call() {
        use crate::picture::Flow;
        use crate::stage::interp::WarpJob;
        let mut s = UpscaleStage::new(Some(Box::new(Nearest2(0))), 66, 34, CM, true);
        let (a, b) = (staged(0, 0, 300), staged(1, 2, 500));
        let flow = Flow {
            width: 33,
            height: 17,
            data: [0.0, 0.0, 0.0, 0.0, 0.25]
                .iter()
                .flat_map(|&v| std::iter::repeat_n(v, 33 * 17))
                .collect(),
        };
        let mut mid = staged(1 << 62, 1, 0);
        mid.warp = Some(Arc::new(WarpJob {
            a: (0, a.frame.picture.clone()),
            b: (1, b.frame.picture.clone()),
            flow,
        }));
        let f0 = s.process(a).unwrap();
        let f1 = s.process(mid).unwrap();
        let f2 = s.process(b).unwrap();
        assert_eq!((f1.pts, f1.picture.width, f1.picture.height), (1, 66, 34));
        let v = |f: &Frame| f.picture.planes[0][100] as i32;
        // 0.25 of a, 0.75 of b.
        assert!(
            (v(&f1) - (v(&f0) + 3 * v(&f2)) / 4).abs() <= 1,
            "{}",
            v(&f1)
        );
        let c = &s.counts;
        // b's result was made ahead for the in-between: showing it is the
        // frame that call was for, not a reuse.
        assert_eq!((c.inferred, c.warped, c.reused), (2, 1, 0));
    }
}
