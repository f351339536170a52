//! YUV ↔ RGB conversion with the stream's own matrix and range.
//!
//! Model stages work on planar RGB `f32` in 0..1; pictures travel as three
//! planes at native depth. Conversion is done here, in Rust, so the matrix,
//! range and bit depth are exactly the stream's (no 8-bit bottleneck).
//!
//! Every matrix is a 3x3 map between normalised planes (luma 0..1, chroma
//! -0.5..0.5) and RGB. RGB-coded video (`gbrp`, `libx264rgb`) is the
//! [`Matrix::Gbr`] "matrix": planes G, B, R taken as they are, so RGB input
//! reaches the models without any conversion loss.

use crate::picture::{Chroma, Picture, RgbImage};
use rayon::prelude::*;

/// The matrix between the three planes and RGB (H.273 MatrixCoefficients).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Matrix {
    /// BT.601 (also BT.470BG, SMPTE 170M).
    Bt601,
    Bt709,
    /// BT.2020 non-constant luminance.
    Bt2020,
    Smpte240m,
    /// FCC 73.682 (US 1953).
    Fcc,
    /// YCgCo: Y = (R + 2G + B) / 4, Cg and Co in the chroma planes.
    Ycgco,
    /// Identity: the planes are G, B, R.
    Gbr,
}

/// How a matrix turns normalised planes into RGB and back.
#[derive(Clone, Copy)]
enum Kind {
    /// A luma-weights matrix: (Kr, Kb).
    Weights(f32, f32),
    Ycgco,
    Gbr,
}

impl Matrix {
    fn kind(self) -> Kind {
        match self {
            Matrix::Bt601 => Kind::Weights(0.299, 0.114),
            Matrix::Bt709 => Kind::Weights(0.2126, 0.0722),
            Matrix::Bt2020 => Kind::Weights(0.2627, 0.0593),
            Matrix::Smpte240m => Kind::Weights(0.212, 0.087),
            Matrix::Fcc => Kind::Weights(0.30, 0.11),
            Matrix::Ycgco => Kind::Ycgco,
            Matrix::Gbr => Kind::Gbr,
        }
    }

    /// Name as FFmpeg's colour-space tags spell it.
    pub fn name(self) -> &'static str {
        match self {
            Matrix::Bt601 => "bt601",
            Matrix::Bt709 => "bt709",
            Matrix::Bt2020 => "bt2020nc",
            Matrix::Smpte240m => "smpte240m",
            Matrix::Fcc => "fcc",
            Matrix::Ycgco => "ycgco",
            Matrix::Gbr => "gbr",
        }
    }

    /// RGB from normalised planes: `rgb[i] = Σ inv[i][j] · plane[j]`.
    fn inverse(self) -> [[f32; 3]; 3] {
        match self.kind() {
            Kind::Weights(kr, kb) => {
                let kg = 1.0 - kr - kb;
                let (a_r, a_b) = (2.0 * (1.0 - kr), 2.0 * (1.0 - kb));
                let (g_cr, g_cb) = (kr * a_r / kg, kb * a_b / kg);
                [[1.0, 0.0, a_r], [1.0, -g_cb, -g_cr], [1.0, a_b, 0.0]]
            }
            // t = Y - Cg; R = t + Co, G = Y + Cg, B = t - Co
            Kind::Ycgco => [[1.0, -1.0, 1.0], [1.0, 1.0, 0.0], [1.0, -1.0, -1.0]],
            Kind::Gbr => [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
        }
    }

    /// Normalised planes from RGB in 0..1.
    #[inline]
    fn forward(kind: Kind, r: f32, g: f32, b: f32) -> (f32, f32, f32) {
        match kind {
            Kind::Weights(kr, kb) => {
                let yy = kr * r + (1.0 - kr - kb) * g + kb * b;
                (
                    yy,
                    (b - yy) / (2.0 * (1.0 - kb)),
                    (r - yy) / (2.0 * (1.0 - kr)),
                )
            }
            Kind::Ycgco => (
                0.25 * r + 0.5 * g + 0.25 * b,
                -0.25 * r + 0.5 * g - 0.25 * b,
                0.5 * r - 0.5 * b,
            ),
            Kind::Gbr => (g, b, r),
        }
    }

    /// Whether the second and third planes are colour differences centred
    /// on mid-scale (everything but GBR).
    pub fn has_chroma(self) -> bool {
        self != Matrix::Gbr
    }
}

