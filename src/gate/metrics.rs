//! Thumbnails and the raw similarity scores between two of them; the
//! project's one SSIM ([`ssim`]) and one mean difference of full-size
//! pictures ([`rgb_mean_abs_diff`]), which the guard and the lab use too.
//!
//! Everything here is pure arithmetic on downscaled luma and chroma: no thresholds, no
//! decisions. The classifier in `super` (`gate/mod.rs`) turns [`Scores`] into labels.

use crate::picture::RgbImage;

/// Longest side of a thumbnail, in samples. The integer box-downscale factor
/// is the smallest one that brings the long side to at most this, so 1080p
/// becomes 480x270 (factor 4), 720p 426x240 (factor 3), 480p 320x240
/// (factor 2) and anything up to 480 wide stays at full resolution.
pub const THUMB_MAX_SIDE: usize = 480;

/// Number of luma histogram bins kept per thumbnail (8 levels per bin on
/// the 0..255 scale).
pub const HIST_BINS: usize = 32;

/// Bins per channel of the joint Y/Cb/Cr colour histogram (32 levels per
/// bin on the 0..255 scale), so [`COLOR_BINS`] bins in all.
pub const COLOR_BINS_PER_CHANNEL: usize = 8;
/// Thumbnail samples (each way) per sample of the colour histogram: 2, so
/// a 1080p frame's histogram counts 240x135 samples, plenty for a
/// distribution and a quarter of the cost.
pub const COLOR_STEP: usize = 2;
/// Bins of the joint colour histogram.
pub const COLOR_BINS: usize =
    COLOR_BINS_PER_CHANNEL * COLOR_BINS_PER_CHANNEL * COLOR_BINS_PER_CHANNEL;

/// Side of the square analysis cell, in thumbnail samples. SSIM windows and
/// change blocks are 2x2 cells (8x8 samples) taken with a stride of one cell,
/// so each window overlaps its neighbours by half and a change straddling a
/// cell border still falls entirely inside one window.
pub const CELL: usize = 4;

/// SSIM stabilising constants for an 8-bit dynamic range (Wang et al. 2004:
/// K1 = 0.01, K2 = 0.03, L = 255).
const SSIM_C1: f32 = (0.01 * 255.0) * (0.01 * 255.0);
const SSIM_C2: f32 = (0.03 * 255.0) * (0.03 * 255.0);
/// Structure-term constant, C3 = C2 / 2 as in the SSIM paper.
const SSIM_C3: f32 = SSIM_C2 / 2.0;

/// One luma plane as the decoder gives it: samples at native bit depth
/// (8..=12) stored in u16, row-major, `stride` samples per row.
#[derive(Clone, Copy, Debug)]
pub struct Luma<'a> {
    /// Samples, row-major; row `y` starts at `y * stride`.
    pub data: &'a [u16],
    /// Visible width in samples.
    pub width: usize,
    /// Visible height in rows.
    pub height: usize,
    /// Distance between the starts of two rows, in samples (>= width).
    pub stride: usize,
    /// Significant bits per sample (8..=12).
    pub bit_depth: u8,
}

