//! How close a prediction is to the truth: PSNR, SSIM and a line-art
//! distance, on RGB images (values 0..1) of the same size.
//!
//! - **PSNR** over the three channels (peak 1).
//! - **SSIM** on luma (BT.601 weights, 0..255), 8x8 windows every 4 pixels,
//!   constants of Wang et al. 2004 (K1 0.01, K2 0.03): the gate's own
//!   ([`crate::gate::metrics::ssim`], f32), on full-size pictures.
//! - **Chamfer** (pixels, lower is better): the symmetric mean distance
//!   between the line maps of prediction and truth, as EISAI (Chen & Zwicker
//!   2022) uses for animation. A line pixel is one whose Sobel gradient
//!   magnitude on luma is at least [`LINE_GRADIENT`] (a step of about 26
//!   levels: inked lines and flat-colour borders, not shading or grain);
//!   the distance from each line pixel of one map to the nearest of the
//!   other comes from a 3-4 chamfer distance transform (within 8% of the
//!   Euclidean distance). A ghosted blend doubles lines (a distance of half
//!   the motion) where PSNR only sees a soft average; a sharp frame a little
//!   off in time keeps single lines close to the truth's.

use crate::picture::RgbImage;

/// Sobel magnitude (on 0..1 luma, kernels normalised so a unit step gives
/// 1) from which a pixel counts as a line.
pub const LINE_GRADIENT: f32 = 0.1;

fn luma(img: &RgbImage) -> Vec<f32> {
    let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
    (0..img.width * img.height)
        .map(|i| 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i])
        .collect()
}

/// PSNR in dB over R, G, B (values clamped to 0..1 first); 100 for equal images.
pub fn psnr(a: &RgbImage, b: &RgbImage) -> f64 {
    let n = a.data.len().min(b.data.len()).max(1);
    let mse = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(&x, &y)| {
            let d = f64::from(x.clamp(0.0, 1.0) - y.clamp(0.0, 1.0));
            d * d
        })
        .sum::<f64>()
        / n as f64;
    if mse <= 1e-10 {
        100.0
    } else {
        -10.0 * mse.log10()
    }
}

/// Mean SSIM of the luma planes (module docs): the gate's SSIM on
/// full-size luma.
pub fn ssim(a: &RgbImage, b: &RgbImage) -> f64 {
    let levels =
        |img: &RgbImage| -> Vec<f32> { luma(img).into_iter().map(|v| v * 255.0).collect() };
    let (la, lb) = (levels(a), levels(b));
    f64::from(crate::gate::metrics::ssim(a.width, a.height, &la, &lb))
}

/// The line map of an image (module docs): true where a line is.
pub fn lines(img: &RgbImage) -> Vec<bool> {
    let (w, h) = (img.width, img.height);
    let y = luma(img);
    let at = |x: usize, yy: usize| y[yy * w + x];
    let mut out = vec![false; w * h];
    for yy in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let gx = (at(x + 1, yy - 1) + 2.0 * at(x + 1, yy) + at(x + 1, yy + 1))
                - (at(x - 1, yy - 1) + 2.0 * at(x - 1, yy) + at(x - 1, yy + 1));
            let gy = (at(x - 1, yy + 1) + 2.0 * at(x, yy + 1) + at(x + 1, yy + 1))
                - (at(x - 1, yy - 1) + 2.0 * at(x, yy - 1) + at(x + 1, yy - 1));
            out[yy * w + x] = (gx * gx + gy * gy).sqrt() / 4.0 >= LINE_GRADIENT;
        }
    }
    out
}

/// Distance (pixels, 3-4 chamfer) from every pixel to the nearest `true`
/// of `map`; `w + h` everywhere when the map has none.
fn distance(map: &[bool], w: usize, h: usize) -> Vec<f32> {
    let far = 3 * (w + h) as u32;
    let mut d: Vec<u32> = map.iter().map(|&m| if m { 0 } else { far }).collect();
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let mut v = d[i];
            if x > 0 {
                v = v.min(d[i - 1] + 3);
            }
            if y > 0 {
                v = v.min(d[i - w] + 3);
                if x > 0 {
                    v = v.min(d[i - w - 1] + 4);
                }
                if x + 1 < w {
                    v = v.min(d[i - w + 1] + 4);
                }
            }
            d[i] = v;
        }
    }
    for y in (0..h).rev() {
        for x in (0..w).rev() {
            let i = y * w + x;
            let mut v = d[i];
            if x + 1 < w {
                v = v.min(d[i + 1] + 3);
            }
            if y + 1 < h {
                v = v.min(d[i + w] + 3);
                if x + 1 < w {
                    v = v.min(d[i + w + 1] + 4);
                }
                if x > 0 {
                    v = v.min(d[i + w - 1] + 4);
                }
            }
            d[i] = v;
        }
    }
    d.into_iter().map(|v| v as f32 / 3.0).collect()
}

