//! Still pictures: a PNG written through FFmpeg's own encoder (no image
//! crate), atomically (temporary name, then rename).

use std::path::Path;

use ff::format::Pixel;
use ffmpeg_next as ff;

use super::describe;
use crate::error::{Error, Result};

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
