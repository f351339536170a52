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
pub mod guard;
pub mod interp;
pub mod report;
pub mod runner;
pub mod upscale;

pub use report::Report;
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

/// Frames decoded ahead in a thread of its own (named "decode"), for the
/// passes outside `enhance` that read a whole video beside the decoder
/// (`info --gate`, `plan`, `triplets`). The thread runs the same loop as a
/// run's decode stage ([`decode_into`]) under a state of its own, and
/// stops at the end of the video, when `keep` turns a frame away, or when
/// `frames` is dropped.
pub struct DecodeAhead {
    pub frames: crossbeam_channel::Receiver<crate::picture::Frame>,
    handle: std::thread::JoinHandle<crate::error::Result<()>>,
}

impl DecodeAhead {
    pub fn spawn(
        mut decoder: crate::media::decode::VideoDecoder,
        keep: impl Fn(&crate::picture::Frame) -> bool + Send + 'static,
    ) -> crate::error::Result<DecodeAhead> {
        let (tx, frames) = crossbeam_channel::bounded(DECODE_QUEUE);
        let handle = std::thread::Builder::new()
            .name("decode".into())
            .spawn(move || -> crate::error::Result<()> {
                let state = RunState::new(Arc::new(AtomicBool::new(false)));
                let meter = StageMeter::default();
                decode_into(&mut decoder, &tx, &state, &meter, &keep, None);
                state.take_error().map_or(Ok(()), Err)
            })
            .map_err(|e| Error::Internal(format!("cannot start the decode thread: {e}")))?;
        Ok(DecodeAhead { frames, handle })
    }

    /// Stop reading and wait for the thread: its decode error, if any.
    pub fn join(self) -> crate::error::Result<()> {
        drop(self.frames);
        self.handle
            .join()
            .map_err(|_| Error::Internal("the decode stage panicked".into()))?
    }
}

/// The one decode loop, for a run's decode stage and for [`DecodeAhead`]:
/// frames from `decoder` into `tx`, timed into `meter`, until the input
/// ends (then the decoder's final counts). It stops early, with `None`, on
/// an abort, a frame `keep` turns away, a closed receiver, a decode error
/// or the injected failure `fail` (errors are recorded in `state`).
pub(crate) fn decode_into(
    decoder: &mut crate::media::decode::VideoDecoder,
    tx: &crossbeam_channel::Sender<crate::picture::Frame>,
    state: &RunState,
    meter: &StageMeter,
    keep: &dyn Fn(&crate::picture::Frame) -> bool,
    fail: Option<FailPoint>,
) -> Option<crate::media::decode::DecodeStats> {
    for n in 0u64.. {
        if state.aborted() {
            return None;
        }
        if let Err(e) = FailPoint::check(fail, "decode", n) {
            state.fail(e);
            return None;
        }
        let t = Instant::now();
        let next = decoder.next_frame();
        meter.add_busy(t.elapsed());
        match next {
            Ok(Some(frame)) if keep(&frame) => {
                meter.frames.fetch_add(1, Ordering::Relaxed);
                if !send_or_abort(tx, frame, state) {
                    state.fail(Error::Disconnected("decode"));
                    return None;
                }
            }
            Ok(Some(_)) => return None,
            Ok(None) => return Some(decoder.final_stats()),
            Err(e) => {
                state.fail(e);
                return None;
            }
        }
    }
    None
}

/// Shared state of one run.
pub struct RunState {
    pub abort: Arc<AtomicBool>,
    first_error: Mutex<Option<Error>>,
    warnings: Mutex<Vec<String>>,
}

