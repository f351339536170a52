//! The output file: encoded video plus every other stream of the input,
//! copied packet for packet, or in the form the container carries
//! ([`super::carry`]: cover art, text subtitles converted).
//!
//! Copied streams are read by a second demuxer on the input file, advanced in
//! step with the encoded video (`copy_until`), so no audio or subtitle packet
//! is ever queued in memory behind the video pipeline, whatever its length.
//! The file is written under a temporary name beside the target and renamed
//! only when complete.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ffmpeg_next as ff;

use super::carry::{add_other_streams, Carried, CopiedStream, Outcome, StreamOutcome};
use super::decode::VideoFormat;
use super::encode::{
    negotiate_layout, open_encoder, EncodeSettings, EncoderLayout, EncoderSpec, VideoShape,
};
use super::packets::VideoPackets;
use super::pixels::{convert_picture, picture_to_frame};
use super::stream::StreamFacts;
use super::{describe, open_input, rescale, seconds_ts, ts_seconds, ColorTags, Rational};
use crate::clip::ClipRange;
use crate::color::{from_rgb, to_rgb, Colorimetry};
use crate::error::{Error, Result};
use crate::picture::{Chroma, Family, Frame};

/// Temporary outputs still on disk; removed by [`remove_partial_outputs`]
/// when the process is stopped by a second Ctrl-C.
static PARTIALS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove every temporary output of this process (signal handler path).
pub fn remove_partial_outputs() {
    if let Ok(list) = PARTIALS.lock() {
        for p in list.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn forget_partial(path: &Path) {
    if let Ok(mut list) = PARTIALS.lock() {
        list.retain(|p| p != path);
    }
}

/// Container format for an output path, from its extension.
pub fn container_for(path: &Path) -> Result<&'static str> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "mkv" => Ok("matroska"),
        "mp4" | "m4v" => Ok("mp4"),
        "mov" => Ok("mov"),
        "webm" => Ok("webm"),
        // Chunks of a plan: keeps the encoder's time base exactly.
        "nut" => Ok("nut"),
        _ => Err(Error::output(
            path,
            format!(
                "unsupported output extension '{}' (use .mkv, .mp4, .mov or .webm)",
                if ext.is_empty() {
                    "(none)".to_string()
                } else {
                    format!(".{ext}")
                }
            ),
        )),
    }
}

/// The temporary path a run writes to before renaming onto `target`.
pub fn partial_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    dir.join(format!(".{name}.partial-{}", std::process::id()))
}

/// Remove the temporary outputs that killed runs left for `target`
/// (`.NAME.partial-PID` whose process is gone): a run stopped by SIGKILL
/// or a power cut cannot remove its own, and the next run on the same
/// output should not leave them beside it forever. A partial of a process
/// that is still running is left alone (where `/proc` cannot tell, every
/// partial is).
pub fn remove_stale_partials(target: &Path) {
    let ours = partial_path(target);
    let (Some(dir), Some(name)) = (ours.parent(), ours.file_name()) else {
        return;
    };
    let name = name.to_string_lossy();
    let Some((prefix, _)) = name.rsplit_once('-') else {
        return;
    };
    let proc_fs = Path::new("/proc/self").exists();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name();
        let file = file.to_string_lossy();
        let Some(pid) = file
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = !proc_fs || Path::new("/proc").join(pid.to_string()).exists();
        if pid != std::process::id() && !alive {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// An output path may be written: it does not exist (or `overwrite`) and
/// its folder does. Returns the folder.
pub fn check_new_file(target: &Path, overwrite: bool) -> Result<&Path> {
    if target.exists() && !overwrite {
        return Err(Error::output(
            target,
            "already exists (use -y to overwrite)",
        ));
    }
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Error::output(
            target,
            format!("folder {} does not exist", dir.display()),
        ));
    }
    Ok(dir)
}

