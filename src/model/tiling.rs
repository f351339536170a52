//! Splitting frames into overlapping tiles and stitching scaled tiles back.
//!
//! Pure array code, no ONNX Runtime: the model is a closure. Tiles along an
//! axis all have the same length (`min(tile, size)`), start every
//! `tile - overlap` pixels, and the last one is aligned to the far edge, so
//! a batch of tiles is one dense `[N, C, h, w]` array. Where two tiles
//! overlap, each keeps the half of the overlap nearest its own centre: every
//! kept pixel has at least `overlap / 2` pixels of real image context on
//! each side (or the true image edge, which the whole-frame run sees too).
//! A model whose receptive field radius is at most `overlap / 2` therefore
//! gives exactly the whole-frame result; real convolutional networks, whose
//! influence decays with distance, come within a small tolerance.

use ndarray::{Array3, Array4, ArrayView3, ArrayView4};
use rayon::prelude::*;

use super::error::{ModelError, Result};

/// Default tile edge (input pixels). A 640x360 frame is two 384x360
/// tiles (1.2x the pixels of the whole frame); 1280x720 is 4x2 tiles.
pub const DEFAULT_TILE: usize = 384;
/// Default overlap between neighbouring tiles (input pixels): each kept
/// pixel has >= 24 px of context, more than the ~18 px receptive-field
/// radius of SRVGGNetCompact (animevideov3), whose tiled output then equals
/// the whole-frame output (measured: identical from an overlap of 40).
/// Networks with global operations (Real-CUGAN's squeeze-excitation
/// blocks) or very deep ones (RRDBNet 6B) never match exactly.
pub const DEFAULT_OVERLAP: usize = 48;

/// Tile size and overlap, in input pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileConfig {
    /// Tile edge; frames smaller than this are one tile.
    pub tile: usize,
    /// Pixels shared by neighbouring tiles; half of it is context for each.
    pub overlap: usize,
}

impl Default for TileConfig {
    fn default() -> Self {
        TileConfig {
            tile: DEFAULT_TILE,
            overlap: DEFAULT_OVERLAP,
        }
    }
}

impl TileConfig {
    /// No tiling: every frame is one tile. For models whose output depends
    /// on the whole image (Real-CUGAN's squeeze-excitation blocks pool over
    /// the whole input, so tiles never match the whole-frame result).
    pub const WHOLE_FRAME: TileConfig = TileConfig {
        tile: usize::MAX,
        overlap: 0,
    };

    /// A checked configuration.
    pub fn new(tile: usize, overlap: usize) -> Result<TileConfig> {
        let cfg = TileConfig { tile, overlap };
        cfg.validate()?;
        Ok(cfg)
    }

    /// `tile` must be at least 8 and `overlap` smaller than `tile`.
    pub fn validate(&self) -> Result<()> {
        if self.tile < 8 {
            return Err(ModelError::InvalidSetting {
                setting: "tile size",
                value: self.tile.to_string(),
                expected: ">= 8".into(),
            });
        }
        if self.overlap >= self.tile {
            return Err(ModelError::InvalidSetting {
                setting: "tile overlap",
                value: self.overlap.to_string(),
                expected: format!("< the tile size {}", self.tile),
            });
        }
        Ok(())
    }
}

/// One tile's extent along one axis, in input pixels: it reads
/// `start..start + len` and keeps `keep_start..keep_end` of the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub len: usize,
    pub keep_start: usize,
    pub keep_end: usize,
}

/// One tile: its spans along y and x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tile {
    pub y: Span,
    pub x: Span,
}

/// Spans covering `0..size` with tiles of `min(tile, size)` pixels.
/// `size` must be at least 1 and `overlap < tile`.
pub fn axis_spans(size: usize, tile: usize, overlap: usize) -> Vec<Span> {
    let len = tile.min(size).max(1);
    let mut starts = Vec::new();
    if size <= len {
        starts.push(0);
    } else {
        let stride = tile.saturating_sub(overlap).max(1);
        let last = size - len;
        let mut s = 0;
        while s < last {
            starts.push(s);
            s += stride;
        }
        starts.push(last);
    }
    let mut spans: Vec<Span> = starts
        .iter()
        .map(|&start| Span {
            start,
            len,
            keep_start: 0,
            keep_end: 0,
        })
        .collect();
    let n = spans.len();
    for i in 0..n {
        spans[i].keep_start = if i == 0 {
            0
        } else {
            // Middle of the overlap with the previous tile.
            (spans[i].start + spans[i - 1].start + len) / 2
        };
        spans[i].keep_end = if i + 1 == n {
            size
        } else {
            (spans[i + 1].start + spans[i].start + len) / 2
        };
    }
    spans
}