impl RunState {
    pub fn new(abort: Arc<AtomicBool>) -> RunState {
        RunState {
            abort,
            first_error: Mutex::new(None),
            warnings: Mutex::new(Vec::new()),
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

    /// Record warnings a stage raised (shown by the watching thread).
    pub fn warn(&self, messages: Vec<String>) {
        if messages.is_empty() {
            return;
        }
        if let Ok(mut w) = self.warnings.lock() {
            w.extend(messages);
        }
    }

    /// The warnings recorded since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
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
    /// Warnings the stage raised since the last call; the run shows them
    /// and lists them in the report.
    fn take_warnings(&mut self) -> Vec<String> {
        Vec::new()
    }
    /// Once the run has ended cleanly: the stage's figures into `report`
    /// (its counts, its model time) and its model, if it holds one, back
    /// into `models` for the next chunk of a plan to reuse. Nothing by
    /// default.
    fn report(self, _report: &mut Report, _models: &mut crate::model::RunModels)
    where
        Self: Sized,
    {
    }
}

/// How often a stage waiting to hand on an item looks at the abort flag.
pub const SEND_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// Hand `item` to the next stage, waiting while its queue is full, but
/// never past an abort: when any stage has failed (or the user stopped the
/// run), a full queue may never drain (its reader is gone, or the runner's
/// queue-length probe keeps the channel open), so waiting on it would hang
/// the run. Returns false when the item could not be handed on.
pub fn send_or_abort<T>(tx: &crossbeam_channel::Sender<T>, item: T, state: &RunState) -> bool {
    let mut item = item;
    loop {
        match tx.send_timeout(item, SEND_POLL) {
            Ok(()) => return true,
            Err(crossbeam_channel::SendTimeoutError::Timeout(back)) => {
                if state.aborted() {
                    return false;
                }
                item = back;
            }
            Err(crossbeam_channel::SendTimeoutError::Disconnected(_)) => return false,
        }
    }
}

/// A failure injected into one stage, to prove that any stage's failure
/// stops the others: `AINIMOTION_FAIL_STAGE=NAME:N` makes stage NAME
/// (decode, gate, interp, upscale, encode) fail on its N-th item,
/// `NAME:N:panic` panic there. Honoured in debug builds only (the test
/// suite's binary); a release build never reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailPoint {
    at: u64,
    panic: bool,
}

impl FailPoint {
    /// The fail point set for stage `name`, if any.
    pub fn for_stage(name: &str) -> Option<FailPoint> {
        if !cfg!(debug_assertions) {
            return None;
        }
        Self::parse(&std::env::var("AINIMOTION_FAIL_STAGE").ok()?, name)
    }

    fn parse(spec: &str, name: &str) -> Option<FailPoint> {
        let mut parts = spec.split(':');
        if parts.next()? != name {
            return None;
        }
        let at = parts.next()?.parse().ok()?;
        let panic = parts.next() == Some("panic");
        Some(FailPoint { at, panic })
    }

    /// Fail (or panic) when this is item `n` (counting from 0).
    pub fn check(point: Option<FailPoint>, name: &str, n: u64) -> Result<(), Error> {
        match point {
            Some(p) if p.at == n => {
                if p.panic {
                    panic!("injected panic in stage {name} at item {n}");
                }
                Err(Error::Internal(format!(
                    "injected failure in stage {name} at item {n}"
                )))
            }
            _ => Ok(()),
        }
    }
}

/// Fails the run when its stage thread panics, while the stage's channels
/// still stand: declared first in a stage's body, it is dropped before the
/// body's arguments (its queues), so the stages after it see the abort
/// before they see their input end, and none of them finishes a
/// truncated output.
pub struct PanicGuard<'a> {
    state: &'a RunState,
    name: &'static str,
}

impl<'a> PanicGuard<'a> {
    pub fn new(state: &'a RunState, name: &'static str) -> PanicGuard<'a> {
        PanicGuard { state, name }
    }
}

