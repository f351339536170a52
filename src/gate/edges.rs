//! Line art: which thumbnail samples lie on an edge, and how much of one
//! picture's line art is new against another's.
//!
//! A cut replaces the drawing even when the colours stay (two camera set-ups
//! in one flat-coloured room): the lines of the new shot are where the old
//! shot had none. Motion moves lines a little, so most new edges lie near
//! old ones. [`edge_change`] is a chance-normalised edge change ratio
//! (after Zabih, Miller and Mai 1995): the share of edges of one picture
//! with no edge of the other within [`DILATE`] samples, divided by the
//! share a random scatter of edges would have (1 minus the area the other
//! picture's dilated edges cover), taken both ways and the smaller kept.
//! About 1: the two pictures' lines are as unrelated as random ones; 0:
//! every line is explained. Dense hand-drawn detail would push a plain
//! ratio down on real cuts and empty frames up; the normalisation and
//! [`MIN_EDGE_SHARE`] handle both.

/// Edge strength (Sobel magnitude / 4, on the 0..255 thumbnail scale) an
/// edge sample needs. The study behind the rule (README, "Gating") found
/// the same labels for 12 and 24.
pub const EDGE_LEVELS: f32 = 24.0;
/// Radius of the square a new edge is looked for in, in thumbnail samples
/// (1 to 3 gave the same labels).
pub const DILATE: usize = 2;
/// Pictures with fewer edge samples than this share of the area (black,
/// fades, flat cards) give no edge evidence.
pub const MIN_EDGE_SHARE: f32 = 0.002;

/// The line art of one thumbnail: thinned edges and their dilation, as bit
/// sets over the thumbnail's samples.
#[derive(Clone, Debug, Default)]
pub struct EdgeMap {
    edges: Vec<u64>,
    near: Vec<u64>,
    n_edges: u32,
    n_near: u32,
    area: u32,
}

fn count(bits: &[u64]) -> u32 {
    bits.iter().map(|w| w.count_ones()).sum()
}

impl EdgeMap {
    /// Edges of a `width` x `height` picture of 0..255 samples: Sobel
    /// gradient, thinned to the local maximum across the edge (along the
    /// gradient's dominant axis), kept at [`EDGE_LEVELS`] or more.
    pub fn of(width: usize, height: usize, data: &[f32]) -> EdgeMap {
        EdgeMap::with(width, height, data, EDGE_LEVELS, DILATE)
    }

    /// [`EdgeMap::of`] with another edge level and dilation radius.
    pub fn with(width: usize, height: usize, data: &[f32], level: f32, radius: usize) -> EdgeMap {
        let area = width * height;
        if width < 3 || height < 3 || data.len() < area {
            return EdgeMap::default();
        }
        let (mag2, horizontal) = gradients(width, height, data);
        let edge = thinned(width, height, &mag2, &horizontal, level * level);
        let near = dilated(width, height, &edge, radius);
        let (edges, near) = (pack(&edge), pack(&near));
        EdgeMap {
            n_edges: count(&edges),
            n_near: count(&near),
            edges,
            near,
            area: area as u32,
        }
    }

    /// Share of the area on an edge.
    pub fn edge_share(&self) -> f32 {
        self.n_edges as f32 / self.area.max(1) as f32
    }

    /// Share of `self`'s edges with no edge of `other` nearby, over the
    /// share expected by chance.
    fn novelty(&self, other: &EdgeMap) -> f32 {
        let near = self
            .edges
            .iter()
            .zip(&other.near)
            .map(|(a, b)| (a & b).count_ones())
            .sum::<u32>();
        let new = 1.0 - near as f32 / self.n_edges.max(1) as f32;
        let chance = 1.0 - other.n_near as f32 / other.area.max(1) as f32;
        new / chance.max(1e-3)
    }
}

