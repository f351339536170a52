//! Moving pixels between FFmpeg frames and [`Picture`]s.
//!
//! Rows are copied using each plane's stride, never `width * bytes`.

use ff::format::Pixel;
use ffmpeg_next as ff;

use crate::picture::{Chroma, Picture};

/// Planar YUV formats the pipeline uses directly.
pub fn pixel_for(chroma: Chroma, depth: u8) -> Pixel {
    match (chroma, depth) {
        (Chroma::Yuv420, 8) => Pixel::YUV420P,
        (Chroma::Yuv422, 8) => Pixel::YUV422P,
        (Chroma::Yuv444, 8) => Pixel::YUV444P,
        (Chroma::Yuv420, 10) => Pixel::YUV420P10LE,
        (Chroma::Yuv422, 10) => Pixel::YUV422P10LE,
        (Chroma::Yuv444, 10) => Pixel::YUV444P10LE,
        (Chroma::Yuv420, _) => Pixel::YUV420P12LE,
        (Chroma::Yuv422, _) => Pixel::YUV422P12LE,
        (Chroma::Yuv444, _) => Pixel::YUV444P12LE,
    }
}

/// If `fmt` is one of our planar layouts, its (chroma, depth, full_range).
pub fn layout_of(fmt: Pixel) -> Option<(Chroma, u8, bool)> {
    Some(match fmt {
        Pixel::YUV420P => (Chroma::Yuv420, 8, false),
        Pixel::YUVJ420P => (Chroma::Yuv420, 8, true),
        Pixel::YUV422P => (Chroma::Yuv422, 8, false),
        Pixel::YUVJ422P => (Chroma::Yuv422, 8, true),
        Pixel::YUV444P => (Chroma::Yuv444, 8, false),
        Pixel::YUVJ444P => (Chroma::Yuv444, 8, true),
        Pixel::YUV420P10LE => (Chroma::Yuv420, 10, false),
        Pixel::YUV422P10LE => (Chroma::Yuv422, 10, false),
        Pixel::YUV444P10LE => (Chroma::Yuv444, 10, false),
        Pixel::YUV420P12LE => (Chroma::Yuv420, 12, false),
        Pixel::YUV422P12LE => (Chroma::Yuv422, 12, false),
        Pixel::YUV444P12LE => (Chroma::Yuv444, 12, false),
        _ => return None,
    })
}

/// Bits per component of a pixel format (from its descriptor).
pub fn depth_of(fmt: Pixel) -> u8 {
    match fmt.descriptor() {
        // SAFETY: the descriptor pointer comes from av_pix_fmt_desc_get and
        // is valid for the life of the process.
        Some(d) => unsafe { (*d.as_ptr()).comp[0].depth as u8 },
        None => 8,
    }
}

/// The planar layout a non-planar or unusual decoded format is converted to.
pub fn target_layout(fmt: Pixel) -> (Chroma, u8) {
    let depth = match depth_of(fmt) {
        0..=8 => 8,
        9..=10 => 10,
        _ => 12,
    };
    let chroma = match fmt.descriptor() {
        Some(d) => {
            // SAFETY: as above.
            let flags = unsafe { (*d.as_ptr()).flags };
            let rgb = flags & ff::ffi::AV_PIX_FMT_FLAG_RGB as u64 != 0;
            if rgb || d.nb_components() < 3 {
                if rgb {
                    Chroma::Yuv444
                } else {
                    Chroma::Yuv420
                }
            } else {
                match (d.log2_chroma_w(), d.log2_chroma_h()) {
                    (0, 0) => Chroma::Yuv444,
                    (1, 0) => Chroma::Yuv422,
                    _ => Chroma::Yuv420,
                }
            }
        }
        None => Chroma::Yuv420,
    };
    (chroma, depth)
}

/// Copy a decoded frame in one of our planar layouts into a [`Picture`].
pub fn frame_to_picture(frame: &ff::frame::Video, chroma: Chroma, depth: u8) -> Picture {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let mut planes: [Vec<u16>; 3] = [Vec::new(), Vec::new(), Vec::new()];
    for (i, plane) in planes.iter_mut().enumerate() {
        let (pw, ph) = if i == 0 {
            (w, h)
        } else {
            chroma.plane_size(w, h)
        };
        let stride = frame.stride(i);
        let data = frame.data(i);
        plane.reserve_exact(pw * ph);
        for y in 0..ph {
            let row = &data[y * stride..];
            if depth == 8 {
                plane.extend(row[..pw].iter().map(|&v| v as u16));
            } else {
                plane.extend(
                    row[..pw * 2]
                        .chunks_exact(2)
                        .map(|b| u16::from_le_bytes([b[0], b[1]])),
                );
            }
        }
    }
    Picture {
        width: w,
        height: h,
        chroma,
        depth,
        planes,
    }
}

