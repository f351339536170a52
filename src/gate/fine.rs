//! The full-resolution check behind a thumbnail HOLD: did anything visible
//! change that codec noise does not explain?
//!
//! The thumbnail averages 4x4 (1080p) pixels per sample and 8x8 samples per
//! window, so thin animated elements (rain streaks 1-3 px wide, snow,
//! sparkles, a blink) vanish in it. Here the two frames are compared at full
//! resolution in 4x4-pixel blocks, and a block counts as changed only when
//! the change has the shape of a drawn change rather than of codec noise:
//!
//! - **Coherent**: the block's *signed* mean difference is large. Ringing
//!   and mosquito noise oscillate around the true value and cancel in the
//!   sum; a streak that appears or leaves moves the whole block one way.
//! - **Not explained by an edge both frames share**: the allowance grows
//!   with the smaller of the two frames' local texture (mean absolute
//!   gradient in the block). Noise and sub-pixel drift live on the lines of
//!   the drawing, which both frames have; a streak over a flat area is
//!   where at least one frame has no edge.
//! - **Not isolated**: a changed block counts only when one of its eight
//!   neighbours changed too. Grain and single noisy pixels are isolated;
//!   any drawn element 5 px or more across spans two blocks.
//!
//! Measured with the defaults (`levels` 5 code values, `texture` 0.5, at
//! most 4 counted blocks for a HOLD): every labelled held drawing of the
//! clips in `../shared/media` (One Piece with its grain, fate, the JJK TV
//! clip with sub-pixel drift, the Waifu2x pan, BBB's repeats, the two
//! wallpapers' duplicated frames) counts 0 to 2 blocks; at 4 levels the
//! rain wallpaper's duplicates reach 11. Thin rain over a held 1080p
//! drawing (20 streaks 1 px wide, 10-20 px long, 30-40 levels, the faintest
//! corner of what the tests generate), x264 crf 28: 44 to 82 blocks per
//! transition; crf 18: 59 to 97; at 6 levels one crf-28 transition already
//! drops to 0, so 5 is where both sides keep a margin.

use std::sync::{Arc, OnceLock};

use crate::picture::Picture;

/// Side of a comparison block, in full-resolution samples.
pub const BLOCK: usize = 4;

/// One frame's full-resolution luma, and its block sums once a check has
/// needed them (a held run's first frame is compared with every frame of
/// the run, so its sums are taken once).
pub struct Fine {
    pic: Arc<Picture>,
    sums: OnceLock<Vec<i32>>,
}

impl Fine {
    pub fn new(pic: Arc<Picture>) -> Fine {
        Fine {
            pic,
            sums: OnceLock::new(),
        }
    }

    /// Sum of the luma samples of every whole [`BLOCK`] x [`BLOCK`] block,
    /// row-major over [`Fine::grid`] (16 samples of up to 16 bits fit an
    /// i32). The caller has checked that the plane holds width x height.
    fn block_sums(&self) -> &[i32] {
        self.sums.get_or_init(|| {
            let (bw, bh) = self.grid();
            let w = self.pic.width;
            let used = bw * BLOCK;
            let data = self.luma();
            let mut out = Vec::with_capacity(bw * bh);
            let mut cols = vec![0i32; used];
            for by in 0..bh {
                cols.iter_mut().for_each(|c| *c = 0);
                for y in by * BLOCK..(by + 1) * BLOCK {
                    for (c, &v) in cols.iter_mut().zip(&data[y * w..y * w + used]) {
                        *c += i32::from(v);
                    }
                }
                out.extend(
                    cols.chunks_exact(BLOCK)
                        .map(|c| (c[0] + c[1]) + (c[2] + c[3])),
                );
            }
            out
        })
    }

    /// Blocks across and down (partial blocks at the right and bottom
    /// edges are left out).
    fn grid(&self) -> (usize, usize) {
        (self.pic.width / BLOCK, self.pic.height / BLOCK)
    }

    /// 255 / the largest sample value: brings any bit depth to 0..255.
    fn scale(&self) -> f32 {
        255.0 / f32::from(self.pic.max_value().max(1))
    }

    fn luma(&self) -> &[u16] {
        &self.pic.planes[0]
    }

    /// Mean absolute horizontal plus vertical gradient of block (bx, by),
    /// 0..255 scale (each sample against its right and lower neighbour,
    /// or itself at the picture's edge).
    fn texture(&self, bx: usize, by: usize) -> f32 {
        let (w, h) = (self.pic.width, self.pic.height);
        let data = self.luma();
        let mut sum = 0u32;
        for y in by * BLOCK..(by + 1) * BLOCK {
            let below = (y + 1).min(h - 1) * w;
            for x in bx * BLOCK..(bx + 1) * BLOCK {
                let p = data[y * w + x];
                sum += u32::from(p.abs_diff(data[y * w + (x + 1).min(w - 1)]))
                    + u32::from(p.abs_diff(data[below + x]));
            }
        }
        sum as f32 * self.scale() / (BLOCK * BLOCK) as f32
    }
}

