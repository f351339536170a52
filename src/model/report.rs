//! `info --models`: the manifest, each model file's state, and the device.

use std::path::PathBuf;

use super::run::{manifest, ModelOptions, Sessions};
use super::{
    select_device, CpuUnits, Interpolator, ModelEntry, ModelKind, OpenVino, Runtime, Upscaler,
};
use crate::error::Result;

/// One model as `info --models` reports it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelStatus {
    pub name: String,
    pub kind: String,
    pub scale: u32,
    pub file: PathBuf,
    pub present: bool,
    /// sha256 matches the manifest.
    pub valid: bool,
    /// The ONNX Runtime session loads and its inputs/outputs match the manifest.
    pub loads: Option<bool>,
    /// The precision it loaded in (bf16 only on cpu-openvino).
    pub precision: Option<String>,
    pub problem: Option<String>,
    pub inputs: Vec<String>,
    pub output: String,
    pub tileable: bool,
    pub licence: String,
    pub source: String,
    pub description: String,
}

/// `info --models`: the manifest, each file's state, and the device.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ModelsInfo {
    pub manifest: PathBuf,
    /// `--extra-models`, whose entries follow the manifest's.
    pub extra_manifest: Option<PathBuf>,
    pub runtime: Option<String>,
    /// OpenVINO for `cpu-openvino`: the library and version, or why it
    /// does not load, with the CPU's units.
    pub openvino: String,
    pub device: Option<String>,
    pub problem: Option<String>,
    pub models: Vec<ModelStatus>,
}

/// Check every model of the manifest: file present, sha256, and (when the
/// runtime loads) a real session with matching inputs/outputs.
pub fn models_info(opts: &ModelOptions) -> Result<ModelsInfo> {
    let manifest = manifest(opts)?;
    let mut info = ModelsInfo {
        manifest: manifest.path().to_path_buf(),
        extra_manifest: opts.extra_models.clone(),
        runtime: None,
        openvino: openvino_status(opts),
        device: None,
        problem: None,
        models: Vec::new(),
    };
    let runtime = match Runtime::load(opts.ort_lib.as_deref()) {
        Ok(rt) => {
            info.runtime = Some(format!(
                "{} ({})",
                rt.path().display(),
                rt.version().unwrap_or("unknown version")
            ));
            Some(rt)
        }
        Err(e) => {
            info.problem = Some(e.to_string());
            None
        }
    };
    let plan = runtime.and_then(|rt| match select_device(rt, &opts.device) {
        Ok(p) => Some(p),
        Err(e) => {
            info.problem = Some(e.to_string());
            None
        }
    });
    info.device = plan.as_ref().map(|p| p.summary().to_string());
    let sessions = runtime.zip(plan.as_ref());
    info.models = manifest
        .models()
        .iter()
        .map(|entry| model_status(entry, sessions))
        .collect();
    Ok(info)
}

/// One entry's file state and, with a runtime and a device, whether a
/// session loads (and in which precision).
fn model_status(entry: &ModelEntry, sessions: Option<Sessions>) -> ModelStatus {
    let mut st = ModelStatus {
        name: entry.name.clone(),
        kind: entry.kind.as_str().to_string(),
        scale: entry.scale,
        file: entry.path().to_path_buf(),
        present: entry.path().is_file(),
        valid: false,
        loads: None,
        precision: None,
        problem: None,
        inputs: entry.inputs.clone(),
        output: entry.output.clone(),
        tileable: entry.tileable,
        licence: entry.licence.clone(),
        source: format!("{} {}", entry.source_package, entry.source_path),
        description: entry.description.clone(),
    };
    let verified = match entry.verify() {
        Ok(v) => v,
        Err(e) => {
            st.problem = Some(e.to_string());
            return st;
        }
    };
    st.valid = true;
    let Some((rt, plan)) = sessions else {
        return st;
    };
    let loaded = match entry.kind {
        ModelKind::Upscale => Upscaler::new(rt, &verified, plan).map(|m| m.precision()),
        ModelKind::Interpolate => Interpolator::new(rt, &verified, plan).map(|m| m.precision()),
    };
    st.loads = Some(loaded.is_ok());
    match loaded {
        Ok(p) => st.precision = Some(p.to_string()),
        Err(e) => st.problem = Some(e.to_string()),
    }
    st
}

/// Whether OpenVINO loads and compiles for its CPU plugin, in one line.
fn openvino_status(opts: &ModelOptions) -> String {
    let units = CpuUnits::detect();
    match OpenVino::load(opts.device.openvino_lib.as_deref()) {
        Ok(ov) => format!(
            "{} (OpenVINO {}; CPU: {})",
            ov.path().display(),
            ov.short_version(),
            units.label()
        ),
        Err(e) => format!("not available: {e} (CPU: {})", units.label()),
    }
}

/// Human-readable `info --models`.
pub fn render_models(info: &ModelsInfo) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(s, "manifest: {}", info.manifest.display());
    if let Some(extra) = &info.extra_manifest {
        let _ = writeln!(s, "extra:    {}", extra.display());
    }
    let _ = writeln!(
        s,
        "runtime:  {}",
        info.runtime.as_deref().unwrap_or("not loaded")
    );
    let _ = writeln!(s, "openvino: {}", info.openvino);
    let _ = writeln!(s, "{}", info.device.as_deref().unwrap_or("device: none"));
    if let Some(p) = &info.problem {
        let _ = writeln!(s, "problem:  {p}");
    }
    for m in &info.models {
        let state = match (m.present, m.valid, m.loads) {
            (false, _, _) => "MISSING (run ./setup.sh)",
            (true, false, _) => "INVALID (sha256 mismatch or unreadable; run ./setup.sh)",
            (true, true, Some(false)) => "DOES NOT LOAD",
            (true, true, Some(true)) => match m.precision.as_deref() {
                Some("bf16") => "ok (bf16)",
                _ => "ok",
            },
            (true, true, None) => "ok (not loaded: no runtime)",
        };
        let _ = writeln!(
            s,
            "  {:<28} {:<11} x{} {}  [{}]",
            m.name, m.kind, m.scale, state, m.licence
        );
        let _ = writeln!(
            s,
            "    {} -> {}{}; {}",
            m.inputs.join(", "),
            m.output,
            if m.tileable { "" } else { ", whole-frame only" },
            m.description
        );
        if let Some(p) = &m.problem {
            let _ = writeln!(s, "    problem: {p}");
        }
    }
    s
}
