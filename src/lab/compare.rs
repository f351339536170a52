//! `compare INPUT OUTPUT --at TIME[,TIME...] --out sheet.png`: a quick look
//! at a render. For each time, one band of the sheet:
//!
//! ```text
//! | input, scaled to the output size | output                 |
//! | input, 4x zoom of the crop       | output, 4x zoom        |
//! ```
//!
//! - "At T" is the first frame at or after T seconds of OUTPUT (from its
//!   start as players show it, the frame `--clip T-` would start with) and
//!   the first at or after T + `--clip-start` of INPUT, so a preview made
//!   with `--clip START-END` lines up with its source and a frame that
//!   exists in both lines up exactly.
//! - The input is scaled with Lanczos3 (the filter the upscale stage uses
//!   for its last step), so the left half is "what a plain resize gives".
//! - The crop is the output's busiest quarter-size window (largest sum of
//!   luma gradients, windows on a grid of an eighth of the frame): where
//!   line art and texture are, which is what people zoom into. The zoom is
//!   nearest-neighbour, so output pixels stay visible as pixels.

use std::path::{Path, PathBuf};

use crate::clip::{format_time, ClipRange};
use crate::color::to_rgb;
use crate::error::{Error, Result};
use crate::media::decode::VideoDecoder;
use crate::media::mux::check_new_file;
use crate::media::still::write_png;
use crate::picture::RgbImage;
use crate::resize::{resize, Filter, Planar};

/// Zoom factor of the crop row.
pub const ZOOM: usize = 4;

/// What `compare` needs.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Seconds of OUTPUT's timeline.
    pub times: Vec<f64>,
    /// Where OUTPUT's time 0 lies in INPUT (a `--clip` preview's START).
    pub input_offset: f64,
    pub sheet: PathBuf,
    pub overwrite: bool,
}

/// Where each band's crop was taken (output pixels), for the caller to say.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    pub time: f64,
    pub crop: (usize, usize, usize, usize),
}

/// Make the sheet; returns the bands written.
pub fn compare(opts: &CompareOptions) -> Result<Vec<Band>> {
    check_sheet_path(&opts.sheet, opts.overwrite)?;
    if opts.times.is_empty() {
        return Err(Error::Config("--at: give at least one time".into()));
    }
    let mut bands = Vec::new();
    let mut rows: Vec<RgbImage> = Vec::new();
    for &t in &opts.times {
        let out = frame_at(&opts.output, t)?;
        let inp = frame_at(&opts.input, t + opts.input_offset)?;
        let scaled = scale_to(&inp, out.width, out.height);
        let crop = busiest(&out);
        let top = side_by_side(&scaled, &out);
        let bottom = side_by_side(&zoom(&scaled, crop), &zoom(&out, crop));
        rows.push(stack(&[top, bottom]));
        bands.push(Band { time: t, crop });
    }
    let sheet = stack(&rows);
    write_png(&opts.sheet, sheet.width, sheet.height, &to_rgb24(&sheet))?;
    Ok(bands)
}

fn check_sheet_path(path: &Path, overwrite: bool) -> Result<()> {
    let is_png = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if !is_png {
        return Err(Error::output(path, "the sheet is a PNG; name it sheet.png"));
    }
    check_new_file(path, overwrite).map(|_| ())
}

/// The first frame at or after `t` seconds, as RGB.
fn frame_at(path: &Path, t: f64) -> Result<RgbImage> {
    let clip = ClipRange {
        start: t,
        end: None,
    };
    // The decoder words a time past the end as a `--clip` setting.
    let mut dec = VideoDecoder::open(path, Some(clip), crate::fields::FieldsMode::Auto).map_err(
        |e| match e {
            Error::Config(m) => Error::Config(m.replacen("--clip starts at", "--at", 1)),
            e => e,
        },
    )?;
    let cm = dec.format().colorimetry();
    match dec.next_frame()? {
        Some(frame) => Ok(to_rgb(&frame.picture, cm)),
        None => Err(Error::input(
            path,
            format!("has no frame at or after {}", format_time(t)),
        )),
    }
}

fn scale_to(img: &RgbImage, w: usize, h: usize) -> RgbImage {
    if (img.width, img.height) == (w, h) {
        return img.clone();
    }
    let data = match Planar::new(&img.data, img.width, img.height, 3) {
        Ok(p) => resize(&p, w, h, Filter::Lanczos3),
        Err(_) => vec![0.0; 3 * w * h],
    };
    RgbImage {
        width: w,
        height: h,
        data,
    }
}

