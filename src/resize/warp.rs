//! In-betweens made at output size: the last step of the interpolator
//! (warp the two drawings with its flow, blend with its mask) redone on the
//! upscaled drawings, so an in-between needs no upscaler call of its own.
//!
//! The flow comes at the interpolator's input size; it is sampled
//! bilinearly at each output pixel's centre and its offsets are scaled by
//! the plane's size over the input size (per axis, so chroma planes of
//! 4:2:0 pictures take half the offset of luma). The drawings are sampled
//! bilinearly with their borders repeated, as RIFE's own warp does
//! (`grid_sample`, border padding, corners aligned). The blend is linear
//! and so is the colour conversion, so warping the Y'CbCr planes gives the
//! picture that warping RGB and converting would, without the two
//! conversions.

use rayon::prelude::*;

use crate::picture::{Flow, Picture, RgbImage};

/// The in-between `w * a(p + d0) + (1 - w) * b(p + d1)` of two pictures of
/// the same size and format, with `flow` (any size: see the module notes).
pub fn warp_blend(a: &Picture, b: &Picture, flow: &Flow) -> Result<Picture, String> {
    let same = a.width == b.width && a.height == b.height && a.chroma == b.chroma;
    if !same || a.depth != b.depth {
        return Err(format!(
            "warp: pictures of {}x{} {:?} {}-bit and {}x{} {:?} {}-bit",
            a.width, a.height, a.chroma, a.depth, b.width, b.height, b.chroma, b.depth
        ));
    }
    check_flow(flow)?;
    let mut out = Picture::black(a.width, a.height, a.chroma, a.depth);
    let max = a.max_value() as f32;
    for p in 0..3 {
        let (pw, ph) = a.plane_size(p);
        if pw == 0 || ph == 0 {
            continue;
        }
        warp_plane(
            Plane::new(&a.planes[p], pw, ph),
            Plane::new(&b.planes[p], pw, ph),
            flow,
            &mut out.planes[p],
            |v| (v + 0.5).clamp(0.0, max) as u16,
        );
    }
    Ok(out)
}

/// [`warp_blend`] on RGB images (values kept as computed, not clamped):
/// the lab's scoring of in-betweens at output size.
pub fn warp_blend_rgb(a: &RgbImage, b: &RgbImage, flow: &Flow) -> Result<RgbImage, String> {
    if (a.width, a.height) != (b.width, b.height) || a.width == 0 || a.height == 0 {
        return Err(format!(
            "warp: images of {}x{} and {}x{}",
            a.width, a.height, b.width, b.height
        ));
    }
    check_flow(flow)?;
    let mut out = RgbImage::new(a.width, a.height);
    let n = a.width * a.height;
    for (c, dst) in out.data.chunks_exact_mut(n).enumerate() {
        warp_plane(
            Plane::new(a.plane(c), a.width, a.height),
            Plane::new(b.plane(c), b.width, b.height),
            flow,
            dst,
            |v| v,
        );
    }
    Ok(out)
}

/// Where the interpolator's two warps disagree: the share of the picture
/// (sampled every `step` pixels each way) at which the earlier frame
/// sampled at `p + d0` and the later one sampled at `p + d1` differ by more
/// than `level` (mean over the three channels, 0..1 units). Where the flow
/// carries one drawing onto the other, both warps land on the same
/// in-between and agree almost everywhere (occlusions are small); where no
/// motion joins the two frames (a cut, or a motion the flow lost) they
/// disagree wherever the pictures differ, and whatever the mask makes of
/// two disagreeing pictures is a morph. `flow` must be at the images' size
/// (the interpolator's own output); None otherwise.
pub fn warp_disagreement(
    a: &RgbImage,
    b: &RgbImage,
    flow: &Flow,
    step: usize,
    level: f32,
) -> Option<f32> {
    let (w, h) = (a.width, a.height);
    let sizes_match = (b.width, b.height) == (w, h) && (flow.width, flow.height) == (w, h);
    if !sizes_match || w == 0 || h == 0 || check_flow(flow).is_err() {
        return None;
    }
    let step = step.max(1);
    let n = w * h;
    let planes_a: Vec<Plane<f32>> = (0..3).map(|c| Plane::new(a.plane(c), w, h)).collect();
    let planes_b: Vec<Plane<f32>> = (0..3).map(|c| Plane::new(b.plane(c), w, h)).collect();
    let (x0, y0, x1, y1) = (flow.plane(0), flow.plane(1), flow.plane(2), flow.plane(3));
    let (mut sampled, mut apart) = (0usize, 0usize);
    for y in (0..h).step_by(step) {
        for x in (0..w).step_by(step) {
            let i = y * w + x;
            let (xf, yf) = (x as f32, y as f32);
            let mut d = 0.0;
            for (pa, pb) in planes_a.iter().zip(&planes_b) {
                let va = pa.sample(xf + x0[i], yf + y0[i]);
                let vb = pb.sample(xf + x1[i], yf + y1[i]);
                d += (va - vb).abs();
            }
            sampled += 1;
            // NaN offsets or pictures count as disagreeing.
            let agree = (d / 3.0).partial_cmp(&level).is_some_and(|o| o.is_le());
            apart += usize::from(!agree);
        }
    }
    debug_assert!(sampled <= n);
    Some(apart as f32 / sampled.max(1) as f32)
}

