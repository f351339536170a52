//! Moving pixels between FFmpeg frames and [`Picture`]s.
//!
//! Any pixel format FFmpeg describes with a descriptor is read exactly:
//! planar formats of our layouts row by row (using each plane's stride,
//! never `width * bytes`), every other one (packed and semi-planar,
//! big-endian, palette, bit-packed) component by component through
//! `av_read_image_line2`, which knows every layout FFmpeg has. Nothing goes
//! through a colour conversion on the way in: RGB stays G, B, R planes,
//! grey stays luma, and the samples are the decoder's.

use ff::format::Pixel;
use ffmpeg_next as ff;

use crate::color::{area_weights, site_on, Site, Siting};
use crate::picture::{Chroma, Family, Picture};

/// What a pixel format holds, in our terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub family: Family,
    pub chroma: Chroma,
    /// Bits per sample of the picture it becomes (8 to 16).
    pub depth: u8,
    /// `yuvj*` formats: full range whatever the tag says. (RGB and grey
    /// formats carry their range in the tags; see the decoder.)
    pub full_range: bool,
    /// The format carries alpha (dropped on the way in).
    pub alpha: bool,
}

/// The descriptor's raw fields, read once.
struct Desc {
    ptr: *const ff::ffi::AVPixFmtDescriptor,
    name: &'static str,
    flags: u64,
    comps: usize,
    log2_w: u32,
    log2_h: u32,
}

fn desc(fmt: Pixel) -> Option<Desc> {
    let d = fmt.descriptor()?;
    // SAFETY: the descriptor pointer comes from av_pix_fmt_desc_get and is
    // valid (static) for the life of the process.
    let flags = unsafe { (*d.as_ptr()).flags };
    Some(Desc {
        ptr: d.as_ptr(),
        name: d.name(),
        flags,
        comps: d.nb_components() as usize,
        log2_w: d.log2_chroma_w() as u32,
        log2_h: d.log2_chroma_h() as u32,
    })
}

impl Desc {
    fn has(&self, flag: i32) -> bool {
        self.flags & flag as u64 != 0
    }
    fn comp(&self, c: usize) -> ff::ffi::AVComponentDescriptor {
        // SAFETY: as in `desc`; `c` < 4, the size of the comp array.
        unsafe { (*self.ptr).comp[c] }
    }
}

/// FFmpeg's name of a pixel format (for messages).
pub fn pixel_name(fmt: Pixel) -> String {
    match fmt.descriptor() {
        Some(d) => d.name().to_string(),
        None => format!("{fmt:?}").to_lowercase(),
    }
}

/// Classify a pixel format, or say in a few words why it cannot be read.
pub fn classify(fmt: Pixel) -> Result<Layout, String> {
    let d = desc(fmt).ok_or_else(|| "an unknown pixel format".to_string())?;
    let why = |what: &str| Err(format!("pixel format {} ({what}) is not supported", d.name));
    if d.has(ff::ffi::AV_PIX_FMT_FLAG_HWACCEL) {
        return why("a hardware frame format");
    }
    if d.has(ff::ffi::AV_PIX_FMT_FLAG_FLOAT) {
        return why("floating-point samples");
    }
    if d.has(ff::ffi::AV_PIX_FMT_FLAG_BAYER) {
        return why("raw Bayer sensor data");
    }
    if d.name.starts_with("xyz") {
        return why("CIE XYZ");
    }
    let alpha = d.has(ff::ffi::AV_PIX_FMT_FLAG_ALPHA);
    let depth0 = d.comp(0).depth;
    if d.has(ff::ffi::AV_PIX_FMT_FLAG_PAL) {
        // FFmpeg flags every palette as having alpha; GIF transparency is
        // already composited by the decoder, so nothing is worth a warning.
        return Ok(Layout {
            family: Family::Rgb,
            chroma: Chroma::Yuv444,
            depth: 8,
            full_range: false,
            alpha: false,
        });
    }
    let colour_comps = d.comps - usize::from(alpha);
    let max_depth = (0..colour_comps)
        .map(|c| d.comp(c).depth)
        .max()
        .unwrap_or(0);
    if max_depth > 16 {
        return why("more than 16 bits per sample");
    }
    let depth = max_depth.max(8) as u8;
    if d.has(ff::ffi::AV_PIX_FMT_FLAG_RGB) {
        if colour_comps != 3 {
            return why("RGB without three colour components");
        }
        return Ok(Layout {
            family: Family::Rgb,
            chroma: Chroma::Yuv444,
            depth,
            full_range: false,
            alpha,
        });
    }
    if colour_comps == 1 {
        return Ok(Layout {
            family: Family::Gray,
            chroma: Chroma::Yuv420,
            depth,
            full_range: false,
            alpha,
        });
    }
    if colour_comps != 3 || depth0 < 8 {
        return why("an unusual component layout");
    }
    let chroma = match Chroma::from_shift(d.log2_w, d.log2_h) {
        Some(c) => c,
        None => return why("chroma subsampling other than 4:2:0, 4:2:2, 4:4:4, 4:1:1, 4:4:0"),
    };
    Ok(Layout {
        family: Family::Yuv,
        chroma,
        depth,
        full_range: d.name.starts_with("yuvj"),
        alpha,
    })
}

