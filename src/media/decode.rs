//! Demux + decode of the main video stream into [`Frame`]s.
//!
//! The decoder is opened and the first frame decoded in [`VideoDecoder::open`],
//! so a file that cannot be decoded fails before any work starts, and the
//! pipeline's format is the one the decoder really produces
//! (`VideoFormat::from_first_frame`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ff::format::Pixel;
use ffmpeg_next as ff;

use super::fields::{FieldStep, FieldsStats};
use super::pixels::{classify, frame_to_picture, pixel_for, pixel_name, Layout};
use super::stream::{fps_or_fallback, rate_value, ContainerFacts, StreamFacts, FALLBACK_RATE};
use super::{describe, open_input, seconds_ts, ts_seconds, ColorTags, Rational};
use crate::clip::ClipRange;
use crate::color::{Colorimetry, Matrix};
use crate::error::{Error, Result};
use crate::fields::{Apply, Decision, FieldsMode};
use crate::picture::{Chroma, Family, Frame, Picture};

/// What the decoder produces, fixed at open time.
#[derive(Clone, Debug)]
pub struct VideoFormat {
    pub width: usize,
    pub height: usize,
    /// What the planes hold: YUV, RGB (planes G, B, R) or grey.
    pub family: Family,
    pub chroma: Chroma,
    pub depth: u8,
    pub colors: ColorTags,
    /// The pixel format the decoder produces (FFmpeg's name).
    pub pix_fmt: String,
    /// The decoded format has alpha, which the pipeline drops.
    pub alpha: bool,
    /// Time base of frame pts.
    pub time_base: Rational,
    /// Average frame rate as the container states it (may be 0/0).
    pub frame_rate: Rational,
    /// Base frame rate (r_frame_rate): the rate of the underlying material,
    /// also for VFR files whose average is lower (may be 0/0).
    pub base_rate: Rational,
    pub sample_aspect_ratio: Rational,
    pub codec: String,
    pub interlaced: bool,
    /// Input stream index of the video stream.
    pub stream_index: usize,
    /// Origin of output time in seconds of the input timeline: output pts
    /// are input pts minus this (0 without `--clip`).
    pub origin_s: f64,
    /// Expected number of frames (from the container, clip-limited), if known.
    pub expected_frames: Option<u64>,
    /// Expected duration in seconds (container or clip), if known.
    pub expected_duration_s: Option<f64>,
    /// The container's start time (seconds of the input's timeline).
    pub container_start_s: f64,
}

impl VideoFormat {
    /// The format of the stream as its first decoded frame shows it: size,
    /// layout and colour from the frame (the decoder's tags where the frame
    /// has none), timing from the stream and the clip window.
    fn from_first_frame(
        first: &ff::frame::Video,
        layout: &Layout,
        decoder: &ff::decoder::Video,
        stream: &StreamFacts,
        window: &ClipWindow,
    ) -> VideoFormat {
        VideoFormat {
            width: first.width() as usize,
            height: first.height() as usize,
            family: layout.family,
            chroma: layout.chroma,
            depth: layout.depth,
            colors: first_frame_colors(first, decoder, layout),
            pix_fmt: pixel_name(first.format()),
            alpha: layout.alpha,
            time_base: stream.time_base,
            frame_rate: stream.avg_frame_rate,
            base_rate: stream.base_rate,
            sample_aspect_ratio: first_frame_sar(first, decoder),
            codec: stream.codec.clone(),
            interlaced: first.is_interlaced(),
            stream_index: stream.index,
            origin_s: window.origin_s,
            expected_frames: window.expected_frames,
            expected_duration_s: window.expected_duration_s,
            container_start_s: window.container_start_s,
        }
    }

