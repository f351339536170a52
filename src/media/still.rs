//! Still pictures: PNG and JPEG through FFmpeg's own encoders (no image
//! crate): [`write_png`] writes a file atomically (temporary name, then
//! rename); [`encode`] gives the bytes of one picture (the model lab's
//! data sets; its JPEG quantiser is explained in `src/lab/image.rs`).

use std::path::Path;

use ff::format::Pixel;
use ffmpeg_next as ff;

use super::describe;
use crate::error::{Error, Result};
use crate::picture::RgbImage;

/// Write `rgb` (8-bit R, G, B interleaved, `width * height * 3` bytes) as
/// a PNG at `path`.
pub fn write_png(path: &Path, width: usize, height: usize, rgb: &[u8]) -> Result<()> {
    let bad = |why: String| Error::output(path, why);
    if rgb.len() != width * height * 3 || width == 0 || height == 0 {
        return Err(Error::Internal(format!(
            "a {width}x{height} picture needs {} bytes, got {}",
            width * height * 3,
            rgb.len()
        )));
    }
    let codec = ff::encoder::find(ff::codec::Id::PNG)
        .ok_or_else(|| bad("this FFmpeg has no PNG encoder".into()))?;
    let mut ctx = ff::codec::context::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(|e| bad(format!("PNG encoder: {}", describe(e))))?;
    ctx.set_width(width as u32);
    ctx.set_height(height as u32);
    ctx.set_format(Pixel::RGB24);
    ctx.set_time_base((1, 1));
    let mut enc = ctx
        .open_as(codec)
        .map_err(|e| bad(format!("PNG encoder: {}", describe(e))))?;
    let mut frame = ff::frame::Video::new(Pixel::RGB24, width as u32, height as u32);
    let stride = frame.stride(0);
    for (y, row) in rgb.chunks_exact(width * 3).enumerate() {
        frame.data_mut(0)[y * stride..][..width * 3].copy_from_slice(row);
    }
    frame.set_pts(Some(0));
    let encode_err = |e: ff::Error| bad(format!("PNG encoding failed: {}", describe(e)));
    enc.send_frame(&frame).map_err(encode_err)?;
    enc.send_eof().map_err(encode_err)?;
    let mut bytes = Vec::new();
    let mut packet = ff::Packet::empty();
    while enc.receive_packet(&mut packet).is_ok() {
        bytes.extend_from_slice(packet.data().unwrap_or_default());
    }
    let partial = path.with_extension("png.partial");
    std::fs::write(&partial, &bytes)
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            bad(format!("cannot write: {e}"))
        })
}

/// Still format of the data set's pictures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StillFormat {
    Jpg,
    Png,
}

impl StillFormat {
    pub fn extension(self) -> &'static str {
        match self {
            StillFormat::Jpg => "jpg",
            StillFormat::Png => "png",
        }
    }
}

