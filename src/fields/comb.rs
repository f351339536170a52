//! Combing: how much a picture woven from two fields shows the teeth of
//! two moments in time.
//!
//! A sample is *combed* when it differs from both vertical neighbours (the
//! other field) in the same direction by more than [`COMB_LEVELS`], and a
//! five-tap vertical filter that cancels real horizontal edges still sees
//! a strong alternation (the test `fieldmatch` and TIVTC's `IsCombed` use).
//! Combed samples are counted in [`BLOCK`]x[`BLOCK`] blocks; a picture is
//! combed when one block holds more than [`COMBED_SAMPLES`] of them, so a
//! small moving mouth is enough while scattered noise never is.
//!
//! Everything is on the 0..255 scale whatever the bit depth.

/// Smallest difference (0..255 levels) from both neighbours of the other
/// field for a combed sample (FFmpeg `fieldmatch` `cthresh` default 9).
pub const COMB_LEVELS: i32 = 9;
/// Side of the counting block, in samples (`fieldmatch` `blockx/blocky` 16).
pub const BLOCK: usize = 16;
/// Combed samples in one block above which the picture is combed
/// (`fieldmatch` `combpel` default 80 of 256).
pub const COMBED_SAMPLES: u32 = 80;

/// One luma plane, samples at `depth` bits in u16, `stride` samples a row.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a> {
    pub data: &'a [u16],
    pub width: usize,
    pub height: usize,
    pub stride: usize,
    pub depth: u8,
}

impl<'a> Plane<'a> {
    /// Row `y` (clamped into the picture).
    fn row(&self, y: usize) -> &'a [u16] {
        let y = y.min(self.height.saturating_sub(1));
        let start = y * self.stride;
        &self.data[start..start + self.width]
    }

    fn shift(&self) -> u32 {
        u32::from(self.depth.saturating_sub(8))
    }

    /// Whether the plane's geometry holds together (same-size planes can be woven).
    pub fn fits(&self, other: &Plane) -> bool {
        self.width == other.width
            && self.height == other.height
            && self.width > 0
            && self.height >= 5
            && self.stride >= self.width
            && other.stride >= other.width
            && (self.height - 1) * self.stride + self.width <= self.data.len()
            && (other.height - 1) * other.stride + other.width <= other.data.len()
    }
}

/// The combing of one woven picture.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Comb {
    /// Combed samples in the worst block (0..=256).
    pub max_block: u32,
    /// Fraction of all samples that are combed.
    pub fraction: f32,
}

impl Comb {
    pub fn is_combed(&self) -> bool {
        self.max_block > COMBED_SAMPLES
    }
}

/// Combing of the picture whose even rows come from `top` and odd rows
/// from `bottom` (pass the same plane twice for the picture as it is).
/// Planes that do not fit together give the default (no combing).
pub fn comb(top: Plane, bottom: Plane) -> Comb {
    if !top.fits(&bottom) {
        return Comb::default();
    }
    let (w, h) = (top.width, top.height);
    let row = |y: usize| {
        if y.is_multiple_of(2) {
            top.row(y)
        } else {
            bottom.row(y)
        }
    };
    let (st, sb) = (top.shift(), bottom.shift());
    let shift_of = |y: usize| if y.is_multiple_of(2) { st } else { sb };
    let blocks_x = w.div_ceil(BLOCK);
    let mut counts = vec![0u32; blocks_x];
    let mut combed = vec![0u8; w];
    let mut max_block = 0u32;
    let mut total = 0u64;
    let t = COMB_LEVELS;
    for y in 0..h {
        if y.is_multiple_of(BLOCK) && y > 0 {
            max_block = max_block.max(counts.iter().copied().max().unwrap_or(0));
            counts.iter_mut().for_each(|c| *c = 0);
        }
        if y < 2 || y + 2 >= h {
            continue;
        }
        let (a2, a, c, b, b2) = (row(y - 2), row(y - 1), row(y), row(y + 1), row(y + 2));
        let (so, ss) = (shift_of(y + 1), shift_of(y));
        // Per sample, combed or not (branch-free over zipped rows, which
        // the compiler vectorises: combing is rare and scattered), then
        // counted per block.
        let (a2, a, c, b, b2) = (&a2[..w], &a[..w], &c[..w], &b[..w], &b2[..w]);
        for (((((m, &cs), &a1s), &b1s), &a2s), &b2s) in
            combed.iter_mut().zip(c).zip(a).zip(b).zip(a2).zip(b2)
        {
            let cv = i32::from(cs >> ss);
            let av = i32::from(a1s >> so);
            let bv = i32::from(b1s >> so);
            let (d1, d2) = (cv - av, cv - bv);
            let apart = ((d1 > t) & (d2 > t)) | ((d1 < -t) & (d2 < -t));
            let f = i32::from(a2s >> ss) + 4 * cv + i32::from(b2s >> ss) - 3 * (av + bv);
            *m = u8::from(apart & (f.abs() > 6 * t));
        }
        for (count, block) in counts.iter_mut().zip(combed.chunks(BLOCK)) {
            let n: u32 = block.iter().map(|&m| u32::from(m)).sum();
            *count += n;
            total += u64::from(n);
        }
    }
    max_block = max_block.max(counts.iter().copied().max().unwrap_or(0));
    Comb {
        max_block,
        fraction: total as f32 / (w * h) as f32,
    }
}

