//! Video encoder setup: codec choice, pixel format negotiation, colour tags.

use ffmpeg_next as ff;

use super::pixels::{layout_of, pixel_for};
use super::{describe, ColorTags, Rational};
use crate::error::{Error, Result};
use crate::picture::Chroma;

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
}

impl Codec {
    pub fn encoder_name(self) -> &'static str {
        match self {
            Codec::X264 => "libx264",
            Codec::X265 => "libx265",
            Codec::Av1 => "libsvtav1",
            Codec::H264Nvenc => "h264_nvenc",
            Codec::HevcNvenc => "hevc_nvenc",
        }
    }

    pub fn id(self) -> ff::codec::Id {
        match self {
            Codec::X264 | Codec::H264Nvenc => ff::codec::Id::H264,
            Codec::X265 | Codec::HevcNvenc => ff::codec::Id::HEVC,
            Codec::Av1 => ff::codec::Id::AV1,
        }
    }

    /// Default encoder speed preset.
    pub fn default_preset(self) -> &'static str {
        match self {
            Codec::X264 | Codec::X265 => "medium",
            Codec::Av1 => "8",
            Codec::H264Nvenc | Codec::HevcNvenc => "p5",
        }
    }

    /// Highest CRF / CQ value the encoder accepts.
    pub fn max_crf(self) -> f32 {
        match self {
            Codec::X264 | Codec::X265 => 51.0,
            Codec::Av1 => 63.0,
            Codec::H264Nvenc | Codec::HevcNvenc => 51.0,
        }
    }
}

/// Encoder settings from the preset / config / flags.
#[derive(Clone, Debug, PartialEq)]
pub struct EncodeSettings {
    pub codec: Codec,
    pub crf: f32,
    pub preset: String,
}

/// The picture layout the encoder receives, and why it differs from the
/// input's when it does.
#[derive(Clone, Debug)]
pub struct EncoderLayout {
    pub chroma: Chroma,
    pub depth: u8,
    pub pixel: ff::format::Pixel,
    pub warning: Option<String>,
}

/// Pick the encoder's pixel format: the input's layout if the encoder takes
/// it, else the nearest one it takes (same depth first, then 4:2:0).
pub fn negotiate_layout(codec: Codec, chroma: Chroma, depth: u8) -> Result<EncoderLayout> {
    let enc = ff::encoder::find_by_name(codec.encoder_name()).ok_or_else(|| {
        Error::encode(
            codec.encoder_name(),
            "not available in this FFmpeg build (choose another --codec)",
        )
    })?;
    let supported: Vec<ff::format::Pixel> = enc
        .video()
        .ok()
        .and_then(|v| v.formats().map(|f| f.collect()))
        .unwrap_or_default();
    let takes = |c: Chroma, d: u8| supported.is_empty() || supported.contains(&pixel_for(c, d));
    let depths: Vec<u8> = match depth {
        12 => vec![12, 10, 8],
        10 => vec![10, 8],
        _ => vec![8, 10],
    };
    let chromas = match chroma {
        Chroma::Yuv444 => [Chroma::Yuv444, Chroma::Yuv422, Chroma::Yuv420],
        Chroma::Yuv422 => [Chroma::Yuv422, Chroma::Yuv420, Chroma::Yuv444],
        Chroma::Yuv420 => [Chroma::Yuv420, Chroma::Yuv422, Chroma::Yuv444],
    };
    for &d in &depths {
        for &c in &chromas {
            if takes(c, d) {
                let warning = (c != chroma || d != depth).then(|| {
                    format!(
                        "{} cannot encode {} {}-bit; writing {} {}-bit",
                        codec.encoder_name(),
                        chroma.name(),
                        depth,
                        c.name(),
                        d
                    )
                });
                return Ok(EncoderLayout {
                    chroma: c,
                    depth: d,
                    pixel: pixel_for(c, d),
                    warning,
                });
            }
        }
    }
    // Encoders that only take semi-planar formats (NVENC's nv12/p010):
    // feed the nearest planar 4:2:0 FFmpeg also accepts via its list.
    for &p in &supported {
        if let Some((c, d, _)) = layout_of(p) {
            return Ok(EncoderLayout {
                chroma: c,
                depth: d,
                pixel: p,
                warning: Some(format!(
                    "{} cannot encode {} {}-bit; writing {} {}-bit",
                    codec.encoder_name(),
                    chroma.name(),
                    depth,
                    c.name(),
                    d
                )),
            });
        }
    }
    Err(Error::encode(
        codec.encoder_name(),
        "takes no planar YUV pixel format this tool produces (choose another --codec)",
    ))
}

/// Everything needed to open the video encoder.
pub struct EncoderSpec<'a> {
    pub settings: &'a EncodeSettings,
    pub layout: &'a EncoderLayout,
    pub width: usize,
    pub height: usize,
    pub time_base: Rational,
    pub frame_rate: Rational,
    pub sample_aspect_ratio: Rational,
    pub colors: ColorTags,
    pub global_header: bool,
}

/// Open the encoder.
pub fn open_encoder(spec: &EncoderSpec) -> Result<ff::encoder::Video> {
    let codec = spec.settings.codec;
    let name = codec.encoder_name();
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
    ctx.set_width(spec.width as u32);
    ctx.set_height(spec.height as u32);
    ctx.set_format(spec.layout.pixel);
    ctx.set_time_base(spec.time_base);
    if spec.frame_rate.numerator() > 0 && spec.frame_rate.denominator() > 0 {
        ctx.set_frame_rate(Some(spec.frame_rate));
    }
    ctx.set_aspect_ratio(spec.sample_aspect_ratio);
    ctx.set_color_range(spec.colors.range);
    ctx.set_colorspace(spec.colors.matrix);
    ctx.set_color_primaries(spec.colors.primaries);
    ctx.set_color_transfer_characteristic(spec.colors.transfer);
    if spec.global_header {
        ctx.set_flags(ff::codec::Flags::GLOBAL_HEADER);
    }
    let mut opts = ff::Dictionary::new();
    let crf = format!("{}", spec.settings.crf);
    match codec {
        Codec::X264 => {
            opts.set("crf", &crf);
            opts.set("preset", &spec.settings.preset);
        }
        Codec::X265 => {
            opts.set("crf", &crf);
            opts.set("preset", &spec.settings.preset);
            opts.set("x265-params", "log-level=error");
        }
        Codec::Av1 => {
            opts.set("crf", &format!("{}", spec.settings.crf.round() as i64));
            opts.set("preset", &spec.settings.preset);
        }
        Codec::H264Nvenc | Codec::HevcNvenc => {
            opts.set("rc", "vbr");
            opts.set("cq", &format!("{}", spec.settings.crf.round() as i64));
            opts.set("preset", &spec.settings.preset);
        }
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