impl<'a> Luma<'a> {
    /// The luma plane of a decoded picture.
    pub fn of(pic: &'a crate::picture::Picture) -> Luma<'a> {
        Luma {
            data: &pic.planes[0],
            width: pic.width,
            height: pic.height,
            stride: pic.width,
            bit_depth: pic.depth,
        }
    }

    /// Checks that the geometry is consistent with the data. [`thumbnail`]
    /// never panics on a bad plane (it uses only the rows and columns that
    /// exist), but a caller that wants a clear error can call this first.
    pub fn check(&self) -> Result<(), String> {
        if self.width == 0 || self.height == 0 {
            return Err(format!(
                "luma plane is {}x{} (expected width and height >= 1)",
                self.width, self.height
            ));
        }
        if self.stride < self.width {
            return Err(format!(
                "luma stride {} is smaller than width {} (expected stride >= width)",
                self.stride, self.width
            ));
        }
        if !(8..=16).contains(&self.bit_depth) {
            return Err(format!(
                "luma bit depth {} (expected 8..=16)",
                self.bit_depth
            ));
        }
        let need = (self.height - 1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(self.width));
        match need {
            Some(n) if n <= self.data.len() => Ok(()),
            _ => Err(format!(
                "luma buffer holds {} samples (expected >= {} for {}x{} with stride {})",
                self.data.len(),
                need.map_or_else(|| "overflow".to_string(), |n| n.to_string()),
                self.width,
                self.height,
                self.stride
            )),
        }
    }
}

/// Downscaled, normalised luma used for all comparisons: values are f32 on
/// the 0..255 scale whatever the source bit depth.
#[derive(Clone, Debug)]
pub struct Thumb {
    width: usize,
    height: usize,
    data: Vec<f32>,
    /// Normalised luma histogram (sums to 1 unless the thumb is empty).
    hist: [f32; HIST_BINS],
    /// Normalised joint Y/Cb/Cr histogram ([`COLOR_BINS`] bins): where the
    /// picture's colours are, whatever their position. Motion moves pixels
    /// but keeps their colours; a new shot brings new ones.
    color: Vec<f32>,
    /// Mean luma, 0..255.
    mean: f32,
    /// Line art (see [`super::edges`]).
    edges: super::edges::EdgeMap,
}

impl Thumb {
    /// Width in samples.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Height in samples.
    pub fn height(&self) -> usize {
        self.height
    }
    /// Samples, row-major, no padding, 0..255.
    pub fn data(&self) -> &[f32] {
        &self.data
    }
    /// Mean luma, 0..255.
    pub fn mean(&self) -> f32 {
        self.mean
    }
    /// Line art (see [`super::edges`]).
    pub fn edges(&self) -> &super::edges::EdgeMap {
        &self.edges
    }
    /// Normalised 32-bin luma histogram.
    pub fn hist(&self) -> &[f32; HIST_BINS] {
        &self.hist
    }
    /// Normalised joint Y/Cb/Cr histogram, [`COLOR_BINS`] bins.
    pub fn color_hist(&self) -> &[f32] {
        &self.color
    }
    /// Whether the thumb has no samples (empty or unusable input plane).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Builds a thumb directly from 0..255 samples (tests and synthetic
    /// input). Extra samples are ignored; missing ones make the thumb
    /// smaller (whole rows only).
    pub fn from_samples(width: usize, height: usize, samples: &[f32]) -> Thumb {
        let rows = samples
            .len()
            .checked_div(width)
            .map_or(0, |r| height.min(r));
        let n = width * rows;
        let data: Vec<f32> = samples[..n].iter().map(|v| v.clamp(0.0, 255.0)).collect();
        Thumb::finish(width, rows, data)
    }

    fn finish(width: usize, height: usize, data: Vec<f32>) -> Thumb {
        Thumb::finish_with(width, height, data, |_| None)
    }

    /// [`Thumb::finish`] with the chroma samples on the colour grid that
    /// `chroma` gives for (step, width, height) of that grid (None: grey).
    fn finish_with(
        width: usize,
        height: usize,
        data: Vec<f32>,
        chroma: impl FnOnce((usize, usize, usize)) -> Option<(Vec<f32>, Vec<f32>)>,
    ) -> Thumb {
        let (counts, sum) = histogram_and_sum(&data);
        let n = data.len();
        let mean = if n > 0 { (sum / n as f64) as f32 } else { 0.0 };
        let mut hist = [0f32; HIST_BINS];
        if n > 0 {
            let inv = 1.0 / n as f32;
            for (h, &c) in hist.iter_mut().zip(&counts) {
                *h = c as f32 * inv;
            }
        }
        let mut thumb = Thumb {
            width,
            height,
            data,
            hist,
            color: Vec::new(),
            mean,
            edges: super::edges::EdgeMap::default(),
        };
        thumb.edges = super::edges::EdgeMap::of(thumb.width, thumb.height, &thumb.data);
        let uv = chroma(thumb.color_grid());
        thumb.set_chroma(uv.as_ref().map(|(u, v)| (u.as_slice(), v.as_slice())));
        thumb
    }

