//! Model sessions: one per worker (`Session::run` takes `&mut self`).
//!
//! [`Upscaler`] and [`Interpolator`] take plain NCHW f32 batches of any size;
//! they pad to the model's `size_multiple` and `pre_pad` themselves, crop
//! the result back, clamp it when the manifest says so, and add the time
//! spent inside `Session::run` to a [`ModelTimer`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ndarray::{s, Array3, Array4, ArrayView3, ArrayView4, CowArray, Ix4};
use ort::session::{Session, SessionInputValue};
use ort::value::{TensorElementType, TensorRef};

use super::device::{ExecutionPlan, Provider};
use super::error::{one_line, ModelError, Result};
use super::manifest::{ModelEntry, ModelKind, VerifiedModel};
use super::openvino_cpu::{IoDecl, OvSession, Precision};
use super::runtime::Runtime;
use super::tiling::{self, pad_nchw, round_up, PadMode, TileConfig};

/// Time spent inside `Session::run`, shareable between workers.
#[derive(Debug, Default)]
pub struct ModelTimer {
    nanos: AtomicU64,
    calls: AtomicU64,
}

impl ModelTimer {
    /// A fresh timer to share between sessions.
    pub fn new() -> Arc<ModelTimer> {
        Arc::new(ModelTimer::default())
    }

    /// Total time inside `Session::run`.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    /// Number of `Session::run` calls.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn add(&self, d: Duration) {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(nanos, Ordering::Relaxed);
        self.calls.fetch_add(1, Ordering::Relaxed);
    }
}

/// The runtime a session runs on: ONNX Runtime (CPU, CUDA, TensorRT) or
/// OpenVINO's CPU runtime. Both read the same `.onnx` file.
enum Backend {
    Ort(Session),
    OpenVino(OvSession),
}

/// What the loaded graph declares, after checking it against the manifest.
struct Core {
    backend: Backend,
    /// The precision the model runs in.
    precision: Precision,
    entry: ModelEntry,
    path: PathBuf,
    /// Batch size fixed by the graph, if any (then batches run item by item).
    fixed_batch: Option<usize>,
    timer: Arc<ModelTimer>,
}

fn dims_text(dims: &[i64]) -> String {
    let parts: Vec<String> = dims
        .iter()
        .map(|&d| if d < 0 { "?".into() } else { d.to_string() })
        .collect();
    format!("[{}]", parts.join(", "))
}

impl Core {
    fn load(
        rt: &Runtime,
        model: &VerifiedModel,
        plan: &ExecutionPlan,
        kind: ModelKind,
    ) -> Result<Core> {
        let entry = model.entry();
        if entry.kind != kind {
            return Err(ModelError::WrongKind {
                model: entry.name.clone(),
                actual: entry.kind.as_str(),
                expected: kind.as_str(),
            });
        }
        let path = model.path().to_path_buf();
        let load_err = |reason: String| ModelError::ModelLoad {
            path: path.clone(),
            reason,
        };
        let (backend, precision, fixed_batch) = match (plan.provider(), plan.openvino()) {
            (Provider::OpenVino, Some(ov)) => {
                let wanted = plan.precision_for(entry);
                let session =
                    OvSession::load(ov, &path, wanted, plan.threads()).map_err(load_err)?;
                let fixed = check_io(session.inputs(), session.outputs(), entry, &path)?;
                let precision = session.precision();
                (Backend::OpenVino(session), precision, fixed)
            }
            _ => {
                let mut builder =
                    plan.session_builder(rt)
                        .map_err(|reason| ModelError::DeviceUnavailable {
                            device: plan.provider().as_str().into(),
                            reason,
                        })?;
                let session = builder
                    .commit_from_file(&path)
                    .map_err(|e| load_err(one_line(&e.to_string())))?;
                let fixed = check_io(
                    &ort_decls(session.inputs()),
                    &ort_decls(session.outputs()),
                    entry,
                    &path,
                )?;
                (Backend::Ort(session), Precision::Fp32, fixed)
            }
        };
        Ok(Core {
            backend,
            precision,
            entry: entry.clone(),
            path,
            fixed_batch,
            timer: ModelTimer::new(),
        })
    }