/// Mean absolute luma difference (0..255) of two same-size planes on every
/// 4th sample of every 4th row: enough to tell a still frame from a moving one.
pub fn rough_difference(a: Plane, b: Plane) -> f32 {
    if !a.fits(&b) {
        return 255.0;
    }
    let (sa, sb) = (a.shift(), b.shift());
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in (0..a.height).step_by(4) {
        let (ra, rb) = (a.row(y), b.row(y));
        for x in (0..a.width).step_by(4) {
            sum += u64::from((i32::from(ra[x] >> sa) - i32::from(rb[x] >> sb)).unsigned_abs());
            n += 1;
        }
    }
    sum as f32 / n.max(1) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64x64 8-bit picture: a bright square moved `dx` samples right.
    fn square(dx: usize) -> Vec<u16> {
        let mut v = vec![40u16; 64 * 64];
        for y in 16..48 {
            for x in (16 + dx)..(40 + dx) {
                v[y * 64 + x] = 200;
            }
        }
        v
    }

    fn plane(v: &[u16]) -> Plane<'_> {
        Plane {
            data: v,
            width: 64,
            height: 64,
            stride: 64,
            depth: 8,
        }
    }

    #[test]
    fn a_progressive_picture_is_not_combed_and_two_moments_woven_are() {
        let (a, b) = (square(0), square(8));
        assert!(!comb(plane(&a), plane(&a)).is_combed());
        let woven = comb(plane(&a), plane(&b));
        assert!(woven.is_combed(), "{woven:?}");
        // Horizontal edges of a still picture are not combing.
        assert_eq!(comb(plane(&a), plane(&a)).max_block, 0);
    }

    #[test]
    fn fine_horizontal_texture_alone_is_not_combing() {
        // One-sample-high stripes of small contrast (below the threshold).
        let v: Vec<u16> = (0..64 * 64)
            .map(|i| if (i / 64) % 2 == 0 { 100 } else { 106 })
            .collect();
        assert!(!comb(plane(&v), plane(&v)).is_combed());
    }

    #[test]
    fn ten_bit_planes_score_like_eight_bit() {
        let (a, b) = (square(0), square(8));
        let up = |v: &[u16]| v.iter().map(|s| s << 2).collect::<Vec<u16>>();
        let (a10, b10) = (up(&a), up(&b));
        fn p10(v: &[u16]) -> Plane<'_> {
            Plane {
                depth: 10,
                ..plane(v)
            }
        }
        assert_eq!(comb(p10(&a10), p10(&b10)), comb(plane(&a), plane(&b)));
    }

    #[test]
    fn mismatched_planes_give_no_combing_and_no_panic() {
        let a = square(0);
        let small = Plane {
            data: &a[..100],
            ..plane(&a)
        };
        assert_eq!(comb(small, plane(&a)), Comb::default());
        assert_eq!(rough_difference(small, plane(&a)), 255.0);
    }
}
