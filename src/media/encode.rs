//! Video encoder setup: codec choice, pixel format negotiation, colour tags.

use ffmpeg_next as ff;

use super::pixels::{classify, pixel_for, Layout};
use super::{describe, ColorTags, Rational};
use crate::color::Matrix;
use crate::error::{Error, Result};
use crate::picture::{Chroma, Family};

/// Output video codecs.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Codec {
    /// H.264 with libx264 (default; plays everywhere)
    X264,
    /// HEVC with libx265 (smaller files, slower)
    X265,
    /// AV1 with SVT-AV1 (smallest files; 4:2:0 only)
    Av1,
    /// H.264 on an NVIDIA GPU (NVENC)
    H264Nvenc,
    /// HEVC on an NVIDIA GPU (NVENC)
    HevcNvenc,
    /// FFV1, always lossless (archival; .mkv)
    Ffv1,
}

impl Codec {
    pub fn encoder_name(self) -> &'static str {
        match self {
            Codec::X264 => "libx264",
            Codec::X265 => "libx265",
            Codec::Av1 => "libsvtav1",
            Codec::H264Nvenc => "h264_nvenc",
            Codec::HevcNvenc => "hevc_nvenc",
            Codec::Ffv1 => "ffv1",
        }
    }

    /// Whether the encoder can write mathematically lossless video here
    /// (Debian 12's FFmpeg 5.1: SVT-AV1 1.4 has no lossless mode; NVENC's
    /// is not offered because it cannot be checked without the GPU).
    pub fn has_lossless(self) -> bool {
        matches!(self, Codec::X264 | Codec::X265 | Codec::Ffv1)
    }

    /// Whether `crf` and `preset` mean anything to the encoder.
    pub fn has_quality_scale(self) -> bool {
        self != Codec::Ffv1
    }

    pub fn id(self) -> ff::codec::Id {
        match self {
            Codec::X264 | Codec::H264Nvenc => ff::codec::Id::H264,
            Codec::X265 | Codec::HevcNvenc => ff::codec::Id::HEVC,
            Codec::Av1 => ff::codec::Id::AV1,
            Codec::Ffv1 => ff::codec::Id::FFV1,
        }
    }

    /// Default encoder speed preset.
    pub fn default_preset(self) -> &'static str {
        match self {
            Codec::X264 | Codec::X265 => "medium",
            Codec::Av1 => "8",
            Codec::H264Nvenc | Codec::HevcNvenc => "p5",
            Codec::Ffv1 => "",
        }
    }

    /// The CRF / CQ values the encoder takes, on its own scale. SVT-AV1 and
    /// NVENC read 0 as "not set", so their range starts at 1.
    pub fn crf_range(self) -> (f32, f32) {
        match self {
            Codec::X264 | Codec::X265 => (0.0, 51.0),
            Codec::Av1 => (1.0, 63.0),
            Codec::H264Nvenc | Codec::HevcNvenc => (1.0, 51.0),
            Codec::Ffv1 => (0.0, 0.0),
        }
    }

    /// The CRF used when none is given.
    pub fn default_crf(self) -> Option<f32> {
        match self {
            Codec::X264 => Some(16.0),
            Codec::X265 => Some(18.0),
            Codec::Av1 => Some(24.0),
            Codec::H264Nvenc | Codec::HevcNvenc => Some(19.0),
            Codec::Ffv1 => None,
        }
    }
}

/// Encoder settings from the preset / config / flags.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodeSettings {
    pub codec: Codec,
    /// Constant quality on the encoder's own scale (None: lossless codec).
    pub crf: Option<f32>,
    /// Mathematically lossless output (x264 qp 0, x265 lossless=1, FFV1).
    pub lossless: bool,
    pub preset: String,
}

/// The picture layout the encoder receives, and why it differs from the
/// input's when it does.
#[derive(Clone, Debug)]
pub struct EncoderLayout {
    /// The FFmpeg encoder (libx264rgb for RGB with `--codec x264`).
    pub encoder: &'static str,
    pub family: Family,
    pub chroma: Chroma,
    pub depth: u8,
    pub pixel: ff::format::Pixel,
    /// Set when RGB had to be written as YUV: the matrix used (range is
    /// then limited, the standard one).
    pub matrix: Option<Matrix>,
    pub warning: Option<String>,
}

fn describe_layout(family: Family, chroma: Chroma, depth: u8) -> String {
    match family {
        Family::Yuv => format!("YUV {} {depth}-bit", chroma.name()),
        f => format!("{} {depth}-bit", f.name()),
    }
}

/// Depths to try for a picture of `depth`: the same, then deeper (exact),
/// then shallower.
fn depth_order(depth: u8) -> Vec<u8> {
    let all = [8u8, 9, 10, 12, 14, 16];
    let mut v = vec![depth];
    v.extend(all.iter().copied().filter(|&d| d > depth));
    v.extend(all.iter().rev().copied().filter(|&d| d < depth));
    v
}

