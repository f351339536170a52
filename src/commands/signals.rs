//! Stop signals: the first stops the run cleanly, the second at once.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

/// The first stop signal received (0: none yet).
static FIRST_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// The first stop signal received (0: none yet).
pub fn first_signal() -> i32 {
    FIRST_SIGNAL.load(Ordering::SeqCst)
}

/// First SIGINT (Ctrl-C), SIGTERM or SIGHUP: set the abort flag, so the
/// run stops cleanly (no output under the target name, a chunked run's
/// finished chunks kept) and says so in one line; the exit code is then
/// 128 + that signal (130, 143, 129). Second: remove temporary outputs
/// and lock files and exit at once with 128 + the second signal. The
/// signals are read on a thread of their own (signal-hook's iterator), so
/// nothing here runs in a signal handler.
pub fn install_handler(abort: Arc<AtomicBool>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("warning: cannot catch Ctrl-C and SIGTERM ({e}); they stop the run at once");
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signo in signals.forever() {
                let first = FIRST_SIGNAL
                    .compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
                if first {
                    abort.store(true, Ordering::SeqCst);
                } else {
                    ainimotion::media::mux::remove_partial_outputs();
                    ainimotion::output_lock::remove_lock_files();
                    std::process::exit(128 + signo);
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("warning: cannot watch for Ctrl-C and SIGTERM ({e})");
    }
}
