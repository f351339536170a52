//! The library's error type: what callers branch on, with messages that name
//! the file, stream or setting and say what was expected.

use std::path::PathBuf;

/// Errors returned by the ainimotion library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input file does not exist or cannot be read.
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },

    /// The input has no stream we can work on, or its video cannot be decoded.
    #[error("{path}: {reason}")]
    Unsupported { path: PathBuf, reason: String },

    /// Decoding failed in the middle of the file.
    #[error("{path}: decoding failed at frame {frame}: {reason}")]
    Decode {
        path: PathBuf,
        frame: u64,
        reason: String,
    },

    /// The output cannot be created or written: it exists (without `-y`),
    /// its name or folder is wrong, or the disk is full. Exit code 4, so a
    /// script can tell a storage problem from a bug.
    #[error("{path}: {reason}")]
    Output { path: PathBuf, reason: String },

    /// The output (or its work folder) is in use by another run. Exit
    /// code 2, as for the other refusals before any work (`slurm`'s "jobs
    /// still queued"): nothing was done and nothing is wrong with the disk,
    /// so 4's remedy (free space, fix the folder) would mislead.
    #[error("{path}: {reason}")]
    InUse { path: PathBuf, reason: String },

    /// A program we run (sbatch) refused the work or answered what we
    /// cannot read; `path` is what we gave it. Not an I/O failure: exit 3.
    #[error("{path}: {reason}")]
    Refused { path: PathBuf, reason: String },

    /// The encoder refused the settings or failed.
    #[error("encoder {codec}: {reason}")]
    Encode { codec: String, reason: String },

    /// A setting (flag, preset or config file) is invalid.
    #[error("{0}")]
    Config(String),

    /// A model or the ONNX Runtime failed; the model layer's own message.
    /// It holds a `model::ModelError` (downcast to branch on it), made by
    /// the `From` in `src/model/error.rs`, so that this file, below every
    /// other module, names none of them.
    #[error(transparent)]
    Model(Box<dyn std::error::Error + Send + Sync>),

    /// Our own bug (a stage thread panicked, frames out of order): not the
    /// user's input or settings. Exit code 3.
    #[error("internal error: {0} (this is a bug in ainimotion; please report it)")]
    Internal(String),

    /// The user interrupted the run (Ctrl-C / SIGTERM).
    #[error("interrupted; no output was written")]
    Interrupted,

    /// The user interrupted a chunked run: the chunks done are kept.
    #[error(
        "interrupted; {done} of {total} chunks are done and kept in {}: the same command resumes from there",
        work.display()
    )]
    InterruptedResumable {
        work: PathBuf,
        done: usize,
        total: usize,
    },

    /// A pipeline stage stopped because its neighbour went away. Never the
    /// root cause: the pipeline reports the neighbour's error instead.
    #[error("pipeline stage '{0}' lost its neighbour")]
    Disconnected(&'static str),
}

impl Error {
    pub fn input(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Input {
            path: path.into(),
            reason: reason.into(),
        }
    }
    pub fn unsupported(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Unsupported {
            path: path.into(),
            reason: reason.into(),
        }
    }
    pub fn output(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Error::Output {
            path: path.into(),
            reason: reason.into(),
        }
    }
    pub fn encode(codec: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Encode {
            codec: codec.into(),
            reason: reason.into(),
        }
    }

    /// Exit code for this error: 2 bad settings/input (or the output in
    /// use by another run), 3 failure while working (and our bugs), 4 the
    /// output cannot be written, 130 interrupted (the binary says 143 for
    /// SIGTERM).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_)
            | Error::Input { .. }
            | Error::Unsupported { .. }
            | Error::InUse { .. } => 2,
            Error::Output { .. } => 4,
            Error::Interrupted | Error::InterruptedResumable { .. } => 130,
            _ => 3,
        }
    }

    /// The user stopped the run (either kind of interruption).
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            Error::Interrupted | Error::InterruptedResumable { .. }
        )
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