    /// Fills the joint colour histogram from chroma samples on the colour
    /// grid (see [`COLOR_STEP`]; 0..255, neutral 128 when `None`: grey
    /// pictures), each paired with the mean luma of its thumbnail samples.
    fn set_chroma(&mut self, chroma: Option<(&[f32], &[f32])>) {
        const SHIFT: u32 = 8 - COLOR_BINS_PER_CHANNEL.trailing_zeros();
        const NEUTRAL: usize = 128 >> SHIFT;
        // Values are clamped to 0..=255 by construction; `min` keeps the
        // bin in range without relying on it.
        let bin = |v: f32| ((v as usize) >> SHIFT).min(COLOR_BINS_PER_CHANNEL - 1);
        let index = |y: usize, u: usize, v: usize| {
            (y * COLOR_BINS_PER_CHANNEL + u) * COLOR_BINS_PER_CHANNEL + v
        };
        let luma = self.color_luma();
        let n = luma.len();
        // Four interleaved partial histograms, as in `histogram_and_sum`.
        let mut parts = vec![[0u32; 4]; COLOR_BINS];
        match chroma {
            Some((u, v)) if u.len() == n && v.len() == n => {
                for (k, ((&y, &u), &v)) in luma.iter().zip(u).zip(v).enumerate() {
                    parts[index(bin(y), bin(u), bin(v))][k & 3] += 1;
                }
            }
            _ => {
                for (k, &y) in luma.iter().enumerate() {
                    parts[index(bin(y), NEUTRAL, NEUTRAL)][k & 3] += 1;
                }
            }
        }
        let inv = if n > 0 { 1.0 / n as f32 } else { 0.0 };
        self.color = parts
            .iter()
            .map(|p| p.iter().sum::<u32>() as f32 * inv)
            .collect();
    }

    /// Mean luma of each sample of the colour grid (its `step` x `step`
    /// thumbnail samples), row-major.
    fn color_luma(&self) -> Vec<f32> {
        let (step, gw, gh) = self.color_grid();
        let mut luma = Vec::with_capacity(gw * gh);
        let inv_area = 1.0 / (step * step) as f32;
        let row = |y: usize| &self.data[y * self.width..y * self.width + gw * step];
        for gy in 0..gh {
            if step == 2 {
                let (r0, r1) = (row(2 * gy), row(2 * gy + 1));
                luma.extend(
                    r0.chunks_exact(2)
                        .zip(r1.chunks_exact(2))
                        .map(|(a, b)| ((a[0] + a[1]) + (b[0] + b[1])) * inv_area),
                );
            } else {
                for gx in 0..gw {
                    let mut sum = 0f32;
                    for y in gy * step..(gy + 1) * step {
                        sum += row(y)[gx * step..(gx + 1) * step].iter().sum::<f32>();
                    }
                    luma.push(sum * inv_area);
                }
            }
        }
        luma
    }