    /// How this stream's samples map to RGB: planes G, B, R as they are for
    /// RGB video, else the tagged matrix (or the size rule) and range.
    pub fn colorimetry(&self) -> Colorimetry {
        Colorimetry {
            matrix: match self.family {
                Family::Rgb => Matrix::Gbr,
                _ => self.colors.effective_matrix(self.height),
            },
            full_range: self.colors.is_full_range(),
            siting: self.colors.siting(),
        }
    }

    /// The rate multiples (`--fps 2x`) apply to: the base rate, else the
    /// average, else 24000/1001.
    pub fn nominal_rate(&self) -> (u32, u32) {
        for r in [self.base_rate, self.frame_rate] {
            if rate_value(r).is_some_and(|fps| fps <= 480.0) {
                return (r.numerator() as u32, r.denominator() as u32);
            }
        }
        FALLBACK_RATE
    }

    /// What fields processing changes: film has 4 frames where the video
    /// had 5; the output is progressive.
    fn apply_fields(&mut self, decision: &Decision) {
        match decision.apply {
            Apply::Nothing => {}
            Apply::Film { .. } => {
                let film = |r: Rational| {
                    if r.numerator() > 0 && r.denominator() > 0 {
                        Rational::new(r.numerator() * 4, r.denominator() * 5).reduce()
                    } else {
                        r
                    }
                };
                self.frame_rate = film(self.frame_rate);
                self.base_rate = film(self.base_rate);
                self.expected_frames = self.expected_frames.map(|n| (n * 4).div_ceil(5));
                self.interlaced = false;
            }
            Apply::Deinterlace { .. } => self.interlaced = false,
        }
    }

    /// Nominal frame rate as f64: average rate, else 24000/1001.
    pub fn fps(&self) -> f64 {
        fps_or_fallback(self.frame_rate)
    }
}

/// The first frame's layout, or why the pipeline cannot take it.
fn first_frame_layout(first: &ff::frame::Video, path: &Path) -> Result<Layout> {
    if first.width() == 0 || first.height() == 0 {
        return Err(Error::unsupported(path, "video has zero width or height"));
    }
    classify(first.format()).map_err(|why| {
        Error::unsupported(
            path,
            format!("{why} (convert it first, e.g. ffmpeg -i IN -pix_fmt gbrp16le OUT.mkv for RGB, yuv444p16le for YUV)"),
        )
    })
}

/// The frame's tag, else the decoder's.
fn frame_or_decoder<T: PartialEq>(frame: T, decoder: T, unspecified: T) -> T {
    if frame == unspecified {
        decoder
    } else {
        frame
    }
}

/// Colour tags of the first frame, the decoder's where the frame has none.
/// `yuvj` formats are full range; so are RGB and grey without a range tag
/// (PNG, GIF, raw RGB); RGB is RGB whatever the matrix tag says.
fn first_frame_colors(
    first: &ff::frame::Video,
    decoder: &ff::decoder::Video,
    layout: &Layout,
) -> ColorTags {
    use ff::color::{Primaries, Range, Space, TransferCharacteristic};
    let mut range = first.color_range();
    if layout.full_range || (range == Range::Unspecified && decoder.color_range() == Range::JPEG) {
        range = Range::JPEG;
    } else if range == Range::Unspecified {
        range = decoder.color_range();
    }
    if range == Range::Unspecified && layout.family != Family::Yuv {
        range = Range::JPEG;
    }
    let matrix = frame_or_decoder(
        first.color_space(),
        decoder.color_space(),
        Space::Unspecified,
    );
    ColorTags {
        range,
        matrix: if layout.family == Family::Rgb {
            Space::RGB
        } else {
            matrix
        },
        primaries: frame_or_decoder(
            first.color_primaries(),
            decoder.color_primaries(),
            Primaries::Unspecified,
        ),
        transfer: frame_or_decoder(
            first.color_transfer_characteristic(),
            decoder.color_transfer_characteristic(),
            TransferCharacteristic::Unspecified,
        ),
        chroma_location: frame_or_decoder(
            first.chroma_location(),
            decoder.chroma_location(),
            ff::chroma::Location::Unspecified,
        ),
    }
}

