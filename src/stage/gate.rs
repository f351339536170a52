//! Gate stage: labels every transition CUT / HOLD / MOTION and gives each
//! frame the identity of the distinct picture it shows.

use std::collections::{HashMap, VecDeque};

use serde::Serialize;

use super::interp::Gated;
use crate::error::Result;
use crate::gate::{thumbnail, Class as GateClass, Gate, GateParams, Luma, Transition};
use crate::interp::Class;
use crate::picture::Frame;

/// Counters for the report (`gate.*`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct GateCounts {
    pub cut: u64,
    pub hold: u64,
    pub motion: u64,
    /// Distinct pictures (frames that are not a HOLD of the previous one).
    pub distinct: u64,
}

pub struct GateStage {
    /// None: gating switched off (benchmarks): every transition is MOTION
    /// and every frame a distinct picture.
    gate: Option<Gate>,
    pending: VecDeque<Frame>,
    labels: HashMap<u64, GateClass>,
    first: Option<u64>,
    last_id: u64,
    pub counts: GateCounts,
}

fn to_class(c: GateClass) -> Class {
    match c {
        GateClass::Cut => Class::Cut,
        GateClass::Hold => Class::Hold,
        GateClass::Motion => Class::Motion,
    }
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

    fn with(gate: Option<Gate>) -> GateStage {
        GateStage {
            gate,
            pending: VecDeque::new(),
            labels: HashMap::new(),
            first: None,
            last_id: 0,
            counts: GateCounts::default(),
        }
    }

    fn record(&mut self, transitions: Vec<Transition>) {
        for t in transitions {
            match t.class {
                GateClass::Cut => self.counts.cut += 1,
                GateClass::Hold => self.counts.hold += 1,
                GateClass::Motion => self.counts.motion += 1,
            }
            self.labels.insert(t.to, t.class);
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
                    None if flush => Some(GateClass::Motion),
                    None => break,
                }
            };
            let Some(frame) = self.pending.pop_front() else {
                break;
            };
            let picture_id = match class {
                Some(GateClass::Hold) => self.last_id,
                _ => {
                    self.counts.distinct += 1;
                    index
                }
            };
            self.last_id = picture_id;
            out.push(Gated {
                frame,
                class: class.map(to_class),
                picture_id,
            });
        }
        out
    }

    pub fn push(&mut self, frame: Frame) -> Result<Vec<Gated>> {
        if self.first.is_none() {
            self.first = Some(frame.index);
        }
        let pic = &frame.picture;
        let luma = Luma::of(pic);
        let transitions = match self.gate.as_mut() {
            Some(g) => g.push(thumbnail(&luma)),
            None => Vec::new(),
        };
        let flush = self.gate.is_none();
        self.pending.push_back(frame);
        self.record(transitions);
        Ok(self.emit_ready(flush))
    }

    pub fn finish(&mut self) -> Result<Vec<Gated>> {
        let transitions = match self.gate.as_mut() {
            Some(g) => g.finish(),
            None => Vec::new(),
        };
        self.record(transitions);
        Ok(self.emit_ready(true))
    }
}