/// The busiest window (x, y, w, h) of a quarter of each side: the largest
/// sum of horizontal and vertical luma differences, on a grid of an eighth.
pub fn busiest(img: &RgbImage) -> (usize, usize, usize, usize) {
    let (w, h) = (img.width, img.height);
    let (cw, ch) = ((w / ZOOM).max(1), (h / ZOOM).max(1));
    let n = w * h;
    let luma: Vec<f32> = (0..n)
        .map(|i| 0.2126 * img.data[i] + 0.7152 * img.data[n + i] + 0.0722 * img.data[2 * n + i])
        .collect();
    // Integral image of the gradient energy, (w+1) x (h+1).
    let mut sat = vec![0.0f64; (w + 1) * (h + 1)];
    for y in 0..h {
        let mut row = 0.0f64;
        for x in 0..w {
            let i = y * w + x;
            let gx = if x + 1 < w {
                (luma[i + 1] - luma[i]).abs()
            } else {
                0.0
            };
            let gy = if y + 1 < h {
                (luma[i + w] - luma[i]).abs()
            } else {
                0.0
            };
            row += f64::from(gx + gy);
            sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
        }
    }
    let sum = |x: usize, y: usize| {
        let at = |xx: usize, yy: usize| sat[yy * (w + 1) + xx];
        at(x + cw, y + ch) - at(x, y + ch) - at(x + cw, y) + at(x, y)
    };
    let (sx, sy) = ((w / 8).max(1), (h / 8).max(1));
    let mut best = (0, 0, f64::MIN);
    for y in (0..=h - ch).step_by(sy) {
        for x in (0..=w - cw).step_by(sx) {
            let s = sum(x, y);
            if s > best.2 {
                best = (x, y, s);
            }
        }
    }
    (best.0, best.1, cw, ch)
}

/// Nearest-neighbour zoom of a crop, to `ZOOM` times its size.
fn zoom(img: &RgbImage, (x0, y0, cw, ch): (usize, usize, usize, usize)) -> RgbImage {
    let (w, h) = (cw * ZOOM, ch * ZOOM);
    let mut out = RgbImage::new(w, h);
    for c in 0..3 {
        let (src, dst) = (img.plane(c), c * w * h);
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = (x0 + x / ZOOM, y0 + y / ZOOM);
                out.data[dst + y * w + x] = src[sy * img.width + sx];
            }
        }
    }
    out
}

/// Two pictures of one height next to each other (the shorter padded black).
fn side_by_side(a: &RgbImage, b: &RgbImage) -> RgbImage {
    let (w, h) = (a.width + b.width, a.height.max(b.height));
    let mut out = RgbImage::new(w, h);
    for c in 0..3 {
        for (img, x0) in [(a, 0), (b, a.width)] {
            for y in 0..img.height {
                let src = &img.plane(c)[y * img.width..][..img.width];
                out.data[c * w * h + y * w + x0..][..img.width].copy_from_slice(src);
            }
        }
    }
    out
}

/// Pictures one below the other (narrower ones padded black on the right).
fn stack(parts: &[RgbImage]) -> RgbImage {
    let w = parts.iter().map(|p| p.width).max().unwrap_or(0);
    let h: usize = parts.iter().map(|p| p.height).sum();
    let mut out = RgbImage::new(w, h);
    for c in 0..3 {
        let mut y0 = 0;
        for p in parts {
            for y in 0..p.height {
                let src = &p.plane(c)[y * p.width..][..p.width];
                out.data[c * w * h + (y0 + y) * w..][..p.width].copy_from_slice(src);
            }
            y0 += p.height;
        }
    }
    out
}

fn to_rgb24(img: &RgbImage) -> Vec<u8> {
    let n = img.width * img.height;
    let mut out = Vec::with_capacity(3 * n);
    for i in 0..n {
        for c in 0..3 {
            out.push((img.data[c * n + i].clamp(0.0, 1.0) * 255.0).round() as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busiest_finds_the_textured_corner() {
        let (w, h) = (64, 48);
        let mut img = RgbImage::new(w, h);
        for c in 0..3 {
            for y in 0..h {
                for x in 0..w {
                    // Flat everywhere but a checkerboard in the lower right.
                    let v = if x >= 40 && y >= 30 && (x + y) % 2 == 0 {
                        1.0
                    } else {
                        0.3
                    };
                    img.data[c * w * h + y * w + x] = v;
                }
            }
        }
        let (x, y, cw, ch) = busiest(&img);
        assert_eq!((cw, ch), (16, 12));
        assert!(x >= 40 && y >= 30, "crop at {x},{y}");
    }

    #[test]
    fn bands_are_laid_out_as_documented() {
        let a = RgbImage::new(8, 6);
        let mut b = RgbImage::new(8, 6);
        b.data.fill(1.0);
        let top = side_by_side(&a, &b);
        assert_eq!((top.width, top.height), (16, 6));
        // Left half black, right half white, in every channel.
        assert_eq!(top.plane(1)[0], 0.0);
        assert_eq!(top.plane(1)[8], 1.0);
        let z = zoom(&b, (2, 2, 2, 1));
        assert_eq!((z.width, z.height), (2 * ZOOM, ZOOM));
        let s = stack(&[top.clone(), z]);
        assert_eq!((s.width, s.height), (16, 6 + ZOOM));
        assert_eq!(s.plane(0)[6 * 16 + 8], 0.0, "narrow part padded black");
    }
}