/// Blocks with a visible change between `a` and `b` (see the module doc):
/// signed mean difference above `levels + texture * min(texture_a,
/// texture_b)` (0..255 scale), counted only with a changed neighbour.
/// `None` when the frames differ in size or depth.
///
/// The signed sums come from each frame's block sums, taken once per frame
/// (one pass over it); the texture is measured only for the few blocks
/// whose change exceeds `levels`, so a held frame costs little more than
/// its own pass.
pub fn changed_blocks(a: &Fine, b: &Fine, levels: f32, texture: f32) -> Option<u32> {
    let (w, h) = (a.pic.width, a.pic.height);
    if (w, h) != (b.pic.width, b.pic.height) || a.pic.depth != b.pic.depth {
        return None;
    }
    let (bw, bh) = a.grid();
    if bw == 0 || bh == 0 || a.luma().len() < w * h || b.luma().len() < w * h {
        return Some(0);
    }
    let norm = a.scale() / (BLOCK * BLOCK) as f32;
    // Coherent change per block (the signed sum of b - a is the difference
    // of the two frames' block sums), compared without a branch so the
    // pass vectorises; the texture allowance is measured only for the few
    // blocks over `levels` (it can only raise the allowance).
    let (sa, sb) = (a.block_sums(), b.block_sums());
    let coherent = |p: i32, q: i32| (q - p).unsigned_abs() as f32 * norm;
    let over: Vec<u8> = sa
        .iter()
        .zip(sb)
        .map(|(&p, &q)| u8::from(coherent(p, q) > levels))
        .collect();
    let mut changed = vec![false; bw * bh];
    let mut marked = Vec::new();
    for i in flagged(&over) {
        let (bx, by) = (i % bw, i / bw);
        let shared = a.texture(bx, by).min(b.texture(bx, by));
        if coherent(sa[i], sb[i]) > levels + texture * shared {
            changed[i] = true;
            marked.push(i);
        }
    }
    let with_neighbour = marked.iter().filter(|&&i| {
        let (bx, by) = (i % bw, i / bw);
        let (y0, y1) = (by.saturating_sub(1), (by + 1).min(bh - 1));
        let (x0, x1) = (bx.saturating_sub(1), (bx + 1).min(bw - 1));
        (y0..=y1).any(|y| (x0..=x1).any(|x| (x, y) != (bx, by) && changed[y * bw + x]))
    });
    Some(with_neighbour.count() as u32)
}

/// Indexes of the non-zero bytes of `flags`, skipping zero runs eight
/// bytes at a time (nearly every block of a held frame is zero).
fn flagged(flags: &[u8]) -> impl Iterator<Item = usize> + '_ {
    flags
        .chunks(8)
        .enumerate()
        .filter(|(_, c)| c.iter().fold(0u8, |acc, &f| acc | f) != 0)
        .flat_map(|(k, c)| {
            c.iter()
                .enumerate()
                .filter(|(_, &f)| f != 0)
                .map(move |(j, _)| k * 8 + j)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::Chroma;

    fn pic(f: impl Fn(usize, usize) -> u16) -> Fine {
        let mut p = Picture::black(64, 48, Chroma::Yuv420, 8);
        for y in 0..48 {
            for x in 0..64 {
                p.planes[0][y * 64 + x] = f(x, y);
            }
        }
        Fine::new(Arc::new(p))
    }

    /// A drawing: flat areas with a few hard edges.
    fn drawing(x: usize, y: usize) -> u16 {
        if (x / 16 + y / 12).is_multiple_of(2) {
            60
        } else {
            180
        }
    }

    #[test]
    fn identical_frames_have_no_changed_block() {
        let a = pic(drawing);
        assert_eq!(changed_blocks(&a, &pic(drawing), 5.0, 0.5), Some(0));
    }

    #[test]
    fn ringing_on_edges_and_isolated_specks_are_not_changes() {
        let a = pic(drawing);
        // ±20 levels alternating along every edge of the drawing (ringing),
        // plus two isolated 1-pixel specks of 60 levels.
        let b = pic(|x, y| {
            let v = drawing(x, y);
            let edge = x % 16 <= 1 || x % 16 >= 14 || y % 12 <= 1 || y % 12 >= 10;
            let v = if edge {
                if (x + y) % 2 == 0 {
                    v + 20
                } else {
                    v - 20
                }
            } else {
                v
            };
            if (x, y) == (5, 5) || (x, y) == (40, 30) {
                v + 60
            } else {
                v
            }
        });
        assert_eq!(changed_blocks(&a, &b, 5.0, 0.5), Some(0));
    }

    #[test]
    fn a_thin_streak_over_a_flat_area_is_a_change() {
        let flat = pic(|_, _| 90);
        // One streak 1 px wide, 12 px long, 35 levels brighter.
        let rain = pic(|x, y| {
            if x == 21 && (10..22).contains(&y) {
                125
            } else {
                90
            }
        });
        let n = changed_blocks(&flat, &rain, 5.0, 0.5).unwrap();
        assert!(n >= 2, "{n}");
    }

    #[test]
    fn different_sizes_are_not_comparable() {
        let a = pic(drawing);
        let b = Fine::new(Arc::new(Picture::black(32, 32, Chroma::Yuv420, 8)));
        assert_eq!(changed_blocks(&a, &b, 5.0, 0.5), None);
    }
}
