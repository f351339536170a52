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

fn set(bits: &mut [u64], i: usize) {
    bits[i / 64] |= 1 << (i % 64);
}

fn get(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

fn count(bits: &[u64]) -> u32 {
    bits.iter().map(|w| w.count_ones()).sum()
}

impl EdgeMap {
    /// Edges of a `width` x `height` picture of 0..255 samples: Sobel
    /// gradient, thinned to the local maximum across the edge (along the
    /// gradient's dominant axis), kept at [`EDGE_LEVELS`] or more.
    pub fn of(width: usize, height: usize, data: &[f32]) -> EdgeMap {
        let area = width * height;
        if width < 3 || height < 3 || data.len() < area {
            return EdgeMap::default();
        }
        let at = |x: usize, y: usize| data[y * width + x];
        let clamp_x = |x: isize| x.clamp(0, width as isize - 1) as usize;
        let clamp_y = |y: isize| y.clamp(0, height as isize - 1) as usize;
        // Gradients with replicated borders.
        let mut gx = vec![0f32; area];
        let mut gy = vec![0f32; area];
        let mut mag = vec![0f32; area];
        for y in 0..height {
            let (ym, yp) = (clamp_y(y as isize - 1), clamp_y(y as isize + 1));
            for x in 0..width {
                let (xm, xp) = (clamp_x(x as isize - 1), clamp_x(x as isize + 1));
                let sx = at(xp, ym) + 2.0 * at(xp, y) + at(xp, yp)
                    - at(xm, ym)
                    - 2.0 * at(xm, y)
                    - at(xm, yp);
                let sy = at(xm, yp) + 2.0 * at(x, yp) + at(xp, yp)
                    - at(xm, ym)
                    - 2.0 * at(x, ym)
                    - at(xp, ym);
                let i = y * width + x;
                gx[i] = sx * 0.25;
                gy[i] = sy * 0.25;
                mag[i] = (gx[i] * gx[i] + gy[i] * gy[i]).sqrt();
            }
        }
        let words = area.div_ceil(64);
        let mut edges = vec![0u64; words];
        let m = |x: isize, y: isize| -> f32 {
            if x < 0 || y < 0 || x >= width as isize || y >= height as isize {
                0.0
            } else {
                mag[y as usize * width + x as usize]
            }
        };
        for y in 0..height {
            for x in 0..width {
                let i = y * width + x;
                let v = mag[i];
                if v < EDGE_LEVELS {
                    continue;
                }
                let (xi, yi) = (x as isize, y as isize);
                let keep = if gx[i].abs() >= gy[i].abs() {
                    v >= m(xi - 1, yi) && v >= m(xi + 1, yi)
                } else {
                    v >= m(xi, yi - 1) && v >= m(xi, yi + 1)
                };
                if keep {
                    set(&mut edges, i);
                }
            }
        }
        // Dilation by a (2 DILATE + 1) square: rows, then columns.
        let mut rows = vec![0u64; words];
        for y in 0..height {
            for x in 0..width {
                let lo = x.saturating_sub(DILATE);
                let hi = (x + DILATE).min(width - 1);
                if (lo..=hi).any(|xx| get(&edges, y * width + xx)) {
                    set(&mut rows, y * width + x);
                }
            }
        }
        let mut near = vec![0u64; words];
        for y in 0..height {
            let lo = y.saturating_sub(DILATE);
            let hi = (y + DILATE).min(height - 1);
            for x in 0..width {
                if (lo..=hi).any(|yy| get(&rows, yy * width + x)) {
                    set(&mut near, y * width + x);
                }
            }
        }
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
