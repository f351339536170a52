//! The fields step of decoding (see [`crate::fields`]): the analysis that
//! decides, and the libavfilter graph (`fieldmatch`, `bwdif`) plus our own
//! decimation that carry the decision out, between the decoder and the
//! pictures the pipeline sees.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ffmpeg_next as ff;

use super::decode::{DecodeStats, Source};
use super::pixels::{classify, frame_to_picture, pixel_name};
use super::{describe, rescale, seconds_ts, Rational};
use crate::clip::ClipRange;
use crate::error::{Error, Result};
use crate::fields::decimate::{repeat_change, Decimator};
use crate::fields::{comb, Apply, Decision, FieldStats, FieldsMode, Plane};

/// Frames per analysis window.
const WINDOW_FRAMES: usize = 48;
/// Windows spread across a long input (at 0, 20, 40, 60 and 80% of it): an
/// episode's first minute (a still logo, a progressive opening) says
/// nothing about its body.
const WINDOWS: usize = 5;
/// Inputs shorter than this many seconds are analysed from the start only,
/// over up to [`SHORT_INPUT_FRAMES`] frames.
const SHORT_INPUT_S: f64 = 60.0;
const SHORT_INPUT_FRAMES: usize = 120;
/// A frame moved when some 16x16 block's mean luma changed by more than
/// this (0..255): the same measure and level as a telecine repeat, since
/// anime motion is often one mouth in a still frame.
const MOVED_LEVELS: f32 = crate::fields::decimate::REPEAT_LEVELS;

/// One decoded luma plane, owned.
struct Luma {
    data: Vec<u16>,
    width: usize,
    height: usize,
    depth: u8,
}

impl Luma {
    fn of(frame: &ff::frame::Video) -> Option<Luma> {
        let layout = classify(frame.format()).ok()?;
        if let Some(l) = Self::planar(frame, layout.depth) {
            return Some(l);
        }
        let pic = frame_to_picture(frame, &layout);
        let [y, _, _] = pic.planes;
        Some(Luma {
            data: y,
            width: pic.width,
            height: pic.height,
            depth: pic.depth,
        })
    }

    /// Plane 0 read directly, for planar YUV and grey formats (what
    /// telecined and interlaced video is); None for anything else.
    fn planar(frame: &ff::frame::Video, depth: u8) -> Option<Luma> {
        let d = frame.format().descriptor()?;
        let planar = d.nb_components() >= 1
            && frame.planes() >= 1
            && (frame.planes() >= 3 || d.nb_components() == 1)
            && !d.name().contains("rgb")
            && !d.name().contains("gbr")
            && !d.name().ends_with("be")
            && !d.name().starts_with("nv")
            && !d.name().starts_with("p0")
            && !d.name().starts_with("p2")
            && !d.name().starts_with("p4")
            && !d.name().starts_with("yuyv")
            && !d.name().starts_with("uyvy");
        if !planar {
            return None;
        }
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let stride = frame.stride(0);
        let bytes = frame.data(0);
        let wide = depth > 8;
        let row_bytes = if wide { 2 * w } else { w };
        if h == 0 || stride < row_bytes || bytes.len() < (h - 1) * stride + row_bytes {
            return None;
        }
        let mut data = Vec::with_capacity(w * h);
        for y in 0..h {
            let row = &bytes[y * stride..y * stride + row_bytes];
            if wide {
                data.extend(
                    row.chunks_exact(2)
                        .map(|b| u16::from_le_bytes([b[0], b[1]])),
                );
            } else {
                data.extend(row.iter().map(|&b| u16::from(b)));
            }
        }
        Some(Luma {
            data,
            width: w,
            height: h,
            depth,
        })
    }

    fn plane(&self) -> Plane<'_> {
        Plane {
            data: &self.data,
            width: self.width,
            height: self.height,
            stride: self.width,
            depth: self.depth,
        }
    }
}