/// The planar little-endian pixel format that holds a picture of this
/// family, chroma and depth sample for sample, if FFmpeg has one.
pub fn pixel_for(family: Family, chroma: Chroma, depth: u8) -> Option<Pixel> {
    use Pixel as P;
    Some(match (family, chroma, depth) {
        (Family::Rgb, Chroma::Yuv444, 8) => P::GBRP,
        (Family::Rgb, Chroma::Yuv444, 9) => P::GBRP9LE,
        (Family::Rgb, Chroma::Yuv444, 10) => P::GBRP10LE,
        (Family::Rgb, Chroma::Yuv444, 12) => P::GBRP12LE,
        (Family::Rgb, Chroma::Yuv444, 14) => P::GBRP14LE,
        (Family::Rgb, Chroma::Yuv444, 16) => P::GBRP16LE,
        (Family::Rgb, _, _) => return None,
        (Family::Gray, _, 8) => P::GRAY8,
        (Family::Gray, _, 9) => P::GRAY9LE,
        (Family::Gray, _, 10) => P::GRAY10LE,
        (Family::Gray, _, 12) => P::GRAY12LE,
        (Family::Gray, _, 14) => P::GRAY14LE,
        (Family::Gray, _, 16) => P::GRAY16LE,
        (Family::Gray, _, _) => return None,
        (Family::Yuv, Chroma::Yuv420, 8) => P::YUV420P,
        (Family::Yuv, Chroma::Yuv422, 8) => P::YUV422P,
        (Family::Yuv, Chroma::Yuv444, 8) => P::YUV444P,
        (Family::Yuv, Chroma::Yuv411, 8) => P::YUV411P,
        (Family::Yuv, Chroma::Yuv440, 8) => P::YUV440P,
        (Family::Yuv, Chroma::Yuv420, 9) => P::YUV420P9LE,
        (Family::Yuv, Chroma::Yuv422, 9) => P::YUV422P9LE,
        (Family::Yuv, Chroma::Yuv444, 9) => P::YUV444P9LE,
        (Family::Yuv, Chroma::Yuv420, 10) => P::YUV420P10LE,
        (Family::Yuv, Chroma::Yuv422, 10) => P::YUV422P10LE,
        (Family::Yuv, Chroma::Yuv444, 10) => P::YUV444P10LE,
        (Family::Yuv, Chroma::Yuv440, 10) => P::YUV440P10LE,
        (Family::Yuv, Chroma::Yuv420, 12) => P::YUV420P12LE,
        (Family::Yuv, Chroma::Yuv422, 12) => P::YUV422P12LE,
        (Family::Yuv, Chroma::Yuv444, 12) => P::YUV444P12LE,
        (Family::Yuv, Chroma::Yuv440, 12) => P::YUV440P12LE,
        (Family::Yuv, Chroma::Yuv420, 14) => P::YUV420P14LE,
        (Family::Yuv, Chroma::Yuv422, 14) => P::YUV422P14LE,
        (Family::Yuv, Chroma::Yuv444, 14) => P::YUV444P14LE,
        (Family::Yuv, Chroma::Yuv420, 16) => P::YUV420P16LE,
        (Family::Yuv, Chroma::Yuv422, 16) => P::YUV422P16LE,
        (Family::Yuv, Chroma::Yuv444, 16) => P::YUV444P16LE,
        _ => return None,
    })
}