impl Drop for PanicGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.state
                .fail(Error::Internal(format!("the {} stage panicked", self.name)));
        }
    }
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
            if !send_or_abort(&tx, o, state) {
                state.fail(Error::Disconnected(name));
                return false;
            }
        }
        true
    };
    let _guard = PanicGuard::new(state, name);
    let fail = FailPoint::for_stage(name);
    for (n, item) in rx.iter().enumerate() {
        if state.aborted() {
            return None;
        }
        if let Err(e) = FailPoint::check(fail, name, n as u64) {
            state.fail(e);
            return None;
        }
        let pushed = meter.time(|| stage.push(item));
        state.warn(stage.take_warnings());
        match pushed {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (a full disk hung a chunked run): the encoder died, the
    /// runner's queue probe still held a receiver, and decode waited on the
    /// full queue forever. A send into a full queue must give up once the
    /// run is aborted.
    #[test]
    fn a_send_into_a_full_queue_gives_up_when_the_run_aborts() {
        let state = Arc::new(RunState::new(Arc::new(AtomicBool::new(false))));
        let (tx, rx) = crossbeam_channel::bounded::<u32>(1);
        let _probe = rx.clone(); // what the runner's queue probe holds
        drop(rx);
        assert!(send_or_abort(&tx, 1, &state));
        let s = state.clone();
        let waiter = std::thread::spawn(move || send_or_abort(&tx, 2, &s));
        std::thread::sleep(SEND_POLL * 2);
        let started = std::time::Instant::now();
        state.fail(crate::error::Error::Internal("the encoder died".into()));
        assert!(!waiter.join().unwrap());
        assert!(started.elapsed() < SEND_POLL * 5);
    }

    #[test]
    fn fail_points_name_one_stage_and_item() {
        let p = FailPoint::parse("interp:30", "interp");
        assert_eq!(
            p,
            Some(FailPoint {
                at: 30,
                panic: false
            })
        );
        assert_eq!(
            FailPoint::parse("interp:30:panic", "interp").map(|p| p.panic),
            Some(true)
        );
        assert_eq!(FailPoint::parse("interp:30", "gate"), None);
        assert_eq!(FailPoint::parse("interp:x", "interp"), None);
        assert!(FailPoint::check(p, "interp", 29).is_ok());
        assert!(FailPoint::check(p, "interp", 30).is_err());
    }

    /// Doubles its input; raises no warnings (the trait's default).
    struct Doubler;
    impl Stage for Doubler {
        type In = u32;
        type Out = u32;
        fn push(&mut self, x: u32) -> crate::error::Result<Vec<u32>> {
            Ok(vec![2 * x])
        }
        fn finish(&mut self) -> crate::error::Result<Vec<u32>> {
            Ok(Vec::new())
        }
    }

    struct Warner(Vec<String>);
    impl Stage for Warner {
        type In = u32;
        type Out = u32;
        fn push(&mut self, x: u32) -> crate::error::Result<Vec<u32>> {
            if x % 2 == 1 {
                self.0.push(format!("odd {x}"));
            }
            Ok(vec![x])
        }
        fn finish(&mut self) -> crate::error::Result<Vec<u32>> {
            Ok(Vec::new())
        }
        fn take_warnings(&mut self) -> Vec<String> {
            std::mem::take(&mut self.0)
        }
    }

    #[test]
    fn stage_warnings_reach_the_run_state_once() {
        let state = RunState::new(Arc::new(AtomicBool::new(false)));
        let meter = StageMeter::default();
        let (in_tx, in_rx) = crossbeam_channel::bounded(8);
        let (out_tx, out_rx) = crossbeam_channel::bounded(8);
        for x in 0..5u32 {
            in_tx.send(x).expect("room");
        }
        drop(in_tx);
        assert!(run_stage(Warner(Vec::new()), in_rx, out_tx, "warner", &state, &meter).is_some());
        assert_eq!(out_rx.iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert_eq!(state.take_warnings(), ["odd 1", "odd 3"]);
        assert!(state.take_warnings().is_empty(), "taken once");
        // A stage without warnings adds none.
        let (in_tx, in_rx) = crossbeam_channel::bounded(1);
        let (out_tx, out_rx) = crossbeam_channel::bounded(1);
        in_tx.send(1).expect("room");
        drop(in_tx);
        assert!(run_stage(Doubler, in_rx, out_tx, "doubler", &state, &meter).is_some());
        assert_eq!(out_rx.iter().collect::<Vec<_>>(), [2]);
        assert!(state.take_warnings().is_empty());
    }
}