/// Check the output path before any work: extension known, folder exists and
/// is writable, target not present unless `overwrite`, not the input.
pub fn check_output(target: &Path, input: &Path, overwrite: bool) -> Result<()> {
    container_for(target)?;
    if target.is_dir() {
        return Err(Error::output(
            target,
            "is a directory; give a file name such as out.mkv",
        ));
    }
    if let (Ok(a), Ok(b)) = (target.canonicalize(), input.canonicalize()) {
        if a == b {
            return Err(Error::output(
                target,
                "is the input file; choose another --out",
            ));
        }
    }
    let dir = check_new_file(target, overwrite)?;
    // Probe writability with the real temporary name.
    let probe = partial_path(target);
    std::fs::File::create(&probe).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::PermissionDenied {
            "permission denied (choose a folder you can write to)".to_string()
        } else {
            e.to_string()
        };
        Error::output(target, format!("cannot write in {}: {why}", dir.display()))
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// What to write: the video's shape and where to copy other streams from.
pub struct OutputPlan<'a> {
    pub target: &'a Path,
    pub input: &'a Path,
    pub video_stream_index: usize,
    pub shape: VideoShape,
    /// What the pictures' planes hold, and how they map to RGB.
    pub family: Family,
    pub colorimetry: Colorimetry,
    pub chroma: Chroma,
    pub depth: u8,
    pub colors: ColorTags,
    pub settings: EncodeSettings,
    /// Input-timeline seconds that become output time 0.
    pub origin_s: f64,
    /// Input-timeline seconds where copying stops (clip end), if any.
    pub end_s: Option<f64>,
    /// Only the video: no copied streams, chapters or metadata (a chunk of
    /// a plan, joined later with everything else).
    pub video_only: bool,
}

impl<'a> OutputPlan<'a> {
    /// The output of a run over the video `fmt` of `input` (within `clip`),
    /// written to `target` with `settings`: the pictures' layout, colours
    /// and aspect ratio as decoded, every other stream copied over the same
    /// range. Its size and timing are the input's until
    /// [`OutputPlan::shaped`] gives the run's own.
    pub fn new(
        target: &'a Path,
        input: &'a Path,
        fmt: &VideoFormat,
        clip: Option<ClipRange>,
        settings: EncodeSettings,
    ) -> OutputPlan<'a> {
        OutputPlan {
            target,
            input,
            video_stream_index: fmt.stream_index,
            shape: VideoShape {
                width: fmt.width,
                height: fmt.height,
                time_base: fmt.time_base,
                frame_rate: fmt.frame_rate,
                sample_aspect_ratio: fmt.sample_aspect_ratio,
            },
            family: fmt.family,
            colorimetry: fmt.colorimetry(),
            chroma: fmt.chroma,
            depth: fmt.depth,
            colors: fmt.colors,
            settings,
            origin_s: fmt.origin_s,
            end_s: clip
                .and_then(|c| c.end)
                .map(|end| end + (fmt.origin_s - clip.map_or(0.0, |c| c.start))),
            video_only: false,
        }
    }

    /// The output video's size and time grid.
    pub fn shaped(
        mut self,
        (width, height): (usize, usize),
        time_base: Rational,
        frame_rate: Rational,
    ) -> OutputPlan<'a> {
        self.shape = VideoShape {
            width,
            height,
            time_base,
            frame_rate,
            ..self.shape
        };
        self
    }

    /// Write only the video ([`OutputPlan::video_only`]) when `only`.
    pub fn video_only(mut self, only: bool) -> OutputPlan<'a> {
        self.video_only = only;
        self
    }
}

/// Result of a finished output.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct OutputSummary {
    pub path: PathBuf,
    pub bytes: u64,
    pub frames: u64,
    /// Streams kept besides the video (copied or converted).
    pub copied_streams: usize,
    pub copied_packets: u64,
    /// Every input stream and what became of it.
    pub streams: Vec<StreamOutcome>,
    /// Warnings raised while writing (cues that could not be converted),
    /// after those of [`Muxer::warnings`].
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// An output file being written.
pub struct Muxer {
    target: PathBuf,
    partial: PathBuf,
    octx: ff::format::context::Output,
    /// `None` when the video comes as packets ([`Muxer::create_copying`]).
    encoder: Option<ff::encoder::Video>,
    codec_name: &'static str,
    layout: EncoderLayout,
    /// RGB written as YUV: the pictures' colorimetry and the output's.
    convert: Option<(Colorimetry, Colorimetry)>,
    /// Grey written as YUV: chroma set to neutral.
    neutral_chroma: bool,
    video_out: usize,
    video_out_tb: Rational,
    frame_tb: Rational,
    colors: ColorTags,
    copier: ff::format::context::Input,
    copy_map: Vec<Option<CopiedStream>>,
    copier_done: bool,
    pending: Option<ff::Packet>,
    frames: u64,
    /// Dts of the last packet given to [`Muxer::write_packet`].
    last_copied_dts: Option<i64>,
    copied_packets: u64,
    /// What became of each input stream, in input order.
    outcomes: Vec<StreamOutcome>,
    committed: bool,
    /// Warnings for the user (dropped streams, reduced depth…).
    pub warnings: Vec<String>,
}