/// Measure one window of consecutive frames into `stats`.
fn measure(frames: &[Luma], stats: &mut FieldStats) {
    for i in 1..frames.len() {
        let (prev, cur) = (frames[i - 1].plane(), frames[i].plane());
        let moved = repeat_change(prev, cur) > MOVED_LEVELS;
        if !moved {
            // A still frame says nothing (FieldStats::add ignores it): skip
            // the combing measure, the analysis's main cost.
            stats.add(false, Default::default(), None);
            continue;
        }
        let own = comb(cur, cur);
        let pairings = match frames.get(i + 1) {
            Some(next) if own.is_combed() => {
                let next = next.plane();
                Some([
                    comb(cur, prev),
                    comb(cur, next),
                    comb(prev, cur),
                    comb(next, cur),
                ])
            }
            _ => None,
        };
        // The last frame of a window has no next frame to pair with: it
        // counts only when it is not combed.
        if pairings.is_none() && own.is_combed() && i + 1 == frames.len() {
            continue;
        }
        stats.add(moved, own, pairings);
    }
}

/// Combing and field-match counts over windows spread across the clip,
/// and the pts of its first frame.
pub fn analyse(path: &Path, clip: Option<ClipRange>) -> Result<(FieldStats, i64)> {
    let (mut source, stream, window) = Source::open(path, clip, None)?;
    let mut stats = DecodeStats::default();
    let duration = window.expected_duration_s.unwrap_or(0.0);
    let mut out = FieldStats::default();
    let mut anchor = None;
    let starts: Vec<Option<f64>> = if duration > SHORT_INPUT_S {
        (0..WINDOWS)
            .map(|k| Some(duration * k as f64 / WINDOWS as f64))
            .collect()
    } else {
        vec![None]
    };
    let per_window = if starts.len() > 1 {
        WINDOW_FRAMES
    } else {
        SHORT_INPUT_FRAMES
    };
    for start in starts {
        if let Some(s) = start.filter(|s| *s > 0.0) {
            let tb = stream.time_base;
            source.restart_at(window.origin_ts() + seconds_ts(s, tb), tb);
        }
        let mut frames = Vec::with_capacity(per_window);
        while frames.len() < per_window {
            match source.decode_raw(&mut stats, frames.len() as u64)? {
                Some(raw) => {
                    anchor.get_or_insert(raw.pts().unwrap_or(0));
                    match Luma::of(&raw) {
                        Some(l) => frames.push(l),
                        None => return Ok((out, anchor.unwrap_or(0))),
                    }
                }
                None => break,
            }
        }
        measure(&frames, &mut out);
    }
    Ok((out, anchor.unwrap_or(0)))
}

type DecisionKey = (PathBuf, Option<(u64, Option<u64>)>, FieldsMode);

/// The fields decision for `path` (and clip) under `mode`, analysed once
/// per process: every chunk of a run, `join` and the plan see the same one.
pub fn decide(
    path: &Path,
    clip: Option<ClipRange>,
    mode: FieldsMode,
    flagged_interlaced: bool,
) -> Result<Decision> {
    static CACHE: OnceLock<Mutex<HashMap<DecisionKey, Decision>>> = OnceLock::new();
    let key: DecisionKey = (
        path.to_path_buf(),
        clip.map(|c| (c.start.to_bits(), c.end.map(f64::to_bits))),
        mode,
    );
    let cache = CACHE.get_or_init(Default::default);
    if let Some(d) = cache.lock().ok().and_then(|c| c.get(&key).copied()) {
        return Ok(d);
    }
    // Explicit modes still measure (for the report's "found"), except
    // progressive, which promises the frames untouched and costs nothing.
    let (stats, anchor) = match mode {
        FieldsMode::Progressive => (None, 0),
        _ => {
            let (s, a) = analyse(path, clip)?;
            (Some(s), a)
        }
    };
    let d = Decision::anchored(mode, stats, flagged_interlaced, anchor);
    if let Ok(mut c) = cache.lock() {
        c.insert(key, d);
    }
    Ok(d)
}

/// The libavfilter part: `fieldmatch` + `bwdif` (deinterlace only what is
/// still combed) for film, `bwdif` on everything for interlace.
struct Graph {
    graph: ff::filter::Graph,
    /// The stream's time base (frames in) and the sink's (frames out).
    stream_tb: Rational,
    sink_tb: Rational,
}