/// All tiles of a `height` x `width` frame, row by row.
pub fn plan_tiles(height: usize, width: usize, cfg: &TileConfig) -> Result<Vec<Tile>> {
    cfg.validate()?;
    if height == 0 || width == 0 {
        return Err(bad(format!(
            "frame is {width}x{height} (expected at least 1x1)"
        )));
    }
    let ys = axis_spans(height, cfg.tile, cfg.overlap);
    let xs = axis_spans(width, cfg.tile, cfg.overlap);
    Ok(ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| Tile { y, x }))
        .collect())
}

fn bad(reason: String) -> ModelError {
    ModelError::BadInput {
        context: "tiling".into(),
        reason,
    }
}

/// Copies `tiles` (all of one size) out of a CHW image into an NCHW batch.
pub fn extract_tiles(img: ArrayView3<'_, f32>, tiles: &[Tile]) -> Result<Array4<f32>> {
    let (c, h, w) = img.dim();
    let Some(first) = tiles.first() else {
        return Err(bad("no tiles to extract".into()));
    };
    let (th, tw) = (first.y.len, first.x.len);
    for t in tiles {
        if t.y.len != th || t.x.len != tw || t.y.start + th > h || t.x.start + tw > w {
            return Err(bad(format!(
                "tile at ({}, {}) of {}x{} does not fit a batch of {tw}x{th} tiles in a {w}x{h} frame",
                t.x.start, t.y.start, t.x.len, t.y.len
            )));
        }
    }
    let src = img.as_standard_layout();
    let src = src
        .as_slice()
        .ok_or_else(|| bad("image is not contiguous".into()))?;
    let per_tile = c * th * tw;
    let mut out = vec![0f32; tiles.len() * per_tile];
    out.par_chunks_mut(per_tile)
        .zip(tiles.par_iter())
        .for_each(|(dst, t)| {
            for ch in 0..c {
                for row in 0..th {
                    let s = ch * h * w + (t.y.start + row) * w + t.x.start;
                    let d = ch * th * tw + row * tw;
                    dst[d..d + tw].copy_from_slice(&src[s..s + tw]);
                }
            }
        });
    Array4::from_shape_vec((tiles.len(), c, th, tw), out).map_err(|e| bad(e.to_string()))
}

/// Writes the kept part of each scaled tile output into `out` (C, scale*H, scale*W).
pub fn place_tiles(
    out: &mut Array3<f32>,
    scale: usize,
    tiles: &[Tile],
    outputs: ArrayView4<'_, f32>,
) -> Result<()> {
    let (c, oh, ow) = out.dim();
    let (n, oc, th, tw) = outputs.dim();
    if n != tiles.len() || oc != c {
        return Err(bad(format!(
            "model returned {n} tiles of {oc} channels (expected {} tiles of {c} channels)",
            tiles.len()
        )));
    }
    for t in tiles {
        if th != scale * t.y.len || tw != scale * t.x.len {
            return Err(bad(format!(
                "model returned {tw}x{th} tiles for {}x{} input tiles (expected scale {scale}: {}x{})",
                t.x.len,
                t.y.len,
                scale * t.x.len,
                scale * t.y.len
            )));
        }
        if scale * t.y.keep_end > oh || scale * t.x.keep_end > ow {
            return Err(bad(format!(
                "tile keeps pixels outside the {ow}x{oh} output"
            )));
        }
    }
    let src = outputs.as_standard_layout();
    let src = src
        .as_slice()
        .ok_or_else(|| bad("model output is not contiguous".into()))?;
    let dst = out
        .as_slice_mut()
        .ok_or_else(|| bad("output frame is not contiguous".into()))?;
    dst.par_chunks_mut(oh * ow)
        .enumerate()
        .for_each(|(ch, plane)| {
            for (i, t) in tiles.iter().enumerate() {
                let y0 = scale * (t.y.keep_start - t.y.start);
                let y1 = scale * (t.y.keep_end - t.y.start);
                let x0 = scale * (t.x.keep_start - t.x.start);
                let x1 = scale * (t.x.keep_end - t.x.start);
                let base = (i * c + ch) * th * tw;
                for row in y0..y1 {
                    let s = base + row * tw;
                    let d = (scale * t.y.start + row) * ow + scale * t.x.start;
                    plane[d + x0..d + x1].copy_from_slice(&src[s + x0..s + x1]);
                }
            }
        });
    Ok(())
}

