//! The gate on ground truth and on generated clips made from real anime
//! drawings: cut F1 and hold precision/recall on every labelled clip of
//! `../shared/media/labels`, same-luma cuts, thin rain and sparkles over a
//! held drawing, flashes, and the ghost guard behind a switched-off cut
//! detector. Real media and models are skipped with a message when absent.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn gate_json(path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["info", path.to_str().unwrap(), "--gate", "--json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    v["gate"].clone()
}

/// `to` of every transition labelled `class`.
fn labelled(g: &Value, class: &str) -> Vec<u64> {
    g["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["class"] == class)
        .map(|t| t["to"].as_u64().unwrap())
        .collect()
}

fn classes(g: &Value) -> Vec<String> {
    g["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["class"].as_str().unwrap().to_string())
        .collect()
}

// ------------------------------------------------------------ labelled clips

/// Cut scoring: a found cut matches an expected one within one frame (each
/// used once); found cuts within one frame of an ambiguous label are
/// neither right nor wrong. Returns (true positives, missed, extra).
fn score_cuts(found: &[u64], expected: &[u64], ambiguous: &[u64]) -> (usize, Vec<u64>, Vec<u64>) {
    let mut left: Vec<u64> = found.to_vec();
    let mut missed = Vec::new();
    let mut tp = 0;
    for &e in expected {
        let best = left
            .iter()
            .enumerate()
            .filter(|(_, f)| f.abs_diff(e) <= 1)
            .min_by_key(|(_, f)| f.abs_diff(e))
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                left.remove(i);
                tp += 1;
            }
            None => missed.push(e),
        }
    }
    let extra = left
        .into_iter()
        .filter(|f| ambiguous.iter().all(|a| a.abs_diff(*f) > 1))
        .collect();
    (tp, missed, extra)
}