/// How samples map to 0..1 values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Colorimetry {
    pub matrix: Matrix,
    pub full_range: bool,
    /// Where subsampled chroma sits (ignored for 4:4:4).
    pub siting: Siting,
}

impl Colorimetry {
    /// Centre-sited chroma (JPEG/MPEG-1, and what untagged video gets).
    pub const fn new(matrix: Matrix, full_range: bool) -> Colorimetry {
        Colorimetry {
            matrix,
            full_range,
            siting: Siting::CENTRE,
        }
    }
}

/// Where a chroma sample sits within the run of luma samples it covers,
/// along one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Site {
    /// On the first luma sample (co-sited: MPEG-2 "left", "top").
    Start,
    /// Half way between the luma samples (JPEG, MPEG-1).
    Centre,
    /// On the last luma sample ("bottom").
    End,
}

impl Site {
    /// Position of chroma sample 0 in luma samples, for subsampling 2^shift.
    #[inline]
    fn offset(self, shift: u32) -> f32 {
        let n = (1u32 << shift) as f32;
        match self {
            Site::Start => 0.0,
            Site::Centre => (n - 1.0) / 2.0,
            Site::End => n - 1.0,
        }
    }
}

/// Chroma siting on both axes (H.273 chroma sample location).
///
/// Untagged video is taken as centre-sited, the JPEG convention and what
/// swscale assumes, which is also what every earlier release did; a tagged
/// stream's siting is used both when chroma is upsampled for the models
/// and when it is downsampled again, and the output carries the same tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Siting {
    pub h: Site,
    pub v: Site,
}

impl Siting {
    pub const CENTRE: Siting = Siting {
        h: Site::Centre,
        v: Site::Centre,
    };
    /// MPEG-2/H.264/HEVC default for 4:2:0 ("left").
    pub const LEFT: Siting = Siting {
        h: Site::Start,
        v: Site::Centre,
    };
}

/// Chroma sample `j` of a subsampled axis as a position on a finer axis:
/// in units of the finer axis's samples (log2 subsampling `fine` of
/// `coarse`'s luma runs). With `fine = 0` this is a luma position.
#[inline]
fn site_in(j: f32, coarse: u32, fine: u32, site: Site) -> f32 {
    (j * (1u32 << coarse) as f32 + site.offset(coarse) - site.offset(fine)) / (1u32 << fine) as f32
}

/// Where sample `pos` of a finer axis falls on a coarser one (inverse of
/// [`site_in`]), as a fractional index (may be negative at the start).
#[inline]
pub(crate) fn site_on(pos: f32, fine: u32, coarse: u32, site: Site) -> f32 {
    (pos * (1u32 << fine) as f32 + site.offset(fine) - site.offset(coarse))
        / (1u32 << coarse) as f32
}