    /// (step, width, height) of the colour grid: [`COLOR_STEP`] x
    /// [`COLOR_STEP`] thumbnail samples per colour sample, or 1 for a thumb
    /// too small for that.
    fn color_grid(&self) -> (usize, usize, usize) {
        let step = if self.width >= COLOR_STEP && self.height >= COLOR_STEP {
            COLOR_STEP
        } else {
            1
        };
        (step, self.width / step, self.height / step)
    }
}

/// Luma histogram counts ([`HIST_BINS`] bins, 8 levels each) and the sum
/// of 0..255 samples. Four interleaved partial histograms and sums: a flat
/// drawing puts long runs of samples into one bin, and a single counter
/// would make each increment wait for the previous one.
fn histogram_and_sum(data: &[f32]) -> ([u32; HIST_BINS], f64) {
    let bin_scale = HIST_BINS as f32 / 256.0;
    let mut parts = [[0u32; HIST_BINS]; 4];
    let mut sums = [0f64; 4];
    // Bins a run at a time in a pass of its own (float to integer over a
    // plain slice vectorises), then counted. Samples are clamped to
    // 0..=255, so the bin is < HIST_BINS; `min` keeps that true without
    // relying on it.
    let mut bins = [0u8; 256];
    for run in data.chunks(bins.len()) {
        for (b, &v) in bins.iter_mut().zip(run) {
            *b = ((v * bin_scale) as u8).min(HIST_BINS as u8 - 1);
        }
        let n = run.len();
        let (quads, rest) = (run.chunks_exact(4), &run[n - n % 4..]);
        for (b, v) in bins.chunks_exact(4).zip(quads) {
            for k in 0..4 {
                parts[k][usize::from(b[k])] += 1;
                sums[k] += f64::from(v[k]);
            }
        }
        for (&b, &v) in bins[n - n % 4..n].iter().zip(rest) {
            parts[0][usize::from(b)] += 1;
            sums[0] += f64::from(v);
        }
    }
    let mut counts = [0u32; HIST_BINS];
    for (i, c) in counts.iter_mut().enumerate() {
        *c = parts.iter().map(|p| p[i]).sum();
    }
    (counts, (sums[0] + sums[1]) + (sums[2] + sums[3]))
}

/// Box-downscale factor used for a plane of this size (see [`THUMB_MAX_SIDE`]).
pub fn thumb_factor(width: usize, height: usize) -> usize {
    width.max(height).div_ceil(THUMB_MAX_SIDE).max(1)
}

/// Makes the comparison thumbnail of one decoded luma plane: an integer box
/// downscale (see [`THUMB_MAX_SIDE`]) normalised to 0..255. A plane whose
/// geometry does not match its buffer is cut down to the whole rows and
/// columns that exist (see [`Luma::check`]); an unusable one gives an empty
/// thumb, which compares as a cut against anything else.
pub fn thumbnail(luma: &Luma) -> Thumb {
    match luma_samples(luma) {
        Some((tw, th, out)) => Thumb::finish(tw, th, out),
        None => Thumb::finish(0, 0, Vec::new()),
    }
}

/// The box-downscaled luma of [`thumbnail`]: (width, height, samples), or
/// None for an unusable plane.
fn luma_samples(luma: &Luma) -> Option<(usize, usize, Vec<f32>)> {
    let width = luma.width.min(luma.stride);
    // The last row only needs `width` samples, not a full stride.
    let rows_in_data = luma.data.len().checked_div(luma.stride).map_or(0, |full| {
        if luma.data.len() - full * luma.stride >= width {
            full + 1
        } else {
            full
        }
    });
    let height = luma.height.min(rows_in_data);
    if width == 0 || height == 0 {
        return None;
    }
    let f = thumb_factor(width, height);
    let tw = width / f;
    let th = height / f;
    if tw == 0 || th == 0 {
        return None;
    }
    let depth = u32::from(luma.bit_depth.clamp(1, 16));
    let max_val = ((1u32 << depth) - 1) as f32;
    let scale = 255.0 / (max_val * (f * f) as f32);
    let mut out = Vec::with_capacity(tw * th);
    let used = tw * f;
    let mut acc = vec![0u32; used];
    for ty in 0..th {
        acc.iter_mut().for_each(|a| *a = 0);
        for dy in 0..f {
            let start = (ty * f + dy) * luma.stride;
            // In range: row < height <= rows_in_data and used <= width.
            let row = &luma.data[start..start + used];
            for (a, &s) in acc.iter_mut().zip(row) {
                *a += u32::from(s);
            }
        }
        match f {
            1 => out.extend(acc.iter().map(|&a| (a as f32 * scale).min(255.0))),
            2 => out.extend(
                acc.chunks_exact(2)
                    .map(|c| ((c[0] + c[1]) as f32 * scale).min(255.0)),
            ),
            4 => out.extend(
                acc.chunks_exact(4)
                    .map(|c| ((c[0] + c[1] + c[2] + c[3]) as f32 * scale).min(255.0)),
            ),
            _ => out.extend(
                acc.chunks_exact(f)
                    .map(|c| (c.iter().sum::<u32>() as f32 * scale).min(255.0)),
            ),
        }
    }
    Some((tw, th, out))
}

/// The thumbnail of a decoded picture: luma as [`thumbnail`], plus the
/// chroma averaged over the same blocks for the colour histogram.
pub fn thumbnail_of(pic: &crate::picture::Picture) -> Thumb {
    let Some((tw, th, out)) = luma_samples(&Luma::of(pic)) else {
        return Thumb::finish(0, 0, Vec::new());
    };
    let f = thumb_factor(pic.width, pic.height);
    let (sx, sy) = pic.chroma.shift();
    let (cw, ch) = pic.chroma.plane_size(pic.width, pic.height);
    Thumb::finish_with(tw, th, out, |(step, gw, gh)| {
        let grid = (f * step, gw, gh);
        let u = chroma_thumb(&pic.planes[1], (cw, ch), (sx, sy), grid, pic.depth);
        let v = chroma_thumb(&pic.planes[2], (cw, ch), (sx, sy), grid, pic.depth);
        Some((u, v))
    })
}

/// One chroma plane averaged over the chroma samples under each sample of
/// the colour grid (`f` full-resolution pixels each way, `tw` x `th`
/// samples), on the 0..255 scale: a box of `f >> shift` samples each way when
/// the subsampling divides the thumbnail factor (the usual case), else the
/// one chroma sample at the block's corner. A plane whose buffer is too
/// short for its size gives an empty result (neutral colour).
fn chroma_thumb(
    plane: &[u16],
    (cw, ch): (usize, usize),
    (sx, sy): (u32, u32),
    (f, tw, th): (usize, usize, usize),
    depth: u8,
) -> Vec<f32> {
    if cw == 0 || ch == 0 || plane.len() < cw * ch {
        return Vec::new();
    }
    let max_val = ((1u32 << u32::from(depth.clamp(1, 16))) - 1) as f32;
    let (fx, fy) = (f >> sx, f >> sy);
    let mut out = Vec::with_capacity(tw * th);
    if fx << sx == f && fy << sy == f && fx > 0 && fy > 0 && tw * fx <= cw && th * fy <= ch {
        let scale = 255.0 / (max_val * (fx * fy) as f32);
        let used = tw * fx;
        let mut acc = vec![0u32; used];
        for ty in 0..th {
            acc.iter_mut().for_each(|a| *a = 0);
            for y in ty * fy..(ty + 1) * fy {
                for (a, &s) in acc.iter_mut().zip(&plane[y * cw..y * cw + used]) {
                    *a += u32::from(s);
                }
            }
            if fx == 4 {
                out.extend(
                    acc.chunks_exact(4)
                        .map(|c| (((c[0] + c[1]) + (c[2] + c[3])) as f32 * scale).min(255.0)),
                );
            } else {
                out.extend(
                    acc.chunks_exact(fx)
                        .map(|c| (c.iter().sum::<u32>() as f32 * scale).min(255.0)),
                );
            }
        }
    } else {
        let scale = 255.0 / max_val;
        for ty in 0..th {
            let y = ((ty * f) >> sy).min(ch - 1);
            for tx in 0..tw {
                let x = ((tx * f) >> sx).min(cw - 1);
                out.push((f32::from(plane[y * cw + x]) * scale).min(255.0));
            }
        }
    }
    out
}

/// Raw scores for one transition a -> b. All of them go into JSON output.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Scores {
    /// Mean SSIM over 8x8 windows (stride 4) of the thumbnails, -1..1
    /// (1 = identical).
    pub ssim: f32,
    /// Mean of SSIM's structure (correlation) term over the same windows,
    /// -1..1. Insensitive to brightness and contrast, so a fade keeps it
    /// high while a cut drops it towards 0.
    pub structure: f32,
    /// Mean absolute luma difference over the whole thumbnail, 0..255.
    pub mad: f32,
    /// Largest mean absolute luma difference of any 8x8 window, 0..255.
    /// Small local changes (a mouth) show here while `mad` stays tiny.
    pub block_max: f32,
    /// Largest mean absolute difference of any 8x8 window after removing
    /// the global mean brightness change, 0..255. Equals `block_max` when
    /// the brightness is unchanged; separates local change from a fade.
    pub block_max_dc: f32,
    /// Fraction of 8x8 windows whose mean absolute difference is above
    /// [`CHANGED_WINDOW_LEVELS`], 0..1: how much of the picture changed.
    pub changed: f32,
    /// Total-variation distance of the 32-bin luma histograms, 0..1.
    pub hist: f32,
    /// Signed change of mean luma b - a, 0..255 scale.
    pub luma_delta: f32,
    /// Total-variation distance of the joint Y/Cb/Cr histograms, 0..1: how
    /// much of the picture's colour distribution changed, wherever it moved.
    pub color: f32,
    /// Blocks of 4x4 full-resolution samples with a visible change that
    /// codec noise does not explain (see [`super::fine`]); computed only
    /// when the thumbnail alone would call the transition a HOLD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fine_blocks: Option<u32>,
    /// Chance-normalised edge change of the line art (see
    /// [`super::edges::edge_change`]): about 1 when the lines of the two
    /// pictures are unrelated, 0 when every line is explained.
    pub edge: f32,
}