fn chroma_order(chroma: Chroma) -> [Chroma; 3] {
    match chroma {
        Chroma::Yuv444 => [Chroma::Yuv444, Chroma::Yuv422, Chroma::Yuv420],
        // 4:4:4 holds 4:4:0 and 4:1:1 chroma exactly (replicated).
        Chroma::Yuv440 => [Chroma::Yuv440, Chroma::Yuv444, Chroma::Yuv422],
        Chroma::Yuv422 => [Chroma::Yuv422, Chroma::Yuv420, Chroma::Yuv444],
        Chroma::Yuv420 => [Chroma::Yuv420, Chroma::Yuv422, Chroma::Yuv444],
        Chroma::Yuv411 => [Chroma::Yuv411, Chroma::Yuv444, Chroma::Yuv422],
    }
}

/// Pixel formats an encoder takes, with what each holds.
type EncoderFormats = Vec<(ff::format::Pixel, Layout)>;

/// The pixel formats an encoder takes that we can write (no alpha, no
/// `yuvj`, no RGB for NVENC), planar little-endian ones first.
fn encoder_formats(name: &'static str) -> Option<EncoderFormats> {
    let enc = ff::encoder::find_by_name(name)?;
    let listed: Vec<ff::format::Pixel> = enc
        .video()
        .ok()
        .and_then(|v| v.formats().map(|f| f.collect()))
        .unwrap_or_default();
    let mut out: Vec<(ff::format::Pixel, Layout)> = listed
        .into_iter()
        .filter_map(|p| classify(p).ok().map(|l| (p, l)))
        .filter(|(_, l)| !l.alpha && !l.full_range)
        // NVENC converts RGB input to YUV itself (and tags it BT.601), so
        // it is not an RGB encoder: give it YUV converted and tagged here.
        .filter(|(_, l)| !(name.ends_with("_nvenc") && l.family == Family::Rgb))
        .collect();
    out.sort_by_key(|(p, l)| pixel_for(l.family, l.chroma, l.depth) != Some(*p));
    Some(out)
}

/// Pick the encoder and its pixel format: the input's family, layout and
/// depth if the encoder takes them, else the nearest it takes (same depth
/// first, then deeper, then shallower; RGB and grey fall back to YUV).
pub fn negotiate_layout(
    codec: Codec,
    family: Family,
    chroma: Chroma,
    depth: u8,
    height: usize,
) -> Result<EncoderLayout> {
    let encoders = available_encoders(codec, family)?;
    // An encoder that lists no formats is offered our planar ones.
    let find = |fam: Family, c: Chroma, d: u8| {
        let c = if fam == Family::Yuv {
            c
        } else {
            Chroma::Yuv444
        };
        encoders.iter().find_map(|(n, formats)| {
            if formats.is_empty() {
                return pixel_for(fam, c, d).map(|p| (*n, p));
            }
            formats
                .iter()
                .find(|(_, l)| {
                    l.family == fam && l.depth == d && (fam == Family::Gray || l.chroma == c)
                })
                .map(|(p, _)| (*n, *p))
        })
    };
    for (fam, c, d) in layout_tries(family, chroma, depth) {
        if let Some((encoder, pixel)) = find(fam, c, d) {
            let out_chroma = if fam == Family::Yuv { c } else { chroma };
            let matrix = (family == Family::Rgb && fam != Family::Rgb)
                .then(|| super::ColorTags::default_matrix(height));
            let changed = fam != family || d != depth || (fam == Family::Yuv && c != chroma);
            let warning = changed.then(|| {
                let how = match matrix {
                    Some(m) => format!(" (converted with the {} matrix, limited range)", m.name()),
                    None if family == Family::Gray => " (neutral chroma)".into(),
                    None => String::new(),
                };
                format!(
                    "{encoder} cannot encode {}; writing {}{how}",
                    describe_layout(family, chroma, depth),
                    describe_layout(fam, out_chroma, d)
                )
            });
            return Ok(EncoderLayout {
                encoder,
                family: fam,
                chroma: out_chroma,
                depth: d,
                pixel,
                matrix,
                warning,
            });
        }
    }
    Err(Error::encode(
        codec.encoder_name(),
        "takes no pixel format this tool produces (choose another --codec)",
    ))
}

/// The FFmpeg encoders that can write `codec` (libx264rgb first for RGB
/// with x264), each with the formats it takes; an error when none is built in.
fn available_encoders(codec: Codec, family: Family) -> Result<Vec<(&'static str, EncoderFormats)>> {
    let names: &[&'static str] = if codec == Codec::X264 && family == Family::Rgb {
        &["libx264rgb", "libx264"]
    } else {
        match codec.encoder_name() {
            "libx264" => &["libx264"],
            "libx265" => &["libx265"],
            "libsvtav1" => &["libsvtav1"],
            "h264_nvenc" => &["h264_nvenc"],
            "hevc_nvenc" => &["hevc_nvenc"],
            _ => &["ffv1"],
        }
    };
    let encoders: Vec<_> = names
        .iter()
        .filter_map(|&n| encoder_formats(n).map(|f| (n, f)))
        .collect();
    if encoders.is_empty() {
        return Err(Error::encode(
            codec.encoder_name(),
            "not available in this FFmpeg build (choose another --codec)",
        ));
    }
    Ok(encoders)
}

