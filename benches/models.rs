//! Model-only throughput (time inside the model call, frames/s) for each
//! reference model present, plus tile pack/unpack.
//!
//! First, the two CPU paths side by side (issue 13): the project's own
//! models (`models/models.toml`) through ONNX Runtime's CPU provider (fp32)
//! and through OpenVINO (`cpu-openvino`, `--precision auto`: bf16 where the
//! manifest allows it), runs alternated A/B, medians and their ratio, for
//! animevideov3 at 640x360 and 1280x720 and RIFE at 640x384
//! (`AINIMOTION_BENCH_PATH_RUNS` runs each, default 5; 0 skips it).
//!
//! `cargo bench --bench models`. Models are looked up in
//! `$AINIMOTION_REFERENCE_MODELS`, `../shared/models-reference`, then
//! `/work/shared/models-reference`; the runtime as `Runtime::load(None)`
//! finds it. RealESRGAN_x4plus_anime_6B takes ~30 s a frame on 2 CPU cores,
//! below criterion's 10-sample minimum: it is timed over
//! `AINIMOTION_BENCH_6B_RUNS` runs (default 1; 0 skips it) and printed.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ainimotion::model::tiling::{extract_tiles, place_tiles, plan_tiles};
use ainimotion::model::{
    select_device, Device, DeviceOptions, ExecutionPlan, Interpolator, Manifest, ModelKind,
    Runtime, TileConfig, Upscaler,
};
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use ndarray::{Array3, Array4};

struct Ref {
    name: &'static str,
    file: &'static str,
    sha: &'static str,
    kind: &'static str,
    scale: u32,
    multiple: u32,
    pre_pad: u32,
}

const MODELS: [Ref; 4] = [
    Ref {
        name: "animevideov3",
        file: "realesr-animevideov3-x4.onnx",
        sha: "574704407fa520e4e853f45c60a20e31f9cd48514ec1dcc72fa73aeda119839e",
        kind: "upscale",
        scale: 4,
        multiple: 1,
        pre_pad: 0,
    },
    Ref {
        name: "rife",
        file: "rife-v4.25or4.26-scale1.onnx",
        sha: "29c4eae9ad674cc76afa0a14b692d14c80f057fdf62173fb3caf60092ab86ede",
        kind: "interpolate",
        scale: 1,
        multiple: 64,
        pre_pad: 0,
    },
    Ref {
        name: "realcugan",
        file: "realcugan-se-up2x-prepad18.onnx",
        sha: "4923271628da1f193da61de8df2afebb9d8630e7f76b9f0909be7055e21d3550",
        kind: "upscale",
        scale: 2,
        multiple: 2,
        pre_pad: 18,
    },
    Ref {
        name: "x4plus_anime_6b",
        file: "RealESRGAN_x4plus_anime_6B.onnx",
        sha: "5c0ed2c577d94c43172631efbf31a0a385c54514133ebe698c6a80fbcf9ab865",
        kind: "upscale",
        scale: 4,
        multiple: 1,
        pre_pad: 0,
    },
];

fn reference_dir() -> Option<PathBuf> {
    [
        std::env::var_os("AINIMOTION_REFERENCE_MODELS").map(PathBuf::from),
        Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/models-reference")),
    ]
    .into_iter()
    .flatten()
    .find(|d| d.is_dir())
}

fn manifest(dir: &Path) -> Option<Manifest> {
    let mut text = String::new();
    for m in &MODELS {
        let inputs = if m.kind == "interpolate" {
            r#"["img0", "img1", "timestep"]"#
        } else {
            r#"["input"]"#
        };
        text.push_str(&format!(
            "[[model]]\nname = \"{}\"\nkind = \"{}\"\nfile = \"{}\"\nsha256 = \"{}\"\nscale = {}\ninputs = {inputs}\noutput = \"output\"\nsize_multiple = {}\npre_pad = {}\nlicence = \"-\"\nlicence_file = \"-\"\nsource_package = \"-\"\nsource_path = \"-\"\n",
            m.name,
            m.kind,
            dir.join(m.file).display(),
            m.sha,
            m.scale,
            m.multiple,
            m.pre_pad
        ));
    }
    Manifest::parse(&text, &dir.join("models.toml")).ok()
}