/// A window whose mean absolute difference exceeds this many 0..255 levels
/// counts as changed for [`Scores::changed`]. This only feeds a descriptive
/// statistic; decisions use thresholds from `GateParams`.
pub const CHANGED_WINDOW_LEVELS: f32 = 4.0;

impl Scores {
    /// Scores for two pictures that cannot be compared (different sizes,
    /// empty): everything reads as totally different.
    pub fn incomparable() -> Scores {
        Scores {
            ssim: 0.0,
            structure: 0.0,
            mad: 255.0,
            block_max: 255.0,
            block_max_dc: 255.0,
            changed: 1.0,
            hist: 1.0,
            luma_delta: 0.0,
            color: 1.0,
            fine_blocks: None,
            edge: 1.0,
        }
    }

    /// Whether these are the scores of [`Scores::incomparable`] inputs.
    pub fn is_incomparable(&self) -> bool {
        Scores {
            fine_blocks: None,
            ..*self
        } == Scores::incomparable()
    }
}

#[derive(Clone, Copy, Default)]
struct Cell {
    sx: f32,
    sy: f32,
    sxx: f32,
    syy: f32,
    sxy: f32,
    sad: f32,
    sd: f32,
}

impl std::ops::AddAssign<&Cell> for Cell {
    #[inline]
    fn add_assign(&mut self, o: &Cell) {
        self.sx += o.sx;
        self.sy += o.sy;
        self.sxx += o.sxx;
        self.syy += o.syy;
        self.sxy += o.sxy;
        self.sad += o.sad;
        self.sd += o.sd;
    }
}