impl Muxer {
    /// Create the temporary output, set up the encoder and every copied
    /// stream, and write the header.
    pub fn create(plan: &OutputPlan) -> Result<Muxer> {
        Self::create_with(plan, None)
    }

    /// Like [`Muxer::create`], for video that is already encoded (the
    /// chunks of a plan): its packets come through [`Muxer::write_packet`]
    /// ([`VideoPackets::copy_into`]) and have the stream of `video`.
    pub fn create_copying(plan: &OutputPlan, video: &VideoPackets) -> Result<Muxer> {
        Self::create_with(plan, Some(video.parameters()))
    }

    fn create_with(plan: &OutputPlan, video: Option<&ff::codec::Parameters>) -> Result<Muxer> {
        let fmt_name = container_for(plan.target)?;
        remove_stale_partials(plan.target);
        let partial = partial_path(plan.target);
        if let Ok(mut l) = PARTIALS.lock() {
            l.push(partial.clone());
        }
        let result = Self::create_inner(plan, fmt_name, &partial, video);
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
            forget_partial(&partial);
        }
        result
    }

    fn create_inner(
        plan: &OutputPlan,
        fmt_name: &str,
        partial: &Path,
        video: Option<&ff::codec::Parameters>,
    ) -> Result<Muxer> {
        let target = plan.target;
        let mut octx = ff::format::output_as(&partial, fmt_name)
            .map_err(|e| Error::output(target, format!("cannot create: {}", describe(e))))?;
        check_video_codec_fits(&octx, plan)?;
        if plan.video_only {
            // A chunk keeps the encoder's timestamps as they are: shifting
            // its first packets' negative dts up (the default for NUT)
            // would move the whole chunk later than its neighbours.
            // SAFETY: a plain int field of the context, set before the
            // header is written.
            unsafe { (*octx.as_mut_ptr()).avoid_negative_ts = 0 };
        }
        let codec = plan.settings.codec;
        let layout = negotiate_layout(
            codec,
            plan.family,
            plan.chroma,
            plan.depth,
            plan.shape.height,
        )?;
        let mut warnings: Vec<String> = layout.warning.iter().cloned().collect();
        let (colors, convert) = output_colors(plan, &layout);
        let encoder = match video {
            Some(_) => None,
            None => Some(open_encoder(&EncoderSpec {
                settings: &plan.settings,
                layout: &layout,
                shape: plan.shape,
                colors,
                global_header: octx
                    .format()
                    .flags()
                    .contains(ff::format::Flags::GLOBAL_HEADER),
            })?),
        };
        let mut copier = open_input(plan.input)?;
        let params = match (&encoder, video) {
            (Some(e), _) => ff::codec::Parameters::from(e),
            (None, Some(p)) => p.clone(),
            (None, None) => return Err(Error::Internal("no video for the output".into())),
        };
        let video_out = add_video_stream(&mut octx, &copier, plan, params, layout.encoder)?;
        let mut other =
            carry_other_streams((&mut octx, &copier), plan, (fmt_name, layout.encoder))?;
        warnings.append(&mut other.warnings);
        let Carried {
            mut copy_map,
            covers,
            outcomes,
            ..
        } = other;
        if plan.origin_s > 0.0 {
            let target_ts = (plan.origin_s * ff::ffi::AV_TIME_BASE as f64) as i64;
            let _ = copier.seek(target_ts, ..target_ts);
        }
        let video_out_tb = write_header(&mut octx, &mut copy_map, video_out, plan)?;
        for cover in covers {
            cover.write_interleaved(&mut octx).map_err(|e| {
                Error::output(target, format!("cannot write cover art: {}", describe(e)))
            })?;
        }
        Ok(Muxer {
            target: target.to_path_buf(),
            partial: partial.to_path_buf(),
            octx,
            encoder,
            codec_name: layout.encoder,
            neutral_chroma: plan.family == Family::Gray && layout.family == Family::Yuv,
            layout,
            convert,
            video_out,
            video_out_tb,
            frame_tb: plan.shape.time_base,
            colors,
            copier,
            copy_map,
            copier_done: plan.video_only,
            pending: None,
            frames: 0,
            last_copied_dts: None,
            copied_packets: 0,
            outcomes,
            committed: false,
            warnings,
        })
    }

    /// Encode one frame (pts in the plan's time base).
    pub fn write_frame(&mut self, frame: &Frame) -> Result<()> {
        let pic = &frame.picture;
        let l = &self.layout;
        let mut av = if let Some((from, to)) = self.convert {
            let yuv = from_rgb(&to_rgb(pic, from), l.chroma, l.depth, to);
            picture_to_frame(&yuv, l.family, l.pixel)
        } else if self.neutral_chroma {
            let mut p = convert_picture(pic, l.chroma, l.depth, self.colors.siting());
            let mid = 1u16 << (l.depth - 1);
            p.planes[1].fill(mid);
            p.planes[2].fill(mid);
            picture_to_frame(&p, l.family, l.pixel)
        } else if pic.chroma == l.chroma && pic.depth == l.depth {
            picture_to_frame(pic, l.family, l.pixel)
        } else {
            picture_to_frame(
                &convert_picture(pic, l.chroma, l.depth, self.colors.siting()),
                l.family,
                l.pixel,
            )
        };
        av.set_pts(Some(frame.pts));
        self.colors.tag_frame(&mut av);
        let Some(encoder) = self.encoder.as_mut() else {
            return Err(Error::Internal("a frame for an output of packets".into()));
        };
        encoder
            .send_frame(&av)
            .map_err(|e| Error::encode(self.codec_name, describe(e)))?;
        self.frames += 1;
        self.drain_encoder()
    }

    /// Write one already encoded video packet (timestamps in `tb`), with
    /// the other streams' packets up to its time.
    /// Packets from separately encoded parts (the chunks of a plan) may
    /// step back in decode order at a seam, where an encoder's delay
    /// starts again: such a dts is raised just past the previous one (in
    /// the output's time base), never past the packet's own pts.
    pub fn write_packet(&mut self, mut packet: ff::Packet, tb: Rational) -> Result<()> {
        packet.set_stream(self.video_out);
        packet.set_position(-1);
        packet.rescale_ts(tb, self.video_out_tb);
        if let (Some(d), Some(prev)) = (packet.dts(), self.last_copied_dts) {
            if d <= prev {
                let raised = prev + 1;
                if packet.pts().is_some_and(|p| p < raised) {
                    return Err(Error::output(
                        &self.target,
                        format!(
                            "video packets cannot be put in decode order at pts {} (time base {}): the parts were encoded with different settings",
                            packet.pts().unwrap_or(0),
                            self.video_out_tb
                        ),
                    ));
                }
                packet.set_dts(Some(raised));
            }
        }
        self.last_copied_dts = packet.dts().or(self.last_copied_dts);
        self.frames += 1;
        self.write_video(packet)
    }

    fn write_video(&mut self, packet: ff::Packet) -> Result<()> {
        let t = packet
            .dts()
            .or(packet.pts())
            .map(|ts| ts_seconds(ts, self.video_out_tb))
            .unwrap_or(0.0);
        self.copy_until(Some(t))?;
        packet
            .write_interleaved(&mut self.octx)
            .map_err(|e| self.write_error(e))
    }

    fn drain_encoder(&mut self) -> Result<()> {
        let mut packet = ff::Packet::empty();
        while let Some(encoder) = self.encoder.as_mut() {
            if encoder.receive_packet(&mut packet).is_err() {
                break;
            }
            packet.set_stream(self.video_out);
            packet.rescale_ts(self.frame_tb, self.video_out_tb);
            self.write_video(std::mem::replace(&mut packet, ff::Packet::empty()))?;
        }
        Ok(())
    }

    fn write_error(&self, e: ff::Error) -> Error {
        let reason = match e {
            ff::Error::Other { errno: 28 } => "disk full (no space left on device)".to_string(),
            other => describe(other),
        };
        Error::output(&self.target, format!("write failed: {reason}"))
    }

    /// Copy input packets of the other streams up to output time `t`
    /// seconds (all of them when `None`).
    fn copy_until(&mut self, t: Option<f64>) -> Result<()> {
        loop {
            let mut packet = match self.pending.take() {
                Some(p) => p,
                None => {
                    if self.copier_done {
                        return Ok(());
                    }
                    let mut p = ff::Packet::empty();
                    match p.read(&mut self.copier) {
                        Ok(()) => p,
                        Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => {
                            continue
                        }
                        Err(_) => {
                            // End of file, or an unreadable tail: what was read is kept.
                            self.copier_done = true;
                            return Ok(());
                        }
                    }
                }
            };
            let Some(Some(s)) = self.copy_map.get_mut(packet.stream()) else {
                continue;
            };
            let Some(ts) = packet.pts().or(packet.dts()) else {
                continue;
            };
            let rel = ts - s.origin_ts;
            let rel_s = ts_seconds(rel, s.in_tb);
            if let Some(t) = t {
                if rel_s > t {
                    self.pending = Some(packet);
                    return Ok(());
                }
            }
            if let Some(end) = s.end_ts {
                if ts >= end {
                    continue;
                }
            }
            let mut dts = packet.dts().map(|d| d - s.origin_ts);
            let mut pts = rel;
            let mut duration = packet.duration();
            if rel < 0 {
                // Before the clip start: keep only subtitles still on screen,
                // trimmed to start at 0.
                if !s.is_subtitle || duration <= 0 || rel + duration <= 0 {
                    continue;
                }
                duration += rel;
                pts = 0;
                dts = Some(0);
            }
            if let Some(conv) = s.convert.as_mut() {
                let Some(cue) = conv.convert(&packet) else {
                    continue;
                };
                let ms = |v: u32| rescale(i64::from(v), Rational::new(1, 1000), s.in_tb);
                if rel >= 0 {
                    pts += ms(cue.start_ms);
                }
                if duration <= 0 {
                    duration = ms(cue.duration_ms);
                }
                dts = Some(pts);
                packet = ff::Packet::copy(&cue.data);
                packet.set_flags(ff::packet::Flags::KEY);
            }
            packet.set_pts(Some(rescale(pts, s.in_tb, s.out_tb)));
            packet.set_dts(dts.map(|d| rescale(d, s.in_tb, s.out_tb)));
            packet.set_duration(if duration > 0 {
                rescale(duration, s.in_tb, s.out_tb)
            } else {
                0
            });
            packet.set_stream(s.out_index);
            packet.set_position(-1);
            packet
                .write_interleaved(&mut self.octx)
                .map_err(|e| self.write_error(e))?;
            self.copied_packets += 1;
        }
    }

    /// Flush the encoder, copy what is left, write the trailer and rename
    /// the temporary file onto the target.
    pub fn finish(mut self) -> Result<OutputSummary> {
        if let Some(encoder) = self.encoder.as_mut() {
            encoder
                .send_eof()
                .map_err(|e| Error::encode(self.codec_name, describe(e)))?;
            self.drain_encoder()?;
        }
        self.copy_until(None)?;
        let warnings = self.count_failed_cues();
        self.octx.write_trailer().map_err(|e| self.write_error(e))?;
        std::fs::rename(&self.partial, &self.target).map_err(|e| {
            Error::output(
                &self.target,
                format!("cannot rename finished output into place: {e}"),
            )
        })?;
        self.committed = true;
        forget_partial(&self.partial);
        let bytes = std::fs::metadata(&self.target)
            .map(|m| m.len())
            .unwrap_or(0);
        Ok(OutputSummary {
            path: self.target.clone(),
            bytes,
            frames: self.frames,
            copied_streams: self
                .outcomes
                .iter()
                .filter(|o| matches!(o.outcome, Outcome::Copied | Outcome::Converted { .. }))
                .count(),
            copied_packets: self.copied_packets,
            streams: std::mem::take(&mut self.outcomes),
            warnings,
        })
    }

    /// Put the cues that could not be converted into the outcomes, and
    /// one warning per stream that lost any.
    fn count_failed_cues(&mut self) -> Vec<String> {
        let mut warnings = Vec::new();
        for o in self.outcomes.iter_mut() {
            let Some(Some(c)) = self.copy_map.get(o.index) else {
                continue;
            };
            let (Some(conv), Outcome::Converted { failed, to, .. }) =
                (c.convert.as_ref(), &mut o.outcome)
            else {
                continue;
            };
            *failed = conv.failed;
            if conv.failed > 0 {
                warnings.push(format!(
                    "subtitle stream #{} ({}): {} cue(s) could not be converted to {to} and are missing (run with -v to see FFmpeg's reason)",
                    o.index, o.codec, conv.failed
                ));
            }
        }
        warnings
    }
}

