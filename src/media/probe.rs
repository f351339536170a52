//! `ainimotion info`: what is in a media file.

use std::path::{Path, PathBuf};

use ff::format::stream::Disposition;
use ffmpeg_next as ff;
use serde::Serialize;

use super::decode::{VideoDecoder, VideoFormat};
use super::stream::{rate_value, ContainerFacts, StreamFacts};
use super::{
    location_name, open_input, primaries_name, range_name, space_name, tag_name, transfer_name,
    ts_seconds,
};
use crate::error::{Error, Result};
use crate::picture::Family;
use crate::rational::gcd;

/// Everything `info` reports. Field names are the stable JSON keys.
#[derive(Clone, Debug, Serialize)]
pub struct MediaInfo {
    pub path: PathBuf,
    pub container: String,
    pub duration_s: Option<f64>,
    pub start_s: f64,
    pub bit_rate: Option<i64>,
    pub chapters: u32,
    pub streams: Vec<StreamInfo>,
    pub video: Option<VideoInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StreamInfo {
    pub index: usize,
    #[serde(rename = "type")]
    pub kind: String,
    pub codec: String,
    pub language: Option<String>,
    pub title: Option<String>,
    pub disposition: Vec<String>,
    /// Audio only.
    pub channels: Option<u16>,
    pub sample_rate: Option<u32>,
    /// Attachments only.
    pub filename: Option<String>,
    pub mimetype: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct VideoInfo {
    pub stream_index: usize,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    pub sample_aspect_ratio: String,
    pub display_aspect_ratio: String,
    /// Degrees, as FFmpeg's display matrix states (counter-clockwise).
    pub rotation: f64,
    pub pix_fmt: String,
    pub bit_depth: u8,
    pub chroma: String,
    pub color_range: String,
    pub color_matrix: String,
    pub color_primaries: String,
    pub color_transfer: String,
    /// Chroma sample location as FFmpeg names it ("left", "center",
    /// "topleft", ...; "unspecified" when untagged).
    pub chroma_location: String,
    pub hdr: bool,
    /// Average frame rate (container).
    pub fps: f64,
    /// Real base frame rate (container's r_frame_rate).
    pub r_fps: f64,
    /// Variable frame rate, judged from actual pts deltas of a sample.
    pub vfr: bool,
    pub frame_duration_min_s: Option<f64>,
    pub frame_duration_max_s: Option<f64>,
    pub frame_count: Option<u64>,
    /// "container", "counted" (decoded with --count) or "estimated" (duration × fps).
    pub frame_count_source: String,
    /// The stream's flags say interlaced (see `fields` for what the pictures say).
    pub interlaced: bool,
    /// What the pictures are (telecined, interlaced, progressive), judged
    /// from combing and field matching, and what `enhance --fields auto` does.
    pub fields: Option<crate::fields::Decision>,
    /// `fields` in words.
    pub fields_found: Option<String>,
    /// Whether the first frame decoded; when not, why.
    pub decodable: bool,
    pub decode_error: Option<String>,
    /// Counted decode only: frames decoded and corrupt packets skipped.
    pub corrupt_packets: Option<u64>,
}

fn disposition_names(d: Disposition) -> Vec<String> {
    let all = [
        (Disposition::DEFAULT, "default"),
        (Disposition::DUB, "dub"),
        (Disposition::ORIGINAL, "original"),
        (Disposition::COMMENT, "comment"),
        (Disposition::LYRICS, "lyrics"),
        (Disposition::KARAOKE, "karaoke"),
        (Disposition::FORCED, "forced"),
        (Disposition::HEARING_IMPAIRED, "hearing_impaired"),
        (Disposition::VISUAL_IMPAIRED, "visual_impaired"),
        (Disposition::CLEAN_EFFECTS, "clean_effects"),
        (Disposition::ATTACHED_PIC, "attached_pic"),
        (Disposition::CAPTIONS, "captions"),
        (Disposition::DESCRIPTIONS, "descriptions"),
        (Disposition::METADATA, "metadata"),
    ];
    all.iter()
        .filter(|(f, _)| d.contains(*f))
        .map(|(_, n)| n.to_string())
        .collect()
}

/// A rate as `info` shows it: 0 when unknown.
fn rate(r: ff::Rational) -> f64 {
    rate_value(r).unwrap_or(0.0)
}

fn ratio_string(r: ff::Rational) -> String {
    if r.numerator() > 0 && r.denominator() > 0 {
        format!("{}:{}", r.numerator(), r.denominator())
    } else {
        "1:1".into()
    }
}

/// Rotation in degrees from a display-matrix side-data blob (FFmpeg's
/// convention: the negated angle of the matrix's first column).
fn rotation_from_matrix(data: &[u8]) -> Option<f64> {
    if data.len() < 36 {
        return None;
    }
    let m = |i: usize| {
        i32::from_le_bytes([
            data[4 * i],
            data[4 * i + 1],
            data[4 * i + 2],
            data[4 * i + 3],
        ]) as f64
    };
    let (a, b) = (m(0), m(1));
    if a == 0.0 && b == 0.0 {
        return None;
    }
    let deg = -b.atan2(a).to_degrees();
    Some(if deg.abs() < 1e-9 { 0.0 } else { deg })
}

/// Pts deltas of the first `limit` video packets (sorted pts), in seconds.
fn sample_durations(path: &Path, stream_index: usize, limit: usize) -> Vec<f64> {
    let Ok(mut ictx) = open_input(path) else {
        return Vec::new();
    };
    let tb = match ictx.stream(stream_index) {
        Some(s) => s.time_base(),
        None => return Vec::new(),
    };
    let mut pts = Vec::new();
    let mut reads = 0usize;
    while pts.len() < limit && reads < limit * 50 {
        reads += 1;
        // A new packet per read: av_read_frame does not release the old one.
        let mut packet = ff::Packet::empty();
        match packet.read(&mut ictx) {
            Ok(()) => {
                if packet.stream() == stream_index {
                    if let Some(p) = packet.pts() {
                        pts.push(p);
                    }
                }
            }
            Err(ff::Error::Eof) => break,
            Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => continue,
            Err(_) => break,
        }
    }
    pts.sort_unstable();
    pts.dedup();
    pts.windows(2)
        .map(|w| ts_seconds(w[1] - w[0], tb))
        .collect()
}

/// Judge VFR from frame durations: rounding jitter of a tick or 10% is
/// constant rate; anything wider is variable.
pub fn is_vfr(durations: &[f64], tick_s: f64) -> bool {
    if durations.len() < 3 {
        return false;
    }
    let mut sorted = durations.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    let (min, max) = (sorted[0], sorted[sorted.len() - 1]);
    max - min > (2.0 * tick_s).max(0.1 * median)
}

/// Probe a file. With `count`, decode every frame to count them exactly.
pub fn probe(path: &Path, count: bool) -> Result<MediaInfo> {
    let ictx = open_input(path)?;
    let container = ContainerFacts::read(&ictx);
    let facts: Vec<StreamFacts> = ictx.streams().map(|s| StreamFacts::read(&s)).collect();
    let video = ictx.streams().best(ff::media::Type::Video).and_then(|vs| {
        let stream = facts.get(vs.index())?;
        Some(video_info(path, &vs, stream, count, container.duration_s))
    });
    Ok(MediaInfo {
        path: path.to_path_buf(),
        container: container.format_name,
        duration_s: container.duration_s,
        start_s: container.start_s,
        bit_rate: container.bit_rate,
        chapters: container.chapters,
        streams: facts.iter().map(StreamInfo::from_facts).collect(),
        video,
    })
}

impl StreamInfo {
    fn from_facts(f: &StreamFacts) -> StreamInfo {
        StreamInfo {
            index: f.index,
            kind: f.kind().into(),
            codec: f.codec.clone(),
            language: f.language.clone(),
            title: f.title.clone(),
            disposition: disposition_names(f.disposition),
            channels: f.channels,
            sample_rate: f.sample_rate,
            filename: f.filename.clone(),
            mimetype: f.mimetype.clone(),
        }
    }
}

/// The video stream: what the container says, then what the decoder finds
/// (and counts, with `count`), then the estimates that fill the gaps.
fn video_info(
    path: &Path,
    vs: &ff::format::stream::Stream,
    stream: &StreamFacts,
    count: bool,
    container_duration_s: Option<f64>,
) -> VideoInfo {
    let coded = CodedVideo::read(vs);
    let durations = sample_durations(path, stream.index, 240);
    let mut info = VideoInfo::from_container(stream, &coded, &durations);
    match VideoDecoder::open(path, None, crate::fields::FieldsMode::Progressive) {
        Ok(mut dec) => {
            info.describe_decoded(dec.format());
            if let Ok(d) = crate::media::fields::decide(
                path,
                None,
                crate::fields::FieldsMode::Auto,
                info.interlaced || dec.format().interlaced,
            ) {
                info.fields_found = Some(d.describe_found(info.r_fps));
                info.fields = Some(d);
            }
            if count {
                info.count_frames(&mut dec);
            }
        }
        Err(e) => {
            info.decode_error = Some(match e {
                Error::Unsupported { reason, .. } | Error::Input { reason, .. } => reason,
                other => other.to_string(),
            });
        }
    }
    if info.frame_count.is_none() {
        info.estimate_frame_count(stream.duration_s().or(container_duration_s));
    }
    info.display_aspect_ratio = display_aspect_ratio(info.width, info.height, coded.sar);
    info
}

/// What the codec parameters say about the video before any decoding.
struct CodedVideo {
    width: u32,
    height: u32,
    /// The parameters name a pixel format.
    has_format: bool,
    /// The field order is neither progressive nor unknown.
    interlaced: bool,
    /// Degrees, from the display matrix (0 without one).
    rotation: f64,
    sar: ff::Rational,
}

impl CodedVideo {
    fn read(vs: &ff::format::stream::Stream) -> CodedVideo {
        // SAFETY: codecpar of a stream of an open input is valid.
        let (width, height, raw_fmt, field_order) = unsafe {
            let p = vs.parameters().as_ptr();
            (
                (*p).width as u32,
                (*p).height as u32,
                (*p).format,
                (*p).field_order,
            )
        };
        CodedVideo {
            width,
            height,
            has_format: raw_fmt >= 0,
            interlaced: !matches!(
                field_order,
                ff::ffi::AVFieldOrder::AV_FIELD_PROGRESSIVE
                    | ff::ffi::AVFieldOrder::AV_FIELD_UNKNOWN
            ),
            rotation: vs
                .side_data()
                .find(|sd| sd.kind() == ff::codec::packet::side_data::Type::DisplayMatrix)
                .and_then(|sd| rotation_from_matrix(sd.data()))
                .unwrap_or(0.0),
            sar: stream_sar(vs),
        }
    }
}

/// The stream's sample aspect ratio: the container's, else the codec
/// parameters'.
fn stream_sar(vs: &ff::format::stream::Stream) -> ff::Rational {
    // SAFETY: the stream and its codecpar are valid while the input is open;
    // both ratios are plain fields.
    unsafe {
        let r = (*vs.parameters().as_ptr()).sample_aspect_ratio;
        let sr = (*vs.as_ptr()).sample_aspect_ratio;
        if sr.num > 0 {
            ff::Rational::new(sr.num, sr.den)
        } else {
            ff::Rational::new(r.num, r.den)
        }
    }
}

/// Display aspect ratio of a `width` x `height` picture with `sar`, in
/// lowest terms.
fn display_aspect_ratio(width: u32, height: u32, sar: ff::Rational) -> String {
    let (sn, sd) = if sar.numerator() > 0 && sar.denominator() > 0 {
        (sar.numerator() as u64, sar.denominator() as u64)
    } else {
        (1, 1)
    };
    let (dn, dd) = (width as u64 * sn, height as u64 * sd);
    let g = gcd(dn, dd);
    format!("{}:{}", dn / g, dd.max(1) / g)
}

impl VideoInfo {
    /// What the container states; the decoded fields (colour, chroma) stay
    /// empty until [`VideoInfo::describe_decoded`].
    fn from_container(stream: &StreamFacts, coded: &CodedVideo, durations: &[f64]) -> VideoInfo {
        VideoInfo {
            stream_index: stream.index,
            codec: stream.codec.clone(),
            width: coded.width,
            height: coded.height,
            sample_aspect_ratio: ratio_string(coded.sar),
            display_aspect_ratio: String::new(),
            rotation: coded.rotation,
            pix_fmt: if coded.has_format { "unknown" } else { "none" }.into(),
            bit_depth: 8,
            chroma: String::new(),
            color_range: String::new(),
            color_matrix: String::new(),
            color_primaries: String::new(),
            color_transfer: String::new(),
            chroma_location: String::new(),
            hdr: false,
            fps: rate(stream.avg_frame_rate),
            r_fps: rate(stream.base_rate),
            vfr: is_vfr(durations, ts_seconds(1, stream.time_base)),
            frame_duration_min_s: durations.iter().cloned().reduce(f64::min),
            frame_duration_max_s: durations.iter().cloned().reduce(f64::max),
            frame_count: (stream.frames > 0).then_some(stream.frames as u64),
            frame_count_source: "container".into(),
            interlaced: coded.interlaced,
            fields: None,
            fields_found: None,
            decodable: false,
            decode_error: None,
            corrupt_packets: None,
        }
    }

    /// Fill in what the first decoded frame shows.
    fn describe_decoded(&mut self, f: &VideoFormat) {
        self.decodable = true;
        self.width = f.width as u32;
        self.height = f.height as u32;
        self.bit_depth = f.depth;
        self.chroma = match f.family {
            Family::Yuv => f.chroma.name().into(),
            Family::Rgb => "RGB 4:4:4".into(),
            Family::Gray => "grey".into(),
        };
        self.pix_fmt = f.pix_fmt.clone();
        self.color_range = range_name(f.colors.range).into();
        self.color_matrix = tag_name(f.colors.matrix, space_name);
        self.color_primaries = tag_name(f.colors.primaries, primaries_name);
        self.color_transfer = tag_name(f.colors.transfer, transfer_name);
        self.chroma_location = location_name(f.colors.chroma_location).into();
        self.hdr = f.colors.is_hdr();
        self.interlaced |= f.interlaced;
        self.sample_aspect_ratio = ratio_string(f.sample_aspect_ratio);
    }

    /// Decode to the end and count (`--count`); a decode error stops the
    /// count and is reported.
    fn count_frames(&mut self, dec: &mut VideoDecoder) {
        let mut n = 0u64;
        loop {
            match dec.next_frame() {
                Ok(Some(_)) => n += 1,
                Ok(None) => break,
                Err(e) => {
                    self.decode_error = Some(e.to_string());
                    break;
                }
            }
        }
        self.frame_count = Some(n);
        self.frame_count_source = "counted".into();
        self.corrupt_packets = Some(dec.stats.corrupt_packets);
    }

    /// Duration x frame rate, when the container states no count.
    fn estimate_frame_count(&mut self, duration_s: Option<f64>) {
        let fps = if self.fps > 0.0 { self.fps } else { self.r_fps };
        if let Some(d) = duration_s.filter(|_| fps > 0.0) {
            self.frame_count = Some((d * fps).round() as u64);
            self.frame_count_source = "estimated".into();
        }
    }
}

/// Human-readable `info` text.
pub fn render_text(info: &MediaInfo) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "{}", info.path.display());
    let _ = writeln!(
        s,
        "  container: {}, duration {}, {} stream(s){}",
        info.container,
        info.duration_s
            .map(crate::clip::format_time)
            .unwrap_or_else(|| "unknown".into()),
        info.streams.len(),
        if info.chapters > 0 {
            format!(", {} chapter(s)", info.chapters)
        } else {
            String::new()
        }
    );
    if let Some(v) = &info.video {
        render_video(&mut s, v);
    }
    for st in &info.streams {
        render_stream(&mut s, st);
    }
    s
}

