//! Separable resampling of planar `f32` images (C x H x W).
//!
//! Each axis gets a precomputed table of normalised weights; the image is
//! resized horizontally first, then vertically. The two passes are fused per
//! band of output rows (the band's source rows are filtered horizontally
//! into a small thread-local buffer, then vertically into the output), and
//! bands of every channel run in parallel with rayon, so no image-sized
//! intermediate is allocated. Samples outside the image take the value of
//! the nearest edge pixel (clamping): their weights are folded onto the edge
//! pixel, so every output pixel reads one contiguous run of source pixels.
//! Weights are computed in f64 and normalised so that the f32 weights sum to
//! 1 (a constant image stays constant to ~1e-7).
//!
//! Output values are not clamped: Lanczos overshoots slightly at sharp
//! edges, and the caller clamps when converting back to integer samples.

use rayon::prelude::*;
use std::cell::RefCell;

/// A borrowed planar image: `data` holds `channels` planes of
/// `height` rows of `width` samples (C x H x W, row-major).
#[derive(Debug, Clone, Copy)]
pub struct Planar<'a> {
    pub data: &'a [f32],
    pub width: usize,
    pub height: usize,
    pub channels: usize,
}

impl<'a> Planar<'a> {
    /// Checked constructor: `data.len()` must be `channels * height * width`.
    pub fn new(
        data: &'a [f32],
        width: usize,
        height: usize,
        channels: usize,
    ) -> Result<Self, String> {
        let want = channels
            .checked_mul(height)
            .and_then(|v| v.checked_mul(width))
            .ok_or_else(|| format!("image size {channels}x{height}x{width} overflows"))?;
        if data.len() != want {
            return Err(format!(
                "planar image {channels}x{height}x{width} needs {want} samples, got {}",
                data.len()
            ));
        }
        Ok(Planar {
            data,
            width,
            height,
            channels,
        })
    }
}

/// Resampling filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Windowed sinc, 3 lobes. For downscaling the kernel is widened by the
    /// scale factor (antialiasing).
    Lanczos3,
    /// Exact area (box) average: each output pixel is the coverage-weighted
    /// mean of the source pixels under it. For integer-ratio downscales it is
    /// the plain mean of each k x k block.
    Area,
    /// Triangle (tent) filter; widened by the scale factor for downscaling.
    Bilinear,
}

/// Choose a filter for a resize: [`Filter::Area`] when both ratios are
/// integers >= 2 (e.g. x4 model output down to x2), else
/// [`Filter::Lanczos3`]. (An identity size is copied by [`resize`] whatever
/// the filter.)
pub fn pick_filter(src_w: usize, src_h: usize, out_w: usize, out_h: usize) -> Filter {
    let int_down = |src: usize, out: usize| out > 0 && src.is_multiple_of(out) && src / out >= 2;
    if int_down(src_w, out_w) && int_down(src_h, out_h) {
        Filter::Area
    } else {
        Filter::Lanczos3
    }
}

/// Resize `src` to `out_w` x `out_h`; returns a C x `out_h` x `out_w` vector.
///
/// * Same size: an exact copy of the input.
/// * Zero sizes never panic: if `channels`, `out_w` or `out_h` is 0 the
///   (correctly sized) result is empty, and if the source has no pixels
///   (`width` or `height` 0) there is nothing to sample and an empty `Vec`
///   is returned.
///
/// # Panics
/// If `src.data` is shorter than `channels * height * width` (a caller bug;
/// [`Planar::new`] checks it and returns an `Err` instead). Extra trailing
/// samples are ignored.
pub fn resize(src: &Planar, out_w: usize, out_h: usize, filter: Filter) -> Vec<f32> {
    let (w, h, c) = (src.width, src.height, src.channels);
    if c == 0 || out_w == 0 || out_h == 0 || w == 0 || h == 0 {
        return Vec::new();
    }
    let mut out = vec![0.0f32; c * out_h * out_w];
    if let Err(e) = resize_into(src, &mut out, out_w, out_h, filter) {
        panic!("{e}");
    }
    out
}