/// Compares two thumbnails. Thumbs of different sizes, or empty ones, give
/// [`Scores::incomparable`] (which the classifier treats as a cut).
pub fn compare(a: &Thumb, b: &Thumb) -> Scores {
    if a.width != b.width || a.height != b.height || a.data.is_empty() {
        return Scores::incomparable();
    }
    let half_l1 =
        |x: &[f32], y: &[f32]| 0.5 * x.iter().zip(y).map(|(p, q)| (p - q).abs()).sum::<f32>();
    let luma_delta = b.mean - a.mean;
    let grid = CellGrid::of(a, b);
    let win = grid.windows(luma_delta);
    Scores {
        ssim: win.ssim,
        structure: win.structure,
        mad: grid.mad,
        block_max: win.block_max,
        block_max_dc: win.block_max_dc,
        changed: win.changed,
        hist: half_l1(&a.hist, &b.hist),
        luma_delta,
        color: half_l1(&a.color, &b.color),
        fine_blocks: None,
        edge: super::edges::edge_change(&a.edges, &b.edges),
    }
}

/// Mean SSIM of two planes of `width` x `height` samples (0..255,
/// row-major, no padding): the gate's windows (8x8 samples every 4, built
/// from [`CELL`]-sample cells; a plane under 8 samples a side has smaller
/// ones, see [`Scores::ssim`]) and constants, in f32. The one SSIM of the
/// project: [`compare`] scores thumbnails with it, the lab's `eval`
/// full-size luma. Planes of another size
/// than stated, or empty, score as [`Scores::incomparable`].
pub fn ssim(width: usize, height: usize, a: &[f32], b: &[f32]) -> f32 {
    let n = width * height;
    if n == 0 || a.len() != n || b.len() != n {
        return Scores::incomparable().ssim;
    }
    CellGrid::of_samples(width, height, a, b).windows(0.0).ssim
}

