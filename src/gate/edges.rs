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
        // Gradients (Sobel / 4) with replicated borders: squared magnitude,
        // and whether the gradient is mostly horizontal.
        let mut mag2 = vec![0f32; area];
        let mut horizontal = vec![false; area];
        let row = |y: usize| &data[y * width..(y + 1) * width];
        // Per row: the vertical smoothing (up + 2 mid + down) and the
        // vertical difference (down - up), then the horizontal halves of
        // the two Sobel kernels; simple loops the compiler vectorises.
        let mut smooth = vec![0f32; width];
        let mut diff = vec![0f32; width];
        for y in 0..height {
            let (up, mid, down) = (
                row(y.saturating_sub(1)),
                row(y),
                row((y + 1).min(height - 1)),
            );
            for x in 0..width {
                smooth[x] = up[x] + 2.0 * mid[x] + down[x];
                diff[x] = down[x] - up[x];
            }
            let out = &mut mag2[y * width..(y + 1) * width];
            let hor = &mut horizontal[y * width..(y + 1) * width];
            let mut put = |x: usize, xm: usize, xp: usize| {
                let gx = (smooth[xp] - smooth[xm]) * 0.25;
                let gy = (diff[xm] + 2.0 * diff[x] + diff[xp]) * 0.25;
                out[x] = gx * gx + gy * gy;
                hor[x] = gx.abs() >= gy.abs();
            };
            put(0, 0, 1);
            for x in 1..width - 1 {
                put(x, x - 1, x + 1);
            }
            put(width - 1, width - 2, width - 1);
        }
        // Thinned edges: a local maximum across the edge, strong enough.
        let floor = level * level;
        let mut edge = vec![0u8; area];
        for y in 0..height {
            for x in 0..width {
                let i = y * width + x;
                let v = mag2[i];
                if v < floor {
                    continue;
                }
                let keep = if horizontal[i] {
                    (x == 0 || v >= mag2[i - 1]) && (x + 1 == width || v >= mag2[i + 1])
                } else {
                    (y == 0 || v >= mag2[i - width]) && (y + 1 == height || v >= mag2[i + width])
                };
                edge[i] = u8::from(keep);
            }
        }
        // Dilation by a (2 DILATE + 1) square: rows, then columns.
        let mut rows = vec![0u8; area];
        for y in 0..height {
            let src = &edge[y * width..(y + 1) * width];
            let dst = &mut rows[y * width..(y + 1) * width];
            for (x, &e) in src.iter().enumerate() {
                if e != 0 {
                    let lo = x.saturating_sub(radius);
                    let hi = (x + radius).min(width - 1);
                    dst[lo..=hi].iter_mut().for_each(|d| *d = 1);
                }
            }
        }
        let mut near = vec![0u8; area];
        for y in 0..height {
            let lo = y.saturating_sub(radius);
            let hi = (y + radius).min(height - 1);
            let dst = &mut near[y * width..(y + 1) * width];
            for yy in lo..=hi {
                let src = &rows[yy * width..(yy + 1) * width];
                dst.iter_mut().zip(src).for_each(|(d, s)| *d |= s);
            }
        }
        let pack = |v: &[u8]| -> Vec<u64> {
            v.chunks(64)
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .fold(0u64, |w, (k, &b)| w | (u64::from(b) << k))
                })
                .collect()
        };
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