/// Our plane for descriptor component `c` (RGB descriptors list R, G, B;
/// our planes are G, B, R as in `gbrp`).
fn plane_of(family: Family, c: usize) -> usize {
    match family {
        Family::Rgb => [2, 0, 1][c],
        _ => c,
    }
}

/// Whether component `c` can be copied row by row as plain 8-bit bytes or
/// little-endian 16-bit words in our plane's place.
fn direct(d: &Desc, family: Family, c: usize, depth: u8) -> bool {
    let k = d.comp(c);
    let bytes = if depth > 8 { 2 } else { 1 };
    !d.has(ff::ffi::AV_PIX_FMT_FLAG_BE)
        && !d.has(ff::ffi::AV_PIX_FMT_FLAG_BITSTREAM)
        && !d.has(ff::ffi::AV_PIX_FMT_FLAG_PAL)
        && k.plane as usize == plane_of(family, c)
        && k.step == bytes
        && k.offset == 0
        && k.shift == 0
        && k.depth as u8 == depth
}

/// Copy a decoded frame of a format [`classify`] accepted into a
/// [`Picture`] of that layout: exact samples, alpha dropped, grey given
/// neutral chroma, components below 8 bits (rgb565, mono) expanded to 8.
pub fn frame_to_picture(frame: &ff::frame::Video, layout: &Layout) -> Picture {
    let (w, h) = (frame.width() as usize, frame.height() as usize);
    let (chroma, depth) = (layout.chroma, layout.depth);
    let (cw, ch) = chroma.plane_size(w, h);
    let mut planes: [Vec<u16>; 3] = [vec![0; w * h], vec![0; cw * ch], vec![0; cw * ch]];
    let Some(d) = desc(frame.format()) else {
        return Picture {
            width: w,
            height: h,
            chroma,
            depth,
            planes,
        };
    };
    let pal = d.has(ff::ffi::AV_PIX_FMT_FLAG_PAL);
    let comps = match layout.family {
        Family::Gray => 1,
        _ => 3,
    };
    let mut line = vec![0u16; w];
    for c in 0..comps {
        let dst = &mut planes[plane_of(layout.family, c)];
        let size = if layout.family == Family::Rgb || c == 0 {
            (w, h)
        } else {
            (cw, ch)
        };
        if !pal && direct(&d, layout.family, c, depth) {
            copy_rows(frame, d.comp(c).plane as usize, depth, dst, size);
        } else {
            read_component(frame, &d, c, depth, dst, size, &mut line);
        }
    }
    if layout.family == Family::Gray {
        let mid = 1u16 << (depth - 1);
        planes[1].fill(mid);
        planes[2].fill(mid);
    }
    Picture {
        width: w,
        height: h,
        chroma,
        depth,
        planes,
    }
}

/// Copy a plane that already holds our samples (8-bit bytes or
/// little-endian 16-bit words) row by row, using its stride.
fn copy_rows(
    frame: &ff::frame::Video,
    plane: usize,
    depth: u8,
    dst: &mut [u16],
    (pw, ph): (usize, usize),
) {
    let stride = frame.stride(plane);
    let src = frame.data(plane);
    for (y, out) in dst.chunks_exact_mut(pw).enumerate().take(ph) {
        let row = &src[y * stride..];
        if depth == 8 {
            for (o, &v) in out.iter_mut().zip(&row[..pw]) {
                *o = v as u16;
            }
        } else {
            for (o, b) in out.iter_mut().zip(row[..pw * 2].chunks_exact(2)) {
                *o = u16::from_le_bytes([b[0], b[1]]);
            }
        }
    }
}