fn check_flow(flow: &Flow) -> Result<(), String> {
    if flow.width == 0 || flow.height == 0 || flow.data.len() != 5 * flow.width * flow.height {
        return Err(format!(
            "warp: a flow of {}x{} holding {} values (expected 5 planes)",
            flow.width,
            flow.height,
            flow.data.len()
        ));
    }
    Ok(())
}

/// A sample type of a plane.
trait Sample: Copy + Send + Sync {
    fn value(self) -> f32;
}
impl Sample for u16 {
    #[inline]
    fn value(self) -> f32 {
        self as f32
    }
}
impl Sample for f32 {
    #[inline]
    fn value(self) -> f32 {
        self
    }
}

/// One plane of a picture, for sampling.
#[derive(Clone, Copy)]
struct Plane<'a, T> {
    data: &'a [T],
    width: usize,
    height: usize,
}

impl<'a, T: Sample> Plane<'a, T> {
    fn new(data: &'a [T], width: usize, height: usize) -> Plane<'a, T> {
        Plane {
            data,
            width,
            height,
        }
    }

    /// Bilinear sample at (x, y), clamped to the plane (border repeated).
    #[inline]
    fn sample(&self, x: f32, y: f32) -> f32 {
        let x = x.clamp(0.0, (self.width - 1) as f32);
        let y = y.clamp(0.0, (self.height - 1) as f32);
        let (x0, y0) = (x as usize, y as usize);
        let (x1, y1) = ((x0 + 1).min(self.width - 1), (y0 + 1).min(self.height - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let row0 = &self.data[y0 * self.width..];
        let row1 = &self.data[y1 * self.width..];
        let (p, q) = (row0[x0].value(), row0[x1].value());
        let top = p + (q - p) * fx;
        let (p, q) = (row1[x0].value(), row1[x1].value());
        let bottom = p + (q - p) * fx;
        top + (bottom - top) * fy
    }
}

/// Where output position `i` of an axis of `n` samples falls on an axis of
/// `m` samples (pixel centres aligned): the two neighbours and the weight
/// of the second.
fn taps(i: usize, n: usize, m: usize) -> (usize, usize, f32) {
    let v = ((i as f32 + 0.5) * m as f32 / n as f32 - 0.5).clamp(0.0, (m - 1) as f32);
    let v0 = v as usize;
    (v0, (v0 + 1).min(m - 1), v - v0 as f32)
}

fn warp_plane<T: Sample, O: Send>(
    a: Plane<T>,
    b: Plane<T>,
    flow: &Flow,
    out: &mut [O],
    store: impl Fn(f32) -> O + Sync,
) {
    let (w, h) = (a.width, a.height);
    let (fw, fh) = (flow.width, flow.height);
    // Flow offsets are in input pixels; this plane's pixels are smaller.
    let (sx, sy) = (w as f32 / fw as f32, h as f32 / fh as f32);
    let xtaps: Vec<(usize, usize, f32)> = (0..w).map(|x| taps(x, w, fw)).collect();
    let planes: Vec<&[f32]> = (0..5).map(|c| flow.plane(c)).collect();
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let (y0, y1, fy) = taps(y, h, fh);
        // The flow's two rows, blended once for the whole output row.
        let mut line = vec![0f32; 5 * fw];
        for (c, plane) in planes.iter().enumerate() {
            let (r0, r1) = (
                &plane[y0 * fw..(y0 + 1) * fw],
                &plane[y1 * fw..(y1 + 1) * fw],
            );
            for (d, (&p, &q)) in line[c * fw..(c + 1) * fw].iter_mut().zip(r0.iter().zip(r1)) {
                *d = p + (q - p) * fy;
            }
        }
        let at = |c: usize, t: (usize, usize, f32)| {
            let l = &line[c * fw..(c + 1) * fw];
            l[t.0] + (l[t.1] - l[t.0]) * t.2
        };
        let yf = y as f32;
        for (x, (o, &t)) in row.iter_mut().zip(&xtaps).enumerate() {
            let xf = x as f32;
            let va = a.sample(xf + at(0, t) * sx, yf + at(1, t) * sy);
            let vb = b.sample(xf + at(2, t) * sx, yf + at(3, t) * sy);
            let wa = at(4, t).clamp(0.0, 1.0);
            *o = store(vb + (va - vb) * wa);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::Chroma;

    /// A picture whose luma is `f(x, y)`, chroma mid-grey.
    fn picture(w: usize, h: usize, f: impl Fn(usize, usize) -> u16) -> Picture {
        let mut p = Picture::black(w, h, Chroma::Yuv420, 8);
        for y in 0..h {
            for x in 0..w {
                p.planes[0][y * w + x] = f(x, y);
            }
        }
        p.planes[1].iter_mut().for_each(|v| *v = 128);
        p.planes[2].iter_mut().for_each(|v| *v = 128);
        p
    }

    fn flow(w: usize, h: usize, v: [f32; 5]) -> Flow {
        let mut data = Vec::with_capacity(5 * w * h);
        for c in v {
            data.extend(std::iter::repeat_n(c, w * h));
        }
        Flow {
            width: w,
            height: h,
            data,
        }
    }

    /// An RGB image whose three channels are `f(x, y)`.
    fn rgb(w: usize, h: usize, f: impl Fn(usize, usize) -> f32) -> RgbImage {
        let mut img = RgbImage::new(w, h);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    img.data[c * w * h + y * w + x] = f(x, y);
                }
            }
        }
        img
    }

    /// A square moved 4 px right: the true flow makes both warps agree
    /// (the in-between at t = 0.5 samples 2 px back in the earlier frame and
    /// 2 px ahead in the later); a zero flow leaves them apart where the
    /// square was and went; two unrelated pictures disagree everywhere.
    #[test]
    fn warps_agree_where_the_flow_carries_the_motion() {
        let square = |x0: usize| {
            move |x: usize, y: usize| -> f32 {
                if (x0..x0 + 8).contains(&x) && (8..16).contains(&y) {
                    1.0
                } else {
                    0.2
                }
            }
        };
        let (a, b) = (rgb(32, 24, square(8)), rgb(32, 24, square(12)));
        let right = flow(32, 24, [-2.0, 0.0, 2.0, 0.0, 0.5]);
        assert_eq!(warp_disagreement(&a, &b, &right, 1, 0.1), Some(0.0));
        let still = warp_disagreement(&a, &b, &flow(32, 24, [0.0; 5]), 1, 0.1).unwrap();
        assert!((still - 64.0 / 768.0).abs() < 1e-6, "{still}");
        let other = rgb(32, 24, |x, y| ((x + y) % 2) as f32);
        let apart = warp_disagreement(&a, &other, &flow(32, 24, [0.0; 5]), 1, 0.1).unwrap();
        assert!(apart > 0.45, "{apart}");
        // A flow of another size, or a broken one, is not judged.
        assert_eq!(
            warp_disagreement(&a, &b, &flow(16, 12, [0.0; 5]), 1, 0.1),
            None
        );
        let mut nan = right.clone();
        nan.data[0] = f32::NAN;
        assert!(warp_disagreement(&a, &b, &nan, 1, 0.1).unwrap() > 0.0);
    }

    #[test]
    fn no_motion_gives_the_weighted_blend() {
        let a = picture(16, 8, |x, _| (x * 10) as u16);
        let b = picture(16, 8, |_, y| (y * 20) as u16);
        assert_eq!(warp_blend(&a, &b, &flow(8, 4, [0.0; 5])).unwrap(), b);
        let only_a = flow(8, 4, [0.0, 0.0, 0.0, 0.0, 1.0]);
        assert_eq!(warp_blend(&a, &b, &only_a).unwrap(), a);
        let half = warp_blend(&a, &b, &flow(8, 4, [0.0, 0.0, 0.0, 0.0, 0.5])).unwrap();
        assert_eq!(half.planes[0][3 * 16 + 5], 55); // (50 + 60) / 2
    }

    /// A one-pixel offset at input size moves the sample two pixels in a
    /// 2x luma plane and one in its 4:2:0 chroma plane.
    #[test]
    fn offsets_scale_with_the_plane_size() {
        let mut a = picture(32, 16, |x, _| (x * 4) as u16);
        for (i, v) in a.planes[1].iter_mut().enumerate() {
            *v = (i % 16 * 8) as u16;
        }
        let b = a.clone();
        let out = warp_blend(&a, &b, &flow(16, 8, [1.0, 0.0, 1.0, 0.0, 0.5])).unwrap();
        assert_eq!(out.planes[0][5 * 32 + 10], 48); // sampled at x = 12
        assert_eq!(out.planes[0][5 * 32 + 31], 124); // the border repeats
        assert_eq!(out.planes[1][2 * 16 + 4], 40); // chroma at x = 5
                                                   // Offsets in y, negative, and a fractional position in between.
        let c = picture(32, 16, |_, y| (y * 10) as u16);
        let up = warp_blend(&c, &c, &flow(16, 8, [0.0, -0.75, 0.0, -0.75, 1.0])).unwrap();
        assert_eq!(up.planes[0][8 * 32 + 3], 65); // y = 8 - 1.5
    }

    #[test]
    fn mismatched_inputs_are_refused() {
        let a = picture(16, 8, |_, _| 0);
        let b = picture(8, 8, |_, _| 0);
        assert!(warp_blend(&a, &b, &flow(8, 4, [0.0; 5])).is_err());
        let bad = Flow {
            width: 8,
            height: 4,
            data: vec![0.0; 10],
        };
        assert!(warp_blend(&a, &a, &bad).is_err());
    }
}
