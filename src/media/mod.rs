//! Everything that touches FFmpeg: probing, decoding, encoding and muxing.
//! No other module uses `ffmpeg_next` directly.

pub mod carry;
pub mod decode;
pub mod encode;
pub mod fields;
pub mod mux;
pub mod packets;
pub mod pixels;
pub mod probe;
pub mod still;
pub mod stream;
pub mod subtitles;

use std::path::Path;
use std::sync::Once;

use ffmpeg_next as ff;

use crate::error::{Error, Result};

pub use ff::Rational;

static INIT: Once = Once::new();

/// Initialise FFmpeg once per process. `verbosity` 0 silences FFmpeg's own
/// log (our messages say what matters), 1 shows its warnings, 2+ its debug.
pub fn init(verbosity: u8) {
    INIT.call_once(|| {
        // av_register_all is a no-op on FFmpeg >= 4; init cannot fail there.
        let _ = ff::init();
        // SVT-AV1 logs through its own printf, not av_log: warnings and
        // errors only, unless the user set it.
        if std::env::var_os("SVT_LOG").is_none() {
            std::env::set_var("SVT_LOG", if verbosity > 0 { "3" } else { "2" });
        }
    });
    ff::util::log::set_level(match verbosity {
        0 => ff::util::log::Level::Quiet,
        1 => ff::util::log::Level::Warning,
        _ => ff::util::log::Level::Debug,
    });
}

/// Describe an FFmpeg error in words a user can act on.
pub(crate) fn describe(err: ff::Error) -> String {
    match err {
        ff::Error::InvalidData => {
            "invalid data found when processing input (corrupt or not a media file)".into()
        }
        ff::Error::DecoderNotFound => "no decoder for this codec in this FFmpeg build".into(),
        ff::Error::DemuxerNotFound => "not a recognised media format".into(),
        ff::Error::StreamNotFound => "stream not found".into(),
        ff::Error::Other { errno } if errno == libc_enoent() => "no such file".into(),
        ff::Error::Other { errno } if errno == libc_eacces() => "permission denied".into(),
        other => other.to_string(),
    }
}

fn libc_enoent() -> i32 {
    2
}
fn libc_eacces() -> i32 {
    13
}

fn cannot_read(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        "cannot read: permission denied (give your user read access to the file and its folders)"
            .into()
    } else {
        format!("cannot read: {e}")
    }
}

/// Open an input file with an error that names it and the cause.
pub(crate) fn open_input(path: &Path) -> Result<ff::format::context::Input> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::input(path, "no such file"));
        }
        Err(e) => return Err(Error::input(path, cannot_read(&e))),
        Ok(m) if m.is_dir() => {
            return Err(Error::input(path, "is a directory, not a video file"));
        }
        Ok(m) if m.len() == 0 => return Err(Error::input(path, "file is empty")),
        Ok(_) => {}
    }
    if let Err(e) = std::fs::File::open(path) {
        return Err(Error::input(path, cannot_read(&e)));
    }
    ff::format::input(&path)
        .map_err(|e| Error::input(path, format!("cannot open: {}", describe(e))))
}

/// Colour description of a video stream, kept as FFmpeg's own tags so the
/// output carries exactly what came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColorTags {
    pub range: ff::color::Range,
    pub matrix: ff::color::Space,
    pub primaries: ff::color::Primaries,
    pub transfer: ff::color::TransferCharacteristic,
    /// Chroma sample location (H.273), used when chroma is resampled.
    pub chroma_location: ff::chroma::Location,
}

impl ColorTags {
    pub fn is_full_range(&self) -> bool {
        self.range == ff::color::Range::JPEG
    }

    /// The matrix to use: the tagged one, else BT.709 for HD and BT.601
    /// for SD (height < 720), as players do for untagged video. BT.2020
    /// constant luminance is taken as its non-constant form.
    pub fn effective_matrix(&self, height: usize) -> crate::color::Matrix {
        use crate::color::Matrix;
        use ff::color::Space;
        match self.matrix {
            Space::RGB => Matrix::Gbr,
            Space::BT709 => Matrix::Bt709,
            Space::BT470BG | Space::SMPTE170M => Matrix::Bt601,
            Space::FCC => Matrix::Fcc,
            Space::SMPTE240M => Matrix::Smpte240m,
            Space::YCGCO => Matrix::Ycgco,
            Space::BT2020NCL | Space::BT2020CL => Matrix::Bt2020,
            _ => Self::default_matrix(height),
        }
    }

    /// A note when the tagged matrix is one we only approximate (BT.2020
    /// constant luminance, ICtCp, chroma-derived, SMPTE ST 2085).
    pub fn matrix_note(&self, height: usize) -> Option<String> {
        use ff::color::Space;
        match self.matrix {
            Space::BT2020CL
            | Space::SMPTE2085
            | Space::ChromaDerivedNCL
            | Space::ChromaDerivedCL
            | Space::ICTCP => Some(format!(
                "colour matrix {} is not supported; converted as {} (colours may shift slightly)",
                space_name(self.matrix).unwrap_or("unknown"),
                self.effective_matrix(height).name()
            )),
            _ => None,
        }
    }