fn frame(h: usize, w: usize, phase: f32) -> Array4<f32> {
    Array4::from_shape_fn((1, 3, h, w), |(_, c, y, x)| {
        0.5 + 0.25 * ((x as f32 + phase) * 0.11 + c as f32).sin() * ((y as f32) * 0.07).cos()
    })
}

fn report(name: &str, calls: u64, total: Duration) {
    if calls > 0 {
        let per = total.as_secs_f64() / calls as f64;
        println!(
            "model-only {name}: {:.3} frames/s ({per:.3} s/frame over {calls} runs)",
            1.0 / per
        );
    }
}

fn models(c: &mut Criterion) {
    let rt = match Runtime::load(None) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("skipping model benches: {e}");
            return;
        }
    };
    // Today's path unless AINIMOTION_DEVICE says otherwise.
    let device = Device::from_env().ok().flatten().unwrap_or(Device::Cpu);
    let opts = DeviceOptions {
        device,
        ..DeviceOptions::default()
    };
    let plan: ExecutionPlan = match select_device(rt, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("skipping model benches: {e}");
            return;
        }
    };
    println!("{}", plan.summary());
    let Some(dir) = reference_dir() else {
        eprintln!("skipping model benches: reference models not found");
        return;
    };
    let Some(manifest) = manifest(&dir) else {
        return;
    };
    let verified = |name: &str| match manifest.get(name).and_then(|e| e.verify()) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("skipping {name}: {e}");
            None
        }
    };

    let mut group = c.benchmark_group("model");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(1));

    let input = frame(360, 640, 0.0);
    for name in ["animevideov3", "realcugan"] {
        let Some(v) = verified(name) else { continue };
        let Ok(mut up) = Upscaler::new(rt, &v, &plan) else {
            continue;
        };
        group.bench_function(format!("{name} 640x360"), |b| {
            b.iter(|| black_box(up.run(input.view())))
        });
        report(
            &format!("{name} 640x360"),
            up.timer().calls(),
            up.model_time(),
        );
    }
    if let Some(v) = verified("rife") {
        if let Ok(mut rife) = Interpolator::new(rt, &v, &plan) {
            let (a, b) = (frame(384, 640, 0.0), frame(384, 640, 6.0));
            group.bench_function("rife 640x384", |bch| {
                bch.iter(|| black_box(rife.run(a.view(), b.view(), &[0.5])))
            });
            report("rife 640x384", rife.timer().calls(), rife.model_time());
        }
    }
    group.finish();

    let runs: u64 = std::env::var("AINIMOTION_BENCH_6B_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    if runs > 0 {
        if let Some(v) = verified("x4plus_anime_6b") {
            if let Ok(mut up) = Upscaler::new(rt, &v, &plan) {
                let start = Instant::now();
                for _ in 0..runs {
                    black_box(up.run(input.view()).ok());
                }
                println!(
                    "x4plus_anime_6b 640x360: wall {:.1} s for {runs} run(s)",
                    start.elapsed().as_secs_f64()
                );
                report(
                    "x4plus_anime_6b 640x360",
                    up.timer().calls(),
                    up.model_time(),
                );
            }
        }
    }
}