/// Every labelled public clip: cut F1 >= 0.98 overall, and where holds are
/// labelled, hold precision >= 0.98 and recall >= 0.95 (labels list a hold
/// f→f+1 as f; `holds_ambiguous` are left out). Prints the table the
/// README shows.
#[test]
fn gate_scores_on_every_labelled_clip() {
    let labels = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media/labels");
    if !labels.exists() {
        eprintln!("SKIP: {} not present", labels.display());
        return;
    }
    let (mut tp, mut fn_, mut fp) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    eprintln!("| clip | frames | cuts expected | found | missed | extra | holds labelled | hold precision | hold recall |");
    eprintln!("|---|---|---|---|---|---|---|---|---|");
    for (name, rel) in LABELLED {
        let Some(clip) = media(rel) else { return };
        let label: Value = serde_json::from_str(
            &std::fs::read_to_string(labels.join(format!("{name}.json"))).unwrap(),
        )
        .unwrap();
        let g = gate_json(&clip, &[]);
        let found = labelled(&g, "cut");
        let expected = u64s(&label["cuts"]);
        let (t, missed, extra) = score_cuts(&found, &expected, &u64s(&label["cuts_ambiguous"]));
        tp += t;
        fn_ += missed.len();
        fp += extra.len();
        let frames = g["frames"].as_u64().unwrap();
        let mut hold_cols = ("—".to_string(), "—".to_string(), "—".to_string());
        if label.get("holds").is_some() {
            let truth: BTreeSet<u64> = u64s(&label["holds"]).into_iter().collect();
            let unsure: BTreeSet<u64> = u64s(&label["holds_ambiguous"]).into_iter().collect();
            // Labels count a hold f→f+1 as f; the gate reports `to` = f+1.
            let said: BTreeSet<u64> = labelled(&g, "hold").iter().map(|t| t - 1).collect();
            let said: BTreeSet<u64> = said.difference(&unsure).copied().collect();
            let right = said.intersection(&truth).count();
            let precision = right as f64 / said.len().max(1) as f64;
            let recall = right as f64 / truth.len().max(1) as f64;
            let wrong: Vec<u64> = said.difference(&truth).copied().collect();
            if !truth.is_empty() && (precision < 0.98 || recall < 0.95) {
                failures.push(format!(
                    "{name}: hold precision {precision:.3} recall {recall:.3} (wrongly held {wrong:?})"
                ));
            }
            if truth.is_empty() && !said.is_empty() {
                failures.push(format!("{name}: no hold labelled, gate held {wrong:?}"));
            }
            hold_cols = (
                truth.len().to_string(),
                if said.is_empty() {
                    "—".into()
                } else {
                    format!("{precision:.3}")
                },
                if truth.is_empty() {
                    "—".into()
                } else {
                    format!("{recall:.3}")
                },
            );
        }
        eprintln!(
            "| {name} | {frames} | {} | {} | {missed:?} | {extra:?} | {} | {} | {} |",
            expected.len(),
            found.len(),
            hold_cols.0,
            hold_cols.1,
            hold_cols.2
        );
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    let f1 = 2.0 * precision * recall / (precision + recall).max(1e-9);
    eprintln!(
        "overall cuts: {tp} found, {fn_} missed, {fp} extra: precision {precision:.3}, recall {recall:.3}, F1 {f1:.3}"
    );
    assert!(f1 >= 0.98, "cut F1 {f1:.3}");
    assert!(failures.is_empty(), "{failures:#?}");
}

// ------------------------------------------------------------ generated clips

/// One frame of a clip as raw planes of `pix_fmt`, scaled to `w`x`h`.
fn raw_frame(clip: &Path, n: usize, w: usize, h: usize, pix_fmt: &str) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(clip)
        .args([
            "-vf",
            &format!("select=eq(n\\,{n}),scale={w}:{h}:flags=bicubic"),
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            pix_fmt,
            "-",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Encodes raw yuv444p frames to H.264 4:2:0 at 24 fps with `extra` x264 flags.
fn encode(frames: &[Vec<u8>], (w, h): (usize, usize), out: &Path, extra: &[&str]) {
    let size = format!("{w}x{h}");
    let mut child = Command::new("ffmpeg")
        .args([
            "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "yuv444p", "-s", &size,
        ])
        .args([
            "-r", "24", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        ])
        .args(extra)
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for f in frames {
        stdin.write_all(f).unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// A window of a yuv444p picture (`src` is `sw` wide), top-left at (x, y).
fn crop(
    src: &[u8],
    (sw, sh): (usize, usize),
    (x, y): (usize, usize),
    (w, h): (usize, usize),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(3 * w * h);
    for p in 0..3 {
        let plane = &src[p * sw * sh..(p + 1) * sw * sh];
        for r in y..y + h {
            out.extend_from_slice(&plane[r * sw + x..r * sw + x + w]);
        }
    }
    out
}

/// `b` with its luma remapped so its histogram equals `a`'s (chroma kept):
/// two pictures with the same luma histogram but different content and hue.
fn match_luma(a: &[u8], b: &[u8], n: usize) -> Vec<u8> {
    let mut ya: Vec<u8> = a[..n].to_vec();
    ya.sort_unstable();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| b[i]);
    let mut out = b.to_vec();
    for (rank, &i) in order.iter().enumerate() {
        out[i] = ya[rank];
    }
    out
}

fn anime(rel: &str) -> Option<PathBuf> {
    media(&format!("anime/{rel}"))
}

/// Hard cuts between two shots with the same luma histogram but different
/// content and hue are found; pans, fast action, dissolves (6 and 24
/// frames) and a fade through black are not cuts.
#[test]
fn same_luma_cuts_are_found_and_pans_action_dissolves_fades_are_not() {
    let (Some(jjk), Some(op)) = (
        anime("tas_jjk_itadori_720p.mp4"),
        anime("realesrgan_onepiece_demo.mp4"),
    ) else {
        return;
    };
    let (sw, sh) = (480usize, 360usize);
    let (w, h) = (320usize, 240usize);
    let n = sw * sh;
    let a = raw_frame(&jjk, 60, sw, sh, "yuv444p");
    let b_raw = raw_frame(&op, 20, sw, sh, "yuv444p");
    let b = match_luma(&a, &b_raw, n);
    let pan = |src: &[u8], k: usize, speed: usize| {
        crop(
            src,
            (sw, sh),
            ((k * speed) % (sw - w), (k * speed / 2) % (sh - h)),
            (w, h),
        )
    };
    let mix = |p: &[u8], q: &[u8], t: f32| -> Vec<u8> {
        p.iter()
            .zip(q)
            .map(|(&x, &y)| (x as f32 + (y as f32 - x as f32) * t).round() as u8)
            .collect()
    };
    let black = |p: &[u8], t: f32| -> Vec<u8> {
        // Toward limited-range black (16, 128, 128).
        p.iter()
            .enumerate()
            .map(|(i, &x)| {
                let target = if i < w * h { 16.0 } else { 128.0 };
                (x as f32 + (target - x as f32) * t).round() as u8
            })
            .collect()
    };
    let mut frames = Vec::new();
    let mut cuts = Vec::new();
    // Shot A: slow pan (12 frames), hard cut to shot B: fast action (12).
    frames.extend((0..12).map(|k| pan(&a, k, 3)));
    cuts.push(frames.len() as u64);
    frames.extend((0..12).map(|k| pan(&b, k, 13)));
    // Hard cut back to A (slow pan), then a 6-frame dissolve to B.
    cuts.push(frames.len() as u64);
    frames.extend((0..8).map(|k| pan(&a, k, 3)));
    for k in 1..=6 {
        frames.push(mix(&pan(&a, 8 + k, 3), &pan(&b, k, 3), k as f32 / 7.0));
    }
    frames.extend((7..14).map(|k| pan(&b, k, 3)));
    // A 24-frame dissolve back to A, then a fade through black to B.
    for k in 1..=24 {
        frames.push(mix(&pan(&b, 14 + k, 2), &pan(&a, k, 2), k as f32 / 25.0));
    }
    for k in 0..8 {
        frames.push(black(&pan(&a, 25 + k, 2), k as f32 / 7.0));
    }
    for k in 0..8 {
        frames.push(black(&pan(&b, k, 2), 1.0 - k as f32 / 7.0));
    }
    let dir = tmpdir();
    let clip = dir.path().join("same_luma.mp4");
    encode(&frames, (w, h), &clip, &["-crf", "18"]);
    let g = gate_json(&clip, &[]);
    let found = labelled(&g, "cut");
    eprintln!("same-luma clip: cuts expected {cuts:?}, found {found:?}");
    for c in g["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["class"] == "cut")
    {
        eprintln!("  {}: {}", c["to"], c["evidence"]);
    }
    assert_eq!(found, cuts);
}

/// A thin-streak layer over a drawing: `count` streaks `1..=max_w` px wide,
/// 10-60 px long, 30-80 levels brighter, falling `speed` px per frame.
struct Particles {
    streaks: Vec<(f32, f32, usize, usize, f32, f32)>,
}

impl Particles {
    fn new(count: usize, max_w: usize, seed: u64, (w, h): (usize, usize)) -> Particles {
        let mut s = seed | 1;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s % 1_000_000) as f32 / 1_000_000.0
        };
        let streaks = (0..count)
            .map(|_| {
                (
                    next() * w as f32,
                    next() * h as f32,
                    1 + (next() * max_w as f32) as usize % max_w,
                    10 + (next() * 51.0) as usize,
                    30.0 + next() * 50.0,
                    12.0 + next() * 20.0,
                )
            })
            .collect();
        Particles { streaks }
    }

    /// Frame `k`: the streaks drawn onto the luma of a yuv444p picture.
    fn draw(&self, base: &[u8], (w, h): (usize, usize), k: usize) -> Vec<u8> {
        let mut out = base.to_vec();
        for &(x0, y0, sw, len, contrast, speed) in &self.streaks {
            let y0 = (y0 + speed * k as f32) as usize % h;
            let x0 = (x0 + 0.25 * speed * k as f32) as usize % w;
            for j in 0..len {
                let (y, x) = (y0 + j, x0 + j / 4);
                if y >= h {
                    break;
                }
                for dx in 0..sw {
                    if x + dx < w {
                        let v = &mut out[y * w + x + dx];
                        *v = (*v as f32 + contrast).min(235.0) as u8;
                    }
                }
            }
        }
        out
    }
}

/// Rain, snow and sparkles over a held drawing (thin streaks, 1-3 px wide,
/// 10-60 px long, 30-80 levels, 20 to 300 of them) at x264 crf 18 and 28:
/// every transition is MOTION. The same held drawing alone, crf 28 with a
/// keyframe every 12 frames: every transition is HOLD.
#[test]
fn thin_moving_elements_over_a_held_drawing_are_motion_and_the_drawing_alone_holds() {
    let Some(src) = anime("psd_issue-236-split-copy.mkv") else {
        return;
    };
    let (w, h) = (1280usize, 720usize);
    let base = raw_frame(&src, 30, w, h, "yuv444p");
    let dir = tmpdir();
    let mut failures = Vec::new();
    for (what, count, max_w) in [
        ("rain", 20usize, 1usize),
        ("snow", 300, 3),
        ("sparkles", 60, 2),
    ] {
        let layer = Particles::new(count, max_w, count as u64 * 7 + max_w as u64, (w, h));
        let frames: Vec<Vec<u8>> = (0..16).map(|k| layer.draw(&base, (w, h), k)).collect();
        for crf in ["18", "28"] {
            let clip = dir.path().join(format!("{what}_{crf}.mp4"));
            encode(&frames, (w, h), &clip, &["-crf", crf]);
            let g = gate_json(&clip, &[]);
            let c = classes(&g);
            let fine: Vec<Value> = g["transitions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["fine_blocks"].clone())
                .collect();
            eprintln!("{what} ({count} streaks, up to {max_w} px), crf {crf}: {c:?}, full-resolution blocks {fine:?}");
            if c.iter().any(|k| k != "motion") {
                failures.push(format!("{what} crf {crf}: {c:?}"));
            }
        }
    }
    let held: Vec<Vec<u8>> = (0..24).map(|_| base.clone()).collect();
    let clip = dir.path().join("held_28.mp4");
    encode(
        &held,
        (w, h),
        &clip,
        &["-crf", "28", "-g", "12", "-keyint_min", "12"],
    );
    let c = classes(&gate_json(&clip, &[]));
    eprintln!("held drawing, crf 28, keyframe every 12: {c:?}");
    if c.iter().any(|k| k != "hold") {
        failures.push(format!("held drawing: {c:?}"));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

fn mean_abs(a: &[u8], b: &[u8]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .sum::<f64>()
        / a.len() as f64
}

/// Upscale-only on thin rain over a held drawing: no picture is reused, and
/// every output frame is within 1/255 (mean) of the same frame upscaled on
/// its own (`--no-gate --no-reuse`): no frame of rain is lost.
#[test]
fn upscale_only_on_rain_loses_no_frame() {
    let Some(src) = anime("psd_issue-236-split-copy.mkv") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let (w, h) = (320usize, 180usize);
    let base = raw_frame(&src, 30, w, h, "yuv444p");
    let layer = Particles::new(12, 1, 5, (w, h));
    let frames: Vec<Vec<u8>> = (0..8).map(|k| layer.draw(&base, (w, h), k)).collect();
    let dir = tmpdir();
    let clip = dir.path().join("rain.mp4");
    encode(&frames, (w, h), &clip, &["-crf", "18"]);
    let (gated, alone) = (dir.path().join("gated.mkv"), dir.path().join("alone.mkv"));
    let rep = dir.path().join("r.json");
    enhance_ok(
        &clip,
        &gated,
        "upscale-only",
        &["--crf", "1", "--report", rep.to_str().unwrap()],
    );
    enhance_ok(
        &clip,
        &alone,
        "upscale-only",
        &["--crf", "1", "--no-gate", "--no-reuse"],
    );
    let r = report(&rep);
    assert_eq!(r["upscale"]["reused"], 0, "{r}");
    let (g, a) = (gray_frames(&gated).2, gray_frames(&alone).2);
    assert_eq!(g.len(), frames.len());
    assert_eq!(g.len(), a.len());
    for (k, (x, y)) in g.iter().zip(&a).enumerate() {
        let d = mean_abs(x, y);
        assert!(
            d <= 1.0,
            "output frame {k} differs from its own upscale by {d:.2} levels (mean)"
        );
    }
}

/// Two shots with a hard cut and cut detection switched off by config: the
/// ghost guard still keeps every output frame a real picture of one shot
/// (mean absolute difference to the nearer input frame at most 3 levels).
#[test]
fn with_cut_detection_off_the_guard_never_shows_two_shots_mixed() {
    let (Some(jjk), Some(op)) = (
        anime("tas_jjk_itadori_720p.mp4"),
        anime("realesrgan_onepiece_demo.mp4"),
    ) else {
        return;
    };
    if !models_ready() {
        return;
    }
    let (w, h) = (256usize, 144usize);
    let a = raw_frame(&jjk, 60, w + 32, h + 16, "yuv444p");
    let b = raw_frame(&op, 20, w + 32, h + 16, "yuv444p");
    let mut frames: Vec<Vec<u8>> = (0..6)
        .map(|k| crop(&a, (w + 32, h + 16), (k * 2, k), (w, h)))
        .collect();
    frames.extend((0..6).map(|k| crop(&b, (w + 32, h + 16), (k * 2, k), (w, h))));
    let dir = tmpdir();
    let clip = dir.path().join("cut.mp4");
    encode(&frames, (w, h), &clip, &["-crf", "10"]);
    let cfg = dir.path().join("nocut.toml");
    std::fs::write(&cfg, "[gate]\ndetect_cuts = false\n").unwrap();
    assert!(labelled(
        &gate_json(&clip, &["--config", cfg.to_str().unwrap()]),
        "cut"
    )
    .is_empty());
    let out = dir.path().join("out.mkv");
    let rep = dir.path().join("r.json");
    enhance_ok(
        &clip,
        &out,
        "interpolate-only",
        &[
            "--crf",
            "1",
            "--config",
            cfg.to_str().unwrap(),
            "--report",
            rep.to_str().unwrap(),
        ],
    );
    let r = report(&rep);
    assert_eq!(r["gate"]["cut"], 0, "{r}");
    assert!(r["interpolate"]["rejected"].as_u64().unwrap() >= 1, "{r}");
    let ins = gray_frames(&clip).2;
    let outs = gray_frames(&out).2;
    assert_eq!(outs.len(), 2 * ins.len());
    // Output 11 lies between input 5 (last of shot A) and 6 (first of B).
    let (da, db) = (mean_abs(&outs[11], &ins[5]), mean_abs(&outs[11], &ins[6]));
    eprintln!(
        "output between the shots: {da:.2} levels from A's last frame, {db:.2} from B's first"
    );
    assert!(
        da.min(db) <= 3.0,
        "the frame across the cut mixes the shots: {da:.1} / {db:.1} levels"
    );
}

/// A 2-frame white flash inside a shot: no cut, the flash transitions are
/// labelled, and no output frame is interpolated into or out of it (every
/// output frame next to the flash is a copy of an input frame).
#[test]
fn a_white_flash_is_no_cut_and_never_interpolated() {
    let Some(op) = anime("realesrgan_onepiece_demo.mp4") else {
        return;
    };
    if !models_ready() {
        return;
    }
    let (sw, sh) = (320usize, 240usize);
    let (w, h) = (256usize, 192usize);
    let a = raw_frame(&op, 20, sw, sh, "yuv444p");
    let mut frames: Vec<Vec<u8>> = (0..14)
        .map(|k| crop(&a, (sw, sh), (k * 2, k), (w, h)))
        .collect();
    // Frames 6 and 7 flash white (limited-range white, neutral chroma).
    for f in &mut frames[6..8] {
        for (i, v) in f.iter_mut().enumerate() {
            *v = if i < w * h { 235 } else { 128 };
        }
    }
    let dir = tmpdir();
    let clip = dir.path().join("flash.mp4");
    encode(&frames, (w, h), &clip, &["-crf", "10"]);
    let g = gate_json(&clip, &[]);
    eprintln!("flash clip: {:?}", classes(&g));
    assert!(labelled(&g, "cut").is_empty(), "{:?}", classes(&g));
    assert_eq!(labelled(&g, "flash"), vec![6, 7, 8]);
    let out = dir.path().join("out.mkv");
    let rep = dir.path().join("r.json");
    enhance_ok(
        &clip,
        &out,
        "interpolate-only",
        &["--crf", "1", "--report", rep.to_str().unwrap()],
    );
    let ins = gray_frames(&clip).2;
    let outs = gray_frames(&out).2;
    assert_eq!(outs.len(), 2 * ins.len());
    // Output 2k is input k; 2k+1 lies between inputs k and k+1. Around the
    // flash (inputs 5..=8) every output must be a copy of an input frame.
    for (k, out) in outs.iter().enumerate().take(17).skip(10) {
        let nearest = ins
            .iter()
            .map(|x| mean_abs(x, out))
            .fold(f64::MAX, f64::min);
        assert!(
            nearest <= 1.5,
            "output {k} next to the flash is not a copy ({nearest:.1} levels)"
        );
    }
    let r = report(&rep);
    assert_eq!(r["gate"]["cut"], 0, "{r}");
    assert!(
        r["interpolate"]["inferred"].as_u64().unwrap() >= 6,
        "the rest of the shot is interpolated: {r}"
    );
}

// ------------------------------------------------------------ cut sheet

#[test]
fn the_cut_sheet_shows_one_strip_per_cut_and_refuses_a_bad_name() {
    let dir = tmpdir();
    let clip = dir.path().join("two_shots.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=24:duration=2",
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=size=320x240:rate=24",
        "-filter_complex",
        "[1:v]trim=duration=2,format=yuv420p[m];[0:v]format=yuv420p[t];[t][m]concat=n=2:v=1:a=0[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-crf",
        "18",
        clip.to_str().unwrap(),
    ]);
    let sheet = dir.path().join("cuts.png");
    let (code, out, err) = run(&[
        "info",
        clip.to_str().unwrap(),
        "--gate",
        "--json",
        "--sheet",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let g: Value = serde_json::from_str(&out).unwrap();
    let cuts = labelled(&g["gate"], "cut");
    assert_eq!(cuts, vec![48], "{err}");
    assert!(err.contains("sheet: 1 break(s)"), "{err}");
    let s = &streams(&sheet)[0];
    // One strip: four 192 px thumbnails side by side, one row high.
    assert!(s["width"].as_u64().unwrap() >= 4 * 192, "{s}");
    let h = s["height"].as_u64().unwrap();
    assert!((144..400).contains(&h), "one strip: {h} px high");
    let (code, _, err) = run(&[
        "info",
        clip.to_str().unwrap(),
        "--gate",
        "--sheet",
        dir.path().join("cuts.jpg").to_str().unwrap(),
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("PNG") && err.lines().count() == 1, "{err}");
}

/// No labelled cut of the public clips is morphed. Per clip, frames
/// c-2..c+1 around every labelled cut c are cut out into one lossless
/// constant-rate file and run through `interpolate-only --fps 2x
/// --lossless`, with cut detection on and off (the ghost guard alone):
/// every output frame between c-1 and c is a copy of one of them as the
/// output shows them (within 3 levels of mean luma difference). Prints
/// one row per cut.
#[test]
fn no_labelled_cut_is_morphed_with_or_without_cut_detection() {
    if !models_ready() {
        return;
    }
    let fps = 24000.0 / 1001.0;
    let dir = tmpdir();
    let nocut = dir.path().join("nocut.toml");
    std::fs::write(&nocut, "[gate]\ndetect_cuts = false\n").unwrap();
    let mut morphed = Vec::new();
    let mut checked = 0;
    eprintln!("| clip | cut | detection | levels from c-1 / c | gate cuts | rejected |");
    eprintln!("|---|---|---|---|---|---|");
    for (name, rel) in LABELLED {
        let Some(label) = label(name) else {
            eprintln!("SKIP: labels of {name} not present");
            return;
        };
        let cuts = u64s(&label["cuts"]);
        if cuts.is_empty() {
            continue;
        }
        let Some(clip) = media(rel) else { return };
        // Frames c-2..c+1 of every cut, back to back at 23.976.
        let terms: Vec<String> = cuts
            .iter()
            .map(|c| format!("between(n\\,{}\\,{})", c - 2, c + 1))
            .collect();
        let windows = dir.path().join(format!("{name}.mkv"));
        ffmpeg(&[
            "-i",
            clip.to_str().unwrap(),
            "-vf",
            &format!("select='{}',setpts=N*1001/24000/TB", terms.join("+")),
            "-r",
            "24000/1001",
            "-an",
            "-c:v",
            "ffv1",
            windows.to_str().unwrap(),
        ]);
        // Where each source frame lands (windows of close cuts overlap).
        let kept: BTreeSet<u64> = cuts.iter().flat_map(|&c| c - 2..=c + 1).collect();
        let at = |n: u64| kept.iter().position(|&k| k == n).unwrap_or(usize::MAX);
        let ins = gray_frames(&windows).2;
        assert_eq!(ins.len(), kept.len(), "{name}: windows");
        for detect in [true, false] {
            let out = dir.path().join(format!("{name}_{detect}.mkv"));
            let rep = dir.path().join(format!("{name}_{detect}.json"));
            let mut args = vec![
                "--fps",
                "2x",
                "--lossless",
                "--report",
                rep.to_str().unwrap(),
            ];
            if !detect {
                args.extend_from_slice(&["--config", nocut.to_str().unwrap()]);
            }
            enhance_ok(&windows, &out, "interpolate-only", &args);
            let r = report(&rep);
            let pts = video_pts(&out);
            let outs = gray_frames(&out).2;
            assert_eq!(pts.len(), outs.len());
            for cut in &cuts {
                // The last frame of the old shot and the first of the new.
                let (old, new) = (at(cut - 1), at(*cut));
                let (t_old, t_new) = (old as f64 / fps, new as f64 / fps);
                let between: Vec<usize> = (0..pts.len())
                    .filter(|&i| pts[i] > t_old + 0.002 && pts[i] < t_new - 0.002)
                    .collect();
                assert!(
                    !between.is_empty(),
                    "{name} cut {cut}: no output frame between"
                );
                // The output's own pictures of c-1 and c (the colour round
                // trip of a run moves saturated pictures by a level or so).
                let slot = |t: f64| {
                    let i = (0..pts.len()).find(|&i| (pts[i] - t).abs() < 0.002);
                    &outs[i.expect("an output frame at each input frame's time")]
                };
                let (shown_old, shown_new) = (slot(t_old), slot(t_new));
                for i in between {
                    let (da, db) = (mean_abs(&outs[i], shown_old), mean_abs(&outs[i], shown_new));
                    checked += 1;
                    eprintln!(
                        "| {name} | {cut} | {} | {da:.2} / {db:.2} | {} | {} |",
                        if detect { "on" } else { "off" },
                        r["gate"]["cut"],
                        r["interpolate"]["rejected"]
                    );
                    if da.min(db) > 3.0 {
                        morphed.push((name, *cut, detect));
                    }
                }
            }
        }
    }
    eprintln!(
        "{checked} frames between the two sides of a labelled cut, {} morphed",
        morphed.len()
    );
    assert!(
        morphed.is_empty(),
        "cuts morphed (clip, cut, detection on): {morphed:?}"
    );
}