/// Like [`resize`], but writes into `out` (length `channels * out_h *
/// out_w`), so that a per-frame buffer can be reused (a fresh 30 MB buffer
/// costs page faults on every frame). Never panics: a wrong `out` length,
/// a short `src.data`, or a source without pixels (while the output has
/// some) is an `Err`.
pub fn resize_into(
    src: &Planar,
    out: &mut [f32],
    out_w: usize,
    out_h: usize,
    filter: Filter,
) -> Result<(), String> {
    let (w, h, c) = (src.width, src.height, src.channels);
    let n = c * h * w;
    let n_out = c * out_h * out_w;
    if src.data.len() < n {
        return Err(format!(
            "planar image {c}x{h}x{w} needs {n} samples, got {}",
            src.data.len()
        ));
    }
    if out.len() != n_out {
        return Err(format!(
            "output buffer for {c}x{out_h}x{out_w} needs {n_out} samples, got {}",
            out.len()
        ));
    }
    if n_out == 0 {
        return Ok(());
    }
    if n == 0 {
        return Err(format!(
            "cannot resize an empty {w}x{h} image to {out_w}x{out_h}"
        ));
    }
    let data = &src.data[..n];
    if out_w == w && out_h == h {
        out.copy_from_slice(data);
        return Ok(());
    }

    let htaps = (out_w != w).then(|| Taps::new(w, out_w, filter));
    let Some(vtaps) = (out_h != h).then(|| Taps::new(h, out_h, filter)) else {
        // Horizontal pass only.
        if let Some(t) = &htaps {
            out.par_chunks_mut(out_w)
                .zip(data.par_chunks(w))
                .with_min_len(8)
                .for_each(|(dst, row)| t.apply_row(row, dst));
        }
        return Ok(());
    };

    // Both passes (or vertical only), fused per band of output rows: each
    // band filters the source rows it needs horizontally into a small
    // thread-local buffer, then filters that vertically. No image-sized
    // intermediate is allocated, and the rows stay in cache. Bands aim at
    // about 128 source rows; the rows shared by neighbouring bands are
    // filtered twice (a few percent of the work).
    let ratio = h as f64 / out_h as f64;
    let band = ((128.0 / ratio) as usize).clamp(8, 512).min(out_h);
    let plane_in = h * w;
    let plane_out = out_h * out_w;
    out.par_chunks_mut(plane_out)
        .enumerate()
        .for_each(|(ch, out_plane)| {
            let src_plane = &data[ch * plane_in..(ch + 1) * plane_in];
            out_plane
                .par_chunks_mut(band * out_w)
                .enumerate()
                .for_each(|(b, dst)| {
                    let y0 = b * band;
                    let rows = dst.len() / out_w;
                    filter_band(src_plane, w, htaps.as_ref(), &vtaps, y0, rows, out_w, dst);
                });
        });
    Ok(())
}

thread_local! {
    static BAND: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Output rows `y0..y0 + rows` of one plane.
#[allow(clippy::too_many_arguments)]
fn filter_band(
    src: &[f32],
    w: usize,
    htaps: Option<&Taps>,
    vtaps: &Taps,
    y0: usize,
    rows: usize,
    out_w: usize,
    dst: &mut [f32],
) {
    let r0 = (y0..y0 + rows).map(|y| vtaps.start[y]).min().unwrap_or(0);
    let r1 = (y0..y0 + rows)
        .map(|y| vtaps.start[y] + vtaps.len[y])
        .max()
        .unwrap_or(0);
    let mut run = |band_src: &[f32]| {
        for (i, d) in dst.chunks_exact_mut(out_w).enumerate() {
            let (start, weights) = vtaps.get(y0 + i);
            let mut taps = weights.iter().enumerate().map(|(k, &wt)| {
                let o = (start - r0 + k) * out_w;
                (wt, &band_src[o..o + out_w])
            });
            // At least one tap always exists.
            if let Some((wt, row)) = taps.next() {
                for (d, &s) in d.iter_mut().zip(row) {
                    *d = wt * s;
                }
            }
            for (wt, row) in taps {
                for (d, &s) in d.iter_mut().zip(row) {
                    *d += wt * s;
                }
            }
        }
    };
    match htaps {
        None => run(&src[r0 * w..r1 * w]),
        Some(t) => BAND.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.resize((r1 - r0) * out_w, 0.0);
            for (r, d) in (r0..r1).zip(buf.chunks_exact_mut(out_w)) {
                t.apply_row(&src[r * w..(r + 1) * w], d);
            }
            run(&buf);
        }),
    }
}