/// Weights that average `n_src` samples (log2 subsampling `from`) into
/// sample `j` of a coarser axis (subsampling `to` > `from`): the area of
/// each source sample inside the destination sample's footprint, which
/// is centred where that sample is sited. Centre siting gives the plain
/// box average of the block; co-sited gives [1, 2, 1] / 4 at 2:1.
/// Indices past either edge are clamped (edge samples repeat).
pub(crate) fn area_weights(
    j: usize,
    n_src: usize,
    from: u32,
    to: u32,
    site: Site,
) -> Vec<(usize, f32)> {
    let k = (1u32 << (to - from)) as f32;
    // Centre of the footprint, with source sample i covering [i, i + 1).
    let c = site_in(j as f32, to, from, site) + 0.5;
    let (lo, hi) = (c - k / 2.0, c + k / 2.0);
    let mut w: Vec<(usize, f32)> = Vec::with_capacity(k as usize + 2);
    let last = n_src as i64 - 1;
    for i in lo.floor() as i64..hi.ceil() as i64 {
        let cover = (hi.min(i as f32 + 1.0) - lo.max(i as f32)).max(0.0);
        if cover <= 0.0 {
            continue;
        }
        let i = i.clamp(0, last) as usize;
        match w.iter_mut().find(|(at, _)| *at == i) {
            Some((_, v)) => *v += cover / k,
            None => w.push((i, cover / k)),
        }
    }
    w
}

/// Sample = value · scale + off, for the luma plane and the other two.
struct Levels {
    y_off: f32,
    y_scale: f32,
    c_off: f32,
    c_scale: f32,
}

fn levels(depth: u8, cm: Colorimetry) -> Levels {
    let max = ((1u32 << depth) - 1) as f32;
    let shift = (1u32 << (depth - 8)) as f32;
    let lv = if cm.full_range {
        Levels {
            y_off: 0.0,
            y_scale: max,
            c_off: (1u32 << (depth - 1)) as f32,
            c_scale: max,
        }
    } else {
        Levels {
            y_off: 16.0 * shift,
            y_scale: 219.0 * shift,
            c_off: 128.0 * shift,
            c_scale: 224.0 * shift,
        }
    };
    if cm.matrix.has_chroma() {
        lv
    } else {
        // G, B and R all scale like luma.
        Levels {
            c_off: lv.y_off,
            c_scale: lv.y_scale,
            ..lv
        }
    }
}

/// Where a luma position falls on a (possibly subsampled) chroma axis:
/// the two chroma samples around it and the weight of the second, with
/// chroma where `site` puts it (bilinear filtering).
#[inline]
fn chroma_tap(pos: usize, shift: u32, len: usize, site: Site) -> (usize, usize, f32) {
    if shift == 0 {
        let p = pos.min(len - 1);
        return (p, p, 0.0);
    }
    let f = site_on(pos as f32, 0, shift, site).max(0.0);
    let p0 = (f as usize).min(len - 1);
    (p0, (p0 + 1).min(len - 1), f - p0 as f32)
}

