//! Finding and loading the ONNX Runtime shared library, once per process.
//!
//! Order: an explicit path (the `--ort-lib` flag), else `ORT_DYLIB_PATH`,
//! else the path baked in at build time (`.deps/onnxruntime/lib/` in the
//! crate folder, where `./setup.sh` puts it). Nothing here panics: the file
//! is checked before `ort` sees it, `ort`'s own errors are mapped, and the
//! whole load runs under `catch_unwind` as a last resort.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;

use super::error::{one_line, ModelError, Result};

/// Environment variable that names the library when no explicit path is given.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// Where the library path came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibrarySource {
    /// Given by the caller (`--ort-lib`).
    Explicit,
    /// From the `ORT_DYLIB_PATH` environment variable.
    Environment,
    /// The path baked in at build time.
    Default,
}

impl fmt::Display for LibrarySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Explicit => "--ort-lib",
            Self::Environment => ORT_DYLIB_ENV,
            Self::Default => "built-in default",
        })
    }
}

/// The path baked in at build time: `<crate>/.deps/onnxruntime/lib/libonnxruntime.so`
/// (`.dylib` / `.dll` on other systems).
pub fn default_library_path() -> PathBuf {
    let file = format!(
        "{}onnxruntime{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".deps")
        .join("onnxruntime")
        .join("lib")
        .join(file)
}

/// Resolves which library file to load: `explicit`, else `ORT_DYLIB_PATH`
/// (when set and not empty), else [`default_library_path`].
pub fn resolve_library_path(explicit: Option<&Path>) -> (PathBuf, LibrarySource) {
    resolve_with(explicit, std::env::var_os(ORT_DYLIB_ENV))
}

fn resolve_with(
    explicit: Option<&Path>,
    env_value: Option<std::ffi::OsString>,
) -> (PathBuf, LibrarySource) {
    if let Some(path) = explicit {
        return (path.to_path_buf(), LibrarySource::Explicit);
    }
    match env_value {
        Some(value) if !value.is_empty() => (PathBuf::from(value), LibrarySource::Environment),
        _ => (default_library_path(), LibrarySource::Default),
    }
}

/// The loaded ONNX Runtime: library path, version and the process-wide
/// `ort` environment that every session is created in.
pub struct Runtime {
    path: PathBuf,
    source: LibrarySource,
    build_info: String,
    providers: Vec<String>,
    env: Environment,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("path", &self.path)
            .field("source", &self.source)
            .field("version", &self.version())
            .field("providers", &self.providers)
            .finish_non_exhaustive()
    }
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static LOAD_LOCK: Mutex<()> = Mutex::new(());

impl Runtime {
    /// Loads ONNX Runtime (see the module docs for the search order) or
    /// returns the one already loaded in this process.
    ///
    /// A second call that resolves to a different file is an error: `ort`
    /// holds one library per process.
    pub fn load(explicit: Option<&Path>) -> Result<&'static Runtime> {
        let (path, source) = resolve_library_path(explicit);
        Self::load_from(path, source)
    }

    /// The runtime loaded earlier in this process, if any.
    pub fn get() -> Option<&'static Runtime> {
        RUNTIME.get()
    }

    fn load_from(path: PathBuf, source: LibrarySource) -> Result<&'static Runtime> {
        // The check needs no lock and must come first: a missing file never
        // reaches `ort`, whose fallback loader would panic.
        if !path.is_file() {
            return Err(ModelError::RuntimeNotFound { path });
        }
        let canonical = path.canonicalize().map_err(|e| ModelError::RuntimeLoad {
            path: path.clone(),
            reason: e.to_string(),
        })?;

        let _guard = LOAD_LOCK
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(rt) = RUNTIME.get() {
            if rt.path == canonical {
                return Ok(rt);
            }
            return Err(ModelError::RuntimeConflict {
                loaded: rt.path.clone(),
                requested: canonical,
            });
        }

        let loaded = catch_unwind(AssertUnwindSafe(|| init_ort(&canonical)));
        let (env, build_info, providers) = match loaded {
            Ok(result) => result?,
            Err(panic) => {
                let reason = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("the library panicked while loading");
                return Err(ModelError::RuntimeLoad {
                    path: canonical,
                    reason: one_line(reason),
                });
            }
        };
        let rt = Runtime {
            path: canonical,
            source,
            build_info,
            providers,
            env,
        };
        Ok(RUNTIME.get_or_init(|| rt))
    }

    /// The library file that was loaded (canonical path).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the path came from.
    pub fn source(&self) -> LibrarySource {
        self.source
    }

    /// ONNX Runtime's build information string (version, commit, flags).
    pub fn build_info(&self) -> &str {
        &self.build_info
    }

    /// The library version, e.g. `1.31.1`, read from the versioned file
    /// name the path resolves to (`libonnxruntime.so.1.31.1`,
    /// `libonnxruntime.1.31.1.dylib`); `None` when the name carries none.
    pub fn version(&self) -> Option<&str> {
        version_from_file_name(&self.path)
    }

    /// The execution providers this crate can use that are compiled into
    /// the loaded build (`TensorrtExecutionProvider`, `CUDAExecutionProvider`,
    /// `CPUExecutionProvider`).
    pub fn available_providers(&self) -> &[String] {
        &self.providers
    }

    /// Whether the provider (by ONNX Runtime name) is compiled into this build.
    pub fn has_provider(&self, name: &str) -> bool {
        self.providers.iter().any(|p| p == name)
    }

    /// The process-wide `ort` environment sessions are created in.
    pub fn environment(&self) -> &Environment {
        &self.env
    }
}