fn tiles(c: &mut Criterion) {
    let img = Array3::from_shape_fn((3, 1080, 1920), |(ch, y, x)| {
        ((x + y + ch) % 255) as f32 / 255.0
    });
    let cfg = TileConfig::default();
    let Ok(plan) = plan_tiles(1080, 1920, &cfg) else {
        return;
    };
    let mut group = c.benchmark_group("tiles");
    group.throughput(Throughput::Elements(1));
    group.bench_function("pack+unpack 1920x1080 identity", |b| {
        b.iter(|| {
            let mut out = Array3::<f32>::zeros((3, 1080, 1920));
            for chunk in plan.chunks(4) {
                if let Ok(batch) = extract_tiles(img.view(), chunk) {
                    let _ = place_tiles(&mut out, 1, chunk, batch.view());
                }
            }
            black_box(out)
        })
    });
    group.finish();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One model on both CPU paths: one warm-up each, then `runs` alternated
/// A/B calls; prints both medians and the ratio.
fn side_by_side(
    label: &str,
    runs: usize,
    mut ort: impl FnMut() -> bool,
    mut ov: impl FnMut() -> bool,
    ov_precision: &str,
) {
    if !ort() || !ov() {
        eprintln!("skipping {label}: a run failed");
        return;
    }
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        ort();
        ta.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        ov();
        tb.push(t.elapsed().as_secs_f64());
    }
    let (a, b) = (median(ta), median(tb));
    println!(
        "cpu paths {label}: onnxruntime fp32 {a:.3} s, openvino {ov_precision} {b:.3} s: {:.2}x (medians of {runs} alternated runs)",
        a / b
    );
}

/// ONNX Runtime CPU fp32 against OpenVINO (auto precision), same run.
fn cpu_paths(_c: &mut Criterion) {
    let runs: usize = std::env::var("AINIMOTION_BENCH_PATH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    if runs == 0 {
        return;
    }
    let Ok(rt) = Runtime::load(None) else {
        eprintln!("skipping cpu paths: no ONNX Runtime");
        return;
    };
    let plan = |device| {
        select_device(
            rt,
            &DeviceOptions {
                device,
                ..DeviceOptions::default()
            },
        )
    };
    let (ort, ov) = match (plan(Device::Cpu), plan(Device::CpuOpenVino)) {
        (Ok(a), Ok(b)) => (a, b),
        (_, Err(e)) | (Err(e), _) => {
            eprintln!("skipping cpu paths: {e}");
            return;
        }
    };
    println!("{}", ov.summary());
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/models.toml");
    let Ok(manifest) = Manifest::load(&path) else {
        eprintln!("skipping cpu paths: models not built (run ./setup.sh)");
        return;
    };
    let verified = |name: &str, kind| match manifest.get_kind(name, kind).and_then(|e| e.verify()) {
        Ok(v) => Some(v),
        Err(e) => {
            eprintln!("skipping {name}: {e}");
            None
        }
    };
    if let Some(v) = verified("animevideov3", ModelKind::Upscale) {
        if let (Ok(mut a), Ok(mut b)) = (Upscaler::new(rt, &v, &ort), Upscaler::new(rt, &v, &ov)) {
            let precision = b.precision().to_string();
            for (h, w) in [(360, 640), (720, 1280)] {
                let input = frame(h, w, 0.0);
                side_by_side(
                    &format!("animevideov3 {w}x{h}"),
                    runs,
                    || a.run(input.view()).is_ok(),
                    || b.run(input.view()).is_ok(),
                    &precision,
                );
            }
        }
    }
    if let Some(v) = verified("rife-4.26", ModelKind::Interpolate) {
        if let (Ok(mut a), Ok(mut b)) = (
            Interpolator::new(rt, &v, &ort),
            Interpolator::new(rt, &v, &ov),
        ) {
            let precision = b.precision().to_string();
            let (x, y) = (frame(384, 640, 0.0), frame(384, 640, 6.0));
            side_by_side(
                "rife-4.26 640x384",
                runs,
                || a.run(x.view(), y.view(), &[0.5]).is_ok(),
                || b.run(x.view(), y.view(), &[0.5]).is_ok(),
                &precision,
            );
        }
    }
}

criterion_group!(benches, cpu_paths, tiles, models);
criterion_main!(benches);