/// Sample aspect ratio of the first frame, else the decoder's, else 1:1.
fn first_frame_sar(first: &ff::frame::Video, decoder: &ff::decoder::Video) -> Rational {
    let valid = |r: Rational| r.numerator() > 0 && r.denominator() > 0;
    [first.aspect_ratio(), decoder.aspect_ratio()]
        .into_iter()
        .find(|&r| valid(r))
        .unwrap_or(Rational::new(1, 1))
}

/// Where decoding starts and stops on the stream's timeline, and how much
/// of the video the container says lies in between.
pub(super) struct ClipWindow {
    /// First and end-exclusive pts (stream time base) of the clip.
    start_ts: Option<i64>,
    end_ts: Option<i64>,
    /// Input-timeline seconds that become output time 0.
    origin_s: f64,
    /// Container time (`AV_TIME_BASE`) to seek to before decoding.
    seek_to: Option<i64>,
    /// One nominal frame in stream ticks (at least 1).
    nominal_duration: i64,
    expected_frames: Option<u64>,
    pub(super) expected_duration_s: Option<f64>,
    container_start_s: f64,
}

impl ClipWindow {
    /// The window of `clip` (the whole stream without one). A clip that
    /// starts after the end of the file is a setting error.
    fn new(
        path: &Path,
        clip: Option<ClipRange>,
        container: &ContainerFacts,
        stream: &StreamFacts,
    ) -> Result<ClipWindow> {
        let container_start_s = container.start_s;
        let known_duration_s = container.duration_s.or_else(|| stream.duration_s());
        if let Some(c) = clip {
            check_clip_start(path, c, known_duration_s)?;
        }
        let tb = stream.time_base;
        let fps = stream.fps();
        let abs_start = clip.map(|c| container_start_s + c.start);
        let expected_duration_s = expected_duration_s(clip, known_duration_s);
        Ok(ClipWindow {
            start_ts: abs_start.map(|s| seconds_ts(s, tb)),
            end_ts: clip
                .and_then(|c| c.end)
                .map(|e| seconds_ts(container_start_s + e, tb)),
            origin_s: abs_start.unwrap_or(0.0),
            // Seek to the keyframe at or before START (only when it is past
            // the beginning).
            seek_to: abs_start
                .filter(|_| clip.is_some_and(|c| c.start > 0.0))
                .map(|s| (s * ff::ffi::AV_TIME_BASE as f64) as i64),
            nominal_duration: seconds_ts(1.0 / fps, tb).max(1),
            expected_frames: if clip.is_some() || stream.frames <= 0 {
                expected_duration_s.map(|d| (d * fps).round().max(1.0) as u64)
            } else {
                Some(stream.frames as u64)
            },
            expected_duration_s,
            container_start_s,
        })
    }

    /// Output pts are input pts minus this.
    pub(super) fn origin_ts(&self) -> i64 {
        self.start_ts.unwrap_or(0)
    }

    /// Seek to the clip's start. On failure decoding starts at the
    /// beginning and frames before the clip are dropped (slower, still exact).
    fn seek(&self, ictx: &mut ff::format::context::Input) {
        if let Some(target) = self.seek_to {
            let _ = ictx.seek(target, ..target);
        }
    }
}

/// A clip must start inside the file (when its length is known).
fn check_clip_start(path: &Path, clip: ClipRange, known_duration_s: Option<f64>) -> Result<()> {
    match known_duration_s {
        Some(d) if clip.start >= d => Err(Error::Config(format!(
            "--clip starts at {} but {} is only {} long",
            crate::clip::format_time(clip.start),
            path.display(),
            crate::clip::format_time(d)
        ))),
        _ => Ok(()),
    }
}