/// Whether the output container can hold a stream of codec `id`.
pub(super) fn container_holds(octx: &ff::format::context::Output, id: ff::codec::Id) -> bool {
    // SAFETY: the oformat of an opened output context is a static muxer
    // description, valid for the process; querying it does not touch the
    // context.
    unsafe {
        let oformat = (*octx.as_ptr()).oformat;
        ff::ffi::avformat_query_codec(oformat, id.into(), ff::ffi::FF_COMPLIANCE_NORMAL) != 0
    }
}

/// The container must be able to hold the video codec.
fn check_video_codec_fits(octx: &ff::format::context::Output, plan: &OutputPlan) -> Result<()> {
    let id = plan.settings.codec.id();
    if container_holds(octx, id) {
        return Ok(());
    }
    Err(Error::output(
        plan.target,
        format!(
            "a .{} file cannot hold {id:?} video (use .mkv, or another --codec)",
            plan.target
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
        ),
    ))
}

/// The output's colour tags, and the conversion when RGB is written as YUV
/// (the layout's matrix, limited range).
fn output_colors(
    plan: &OutputPlan,
    layout: &EncoderLayout,
) -> (ColorTags, Option<(Colorimetry, Colorimetry)>) {
    let mut colors = plan.colors;
    // Untagged subsampled chroma was taken as centre-sited; say so on
    // the output, because H.264/HEVC readers take an untagged stream
    // as "left" (their spec's default) and would shift it.
    if colors.chroma_location == ff::chroma::Location::Unspecified
        && layout.family == Family::Yuv
        && layout.chroma != Chroma::Yuv444
    {
        colors.chroma_location = ff::chroma::Location::Center;
    }
    let convert = layout.matrix.map(|m| {
        colors.matrix = ColorTags::space_of(m);
        colors.range = ff::color::Range::MPEG;
        (
            plan.colorimetry,
            Colorimetry {
                matrix: m,
                full_range: false,
                siting: plan.colorimetry.siting,
            },
        )
    });
    (colors, convert)
}