    /// The matrix untagged video of this height is taken to have.
    pub fn default_matrix(height: usize) -> crate::color::Matrix {
        if height >= 720 {
            crate::color::Matrix::Bt709
        } else {
            crate::color::Matrix::Bt601
        }
    }

    /// The tag for a matrix (when the output's differs from the input's).
    pub fn space_of(m: crate::color::Matrix) -> ff::color::Space {
        use crate::color::Matrix;
        use ff::color::Space;
        match m {
            Matrix::Bt601 => Space::SMPTE170M,
            Matrix::Bt709 => Space::BT709,
            Matrix::Bt2020 => Space::BT2020NCL,
            Matrix::Smpte240m => Space::SMPTE240M,
            Matrix::Fcc => Space::FCC,
            Matrix::Ycgco => Space::YCGCO,
            Matrix::Gbr => Space::RGB,
        }
    }

    /// Where chroma sits, for conversion (untagged: centre, see
    /// [`crate::color::Siting`]).
    pub fn siting(&self) -> crate::color::Siting {
        use crate::color::{Site, Siting};
        use ff::chroma::Location as L;
        let (h, v) = match self.chroma_location {
            L::Left => (Site::Start, Site::Centre),
            L::TopLeft => (Site::Start, Site::Start),
            L::Top => (Site::Centre, Site::Start),
            L::BottomLeft => (Site::Start, Site::End),
            L::Bottom => (Site::Centre, Site::End),
            L::Center | L::Unspecified => (Site::Centre, Site::Centre),
        };
        Siting { h, v }
    }

    pub fn is_hdr(&self) -> bool {
        use ff::color::TransferCharacteristic as T;
        matches!(self.transfer, T::SMPTE2084 | T::ARIB_STD_B67)
    }
}

/// Write [`ColorTags`] into the five colour fields FFmpeg keeps on both a
/// codec context and a frame (only the chroma-location field's name
/// differs between the two).
macro_rules! write_color_fields {
    ($raw:expr, $chroma_location:ident, $tags:expr) => {{
        let raw = $raw;
        let tags: &ColorTags = $tags;
        raw.color_range = tags.range.into();
        raw.colorspace = tags.matrix.into();
        raw.color_primaries = tags.primaries.into();
        raw.color_trc = tags.transfer.into();
        raw.$chroma_location = tags.chroma_location.into();
    }};
}

impl ColorTags {
    /// Tag an encoder (the stream's tags) before it is opened.
    pub(crate) fn tag_encoder(&self, ctx: &mut ff::encoder::video::Video) {
        // SAFETY: `ctx` is an allocated codec context borrowed mutably;
        // these are plain enum fields (ffmpeg-next has no setter for the
        // chroma location).
        write_color_fields!(
            unsafe { &mut *ctx.as_mut_ptr() },
            chroma_sample_location,
            self
        );
    }

    /// Tag a frame for the encoder (what it passes on per frame).
    pub(crate) fn tag_frame(&self, frame: &mut ff::frame::Video) {
        // SAFETY: `frame` is an allocated frame borrowed mutably; these are
        // plain enum fields (ffmpeg-next has no setter for the chroma
        // location).
        write_color_fields!(unsafe { &mut *frame.as_mut_ptr() }, chroma_location, self);
    }
}

/// Chroma sample location as `ffprobe` prints it.
pub(crate) fn location_name(l: ff::chroma::Location) -> &'static str {
    use ff::chroma::Location as L;
    match l {
        L::Unspecified => "unspecified",
        L::Left => "left",
        L::Center => "center",
        L::TopLeft => "topleft",
        L::Top => "top",
        L::BottomLeft => "bottomleft",
        L::Bottom => "bottom",
    }
}

/// Lower-case names for colour tags, as `ffprobe` prints them.
pub(crate) fn range_name(r: ff::color::Range) -> &'static str {
    match r {
        ff::color::Range::MPEG => "tv",
        ff::color::Range::JPEG => "pc",
        _ => "unknown",
    }
}

pub(crate) fn tag_name<T: Copy>(value: T, f: impl Fn(T) -> Option<&'static str>) -> String {
    f(value).unwrap_or("unknown").to_string()
}

pub(crate) fn space_name(s: ff::color::Space) -> Option<&'static str> {
    s.name()
}
pub(crate) fn primaries_name(p: ff::color::Primaries) -> Option<&'static str> {
    p.name()
}
pub(crate) fn transfer_name(t: ff::color::TransferCharacteristic) -> Option<&'static str> {
    t.name()
}

/// Seconds of a timestamp in a time base.
pub fn ts_seconds(ts: i64, tb: Rational) -> f64 {
    if tb.denominator() == 0 {
        return 0.0;
    }
    ts as f64 * tb.numerator() as f64 / tb.denominator() as f64
}

/// A timestamp in seconds expressed in a time base (rounded to nearest).
pub fn seconds_ts(seconds: f64, tb: Rational) -> i64 {
    if tb.numerator() == 0 {
        return 0;
    }
    (seconds * tb.denominator() as f64 / tb.numerator() as f64).round() as i64
}

/// Rescale a timestamp between time bases with exact integer rounding.
pub fn rescale(ts: i64, from: Rational, to: Rational) -> i64 {
    use ff::Rescale;
    ts.rescale(from, to)
}