/// Symmetric mean chamfer distance between the line maps (pixels; 0 when
/// neither has lines).
pub fn chamfer(a: &RgbImage, b: &RgbImage) -> f64 {
    let (w, h) = (a.width, a.height);
    let (la, lb) = (lines(a), lines(b));
    let (da, db) = (distance(&la, w, h), distance(&lb, w, h));
    let mean_to = |from: &[bool], to: &[f32]| -> Option<f64> {
        let (mut s, mut n) = (0.0, 0u64);
        for (i, _) in from.iter().enumerate().filter(|(_, &m)| m) {
            s += f64::from(to[i]);
            n += 1;
        }
        (n > 0).then(|| s / n as f64)
    };
    match (mean_to(&la, &db), mean_to(&lb, &da)) {
        (Some(x), Some(y)) => (x + y) / 2.0,
        (None, None) => 0.0,
        (Some(x), None) | (None, Some(x)) => x,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white image with a black vertical line at `x` (2 px wide).
    fn line_at(x0: usize) -> RgbImage {
        let (w, h) = (64, 32);
        let mut img = RgbImage::new(w, h);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    img.data[c * w * h + y * w + x] =
                        if x == x0 || x == x0 + 1 { 0.0 } else { 1.0 };
                }
            }
        }
        img
    }

    /// SSIM as the lab computed it before it used the gate's: the same
    /// windows and constants over full-size luma, summed in f64.
    fn ssim_f64(a: &RgbImage, b: &RgbImage) -> f64 {
        const C1: f64 = (0.01 * 255.0) * (0.01 * 255.0);
        const C2: f64 = (0.03 * 255.0) * (0.03 * 255.0);
        let (w, h) = (a.width, a.height);
        let (ya, yb) = (luma(a), luma(b));
        let (mut sum, mut count) = (0.0, 0u64);
        for y0 in (0..h.saturating_sub(7)).step_by(4) {
            for x0 in (0..w.saturating_sub(7)).step_by(4) {
                let mut s = [0f64; 5];
                for y in y0..y0 + 8 {
                    for x in x0..x0 + 8 {
                        let p = f64::from(ya[y * w + x]) * 255.0;
                        let q = f64::from(yb[y * w + x]) * 255.0;
                        for (k, v) in [p, q, p * p, q * q, p * q].into_iter().enumerate() {
                            s[k] += v;
                        }
                    }
                }
                let [ma, mb, saa, sbb, sab] = s.map(|v| v / 64.0);
                let va = (saa - ma * ma).max(0.0);
                let vb = (sbb - mb * mb).max(0.0);
                let cov = sab - ma * mb;
                sum += ((2.0 * ma * mb + C1) * (2.0 * cov + C2))
                    / ((ma * ma + mb * mb + C1) * (va + vb + C2));
                count += 1;
            }
        }
        if count == 0 {
            1.0
        } else {
            sum / count as f64
        }
    }

    #[test]
    fn ssim_is_the_gates_within_a_ten_thousandth_of_the_f64_sums() {
        let mut rng = crate::testutil::Rng(7);
        // A soft gradient with grain at an odd size, and a shifted, noisier copy.
        let (w, h) = (101, 67);
        let mut a = RgbImage::new(w, h);
        let mut b = RgbImage::new(w, h);
        for (i, (p, q)) in a.data.iter_mut().zip(b.data.iter_mut()).enumerate() {
            let x = (i % w) as f32 / w as f32;
            *p = (0.2 + 0.6 * x + 0.05 * rng.f()).clamp(0.0, 1.0);
            *q = (0.25 + 0.55 * x + 0.1 * rng.f()).clamp(0.0, 1.0);
        }
        let pairs = [
            ("line 6 px off", line_at(20), line_at(26)),
            ("line 1 px off", line_at(20), line_at(21)),
            ("gradient with grain", a.clone(), b),
            ("same", a.clone(), a),
        ];
        for (name, x, y) in pairs {
            let (gate, old) = (ssim(&x, &y), ssim_f64(&x, &y));
            println!("{name}: ssim {gate:.6} (f64 sums {old:.6})");
            assert!((gate - old).abs() < 1e-4, "{name}: {gate} against {old}");
        }
    }

    #[test]
    fn identical_images_score_perfectly() {
        let a = line_at(20);
        assert_eq!(psnr(&a, &a), 100.0);
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-9);
        assert_eq!(chamfer(&a, &a), 0.0);
    }

    #[test]
    fn chamfer_measures_line_displacement_and_ghosts() {
        let (a, b) = (line_at(20), line_at(26));
        // A 2-px line is a 4-px band of line pixels (both of its edges):
        // 6 px off, the band's pixels are 3..6 px from the other's.
        let d = chamfer(&a, &b);
        assert!((d - 4.5).abs() < 0.1, "a line 6 px off: {d}");
        let near = chamfer(&a, &line_at(23));
        assert!((near - 1.5).abs() < 0.1 && near < d, "3 px off: {near}");
        // A 50/50 blend of the two shows both lines at half contrast: each
        // truth line is found, but the ghost adds far lines.
        let mut blend = a.clone();
        for (o, (x, y)) in blend.data.iter_mut().zip(a.data.iter().zip(&b.data)) {
            *o = 0.5 * (x + y);
        }
        let truth = line_at(23);
        let sharp_but_late = line_at(24);
        assert!(chamfer(&sharp_but_late, &truth) < chamfer(&blend, &truth));
    }
}
