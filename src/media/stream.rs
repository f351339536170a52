//! What a container and its streams say about themselves, read once.
//!
//! `decode` (to open the video), `probe` (for `info`) and `mux` (to choose
//! the streams it copies) all start from these facts, so a codec name, a
//! media-type name, the container's start time or the frame-rate fallback
//! has one home.

use ff::format::stream::Disposition;
use ffmpeg_next as ff;

use super::{ts_seconds, Rational};

/// The frame rate assumed when a stream states none (NTSC film, 23.976 fps).
pub const FALLBACK_RATE: (u32, u32) = (24000, 1001);

/// A rate as frames per second, when both of its terms are positive.
pub fn rate_value(r: Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0)
        .then(|| r.numerator() as f64 / r.denominator() as f64)
}

/// A rate as frames per second, else the [`FALLBACK_RATE`].
pub fn fps_or_fallback(r: Rational) -> f64 {
    rate_value(r).unwrap_or(FALLBACK_RATE.0 as f64 / FALLBACK_RATE.1 as f64)
}

/// A media type as `ffprobe` names it.
pub fn media_name(t: ff::media::Type) -> &'static str {
    match t {
        ff::media::Type::Video => "video",
        ff::media::Type::Audio => "audio",
        ff::media::Type::Subtitle => "subtitle",
        ff::media::Type::Attachment => "attachment",
        ff::media::Type::Data => "data",
        _ => "unknown",
    }
}

/// Seconds of a container-level time (`AV_TIME_BASE` units).
fn container_seconds(t: i64) -> f64 {
    t as f64 / ff::ffi::AV_TIME_BASE as f64
}

/// The container's own facts.
#[derive(Clone, Debug)]
pub struct ContainerFacts {
    /// The demuxer's short name ("matroska,webm", "mov,mp4,m4a,3gp,3g2,mj2").
    pub format_name: String,
    pub duration_s: Option<f64>,
    /// Start of the container's timeline in seconds (0 when unset): clip
    /// times count from here, as players show them.
    pub start_s: f64,
    pub bit_rate: Option<i64>,
    pub chapters: u32,
}

impl ContainerFacts {
    pub fn read(ictx: &ff::format::context::Input) -> ContainerFacts {
        // SAFETY: the context pointer is valid while `ictx` lives; start_time
        // is a plain integer field ffmpeg-next has no getter for.
        let raw_start = unsafe { (*ictx.as_ptr()).start_time };
        ContainerFacts {
            format_name: ictx.format().name().to_string(),
            duration_s: (ictx.duration() > 0).then(|| container_seconds(ictx.duration())),
            start_s: if raw_start == ff::ffi::AV_NOPTS_VALUE {
                0.0
            } else {
                container_seconds(raw_start)
            },
            bit_rate: (ictx.bit_rate() > 0).then(|| ictx.bit_rate()),
            chapters: ictx.nb_chapters(),
        }
    }
}

/// One stream's facts as the container states them.
#[derive(Clone, Debug)]
pub struct StreamFacts {
    pub index: usize,
    pub medium: ff::media::Type,
    pub codec_id: ff::codec::Id,
    /// The decoder's name ("h264", "aac"), else the codec id in lower case.
    pub codec: String,
    pub time_base: Rational,
    /// Average frame rate (may be 0/0).
    pub avg_frame_rate: Rational,
    /// Base frame rate, r_frame_rate (may be 0/0).
    pub base_rate: Rational,
    /// Frame count the container states (0 or less: unknown).
    pub frames: i64,
    /// Duration in `time_base` ticks (0 or less: unknown).
    pub duration: i64,
    pub language: Option<String>,
    pub title: Option<String>,
    /// Attachments: the file's name and MIME type.
    pub filename: Option<String>,
    pub mimetype: Option<String>,
    pub disposition: Disposition,
    /// Audio only.
    pub channels: Option<u16>,
    pub sample_rate: Option<u32>,
}

impl StreamFacts {
    pub fn read(stream: &ff::format::stream::Stream) -> StreamFacts {
        let params = stream.parameters();
        let medium = params.medium();
        let codec_id = params.id();
        let md = stream.metadata();
        let tag = |key: &str| md.get(key).map(str::to_string);
        // SAFETY: codecpar of a stream of an open input is valid; the
        // channel layout and sample rate are plain fields.
        let (channels, sample_rate) = unsafe {
            let p = params.as_ptr();
            if medium == ff::media::Type::Audio {
                (
                    Some((*p).ch_layout.nb_channels as u16),
                    Some((*p).sample_rate as u32),
                )
            } else {
                (None, None)
            }
        };
        StreamFacts {
            index: stream.index(),
            medium,
            codec_id,
            codec: ff::decoder::find(codec_id)
                .map(|c| c.name().to_string())
                .unwrap_or_else(|| format!("{codec_id:?}").to_lowercase()),
            time_base: stream.time_base(),
            avg_frame_rate: stream.avg_frame_rate(),
            base_rate: stream.rate(),
            frames: stream.frames(),
            duration: stream.duration(),
            language: tag("language"),
            title: tag("title"),
            filename: tag("filename"),
            mimetype: tag("mimetype"),
            disposition: stream.disposition(),
            channels,
            sample_rate,
        }
    }

    /// The media type as `ffprobe` names it ("video", "audio", ...).
    pub fn kind(&self) -> &'static str {
        media_name(self.medium)
    }

    /// The codec id in lower case ("subrip", "ass"), as FFmpeg spells the
    /// format rather than the decoder that reads it.
    pub fn codec_id_name(&self) -> String {
        format!("{:?}", self.codec_id).to_lowercase()
    }

    pub fn has_valid_time_base(&self) -> bool {
        self.time_base.numerator() > 0 && self.time_base.denominator() > 0
    }

    /// The stream's own duration in seconds, when it states one.
    pub fn duration_s(&self) -> Option<f64> {
        (self.duration > 0).then(|| ts_seconds(self.duration, self.time_base))
    }

    /// Average frame rate as f64, else [`FALLBACK_RATE`].
    pub fn fps(&self) -> f64 {
        fps_or_fallback(self.avg_frame_rate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_their_fallback() {
        assert_eq!(
            rate_value(Rational::new(30000, 1001)),
            Some(30000.0 / 1001.0)
        );
        assert_eq!(rate_value(Rational::new(0, 0)), None);
        assert_eq!(rate_value(Rational::new(25, 0)), None);
        assert_eq!(fps_or_fallback(Rational::new(25, 1)), 25.0);
        assert_eq!(fps_or_fallback(Rational::new(0, 1)), 24000.0 / 1001.0);
    }

    #[test]
    fn media_names_are_ffprobes() {
        assert_eq!(media_name(ff::media::Type::Attachment), "attachment");
        assert_eq!(media_name(ff::media::Type::Unknown), "unknown");
    }
}