/// Read component `c` of any other layout row by row through
/// `av_read_image_line2` (into `line`, at least a row long) and widen it
/// to our samples of `depth` bits.
fn read_component(
    frame: &ff::frame::Video,
    d: &Desc,
    c: usize,
    depth: u8,
    dst: &mut [u16],
    (pw, ph): (usize, usize),
    line: &mut [u16],
) {
    let (data, linesize) = {
        // SAFETY: a decoded frame's data/linesize arrays are valid while
        // `frame` lives; we only read through them.
        let f = unsafe { &*frame.as_ptr() };
        (f.data.map(|p| p as *const u8), f.linesize)
    };
    // Palette: the index of comp 0 looks up R, G or B in data[1]
    // (entries are native-endian 0xAARRGGBB words).
    let pal = d.has(ff::ffi::AV_PIX_FMT_FLAG_PAL);
    let read_c = if pal { 0 } else { c };
    let bits = if pal { 8 } else { d.comp(c).depth as u32 };
    for (y, out) in dst.chunks_exact_mut(pw).enumerate().take(ph) {
        let mut data = data;
        // SAFETY: `data`/`linesize` describe this frame's planes for its
        // format `d`; (0, y) .. (pw, y) lies inside component `read_c`'s
        // plane; `line` holds at least `pw` u16 elements.
        unsafe {
            ff::ffi::av_read_image_line2(
                line.as_mut_ptr().cast(),
                data.as_mut_ptr(),
                linesize.as_ptr(),
                d.ptr,
                0,
                y as i32,
                read_c as i32,
                pw as i32,
                0,
                2,
            );
        }
        let line = &line[..pw];
        if pal {
            // SAFETY: a paletted frame's data[1] is FFmpeg's 256-entry
            // (1024-byte) palette, valid while `frame` lives.
            let palette = unsafe { std::slice::from_raw_parts(data[1], 1024) };
            palette_row(out, line, palette, [16, 8, 0][c]);
        } else if bits < 8 {
            replicate_bits(out, line, bits, frame.format() == Pixel::MonoWhite);
        } else if bits < depth as u32 {
            // A component narrower than the others (none in practice).
            let s = depth as u32 - bits;
            for (o, &v) in out.iter_mut().zip(line) {
                *o = v << s;
            }
        } else {
            out.copy_from_slice(line);
        }
    }
}

/// Look palette indices up: the byte at `shift` (R 16, G 8, B 0) of each
/// native-endian 0xAARRGGBB entry.
fn palette_row(out: &mut [u16], line: &[u16], palette: &[u8], shift: u32) {
    for (o, &i) in out.iter_mut().zip(line) {
        let e = &palette[4 * i as usize..][..4];
        let v = u32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
        *o = ((v >> shift) & 0xff) as u16;
    }
}

/// Widen samples of fewer than 8 bits to 8 by bit replication, as FFmpeg
/// expands rgb555/rgb565/mono (`invert` for monowhite).
fn replicate_bits(out: &mut [u16], line: &[u16], bits: u32, invert: bool) {
    let max = (1u16 << bits) - 1;
    for (o, &v) in out.iter_mut().zip(line) {
        let v = if invert { max - v } else { v };
        let (mut acc, mut filled) = (0u32, 0u32);
        while filled < 8 {
            acc = (acc << bits) | v as u32;
            filled += bits;
        }
        *o = (acc >> (filled - 8)) as u16;
    }
}

/// Write a [`Picture`] of `family` into a newly allocated FFmpeg frame of
/// `fmt` (one [`classify`] maps to the picture's chroma and depth): planar
/// formats row by row, packed and semi-planar ones component by component.
/// Grey writes the luma plane only.
pub fn picture_to_frame(pic: &Picture, family: Family, fmt: Pixel) -> ff::frame::Video {
    let mut frame = ff::frame::Video::new(fmt, pic.width as u32, pic.height as u32);
    let Some(d) = desc(fmt) else {
        return frame;
    };
    let comps = if family == Family::Gray { 1 } else { 3 };
    if (0..comps).any(|c| !direct(&d, family, c, pic.depth)) {
        // Packed writers OR their bits into place: start from zeros.
        for i in 0..frame.planes() {
            frame.data_mut(i).fill(0);
        }
    }
    for c in 0..comps {
        let src = &pic.planes[plane_of(family, c)];
        let (pw, ph) = if family == Family::Rgb || c == 0 {
            (pic.width, pic.height)
        } else {
            pic.chroma.plane_size(pic.width, pic.height)
        };
        if direct(&d, family, c, pic.depth) {
            let plane = d.comp(c).plane as usize;
            let stride = frame.stride(plane);
            let data = frame.data_mut(plane);
            for (y, s) in src.chunks_exact(pw).enumerate().take(ph) {
                let row = &mut data[y * stride..];
                if pic.depth == 8 {
                    for (o, &v) in row[..pw].iter_mut().zip(s) {
                        *o = v as u8;
                    }
                } else {
                    for (o, &v) in row[..pw * 2].chunks_exact_mut(2).zip(s) {
                        o.copy_from_slice(&v.to_le_bytes());
                    }
                }
            }
            continue;
        }
        let (mut data, linesize) = {
            // SAFETY: the frame was just allocated for `fmt`; its arrays
            // are valid while `frame` lives.
            let f = unsafe { &*frame.as_ptr() };
            (f.data, f.linesize)
        };
        for (y, s) in src.chunks_exact(pw).enumerate().take(ph) {
            // SAFETY: `data`/`linesize` are this frame's planes for `fmt`;
            // (0, y) .. (pw, y) lies inside component `c`'s plane; `s` holds
            // `pw` u16 values below 2^depth of that component.
            unsafe {
                ff::ffi::av_write_image_line2(
                    s.as_ptr().cast(),
                    data.as_mut_ptr(),
                    linesize.as_ptr(),
                    d.ptr,
                    0,
                    y as i32,
                    c as i32,
                    pw as i32,
                    2,
                );
            }
        }
    }
    frame
}

