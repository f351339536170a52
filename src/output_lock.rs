//! One run per output: an advisory lock on `.NAME.lock` beside the target,
//! held for the whole run.
//!
//! Two runs aimed at one output used to write the same work folder: the
//! second exited 0 and the first died with an internal error (issue 25).
//! Now `enhance` (single or chunked) and `slurm` take this lock before
//! they touch the work folder or the output, and a second run is refused
//! at once with one line naming the first one's pid.
//!
//! The lock is `flock(2)` (through [`File::try_lock`]): the kernel drops it
//! when its process ends, however it ends (SIGKILL, a crash), so a lock
//! file left behind never blocks the next run. The holder writes its pid
//! and host into the file for the refusal's message, and removes the file
//! when it is done (while still holding the lock; see [`OutputLock::acquire`]
//! for why that is safe). Chunks of a plan run by `enhance --plan P --chunk K`
//! (array tasks, in parallel by design) and `join` take no lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Lock files this process holds; removed by [`remove_lock_files`] when a
/// second Ctrl-C ends the process without running destructors.
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remove every lock file of this process (the second-signal path, beside
/// [`crate::media::mux::remove_partial_outputs`]). The locks themselves
/// go with the process.
pub fn remove_lock_files() {
    if let Ok(list) = HELD.lock() {
        for p in list.iter() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The lock file of an output: `.NAME.lock` beside it.
pub fn lock_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.lock"))
}

/// The lock on one output, held until dropped; dropping it removes the
/// lock file.
#[derive(Debug)]
pub struct OutputLock {
    /// The locked file; `None` where the filesystem has no locks.
    file: Option<File>,
    path: PathBuf,
    warning: Option<String>,
}

impl OutputLock {
    /// Lock `target` for this process, or refuse with [`Error::InUse`]
    /// naming the process that holds it. The output's folder must exist
    /// (checked by [`crate::media::mux::check_output`] before).
    ///
    /// The last holder removes the file while it still holds the lock, so
    /// a run that opened the file just before may lock a file that is no
    /// longer at the path: it then sees another inode there (or none) and
    /// tries again with the file that is.
    pub fn acquire(target: &Path) -> Result<OutputLock> {
        let path = lock_path(target);
        for _ in 0..8 {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::output(&path, format!("cannot create the lock file: {e}")))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Err(in_use(target, &mut file)),
                // A filesystem without locks (some network mounts): run
                // unprotected rather than not at all.
                Err(TryLockError::Error(e)) => {
                    return Ok(OutputLock {
                        file: None,
                        path,
                        warning: Some(format!(
                            "{}: cannot lock ({e}); nothing stops a second run on the same output",
                            target.display()
                        )),
                    })
                }
            }
            let same = match (file.metadata(), std::fs::metadata(&path)) {
                (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
                _ => false,
            };
            if !same {
                continue;
            }
            let holder = format!("{}\n{}\n", std::process::id(), host());
            file.set_len(0)
                .and_then(|()| file.write_all(holder.as_bytes()))
                .map_err(|e| Error::output(&path, format!("cannot write the lock file: {e}")))?;
            if let Ok(mut list) = HELD.lock() {
                list.push(path.clone());
            }
            return Ok(OutputLock {
                file: Some(file),
                path,
                warning: None,
            });
        }
        Err(Error::InUse {
            path: target.to_path_buf(),
            reason: format!(
                "its lock file {} keeps changing hands; another ainimotion run is starting on this output",
                path.display()
            ),
        })
    }

    /// A line for the user when the lock could not be taken at all.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock goes with the file handle.
        if self.file.is_some() {
            let _ = std::fs::remove_file(&self.path);
            if let Ok(mut list) = HELD.lock() {
                list.retain(|p| p != &self.path);
            }
        }
    }
}

/// The refusal: who holds the lock, from what it wrote into the file.
fn in_use(target: &Path, file: &mut File) -> Error {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    let mut lines = text.lines();
    let pid = lines
        .next()
        .and_then(|l| l.trim().parse::<u32>().ok())
        .map_or("pid unknown".to_string(), |p| format!("pid {p}"));
    let on = match lines.next().map(str::trim) {
        Some(h) if !h.is_empty() && h != host() => format!(" on {h}"),
        _ => String::new(),
    };
    Error::InUse {
        path: target.to_path_buf(),
        reason: format!(
            "another ainimotion run ({pid}{on}) is writing this output; wait for it to end or stop it, or choose another --out"
        ),
    }
}

/// This machine's name, for a lock seen from another node.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_output_is_refused_with_the_holders_pid() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.mkv");
        let first = OutputLock::acquire(&target).expect("first lock");
        assert!(first.warning().is_none());
        assert!(lock_path(&target).exists());
        // Another open file description conflicts even in one process.
        match OutputLock::acquire(&target) {
            Err(Error::InUse { reason, .. }) => {
                assert!(
                    reason.contains(&format!("pid {}", std::process::id())),
                    "{reason}"
                );
            }
            other => panic!("second lock: {other:?}"),
        }
        drop(first);
        assert!(!lock_path(&target).exists(), "the lock file stays");
        let again = OutputLock::acquire(&target).expect("lock after release");
        drop(again);
    }

    #[test]
    fn a_lock_file_left_behind_does_not_block() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("out.mkv");
        std::fs::write(lock_path(&target), "1\nelsewhere\n").expect("stale lock file");
        let lock = OutputLock::acquire(&target).expect("stale file, no lock");
        let text = std::fs::read_to_string(lock_path(&target)).expect("lock file");
        assert!(
            text.starts_with(&format!("{}\n", std::process::id())),
            "{text}"
        );
        drop(lock);
    }
}