/// Runs `model` over overlapping tiles of `img` (C, H, W), at most `batch`
/// tiles per call, and stitches its `scale`x outputs into one
/// (C, scale*H, scale*W) image.
pub fn run_tiled<F>(
    img: ArrayView3<'_, f32>,
    scale: usize,
    cfg: &TileConfig,
    batch: usize,
    mut model: F,
) -> Result<Array3<f32>>
where
    F: FnMut(ArrayView4<'_, f32>) -> Result<Array4<f32>>,
{
    let (c, h, w) = img.dim();
    if c == 0 {
        return Err(bad("image has 0 channels".into()));
    }
    if scale == 0 {
        return Err(bad("scale 0 (expected >= 1)".into()));
    }
    let batch = batch.max(1);
    let tiles = plan_tiles(h, w, cfg)?;
    let mut out = Array3::<f32>::zeros((c, scale * h, scale * w));
    for group in tiles.chunks(batch) {
        let input = extract_tiles(img, group)?;
        let output = model(input.view())?;
        place_tiles(&mut out, scale, group, output.view())?;
    }
    Ok(out)
}

/// How [`pad_nchw`] fills pixels outside the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadMode {
    /// Mirror without repeating the edge pixel (`d c b | a b c d | c b a`),
    /// folded again when the pad is wider than the image.
    Reflect,
    /// Repeat the edge pixel.
    Replicate,
    /// Zeros.
    Zero,
}

/// The source index for padded position `i` (may be negative or past the
/// end) of an axis of `len` pixels; `None` means zero.
pub fn pad_source(i: isize, len: usize, mode: PadMode) -> Option<usize> {
    let n = len as isize;
    if (0..n).contains(&i) {
        return Some(i as usize);
    }
    match mode {
        PadMode::Zero => None,
        PadMode::Replicate => Some(i.clamp(0, n - 1) as usize),
        PadMode::Reflect => {
            if n == 1 {
                return Some(0);
            }
            let period = 2 * (n - 1);
            let m = i.rem_euclid(period);
            Some(if m < n { m } else { period - m } as usize)
        }
    }
}

/// Pads every plane of an NCHW array by the given amounts.
pub fn pad_nchw(
    x: ArrayView4<'_, f32>,
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
    mode: PadMode,
) -> Array4<f32> {
    let (n, c, h, w) = x.dim();
    let (ph, pw) = (h + top + bottom, w + left + right);
    if h == 0 || w == 0 {
        return Array4::zeros((n, c, ph, pw));
    }
    let rows: Vec<Option<usize>> = (0..ph)
        .map(|i| pad_source(i as isize - top as isize, h, mode))
        .collect();
    let cols: Vec<Option<usize>> = (0..pw)
        .map(|j| pad_source(j as isize - left as isize, w, mode))
        .collect();
    let src = x.as_standard_layout();
    let mut out = vec![0f32; n * c * ph * pw];
    if let Some(src) = src.as_slice() {
        out.par_chunks_mut(ph * pw)
            .enumerate()
            .for_each(|(plane, dst)| {
                let sp = &src[plane * h * w..(plane + 1) * h * w];
                for (r, row) in rows.iter().enumerate() {
                    let Some(row) = row else { continue };
                    let srow = &sp[row * w..(row + 1) * w];
                    let drow = &mut dst[r * pw..(r + 1) * pw];
                    drow[left..left + w].copy_from_slice(srow);
                    for j in (0..left).chain(left + w..pw) {
                        if let Some(col) = cols[j] {
                            drow[j] = srow[col];
                        }
                    }
                }
            });
    }
    // Shape and length agree by construction.
    Array4::from_shape_vec((n, c, ph, pw), out).unwrap_or_else(|_| Array4::zeros((n, c, ph, pw)))
}

/// Pads a CHW image (see [`pad_nchw`]).
pub fn pad_chw(
    x: ArrayView3<'_, f32>,
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
    mode: PadMode,
) -> Array3<f32> {
    let padded = pad_nchw(
        x.insert_axis(ndarray::Axis(0)),
        top,
        bottom,
        left,
        right,
        mode,
    );
    padded.index_axis_move(ndarray::Axis(0), 0)
}