/// Sobel gradients (/ 4) with replicated borders: the squared magnitude,
/// and whether the gradient is mostly horizontal (1) or vertical (0).
///
/// Per row: the vertical smoothing (up + 2 mid + down) and the vertical
/// difference (down - up), then the horizontal halves of the two Sobel
/// kernels, written as zipped slices so the compiler vectorises them.
fn gradients(width: usize, height: usize, data: &[f32]) -> (Vec<f32>, Vec<u8>) {
    let area = width * height;
    let mut mag2 = vec![0f32; area];
    let mut horizontal = vec![0u8; area];
    let row = |y: usize| &data[y * width..(y + 1) * width];
    let mut smooth = vec![0f32; width];
    let mut diff = vec![0f32; width];
    let grad = |sm: f32, sp: f32, dm: f32, d: f32, dp: f32| {
        let gx = (sp - sm) * 0.25;
        let gy = (dm + 2.0 * d + dp) * 0.25;
        (gx * gx + gy * gy, u8::from(gx.abs() >= gy.abs()))
    };
    for y in 0..height {
        let (up, mid, down) = (
            row(y.saturating_sub(1)),
            row(y),
            row((y + 1).min(height - 1)),
        );
        for (((s, d), (&u, &m)), &dn) in smooth
            .iter_mut()
            .zip(diff.iter_mut())
            .zip(up.iter().zip(mid))
            .zip(down)
        {
            *s = u + 2.0 * m + dn;
            *d = dn - u;
        }
        let out = &mut mag2[y * width..(y + 1) * width];
        let hor = &mut horizontal[y * width..(y + 1) * width];
        let w = width;
        (out[0], hor[0]) = grad(smooth[0], smooth[1], diff[0], diff[0], diff[1]);
        (out[w - 1], hor[w - 1]) = grad(
            smooth[w - 2],
            smooth[w - 1],
            diff[w - 2],
            diff[w - 1],
            diff[w - 1],
        );
        for ((((o, h), (&sm, &sp)), (&dm, &d)), &dp) in out[1..w - 1]
            .iter_mut()
            .zip(&mut hor[1..w - 1])
            .zip(smooth[..w - 2].iter().zip(&smooth[2..]))
            .zip(diff[..w - 2].iter().zip(&diff[1..w - 1]))
            .zip(&diff[2..])
        {
            (*o, *h) = grad(sm, sp, dm, d, dp);
        }
    }
    (mag2, horizontal)
}

/// Thinned edges (1 on an edge): squared magnitude at `floor` or more and
/// a local maximum across the edge, along the gradient's dominant axis (a
/// neighbour outside the picture never wins).
fn thinned(width: usize, height: usize, mag2: &[f32], horizontal: &[u8], floor: f32) -> Vec<u8> {
    let mut edge = vec![0u8; width * height];
    for y in 0..height {
        let i = y * width;
        let cur = &mag2[i..i + width];
        // The row above and below, or this row itself at the picture's
        // edge (v >= v holds, as "no neighbour" must).
        let up = if y == 0 { cur } else { &mag2[i - width..i] };
        let down = if y + 1 == height {
            cur
        } else {
            &mag2[i + width..i + 2 * width]
        };
        let out = &mut edge[i..i + width];
        let hor = &horizontal[i..i + width];
        // Branch-free (`&`, not `&&`, and `h` as a 0/1 mask): edges are
        // too irregular for the branch predictor, and the form vectorises.
        let keep = |v: f32, h: u8, l: f32, r: f32, u: f32, d: f32| {
            let along_x = u8::from(v >= l) & u8::from(v >= r);
            let along_y = u8::from(v >= u) & u8::from(v >= d);
            u8::from(v >= floor) & ((along_x & h) | (along_y & (h ^ 1)))
        };
        let w = width;
        out[0] = keep(cur[0], hor[0], cur[0], cur[1], up[0], down[0]);
        out[w - 1] = keep(
            cur[w - 1],
            hor[w - 1],
            cur[w - 2],
            cur[w - 1],
            up[w - 1],
            down[w - 1],
        );
        for (((((o, &v), &h), (&l, &r)), &u), &d) in out[1..w - 1]
            .iter_mut()
            .zip(&cur[1..w - 1])
            .zip(&hor[1..w - 1])
            .zip(cur[..w - 2].iter().zip(&cur[2..]))
            .zip(&up[1..w - 1])
            .zip(&down[1..w - 1])
        {
            *o = keep(v, h, l, r, u, d);
        }
    }
    edge
}

