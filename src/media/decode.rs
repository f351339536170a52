//! Demux + decode of the main video stream into [`Frame`]s.
//!
//! The decoder is opened and the first frame decoded in [`VideoDecoder::open`],
//! so a file that cannot be decoded fails before any work starts, and the
//! pipeline's format is the one the decoder really produces.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ff::format::Pixel;
use ffmpeg_next as ff;

use super::pixels::{classify, frame_to_picture, pixel_for, pixel_name, Layout};
use super::{describe, open_input, seconds_ts, ts_seconds, ColorTags, Rational};
use crate::clip::ClipRange;
use crate::color::{Colorimetry, Matrix};
use crate::error::{Error, Result};
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
            if r.numerator() > 0
                && r.denominator() > 0
                && (r.numerator() as f64 / r.denominator() as f64) <= 480.0
            {
                return (r.numerator() as u32, r.denominator() as u32);
            }
        }
        (24000, 1001)
    }

    /// Nominal frame rate as f64: average rate, else 24000/1001.
    pub fn fps(&self) -> f64 {
        let r = self.frame_rate;
        if r.numerator() > 0 && r.denominator() > 0 {
            r.numerator() as f64 / r.denominator() as f64
        } else {
            24000.0 / 1001.0
        }
    }
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
}

struct Scaler {
    ctx: ff::software::scaling::Context,
    key: (Pixel, u32, u32),
}
// SAFETY: an SwsContext is a plain heap object with no thread affinity; it is
// only ever used by the thread that owns the decoder.
unsafe impl Send for Scaler {}

/// Decoder for the best video stream of a file.
pub struct VideoDecoder {
    path: PathBuf,
    ictx: ff::format::context::Input,
    decoder: ff::decoder::Video,
    format: VideoFormat,
    /// The first frame's pixel format and what it holds; frames in it are
    /// read exactly, others go through the scaler to the same layout.
    raw_format: Pixel,
    layout: Layout,
    scaler: Option<Scaler>,
    /// First and end-exclusive pts (stream time base) of the clip.
    start_ts: Option<i64>,
    end_ts: Option<i64>,
    origin_ts: i64,
    nominal_duration: i64,
    next_index: u64,
    last_pts: Option<i64>,
    pending: Option<Frame>,
    /// Packets carry encryption side data (DRM): decoding yields garbage or nothing.
    encrypted: bool,
    flushing: bool,
    finished: bool,
    pub stats: DecodeStats,
}

fn eagain(e: &ff::Error) -> bool {
    matches!(e, ff::Error::Other { errno } if *errno == ff::util::error::EAGAIN)
}