/// Smallest multiple of `m` that is >= `n` (`m` = 0 counts as 1).
pub fn round_up(n: usize, m: usize) -> usize {
    let m = m.max(1);
    n.div_ceil(m) * m
}

/// Pads bottom and right so H and W become multiples of `multiple`.
pub fn pad_to_multiple(x: ArrayView3<'_, f32>, multiple: usize, mode: PadMode) -> Array3<f32> {
    let (_, h, w) = x.dim();
    pad_chw(
        x,
        0,
        round_up(h, multiple) - h,
        0,
        round_up(w, multiple) - w,
        mode,
    )
}

/// Copies the `h` x `w` window at (`y`, `x`) of every plane.
pub fn crop_nchw(a: ArrayView4<'_, f32>, y: usize, x: usize, h: usize, w: usize) -> Array4<f32> {
    use ndarray::s;
    a.slice(s![.., .., y..y + h, x..x + w]).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{s, Array3};

    use crate::testutil::Rng;

    fn random_image(rng: &mut Rng, c: usize, h: usize, w: usize) -> Array3<f32> {
        Array3::from_shape_simple_fn((c, h, w), || rng.f())
    }

    /// Any valid configuration (for the cheap span checks).
    fn random_cfg(rng: &mut Rng) -> TileConfig {
        let tile = rng.range(8, 48);
        let overlap = rng.range(0, tile - 1);
        TileConfig::new(tile, overlap).expect("valid")
    }

    /// A configuration with a stride of at least a quarter tile, so runs over
    /// whole images stay quick in debug builds (the extremes are covered by
    /// the span checks and a few fixed cases).
    fn run_cfg(rng: &mut Rng) -> TileConfig {
        let tile = rng.range(8, 40);
        let overlap = rng.range(0, tile * 3 / 4);
        TileConfig::new(tile, overlap).expect("valid")
    }

    #[test]
    fn spans_cover_the_axis_with_enough_context() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..5000 {
            let size = rng.range(1, 300);
            let cfg = random_cfg(&mut rng);
            let spans = axis_spans(size, cfg.tile, cfg.overlap);
            let len = cfg.tile.min(size);
            assert_eq!(spans[0].keep_start, 0);
            assert_eq!(spans.last().map(|s| s.keep_end), Some(size));
            for (i, sp) in spans.iter().enumerate() {
                assert_eq!(sp.len, len);
                assert!(sp.start + sp.len <= size);
                assert!(
                    sp.start <= sp.keep_start
                        && sp.keep_start < sp.keep_end
                        && sp.keep_end <= sp.start + sp.len,
                    "{sp:?}"
                );
                if i > 0 {
                    assert_eq!(spans[i - 1].keep_end, sp.keep_start);
                    assert!(
                        sp.keep_start - sp.start >= cfg.overlap / 2,
                        "{size} {cfg:?} {spans:?}"
                    );
                }
                if i + 1 < spans.len() {
                    assert!(
                        sp.start + sp.len - sp.keep_end >= cfg.overlap / 2,
                        "{size} {cfg:?} {spans:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn identity_model_reproduces_the_input_exactly() {
        let mut rng = Rng(1);
        for i in 0..300 {
            let (c, h, w) = (rng.range(1, 4), rng.range(1, 90), rng.range(1, 90));
            // Every 50th case uses the most extreme overlap (stride 1).
            let cfg = if i % 50 == 0 {
                TileConfig::new(8, 7).expect("valid")
            } else {
                run_cfg(&mut rng)
            };
            let batch = rng.range(1, 5);
            let img = random_image(&mut rng, c, h, w);
            let out = run_tiled(img.view(), 1, &cfg, batch, |t| Ok(t.to_owned())).expect("tiled");
            assert_eq!(out, img, "{c}x{h}x{w} {cfg:?} batch {batch}");
        }
    }

    fn nearest(img: ArrayView3<'_, f32>, k: usize) -> Array3<f32> {
        let (c, h, w) = img.dim();
        Array3::from_shape_fn((c, h * k, w * k), |(ch, y, x)| img[[ch, y / k, x / k]])
    }

    #[test]
    fn nearest_model_gives_the_nearest_upscale_exactly() {
        let mut rng = Rng(2);
        for _ in 0..200 {
            let (c, h, w) = (3, rng.range(1, 60), rng.range(1, 60));
            let k = rng.range(1, 4);
            let cfg = run_cfg(&mut rng);
            let img = random_image(&mut rng, c, h, w);
            let out = run_tiled(img.view(), k, &cfg, rng.range(1, 4), |t| {
                let (n, c, th, tw) = t.dim();
                Ok(Array4::from_shape_fn(
                    (n, c, th * k, tw * k),
                    |(i, ch, y, x)| t[[i, ch, y / k, x / k]],
                ))
            })
            .expect("tiled");
            assert_eq!(out, nearest(img.view(), k), "{h}x{w} k={k} {cfg:?}");
        }
    }

    /// Box sum of radius `r` with zero padding: a local model with a known
    /// receptive field.
    fn box_sum(t: ArrayView4<'_, f32>, r: usize) -> Array4<f32> {
        let (n, c, h, w) = t.dim();
        Array4::from_shape_fn((n, c, h, w), |(i, ch, y, x)| {
            let mut s = 0.0;
            for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    s += t[[i, ch, yy, xx]];
                }
            }
            s
        })
    }

    #[test]
    fn local_model_within_half_overlap_is_seamless() {
        let mut rng = Rng(3);
        for _ in 0..120 {
            let (h, w) = (rng.range(1, 60), rng.range(1, 60));
            let cfg = run_cfg(&mut rng);
            let r = rng.range(0, (cfg.overlap / 2).min(4));
            let img = random_image(&mut rng, 2, h, w);
            let whole = box_sum(img.view().insert_axis(ndarray::Axis(0)), r)
                .index_axis_move(ndarray::Axis(0), 0);
            let tiled = run_tiled(img.view(), 1, &cfg, 3, |t| Ok(box_sum(t, r))).expect("tiled");
            assert_eq!(tiled, whole, "{h}x{w} r={r} {cfg:?}");
        }
    }

    #[test]
    fn whole_frame_config_is_one_tile() {
        let tiles = plan_tiles(1080, 1920, &TileConfig::WHOLE_FRAME).expect("plan");
        assert_eq!(tiles.len(), 1);
        assert_eq!((tiles[0].y.len, tiles[0].x.len), (1080, 1920));
    }

    #[test]
    fn wrong_model_output_is_an_error() {
        let img = Array3::<f32>::zeros((3, 40, 40));
        let cfg = TileConfig::new(16, 4).expect("cfg");
        let err = run_tiled(img.view(), 2, &cfg, 2, |t| Ok(t.to_owned())).expect_err("wrong scale");
        assert!(err.to_string().contains("expected scale 2"), "{err}");
        assert!(TileConfig::new(16, 16).is_err());
        assert!(TileConfig::new(16, 15).is_ok());
        assert!(TileConfig::new(4, 0).is_err());
    }

    #[test]
    fn padding_matches_its_definition_and_crops_back() {
        let mut rng = Rng(4);
        for _ in 0..200 {
            let (h, w) = (rng.range(1, 20), rng.range(1, 20));
            let (t, b, l, r) = (
                rng.range(0, 30),
                rng.range(0, 30),
                rng.range(0, 30),
                rng.range(0, 30),
            );
            let img = random_image(&mut rng, 2, h, w).insert_axis(ndarray::Axis(0));
            for mode in [PadMode::Reflect, PadMode::Replicate, PadMode::Zero] {
                let p = pad_nchw(img.view(), t, b, l, r, mode);
                assert_eq!(p.dim(), (1, 2, h + t + b, w + l + r));
                for y in 0..h + t + b {
                    for x in 0..w + l + r {
                        let sy = pad_source(y as isize - t as isize, h, mode);
                        let sx = pad_source(x as isize - l as isize, w, mode);
                        let want = match (sy, sx) {
                            (Some(sy), Some(sx)) => img[[0, 1, sy, sx]],
                            _ => 0.0,
                        };
                        assert_eq!(p[[0, 1, y, x]], want);
                    }
                }
                assert_eq!(crop_nchw(p.view(), t, l, h, w), img);
            }
        }
        // Reflect is torch/numpy 'reflect': no repeated edge.
        let row = Array4::from_shape_vec((1, 1, 1, 4), vec![0.0, 1.0, 2.0, 3.0]).expect("row");
        let p = pad_nchw(row.view(), 0, 0, 3, 3, PadMode::Reflect);
        assert_eq!(
            p.slice(s![0, 0, 0, ..]).to_vec(),
            vec![3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0]
        );
        let m = pad_to_multiple(
            Array3::<f32>::ones((3, 65, 1)).view(),
            64,
            PadMode::Replicate,
        );
        assert_eq!(m.dim(), (3, 128, 64));
    }
}