/// Mean absolute difference of two planar RGB images of one size over all
/// three channels of every `step`-th pixel of every `step`-th row, in the
/// images' units. The one mean difference of full-size pictures: the ghost
/// guard's plausibility test samples every 2nd pixel and row, the lab's
/// "same picture" test every pixel. (The gate's [`Scores::mad`] is the
/// same measure on thumbnails, summed in the pass that makes every score.)
pub fn rgb_mean_abs_diff(a: &RgbImage, b: &RgbImage, step: usize) -> f64 {
    let (w, h) = (a.width, a.height);
    let n = w * h;
    let mut sum = 0.0f64;
    let mut count = 0usize;
    for y in (0..h).step_by(step.max(1)) {
        for x in (0..w).step_by(step.max(1)) {
            let i = y * w + x;
            for c in 0..3 {
                sum += (a.data[c * n + i] - b.data[c * n + i]).abs() as f64;
            }
            count += 3;
        }
    }
    sum / count.max(1) as f64
}

/// Adds one thumbnail row's samples to its cells (`cell` samples wide)
/// and returns the row's sum of absolute differences.
fn add_row(cells: &mut [Cell], ra: &[f32], rb: &[f32], cell: usize) -> f32 {
    let mut row_ad = 0f32;
    for ((c, ca), cb) in cells
        .iter_mut()
        .zip(ra.chunks_exact(cell))
        .zip(rb.chunks_exact(cell))
    {
        let mut s = Cell::default();
        for (&x, &y) in ca.iter().zip(cb) {
            s.sx += x;
            s.sy += y;
            s.sxx += x * x;
            s.syy += y * y;
            s.sxy += x * y;
            s.sad += (x - y).abs();
            s.sd += y - x;
        }
        *c += &s;
        row_ad += s.sad;
    }
    row_ad
}

/// Per-cell sums of two thumbnails, and their mean absolute difference.
struct CellGrid {
    cells: Vec<Cell>,
    /// Cells across and down, and a cell's side in thumbnail pixels.
    cw: usize,
    ch: usize,
    cell: usize,
    mad: f32,
}

/// The window scores of a [`CellGrid`].
struct WindowScores {
    ssim: f32,
    structure: f32,
    block_max: f32,
    block_max_dc: f32,
    changed: f32,
}

impl CellGrid {
    fn of(a: &Thumb, b: &Thumb) -> CellGrid {
        CellGrid::of_samples(a.width, a.height, &a.data, &b.data)
    }

