//! The error type of the model layer: every message is one line and says
//! what was expected and, where there is one, what to do.

use std::path::PathBuf;

/// Result alias for the model layer.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// What can go wrong while locating ONNX Runtime, choosing a device,
/// reading the model manifest, loading a model or running it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The ONNX Runtime shared library is not at the resolved path.
    #[error("ONNX Runtime library not found at {} (run ./setup.sh, or set ORT_DYLIB_PATH / --ort-lib)", path.display())]
    RuntimeNotFound { path: PathBuf },

    /// The file exists but is not a usable ONNX Runtime library.
    #[error("cannot load ONNX Runtime from {}: {reason} (run ./setup.sh, or set ORT_DYLIB_PATH / --ort-lib)", path.display())]
    RuntimeLoad { path: PathBuf, reason: String },

    /// A second, different library was requested after one was loaded.
    #[error("ONNX Runtime is already loaded from {} in this process; cannot also load {}", loaded.display(), requested.display())]
    RuntimeConflict { loaded: PathBuf, requested: PathBuf },

    /// OpenVINO's C library is not at the resolved path.
    #[error("OpenVINO library not found at {} (run ./setup.sh, or set AINIMOTION_OPENVINO_LIB)", path.display())]
    OpenVinoNotFound { path: PathBuf },

    /// The file exists but is not a usable OpenVINO C library.
    #[error("cannot load OpenVINO from {}: {reason} (run ./setup.sh, or set AINIMOTION_OPENVINO_LIB)", path.display())]
    OpenVinoLoad { path: PathBuf, reason: String },

    /// The requested execution provider cannot be used.
    #[error("device {device}: {reason}")]
    DeviceUnavailable { device: String, reason: String },

    /// A setting is out of range.
    #[error("invalid {setting} {value} (expected {expected})")]
    InvalidSetting {
        setting: &'static str,
        value: String,
        expected: String,
    },

    /// The manifest file could not be read.
    #[error("cannot read model manifest {}: {reason}", path.display())]
    ManifestRead { path: PathBuf, reason: String },

    /// The manifest is not valid TOML or does not follow the schema.
    #[error("invalid model manifest {}{location}: {reason}", path.display())]
    ManifestParse {
        path: PathBuf,
        location: String,
        reason: String,
    },

    /// One manifest entry has an impossible value.
    #[error("model '{model}' in {}: {reason}", path.display())]
    ManifestEntry {
        path: PathBuf,
        model: String,
        reason: String,
    },

    /// No entry of that name (or of that kind).
    #[error("no {kind}model named '{name}' in {} (available: {available})", manifest.display())]
    UnknownModel {
        name: String,
        kind: String,
        manifest: PathBuf,
        available: String,
    },

    /// The model file named by the manifest does not exist.
    #[error("model file {} for '{model}' not found (run ./setup.sh to build the models, or fix `file` in {})", path.display(), manifest.display())]
    ModelFileMissing {
        path: PathBuf,
        model: String,
        manifest: PathBuf,
    },

    /// The model file exists but could not be read.
    #[error("cannot read model file {}: {reason}", path.display())]
    ModelFileRead { path: PathBuf, reason: String },

    /// The model file's sha256 differs from the manifest.
    #[error("sha256 mismatch for {}: expected {expected}, got {actual} (the file is corrupt or another version: run ./setup.sh to rebuild it, or fix `sha256` in {})", path.display(), manifest.display())]
    ChecksumMismatch {
        path: PathBuf,
        manifest: PathBuf,
        expected: String,
        actual: String,
    },

    /// ONNX Runtime refused the model file.
    #[error("cannot load model {}: {reason} (the file is not a valid ONNX model for this ONNX Runtime: rebuild it)", path.display())]
    ModelLoad { path: PathBuf, reason: String },

    /// The model's declared inputs/outputs do not match its manifest entry.
    #[error("{message}")]
    ModelIo { path: PathBuf, message: String },

    /// The manifest entry is of the wrong kind for the requested use.
    #[error("model '{model}' is of kind {actual} (expected {expected})")]
    WrongKind {
        model: String,
        actual: &'static str,
        expected: &'static str,
    },

    /// The data handed to a model or to the tiler has the wrong shape.
    #[error("invalid input for {context}: {reason}")]
    BadInput { context: String, reason: String },

    /// ONNX Runtime failed while running the model.
    #[error("inference failed in {}: {reason}", path.display())]
    Inference { path: PathBuf, reason: String },

    /// The device ran out of memory even with the smallest tiles.
    #[error("out of memory even with {tile} px tiles ({reason}); try --device cpu, a smaller model, or a smaller output size")]
    OutOfMemory { tile: usize, reason: String },

    /// A model returned output that does not fit its input (`{model} returned {what}`).
    #[error("{model} returned {what}")]
    BadOutput { model: &'static str, what: String },
}

/// Folds a multi-line message from a library into one line.
pub(crate) fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(line);
    }
    out
}

/// A model error as the library's error, its message unchanged.
impl From<ModelError> for crate::error::Error {
    fn from(e: ModelError) -> Self {
        crate::error::Error::Model(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_folds_lines() {
        assert_eq!(one_line("a\n  b\r\n\nc "), "a; b; c");
        assert_eq!(one_line(""), "");
    }

    #[test]
    fn runtime_not_found_message_is_exact() {
        let e = ModelError::RuntimeNotFound {
            path: PathBuf::from("/x/libonnxruntime.so"),
        };
        assert_eq!(
            e.to_string(),
            "ONNX Runtime library not found at /x/libonnxruntime.so (run ./setup.sh, or set ORT_DYLIB_PATH / --ort-lib)"
        );
    }
}
