//! Gate stage: labels every transition CUT / HOLD / MOTION / FLASH and
//! gives each frame the identity of the distinct picture it shows. The
//! same stage feeds `enhance` and `info --gate`, so what `info --gate`
//! shows is exactly what `enhance` decides.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::Stage;
use crate::error::Result;
use crate::gate::{Class, Gate, GateParams, Sample, Transition};
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

pub struct GateStage {
    /// None: gating switched off (benchmarks): every transition is MOTION
    /// and every frame a distinct picture.
    gate: Option<Gate>,
    pending: VecDeque<Frame>,
    labels: HashMap<u64, Class>,
    first: Option<u64>,
    last_id: u64,
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
            pending: VecDeque::new(),
            labels: HashMap::new(),
            first: None,
            last_id: 0,
            log: None,
            counts: GateCounts::default(),
        }
    }

    fn record(&mut self, transitions: Vec<Transition>) {
        for t in &transitions {
            match t.class {
                Class::Cut => self.counts.cut += 1,
                Class::Hold => self.counts.hold += 1,
                Class::Motion => self.counts.motion += 1,
                Class::Flash => self.counts.flash += 1,
            }
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
                _ => {
                    self.counts.distinct += 1;
                    index
                }
            };
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
        let transitions = match self.gate.as_mut() {
            Some(g) => g.finish(),
            None => Vec::new(),
        };
        self.record(transitions);
        Ok(self.emit_ready(true))
    }
}
