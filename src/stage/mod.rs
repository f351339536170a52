//! The pipeline: decode → gate → interpolate → upscale → encode, one named
//! thread per stage joined by bounded channels.
//!
//! - A stream ends when its sender is dropped; a failed `send` means the next
//!   stage is gone, so the stage stops quietly and the real error surfaces.
//! - One abort flag, checked once per frame, is set by Ctrl-C and by any
//!   failing stage. The first real error (never a knock-on "disconnected")
//!   is the one reported.
//! - The encode stage commits the output only if nothing was aborted.

pub mod gate;
pub mod interp;
pub mod models;
pub mod runner;
pub mod upscale;

pub use runner::{enhance, EnhanceOptions};

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;

/// Channel capacities, chosen by memory: a 1080p 4:2:0 10-bit picture is
/// ~6 MB as u16 planes, a 4K one ~25 MB. Decoded frames are cheap to hold a
/// few dozen of (gating looks ahead); upscaled frames only a handful.
pub const DECODE_QUEUE: usize = 16;
pub const GATE_QUEUE: usize = 16;
pub const UPSCALE_QUEUE: usize = 4;

/// Shared state of one run.
pub struct RunState {
    pub abort: Arc<AtomicBool>,
    first_error: Mutex<Option<Error>>,
}

impl RunState {
    pub fn new(abort: Arc<AtomicBool>) -> RunState {
        RunState {
            abort,
            first_error: Mutex::new(None),
        }
    }

    pub fn aborted(&self) -> bool {
        self.abort.load(Ordering::SeqCst)
    }

    /// Record a stage failure: the first real error wins; knock-on
    /// disconnects are dropped. Sets the abort flag.
    pub fn fail(&self, err: Error) {
        if matches!(err, Error::Disconnected(_)) {
            return;
        }
        self.abort.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.first_error.lock() {
            if slot.is_none() {
                *slot = Some(err);
            }
        }
    }

    pub fn take_error(&self) -> Option<Error> {
        self.first_error.lock().ok().and_then(|mut s| s.take())
    }
}

/// Live counters of one stage, read by the progress display.
#[derive(Default)]
pub struct StageMeter {
    pub frames: AtomicU64,
    busy_ns: AtomicU64,
}

impl StageMeter {
    pub fn add_busy(&self, d: Duration) {
        self.busy_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
    }
    pub fn busy(&self) -> Duration {
        Duration::from_nanos(self.busy_ns.load(Ordering::Relaxed))
    }
    /// Time a closure as busy time.
    pub fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let r = f();
        self.add_busy(t.elapsed());
        r
    }
}

/// One pipeline stage: items in, items out, in order. `finish` flushes
/// whatever the stage still holds when its input ends.
pub trait Stage: Send + 'static {
    type In: Send + 'static;
    type Out: Send + 'static;
    fn push(&mut self, item: Self::In) -> crate::error::Result<Vec<Self::Out>>;
    fn finish(&mut self) -> crate::error::Result<Vec<Self::Out>>;
}

/// The body of a stage thread: receive, process, send, until the input
/// ends (clean: flush and return the stage) or anything fails (record the
/// error, set the abort flag, return None).
pub fn run_stage<S: Stage>(
    mut stage: S,
    rx: crossbeam_channel::Receiver<S::In>,
    tx: crossbeam_channel::Sender<S::Out>,
    name: &'static str,
    state: &RunState,
    meter: &StageMeter,
) -> Option<S> {
    let send_all = |outs: Vec<S::Out>| -> bool {
        for o in outs {
            if tx.send(o).is_err() {
                state.fail(Error::Disconnected(name));
                return false;
            }
        }
        true
    };
    for item in rx.iter() {
        if state.aborted() {
            return None;
        }
        match meter.time(|| stage.push(item)) {
            Ok(outs) => {
                meter.frames.fetch_add(1, Ordering::Relaxed);
                if !send_all(outs) {
                    return None;
                }
            }
            Err(e) => {
                state.fail(e);
                return None;
            }
        }
    }
    if state.aborted() {
        return None;
    }
    match meter.time(|| stage.finish()) {
        Ok(outs) => {
            if !send_all(outs) {
                return None;
            }
        }
        Err(e) => {
            state.fail(e);
            return None;
        }
    }
    Some(stage)
}