/// `edge` dilated by a (2 radius + 1) square: rows, then columns.
fn dilated(width: usize, height: usize, edge: &[u8], radius: usize) -> Vec<u8> {
    let mut rows = edge.to_vec();
    for y in 0..height {
        let src = &edge[y * width..(y + 1) * width];
        let dst = &mut rows[y * width..(y + 1) * width];
        for k in 1..=radius.min(width - 1) {
            dst[k..]
                .iter_mut()
                .zip(&src[..width - k])
                .for_each(|(d, s)| *d |= s);
            dst[..width - k]
                .iter_mut()
                .zip(&src[k..])
                .for_each(|(d, s)| *d |= s);
        }
    }
    let mut near = vec![0u8; width * height];
    for y in 0..height {
        let lo = y.saturating_sub(radius);
        let hi = (y + radius).min(height - 1);
        let dst = &mut near[y * width..(y + 1) * width];
        for yy in lo..=hi {
            let src = &rows[yy * width..(yy + 1) * width];
            dst.iter_mut().zip(src).for_each(|(d, s)| *d |= s);
        }
    }
    near
}

/// 0/1 bytes packed into bits, 64 per word, byte k of a word's run at bit
/// k. Eight bytes at a time: one multiply gathers their low bits into the
/// top byte.
fn pack(v: &[u8]) -> Vec<u64> {
    const GATHER: u64 = 0x0102_0408_1020_4080;
    v.chunks(64)
        .map(|c| {
            let mut word = 0u64;
            let mut octets = c.chunks_exact(8);
            for (k, o) in (&mut octets).enumerate() {
                let mut b = [0u8; 8];
                b.copy_from_slice(o);
                let bits =
                    (u64::from_le_bytes(b) & 0x0101_0101_0101_0101).wrapping_mul(GATHER) >> 56;
                word |= bits << (8 * k);
            }
            let done = c.len() - octets.remainder().len();
            for (k, &b) in octets.remainder().iter().enumerate() {
                word |= u64::from(b & 1) << (done + k);
            }
            word
        })
        .collect()
}

/// Chance-normalised edge change between two pictures' line art (module
/// doc); 0 when either has too few edges or they differ in size.
pub fn edge_change(a: &EdgeMap, b: &EdgeMap) -> f32 {
    if a.area == 0
        || a.area != b.area
        || a.edges.len() != b.edges.len()
        || a.edge_share() < MIN_EDGE_SHARE
        || b.edge_share() < MIN_EDGE_SHARE
    {
        return 0.0;
    }
    b.novelty(a).min(a.novelty(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64x48 picture: grey with dark rectangles outlined at `rects`.
    fn picture(rects: &[(usize, usize, usize, usize)]) -> Vec<f32> {
        let (w, h) = (64, 48);
        let mut v = vec![180.0; w * h];
        for &(x0, y0, rw, rh) in rects {
            for y in y0..(y0 + rh).min(h) {
                for x in x0..(x0 + rw).min(w) {
                    v[y * w + x] = 40.0;
                }
            }
        }
        v
    }

    #[test]
    fn a_small_move_is_explained_and_a_new_layout_is_not() {
        let a = EdgeMap::of(64, 48, &picture(&[(10, 10, 12, 20), (40, 5, 10, 10)]));
        let moved = EdgeMap::of(64, 48, &picture(&[(11, 10, 12, 20), (41, 6, 10, 10)]));
        let other = EdgeMap::of(64, 48, &picture(&[(30, 25, 20, 8), (5, 30, 6, 14)]));
        let same = edge_change(&a, &moved);
        let cut = edge_change(&a, &other);
        assert!(same < 0.2, "moved by a sample: {same}");
        assert!(cut > 0.5, "new layout: {cut}");
        assert_eq!(edge_change(&a, &a), 0.0);
    }

    #[test]
    fn flat_and_mismatched_pictures_give_no_evidence() {
        let flat = EdgeMap::of(64, 48, &vec![100.0; 64 * 48]);
        let a = EdgeMap::of(64, 48, &picture(&[(10, 10, 12, 20)]));
        assert_eq!(edge_change(&flat, &a), 0.0);
        let small = EdgeMap::of(32, 24, &vec![0.0; 32 * 24]);
        assert_eq!(edge_change(&small, &a), 0.0);
        assert_eq!(EdgeMap::of(2, 2, &[0.0; 4]).edge_share(), 0.0);
    }
}