/// Resample one chroma axis of `n_src` samples (log2 subsampling `from`)
/// to `n_dst` samples (log2 subsampling `to`), `lines` walking the other
/// axis: coarser → the area average under each destination sample's
/// footprint, finer → Catmull-Rom cubic through the four nearest, both
/// with chroma where `site` puts it. Cubic rather than bilinear:
/// 4:1:1 → 4:4:4 measured 44.8 dB bilinear, see README.
fn resample_axis(
    src: &[f32],
    (n_src, from): (usize, u32),
    (n_dst, to): (usize, u32),
    lines: usize,
    along_rows: bool,
    site: Site,
) -> Vec<f32> {
    let mut out = vec![0.0f32; n_dst * lines];
    let at = |line: usize, i: usize| {
        if along_rows {
            src[line * n_src + i]
        } else {
            src[i * lines + line]
        }
    };
    let last = n_src as i64 - 1;
    let taps: Vec<Vec<(usize, f32)>> = (0..n_dst)
        .map(|j| {
            if to >= from {
                area_weights(j, n_src, from, to, site)
            } else {
                let f = site_on(j as f32, to, from, site);
                let base = f.floor();
                let t = f - base;
                let w = [
                    ((-0.5 * t + 1.0) * t - 0.5) * t,
                    (1.5 * t - 2.5) * t * t + 1.0,
                    ((-1.5 * t + 2.0) * t + 0.5) * t,
                    (0.5 * t - 0.5) * t * t,
                ];
                (0..4)
                    .map(|k| {
                        let i = (base as i64 - 1 + k as i64).clamp(0, last) as usize;
                        (i, w[k])
                    })
                    .collect()
            }
        })
        .collect();
    for line in 0..lines {
        for (j, tap) in taps.iter().enumerate() {
            let v = tap.iter().map(|&(i, w)| w * at(line, i)).sum();
            if along_rows {
                out[line * n_dst + j] = v;
            } else {
                out[j * lines + line] = v;
            }
        }
    }
    out
}