/// Seconds of video the run should produce: the clip's length within the
/// file, else the file's.
fn expected_duration_s(clip: Option<ClipRange>, known_duration_s: Option<f64>) -> Option<f64> {
    match clip {
        Some(ClipRange {
            end: Some(e),
            start,
        }) => Some(known_duration_s.map_or(e - start, |d| e.min(d) - start)),
        Some(ClipRange { start, end: None }) => known_duration_s.map(|d| d - start),
        None => known_duration_s,
    }
}

/// A stretch of the clip to decode on its own (one chunk of a plan), on
/// the clip's timeline: pts as the pipeline sees them (clip start = 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodePart {
    /// Pts of the first frame to decode (earlier frames are dropped).
    pub first_pts: i64,
    /// Pts of the last frame to decode (`None`: to the clip's end).
    pub last_pts: Option<i64>,
    /// Index the first frame gets: its number in the whole clip.
    pub first_index: u64,
}

/// Counters about what the decoder had to repair or skip.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DecodeStats {
    pub frames: u64,
    /// End of the last decoded frame (its pts plus one nominal frame), in
    /// seconds of the input's own timeline (not re-based to the clip).
    pub last_end_s: f64,
    pub corrupt_packets: u64,
    pub pts_repaired: u64,
    pub resized_frames: u64,
    pub read_error: Option<String>,
    /// What the fields step found and did (`--fields`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<FieldsReport>,
}

/// The fields step in the report: the decision, what was done, in words
/// and in counts.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FieldsReport {
    pub found: String,
    pub applied: String,
    pub decision: Decision,
    #[serde(flatten)]
    pub counts: FieldsStats,
}

struct Scaler {
    ctx: ff::software::scaling::Context,
    key: (Pixel, u32, u32),
}
// SAFETY: an SwsContext is a plain heap object with no thread affinity; it is
// only ever used by the thread that owns the decoder.
unsafe impl Send for Scaler {}

/// The demuxer and decoder of one video stream, cut to the clip window:
/// raw frames with repaired pts, before any pixel format is known.
pub(super) struct Source {
    path: PathBuf,
    ictx: ff::format::context::Input,
    decoder: ff::decoder::Video,
    stream_index: usize,
    /// First and end-exclusive pts (stream time base) of the clip.
    start_ts: Option<i64>,
    end_ts: Option<i64>,
    nominal_duration: i64,
    last_pts: Option<i64>,
    /// Packets carry encryption side data (DRM): decoding yields garbage or nothing.
    encrypted: bool,
    flushing: bool,
    finished: bool,
}

fn eagain(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

/// Pick the best video stream and open its decoder.
fn open_video_stream(
    ictx: &ff::format::context::Input,
    path: &Path,
) -> Result<(StreamFacts, ff::decoder::Video)> {
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| Error::unsupported(path, "has no video stream"))?;
    let facts = StreamFacts::read(&stream);
    if !facts.has_valid_time_base() {
        return Err(Error::unsupported(
            path,
            "video stream has no valid time base",
        ));
    }
    let mut ctx = ff::codec::context::Context::from_parameters(stream.parameters())
        .map_err(|e| Error::unsupported(path, format!("video stream: {}", describe(e))))?;
    ctx.set_threading(ff::threading::Config {
        kind: ff::threading::Type::Frame,
        count: 0,
        safe: false,
    });
    let decoder = ctx.decoder().video().map_err(|e| {
        Error::unsupported(
            path,
            format!(
                "cannot decode video codec '{}': {} (install an FFmpeg with this decoder, or convert the file first)",
                facts.codec,
                describe(e)
            ),
        )
    })?;
    Ok((facts, decoder))
}

