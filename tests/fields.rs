//! Telecined, interlaced and flagged-interlaced video through `enhance`
//! (`--fields auto`): clips made here with FFmpeg's `telecine`,
//! `tinterlace` and `setfield` from a generated cartoon (flat colours,
//! hard edges, fast motion), so the film frames are known exactly; plus
//! the One Piece demo telecined when `../shared/media` is present.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use common::*;

/// A flat-coloured cartoon at `rate`: two boxes moving fast over a
/// background, 4 s, with a 440 Hz tone; `vf` is appended to the graph.
fn cartoon(out: &Path, rate: &str, vf: &str, extra: &[&str]) {
    let graph = format!(
        "color=c=0xd0c0a0:s=320x240:r={rate}:d=4[bg];color=c=0x202020:s=40x150:r={rate}:d=4[b];\
         color=c=0x8040c0:s=80x30:r={rate}:d=4[c];[bg][b]overlay=x='mod(t*900,280)':y=40[t];\
         [t][c]overlay=x=200:y='mod(t*600,200)',format=yuv420p{vf}[v]"
    );
    let mut args = vec![
        "-filter_complex",
        &graph,
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=4",
        "-map",
        "[v]",
        "-map",
        "0:a",
        "-t",
        "4",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-c:a", "aac", out.to_str().unwrap()]);
    ffmpeg(&args);
}

/// Lossless x264 stored as interlaced, top field first.
const INTERLACED_X264: [&str; 8] = [
    "-c:v",
    "libx264",
    "-qp",
    "0",
    "-flags",
    "+ilme+ildct",
    "-x264-params",
    "tff=1",
];

/// `ffmpeg -vf idet`: (interlaced, progressive) frames by its multi-frame detection.
fn idet(path: &Path) -> (u64, u64) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(path)
        .args(["-vf", "idet", "-f", "null", "-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.contains("Multi frame detection"))
        .expect("idet summary");
    let num = |key: &str| -> u64 {
        let at = line.find(key).unwrap() + key.len();
        line[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (num("TFF:") + num("BFF:"), num("Progressive:"))
}

/// Every decoded frame as grey bytes, none dropped or repeated for a rate
/// (`-vsync passthrough`: the outputs here may be variable-rate).
fn gray_frames(path: &Path) -> (usize, usize, Vec<Vec<u8>>) {
    let s = &streams(path)[0];
    let (w, h) = (
        s["width"].as_u64().unwrap() as usize,
        s["height"].as_u64().unwrap() as usize,
    );
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-vsync",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .unwrap();
    (
        w,
        h,
        out.stdout.chunks_exact(w * h).map(|c| c.to_vec()).collect(),
    )
}

fn psnr_gray(a: &[u8], b: &[u8]) -> f64 {
    let mse = a
        .iter()
        .zip(b)
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

fn info_fields(path: &Path) -> serde_json::Value {
    let (code, out, err) = run(&["info", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    v["video"]["fields"].clone()
}

/// Telecine back to film: every film frame, in order, at film timing,
/// progressive by `idet`, audio kept in sync.
fn check_film_back(film: &Path, telecined: &Path, dir: &Path) {
    let out = dir.join("out.mkv");
    let rep = dir.join("report.json");
    enhance_ok(
        telecined,
        &out,
        "reencode",
        &["--lossless", "--report", rep.to_str().unwrap()],
    );
    let (_, _, truth) = gray_frames(film);
    let (_, _, got) = gray_frames(&out);
    let slack = (truth.len() / 1000).max(1);
    assert!(
        got.len().abs_diff(truth.len()) <= slack,
        "{} frames back for {} film frames",
        got.len(),
        truth.len()
    );
    let mut scores: Vec<f64> = got
        .iter()
        .zip(&truth)
        .map(|(a, b)| psnr_gray(a, b))
        .collect();
    scores.sort_by(f64::total_cmp);
    let median = scores[scores.len() / 2];
    eprintln!(
        "{}: {} film frames, {} back, median PSNR {median:.1} dB, worst {:.1}",
        telecined.display(),
        truth.len(),
        got.len(),
        scores[0]
    );
    assert!(median >= 40.0, "median PSNR {median:.1} dB");
    let (inter, prog) = idet(&out);
    assert!(
        inter * 20 <= prog,
        "idet: {inter} interlaced, {prog} progressive"
    );
    // Film timing: the frames are evenly spaced at 1001/24000 s.
    let pts = video_pts(&out);
    let step = 1001.0 / 24000.0;
    for w in pts.windows(2) {
        assert!(
            (w[1] - w[0] - step).abs() < 0.002,
            "frame step {}",
            w[1] - w[0]
        );
    }
    // Audio in sync: it is copied, and the video still covers it within a frame.
    let (v, a) = (stream_duration(&out, "v"), stream_duration(&out, "a"));
    assert!(
        (v - a).abs() <= 1.5 * step,
        "video {v:.3} s, audio {a:.3} s"
    );
    let r = report(&rep);
    let f = &r["decode"]["fields"];
    assert_eq!(f["decision"]["found"], "telecined", "{f}");
    assert!(f["repeats_dropped"].as_u64().unwrap() > 0, "{f}");
}

#[test]
fn telecine_3_2_and_2_3_3_2_give_the_film_frames_back() {
    let dir = tmpdir();
    let film = dir.path().join("film.mkv");
    cartoon(&film, "24000/1001", "", &["-c:v", "libx264", "-qp", "0"]);
    for pattern in ["23", "2332"] {
        let tc = dir.path().join(format!("tc{pattern}.mkv"));
        let mut args = vec![
            "-i",
            film.to_str().unwrap(),
            "-vf",
            if pattern == "23" {
                "telecine=pattern=23,setfield=tff"
            } else {
                "telecine=pattern=2332,setfield=tff"
            },
        ];
        args.extend_from_slice(&INTERLACED_X264);
        args.extend_from_slice(&["-c:a", "copy", tc.to_str().unwrap()]);
        ffmpeg(&args);
        let f = info_fields(&tc);
        assert_eq!(f["found"], "telecined", "{pattern}: {f}");
        let sub = dir.path().join(pattern);
        std::fs::create_dir_all(&sub).unwrap();
        check_film_back(&film, &tc, &sub);
    }
}

#[test]
fn the_one_piece_demo_telecined_comes_back_frame_exact() {
    let Some(clip) = media("anime/realesrgan_onepiece_demo.mp4") else {
        return;
    };
    let dir = tmpdir();
    // The demo's decoded frames, losslessly, are the film.
    let film = dir.path().join("film.mkv");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-c:a",
        "copy",
        film.to_str().unwrap(),
    ]);
    let tc = dir.path().join("tc.mkv");
    let mut args = vec![
        "-i",
        film.to_str().unwrap(),
        "-vf",
        "telecine=pattern=23,setfield=tff",
    ];
    args.extend_from_slice(&INTERLACED_X264);
    args.extend_from_slice(&["-c:a", "copy", tc.to_str().unwrap()]);
    ffmpeg(&args);
    let out = dir.path().join("out.mkv");
    enhance_ok(&tc, &out, "reencode", &["--lossless"]);
    let (_, _, truth) = gray_frames(&film);
    let (_, _, got) = gray_frames(&out);
    assert_eq!(got.len(), truth.len());
    let exact = got.iter().zip(&truth).filter(|(a, b)| a == b).count();
    let worst = got
        .iter()
        .zip(&truth)
        .map(|(a, b)| psnr_gray(a, b))
        .fold(99.0, f64::min);
    eprintln!(
        "One Piece telecined: {} of {} frames bit-exact, worst {worst:.1} dB",
        exact,
        truth.len()
    );
    // A held drawing may come back from the other copy of it (codec noise).
    assert!(worst >= 40.0, "worst frame {worst:.1} dB");
}

#[test]
fn true_interlace_is_deinterlaced_to_progressive_at_the_same_rate() {
    let dir = tmpdir();
    let src = dir.path().join("il.mkv");
    let mut extra = INTERLACED_X264.to_vec();
    extra.extend_from_slice(&["-r", "30000/1001"]);
    cartoon(
        &src,
        "60000/1001",
        ",tinterlace=mode=interleave_top,setfield=tff",
        &extra,
    );
    let f = info_fields(&src);
    assert_eq!(f["found"], "interlaced", "{f}");
    assert_eq!(f["order"], "tff", "{f}");
    let (inter_in, _) = idet(&src);
    assert!(inter_in > 100, "the made clip is interlaced: {inter_in}");
    let out = dir.path().join("out.mkv");
    enhance_ok(&src, &out, "reencode", &["--lossless"]);
    let (inter, prog) = idet(&out);
    assert!(
        inter * 20 <= prog,
        "idet: {inter} interlaced, {prog} progressive"
    );
    assert_eq!(frame_count(&out), frame_count(&src));
    let s = &streams(&out)[0];
    assert!(
        s["field_order"].is_null() || s["field_order"] == "progressive",
        "{s}"
    );
}

#[test]
fn progressive_video_flagged_interlaced_passes_bit_exact() {
    let dir = tmpdir();
    let src = dir.path().join("flagged.mkv");
    let mut extra = INTERLACED_X264.to_vec();
    extra.extend_from_slice(&["-r", "24000/1001"]);
    cartoon(&src, "24000/1001", ",setfield=tff", &extra);
    let order = streams(&src)[0]["field_order"].clone();
    assert!(order == "tt" || order == "tb", "{order}");
    let f = info_fields(&src);
    assert_eq!(f["found"], "progressive", "{f}");
    assert_eq!(f["flagged_interlaced"], true, "{f}");
    let out = dir.path().join("out.mkv");
    let err = enhance_ok(&src, &out, "reencode", &["--lossless"]);
    assert!(err.contains("show no combing"), "{err}");
    let md5 = |p: &Path| -> Vec<String> {
        framemd5(p, &["-map", "0:v"])
            .into_iter()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(',').next().unwrap_or("").trim().to_string())
            .collect()
    };
    assert_eq!(md5(&out), md5(&src));
    // Told to leave the fields alone, nothing is measured, so the warning
    // claims nothing about the pictures.
    let told = dir.path().join("told.mkv");
    let err = enhance_ok(
        &src,
        &told,
        "reencode",
        &["--lossless", "--fields", "progressive"],
    );
    assert!(
        err.contains("--fields progressive leaves its frames as decoded")
            && !err.contains("show no combing"),
        "{err}"
    );
    assert_eq!(md5(&told), md5(&src));
}

#[test]
fn a_video_rate_section_in_telecined_film_keeps_every_picture() {
    let dir = tmpdir();
    let film = dir.path().join("film.mkv");
    cartoon(&film, "24000/1001", "", &["-c:v", "libx264", "-qp", "0"]);
    // 29.97 progressive video where every frame is a new picture (credits
    // scrolling, video-rate animation), joined after the telecined film.
    let video = dir.path().join("video.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=30000/1001:duration=2",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        video.to_str().unwrap(),
    ]);
    let mixed = dir.path().join("mixed.mkv");
    let mut args = vec![
        "-i",
        film.to_str().unwrap(),
        "-i",
        video.to_str().unwrap(),
        "-filter_complex",
        "[0:v]telecine=pattern=23[a];[a][1:v]concat=n=2:v=1:a=0,setfield=tff[v]",
        "-map",
        "[v]",
    ];
    args.extend_from_slice(&INTERLACED_X264);
    args.push(mixed.to_str().unwrap());
    ffmpeg(&args);
    let out = dir.path().join("out.mkv");
    let rep = dir.path().join("report.json");
    enhance_ok(
        &mixed,
        &out,
        "reencode",
        &["--lossless", "--report", rep.to_str().unwrap()],
    );
    eprintln!("fields: {}", report(&rep)["decode"]["fields"]);
    let (_, _, section) = gray_frames(&video);
    let (_, _, got) = gray_frames(&out);
    let have: HashSet<&Vec<u8>> = got.iter().collect();
    let lost = section.iter().filter(|f| !have.contains(f)).count();
    eprintln!(
        "mixed: {} output frames; {} of the {} video-rate pictures lost",
        got.len(),
        lost,
        section.len()
    );
    assert_eq!(lost, 0);
    // The film part still lost its repeats: 96 film + 60 video frames.
    assert!(got.len() <= 96 + 60 + 1, "{} frames", got.len());
}