/// The layouts to offer the encoder, best first: the input's family at its
/// depth; then, for RGB and grey, YUV (same depth first); then the input's
/// family at other depths.
fn layout_tries(family: Family, chroma: Chroma, depth: u8) -> Vec<(Family, Chroma, u8)> {
    let own_chroma = if family == Family::Yuv {
        chroma_order(chroma)
    } else {
        [chroma; 3]
    };
    let mut tries: Vec<(Family, Chroma, u8)> =
        own_chroma.iter().map(|&c| (family, c, depth)).collect();
    if family != Family::Yuv {
        let yuv = match family {
            Family::Rgb => [Chroma::Yuv444, Chroma::Yuv422, Chroma::Yuv420],
            _ => [Chroma::Yuv420, Chroma::Yuv422, Chroma::Yuv444],
        };
        for d in depth_order(depth) {
            tries.extend(yuv.iter().map(|&c| (Family::Yuv, c, d)));
        }
    }
    for d in depth_order(depth).into_iter().skip(1) {
        tries.extend(own_chroma.iter().map(|&c| (family, c, d)));
    }
    tries
}

/// Size and timing of the video written.
#[derive(Clone, Copy, Debug)]
pub struct VideoShape {
    pub width: usize,
    pub height: usize,
    /// Time base of the frames' pts.
    pub time_base: Rational,
    pub frame_rate: Rational,
    pub sample_aspect_ratio: Rational,
}

/// Everything needed to open the video encoder.
pub struct EncoderSpec<'a> {
    pub settings: &'a EncodeSettings,
    pub layout: &'a EncoderLayout,
    pub shape: VideoShape,
    pub colors: ColorTags,
    pub global_header: bool,
}

/// Open the encoder.
pub fn open_encoder(spec: &EncoderSpec) -> Result<ff::encoder::Video> {
    let codec = spec.settings.codec;
    let name = spec.layout.encoder;
    let enc = ff::encoder::find_by_name(name).ok_or_else(|| {
        Error::encode(
            name,
            "not available in this FFmpeg build (choose another --codec)",
        )
    })?;
    let mut ctx = ff::codec::context::Context::new_with_codec(enc)
        .encoder()
        .video()
        .map_err(|e| Error::encode(name, describe(e)))?;
    ctx.set_width(spec.shape.width as u32);
    ctx.set_height(spec.shape.height as u32);
    ctx.set_format(spec.layout.pixel);
    ctx.set_time_base(spec.shape.time_base);
    if spec.shape.frame_rate.numerator() > 0 && spec.shape.frame_rate.denominator() > 0 {
        ctx.set_frame_rate(Some(spec.shape.frame_rate));
    }
    ctx.set_aspect_ratio(spec.shape.sample_aspect_ratio);
    spec.colors.tag_encoder(&mut ctx);
    if spec.global_header {
        ctx.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let mut opts = ff::Dictionary::new();
    let s = spec.settings;
    let crf = s.crf.or(codec.default_crf()).unwrap_or(0.0);
    if codec.has_quality_scale() {
        opts.set("preset", &s.preset);
    }
    match codec {
        // x264 (and libx264rgb): qp 0 is lossless at every depth.
        Codec::X264 if s.lossless => opts.set("qp", "0"),
        Codec::X264 => opts.set("crf", &format!("{crf}")),
        Codec::X265 => {
            if s.lossless {
                opts.set("x265-params", "lossless=1:log-level=error");
            } else {
                opts.set("crf", &format!("{crf}"));
                opts.set("x265-params", "log-level=error");
            }
        }
        Codec::Av1 => opts.set("crf", &format!("{}", crf.round() as i64)),
        Codec::H264Nvenc | Codec::HevcNvenc => {
            opts.set("rc", "vbr");
            opts.set("cq", &format!("{}", crf.round() as i64));
        }
        // FFV1 version 3 with slice checksums: the archival profile.
        Codec::Ffv1 => {
            opts.set("level", "3");
            opts.set("slicecrc", "1");
        }
    }
    if s.lossless && !codec.has_lossless() {
        return Err(Error::encode(
            name,
            "has no lossless mode here (use --codec ffv1, x264 or x265 with --lossless)",
        ));
    }
    ctx.open_with(opts).map_err(|e| {
        let hint = match codec {
            Codec::H264Nvenc | Codec::HevcNvenc => {
                " (NVENC needs an NVIDIA GPU and driver; use --codec x264 on this machine)"
            }
            _ => " (check --crf and --encoder-preset)",
        };
        Error::encode(name, format!("cannot open: {}{hint}", describe(e)))
    })
}