/// Write a [`Picture`] into a newly allocated FFmpeg frame of its layout.
pub fn picture_to_frame(pic: &Picture) -> ff::frame::Video {
    let fmt = pixel_for(pic.chroma, pic.depth);
    let mut frame = ff::frame::Video::new(fmt, pic.width as u32, pic.height as u32);
    for i in 0..3 {
        let (pw, ph) = pic.plane_size(i);
        let stride = frame.stride(i);
        let src = &pic.planes[i];
        let data = frame.data_mut(i);
        for y in 0..ph {
            let row = &mut data[y * stride..];
            let s = &src[y * pw..(y + 1) * pw];
            if pic.depth == 8 {
                for (d, &v) in row[..pw].iter_mut().zip(s) {
                    *d = v as u8;
                }
            } else {
                for (d, &v) in row[..pw * 2].chunks_exact_mut(2).zip(s) {
                    d.copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    frame
}

/// Change a picture's chroma layout and/or bit depth (for encoders that
/// cannot take the input's layout). Chroma is box-averaged or replicated;
/// depth changes round to nearest.
pub fn convert_picture(pic: &Picture, chroma: Chroma, depth: u8) -> Picture {
    if pic.chroma == chroma && pic.depth == depth {
        return pic.clone();
    }
    let requant = |v: u32| -> u16 {
        if depth >= pic.depth {
            (v << (depth - pic.depth)) as u16
        } else {
            let s = pic.depth - depth;
            (((v + (1 << (s - 1))) >> s).min((1 << depth) - 1)) as u16
        }
    };
    let y = pic.planes[0].iter().map(|&v| requant(v as u32)).collect();
    let (sw, sh) = pic.chroma.plane_size(pic.width, pic.height);
    let (ssx, ssy) = pic.chroma.shift();
    let (dw, dh) = chroma.plane_size(pic.width, pic.height);
    let (dsx, dsy) = chroma.shift();
    let resample = |src: &[u16]| -> Vec<u16> {
        let mut out = Vec::with_capacity(dw * dh);
        for cy in 0..dh {
            for cx in 0..dw {
                // Luma-space block covered by the destination sample.
                let (lx0, ly0) = (cx << dsx, cy << dsy);
                let (lx1, ly1) = (
                    ((cx + 1) << dsx).min(pic.width),
                    ((cy + 1) << dsy).min(pic.height),
                );
                let (mut sum, mut n) = (0u32, 0u32);
                let mut sy = ly0 >> ssy;
                while sy <= (ly1.max(ly0 + 1) - 1) >> ssy && sy < sh {
                    let mut sx = lx0 >> ssx;
                    while sx <= (lx1.max(lx0 + 1) - 1) >> ssx && sx < sw {
                        sum += src[sy * sw + sx] as u32;
                        n += 1;
                        sx += 1;
                    }
                    sy += 1;
                }
                out.push(requant((sum + n / 2) / n.max(1)));
            }
        }
        out
    };
    Picture {
        width: pic.width,
        height: pic.height,
        chroma,
        depth,
        planes: [y, resample(&pic.planes[1]), resample(&pic.planes[2])],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_roundtrip_at_odd_sizes() {
        crate::media::init(0);
        for (w, h) in [(1, 1), (7, 5), (33, 17), (64, 48)] {
            for chroma in [Chroma::Yuv420, Chroma::Yuv422, Chroma::Yuv444] {
                for depth in [8u8, 10] {
                    let mut pic = Picture::black(w, h, chroma, depth);
                    for (p, plane) in pic.planes.iter_mut().enumerate() {
                        for (i, v) in plane.iter_mut().enumerate() {
                            *v = ((i * 31 + p * 7) % (1 << depth)) as u16;
                        }
                    }
                    let frame = picture_to_frame(&pic);
                    let back = frame_to_picture(&frame, chroma, depth);
                    assert_eq!(pic, back, "{w}x{h} {chroma:?} {depth}");
                }
            }
        }
    }

    #[test]
    fn convert_depth_and_chroma() {
        let mut pic = Picture::black(5, 3, Chroma::Yuv444, 10);
        pic.planes[0][0] = 1023;
        pic.planes[1].iter_mut().for_each(|v| *v = 600);
        let out = convert_picture(&pic, Chroma::Yuv420, 8);
        assert_eq!(out.planes[0][0], 255);
        assert_eq!(out.planes[1].len(), 3 * 2);
        assert!(out.planes[1].iter().all(|&v| v == 150));
        let up = convert_picture(&out, Chroma::Yuv444, 10);
        assert_eq!(up.planes[1].len(), 15);
        assert!(up.planes[1].iter().all(|&v| v == 600));
    }
}