impl Source {
    /// Open `path`'s video stream and seek to the clip window (or to the
    /// part of it that `part` names).
    pub(super) fn open(
        path: &Path,
        clip: Option<ClipRange>,
        part: Option<DecodePart>,
    ) -> Result<(Source, StreamFacts, ClipWindow)> {
        let mut ictx = open_input(path)?;
        let container = ContainerFacts::read(&ictx);
        let (stream, decoder) = open_video_stream(&ictx, path)?;
        let window = ClipWindow::new(path, clip, &container, &stream)?;
        let (mut start_ts, mut end_ts) = (window.start_ts, window.end_ts);
        match part {
            Some(p) => {
                let origin = window.origin_ts();
                let first = origin.saturating_add(p.first_pts);
                start_ts = Some(first);
                if let Some(last) = p.last_pts {
                    let stop = origin.saturating_add(last).saturating_add(1);
                    end_ts = Some(end_ts.map_or(stop, |e| e.min(stop)));
                }
                // The keyframe at or before the part's first frame.
                let target =
                    (ts_seconds(first, stream.time_base) * ff::ffi::AV_TIME_BASE as f64) as i64;
                if first > origin || window.seek_to.is_some() {
                    let _ = ictx.seek(target, ..target);
                }
            }
            None => window.seek(&mut ictx),
        }
        let source = Source {
            path: path.to_path_buf(),
            ictx,
            decoder,
            stream_index: stream.index,
            start_ts,
            end_ts,
            nominal_duration: window.nominal_duration,
            last_pts: None,
            encrypted: false,
            flushing: false,
            finished: false,
        };
        Ok((source, stream, window))
    }

    /// Why not even one frame came out.
    fn no_frame_error(&self, stats: &DecodeStats, clip: Option<ClipRange>) -> Error {
        let path = &self.path;
        if self.encrypted {
            return Error::unsupported(
                path,
                "video is encrypted (DRM); it cannot be decoded without the key",
            );
        }
        let why = match (&stats.read_error, stats.corrupt_packets) {
            (Some(e), _) => format!(" (read error: {e})"),
            (None, n) if n > 0 => format!(" ({n} corrupt packet(s))"),
            _ => String::new(),
        };
        if clip.is_some() {
            Error::unsupported(
                path,
                format!("no decodable video frame in the --clip range{why}"),
            )
        } else {
            Error::unsupported(path, format!("no video frame could be decoded{why}"))
        }
    }