    fn io_err(&self, message: String) -> ModelError {
        ModelError::ModelIo {
            path: self.path.clone(),
            message,
        }
    }

    /// Runs the graph on named NCHW inputs; splits the batch when the graph
    /// fixes it. Returns the manifest's output.
    fn run(&mut self, inputs: &[(&str, ArrayView4<'_, f32>)]) -> Result<Array4<f32>> {
        let name = self.entry.output.clone();
        let mut outs = self.run_outputs(inputs, &[name.as_str()])?;
        outs.pop()
            .ok_or_else(|| self.io_err(format!("no output named '{name}'")))
    }

    /// As [`Core::run`], returning the named outputs in the order asked.
    fn run_outputs(
        &mut self,
        inputs: &[(&str, ArrayView4<'_, f32>)],
        names: &[&str],
    ) -> Result<Vec<Array4<f32>>> {
        let n = inputs.first().map_or(0, |(_, a)| a.dim().0);
        match self.fixed_batch {
            Some(fixed) if fixed != n => {
                if fixed != 1 {
                    return Err(self.io_err(format!(
                        "model {} has a fixed batch size of {fixed} (expected a dynamic batch or 1)",
                        self.entry.file_name()
                    )));
                }
                let mut parts: Vec<Vec<Array4<f32>>> = Vec::with_capacity(n);
                for i in 0..n {
                    let one: Vec<(&str, ArrayView4<'_, f32>)> = inputs
                        .iter()
                        .map(|(name, a)| (*name, a.slice(s![i..i + 1, .., .., ..])))
                        .collect();
                    parts.push(self.run_once(&one, names)?);
                }
                (0..names.len())
                    .map(|k| {
                        let views: Vec<ArrayView4<'_, f32>> =
                            parts.iter().map(|p| p[k].view()).collect();
                        ndarray::concatenate(ndarray::Axis(0), &views)
                            .map_err(|e| self.io_err(e.to_string()))
                    })
                    .collect()
            }
            _ => self.run_once(inputs, names),
        }
    }

    fn run_once(
        &mut self,
        inputs: &[(&str, ArrayView4<'_, f32>)],
        names: &[&str],
    ) -> Result<Vec<Array4<f32>>> {
        let infer_err = |path: &Path, e: &dyn std::fmt::Display| ModelError::Inference {
            path: path.to_path_buf(),
            reason: one_line(&e.to_string()),
        };
        let contiguous: Vec<CowArray<'_, f32, Ix4>> =
            inputs.iter().map(|(_, a)| a.as_standard_layout()).collect();
        let session = match &mut self.backend {
            Backend::Ort(session) => session,
            Backend::OpenVino(ov) => {
                let named: Vec<(&str, ArrayView4<'_, f32>)> = inputs
                    .iter()
                    .zip(&contiguous)
                    .map(|((name, _), a)| (*name, a.view()))
                    .collect();
                let start = Instant::now();
                let result = ov.run(&named, names);
                self.timer.add(start.elapsed());
                return result.map_err(|e| infer_err(&self.path, &e));
            }
        };
        let mut values: Vec<(Cow<'_, str>, SessionInputValue<'_>)> =
            Vec::with_capacity(inputs.len());
        for ((name, _), array) in inputs.iter().zip(&contiguous) {
            let tensor =
                TensorRef::from_array_view(array.view()).map_err(|e| infer_err(&self.path, &e))?;
            values.push((Cow::Borrowed(*name), tensor.into()));
        }
        let start = Instant::now();
        let result = session.run(values);
        self.timer.add(start.elapsed());
        let outputs = result.map_err(|e| infer_err(&self.path, &e))?;
        let mut got = Vec::with_capacity(names.len());
        for &name in names {
            let value = outputs
                .get(name)
                .ok_or_else(|| infer_err(&self.path, &format!("no output named '{name}'")))?;
            let array = value
                .try_extract_array::<f32>()
                .map_err(|e| infer_err(&self.path, &e))?;
            let array = array.into_dimensionality::<Ix4>().map_err(|_| {
                infer_err(&self.path, &format!("output '{name}' is not 4-dimensional"))
            })?;
            got.push(array.to_owned());
        }
        Ok(got)
    }

    fn clamp(&self, out: &mut Array4<f32>) {
        if self.entry.clamp {
            let [lo, hi] = self.entry.value_range;
            clamp_in_place(out, lo, hi);
        }
    }
}

/// Clamps every value to `lo..=hi`, in parallel over contiguous memory.
fn clamp_in_place(out: &mut Array4<f32>, lo: f32, hi: f32) {
    use rayon::prelude::*;
    match out.as_slice_mut() {
        Some(data) => data.par_chunks_mut(1 << 16).for_each(|chunk| {
            for v in chunk {
                *v = v.clamp(lo, hi);
            }
        }),
        None => out.mapv_inplace(|v| v.clamp(lo, hi)),
    }
}

/// Describes ONNX Runtime's inputs or outputs for [`check_io`].
fn ort_decls(outlets: &[ort::value::Outlet]) -> Vec<IoDecl> {
    outlets
        .iter()
        .map(|o| {
            let dtype = o.dtype();
            let ty = dtype.tensor_type();
            IoDecl {
                name: o.name().to_string(),
                element: ty.map(|t| format!("{t:?}")),
                is_f32: ty == Some(TensorElementType::Float32),
                dims: dtype.tensor_shape().map(|s| s.iter().copied().collect()),
            }
        })
        .collect()
}

/// Checks the graph's inputs and output against the manifest entry; returns
/// the batch size if the graph fixes it.
fn check_io(
    inputs: &[IoDecl],
    outputs: &[IoDecl],
    entry: &ModelEntry,
    path: &Path,
) -> Result<Option<usize>> {
    let file = entry.file_name();
    let err = |message: String| ModelError::ModelIo {
        path: path.to_path_buf(),
        message,
    };
    let names = |decls: &[IoDecl]| {
        decls
            .iter()
            .map(|o| format!("'{}'", o.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for input in inputs {
        if !entry.inputs.contains(&input.name) {
            return Err(err(format!(
                "model {file} has input '{}' that manifest entry '{}' does not list (manifest inputs: {}; model inputs: {})",
                input.name,
                entry.name,
                entry.inputs.join(", "),
                names(inputs)
            )));
        }
    }
    let mut fixed_batch = None;
    for (i, name) in entry.inputs.iter().enumerate() {
        let Some(decl) = inputs.iter().find(|o| o.name == *name) else {
            return Err(err(format!(
                "model {file} has no input '{name}' (expected by manifest entry '{}'; model inputs: {})",
                entry.name,
                names(inputs)
            )));
        };
        let is_timestep = entry.kind == ModelKind::Interpolate && i == 2;
        let dims = check_tensor(decl, "input", &file, is_timestep).map_err(err)?;
        if !is_timestep && dims[0] > 0 {
            fixed_batch = Some(dims[0] as usize);
        }
    }
    let Some(out) = outputs.iter().find(|o| o.name == entry.output) else {
        return Err(err(format!(
            "model {file} has no output '{}' (expected by manifest entry '{}'; model outputs: {})",
            entry.output,
            entry.name,
            names(outputs)
        )));
    };
    check_tensor(out, "output", &file, false).map_err(err)?;
    Ok(fixed_batch)
}

/// An image tensor must be f32 `[batch, 3, H, W]`; a timestep f32 `[batch, 1, 1, 1]`.
fn check_tensor(
    decl: &IoDecl,
    role: &str,
    file: &str,
    timestep: bool,
) -> std::result::Result<Vec<i64>, String> {
    let name = &decl.name;
    let expected_shape = if timestep {
        "[batch, 1, 1, 1]"
    } else {
        "[batch, 3, height, width]"
    };
    let Some(ty) = &decl.element else {
        return Err(format!(
            "model {role} '{name}' of {file} is not a tensor (expected f32 {expected_shape})"
        ));
    };
    if !decl.is_f32 {
        return Err(format!(
            "model {role} '{name}' of {file} has element type {ty} (expected f32)"
        ));
    }
    let Some(dims) = decl.dims.clone() else {
        return Err(format!(
            "model {role} '{name}' of {file} has a dynamic rank (expected 4: {expected_shape})"
        ));
    };
    if dims.len() != 4 {
        return Err(format!(
            "model {role} '{name}' of {file} has rank {} {} (expected 4: {expected_shape})",
            dims.len(),
            dims_text(&dims)
        ));
    }
    if timestep {
        if dims[1..].iter().any(|&d| d > 1) {
            return Err(format!(
                "model {role} '{name}' of {file} has shape {} (expected {expected_shape})",
                dims_text(&dims)
            ));
        }
    } else if dims[1] >= 0 && dims[1] != 3 {
        return Err(format!(
            "model {role} '{name}' of {file} has {} channels (expected 3)",
            dims[1]
        ));
    }
    Ok(dims)
}

fn check_batch(context: &str, a: &ArrayView4<'_, f32>) -> Result<()> {
    let (n, c, h, w) = a.dim();
    if n == 0 || c != 3 || h == 0 || w == 0 {
        return Err(ModelError::BadInput {
            context: context.into(),
            reason: format!("batch shape [{n}, {c}, {h}, {w}] (expected [>= 1, 3, >= 1, >= 1])"),
        });
    }
    Ok(())
}

/// The accessors both session kinds share (they wrap a [`Core`]).
macro_rules! session_accessors {
    ($kind:ty) => {
        impl $kind {
            /// The manifest entry.
            pub fn entry(&self) -> &ModelEntry {
                &self.core.entry
            }

            /// The precision the model runs in (bf16 only on `cpu-openvino`).
            pub fn precision(&self) -> Precision {
                self.core.precision
            }

            /// The timer this session adds to.
            pub fn timer(&self) -> Arc<ModelTimer> {
                Arc::clone(&self.core.timer)
            }

            /// Adds to `timer` from now on (share one between workers).
            pub fn set_timer(&mut self, timer: Arc<ModelTimer>) {
                self.core.timer = timer;
            }

            /// Time spent inside `Session::run` (on this session's timer).
            pub fn model_time(&self) -> Duration {
                self.core.timer.total()
            }
        }
    };
}

/// A super-resolution model session (one per worker).
pub struct Upscaler {
    core: Core,
}
session_accessors!(Upscaler);

impl Upscaler {
    /// Builds a session for an `upscale` manifest entry with the plan's
    /// provider, and checks the graph's inputs/output against the entry.
    pub fn new(rt: &Runtime, model: &VerifiedModel, plan: &ExecutionPlan) -> Result<Upscaler> {
        Ok(Upscaler {
            core: Core::load(rt, model, plan, ModelKind::Upscale)?,
        })
    }

    /// Output / input size factor.
    pub fn scale(&self) -> usize {
        self.core.entry.scale as usize
    }

    /// Upscales a batch `[N, 3, H, W]` of any H, W to `[N, 3, scale*H, scale*W]`.
    pub fn run(&mut self, batch: ArrayView4<'_, f32>) -> Result<Array4<f32>> {
        let context = format!("model {}", self.core.entry.file_name());
        check_batch(&context, &batch)?;
        let (n, c, h, w) = batch.dim();
        let entry = &self.core.entry;
        let (k, p, m) = (
            entry.scale as usize,
            entry.pre_pad as usize,
            entry.size_multiple as usize,
        );
        let (eh, ew) = (round_up(h, m) - h, round_up(w, m) - w);
        let padded;
        let input = if p == 0 && eh == 0 && ew == 0 {
            batch
        } else {
            padded = pad_nchw(batch, p, p + eh, p, p + ew, PadMode::Reflect);
            padded.view()
        };
        let (hin, win) = (input.dim().2, input.dim().3);
        let name = entry.inputs[0].clone();
        let out = self.core.run(&[(name.as_str(), input)])?;
        let (on, oc, oh, ow) = out.dim();
        // The graph may crop its own padding (Real-CUGAN does): whatever it
        // removed is taken as removed evenly from both sides.
        let offset = |full: usize, got: usize| -> Option<usize> {
            let shrink = full.checked_sub(got)?;
            (k * p).checked_sub(shrink / 2)
        };
        let (oy, ox) = match (offset(k * hin, oh), offset(k * win, ow)) {
            (Some(oy), Some(ox)) if on == n && oc == c && oy + k * h <= oh && ox + k * w <= ow => (oy, ox),
            _ => {
                return Err(self.core.io_err(format!(
                    "model output '{}' of {} is [{on}, {oc}, {oh}, {ow}] for input [{n}, {c}, {hin}, {win}] (expected [{n}, {c}, {}, {}])",
                    self.core.entry.output,
                    self.core.entry.file_name(),
                    k * hin,
                    k * win
                )))
            }
        };
        let mut out = if oy == 0 && ox == 0 && oh == k * h && ow == k * w {
            out
        } else {
            tiling::crop_nchw(out.view(), oy, ox, k * h, k * w)
        };
        self.core.clamp(&mut out);
        Ok(out)
    }

    /// Upscales one CHW frame tile by tile (`batch` tiles per model call)
    /// and stitches the result.
    pub fn upscale_frame(
        &mut self,
        frame: ArrayView3<'_, f32>,
        tiles: &TileConfig,
        batch: usize,
    ) -> Result<Array3<f32>> {
        let k = self.scale();
        tiling::run_tiled(frame, k, tiles, batch, |t| self.run(t))
    }
}

/// A frame interpolation model session (one per worker).
/// An interpolator's flow `[N, 4, H, W]` and mask `[N, 1, H, W]`.
pub type FlowAndMask = (Array4<f32>, Array4<f32>);

pub struct Interpolator {
    core: Core,
}
session_accessors!(Interpolator);

impl Interpolator {
    /// Builds a session for an `interpolate` manifest entry with the plan's
    /// provider, and checks the graph's inputs/output against the entry.
    pub fn new(rt: &Runtime, model: &VerifiedModel, plan: &ExecutionPlan) -> Result<Interpolator> {
        Ok(Interpolator {
            core: Core::load(rt, model, plan, ModelKind::Interpolate)?,
        })
    }

    /// The frame at time `t[i]` (0 = `img0`, 1 = `img1`) between each pair;
    /// inputs `[N, 3, H, W]` of any H, W, output the same shape.
    pub fn run(
        &mut self,
        img0: ArrayView4<'_, f32>,
        img1: ArrayView4<'_, f32>,
        t: &[f32],
    ) -> Result<Array4<f32>> {
        Ok(self.run_inner(img0, img1, t, false)?.0)
    }

    /// Whether the model gives the flow and mask of its last step
    /// (`flow_output` and `mask_output` in the manifest).
    pub fn has_flow(&self) -> bool {
        self.core.entry.flow_output.is_some() && self.core.entry.mask_output.is_some()
    }

    /// As [`Interpolator::run`], with what the last step made each frame
    /// from: the flow `[N, 4, H, W]` and the mask `[N, 1, H, W]` (see
    /// [`ModelEntry::flow_output`]); None when the model has no such outputs.
    pub fn run_with_flow(
        &mut self,
        img0: ArrayView4<'_, f32>,
        img1: ArrayView4<'_, f32>,
        t: &[f32],
    ) -> Result<(Array4<f32>, Option<FlowAndMask>)> {
        self.run_inner(img0, img1, t, self.has_flow())
    }

    fn run_inner(
        &mut self,
        img0: ArrayView4<'_, f32>,
        img1: ArrayView4<'_, f32>,
        t: &[f32],
        flow: bool,
    ) -> Result<(Array4<f32>, Option<FlowAndMask>)> {
        let context = format!("model {}", self.core.entry.file_name());
        check_pair(&context, &img0, &img1, t)?;
        let (n, c, h, w) = img0.dim();
        let m = self.core.entry.size_multiple as usize;
        let (eh, ew) = (round_up(h, m) - h, round_up(w, m) - w);
        let (p0, p1);
        let (a, b) = if eh == 0 && ew == 0 {
            (img0, img1)
        } else {
            p0 = pad_nchw(img0, 0, eh, 0, ew, PadMode::Replicate);
            p1 = pad_nchw(img1, 0, eh, 0, ew, PadMode::Replicate);
            (p0.view(), p1.view())
        };
        let ts =
            Array4::from_shape_vec((n, 1, 1, 1), t.to_vec()).map_err(|e| ModelError::BadInput {
                context: context.clone(),
                reason: e.to_string(),
            })?;
        let inputs = self.core.entry.inputs.clone();
        let entry = &self.core.entry;
        let mut names = vec![entry.output.clone()];
        if flow {
            names.extend(entry.flow_output.iter().chain(&entry.mask_output).cloned());
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut outs = self.core.run_outputs(
            &[
                (inputs[0].as_str(), a),
                (inputs[1].as_str(), b),
                (inputs[2].as_str(), ts.view()),
            ],
            &names,
        )?;
        // Every output is cropped back to the unpadded frame (the padding
        // is at the bottom and right).
        for (k, out) in outs.iter_mut().enumerate() {
            let want_c = [c, 4, 1][k];
            let (on, oc, oh, ow) = out.dim();
            if on != n || oc != want_c || oh < h || ow < w {
                return Err(self.core.io_err(format!(
                    "model output '{}' of {} is [{on}, {oc}, {oh}, {ow}] (expected [{n}, {want_c}, {}, {}])",
                    names[k],
                    self.core.entry.file_name(),
                    h + eh,
                    w + ew
                )));
            }
            if oh != h || ow != w {
                *out = tiling::crop_nchw(out.view(), 0, 0, h, w);
            }
        }
        let mut it = outs.into_iter();
        let mut out = it
            .next()
            .ok_or_else(|| self.core.io_err("the model gave no output".into()))?;
        self.core.clamp(&mut out);
        let flow = match (it.next(), it.next()) {
            (Some(f), Some(m)) => Some((f, m)),
            _ => None,
        };
        Ok((out, flow))
    }
}

/// Two batches of the same shape `[N, 3, H, W]` and one timestep in
/// `0.0 ..= 1.0` per pair.
fn check_pair(
    context: &str,
    img0: &ArrayView4<'_, f32>,
    img1: &ArrayView4<'_, f32>,
    t: &[f32],
) -> Result<()> {
    check_batch(context, img0)?;
    let bad = |reason: String| ModelError::BadInput {
        context: context.to_string(),
        reason,
    };
    if img1.dim() != img0.dim() {
        return Err(bad(format!(
            "img1 is {:?} but img0 is {:?} (expected the same shape)",
            img1.dim(),
            img0.dim()
        )));
    }
    if t.len() != img0.dim().0 {
        return Err(bad(format!(
            "{} timesteps for a batch of {} (expected one per pair)",
            t.len(),
            img0.dim().0
        )));
    }
    if let Some(v) = t.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(bad(format!("timestep {v} (expected 0.0 ..= 1.0)")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn sessions_can_move_to_worker_threads() {
        assert_send::<Upscaler>();
        assert_send::<Interpolator>();
        assert_send::<Arc<ModelTimer>>();
    }

    #[test]
    fn timer_adds_up() {
        let t = ModelTimer::new();
        t.add(Duration::from_millis(3));
        t.add(Duration::from_millis(4));
        assert_eq!(t.calls(), 2);
        assert_eq!(t.total(), Duration::from_millis(7));
    }

    #[test]
    fn shapes_print_dynamic_dims_as_question_marks() {
        assert_eq!(dims_text(&[-1, 3, -1, -1]), "[?, 3, ?, ?]");
    }
}