/// Add the encoded video stream, keeping the input video stream's tags;
/// returns its output index.
fn add_video_stream(
    octx: &mut ff::format::context::Output,
    copier: &ff::format::context::Input,
    plan: &OutputPlan,
    params: ff::codec::Parameters,
    encoder_name: &str,
) -> Result<usize> {
    let mut ost = octx
        .add_stream(ff::encoder::find_by_name(encoder_name))
        .map_err(|e| {
            Error::output(
                plan.target,
                format!("cannot add video stream: {}", describe(e)),
            )
        })?;
    ost.set_parameters(params);
    // Copied parameters carry their old container's codec tag (NUT's),
    // which another container may refuse: let the muxer choose its own.
    // SAFETY: codecpar of a stream being set up is valid; a plain field.
    unsafe { (*(*ost.as_mut_ptr()).codecpar).codec_tag = 0 };
    ost.set_time_base(plan.shape.time_base);
    if plan.shape.frame_rate.numerator() > 0 {
        ost.set_avg_frame_rate(plan.shape.frame_rate);
    }
    if let Some(ist) = copier.stream(plan.video_stream_index) {
        keep_video_tags(&ist, &mut ost);
    }
    Ok(ost.index())
}

/// Metadata (less the old encoder's tags), disposition and display matrix
/// of the input video stream, onto the output's.
fn keep_video_tags(ist: &ff::format::stream::Stream, ost: &mut ff::format::stream::StreamMut) {
    let mut md = ist.metadata().to_owned();
    // Encoder-specific tags describe the old encode, not ours.
    md.set("encoder", "");
    md.set("handler_name", "");
    md.set("ENCODER", "");
    md.set("DURATION", "");
    ost.set_metadata(md);
    // SAFETY: both stream pointers are valid; disposition is an int field.
    unsafe { (*ost.as_mut_ptr()).disposition = (*ist.as_ptr()).disposition };
    // Keep the display matrix (rotation/flip): the pipeline never
    // rotates pixels, so the input's orientation tag stays true.
    // SAFETY: av_stream_get_side_data returns a pointer into the input
    // stream valid while the input lives, with its size; the new
    // side-data buffer has exactly that size.
    unsafe {
        let kind = ff::ffi::AVPacketSideDataType::AV_PKT_DATA_DISPLAYMATRIX;
        let mut size = 0usize;
        let src = ff::ffi::av_stream_get_side_data(ist.as_ptr(), kind, &mut size);
        if !src.is_null() && size > 0 {
            let dst = ff::ffi::av_stream_new_side_data(ost.as_mut_ptr(), kind, size);
            if !dst.is_null() {
                std::ptr::copy_nonoverlapping(src, dst, size);
            }
        }
    }
}