    /// Decode the next raw frame inside the clip range; `frame_no` names
    /// it in errors.
    pub(super) fn decode_raw(
        &mut self,
        stats: &mut DecodeStats,
        frame_no: u64,
    ) -> Result<Option<ff::frame::Video>> {
        if self.finished {
            return Ok(None);
        }
        let mut frame = ff::frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let pts = self.repair_pts(frame.timestamp(), stats);
                    if let Some(s) = self.start_ts {
                        if pts < s {
                            continue;
                        }
                    }
                    if let Some(e) = self.end_ts {
                        if pts >= e {
                            self.finished = true;
                            return Ok(None);
                        }
                    }
                    frame.set_pts(Some(pts));
                    return Ok(Some(frame));
                }
                Err(ff::Error::Eof) => {
                    self.finished = true;
                    return Ok(None);
                }
                Err(e) if eagain(&e) => {
                    if self.flushing {
                        self.finished = true;
                        return Ok(None);
                    }
                    self.feed(stats)?;
                }
                Err(ff::Error::InvalidData) => {
                    stats.corrupt_packets += 1;
                }
                Err(e) => {
                    return Err(Error::Decode {
                        path: self.path.clone(),
                        frame: frame_no,
                        reason: describe(e),
                    })
                }
            }
        }
    }

    /// Send the next packet of our stream (or EOF) to the decoder.
    fn feed(&mut self, stats: &mut DecodeStats) -> Result<()> {
        loop {
            // A new packet for every read: av_read_frame does not release
            // what the packet held, so reusing one leaked every packet
            // skipped here (audio, subtitles: 1.34 MB over 2 minutes of
            // AAC by heaptrack, +33 MiB peak over a 24-minute episode).
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.ictx) {
                Ok(()) => {
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    if !self.encrypted
                        && packet.side_data().any(|sd| {
                            matches!(
                                sd.kind(),
                                ff::codec::packet::side_data::Type::EncryptionInfo
                                    | ff::codec::packet::side_data::Type::EncryptionInitInfo
                            )
                        })
                    {
                        self.encrypted = true;
                    }
                    match self.decoder.send_packet(&packet) {
                        Ok(()) => return Ok(()),
                        Err(e) if eagain(&e) => return Ok(()),
                        Err(_) => {
                            // Corrupt packet: skip it, as players do.
                            stats.corrupt_packets += 1;
                            continue;
                        }
                    }
                }
                Err(ff::Error::Eof) => break,
                Err(e) if eagain(&e) => continue,
                Err(e) => {
                    stats.read_error = Some(describe(e));
                    break;
                }
            }
        }
        self.flushing = true;
        let _ = self.decoder.send_eof();
        Ok(())
    }

    /// Decode again from pts `start` (stream time base, absolute).
    pub(super) fn restart_at(&mut self, start: i64, tb: Rational) {
        let target = (ts_seconds(start, tb) * ff::ffi::AV_TIME_BASE as f64) as i64;
        let _ = self.ictx.seek(target, ..target);
        self.decoder.flush();
        self.start_ts = Some(start);
        self.last_pts = None;
        self.flushing = false;
        self.finished = false;
    }

    /// Give every frame a strictly increasing pts (stream time base).
    fn repair_pts(&mut self, pts: Option<i64>, stats: &mut DecodeStats) -> i64 {
        let pts = match (pts, self.last_pts) {
            (Some(p), Some(last)) if p <= last => {
                stats.pts_repaired += 1;
                last + 1
            }
            (Some(p), _) => p,
            (None, Some(last)) => {
                stats.pts_repaired += 1;
                last + self.nominal_duration
            }
            (None, None) => self.start_ts.unwrap_or(0),
        };
        self.last_pts = Some(pts);
        pts
    }
}

/// Frames decoded beyond each end of a chunk's part when fields are
/// processed: field matching looks one frame each way, a decimation cycle
/// is 5 frames; two cycles leave room.
pub const FIELD_MARGIN_FRAMES: u64 = 10;

/// One video frame in stream ticks, from the base rate (else the average,
/// else 23.976).
fn frame_ticks(stream: &StreamFacts) -> f64 {
    let tb = stream.time_base;
    let fps = [stream.base_rate, stream.avg_frame_rate]
        .into_iter()
        .find_map(|r| rate_value(r).filter(|f| *f <= 480.0))
        .unwrap_or(FALLBACK_RATE.0 as f64 / FALLBACK_RATE.1 as f64);
    let tick = tb.numerator() as f64 / tb.denominator().max(1) as f64;
    (1.0 / fps / tick.max(1e-12)).max(1.0)
}

/// Decoder for the best video stream of a file.
pub struct VideoDecoder {
    source: Source,
    format: VideoFormat,
    /// The first frame's pixel format and what it holds; frames in it are
    /// read exactly, others go through the scaler to the same layout.
    raw_format: Pixel,
    layout: Layout,
    scaler: Option<Scaler>,
    origin_ts: i64,
    next_index: u64,
    pending: Option<Frame>,
    /// Field matching / deinterlacing, when the decision asks for it.
    fields: Option<FieldStep>,
    decision: Decision,
    pub stats: DecodeStats,
}

impl VideoDecoder {
    /// Open `path`, pick its video stream, seek to the clip start and decode
    /// the first frame.
    pub fn open(path: &Path, clip: Option<ClipRange>, fields: FieldsMode) -> Result<VideoDecoder> {
        Self::open_part(path, clip, None, fields)
    }