/// The video lines of the `info` text.
fn render_video(s: &mut String, v: &VideoInfo) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "  video #{}: {} {}x{} (SAR {}, DAR {}){}",
        v.stream_index,
        v.codec,
        v.width,
        v.height,
        v.sample_aspect_ratio,
        v.display_aspect_ratio,
        if v.rotation != 0.0 {
            format!(", rotation {:.0}°", v.rotation)
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        s,
        "    {} {}-bit {}, range {}, matrix {}, primaries {}, transfer {}{}{}",
        v.pix_fmt,
        v.bit_depth,
        v.chroma,
        v.color_range,
        v.color_matrix,
        v.color_primaries,
        v.color_transfer,
        match v.chroma_location.as_str() {
            "" | "unspecified" => String::new(),
            at => format!(", chroma at {at}"),
        },
        if v.hdr { " (HDR)" } else { "" }
    );
    let _ = writeln!(
        s,
        "    {:.3} fps average, {:.3} fps base, {}{}, {} frames ({})",
        v.fps,
        v.r_fps,
        if v.vfr {
            "variable frame rate"
        } else {
            "constant frame rate"
        },
        if v.interlaced { ", interlaced" } else { "" },
        v.frame_count
            .map(|n| n.to_string())
            .unwrap_or_else(|| "unknown".into()),
        v.frame_count_source
    );
    if let Some(f) = &v.fields_found {
        let _ = writeln!(s, "    fields: {f}");
    }
    if let Some(e) = &v.decode_error {
        let _ = writeln!(s, "    cannot decode: {e}");
    }
}

