//! Pictures and frames as they travel through the pipeline.
//!
//! Every stage works on three planes with samples stored as `u16` at the
//! stream's native bit depth (8 to 16), so 8-bit and high-bit-depth input
//! share one code path and 10-bit never passes through an 8-bit bottleneck.
//! Planes are tightly packed (stride == plane width). The planes are Y, Cb,
//! Cr for YUV video, and G, B, R (FFmpeg's `gbrp` order, 4:4:4) for RGB
//! video, whose [`crate::color::Matrix::Gbr`] maps them to RGB unchanged;
//! see [`Family`]. The models see a third form, [`RgbImage`]: planar RGB
//! `f32` in 0..1, converted in [`crate::color`].

use std::sync::Arc;

/// Chroma subsampling of a planar YUV picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Chroma {
    /// 4:2:0: chroma planes are half width and half height (rounded up).
    Yuv420,
    /// 4:2:2: chroma planes are half width, full height.
    Yuv422,
    /// 4:4:4: chroma planes are full size.
    Yuv444,
    /// 4:1:1: chroma planes are quarter width, full height.
    Yuv411,
    /// 4:4:0: chroma planes are full width, half height.
    Yuv440,
}

impl Chroma {
    /// log2 of the horizontal and vertical chroma subsampling.
    pub fn shift(self) -> (u32, u32) {
        match self {
            Chroma::Yuv420 => (1, 1),
            Chroma::Yuv422 => (1, 0),
            Chroma::Yuv444 => (0, 0),
            Chroma::Yuv411 => (2, 0),
            Chroma::Yuv440 => (0, 1),
        }
    }

    /// The layout with these log2 subsampling factors, if we have one.
    pub fn from_shift(sx: u32, sy: u32) -> Option<Chroma> {
        Some(match (sx, sy) {
            (1, 1) => Chroma::Yuv420,
            (1, 0) => Chroma::Yuv422,
            (0, 0) => Chroma::Yuv444,
            (2, 0) => Chroma::Yuv411,
            (0, 1) => Chroma::Yuv440,
            _ => return None,
        })
    }

    /// Size of a chroma plane for a picture of `width` x `height`.
    pub fn plane_size(self, width: usize, height: usize) -> (usize, usize) {
        let (sx, sy) = self.shift();
        (
            (width + (1 << sx) - 1) >> sx,
            (height + (1 << sy) - 1) >> sy,
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            Chroma::Yuv420 => "4:2:0",
            Chroma::Yuv422 => "4:2:2",
            Chroma::Yuv444 => "4:4:4",
            Chroma::Yuv411 => "4:1:1",
            Chroma::Yuv440 => "4:4:0",
        }
    }
}

/// What the three planes of a stream's pictures hold, which decides the
/// pixel formats the output can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Y, Cb, Cr (or Y, Cg, Co) at any subsampling.
    Yuv,
    /// G, B, R at 4:4:4 (planar or packed RGB, palette).
    Rgb,
    /// Luma only; the chroma planes hold neutral grey.
    Gray,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Yuv => "YUV",
            Family::Rgb => "RGB",
            Family::Gray => "grey",
        }
    }
}

/// One decoded picture in planar YUV.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub width: usize,
    pub height: usize,
    pub chroma: Chroma,
    /// Bits per sample: 8 to 16.
    pub depth: u8,
    /// Y, U, V planes, tightly packed.
    pub planes: [Vec<u16>; 3],
}

impl Picture {
    /// A picture filled with black (limited-range black, neutral chroma).
    /// Only meaningful for YUV pictures.
    pub fn black(width: usize, height: usize, chroma: Chroma, depth: u8) -> Picture {
        let (cw, ch) = chroma.plane_size(width, height);
        let shift = depth.saturating_sub(8);
        Picture {
            width,
            height,
            chroma,
            depth,
            planes: [
                vec![16u16 << shift; width * height],
                vec![128u16 << shift; cw * ch],
                vec![128u16 << shift; cw * ch],
            ],
        }
    }

    /// Width and height of plane `i`.
    pub fn plane_size(&self, i: usize) -> (usize, usize) {
        if i == 0 {
            (self.width, self.height)
        } else {
            self.chroma.plane_size(self.width, self.height)
        }
    }

    /// Largest sample value at this depth.
    pub fn max_value(&self) -> u16 {
        ((1u32 << self.depth) - 1) as u16
    }
}

/// A picture with its identity in the stream.
///
/// `index` counts decoded input frames from 0 (after `--clip` trimming);
/// `pts` is in the pipeline's time base; `sub` orders frames generated
/// between two input frames (0 for an input frame itself).
#[derive(Clone, Debug)]
pub struct Frame {
    pub index: u64,
    pub pts: i64,
    pub sub: u32,
    pub picture: Arc<Picture>,
}

/// Planar RGB image, values nominally 0..1, `data` is C×H×W (R, G, B).
#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl RgbImage {
    pub fn new(width: usize, height: usize) -> RgbImage {
        RgbImage {
            width,
            height,
            data: vec![0.0; 3 * width * height],
        }
    }
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.width * self.height;
        &self.data[c * n..(c + 1) * n]
    }
}

/// How an interpolator made one in-between, at the size of its input
/// frames: `data` is 5×H×W: where each pixel of the in-between samples the
/// earlier frame (x offset, y offset, in pixels), where it samples the later
/// one (x, y), and the weight of the earlier frame's sample (0..1). The
/// in-between is `w * a(p + d0) + (1 - w) * b(p + d1)`, so the same step can
/// be redone on other pictures of the same drawings (the upscaled ones).
#[derive(Clone, Debug, PartialEq)]
pub struct Flow {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

impl Flow {
    /// Plane `c` (0..5: x0, y0, x1, y1, weight).
    pub fn plane(&self, c: usize) -> &[f32] {
        let n = self.width * self.height;
        &self.data[c * n..(c + 1) * n]
    }
}