    /// Like [`VideoDecoder::open`], decoding only `part` of the clip (a
    /// chunk of a plan): frames keep the clip's timeline and numbering.
    pub fn open_part(
        path: &Path,
        clip: Option<ClipRange>,
        part: Option<DecodePart>,
        fields: FieldsMode,
    ) -> Result<VideoDecoder> {
        let (mut source, stream, window) = Source::open(path, clip, part)?;
        let mut stats = DecodeStats::default();
        let raw_first = match source.decode_raw(&mut stats, 0)? {
            Some(f) => f,
            None => return Err(source.no_frame_error(&stats, clip)),
        };
        let layout = first_frame_layout(&raw_first, path)?;
        let decision = crate::media::fields::decide(path, clip, fields, raw_first.is_interlaced())?;
        let (first, field_step) = if decision.is_nothing() {
            (raw_first, None)
        } else {
            Self::start_fields(
                path,
                &mut source,
                &stream,
                &window,
                part,
                decision,
                raw_first,
                &mut stats,
            )?
        };
        let mut format =
            VideoFormat::from_first_frame(&first, &layout, &source.decoder, &stream, &window);
        format.apply_fields(&decision);
        let mut dec = VideoDecoder {
            source,
            format,
            raw_format: first.format(),
            layout,
            scaler: None,
            origin_ts: window.origin_ts(),
            next_index: part.map_or(0, |p| p.first_index),
            pending: None,
            fields: field_step,
            decision,
            stats,
        };
        dec.pending = Some(dec.make_frame(first)?);
        Ok(dec)
    }

    pub fn format(&self) -> &VideoFormat {
        &self.format
    }

    /// What the fields step found and does.
    pub fn fields(&self) -> &Decision {
        &self.decision
    }

    /// The decode counters, with what the fields step found and did.
    pub fn final_stats(&self) -> DecodeStats {
        let mut s = self.stats.clone();
        s.fields = Some(FieldsReport {
            found: self.decision.describe_found(
                rate_value(self.format.base_rate).unwrap_or(0.0) * self.film_factor(),
            ),
            applied: self.decision.describe_applied(),
            decision: self.decision,
            counts: self
                .fields
                .as_ref()
                .map(|f| f.stats.clone())
                .unwrap_or_default(),
        });
        s
    }

    /// The input's rate over the output's base rate (1.25 for film).
    fn film_factor(&self) -> f64 {
        if matches!(self.decision.apply, Apply::Film { .. }) {
            1.25
        } else {
            1.0
        }
    }