impl Graph {
    fn spec(apply: Apply) -> Option<String> {
        match apply {
            Apply::Nothing => None,
            Apply::Film { order } => Some(format!(
                "fieldmatch=order={o},bwdif=mode=send_frame:parity={o}:deint=interlaced",
                o = order.ffmpeg()
            )),
            Apply::Deinterlace { order } => Some(format!(
                "bwdif=mode=send_frame:parity={}:deint=all",
                order.ffmpeg()
            )),
        }
    }

    fn new(
        path: &Path,
        apply: Apply,
        first: &ff::frame::Video,
        tb: Rational,
    ) -> Result<Option<Graph>> {
        let Some(spec) = Self::spec(apply) else {
            return Ok(None);
        };
        let fail = |what: &str, e: ff::Error| {
            Error::unsupported(
                path,
                format!(
                    "cannot {what} for --fields (pixel format {}): {}; run with --fields progressive to skip field processing",
                    pixel_name(first.format()),
                    describe(e)
                ),
            )
        };
        let mut graph = ff::filter::Graph::new();
        let sar = first.aspect_ratio();
        let (sn, sd) = if sar.numerator() > 0 && sar.denominator() > 0 {
            (sar.numerator(), sar.denominator())
        } else {
            (1, 1)
        };
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={sn}/{sd}",
            first.width(),
            first.height(),
            ff::ffi::AVPixelFormat::from(first.format()) as i32,
            tb.numerator(),
            tb.denominator(),
        );
        let buffer = ff::filter::find("buffer").ok_or_else(|| {
            Error::unsupported(
                path,
                "FFmpeg has no 'buffer' filter (libavfilter incomplete)",
            )
        })?;
        let sink = ff::filter::find("buffersink").ok_or_else(|| {
            Error::unsupported(
                path,
                "FFmpeg has no 'buffersink' filter (libavfilter incomplete)",
            )
        })?;
        graph
            .add(&buffer, "in", &args)
            .map_err(|e| fail("set up the filter input", e))?;
        graph
            .add(&sink, "out", "")
            .map_err(|e| fail("set up the filter output", e))?;
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| p.parse(&spec))
            .map_err(|e| fail(&format!("build the filter graph '{spec}'"), e))?;
        graph
            .validate()
            .map_err(|e| fail(&format!("configure the filter graph '{spec}'"), e))?;
        let sink_tb = graph
            .get("out")
            .map(|mut c| c.sink().time_base())
            .unwrap_or(tb);
        Ok(Some(Graph {
            graph,
            stream_tb: tb,
            sink_tb,
        }))
    }

    fn push(&mut self, frame: Option<&ff::frame::Video>) -> std::result::Result<(), ff::Error> {
        let Some(mut ctx) = self.graph.get("in") else {
            return Err(ff::Error::Bug);
        };
        match frame {
            Some(f) => ctx.source().add(f),
            None => ctx.source().flush(),
        }
    }

    /// The next filtered frame, pts back in the stream's time base.
    fn pull(&mut self) -> Option<ff::frame::Video> {
        let mut ctx = self.graph.get("out")?;
        let mut frame = ff::frame::Video::empty();
        ctx.sink().frame(&mut frame).ok()?;
        let pts = frame
            .pts()
            .map(|p| rescale(p, self.sink_tb, self.stream_tb));
        frame.set_pts(pts);
        Some(frame)
    }
}

/// What the fields step did (report).
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct FieldsStats {
    /// Frames that came out of the decoder.
    pub frames_in: u64,
    /// Frames handed on.
    pub frames_out: u64,
    /// Frames dropped as telecine repeats.
    pub repeats_dropped: u64,
    /// Cycles of 5 retimed as 4 film frames.
    pub film_cycles: u64,
    /// Frames `fieldmatch` could not match and were deinterlaced (film), or
    /// every frame (interlace).
    pub deinterlaced: u64,
}

impl FieldsStats {
    pub fn add(&mut self, o: &FieldsStats) {
        self.frames_in += o.frames_in;
        self.frames_out += o.frames_out;
        self.repeats_dropped += o.repeats_dropped;
        self.film_cycles += o.film_cycles;
        self.deinterlaced += o.deinterlaced;
    }
}