impl VideoDecoder {
    /// Open `path`, pick its video stream, seek to the clip start and decode
    /// the first frame.
    pub fn open(path: &Path, clip: Option<ClipRange>) -> Result<VideoDecoder> {
        let mut ictx = open_input(path)?;
        let stream = ictx
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| Error::unsupported(path, "has no video stream"))?;
        let stream_index = stream.index();
        let time_base = stream.time_base();
        if time_base.numerator() <= 0 || time_base.denominator() <= 0 {
            return Err(Error::unsupported(
                path,
                "video stream has no valid time base",
            ));
        }
        let params = stream.parameters();
        let codec_id = params.id();
        let codec_name = ff::decoder::find(codec_id)
            .map(|c| c.name().to_string())
            .unwrap_or_else(|| format!("{codec_id:?}").to_lowercase());
        let frame_rate = stream.avg_frame_rate();
        let base_rate = stream.rate();
        let stream_frames = stream.frames();
        let stream_duration = stream.duration();
        let mut ctx = ff::codec::context::Context::from_parameters(params)
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
                    "cannot decode video codec '{codec_name}': {} (install an FFmpeg with this decoder, or convert the file first)",
                    describe(e)
                ),
            )
        })?;

        // Container start: clip times count from here, as players show them.
        let container_start_s = {
            // SAFETY: the context pointer is valid while `ictx` lives.
            let s = unsafe { (*ictx.as_ptr()).start_time };
            if s == ff::ffi::AV_NOPTS_VALUE {
                0.0
            } else {
                s as f64 / ff::ffi::AV_TIME_BASE as f64
            }
        };
        let container_duration_s = {
            let d = ictx.duration();
            (d > 0).then(|| d as f64 / ff::ffi::AV_TIME_BASE as f64)
        }
        .or_else(|| (stream_duration > 0).then(|| ts_seconds(stream_duration, time_base)));

        let (mut start_ts, mut end_ts, mut origin_s) = (None, None, 0.0);
        if let Some(c) = clip {
            let abs_start = container_start_s + c.start;
            if let Some(d) = container_duration_s {
                if c.start >= d {
                    return Err(Error::Config(format!(
                        "--clip starts at {} but {} is only {} long",
                        crate::clip::format_time(c.start),
                        path.display(),
                        crate::clip::format_time(d)
                    )));
                }
            }
            origin_s = abs_start;
            start_ts = Some(seconds_ts(abs_start, time_base));
            end_ts = c.end.map(|e| seconds_ts(container_start_s + e, time_base));
            if c.start > 0.0 {
                let target = (abs_start * ff::ffi::AV_TIME_BASE as f64) as i64;
                // Seek to the keyframe at or before START; on failure decode
                // from the beginning and drop (slower, still exact).
                let _ = ictx.seek(target, ..target);
            }
        }
        let origin_ts = start_ts.unwrap_or(0);
        let fps = if frame_rate.numerator() > 0 && frame_rate.denominator() > 0 {
            frame_rate.numerator() as f64 / frame_rate.denominator() as f64
        } else {
            24000.0 / 1001.0
        };
        let nominal_duration = seconds_ts(1.0 / fps, time_base).max(1);
        let expected_duration_s = match clip {
            Some(ClipRange {
                end: Some(e),
                start,
            }) => Some(container_duration_s.map_or(e - start, |d| e.min(d) - start)),
            Some(ClipRange { start, end: None }) => container_duration_s.map(|d| d - start),
            None => container_duration_s,
        };
        let expected_frames = if clip.is_some() || stream_frames <= 0 {
            expected_duration_s.map(|d| (d * fps).round().max(1.0) as u64)
        } else {
            Some(stream_frames as u64)
        };

        let placeholder = VideoFormat {
            width: 0,
            height: 0,
            family: Family::Yuv,
            chroma: Chroma::Yuv420,
            depth: 8,
            pix_fmt: String::new(),
            alpha: false,
            colors: ColorTags {
                range: ff::color::Range::Unspecified,
                matrix: ff::color::Space::Unspecified,
                primaries: ff::color::Primaries::Unspecified,
                transfer: ff::color::TransferCharacteristic::Unspecified,
                chroma_location: ff::chroma::Location::Unspecified,
            },
            time_base,
            frame_rate,
            base_rate,
            sample_aspect_ratio: Rational::new(1, 1),
            codec: codec_name,
            interlaced: false,
            stream_index,
            origin_s,
            expected_frames,
            expected_duration_s,
            container_start_s,
        };
        let mut dec = VideoDecoder {
            path: path.to_path_buf(),
            ictx,
            decoder,
            format: placeholder,
            raw_format: Pixel::None,
            layout: Layout {
                family: Family::Yuv,
                chroma: Chroma::Yuv420,
                depth: 8,
                full_range: false,
                alpha: false,
            },
            scaler: None,
            start_ts,
            end_ts,
            origin_ts,
            nominal_duration,
            next_index: 0,
            last_pts: None,
            pending: None,
            encrypted: false,
            flushing: false,
            finished: false,
            stats: DecodeStats::default(),
        };
        let first = dec.decode_raw()?.ok_or_else(|| {
            if dec.encrypted {
                return Error::unsupported(
                    path,
                    "video is encrypted (DRM); it cannot be decoded without the key",
                );
            }
            let why = match (&dec.stats.read_error, dec.stats.corrupt_packets) {
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
        })?;
        let (w, h, fmt) = (first.width(), first.height(), first.format());
        if w == 0 || h == 0 {
            return Err(Error::unsupported(path, "video has zero width or height"));
        }
        let layout = classify(fmt).map_err(|why| {
            Error::unsupported(
                path,
                format!("{why} (convert it first, e.g. ffmpeg -i IN -pix_fmt gbrp16le OUT.mkv for RGB, yuv444p16le for YUV)"),
            )
        })?;
        let (chroma, depth, jpeg) = (layout.chroma, layout.depth, layout.full_range);
        let mut range = first.color_range();
        if jpeg
            || (range == ff::color::Range::Unspecified
                && dec.decoder.color_range() == ff::color::Range::JPEG)
        {
            range = ff::color::Range::JPEG;
        } else if range == ff::color::Range::Unspecified {
            range = dec.decoder.color_range();
        }
        // RGB and grey without a range tag are full range (PNG, GIF, raw RGB).
        if range == ff::color::Range::Unspecified && layout.family != Family::Yuv {
            range = ff::color::Range::JPEG;
        }
        fn pick<T: PartialEq>(a: T, b: T, unspecified: T) -> T {
            if a == unspecified {
                b
            } else {
                a
            }
        }
        dec.format.width = w as usize;
        dec.format.height = h as usize;
        dec.format.family = layout.family;
        dec.format.chroma = chroma;
        dec.format.depth = depth;
        dec.format.pix_fmt = pixel_name(fmt);
        dec.format.alpha = layout.alpha;
        dec.raw_format = fmt;
        dec.layout = layout;
        let matrix = pick(
            first.color_space(),
            dec.decoder.color_space(),
            ff::color::Space::Unspecified,
        );
        dec.format.colors = ColorTags {
            range,
            // RGB is RGB whatever the stream's tag says.
            matrix: if layout.family == Family::Rgb {
                ff::color::Space::RGB
            } else {
                matrix
            },
            primaries: pick(
                first.color_primaries(),
                dec.decoder.color_primaries(),
                ff::color::Primaries::Unspecified,
            ),
            transfer: pick(
                first.color_transfer_characteristic(),
                dec.decoder.color_transfer_characteristic(),
                ff::color::TransferCharacteristic::Unspecified,
            ),
            chroma_location: pick(
                first.chroma_location(),
                dec.decoder.chroma_location(),
                ff::chroma::Location::Unspecified,
            ),
        };
        let sar = first.aspect_ratio();
        dec.format.sample_aspect_ratio = if sar.numerator() > 0 && sar.denominator() > 0 {
            sar
        } else {
            let s = dec.decoder.aspect_ratio();
            if s.numerator() > 0 && s.denominator() > 0 {
                s
            } else {
                Rational::new(1, 1)
            }
        };
        dec.format.interlaced = first.is_interlaced();
        dec.pending = Some(dec.make_frame(first)?);
        Ok(dec)
    }

    pub fn format(&self) -> &VideoFormat {
        &self.format
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Next frame in presentation order, or `None` at the end (of file or clip).
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        let f = match self.pending.take() {
            Some(f) => f,
            None => match self.decode_raw()? {
                Some(raw) => self.make_frame(raw)?,
                None => return Ok(None),
            },
        };
        self.stats.frames += 1;
        let end_ts = f.pts + self.origin_ts + self.nominal_duration;
        self.stats.last_end_s = self
            .stats
            .last_end_s
            .max(ts_seconds(end_ts, self.format.time_base));
        Ok(Some(f))
    }

    /// Decode the next raw frame inside the clip range.
    fn decode_raw(&mut self) -> Result<Option<ff::frame::Video>> {
        if self.finished {
            return Ok(None);
        }
        let mut frame = ff::frame::Video::empty();
        loop {
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let pts = self.repair_pts(frame.timestamp());
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
                    self.feed()?;
                }
                Err(ff::Error::InvalidData) => {
                    self.stats.corrupt_packets += 1;
                }
                Err(e) => {
                    return Err(Error::Decode {
                        path: self.path.clone(),
                        frame: self.next_index,
                        reason: describe(e),
                    })
                }
            }
        }
    }

    /// Send the next packet of our stream (or EOF) to the decoder.
    fn feed(&mut self) -> Result<()> {
        let mut packet = ff::Packet::empty();
        loop {
            match packet.read(&mut self.ictx) {
                Ok(()) => {
                    if packet.stream() != self.format.stream_index {
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
                            self.stats.corrupt_packets += 1;
                            continue;
                        }
                    }
                }
                Err(ff::Error::Eof) => break,
                Err(e) if eagain(&e) => continue,
                Err(e) => {
                    self.stats.read_error = Some(describe(e));
                    break;
                }
            }
        }
        self.flushing = true;
        let _ = self.decoder.send_eof();
        Ok(())
    }

    /// Give every frame a strictly increasing pts (stream time base).
    fn repair_pts(&mut self, pts: Option<i64>) -> i64 {
        let pts = match (pts, self.last_pts) {
            (Some(p), Some(last)) if p <= last => {
                self.stats.pts_repaired += 1;
                last + 1
            }
            (Some(p), _) => p,
            (None, Some(last)) => {
                self.stats.pts_repaired += 1;
                last + self.nominal_duration
            }
            (None, None) => self.start_ts.unwrap_or(0),
        };
        self.last_pts = Some(pts);
        pts
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
            path: self.path.clone(),
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
                    &self.path,
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
                path: self.path.clone(),
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