/// Per-axis weight table: output pixel `i` is
/// `sum_k weights[i][k] * src[start[i] + k]`, with all indices in range.
/// A second, padded copy gives every pixel exactly `stride` taps (zeros
/// added, start moved left where the edge needs it) so that the horizontal
/// pass runs a fixed-length, fully unrolled loop.
struct Taps {
    start: Vec<usize>,
    len: Vec<usize>,
    stride: usize,
    weights: Vec<f32>,
    padded_start: Vec<usize>,
    padded: Vec<f32>,
}

impl Taps {
    fn new(src: usize, out: usize, filter: Filter) -> Taps {
        let scale = src as f64 / out as f64;
        let mut per_pixel: Vec<(usize, Vec<f32>)> = Vec::with_capacity(out);
        let mut acc: Vec<f64> = Vec::new();
        for i in 0..out {
            // Raw (index, weight) pairs, indices possibly outside 0..src.
            let (lo, raw): (i64, Vec<f64>) = match filter {
                Filter::Area => area_weights(i, scale),
                Filter::Lanczos3 => kernel_weights(i, scale, 3.0, lanczos3),
                Filter::Bilinear => kernel_weights(i, scale, 1.0, triangle),
            };
            // Fold out-of-range taps onto the edge pixels (clamping).
            let last = src as i64 - 1;
            let first_idx = lo.clamp(0, last) as usize;
            let last_idx = (lo + raw.len() as i64 - 1).clamp(0, last) as usize;
            acc.clear();
            acc.resize(last_idx - first_idx + 1, 0.0);
            for (k, &wt) in raw.iter().enumerate() {
                let j = (lo + k as i64).clamp(0, last) as usize;
                acc[j - first_idx] += wt;
            }
            // Trim zero taps at both ends.
            let a = acc.iter().position(|&v| v != 0.0);
            let b = acc.iter().rposition(|&v| v != 0.0);
            let (start, ws) = match (a, b) {
                (Some(a), Some(b)) => (first_idx + a, normalise(&acc[a..=b])),
                // Degenerate (cannot happen for these kernels): nearest pixel.
                _ => {
                    let c = ((i as f64 + 0.5) * scale).floor() as i64;
                    (c.clamp(0, last) as usize, vec![1.0])
                }
            };
            per_pixel.push((start, ws));
        }
        let stride = per_pixel.iter().map(|(_, w)| w.len()).max().unwrap_or(1);
        let mut taps = Taps {
            start: Vec::with_capacity(out),
            len: Vec::with_capacity(out),
            stride,
            weights: vec![0.0; out * stride],
            padded_start: Vec::with_capacity(out),
            padded: vec![0.0; out * stride],
        };
        for (i, (start, ws)) in per_pixel.into_iter().enumerate() {
            taps.start.push(start);
            taps.len.push(ws.len());
            taps.weights[i * stride..i * stride + ws.len()].copy_from_slice(&ws);
            // stride <= src because every run lies inside 0..src.
            let ps = start.min(src - stride);
            let o = i * stride + (start - ps);
            taps.padded_start.push(ps);
            taps.padded[o..o + ws.len()].copy_from_slice(&ws);
        }
        taps
    }

    #[inline]
    fn get(&self, i: usize) -> (usize, &[f32]) {
        let o = i * self.stride;
        (self.start[i], &self.weights[o..o + self.len[i]])
    }