/// Every stream but the video (unless the plan is video only), the
/// metadata and chapters, and what became of each input stream, the video
/// included (it is encoded to `encoder`), in input order.
fn carry_other_streams(
    (octx, copier): (
        &mut ff::format::context::Output,
        &ff::format::context::Input,
    ),
    plan: &OutputPlan,
    (fmt_name, encoder): (&str, &str),
) -> Result<Carried> {
    let mut other = if plan.video_only {
        Carried::default()
    } else {
        let other = add_other_streams(octx, copier, plan, fmt_name)?;
        octx.set_metadata(copier.metadata().to_owned());
        copy_chapters(octx, copier, plan);
        other
    };
    if let Some(ist) = copier.stream(plan.video_stream_index) {
        let to = encoder.to_string();
        let video = StreamOutcome::new(&StreamFacts::read(&ist), Outcome::Encoded { to });
        other.outcomes.push(video);
    }
    other.outcomes.sort_by_key(|o| o.index);
    Ok(other)
}

/// Copy the chapters inside the output's range, re-based to its start.
fn copy_chapters(
    octx: &mut ff::format::context::Output,
    copier: &ff::format::context::Input,
    plan: &OutputPlan,
) {
    for c in copier.chapters() {
        let tb = c.time_base();
        let origin = seconds_ts(plan.origin_s, tb);
        let end_limit = plan.end_s.map(|e| seconds_ts(e, tb)).unwrap_or(i64::MAX);
        if c.end() <= origin || c.start() >= end_limit {
            continue;
        }
        let s = (c.start() - origin).max(0);
        let e = c.end().min(end_limit) - origin;
        let title = c.metadata().get("title").unwrap_or("").to_string();
        let _ = octx.add_chapter(c.id(), tb, s, e, title);
    }
}