    /// Set up the fields step and get its first frame. A chunk decodes a
    /// margin of [`FIELD_MARGIN_FRAMES`] on both sides of its part, so field
    /// matching and the decimation cycles see what the whole run saw, and
    /// keeps only the frames of its part.
    #[allow(clippy::too_many_arguments)]
    fn start_fields(
        path: &Path,
        source: &mut Source,
        stream: &StreamFacts,
        window: &ClipWindow,
        part: Option<DecodePart>,
        decision: Decision,
        raw_first: ff::frame::Video,
        stats: &mut DecodeStats,
    ) -> Result<(ff::frame::Video, Option<FieldStep>)> {
        let tb = stream.time_base;
        let ticks = frame_ticks(stream);
        let margin = (ticks * FIELD_MARGIN_FRAMES as f64).ceil() as i64;
        let origin = window.origin_ts();
        let mut keep = (None, None);
        let mut pending_first = Some(raw_first);
        if let Some(p) = part {
            let first = origin.saturating_add(p.first_pts);
            keep = (Some(first), p.last_pts.map(|l| origin.saturating_add(l)));
            source.end_ts = keep
                .1
                .map(|e| e.saturating_add(margin + 1))
                .map(|e| window.end_ts.map_or(e, |w| w.min(e)));
            if first > origin {
                let start = first
                    .saturating_sub(margin)
                    .max(window.start_ts.unwrap_or(i64::MIN));
                source.restart_at(start, tb);
                pending_first = None;
            }
        }
        let probe = match pending_first.take() {
            Some(f) => f,
            None => match source.decode_raw(stats, 0)? {
                Some(f) => f,
                None => return Err(source.no_frame_error(stats, None)),
            },
        };
        let mut step = FieldStep::new(path, decision, &probe, tb, ticks, keep)?;
        step.push_first(probe)?;
        match step.next(source, stats, 0)? {
            Some(f) => Ok((f, Some(step))),
            None => Err(source.no_frame_error(stats, None)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.source.path
    }

    /// Next frame in presentation order, or `None` at the end (of file or clip).
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        let f = match self.pending.take() {
            Some(f) => f,
            None => match self.next_raw()? {
                Some(raw) => self.make_frame(raw)?,
                None => return Ok(None),
            },
        };
        self.stats.frames += 1;
        let end_ts = f.pts + self.origin_ts + self.source.nominal_duration;
        self.stats.last_end_s = self
            .stats
            .last_end_s
            .max(ts_seconds(end_ts, self.format.time_base));
        Ok(Some(f))
    }

    /// The next raw frame, through the fields step when there is one.
    fn next_raw(&mut self) -> Result<Option<ff::frame::Video>> {
        match self.fields.as_mut() {
            Some(f) => f.next(&mut self.source, &mut self.stats, self.next_index),
            None => self.source.decode_raw(&mut self.stats, self.next_index),
        }
    }

    fn make_frame(&mut self, raw: ff::frame::Video) -> Result<Frame> {
        let pts = raw.pts().unwrap_or(0) - self.origin_ts;
        let f = &self.format;
        let picture = if raw.format() == self.raw_format
            && raw.width() as usize == f.width
            && raw.height() as usize == f.height
        {
            frame_to_picture(&raw, &self.layout)
        } else {
            if raw.width() as usize != f.width || raw.height() as usize != f.height {
                self.stats.resized_frames += 1;
            }
            self.convert(&raw)?
        };
        let frame = Frame {
            index: self.next_index,
            pts,
            sub: 0,
            picture: Arc::new(picture),
        };
        self.next_index += 1;
        Ok(frame)
    }

    /// Convert an unusual pixel format, or a frame whose size changed
    /// mid-stream, to the stream's layout at the first frame's size.
    fn convert(&mut self, raw: &ff::frame::Video) -> Result<Picture> {
        let f = &self.format;
        let dst = pixel_for(f.family, f.chroma, f.depth).ok_or_else(|| Error::Decode {
            path: self.source.path.clone(),
            frame: self.next_index,
            reason: format!(
                "the picture changed size or format mid-stream and {} {} {}-bit has no FFmpeg format to convert to",
                f.family.name(),
                f.chroma.name(),
                f.depth
            ),
        })?;
        let key = (raw.format(), raw.width(), raw.height());
        if self.scaler.as_ref().map(|s| s.key) != Some(key) {
            let ctx = ff::software::scaling::Context::get(
                raw.format(),
                raw.width(),
                raw.height(),
                dst,
                f.width as u32,
                f.height as u32,
                ff::software::scaling::Flags::BICUBIC,
            )
            .map_err(|e| {
                Error::unsupported(
                    &self.source.path,
                    format!(
                        "cannot convert pixel format {}: {}",
                        pixel_name(raw.format()),
                        describe(e)
                    ),
                )
            })?;
            self.scaler = Some(Scaler { ctx, key });
        }
        let mut out = ff::frame::Video::empty();
        if let Some(s) = self.scaler.as_mut() {
            s.ctx.run(raw, &mut out).map_err(|e| Error::Decode {
                path: self.source.path.clone(),
                frame: self.next_index,
                reason: format!("pixel conversion failed: {}", describe(e)),
            })?;
        }
        let layout = Layout {
            full_range: false,
            alpha: false,
            ..self.layout
        };
        Ok(frame_to_picture(&out, &layout))
    }
}