    /// Filter one row (`row.len()` = source size, `dst.len()` = output
    /// size).
    fn apply_row(&self, row: &[f32], dst: &mut [f32]) {
        macro_rules! fixed {
            ($($n:literal)*) => {
                match self.stride {
                    $($n => self.apply_fixed::<$n>(row, dst),)*
                    _ => self.apply_any(row, dst),
                }
            };
        }
        fixed!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20);
    }

    #[inline]
    fn apply_fixed<const N: usize>(&self, row: &[f32], dst: &mut [f32]) {
        let it = dst
            .iter_mut()
            .zip(&self.padded_start)
            .zip(self.padded.chunks_exact(N));
        for ((d, &s), w) in it {
            let (Ok(x), Ok(w)) = (
                <&[f32; N]>::try_from(&row[s..s + N]),
                <&[f32; N]>::try_from(w),
            ) else {
                continue;
            };
            let mut acc = 0.0f32;
            for k in 0..N {
                acc += x[k] * w[k];
            }
            *d = acc;
        }
    }

    fn apply_any(&self, row: &[f32], dst: &mut [f32]) {
        for (i, d) in dst.iter_mut().enumerate() {
            let (start, ws) = self.get(i);
            *d = dot(&row[start..start + ws.len()], ws);
        }
    }
}

/// Dot product with four independent accumulators (lets the compiler keep
/// several multiply-adds in flight).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [0.0f32; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        s[0] += x[0] * y[0];
        s[1] += x[1] * y[1];
        s[2] += x[2] * y[2];
        s[3] += x[3] * y[3];
    }
    let mut tail = 0.0f32;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail += x * y;
    }
    (s[0] + s[1]) + (s[2] + s[3]) + tail
}

/// Normalise to sum 1, convert to f32, and put the f32 rounding residue on
/// the largest weight so that the f32 weights sum to 1 as closely as f32
/// allows (a constant image stays constant).
fn normalise(w: &[f64]) -> Vec<f32> {
    let sum: f64 = w.iter().sum();
    let mut out: Vec<f32> = w.iter().map(|&v| (v / sum) as f32).collect();
    let got: f64 = out.iter().map(|&v| f64::from(v)).sum();
    let big = out
        .iter()
        .enumerate()
        .max_by(|x, y| x.1.abs().total_cmp(&y.1.abs()))
        .map(|(i, _)| i)
        .unwrap_or(0);
    out[big] = (f64::from(out[big]) + (1.0 - got)) as f32;
    out
}

/// Weights of a symmetric kernel for output pixel `i`; the kernel is
/// stretched by the scale factor when downscaling (antialiasing).
fn kernel_weights(i: usize, scale: f64, support: f64, k: fn(f64) -> f64) -> (i64, Vec<f64>) {
    let fscale = scale.max(1.0);
    let radius = support * fscale;
    let center = (i as f64 + 0.5) * scale; // in source coordinates
    let lo = (center - radius - 0.5).floor() as i64;
    let hi = (center + radius - 0.5).ceil() as i64;
    let raw = (lo..=hi)
        .map(|j| k((j as f64 + 0.5 - center) / fscale))
        .collect();
    (lo, raw)
}

/// Coverage weights: output pixel `i` covers source `[i*s, (i+1)*s)`.
fn area_weights(i: usize, scale: f64) -> (i64, Vec<f64>) {
    let a = i as f64 * scale;
    let b = (i + 1) as f64 * scale;
    let lo = a.floor() as i64;
    let hi = (b.ceil() as i64 - 1).max(lo);
    let raw = (lo..=hi)
        .map(|j| {
            let ov = b.min(j as f64 + 1.0) - a.max(j as f64);
            // Ignore slivers left by floating-point error.
            if ov > 1e-9 {
                ov
            } else {
                0.0
            }
        })
        .collect();
    (lo, raw)
}

fn sinc(x: f64) -> f64 {
    if x == 0.0 {
        1.0
    } else {
        let px = std::f64::consts::PI * x;
        px.sin() / px
    }
}

