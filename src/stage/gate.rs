//! Gate stage: labels every transition CUT / HOLD / MOTION / FLASH and
//! gives each frame the identity of the distinct picture it shows. The
//! same stage feeds `enhance` and `info --gate`, so what `info --gate`
//! shows is exactly what `enhance` decides. [`gate_file`] is the one pass
//! that decodes and gates a whole file outside `enhance` (`info --gate`,
//! `plan`, `triplets`).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use super::{DecodeAhead, Report, Stage};
use crate::error::{Error, Result};
use crate::gate::{Class, Gate, GateParams, Sample, Transition};
use crate::media::decode::VideoDecoder;
use crate::model::RunModels;
use crate::picture::Frame;

/// An input frame with the gate's verdict: what the gate stage hands on.
#[derive(Clone, Debug)]
pub struct Gated {
    pub frame: Frame,
    /// Label of the transition from the previous frame (None for the first).
    pub class: Option<Class>,
    /// Identity of the picture: frames repeating a drawing share the id of
    /// its first frame, so later stages can reuse results.
    pub picture_id: u64,
}

/// Counters for the report (`gate.*`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GateCounts {
    pub cut: u64,
    pub hold: u64,
    pub motion: u64,
    /// Transitions into, inside or out of a flash (not cuts).
    pub flash: u64,
    /// Distinct pictures (frames that are not a HOLD of the previous one).
    pub distinct: u64,
}

impl GateCounts {
    /// Add another run's counts (the chunks of one run).
    pub fn add(&mut self, o: &GateCounts) {
        self.cut += o.cut;
        self.hold += o.hold;
        self.motion += o.motion;
        self.flash += o.flash;
        self.distinct += o.distinct;
    }
}

/// Labels decided before (by a plan), handed out in order instead of
/// classifying again, with a check that the frames are the ones the plan
/// saw (the same count and the same timestamps).
pub struct Replay {
    /// Incoming label of each frame from the first on (the first's is unused).
    pub labels: VecDeque<Class>,
    /// [`pts_digest`] of the frames' pts, as the plan recorded it.
    pub pts_digest: u64,
    /// The input, for the error when the frames differ.
    pub input: std::path::PathBuf,
    seen: u64,
    /// The frames are one chunk of a run: whether it starts the run, and
    /// whether its last frame is the next chunk's first (a lookahead).
    part: Option<(bool, bool)>,
    /// The first frame's incoming label.
    first_label: Option<Class>,
}

impl Replay {
    pub fn new(labels: Vec<Class>, pts_digest: u64, input: std::path::PathBuf) -> Replay {
        Replay {
            labels: labels.into(),
            pts_digest,
            input,
            seen: PTS_DIGEST_SEED,
            part: None,
            first_label: None,
        }
    }

    /// These frames are one chunk of a run (`starts_run`: the first chunk;
    /// `lookahead`: the last frame is the next chunk's first): the counts
    /// then add up over the chunks to the whole run's. The first frame is
    /// a distinct picture only where the run's would be (it starts the run,
    /// or its incoming label is not a HOLD), and the lookahead frame is the
    /// next chunk's to count (its incoming transition stays this chunk's:
    /// the next chunk does not count its first frame's).
    pub fn part(mut self, starts_run: bool, lookahead: bool) -> Replay {
        self.part = Some((starts_run, lookahead));
        self
    }

    fn changed(&self) -> Error {
        Error::input(
            &self.input,
            "the video is not what the plan saw (other frames or timestamps): the input changed since the plan was made; make a new plan",
        )
    }
}