    /// [`CellGrid::of`] on two planes of `w` x `h` samples (0..255,
    /// row-major, no padding, `w * h` each).
    fn of_samples(w: usize, h: usize, a: &[f32], b: &[f32]) -> CellGrid {
        let n = a.len();
        // A thumb smaller than one cell is one (partial) cell.
        let cell = CELL.min(w).min(h).max(1);
        let (cw, ch) = (w / cell, h / cell);
        let mut cells = vec![Cell::default(); cw * ch];
        let mut total_ad = 0f64;
        for cy in 0..ch {
            for dy in 0..cell {
                let y = cy * cell + dy;
                let ra = &a[y * w..y * w + cw * cell];
                let rb = &b[y * w..y * w + cw * cell];
                let row_cells = &mut cells[cy * cw..(cy + 1) * cw];
                let mut row_ad = add_row(row_cells, ra, rb, cell);
                // Columns right of the last full cell still count for `mad`.
                row_ad += a[y * w + cw * cell..(y + 1) * w]
                    .iter()
                    .zip(&b[y * w + cw * cell..(y + 1) * w])
                    .map(|(x, y)| (x - y).abs())
                    .sum::<f32>();
                total_ad += f64::from(row_ad);
            }
        }
        // Rows below the last full cell row still count for `mad`.
        total_ad += a[ch * cell * w..]
            .iter()
            .zip(&b[ch * cell * w..])
            .map(|(x, y)| f64::from((x - y).abs()))
            .sum::<f64>();
        CellGrid {
            cells,
            cw,
            ch,
            cell,
            mad: (total_ad / n as f64) as f32,
        }
    }

    /// SSIM, structure and change over windows of 2x2 cells with a stride
    /// of one cell (1x1 cell when the grid is a single row or column).
    fn windows(&self, luma_delta: f32) -> WindowScores {
        let (cw, ch, cell) = (self.cw, self.ch, self.cell);
        let span_x = if cw >= 2 { 2 } else { 1 };
        let span_y = if ch >= 2 { 2 } else { 1 };
        let wx = cw + 1 - span_x;
        let wy = ch + 1 - span_y;
        let inv_n = 1.0 / (span_x * span_y * cell * cell) as f32;
        let (mut ssim_sum, mut struct_sum) = (0f64, 0f64);
        let (mut block_max, mut block_max_dc) = (0f32, 0f32);
        let mut changed = 0usize;
        for y in 0..wy {
            for x in 0..wx {
                let mut s = Cell::default();
                for j in 0..span_y {
                    for c in &self.cells[(y + j) * cw + x..(y + j) * cw + x + span_x] {
                        s += c;
                    }
                }
                let mx = s.sx * inv_n;
                let my = s.sy * inv_n;
                let vx = (s.sxx * inv_n - mx * mx).max(0.0);
                let vy = (s.syy * inv_n - my * my).max(0.0);
                let cxy = s.sxy * inv_n - mx * my;
                let l = (2.0 * mx * my + SSIM_C1) / (mx * mx + my * my + SSIM_C1);
                let cs = (2.0 * cxy + SSIM_C2) / (vx + vy + SSIM_C2);
                ssim_sum += f64::from(l * cs);
                let st = (cxy + SSIM_C3) / ((vx * vy).sqrt() + SSIM_C3);
                struct_sum += f64::from(st);
                let bmad = s.sad * inv_n;
                block_max = block_max.max(bmad);
                if bmad > CHANGED_WINDOW_LEVELS {
                    changed += 1;
                }
                // Window mean difference with the global brightness change
                // removed: |mean(d) - delta| is a lower bound of
                // mean|d - delta|, and mean|d| - |delta| another; the larger
                // is kept.
                let local_dc = (s.sd * inv_n - luma_delta).abs();
                block_max_dc = block_max_dc.max(local_dc.max(bmad - luma_delta.abs()));
            }
        }
        let windows = (wx * wy).max(1) as f64;
        WindowScores {
            ssim: (ssim_sum / windows) as f32,
            structure: (struct_sum / windows) as f32,
            block_max,
            block_max_dc,
            changed: (changed as f64 / windows) as f32,
        }
    }
}