fn lanczos3(x: f64) -> f64 {
    if x.abs() < 3.0 {
        sinc(x) * sinc(x / 3.0)
    } else {
        0.0
    }
}

fn triangle(x: f64) -> f64 {
    (1.0 - x.abs()).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILTERS: [Filter; 3] = [Filter::Lanczos3, Filter::Area, Filter::Bilinear];

    fn img(c: usize, h: usize, w: usize, f: impl Fn(usize, usize, usize) -> f32) -> Vec<f32> {
        let mut v = Vec::with_capacity(c * h * w);
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    v.push(f(ch, y, x));
                }
            }
        }
        v
    }

    fn run(
        data: &[f32],
        c: usize,
        h: usize,
        w: usize,
        ow: usize,
        oh: usize,
        f: Filter,
    ) -> Vec<f32> {
        let p = Planar::new(data, w, h, c).unwrap();
        let out = resize(&p, ow, oh, f);
        assert_eq!(out.len(), c * oh * ow);
        out
    }

    #[test]
    fn identity_is_exact_copy() {
        let d = img(3, 7, 5, |c, y, x| {
            (c * 100 + y * 10 + x) as f32 * 0.37 - 3.0
        });
        for f in FILTERS {
            assert_eq!(run(&d, 3, 7, 5, 5, 7, f), d);
        }
    }

    #[test]
    fn constant_stays_constant() {
        let sizes = [1usize, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 97];
        for f in FILTERS {
            for &(w, ow) in &[
                (1usize, 1usize),
                (1, 5),
                (5, 1),
                (7, 3),
                (3, 7),
                (16, 4),
                (97, 31),
            ] {
                for &h in &sizes {
                    for &oh in &sizes {
                        let d = vec![0.734_f32; 2 * h * w];
                        let out = run(&d, 2, h, w, ow, oh, f);
                        for &v in &out {
                            assert!((v - 0.734).abs() < 1e-6, "{f:?} {w}x{h}->{ow}x{oh}: {v}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn area_x2_is_2x2_mean() {
        let (w, h) = (10, 6);
        // Arbitrary (non-dyadic) values.
        let d = img(3, h, w, |c, y, x| {
            ((c * 31 + y * 7 + x * 13) % 17) as f32 * 0.1 + 0.013
        });
        assert_eq!(pick_filter(w, h, w / 2, h / 2), Filter::Area);
        let out = run(&d, 3, h, w, w / 2, h / 2, Filter::Area);
        for c in 0..3 {
            for y in 0..h / 2 {
                for x in 0..w / 2 {
                    let p = |yy: usize, xx: usize| d[c * h * w + yy * w + xx];
                    let (a, b) = (p(2 * y, 2 * x), p(2 * y, 2 * x + 1));
                    let (cc, dd) = (p(2 * y + 1, 2 * x), p(2 * y + 1, 2 * x + 1));
                    let want = ((a + b) + (cc + dd)) / 4.0;
                    assert_eq!(out[c * (h / 2) * (w / 2) + y * (w / 2) + x], want);
                }
            }
        }
    }

    #[test]
    fn area_x4_and_x3_block_means() {
        // Dyadic values: every summation order is exact.
        let (w, h) = (12, 12);
        let d = img(1, h, w, |_, y, x| ((y * 5 + x * 3) % 11) as f32 / 8.0);
        for k in [3usize, 4] {
            let out = run(&d, 1, h, w, w / k, h / k, Filter::Area);
            for y in 0..h / k {
                for x in 0..w / k {
                    let mut s = 0.0f64;
                    for yy in 0..k {
                        for xx in 0..k {
                            s += f64::from(d[(y * k + yy) * w + x * k + xx]);
                        }
                    }
                    let want = s / (k * k) as f64;
                    let got = f64::from(out[y * (w / k) + x]);
                    assert!((got - want).abs() < 1e-6, "k={k} {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn lanczos_downscale_antialiases_checkerboard() {
        // A one-pixel checkerboard is pure Nyquist energy: a properly
        // widened kernel averages it to 0.5 everywhere, edges included
        // (clamping repeats the edge pixel, which costs about 0.01 there).
        let cases = [
            (256usize, 192usize, 64usize, 48usize),
            (255, 191, 64, 48),
            (256, 192, 77, 55),
            (1024, 64, 256, 16),
        ];
        for (w, h, ow, oh) in cases {
            for phase in 0..2 {
                let d = img(1, h, w, |_, y, x| ((x + y + phase) % 2) as f32);
                let out = run(&d, 1, h, w, ow, oh, Filter::Lanczos3);
                let worst = out.iter().map(|v| (v - 0.5).abs()).fold(0.0f32, f32::max);
                assert!(
                    worst < 0.02,
                    "{w}x{h}->{ow}x{oh} phase {phase}: error {worst}"
                );
            }
        }
    }

    #[test]
    fn lanczos_upscale_keeps_linear_ramp() {
        let (w, h) = (40, 30);
        let d = img(1, h, w, |_, y, x| 0.01 * x as f32 + 0.02 * y as f32 + 0.1);
        for (ow, oh) in [(160usize, 120usize), (80, 60), (97, 71)] {
            let out = run(&d, 1, h, w, ow, oh, Filter::Lanczos3);
            let (sx, sy) = (w as f64 / ow as f64, h as f64 / oh as f64);
            // Interior: the kernel (3 source pixels) stays inside the image.
            for y in 0..oh {
                let cy = (y as f64 + 0.5) * sy - 0.5;
                if cy < 3.0 || cy > h as f64 - 4.0 {
                    continue;
                }
                for x in 0..ow {
                    let cx = (x as f64 + 0.5) * sx - 0.5;
                    if cx < 3.0 || cx > w as f64 - 4.0 {
                        continue;
                    }
                    let want = 0.01 * cx + 0.02 * cy + 0.1;
                    let got = f64::from(out[y * ow + x]);
                    assert!(
                        (got - want).abs() < 1e-3,
                        "{ow}x{oh} ({x},{y}) {got} vs {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn one_axis_only() {
        let d = img(2, 6, 8, |c, y, x| (c + y * 3 + x) as f32);
        // Width halves, height kept: rows are averaged pairwise.
        let out = run(&d, 2, 6, 8, 4, 6, Filter::Area);
        assert_eq!(out[0], 0.5);
        // Height doubles, width kept.
        let out = run(&d, 2, 6, 8, 8, 12, Filter::Bilinear);
        assert_eq!(out.len(), 2 * 12 * 8);
    }

    #[test]
    fn zero_sizes_do_not_panic() {
        let d = vec![1.0f32; 12];
        let p = Planar::new(&d, 4, 3, 1).unwrap();
        for f in FILTERS {
            assert!(resize(&p, 0, 5, f).is_empty());
            assert!(resize(&p, 5, 0, f).is_empty());
            let e = Planar::new(&[], 0, 3, 1).unwrap();
            assert!(resize(&e, 4, 4, f).is_empty());
            let e = Planar::new(&[], 4, 0, 2).unwrap();
            assert!(resize(&e, 4, 4, f).is_empty());
            let e = Planar::new(&[], 4, 3, 0).unwrap();
            assert!(resize(&e, 4, 4, f).is_empty());
        }
        assert!(Planar::new(&d, 4, 4, 1).is_err());
        assert_eq!(pick_filter(4, 4, 0, 0), Filter::Lanczos3);
        assert_eq!(pick_filter(0, 0, 0, 0), Filter::Lanczos3);
    }

    #[test]
    fn pick_filter_rules() {
        assert_eq!(pick_filter(2560, 1440, 1280, 720), Filter::Area);
        assert_eq!(pick_filter(2560, 1440, 640, 360), Filter::Area);
        assert_eq!(pick_filter(2560, 1440, 1920, 1080), Filter::Lanczos3);
        assert_eq!(pick_filter(2560, 1440, 1280, 1440), Filter::Lanczos3);
        assert_eq!(pick_filter(1280, 720, 2560, 1440), Filter::Lanczos3);
        assert_eq!(pick_filter(1984, 964, 992, 482), Filter::Area);
    }

    struct XorShift(u64);
    impl XorShift {
        fn f(&mut self) -> f32 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            (x >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    /// Straightforward two-pass reference in f64 from the same tables.
    fn reference(
        d: &[f32],
        c: usize,
        h: usize,
        w: usize,
        ow: usize,
        oh: usize,
        f: Filter,
    ) -> Vec<f64> {
        let (tx, ty) = (Taps::new(w, ow, f), Taps::new(h, oh, f));
        let mut out = vec![0.0f64; c * oh * ow];
        for ch in 0..c {
            for y in 0..oh {
                let (sy, wy) = ty.get(y);
                for x in 0..ow {
                    let (sx, wx) = tx.get(x);
                    let mut acc = 0.0f64;
                    for (ky, &a) in wy.iter().enumerate() {
                        for (kx, &b) in wx.iter().enumerate() {
                            let v = d[ch * h * w + (sy + ky) * w + sx + kx];
                            acc += f64::from(a) * f64::from(b) * f64::from(v);
                        }
                    }
                    out[ch * oh * ow + y * ow + x] = acc;
                }
            }
        }
        out
    }

    #[test]
    fn matches_reference_across_bands() {
        let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
        let cases = [
            (300usize, 200usize, 100usize, 70usize), // several bands, /3
            (64, 600, 32, 300),                      // tall, /2
            (40, 30, 160, 1000),                     // big upscale, many bands
            (97, 513, 31, 129),                      // odd, non-integer
            (50, 700, 50, 233),                      // vertical only
            (777, 9, 100, 9),                        // horizontal only, stride > 20
            (1, 300, 3, 77),
        ];
        for f in FILTERS {
            for &(w, h, ow, oh) in &cases {
                let d: Vec<f32> = (0..2 * h * w).map(|_| rng.f()).collect();
                let got = run(&d, 2, h, w, ow, oh, f);
                let want = reference(&d, 2, h, w, ow, oh, f);
                for (i, (&g, &r)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (f64::from(g) - r).abs() < 1e-5,
                        "{f:?} {w}x{h}->{ow}x{oh} [{i}] {g} vs {r}"
                    );
                }
            }
        }
    }

    #[test]
    fn resize_into_checks_lengths() {
        let d = vec![0.5f32; 2 * 4 * 6];
        let p = Planar::new(&d, 6, 4, 2).unwrap();
        let mut out = vec![0.0f32; 2 * 3 * 5];
        assert!(resize_into(&p, &mut out, 5, 3, Filter::Lanczos3).is_ok());
        assert!(out.iter().all(|&v| (v - 0.5).abs() < 1e-6));
        assert!(resize_into(&p, &mut out, 5, 4, Filter::Lanczos3).is_err());
        let short = Planar {
            data: &d[..10],
            width: 6,
            height: 4,
            channels: 2,
        };
        assert!(resize_into(&short, &mut out, 5, 3, Filter::Area).is_err());
        let empty = Planar::new(&[], 0, 4, 2).unwrap();
        assert!(resize_into(&empty, &mut out, 5, 3, Filter::Area).is_err());
        assert!(resize_into(&empty, &mut [], 0, 3, Filter::Area).is_ok());
    }

    #[test]
    fn tables_stay_in_range() {
        for f in FILTERS {
            for src in [1usize, 2, 3, 5, 17, 100] {
                for out in [1usize, 2, 3, 5, 17, 100, 401] {
                    let t = Taps::new(src, out, f);
                    for i in 0..out {
                        let (s, ws) = t.get(i);
                        assert!(!ws.is_empty() && s + ws.len() <= src);
                        let sum: f64 = ws.iter().map(|&v| f64::from(v)).sum();
                        assert!((sum - 1.0).abs() < 1e-6, "{f:?} {src}->{out} [{i}] {sum}");
                    }
                }
            }
        }
    }
}