/// One stream's line of the `info` text.
fn render_stream(s: &mut String, st: &StreamInfo) {
    use std::fmt::Write;
    let mut extra = Vec::new();
    if let Some(l) = &st.language {
        extra.push(format!("lang {l}"));
    }
    if let Some(t) = &st.title {
        extra.push(format!("\"{t}\""));
    }
    if let (Some(c), Some(r)) = (st.channels, st.sample_rate) {
        extra.push(format!("{c} ch, {r} Hz"));
    }
    if let Some(f) = &st.filename {
        extra.push(f.clone());
    }
    if !st.disposition.is_empty() {
        extra.push(format!("[{}]", st.disposition.join(",")));
    }
    let _ = writeln!(
        s,
        "  #{} {} {} {}",
        st.index,
        st.kind,
        st.codec,
        extra.join(" ")
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vfr_judgement() {
        let tick = 0.001;
        assert!(!is_vfr(&[0.041, 0.042, 0.042, 0.041, 0.042], tick));
        assert!(is_vfr(&[0.0417, 0.0834, 0.0417, 0.0834], 1.0 / 24000.0));
        assert!(!is_vfr(&[0.04; 10], 1.0 / 90000.0));
    }

    #[test]
    fn rotation_matrix() {
        // 90° display matrix as FFmpeg writes it: [0, 1, 0; -1, 0, 0; 0, 0, 1] in 16.16.
        let vals: [i32; 9] = [0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30];
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(rotation_from_matrix(&bytes), Some(-90.0));
    }
}