fn to_u8(v: f32) -> u8 {
    // Clamped first, so the cast neither wraps nor saturates; +0.5 rounds.
    (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
}

/// R, G, B interleaved, 8 bits.
pub fn interleaved(img: &RgbImage) -> Vec<u8> {
    let n = img.width * img.height;
    let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
    let mut out = Vec::with_capacity(3 * n);
    for i in 0..n {
        out.extend_from_slice(&[to_u8(r[i]), to_u8(g[i]), to_u8(b[i])]);
    }
    out
}

/// FFmpeg's `mjpeg` qscale for a libjpeg-style quality 1..=100 (module docs).
pub fn jpeg_qscale(quality: u8) -> i32 {
    let q = f64::from(quality.clamp(1, 100));
    let s = if q < 50.0 {
        5000.0 / q
    } else {
        200.0 - 2.0 * q
    };
    ((s * 57.625 * 8.0 / (100.0 * 33.34)).round() as i32).clamp(1, 31)
}

/// Encode `img` as one JPEG (`quality` 1..=100) or PNG.
pub fn encode(img: &RgbImage, format: StillFormat, quality: u8) -> Result<Vec<u8>> {
    let (w, h) = (img.width, img.height);
    let what = format.extension();
    let fail = |why: String| Error::Encode {
        codec: if format == StillFormat::Jpg {
            "mjpeg".into()
        } else {
            "png".into()
        },
        reason: why,
    };
    let (id, pix) = match format {
        StillFormat::Jpg => (ff::codec::Id::MJPEG, Pixel::YUVJ444P),
        StillFormat::Png => (ff::codec::Id::PNG, Pixel::RGB24),
    };
    let codec =
        ff::encoder::find(id).ok_or_else(|| fail(format!("this FFmpeg has no {what} encoder")))?;
    let mut ctx = ff::codec::context::Context::new_with_codec(codec);
    if format == StillFormat::Jpg {
        ctx.set_flags(ff::codec::Flags::QSCALE);
    }
    let mut enc = ctx.encoder().video().map_err(|e| fail(e.to_string()))?;
    enc.set_width(w as u32);
    enc.set_height(h as u32);
    enc.set_format(pix);
    enc.set_time_base((1, 25));
    if format == StillFormat::Jpg {
        // Fixed quantiser: frames carry no quality, so qscale is pinned by
        // qmin = qmax (FFmpeg clips the frame's lambda into that range).
        let q = jpeg_qscale(quality);
        enc.set_qmin(q);
        enc.set_qmax(q);
        enc.set_global_quality(q * 118); // FF_QP2LAMBDA
        enc.set_color_range(ff::color::Range::JPEG);
    } else {
        // zlib level 1: 132 pictures of 1280x720 from the 1080p test clip
        // took 4.0 s against 5.6 s at level 3 and 10.2 s at level 9, for
        // 5% and 8% more bytes (2026-12-03, 2 busy cores).
        enc.set_compression(Some(1));
    }
    let mut enc = enc.open_as(codec).map_err(|e| fail(e.to_string()))?;
    let mut frame = ff::frame::Video::new(pix, w as u32, h as u32);
    match format {
        StillFormat::Png => {
            let rgb = interleaved(img);
            let stride = frame.stride(0);
            for (y, row) in rgb.chunks_exact(w * 3).enumerate() {
                frame.data_mut(0)[y * stride..][..w * 3].copy_from_slice(row);
            }
        }
        StillFormat::Jpg => {
            // JFIF: BT.601, full range.
            let (r, g, b) = (img.plane(0), img.plane(1), img.plane(2));
            let weights: [[f32; 4]; 3] = [
                [0.299, 0.587, 0.114, 0.0],
                [-0.168_736, -0.331_264, 0.5, 0.5],
                [0.5, -0.418_688, -0.081_312, 0.5],
            ];
            for (p, [wr, wg, wb, offset]) in weights.into_iter().enumerate() {
                let stride = frame.stride(p);
                let data = frame.data_mut(p);
                for y in 0..h {
                    let row = &mut data[y * stride..][..w];
                    let span = y * w..(y + 1) * w;
                    let (r, g, b) = (&r[span.clone()], &g[span.clone()], &b[span]);
                    for (x, out) in row.iter_mut().enumerate() {
                        *out = to_u8(offset + wr * r[x] + wg * g[x] + wb * b[x]);
                    }
                }
            }
        }
    }
    frame.set_pts(Some(0));
    enc.send_frame(&frame).map_err(|e| fail(e.to_string()))?;
    enc.send_eof().map_err(|e| fail(e.to_string()))?;
    let mut bytes = Vec::new();
    let mut packet = ff::Packet::empty();
    while enc.receive_packet(&mut packet).is_ok() {
        bytes.extend_from_slice(packet.data().unwrap_or_default());
    }
    if bytes.is_empty() {
        return Err(fail(format!("the {what} encoder gave no data")));
    }
    Ok(bytes)
}