/// Write the header, then read back the time bases the muxer chose; returns
/// the video stream's.
fn write_header(
    octx: &mut ff::format::context::Output,
    copy_map: &mut [Option<CopiedStream>],
    video_out: usize,
    plan: &OutputPlan,
) -> Result<Rational> {
    octx.write_header()
        .map_err(|e| Error::output(plan.target, format!("cannot write header: {}", describe(e))))?;
    for s in copy_map.iter_mut().flatten() {
        if let Some(os) = octx.stream(s.out_index) {
            s.out_tb = os.time_base();
        }
    }
    Ok(octx
        .stream(video_out)
        .map(|s| s.time_base())
        .unwrap_or(plan.shape.time_base))
}

impl Drop for Muxer {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.partial);
            forget_partial(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_partials_of_dead_runs_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.mkv");
        let file = |pid: &str| dir.path().join(format!(".out.mkv.partial-{pid}"));
        // pid_max on Linux is at most 2^22: this one never runs.
        let dead = file("4194305");
        let alive = file("1");
        let ours = partial_path(&target);
        let other = dir.path().join(".other.mkv.partial-4194305");
        for p in [&dead, &alive, &ours, &other] {
            std::fs::write(p, b"x").unwrap();
        }
        remove_stale_partials(&target);
        assert!(!dead.exists());
        assert!(alive.exists() && ours.exists() && other.exists());
    }
}