fn version_from_file_name(path: &Path) -> Option<&str> {
    let name = path.file_name()?.to_str()?;
    let rest = name
        .strip_prefix(std::env::consts::DLL_PREFIX)?
        .strip_prefix("onnxruntime")?;
    let rest = rest
        .strip_prefix(std::env::consts::DLL_SUFFIX)
        .unwrap_or(rest);
    let rest = rest
        .strip_suffix(std::env::consts::DLL_SUFFIX)
        .unwrap_or(rest);
    let version = rest.trim_matches('.');
    (!version.is_empty() && version.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .then_some(version)
}

fn init_ort(path: &Path) -> Result<(Environment, String, Vec<String>)> {
    let load_err = |reason: String| ModelError::RuntimeLoad {
        path: path.to_path_buf(),
        reason: one_line(&reason),
    };
    let builder = ort::init_from(path).map_err(|e| load_err(e.to_string()))?;
    let env = builder
        .with_name("ainimotion")
        .with_telemetry(false)
        .build()
        .map_err(|e| load_err(e.to_string()))?;
    // ONNX Runtime's own logger prints failures that are also returned as
    // errors (and reported by the caller); keep it to fatal ones unless the
    // user asks for more with ORT_LOG.
    if std::env::var_os("ORT_LOG").is_none() {
        env.set_log_level(ort::logging::LogLevel::Fatal);
    }
    let build_info = ort::info().to_string();
    let providers = list_providers().map_err(load_err)?;
    Ok((env, build_info, providers))
}

/// Providers compiled into the loaded library that this crate can use.
fn list_providers() -> std::result::Result<Vec<String>, String> {
    use ort::ep::{ExecutionProvider, TensorRT, CPU, CUDA};
    let mut names = Vec::new();
    for (name, available) in [
        (TensorRT::NAME, TensorRT::is_available()),
        (CUDA::NAME, CUDA::is_available()),
        (CPU::NAME, CPU::is_available()),
    ] {
        if available.map_err(|e| e.to_string())? {
            names.push(name.to_string());
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_path_then_environment_then_default() {
        let explicit = Some(Path::new("/opt/ort/libonnxruntime.so"));
        let env = Some(std::ffi::OsString::from("/env/libonnxruntime.so"));
        assert_eq!(
            resolve_with(explicit, env.clone()),
            (
                PathBuf::from("/opt/ort/libonnxruntime.so"),
                LibrarySource::Explicit
            )
        );
        assert_eq!(
            resolve_with(None, env),
            (
                PathBuf::from("/env/libonnxruntime.so"),
                LibrarySource::Environment
            )
        );
        assert_eq!(
            resolve_with(None, Some(std::ffi::OsString::new())),
            (default_library_path(), LibrarySource::Default)
        );
        assert_eq!(
            resolve_with(None, None),
            (default_library_path(), LibrarySource::Default)
        );
    }

    #[test]
    fn a_library_that_is_not_onnx_runtime_is_an_error() {
        let Some(libm) = [
            "/lib/x86_64-linux-gnu/libm.so.6",
            "/usr/lib/x86_64-linux-gnu/libm.so.6",
            "/lib64/libm.so.6",
            "/usr/lib/libm.so.6",
        ]
        .iter()
        .map(Path::new)
        .find(|p| p.is_file()) else {
            eprintln!("skipping: no libm found");
            return;
        };
        match Runtime::load(Some(libm)) {
            Err(ModelError::RuntimeLoad { reason, .. }) => {
                assert!(reason.contains("OrtGetApiBase"), "{reason}");
            }
            Err(ModelError::RuntimeConflict { .. }) => {}
            other => panic!("unexpected: {other:?}"),
        }
    }

    #[test]
    fn default_path_is_under_the_crate() {
        let p = default_library_path();
        assert!(p.starts_with(env!("CARGO_MANIFEST_DIR")));
        assert!(
            p.ends_with(".deps/onnxruntime/lib/libonnxruntime.so")
                || cfg!(not(target_os = "linux"))
        );
    }

    #[test]
    fn version_comes_from_the_versioned_name() {
        if cfg!(target_os = "linux") {
            assert_eq!(
                version_from_file_name(Path::new("/x/libonnxruntime.so.1.31.1")),
                Some("1.31.1")
            );
            assert_eq!(
                version_from_file_name(Path::new("/x/libonnxruntime.so")),
                None
            );
            assert_eq!(version_from_file_name(Path::new("/x/libfoo.so.1")), None);
        }
    }

    #[test]
    fn missing_library_is_a_one_line_error() {
        let missing = Path::new("/nonexistent/ainimotion/libonnxruntime.so");
        let err = Runtime::load(Some(missing)).expect_err("must fail");
        let msg = err.to_string();
        assert_eq!(
            msg,
            "ONNX Runtime library not found at /nonexistent/ainimotion/libonnxruntime.so (run ./setup.sh, or set ORT_DYLIB_PATH / --ort-lib)"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn garbage_library_is_an_error_not_a_panic() {
        let dir = std::env::temp_dir().join(format!("ainimotion-rt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let fake = dir.join("libonnxruntime.so");
        std::fs::write(&fake, b"this is not a shared library").expect("write");
        match Runtime::load(Some(&fake)) {
            Err(ModelError::RuntimeLoad { reason, .. }) => assert!(!reason.contains('\n')),
            // Another test may already have loaded the real library.
            Err(ModelError::RuntimeConflict { .. }) => {}
            other => panic!("unexpected: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