/// Change a picture's chroma layout and/or bit depth (for encoders that
/// cannot take the input's layout). Chroma is box-averaged where the new
/// layout is coarser and interpolated where it is finer (per axis), with
/// chroma sited as `siting` says; depth changes round to nearest.
pub fn convert_picture(pic: &Picture, chroma: Chroma, depth: u8, siting: Siting) -> Picture {
    if pic.chroma == chroma && pic.depth == depth {
        return pic.clone();
    }
    let scale = |v: f32| -> u16 {
        let v = if depth >= pic.depth {
            v * (1u32 << (depth - pic.depth)) as f32
        } else {
            v / (1u32 << (pic.depth - depth)) as f32
        };
        v.round().clamp(0.0, ((1u32 << depth) - 1) as f32) as u16
    };
    let y = pic.planes[0].iter().map(|&v| scale(v as f32)).collect();
    let (sw, sh) = pic.chroma.plane_size(pic.width, pic.height);
    let (ssx, ssy) = pic.chroma.shift();
    let (dw, dh) = chroma.plane_size(pic.width, pic.height);
    let (dsx, dsy) = chroma.shift();
    let resample = |src: &[u16]| -> Vec<u16> {
        let f: Vec<f32> = src.iter().map(|&v| v as f32).collect();
        let rows = resample_axis(&f, (sw, ssx), (dw, dsx), sh, true, siting.h);
        let both = resample_axis(&rows, (sh, ssy), (dh, dsy), dw, false, siting.v);
        both.into_iter().map(scale).collect()
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
                    let fmt = pixel_for(Family::Yuv, chroma, depth).expect("planar format");
                    let frame = picture_to_frame(&pic, Family::Yuv, fmt);
                    let layout = classify(fmt).expect("our own format");
                    let back = frame_to_picture(&frame, &layout);
                    assert_eq!(pic, back, "{w}x{h} {chroma:?} {depth}");
                }
            }
        }
    }

    /// Packed, semi-planar, big-endian and bit-shifted formats (the ffmpeg
    /// CLI cannot store p010/p016 in a file, so they are checked here):
    /// written and read back through FFmpeg's own component descriptors,
    /// every sample survives, and p010 holds a 10-bit value `v` as `v << 6`.
    #[test]
    fn every_kind_of_format_roundtrips() {
        crate::media::init(0);
        let cases = [
            (Pixel::NV12, Family::Yuv),
            (Pixel::NV21, Family::Yuv),
            (Pixel::P010LE, Family::Yuv),
            (Pixel::P016LE, Family::Yuv),
            (Pixel::YUYV422, Family::Yuv),
            (Pixel::UYVY422, Family::Yuv),
            (Pixel::YUV420P10BE, Family::Yuv),
            (Pixel::YUV411P, Family::Yuv),
            (Pixel::YUV440P12LE, Family::Yuv),
            (Pixel::YUV444P16LE, Family::Yuv),
            (Pixel::RGB24, Family::Rgb),
            (Pixel::BGR24, Family::Rgb),
            (Pixel::BGRZ, Family::Rgb),
            (Pixel::RGB48BE, Family::Rgb),
            (Pixel::GBRP16BE, Family::Rgb),
            (Pixel::GBRP, Family::Rgb),
            (Pixel::GRAY16BE, Family::Gray),
            (Pixel::GRAY8, Family::Gray),
        ];
        for (fmt, family) in cases {
            let l = classify(fmt).unwrap_or_else(|e| panic!("{fmt:?}: {e}"));
            assert_eq!(l.family, family, "{fmt:?}");
            let (w, h) = (12, 6);
            let mut pic = Picture::black(w, h, l.chroma, l.depth);
            for (p, plane) in pic.planes.iter_mut().enumerate() {
                for (i, v) in plane.iter_mut().enumerate() {
                    *v = ((i * 977 + p * 131) % (1 << l.depth)) as u16;
                }
            }
            if family == Family::Gray {
                let mid = 1u16 << (l.depth - 1);
                pic.planes[1].fill(mid);
                pic.planes[2].fill(mid);
            }
            let frame = picture_to_frame(&pic, family, fmt);
            assert_eq!(frame_to_picture(&frame, &l), pic, "{fmt:?}");
            if fmt == Pixel::P010LE {
                let v = u16::from_le_bytes([frame.data(0)[2], frame.data(0)[3]]);
                assert_eq!(v, pic.planes[0][1] << 6);
            }
        }
    }

    #[test]
    fn refused_formats_are_named() {
        for fmt in [
            Pixel::GBRPF32LE,
            Pixel::XYZ12LE,
            Pixel::BAYER_RGGB8,
            Pixel::YUV410P,
        ] {
            let e = classify(fmt).expect_err("refused");
            assert!(e.contains(&pixel_name(fmt)), "{e}");
        }
        assert!(classify(Pixel::PAL8).is_ok_and(|l| l.family == Family::Rgb && !l.alpha));
        assert!(classify(Pixel::YUVA420P).is_ok_and(|l| l.alpha));
    }

    #[test]
    fn convert_depth_and_chroma() {
        let mut pic = Picture::black(5, 3, Chroma::Yuv444, 10);
        pic.planes[0][0] = 1023;
        pic.planes[1].iter_mut().for_each(|v| *v = 600);
        let out = convert_picture(&pic, Chroma::Yuv420, 8, Siting::CENTRE);
        assert_eq!(out.planes[0][0], 255);
        assert_eq!(out.planes[1].len(), 3 * 2);
        assert!(out.planes[1].iter().all(|&v| v == 150));
        let up = convert_picture(&out, Chroma::Yuv444, 10, Siting::CENTRE);
        assert_eq!(up.planes[1].len(), 15);
        assert!(up.planes[1].iter().all(|&v| v == 600));
    }
}