/// The fields step between a [`Source`] and the decoder's frames.
pub(super) struct FieldStep {
    path: PathBuf,
    decision: Decision,
    graph: Option<Graph>,
    decimator: Option<Decimator<ff::frame::Video>>,
    prev: Option<Luma>,
    ready: VecDeque<ff::frame::Video>,
    /// Output pts range to keep (chunks decode a margin on both sides).
    keep: (Option<i64>, Option<i64>),
    flushed: bool,
    pub stats: FieldsStats,
}

impl FieldStep {
    /// `frame_ticks`: one video frame of the input in stream ticks.
    pub fn new(
        path: &Path,
        decision: Decision,
        first: &ff::frame::Video,
        tb: Rational,
        frame_ticks: f64,
        keep: (Option<i64>, Option<i64>),
    ) -> Result<FieldStep> {
        let graph = Graph::new(path, decision.apply, first, tb)?;
        let decimator = matches!(decision.apply, Apply::Film { .. })
            .then(|| Decimator::new(frame_ticks, decision.anchor_pts));
        Ok(FieldStep {
            path: path.to_path_buf(),
            decision,
            graph,
            decimator,
            prev: None,
            ready: VecDeque::new(),
            keep,
            flushed: false,
            stats: FieldsStats::default(),
        })
    }

    /// Feed the frame the decoder opened with.
    pub fn push_first(&mut self, raw: ff::frame::Video) -> Result<()> {
        self.stats.frames_in += 1;
        self.filter(Some(&raw))
    }

    /// The next frame after field processing, in order.
    pub fn next(
        &mut self,
        source: &mut Source,
        stats: &mut DecodeStats,
        frame_no: u64,
    ) -> Result<Option<ff::frame::Video>> {
        loop {
            if let Some(f) = self.ready.pop_front() {
                let pts = f.pts().unwrap_or(0);
                if self.keep.0.is_some_and(|s| pts < s) {
                    continue;
                }
                if self.keep.1.is_some_and(|e| pts > e) {
                    self.ready.clear();
                    self.flushed = true;
                    return Ok(None);
                }
                self.stats.frames_out += 1;
                return Ok(Some(f));
            }
            if self.flushed {
                return Ok(None);
            }
            let raw = source.decode_raw(stats, frame_no)?;
            if raw.is_some() {
                self.stats.frames_in += 1;
            }
            self.filter(raw.as_ref())?;
            if raw.is_none() {
                self.flushed = true;
                if let Some(d) = self.decimator.as_mut() {
                    self.ready.extend(d.finish().into_iter().map(with_pts));
                }
            }
        }
    }

    /// Through the graph (or straight on), then the decimator.
    fn filter(&mut self, raw: Option<&ff::frame::Video>) -> Result<()> {
        let mut out = Vec::new();
        match self.graph.as_mut() {
            Some(g) => {
                g.push(raw).map_err(|e| Error::Decode {
                    path: self.path.clone(),
                    frame: self.stats.frames_in,
                    reason: format!("field processing failed: {}", describe(e)),
                })?;
                while let Some(f) = g.pull() {
                    out.push(f);
                }
            }
            None => out.extend(raw.cloned()),
        }
        for f in out {
            if f.is_interlaced() || matches!(self.decision.apply, Apply::Deinterlace { .. }) {
                self.stats.deinterlaced += 1;
            }
            let mut f = f;
            // What comes out is progressive, whatever came in.
            // SAFETY: plain field writes on a frame we own.
            unsafe {
                (*f.as_mut_ptr()).interlaced_frame = 0;
                (*f.as_mut_ptr()).top_field_first = 0;
            }
            match self.decimator.as_mut() {
                None => self.ready.push_back(f),
                Some(d) => {
                    let luma = Luma::of(&f);
                    let change = match (&self.prev, &luma) {
                        (Some(p), Some(l)) => repeat_change(p.plane(), l.plane()),
                        _ => f32::INFINITY,
                    };
                    self.prev = luma;
                    let pts = f.pts().unwrap_or(0);
                    self.ready
                        .extend(d.push(pts, change, f).into_iter().map(with_pts));
                }
            }
        }
        if let Some(d) = self.decimator.as_ref() {
            self.stats.repeats_dropped = d.dropped;
            self.stats.film_cycles = d.film_cycles;
        }
        Ok(())
    }
}

fn with_pts((pts, mut f): (i64, ff::frame::Video)) -> ff::frame::Video {
    f.set_pts(Some(pts));
    f
}