const PTS_DIGEST_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// Add one pts to a running digest (FNV-1a over its bytes): a cheap,
/// stable fingerprint of a run of timestamps for plans to record.
pub fn pts_digest(seen: u64, pts: i64) -> u64 {
    pts.to_le_bytes().iter().fold(seen, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The digest of a whole run of pts.
pub fn pts_digest_of(pts: impl IntoIterator<Item = i64>) -> u64 {
    pts.into_iter().fold(PTS_DIGEST_SEED, pts_digest)
}

pub struct GateStage {
    /// None: gating switched off (benchmarks): every transition is MOTION
    /// and every frame a distinct picture.
    gate: Option<Gate>,
    /// Labels from a plan instead of the classifier.
    replay: Option<Replay>,
    pending: VecDeque<Frame>,
    labels: HashMap<u64, Class>,
    first: Option<u64>,
    last_id: u64,
    /// Whether the last frame handed on counted as a distinct picture.
    last_counted: bool,
    /// Every labelled transition, kept when asked (`info --gate`).
    log: Option<Vec<Transition>>,
    pub counts: GateCounts,
}

impl GateStage {
    pub fn new(params: GateParams) -> GateStage {
        Self::with(Some(Gate::new(params)))
    }

    /// Gating off: every frame goes through every model (for measuring
    /// what gating and reuse save).
    pub fn disabled() -> GateStage {
        Self::with(None)
    }

    /// A plan's labels for exactly these frames (see [`Replay`]).
    pub fn replay(replay: Replay) -> GateStage {
        let mut stage = Self::with(None);
        stage.replay = Some(replay);
        stage
    }

    /// Keep every labelled transition with its scores ([`Self::transitions`]).
    pub fn keep_transitions(mut self) -> GateStage {
        self.log = Some(Vec::new());
        self
    }

    /// The transitions kept by [`Self::keep_transitions`], in order.
    pub fn transitions(&mut self) -> Vec<Transition> {
        self.log.take().unwrap_or_default()
    }

    fn with(gate: Option<Gate>) -> GateStage {
        GateStage {
            gate,
            replay: None,
            pending: VecDeque::new(),
            labels: HashMap::new(),
            first: None,
            last_id: 0,
            last_counted: false,
            log: None,
            counts: GateCounts::default(),
        }
    }

    fn count(&mut self, class: Class) {
        match class {
            Class::Cut => self.counts.cut += 1,
            Class::Hold => self.counts.hold += 1,
            Class::Motion => self.counts.motion += 1,
            Class::Flash => self.counts.flash += 1,
        }
    }

    fn record(&mut self, transitions: Vec<Transition>) {
        for t in &transitions {
            self.count(t.class);
            self.labels.insert(t.to, t.class);
        }
        if let Some(log) = self.log.as_mut() {
            log.extend(transitions);
        }
    }

    fn emit_ready(&mut self, flush: bool) -> Vec<Gated> {
        let mut out = Vec::new();
        while let Some(front) = self.pending.front() {
            let index = front.index;
            let class = if Some(index) == self.first {
                None
            } else {
                match self.labels.remove(&index) {
                    Some(c) => Some(c),
                    // Only at the very end can a label be missing (the
                    // classifier never saw a successor): treat as motion.
                    None if flush => Some(Class::Motion),
                    None => break,
                }
            };
            let Some(frame) = self.pending.pop_front() else {
                break;
            };
            let picture_id = match class {
                Some(Class::Hold) => self.last_id,
                _ => index,
            };
            // A chunk's first frame continuing a hold of the previous
            // chunk's last is no new picture of the run.
            let held_over = class.is_none()
                && self.replay.as_ref().is_some_and(|r| {
                    matches!(r.part, Some((false, _))) && r.first_label == Some(Class::Hold)
                });
            self.last_counted = class != Some(Class::Hold) && !held_over;
            if self.last_counted {
                self.counts.distinct += 1;
            }
            self.last_id = picture_id;
            out.push(Gated {
                frame,
                class,
                picture_id,
            });
        }
        out
    }
}

impl Stage for GateStage {
    type In = Frame;
    type Out = Gated;

    fn push(&mut self, frame: Frame) -> Result<Vec<Gated>> {
        if self.first.is_none() {
            self.first = Some(frame.index);
        }
        if let Some(r) = self.replay.as_mut() {
            let Some(class) = r.labels.pop_front() else {
                return Err(r.changed());
            };
            r.seen = pts_digest(r.seen, frame.pts);
            if Some(frame.index) == self.first {
                r.first_label = Some(class);
            } else {
                self.count(class);
                self.labels.insert(frame.index, class);
            }
            self.pending.push_back(frame);
            return Ok(self.emit_ready(false));
        }
        let transitions = match self.gate.as_mut() {
            Some(g) => g.push(Sample::of(frame.picture.clone())),
            None => Vec::new(),
        };
        let flush = self.gate.is_none();
        self.pending.push_back(frame);
        self.record(transitions);
        Ok(self.emit_ready(flush))
    }

    fn finish(&mut self) -> Result<Vec<Gated>> {
        if let Some(r) = &self.replay {
            if !r.labels.is_empty() || r.seen != r.pts_digest {
                return Err(r.changed());
            }
            // Every frame was handed on as it came: the last one was the
            // lookahead.
            if matches!(r.part, Some((_, true))) && self.last_counted {
                self.counts.distinct -= 1;
                self.last_counted = false;
            }
        }
        let transitions = match self.gate.as_mut() {
            Some(g) => g.finish(),
            None => Vec::new(),
        };
        self.record(transitions);
        Ok(self.emit_ready(true))
    }

    fn report(self, report: &mut Report, _models: &mut RunModels) {
        report.gate = Some(self.counts);
    }
}

/// What a [`gate_file`] pass does along the way, frame by frame.
pub trait GatePass {
    /// A decoded frame before the gate: the frame to gate (renumbered if
    /// need be), or None to pass it by ungated.
    fn before(&mut self, frame: Frame) -> Option<Frame> {
        Some(frame)
    }
    /// A frame with its label, in order.
    fn gated(&mut self, gated: Gated);
    /// After each decoded frame (`read` so far, this one included) and
    /// whatever the gate handed on for it: go on, or stop without
    /// finishing the gate.
    fn after(&mut self, _read: u64) -> Next {
        Next::Go
    }
}

/// A closure takes every gated frame and never stops the pass.
impl<F: FnMut(Gated)> GatePass for F {
    fn gated(&mut self, gated: Gated) {
        self(gated)
    }
}

/// Whether a [`gate_file`] pass goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Go,
    Stop,
}

/// How a [`gate_file`] pass ended.
#[derive(Debug)]
pub struct PassEnd {
    /// Frames received from the decoder (the one it stopped at included).
    pub read: u64,
    /// Stopped by the abort flag.
    pub aborted: bool,
    /// Stopped by [`GatePass::after`].
    pub stopped: bool,
    /// The decode thread's own end: its error, if any, for the caller to
    /// rank against its own.
    pub decoded: Result<()>,
}

/// Decode `decoder` in a thread of its own (frames until `keep` turns one
/// away) and run every frame through `gate`, handing the labelled frames
/// to `pass`: the one "decode and gate a whole file" of `info --gate`,
/// `plan` and `triplets`. The gate is finished at the end unless the pass
/// was aborted (`abort`, checked once per frame) or stopped; the decode
/// thread is joined either way. An error of the gate ends the pass at once.
pub fn gate_file(
    decoder: VideoDecoder,
    keep: impl Fn(&Frame) -> bool + Send + 'static,
    gate: &mut GateStage,
    abort: Option<&AtomicBool>,
    pass: &mut impl GatePass,
) -> Result<PassEnd> {
    let decode = DecodeAhead::spawn(decoder, keep)?;
    let (mut read, mut aborted, mut stopped) = (0u64, false, false);
    for frame in decode.frames.iter() {
        read += 1;
        if abort.is_some_and(|a| a.load(Ordering::SeqCst)) {
            aborted = true;
            break;
        }
        if let Some(frame) = pass.before(frame) {
            gate.push(frame)?.into_iter().for_each(|g| pass.gated(g));
        }
        if pass.after(read) == Next::Stop {
            stopped = true;
            break;
        }
    }
    if !aborted && !stopped {
        gate.finish()?.into_iter().for_each(|g| pass.gated(g));
    }
    let decoded = decode.join();
    Ok(PassEnd {
        read,
        aborted,
        stopped,
        decoded,
    })
}