/// Three planes cut into rows (of the given lengths) and walked together
/// in parallel: `(row, ((a, b), c))`.
#[allow(clippy::type_complexity)]
fn rows3<'a, A: Send, B: Send>(
    (a, na): (&'a mut [A], usize),
    (b, nb): (&'a mut [B], usize),
    (c, nc): (&'a mut [B], usize),
) -> impl IndexedParallelIterator<Item = (usize, ((&'a mut [A], &'a mut [B]), &'a mut [B]))> {
    a.par_chunks_mut(na)
        .zip(b.par_chunks_mut(nb))
        .zip(c.par_chunks_mut(nc))
        .enumerate()
}

/// Convert a picture to planar RGB 0..1.
///
/// Row by row: the two chroma rows around each luma row are blended once
/// into a scratch row (vertical taps), then every pixel needs one
/// precomputed horizontal tap and a few multiply-adds.
pub fn to_rgb(pic: &Picture, cm: Colorimetry) -> RgbImage {
    let (w, h) = (pic.width, pic.height);
    let m = cm.matrix.inverse();
    let lv = levels(pic.depth, cm);
    let (cw, ch) = pic.chroma.plane_size(w, h);
    let (sx, sy) = pic.chroma.shift();
    let (y_mul, c_mul) = (1.0 / lv.y_scale, 1.0 / lv.c_scale);
    let taps: Vec<(usize, usize, f32)> =
        (0..w).map(|x| chroma_tap(x, sx, cw, cm.siting.h)).collect();
    let mut out = RgbImage::new(w, h);
    let n = w * h;
    let (r_plane, rest) = out.data.split_at_mut(n);
    let (g_plane, b_plane) = rest.split_at_mut(n);
    rows3((r_plane, w), (g_plane, w), (b_plane, w)).for_each_init(
        || (vec![0.0f32; cw], vec![0.0f32; cw]),
        |(cb_row, cr_row), (y, ((rr, gr), br))| {
            let (y0, y1, ay) = chroma_tap(y, sy, ch, cm.siting.v);
            for (plane, row) in [
                (&pic.planes[1], &mut *cb_row),
                (&pic.planes[2], &mut *cr_row),
            ] {
                let (top, bot) = (&plane[y0 * cw..][..cw], &plane[y1 * cw..][..cw]);
                for ((o, &t), &b) in row.iter_mut().zip(top).zip(bot) {
                    let t = t as f32;
                    *o = (t + (b as f32 - t) * ay - lv.c_off) * c_mul;
                }
            }
            let luma = &pic.planes[0][y * w..][..w];
            for (x, &(x0, x1, ax)) in taps.iter().enumerate() {
                let yy = (luma[x] as f32 - lv.y_off) * y_mul;
                let cb = cb_row[x0] + (cb_row[x1] - cb_row[x0]) * ax;
                let cr = cr_row[x0] + (cr_row[x1] - cr_row[x0]) * ax;
                rr[x] = m[0][0] * yy + m[0][1] * cb + m[0][2] * cr;
                gr[x] = m[1][0] * yy + m[1][1] * cb + m[1][2] * cr;
                br[x] = m[2][0] * yy + m[2][1] * cb + m[2][2] * cr;
            }
        },
    );
    out
}

#[inline]
fn quantise(v: f32, max: f32) -> u16 {
    v.round().clamp(0.0, max) as u16
}

/// Convert planar RGB (clamped to 0..1) to a picture of the given layout.
/// Each chroma sample is the area average of the luma samples under its
/// footprint, centred where `cm.siting` puts it (`area_weights`): the
/// box of its block for centre siting, [1, 2, 1] / 4 across for co-sited.
pub fn from_rgb(img: &RgbImage, chroma: Chroma, depth: u8, cm: Colorimetry) -> Picture {
    let (w, h) = (img.width, img.height);
    let kind = cm.matrix.kind();
    let lv = levels(depth, cm);
    let max = ((1u32 << depth) - 1) as f32;
    let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
    let (cw, ch) = chroma.plane_size(w, h);
    let (sx, sy) = chroma.shift();
    let pixel = |i: usize| {
        Matrix::forward(
            kind,
            r[i].clamp(0.0, 1.0),
            g[i].clamp(0.0, 1.0),
            b[i].clamp(0.0, 1.0),
        )
    };
    // What each pixel adds to the chroma samples across: a footprint is
    // as wide as the spacing of the samples, so a pixel falls under at
    // most two of them.
    let mut across = vec![[(0usize, 0.0f32); 2]; w];
    let mut used = vec![0usize; w];
    for cx in 0..cw {
        for (x, wx) in area_weights(cx, w, 0, sx, cm.siting.h) {
            debug_assert!(used[x] < 2, "pixel {x} under three chroma footprints");
            across[x][used[x].min(1)] = (cx, wx);
            used[x] += 1;
        }
    }
    let mut y_plane = vec![0u16; w * h];
    let mut u_plane = vec![0u16; cw * ch];
    let mut v_plane = vec![0u16; cw * ch];
    // One task per chroma row: it writes the luma rows of its block and
    // adds up the chroma of the rows under its footprint, converting each
    // pixel once (rows outside the block, for vertically co-sited chroma,
    // are converted again by the neighbouring task).
    rows3(
        (&mut y_plane, w << sy),
        (&mut u_plane, cw),
        (&mut v_plane, cw),
    )
    .for_each_init(
        || (vec![0.0f32; cw], vec![0.0f32; cw]),
        |(su, sv), (cy, ((yrows, urow), vrow))| {
            su.fill(0.0);
            sv.fill(0.0);
            let first = cy << sy;
            let owned = first..first + yrows.len() / w;
            let down = area_weights(cy, h, 0, sy, cm.siting.v);
            let weight = |y: usize| -> f32 {
                down.iter()
                    .filter(|&&(at, _)| at == y)
                    .map(|&(_, v)| v)
                    .sum()
            };
            // Pixel x of a row of weight wy, chroma (u, v): its share.
            let mut add = |x: usize, wy: f32, u: f32, v: f32| {
                let [(c0, w0), (c1, w1)] = across[x];
                let (a, b) = (wy * w0, wy * w1);
                su[c0] += a * u;
                sv[c0] += a * v;
                su[c1] += b * u;
                sv[c1] += b * v;
            };
            for y in owned.clone() {
                let wy = weight(y);
                let yrow = &mut yrows[(y - first) * w..][..w];
                for (x, o) in yrow.iter_mut().enumerate() {
                    let (yy, u, v) = pixel(y * w + x);
                    *o = quantise(yy * lv.y_scale + lv.y_off, max);
                    add(x, wy, u, v);
                }
            }
            for &(y, wy) in down.iter().filter(|(y, _)| !owned.contains(y)) {
                for x in 0..w {
                    let (_, u, v) = pixel(y * w + x);
                    add(x, wy, u, v);
                }
            }
            for cx in 0..cw {
                urow[cx] = quantise(su[cx] * lv.c_scale + lv.c_off, max);
                vrow[cx] = quantise(sv[cx] * lv.c_scale + lv.c_off, max);
            }
        },
    );
    Picture {
        width: w,
        height: h,
        chroma,
        depth,
        planes: [y_plane, u_plane, v_plane],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max)
    }

    #[test]
    fn roundtrip_444_is_exact_to_quantisation() {
        for depth in [8u8, 10] {
            for full in [false, true] {
                for m in ALL_MATRICES {
                    let cm = Colorimetry::new(m, full);
                    let img = crate::testutil::gradient(37, 21);
                    let pic = from_rgb(&img, Chroma::Yuv444, depth, cm);
                    let back = to_rgb(&pic, cm);
                    let step = 1.0 / ((1u32 << depth) - 1) as f32;
                    let err = max_abs_diff(&img.data, &back.data);
                    assert!(err < 3.0 * step, "depth {depth} full {full} {m:?}: {err}");
                }
            }
        }
    }

    const ALL_MATRICES: [Matrix; 7] = [
        Matrix::Bt601,
        Matrix::Bt709,
        Matrix::Bt2020,
        Matrix::Smpte240m,
        Matrix::Fcc,
        Matrix::Ycgco,
        Matrix::Gbr,
    ];

    /// One pixel through `from_rgb` at 4:4:4: its three samples.
    fn samples(rgb: [f32; 3], depth: u8, cm: Colorimetry) -> [u16; 3] {
        let mut img = RgbImage::new(1, 1);
        img.data.copy_from_slice(&rgb);
        let p = from_rgb(&img, Chroma::Yuv444, depth, cm);
        [p.planes[0][0], p.planes[1][0], p.planes[2][0]]
    }

    #[test]
    fn matrices_match_h273() {
        let cm = |matrix, full_range| Colorimetry::new(matrix, full_range);
        // Luma weights (Kr, Kb) of H.273 MatrixCoefficients 4 (FCC) and 7
        // (SMPTE 240M): white is 235, pure red is 16 + 219 Kr.
        for (m, kr, kb) in [(Matrix::Fcc, 0.30, 0.11), (Matrix::Smpte240m, 0.212, 0.087)] {
            let [y, _, _] = samples([1.0, 0.0, 0.0], 8, cm(m, false));
            assert_eq!(y, (16.0f32 + 219.0 * kr).round() as u16, "{m:?} red");
            let [y, _, _] = samples([0.0, 0.0, 1.0], 8, cm(m, false));
            assert_eq!(y, (16.0f32 + 219.0 * kb).round() as u16, "{m:?} blue");
            assert_eq!(samples([1.0; 3], 8, cm(m, false)), [235, 128, 128]);
        }
        // YCgCo (8): red is Y 1/4, Cg -1/4, Co 1/2; green Y 1/2, Cg 1/2.
        let full = cm(Matrix::Ycgco, true);
        assert_eq!(samples([1.0, 0.0, 0.0], 8, full), [64, 64, 255]);
        assert_eq!(samples([0.0, 1.0, 0.0], 8, full), [128, 255, 128]);
        // GBR (0): the planes are G, B, R, untouched at every depth.
        assert_eq!(
            samples([0.25, 0.5, 1.0], 16, cm(Matrix::Gbr, true)),
            [32768, 65535, 16384]
        );
        let mut pic = Picture::black(3, 1, Chroma::Yuv444, 12);
        pic.planes = [vec![0, 1, 4095], vec![7, 8, 9], vec![4095, 2048, 0]];
        let back = from_rgb(
            &to_rgb(&pic, cm(Matrix::Gbr, true)),
            Chroma::Yuv444,
            12,
            cm(Matrix::Gbr, true),
        );
        assert_eq!(back.planes, pic.planes);
    }

    #[test]
    fn yuv_to_rgb_to_yuv_keeps_samples() {
        // A 10-bit 4:2:0 picture with flat chroma survives exactly.
        let mut pic = Picture::black(33, 17, Chroma::Yuv420, 10);
        for (i, v) in pic.planes[0].iter_mut().enumerate() {
            *v = 64 + (i as u16 * 7) % 876;
        }
        let cm = Colorimetry::new(Matrix::Bt709, false);
        let back = from_rgb(&to_rgb(&pic, cm), Chroma::Yuv420, 10, cm);
        let max_diff = pic.planes[0]
            .iter()
            .zip(&back.planes[0])
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .max()
            .unwrap_or(0);
        assert!(max_diff <= 1, "luma diff {max_diff}");
        assert_eq!(pic.planes[1], back.planes[1]);
    }

    /// The straightforward per-pixel conversion (bilinear chroma sample,
    /// then the matrix), for checking the row-wise one against.
    fn to_rgb_per_pixel(pic: &Picture, cm: Colorimetry) -> RgbImage {
        let (w, h) = (pic.width, pic.height);
        let Kind::Weights(kr, kb) = cm.matrix.kind() else {
            unreachable!("reference conversions cover weight matrices")
        };
        let lv = levels(pic.depth, cm);
        let (cw, ch) = pic.chroma.plane_size(w, h);
        let (sx, sy) = pic.chroma.shift();
        let sample = |plane: &[u16], x: usize, y: usize| -> f32 {
            let pos = |p: usize, shift: u32| {
                if shift == 0 {
                    p as f32
                } else {
                    ((p as f32 + 0.5) / 2.0 - 0.5).max(0.0)
                }
            };
            let (fx, fy) = (pos(x, sx), pos(y, sy));
            let (x0, y0) = ((fx as usize).min(cw - 1), (fy as usize).min(ch - 1));
            let (x1, y1) = ((x0 + 1).min(cw - 1), (y0 + 1).min(ch - 1));
            let at = |xx: usize, yy: usize| plane[yy * cw + xx] as f32;
            let (ax, ay) = (fx - x0 as f32, fy - y0 as f32);
            let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * ax;
            let bot = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * ax;
            top + (bot - top) * ay
        };
        let mut out = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let yy = (pic.planes[0][y * w + x] as f32 - lv.y_off) / lv.y_scale;
                let cb = (sample(&pic.planes[1], x, y) - lv.c_off) / lv.c_scale;
                let cr = (sample(&pic.planes[2], x, y) - lv.c_off) / lv.c_scale;
                let r = yy + 2.0 * (1.0 - kr) * cr;
                let b = yy + 2.0 * (1.0 - kb) * cb;
                let i = y * w + x;
                out.data[i] = r;
                out.data[w * h + i] = (yy - kr * r - kb * b) / (1.0 - kr - kb);
                out.data[2 * w * h + i] = b;
            }
        }
        out
    }

    #[test]
    fn row_wise_conversion_matches_per_pixel() {
        let mut rng = crate::testutil::Rng(77);
        for chroma in [Chroma::Yuv420, Chroma::Yuv422, Chroma::Yuv444] {
            for (w, h) in [(1, 1), (2, 2), (3, 5), (33, 17), (64, 36)] {
                for depth in [8u8, 10, 12] {
                    let mut pic = Picture::black(w, h, chroma, depth);
                    let max = (1usize << depth) - 1;
                    for plane in pic.planes.iter_mut() {
                        for v in plane.iter_mut() {
                            *v = rng.range(0, max) as u16;
                        }
                    }
                    let cm = Colorimetry::new(Matrix::Bt709, depth == 12);
                    let (fast, slow) = (to_rgb(&pic, cm), to_rgb_per_pixel(&pic, cm));
                    let err = max_abs_diff(&fast.data, &slow.data);
                    assert!(err < 1e-5, "{chroma:?} {w}x{h} {depth}-bit: {err}");
                }
            }
        }
    }

    /// The per-block conversion the one-pass version replaced.
    fn from_rgb_per_block(img: &RgbImage, chroma: Chroma, depth: u8, cm: Colorimetry) -> Picture {
        let (w, h) = (img.width, img.height);
        let Kind::Weights(kr, kb) = cm.matrix.kind() else {
            unreachable!("reference conversions cover weight matrices")
        };
        let kg = 1.0 - kr - kb;
        let lv = levels(depth, cm);
        let max = ((1u32 << depth) - 1) as f32;
        let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
        // Clamped (R, G, B) at pixel i and its luma.
        let sample = |i: usize| -> (f32, f32, f32, f32) {
            let (rv, gv, bv) = (
                r[i].clamp(0.0, 1.0),
                g[i].clamp(0.0, 1.0),
                b[i].clamp(0.0, 1.0),
            );
            (rv, gv, bv, kr * rv + kg * gv + kb * bv)
        };
        let mut y_plane = vec![0u16; w * h];
        y_plane.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, out) in row.iter_mut().enumerate() {
                let (_, _, _, yy) = sample(y * w + x);
                *out = quantise(yy * lv.y_scale + lv.y_off, max);
            }
        });
        let (cw, ch) = chroma.plane_size(w, h);
        let (sx, sy) = chroma.shift();
        let mut u_plane = vec![0u16; cw * ch];
        let mut v_plane = vec![0u16; cw * ch];
        u_plane
            .par_chunks_mut(cw)
            .zip(v_plane.par_chunks_mut(cw))
            .enumerate()
            .for_each(|(cy, (urow, vrow))| {
                for cx in 0..cw {
                    let (mut su, mut sv, mut count) = (0.0f32, 0.0f32, 0.0f32);
                    for dy in 0..(1usize << sy) {
                        let y = (cy << sy) + dy;
                        if y >= h {
                            continue;
                        }
                        for dx in 0..(1usize << sx) {
                            let x = (cx << sx) + dx;
                            if x >= w {
                                continue;
                            }
                            let (rv, _, bv, yy) = sample(y * w + x);
                            su += (bv - yy) / (2.0 * (1.0 - kb));
                            sv += (rv - yy) / (2.0 * (1.0 - kr));
                            count += 1.0;
                        }
                    }
                    urow[cx] = quantise(su / count * lv.c_scale + lv.c_off, max);
                    vrow[cx] = quantise(sv / count * lv.c_scale + lv.c_off, max);
                }
            });
        Picture {
            planes: [y_plane, u_plane, v_plane],
            ..Picture::black(w, h, chroma, depth)
        }
    }

    #[test]
    fn one_pass_from_rgb_matches_per_block() {
        let mut rng = crate::testutil::Rng(78);
        for chroma in [Chroma::Yuv420, Chroma::Yuv422, Chroma::Yuv444] {
            for (w, h) in [(1, 1), (2, 2), (3, 5), (33, 17), (64, 36)] {
                let mut img = RgbImage::new(w, h);
                for v in img.data.iter_mut() {
                    *v = rng.f() * 1.2 - 0.1;
                }
                for depth in [8u8, 10] {
                    let cm = Colorimetry::new(Matrix::Bt601, depth == 8);
                    let (a, b) = (
                        from_rgb(&img, chroma, depth, cm),
                        from_rgb_per_block(&img, chroma, depth, cm),
                    );
                    assert_eq!(a.planes, b.planes, "{chroma:?} {w}x{h} {depth}-bit");
                }
            }
        }
    }

    /// A smooth ramp written and read back with the same chroma siting
    /// comes back to quantisation in the interior (bilinear is exact on a
    /// linear signal where the sample positions are right); read with the
    /// wrong siting it is off by the ramp's slope over half a luma sample.
    #[test]
    fn chroma_siting_is_honoured_both_ways() {
        let (w, h) = (32, 32);
        let mut img = RgbImage::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                img.data[i] = 0.05 + 0.9 * x as f32 / w as f32;
                img.data[w * h + i] = 0.5;
                img.data[2 * w * h + i] = 0.05 + 0.9 * y as f32 / h as f32;
            }
        }
        let interior = |a: &RgbImage| -> f32 {
            let mut worst = 0.0f32;
            for c in [0, 2] {
                for y in 4..h - 4 {
                    for x in 4..w - 4 {
                        let i = c * w * h + y * w + x;
                        worst = worst.max((a.data[i] - img.data[i]).abs());
                    }
                }
            }
            worst
        };
        let sitings = [
            Siting::CENTRE,
            Siting::LEFT,
            Siting {
                h: Site::Start,
                v: Site::Start,
            },
            Siting {
                h: Site::Centre,
                v: Site::End,
            },
        ];
        for (k, &siting) in sitings.iter().enumerate() {
            let cm = Colorimetry {
                siting,
                ..Colorimetry::new(Matrix::Bt709, false)
            };
            let pic = from_rgb(&img, Chroma::Yuv420, 12, cm);
            let right = interior(&to_rgb(&pic, cm));
            let wrong_siting = sitings[(k + 1) % sitings.len()];
            let wrong = interior(&to_rgb(
                &pic,
                Colorimetry {
                    siting: wrong_siting,
                    ..cm
                },
            ));
            assert!(right < 2e-3, "{siting:?}: read back off by {right}");
            assert!(wrong > 1e-2, "{siting:?} read as {wrong_siting:?}: {wrong}");
        }
    }

    #[test]
    fn area_weights_follow_the_siting() {
        let w = |site| area_weights(3, 16, 0, 1, site);
        assert_eq!(w(Site::Centre), vec![(6, 0.5), (7, 0.5)]);
        assert_eq!(w(Site::Start), vec![(5, 0.25), (6, 0.5), (7, 0.25)]);
        assert_eq!(w(Site::End), vec![(6, 0.25), (7, 0.5), (8, 0.25)]);
        // The edge repeats: co-sited sample 0 takes pixel 0 three quarters.
        assert_eq!(
            area_weights(0, 16, 0, 1, Site::Start),
            vec![(0, 0.75), (1, 0.25)]
        );
    }
}
