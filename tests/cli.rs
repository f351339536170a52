//! Integration tests: the real binary on generated clips and real media.

mod common;

use common::*;
use std::process::Command;

// ------------------------------------------------------------ passthrough

#[test]
fn passthrough_8bit_keeps_quality_frames_duration_and_audio() {
    let dir = tmpdir();
    let input = dir.path().join("in.mp4");
    make_clip(
        &input,
        "320x240",
        "24000/1001",
        "2",
        &["-c:v", "libx264", "-crf", "10", "-pix_fmt", "yuv420p"],
    );
    let out = dir.path().join("out.mkv");
    let (code, _, err) = run(&[
        "enhance",
        "--preset",
        "reencode",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let p = psnr(&input, &out);
    eprintln!("passthrough PSNR {p:.2} dB");
    assert!(p >= 45.0, "PSNR {p:.2} dB < 45 dB");
    assert_eq!(frame_count(&input), frame_count(&out));
    let (vi, vo) = (video_pts(&input), video_pts(&out));
    let frame = 1001.0 / 24000.0;
    let dur_in = vi.last().unwrap() - vi[0] + frame;
    let dur_out = vo.last().unwrap() - vo[0] + frame;
    assert!((dur_in - dur_out).abs() <= frame, "{dur_in} vs {dur_out}");
    let (ai, ao) = (stream_duration(&input, "a"), stream_duration(&out, "a"));
    assert!((ai - ao).abs() <= 0.05, "audio {ai} vs {ao}");
    assert_eq!(
        stray_files(dir.path(), &["in.mp4", "out.mkv"]),
        Vec::<String>::new()
    );
}

#[test]
fn ten_bit_input_gives_ten_bit_output_with_colour_tags() {
    let dir = tmpdir();
    let input = dir.path().join("in10.mkv");
    make_clip(
        &input,
        "256x144",
        "24",
        "1",
        &[
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p10le",
            "-crf",
            "12",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-colorspace",
            "bt709",
            "-color_range",
            "tv",
        ],
    );
    for (codec, ext) in [("x264", "mkv"), ("x265", "mp4")] {
        let out = dir.path().join(format!("out-{codec}.{ext}"));
        enhance_ok(&input, &out, "reencode", &["--codec", codec]);
        let s = &streams(&out)[0];
        assert_eq!(s["pix_fmt"], "yuv420p10le", "{codec}: {s}");
        assert_eq!(s["color_space"], "bt709", "{codec}");
        assert_eq!(s["color_primaries"], "bt709", "{codec}");
        assert_eq!(s["color_transfer"], "bt709", "{codec}");
        assert_eq!(s["color_range"], "tv", "{codec}");
    }
}

#[test]
fn full_range_and_444_survive() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(
        &input,
        "64x48",
        "25",
        "1",
        &["-c:v", "libx264", "-pix_fmt", "yuvj444p", "-crf", "10"],
    );
    let out = dir.path().join("out.mkv");
    enhance_ok(&input, &out, "reencode", &[]);
    let s = &streams(&out)[0];
    assert_eq!(s["color_range"], "pc", "{s}");
    assert!(s["pix_fmt"].as_str().unwrap_or("").contains("444"), "{s}");
}

#[test]
fn av1_output_is_valid() {
    let dir = tmpdir();
    let input = dir.path().join("in.mp4");
    make_clip(&input, "128x96", "24", "1", &["-c:v", "libx264"]);
    let out = dir.path().join("out.mkv");
    let (code, _, err) = run(&[
        "enhance",
        "--preset",
        "reencode",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--codec",
        "av1",
        "--encoder-preset",
        "12",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(streams(&out)[0]["codec_name"], "av1");
    assert_eq!(frame_count(&out), 24);
}

// ------------------------------------------------------------ streams

#[test]
fn fansub_keeps_audio_subtitles_and_fonts_with_languages() {
    let Some(input) = media("anime/psd_issue-236-split-copy.mkv") else {
        return;
    };
    let dir = tmpdir();
    let out = dir.path().join("out.mkv");
    enhance_ok(&input, &out, "reencode", &[]);
    let (si, so) = (streams(&input), streams(&out));
    let kinds =
        |v: &[serde_json::Value], k: &str| v.iter().filter(|s| s["codec_type"] == k).count();
    assert_eq!(kinds(&so, "audio"), 1);
    assert_eq!(kinds(&so, "subtitle"), 3);
    assert_eq!(kinds(&so, "attachment"), 6);
    let langs = |v: &[serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|s| s["tags"]["language"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(langs(&si), langs(&so));
    let names = |v: &[serde_json::Value]| -> Vec<String> {
        v.iter()
            .map(|s| s["tags"]["filename"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(names(&si), names(&so));
    let default_flags = |v: &[serde_json::Value]| -> Vec<i64> {
        v.iter()
            .map(|s| s["disposition"]["default"].as_i64().unwrap_or(-1))
            .collect()
    };
    assert_eq!(default_flags(&si), default_flags(&so));
    let (ai, ao) = (stream_duration(&input, "a"), stream_duration(&out, "a"));
    assert!((ai - ao).abs() <= 0.05, "audio {ai} vs {ao}");
}

/// Into MP4 the three ASS tracks become `mov_text` (one line each saying
/// the styling is lost) and the six fonts are dropped, each with one line
/// naming `.mkv`.
#[test]
fn mp4_output_converts_ass_and_drops_fonts_saying_so() {
    let Some(input) = media("anime/psd_issue-236-split-copy.mkv") else {
        return;
    };
    let dir = tmpdir();
    let out = dir.path().join("out.mp4");
    let err = enhance_ok(&input, &out, "reencode", &["--clip", "0-0.5"]);
    let lines = |needle: &str| err.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(lines("to mov_text: its ASS styling"), 3, "{err}");
    assert_eq!(lines("warning: dropped attachment"), 6, "{err}");
    assert_eq!(lines("(use .mkv to keep it)"), 9, "{err}");
    assert_eq!(err.lines().count(), 9, "{err}");
    let kinds: Vec<String> = streams(&out)
        .iter()
        .map(|s| format!("{} {}", s["codec_type"], s["codec_name"]))
        .collect();
    assert_eq!(
        kinds[1..],
        [
            "\"audio\" \"aac\"",
            "\"subtitle\" \"mov_text\"",
            "\"subtitle\" \"mov_text\"",
            "\"subtitle\" \"mov_text\""
        ],
        "{kinds:?}"
    );
}

#[test]
fn vfr_input_keeps_its_timestamps() {
    let Some(input) = media("cuts/psd_goldeneye-vfr-drop3.mp4") else {
        return;
    };
    let dir = tmpdir();
    let out = dir.path().join("out.mkv");
    enhance_ok(&input, &out, "reencode", &[]);
    let (pi, po) = (video_pts(&input), video_pts(&out));
    assert_eq!(pi.len(), po.len());
    let worst = pi
        .iter()
        .zip(&po)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst <= 0.0015, "timestamps moved by up to {worst} s");
}

#[test]
fn clip_gives_requested_duration_with_matching_audio() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(
        &input,
        "160x120",
        "24000/1001",
        "6",
        &["-c:v", "libx264", "-g", "48"],
    );
    let out = dir.path().join("clip.mkv");
    let (code, _, err) = run(&[
        "enhance",
        "--preset",
        "reencode",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--clip",
        "00:00:01.5-00:00:03.5",
    ]);
    assert_eq!(code, 0, "{err}");
    let frame = 1001.0 / 24000.0;
    let n = frame_count(&out) as f64;
    assert!((n * frame - 2.0).abs() <= frame + 1e-9, "{n} frames");
    let pts = video_pts(&out);
    // Clip times count from the container start (as players show them); the
    // generated file's AAC priming puts that ~21 ms before the first frame.
    assert!(pts[0].abs() < frame, "video starts at {}", pts[0]);
    let a = stream_duration(&out, "a");
    assert!((a - 2.0).abs() <= 0.05, "audio {a} s");
    // Frame-accurate start: the first output frame equals input frame 36 (1.5 s * 23.976 = 35.96 → 36).
    let probe = dir.path().join("ref.mkv");
    ffmpeg(&[
        "-i",
        input.to_str().unwrap(),
        "-vf",
        "select=eq(n\\,36)",
        "-frames:v",
        "1",
        "-c:v",
        "ffv1",
        probe.to_str().unwrap(),
    ]);
    let first = dir.path().join("first.mkv");
    ffmpeg(&[
        "-i",
        out.to_str().unwrap(),
        "-frames:v",
        "1",
        "-c:v",
        "ffv1",
        first.to_str().unwrap(),
    ]);
    let p = psnr(&probe, &first);
    assert!(
        p > 35.0,
        "first clip frame is not input frame 36 (PSNR {p:.1})"
    );
}

// ------------------------------------- streams across containers (issue 26)

/// Four cues: one across the test clip's start (1.0 s), two lines, italic,
/// one after the clip's end (3.2 s).
const CUES_SRT: &str = "1\n00:00:00,250 --> 00:00:01,100\nFirst line\n\n\
2\n00:00:01,500 --> 00:00:02,750\nSecond line\nwith two rows\n\n\
3\n00:00:03,000 --> 00:00:03,400\nThird <i>italic</i>\n\n\
4\n00:00:03,500 --> 00:00:03,800\nFourth, after the clip\n";
const CLIP: (&str, i64, i64) = ("1.0-3.2", 1000, 3200);

fn p(path: &std::path::Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// Test media in `dir`: `in.mp4` (mov_text, eng, default; PNG cover art
/// as an attached picture) and `in.mkv` (ASS, jpn "Signs", default; the
/// same PNG as a `cover.png` attachment), 4 s of 64x48 at 12 fps with
/// audio. Returns the cover's bytes.
fn make_media_with_extras(dir: &std::path::Path) -> Vec<u8> {
    let cover = dir.join("cover.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=40x30",
        "-frames:v",
        "1",
        "-c:v",
        "png",
        "-f",
        "image2",
        p(&cover),
    ]);
    let srt = dir.join("cues.srt");
    std::fs::write(&srt, CUES_SRT).unwrap();
    let ass = dir.join("cues.ass");
    ffmpeg(&["-i", p(&srt), p(&ass)]);
    let av = [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=12:duration=4",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=4",
    ];
    let mut mp4 = av.to_vec();
    mp4.extend([
        "-i",
        p(&srt),
        "-i",
        p(&cover),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2",
        "-map",
        "3",
        "-c:v:0",
        "libx264",
        "-c:v:1",
        "png",
        "-disposition:v:1",
        "attached_pic",
        "-c:a",
        "aac",
        "-c:s",
        "mov_text",
        "-metadata:s:s:0",
        "language=eng",
        "-disposition:s:0",
        "default",
    ]);
    let out = dir.join("in.mp4");
    mp4.push(p(&out));
    ffmpeg(&mp4);
    let mut mkv = av.to_vec();
    mkv.extend([
        "-i",
        p(&ass),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2",
        "-c:v",
        "libx264",
        "-c:a",
        "aac",
        "-c:s",
        "copy",
        "-metadata:s:s:0",
        "language=jpn",
        "-metadata:s:s:0",
        "title=Signs",
        "-disposition:s:0",
        "default",
        "-attach",
        p(&cover),
        "-metadata:s:t",
        "mimetype=image/png",
        "-metadata:s:t",
        "filename=cover.png",
    ]);
    let out = dir.join("in.mkv");
    mkv.push(p(&out));
    ffmpeg(&mkv);
    std::fs::read(&cover).unwrap()
}

/// The file's cover art as stored (its one attached picture): ffprobe's
/// stream entry and the picture's bytes.
fn cover_art(path: &std::path::Path) -> (serde_json::Value, Vec<u8>) {
    let covers: Vec<serde_json::Value> = streams(path)
        .into_iter()
        .filter(|s| s["disposition"]["attached_pic"] == 1)
        .collect();
    assert_eq!(covers.len(), 1, "{}: {covers:?}", path.display());
    let map = format!("0:{}", covers[0]["index"]);
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i", p(path), "-map", &map])
        .args(["-c", "copy", "-f", "rawvideo", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "cover of {}", path.display());
    (covers[0].clone(), out.stdout)
}

/// The cues of a file's first subtitle stream, as FFmpeg writes them to
/// SubRip: (start ms, end ms, text).
fn cues(path: &std::path::Path) -> Vec<(i64, i64, String)> {
    let out = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            p(path),
            "-map",
            "0:s:0",
            "-f",
            "srt",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "cues of {}", path.display());
    let ms = |t: &str| -> i64 {
        let (hms, milli) = t.trim().split_once(',').unwrap();
        let f: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
        ((f[0] * 60 + f[1]) * 60 + f[2]) * 1000 + milli.parse::<i64>().unwrap()
    };
    String::from_utf8_lossy(&out.stdout)
        .replace('\r', "")
        .split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| {
            let lines: Vec<&str> = b.trim().lines().collect();
            let (a, z) = lines[1].split_once("-->").unwrap();
            (ms(a), ms(z), lines[2..].join("\n"))
        })
        .collect()
}

/// The cues a `--clip` of `[start, end)` ms keeps, as the copied streams
/// are cut: those starting before the end and still showing after the
/// start, re-based to it, the first one trimmed to start at 0.
fn clipped(cues: &[(i64, i64, String)], start: i64, end: i64) -> Vec<(i64, i64, String)> {
    cues.iter()
        .filter(|(a, z, _)| *a < end && *z > start)
        .map(|(a, z, t)| ((a - start).max(0), z - start, t.clone()))
        .collect()
}

/// Language, title and the default/forced flags of the first subtitle
/// stream.
fn subtitle_tags(path: &std::path::Path) -> Vec<String> {
    let s = streams(path)
        .into_iter()
        .find(|s| s["codec_type"] == "subtitle")
        .unwrap_or_else(|| panic!("{}: no subtitle stream", path.display()));
    vec![
        s["tags"]["language"].to_string(),
        s["tags"]["title"].to_string(),
        s["disposition"]["default"].to_string(),
        s["disposition"]["forced"].to_string(),
    ]
}

/// Cover art survives `.mp4 → .mkv`, `.mkv → .mp4`, `.mp4 → .mp4` and
/// `.mkv → .mkv` with its bytes unchanged: an attached picture in MP4, a
/// `cover.png` attachment (image/png) in Matroska, which ffprobe reads back
/// as an attached picture. No warning; the report says what was done.
#[test]
fn cover_art_survives_every_trip_between_mp4_and_mkv() {
    let dir = tmpdir();
    let png = make_media_with_extras(dir.path());
    for (from, to, outcome) in [
        ("mp4", "mkv", "converted"),
        ("mkv", "mp4", "converted"),
        ("mp4", "mp4", "copied"),
        ("mkv", "mkv", "copied"),
    ] {
        let input = dir.path().join(format!("in.{from}"));
        let out = dir.path().join(format!("{from}-to.{to}"));
        let rep = dir.path().join(format!("{from}-to-{to}.json"));
        let err = enhance_ok(&input, &out, "reencode", &["--report", p(&rep)]);
        assert!(!err.contains("cover art"), "{from} → {to}: {err}");
        let (s, bytes) = cover_art(&out);
        assert!(bytes == png, "{from} → {to}: the picture changed");
        assert_eq!(s["codec_name"], "png", "{from} → {to}");
        if to == "mkv" {
            assert_eq!(s["tags"]["filename"], "cover.png", "{s}");
            assert_eq!(s["tags"]["mimetype"], "image/png", "{s}");
        }
        let r = report(&rep);
        let listed: Vec<&serde_json::Value> = r["output"]["streams"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["codec"] == "png")
            .collect();
        assert_eq!(listed.len(), 1, "{r}");
        assert_eq!(listed[0]["outcome"], outcome, "{from} → {to}: {r}");
    }
}

/// `mov_text → .mkv` (SubRip) and `ASS → .mp4` (mov_text) keep every cue's
/// text and timing as FFmpeg's own conversion of the same file does, with
/// language, title and disposition, through `reencode`, `--fps 2x` and a
/// `--clip`; ASS into MP4 says once that its styling is lost.
#[test]
fn text_subtitles_are_converted_with_every_cue_in_time() {
    let dir = tmpdir();
    make_media_with_extras(dir.path());
    let blend = blend_manifest(dir.path());
    let fps = [
        "--fps",
        "2x",
        "--interpolator",
        "blend",
        "--extra-models",
        p(&blend),
        "--device",
        "cpu",
    ];
    for (from, to, codec, reference) in [
        ("mp4", "mkv", "subrip", "srt"),
        ("mkv", "mp4", "mov_text", "mov_text"),
    ] {
        let input = dir.path().join(format!("in.{from}"));
        let ffmpegs = dir.path().join(format!("ffmpeg-{from}.{to}"));
        ffmpeg(&[
            "-i",
            p(&input),
            "-map",
            "0:s",
            "-c:s",
            reference,
            p(&ffmpegs),
        ]);
        let want = cues(&ffmpegs);
        assert_eq!(want.len(), 4, "FFmpeg's own conversion: {want:?}");
        for (name, preset, extra) in [
            ("reencode", "reencode", &[][..]),
            ("fps", "interpolate-only", &fps[..]),
            ("clip", "reencode", &["--clip", CLIP.0][..]),
        ] {
            let out = dir.path().join(format!("{from}-{name}.{to}"));
            let rep = dir.path().join(format!("{from}-{name}.json"));
            let mut args = extra.to_vec();
            args.extend(["--report", p(&rep)]);
            let err = enhance_ok(&input, &out, preset, &args);
            let what = format!("{from} → {to}, {name}");
            let expected = if name == "clip" {
                clipped(&want, CLIP.1, CLIP.2)
            } else {
                want.clone()
            };
            assert_eq!(cues(&out), expected, "{what}");
            let s = streams(&out);
            let subs: Vec<_> = s.iter().filter(|s| s["codec_type"] == "subtitle").collect();
            assert_eq!(subs.len(), 1, "{what}");
            assert_eq!(subs[0]["codec_name"], codec, "{what}");
            assert_eq!(subtitle_tags(&out), subtitle_tags(&ffmpegs), "{what}");
            if to == "mp4" {
                // MP4 has no track title: the handler name carries it.
                assert_eq!(subs[0]["tags"]["handler_name"], "Signs", "{what}");
            }
            let styling = err.matches("styling").count();
            assert_eq!(styling, usize::from(from == "mkv"), "{what}: {err}");
            assert_eq!(err.lines().count(), styling, "{what}: {err}");
            let r = report(&rep);
            let o = &r["output"]["streams"][2];
            assert_eq!(o["type"], "subtitle", "{what}: {r}");
            assert_eq!(o["outcome"], "converted", "{what}: {r}");
            assert_eq!(o["to"], codec, "{what}: {r}");
            if name == "fps" {
                assert_eq!(r["fps_out"], 24.0, "{what}: {r}");
                assert!(r["interpolate"]["model_calls"].as_u64() > Some(0), "{r}");
            }
        }
    }
}

/// A run in chunks writes the converted subtitles and the cover art as a
/// single run does (the join muxes them once from the source).
#[test]
fn chunked_runs_convert_subtitles_and_keep_cover_art_as_a_single_run() {
    let dir = tmpdir();
    let png = make_media_with_extras(dir.path());
    for (from, to) in [("mp4", "mkv"), ("mkv", "mp4")] {
        let input = dir.path().join(format!("in.{from}"));
        let single = dir.path().join(format!("single-{from}.{to}"));
        let chunked = dir.path().join(format!("chunked-{from}.{to}"));
        let rep = dir.path().join(format!("chunked-{from}.json"));
        let one = enhance_ok(&input, &single, "reencode", &["--chunk-seconds", "0"]);
        let many = enhance_ok(
            &input,
            &chunked,
            "reencode",
            &["--chunk-seconds", "1", "--report", p(&rep)],
        );
        let r = report(&rep);
        assert!(r["chunks"]["total"].as_u64() >= Some(2), "{r}");
        assert_eq!(cues(&chunked), cues(&single), "{from} → {to}");
        assert_eq!(cues(&single).len(), 4, "{from} → {to}");
        assert_eq!(subtitle_tags(&chunked), subtitle_tags(&single));
        assert!(cover_art(&chunked).1 == png, "{from} → {to}: cover");
        let warnings = |e: &str| -> Vec<String> {
            e.lines()
                .filter(|l| l.starts_with("warning:"))
                .map(String::from)
                .collect()
        };
        assert_eq!(warnings(&many), warnings(&one), "{from} → {to}");
        assert_eq!(r["output"]["streams"].as_array().map(Vec::len), Some(4));
    }
}

/// A cue FFmpeg cannot decode (text that is not UTF-8) is left out with
/// one warning naming the stream, counted in the report; the others stay.
#[test]
fn a_cue_that_cannot_be_converted_is_counted_and_said_once() {
    let dir = tmpdir();
    let srt = dir.path().join("latin1.srt");
    std::fs::write(
        &srt,
        b"1\n00:00:00,250 --> 00:00:01,100\nGood\n\n\
2\n00:00:01,500 --> 00:00:02,000\nCaf\xe9\n\n\
3\n00:00:02,500 --> 00:00:03,000\nAlso good\n",
    )
    .unwrap();
    let input = dir.path().join("in.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=12:duration=4",
        "-i",
        p(&srt),
        "-map",
        "0",
        "-map",
        "1",
        "-c:v",
        "libx264",
        "-c:s",
        "copy",
        p(&input),
    ]);
    let out = dir.path().join("out.mp4");
    let rep = dir.path().join("r.json");
    let err = enhance_ok(&input, &out, "reencode", &["--report", p(&rep)]);
    assert_eq!(
        err.trim(),
        "warning: subtitle stream #1 (subrip): 1 cue(s) could not be converted to mov_text and are missing (run with -v to see FFmpeg's reason)"
    );
    let texts: Vec<String> = cues(&out).into_iter().map(|c| c.2).collect();
    assert_eq!(texts, ["Good", "Also good"]);
    let r = report(&rep);
    assert_eq!(r["output"]["streams"][1]["failed"], 1, "{r}");
    assert_eq!(r["warnings"].as_array().map(Vec::len), Some(1), "{r}");
}

/// Bitmap subtitles MP4 cannot carry (DVB; it does carry DVD's) give one
/// warning line naming the track and `.mkv`, and the run goes on.
#[test]
fn bitmap_subtitles_into_mp4_are_one_warning_line() {
    let Some(dvd) = media("robust/fate/h264_242_4.mkv") else {
        return;
    };
    let dir = tmpdir();
    // DVB subtitles made from the DVD ones (bitmap to bitmap), beside a
    // DVD track, under a tiny video.
    let input = dir.path().join("bitmap.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        // As long as the subtitles last (the DVB track's last packet, a
        // clear, ends at 10.2 s).
        "testsrc2=size=64x48:rate=12:duration=11",
        "-i",
        p(&dvd),
        "-map",
        "0:v",
        "-map",
        "1:s:0",
        "-map",
        "1:s:1",
        "-c:v",
        "libx264",
        "-c:s:0",
        "dvbsub",
        "-c:s:1",
        "copy",
        p(&input),
    ]);
    let out = dir.path().join("out.mp4");
    let rep = dir.path().join("r.json");
    let err = enhance_ok(&input, &out, "reencode", &["--report", p(&rep)]);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("warning: dropped subtitle stream #1 (dvb_subtitle, fre)")
            && lines[0].contains(".mkv"),
        "{err}"
    );
    let kept: Vec<_> = streams(&out)
        .iter()
        .map(|s| s["codec_name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(kept, ["h264", "dvd_subtitle"]);
    let r = report(&rep);
    let o = &r["output"]["streams"];
    assert_eq!(o[1]["outcome"], "dropped", "{r}");
    assert!(o[1]["why"].as_str().unwrap_or("").contains(".mkv"), "{r}");
    assert_eq!(o[2]["outcome"], "copied", "{r}");
    // Matroska carries both.
    let mkv = dir.path().join("out.mkv");
    let err = enhance_ok(&input, &mkv, "reencode", &[]);
    assert!(err.is_empty(), "{err}");
    assert_eq!(streams(&mkv).len(), 3);
}

// ------------------------------------------------------------ errors

fn assert_one_line_error(code: i32, err: &str, needle: &str) {
    assert_ne!(code, 0, "expected failure");
    assert!(!err.contains("panicked"), "panic: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected '{needle}' in: {err}");
}

#[test]
fn errors_are_one_line_and_leave_nothing() {
    let dir = tmpdir();
    let d = dir.path();
    let out = d.join("out.mkv");
    let o = out.to_str().unwrap();

    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        "/nonexistent/x.mkv",
        "-o",
        o,
    ]);
    assert_one_line_error(c, &e, "/nonexistent/x.mkv: no such file");

    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        d.to_str().unwrap(),
        "-o",
        o,
    ]);
    // A folder is folder mode; this one holds no video.
    assert_one_line_error(c, &e, "holds no video files");

    let audio = d.join("audio.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        "-c:a",
        "aac",
        audio.to_str().unwrap(),
    ]);
    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        audio.to_str().unwrap(),
        "-o",
        o,
    ]);
    assert_one_line_error(c, &e, "has no video stream");

    let junk = d.join("junk.mkv");
    std::fs::write(&junk, b"this is not a video file at all, just text").unwrap();
    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        junk.to_str().unwrap(),
        "-o",
        o,
    ]);
    assert_one_line_error(c, &e, "junk.mkv");

    let input = d.join("in.mp4");
    make_clip(&input, "64x48", "24", "1", &["-c:v", "libx264"]);
    let i = input.to_str().unwrap();
    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        i,
        "-o",
        d.join("out.avi").to_str().unwrap(),
    ]);
    assert_one_line_error(c, &e, "unsupported output extension '.avi'");
    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        i,
        "-o",
        "/nonexistent-dir/out.mkv",
    ]);
    assert_one_line_error(c, &e, "does not exist");
    let (c, _, e) = run(&["enhance", "--preset", "reencode", i, "-o", o, "--crf", "99"]);
    assert_one_line_error(c, &e, "encode.crf = 99 is out of range");
    let (c, _, e) = run(&[
        "enhance", "--preset", "reencode", i, "-o", o, "--clip", "5-10",
    ]);
    assert_one_line_error(c, &e, "--clip");
    let (c, _, e) = run(&[
        "enhance",
        "--preset",
        "reencode",
        i,
        "-o",
        d.join("x.webm").to_str().unwrap(),
    ]);
    assert_one_line_error(c, &e, "cannot hold");
    let (c, _, e) = run(&["enhance", "--preset", "reencode", i, "-o", i, "-y"]);
    assert_one_line_error(c, &e, "is the input file");
    assert_eq!(
        stray_files(d, &["audio.m4a", "junk.mkv", "in.mp4"]),
        Vec::<String>::new()
    );

    // No overwrite without -y; with -y it works.
    std::fs::write(&out, b"keep me").unwrap();
    let (c, _, e) = run(&["enhance", "--preset", "reencode", i, "-o", o]);
    assert_one_line_error(c, &e, "already exists (use -y to overwrite)");
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    let (c, _, e) = run(&["enhance", "--preset", "reencode", i, "-o", o, "-y", "-q"]);
    assert_eq!(c, 0, "{e}");
    assert!(std::fs::metadata(&out).unwrap().len() > 1000);
}

/// Truncated input is processed as far as it decodes, with a warning that
/// says where decoding stopped; a video that merely starts late is not
/// called truncated.
#[test]
fn truncated_input_warns_and_late_start_does_not() {
    let dir = tmpdir();
    let full = dir.path().join("full.mkv");
    make_clip(
        &full,
        "160x120",
        "24",
        "10",
        &["-c:v", "libx264", "-crf", "10"],
    );
    let bytes = std::fs::read(&full).unwrap();
    let cut = dir.path().join("cut.mkv");
    std::fs::write(&cut, &bytes[..bytes.len() * 4 / 10]).unwrap();
    let out = dir.path().join("out.mkv");
    let err = enhance_ok(&cut, &out, "reencode", &["-y"]);
    let warn: Vec<&str> = err.lines().filter(|l| l.contains("ended early")).collect();
    assert_eq!(warn.len(), 1, "{err}");
    assert!(
        warn[0].contains("cut.mkv") && warn[0].contains("of the 10.0 s"),
        "{err}"
    );
    let frames = frame_count(&out);
    assert!(
        (24..240).contains(&frames),
        "{frames} frames from a 40% file"
    );

    // Late start: the same clip with every timestamp 3 s later.
    let late = dir.path().join("late.mkv");
    ffmpeg(&[
        "-i",
        full.to_str().unwrap(),
        "-c",
        "copy",
        "-output_ts_offset",
        "3",
        late.to_str().unwrap(),
    ]);
    let err = enhance_ok(&late, &out, "reencode", &["-y"]);
    assert!(!err.contains("ended early"), "{err}");
    if let Some(p) = media("cuts/psd_delayed_start.mp4") {
        let err = enhance_ok(&p, &out, "reencode", &["-y"]);
        assert!(!err.contains("ended early"), "{err}");
    }
}

/// A full disk: the output goes to a 256 KiB tmpfs, mounted in a private
/// mount namespace (`unshare -rm`, so no root is needed where user
/// namespaces are allowed and nothing stays mounted). The run must fail with
/// one line naming the output and "disk full", and leave nothing in the folder.
#[test]
fn full_output_folder_is_named_and_left_empty() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    // ~2 s of detailed 320x240 at crf 4: several MB, far over 256 KiB.
    make_clip(
        &input,
        "320x240",
        "24",
        "2",
        &["-c:v", "libx264", "-crf", "4"],
    );
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let script = r#"mount -t tmpfs -o size=256k tmpfs "$1" || exit 99
"$2" enhance "$3" -o "$1/out.mkv" -q --preset reencode --crf 4 --encoder-preset ultrafast
echo "rc=$?"
ls -A "$1""#;
    let out = Command::new("unshare")
        .args(["-rm", "bash", "-c", script, "_"])
        .arg(&mnt)
        .arg(env!("CARGO_BIN_EXE_ainimotion"))
        .arg(&input)
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let err = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(99) || !stdout.contains("rc=") {
        eprintln!("SKIP: cannot mount a tmpfs in a private namespace here: {err}");
        return;
    }
    let mut lines = stdout.lines();
    let rc = lines.next().unwrap_or_default();
    // 4: the output cannot be written (3 is for our bugs).
    assert_eq!(rc, "rc=4", "expected exit 4; stderr: {err}");
    let target = mnt.join("out.mkv");
    assert_one_line_error(4, &err, &target.display().to_string());
    assert!(err.contains("disk full"), "{err}");
    let left: Vec<&str> = lines.collect();
    assert!(left.is_empty(), "left in the full folder: {left:?}");
}

/// Permissions: an unreadable input and an unwritable output folder. Root
/// can read and write anything, so as root the binary runs as `nobody`
/// (`setpriv`); skipped when that is not possible.
#[test]
fn unreadable_input_and_unwritable_folder_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tmpdir();
    let d = dir.path();
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let input = d.join("in.mp4");
    make_clip(&input, "64x48", "24", "1", &["-c:v", "libx264"]);
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o644)).unwrap();
    let locked = d.join("locked.mp4");
    std::fs::copy(&input, &locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let ro = d.join("ro");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();

    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let run_as_user = |args: &[&str]| -> Option<(i32, String)> {
        let mut cmd = if is_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(env!("CARGO_BIN_EXE_ainimotion"));
            c
        } else {
            bin()
        };
        let out = cmd.args(args).output().ok()?;
        Some((
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ))
    };
    // Can the unprivileged user run the binary at all (a checkout under a
    // private home folder may not be reachable for `nobody`)?
    match run_as_user(&["--version"]) {
        Some((0, _)) => {}
        other => {
            eprintln!("SKIP: cannot run the binary as an unprivileged user: {other:?}");
            return;
        }
    }
    let (l, i) = (locked.to_str().unwrap(), input.to_str().unwrap());
    let (c, e) = run_as_user(&["info", l]).unwrap();
    assert_one_line_error(c, &e, &format!("{l}: cannot read: permission denied"));
    assert_eq!(c, 2);
    let open = d.join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = open.join("out.mkv");
    let (c, e) = run_as_user(&[
        "enhance",
        l,
        "-o",
        out.to_str().unwrap(),
        "--preset",
        "reencode",
    ])
    .unwrap();
    assert_one_line_error(c, &e, &format!("{l}: cannot read: permission denied"));
    assert_eq!(stray_files(&open, &[]), Vec::<String>::new());
    let target = ro.join("out.mkv");
    let t = target.to_str().unwrap();
    let (c, e) = run_as_user(&["enhance", i, "-o", t, "--preset", "reencode"]).unwrap();
    assert_one_line_error(c, &e, t);
    assert!(
        e.contains("cannot write in") && e.contains("permission denied"),
        "{e}"
    );
    assert_eq!(c, 4, "output errors exit with 4 (3 is for our bugs)");
    assert_eq!(stray_files(&ro, &[]), Vec::<String>::new());
}

#[test]
fn interrupt_and_terminate_leave_no_output_and_a_rerun_succeeds() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(
        &input,
        "640x360",
        "24",
        "20",
        &["-c:v", "libx264", "-preset", "ultrafast"],
    );
    let out = dir.path().join("out.mkv");
    for (signal, code) in [("-INT", 130), ("-TERM", 143)] {
        let mut child = bin()
            .args([
                "enhance",
                "--preset",
                "reencode",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "-q",
                "--encoder-preset",
                "slow",
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let _ = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(code),
            "{signal}: a stopped run exits 128 + the signal"
        );
        assert!(!out.exists(), "{signal}: no output under the target name");
        assert_eq!(
            stray_files(dir.path(), &["in.mkv"]),
            Vec::<String>::new(),
            "{signal}: stray files"
        );
    }
    // The same command then runs to completion.
    enhance_ok(&input, &out, "reencode", &["--clip", "0-1"]);
    assert!(out.exists());
}

// ------------------------------------------------------------ info

#[test]
fn info_json_has_stable_keys() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(
        &input,
        "96x64",
        "24000/1001",
        "1",
        &["-c:v", "libx264", "-metadata:s:a:0", "language=jpn"],
    );
    let (code, out, err) = run(&["info", input.to_str().unwrap(), "--json", "--count"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!((v["duration_s"].as_f64().unwrap() - 1.0).abs() < 0.1);
    let video = &v["video"];
    assert_eq!(video["width"], 96);
    assert_eq!(video["height"], 64);
    assert_eq!(video["bit_depth"], 8);
    assert_eq!(video["vfr"], false);
    assert_eq!(video["frame_count"], 24);
    assert_eq!(video["frame_count_source"], "counted");
    assert!((video["fps"].as_f64().unwrap() - 23.976).abs() < 0.01);
    for key in [
        "pix_fmt",
        "color_range",
        "color_matrix",
        "color_primaries",
        "color_transfer",
        "chroma_location",
        "rotation",
    ] {
        assert!(!video[key].is_null(), "missing video.{key}");
    }
    let streams = v["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 2);
    assert_eq!(streams[1]["type"], "audio");
    assert_eq!(streams[1]["language"], "jpn");
}

#[test]
fn info_reports_vfr_rotation_and_hdr() {
    if let Some(p) = media("cuts/psd_goldeneye-vfr-drop3.mp4") {
        let (code, out, err) = run(&["info", p.to_str().unwrap(), "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["video"]["vfr"], true);
    }
    if let Some(p) = media("robust/misc/video_rotation_90.mp4") {
        let (code, out, err) = run(&["info", p.to_str().unwrap(), "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["video"]["rotation"].as_f64().unwrap().abs(), 90.0);
    }
    if let Some(p) = media("robust/fate/hevc_hdr10tags-both.mkv") {
        let (code, out, err) = run(&["info", p.to_str().unwrap(), "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["video"]["color_transfer"], "smpte2084", "{}", v["video"]);
        assert_eq!(v["video"]["hdr"], true);
    }
}

// ------------------------------------------------------------ presets

#[test]
fn presets_list_and_show() {
    let (code, out, err) = run(&["presets"]);
    assert_eq!(code, 0, "{err}");
    for name in [
        "anime-clean",
        "anime-strong",
        "fast",
        "interpolate-only",
        "upscale-only",
        "reencode",
    ] {
        assert!(out.contains(name), "{name} missing from: {out}");
    }
    let dir = tmpdir();
    let cfg = dir.path().join("my.toml");
    std::fs::write(&cfg, "[encode]\ncrf = 21\n").unwrap();
    let (code, out, err) = run(&[
        "presets",
        "--show",
        "fast",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: toml::Table = out.parse().expect("--show prints TOML");
    assert_eq!(v["encode"]["crf"].as_float(), Some(21.0));
    assert_eq!(v["encode"]["preset"].as_str(), Some("veryfast"));
}

#[test]
fn bad_settings_name_the_file_and_key() {
    let dir = tmpdir();
    let cfg = dir.path().join("bad.toml");
    std::fs::write(&cfg, "[upscale]\nscael = 2\n").unwrap();
    let (code, _, err) = run(&[
        "enhance",
        "--preset",
        "reencode",
        "x.mkv",
        "-o",
        "y.mkv",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.toml") && err.contains("scael") && err.contains("`scale`"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    let (code, _, err) = run(&[
        "enhance", "--preset", "reencode", "x.mkv", "-o", "y.mkv", "--fps", "1000",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("interpolate.fps"), "{err}");
    let (code, _, err) = run(&["enhance", "x.mkv", "-o", "y.mkv", "--preset", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown preset 'nope'"), "{err}");
}

#[test]
fn rotation_tag_survives() {
    let Some(input) = media("robust/misc/video_rotation_90.mp4") else {
        return;
    };
    let dir = tmpdir();
    let out = dir.path().join("out.mp4");
    enhance_ok(&input, &out, "reencode", &[]);
    let (code, text, err) = run(&["info", out.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v["video"]["rotation"].as_f64().unwrap().abs(),
        90.0,
        "{}",
        v["video"]
    );
}

/// Folder mode: three clips, one of them broken, and a subtitle file
/// beside them. Two outputs, one error line naming the broken file, a
/// non-zero exit; a rerun redoes nothing and reports the two as done.
#[test]
fn folder_mode_continues_past_a_bad_file_and_skips_finished_ones() {
    let tmp = tmpdir();
    let dir = tmp.path().join("season");
    std::fs::create_dir_all(&dir).unwrap();
    make_clip(&dir.join("ep01.mkv"), "64x48", "24", "0.5", &[]);
    make_clip(&dir.join("ep03.mp4"), "64x48", "24", "0.5", &[]);
    std::fs::write(dir.join("ep02.mkv"), b"not a video at all").unwrap();
    std::fs::write(dir.join("ep01.ass"), b"[Script Info]\n").unwrap();
    let out = tmp.path().join("out");
    let args = [
        "enhance",
        dir.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--preset",
        "reencode",
        "-q",
    ];
    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 2, "a bad file makes the run fail: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("ep02.mkv"), "{stderr}");
    assert!(out.join("ep01.mkv").is_file() && out.join("ep03.mp4").is_file());
    assert!(!out.join("ep02.mkv").exists() && !out.join("ep01.ass").exists());
    assert!(
        stdout.contains("3 file(s): 2 done, 0 already done, 1 failed"),
        "{stdout}"
    );
    let modified = std::fs::metadata(out.join("ep01.mkv"))
        .unwrap()
        .modified()
        .unwrap();

    let (code, stdout, stderr) = run(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stdout.contains("3 file(s): 0 done, 2 already done, 1 failed"),
        "{stdout}"
    );
    let again = std::fs::metadata(out.join("ep01.mkv"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(modified, again, "a finished output is not redone");

    // Without the broken file the folder succeeds.
    std::fs::remove_file(dir.join("ep02.mkv")).unwrap();
    let (code, stdout, _) = run(&args);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("2 file(s): 0 done, 2 already done, 0 failed"),
        "{stdout}"
    );
}

/// Raw rgb24 bytes of a picture or of the frame at `-ss t` (the first at or
/// after t), decoded by ffmpeg, optionally scaled.
fn rgb24_at(path: &std::path::Path, t: Option<&str>, scale: Option<&str>) -> Vec<u8> {
    let mut args: Vec<String> = vec!["-v".into(), "error".into()];
    if let Some(t) = t {
        args.extend(["-ss".into(), t.into()]);
    }
    args.extend([
        "-i".into(),
        path.to_str().unwrap().into(),
        "-frames:v".into(),
        "1".into(),
    ]);
    // Accurate conversion (full chroma interpolation), as tests/color.rs.
    let size = scale.map_or(String::new(), |s| format!("{s}:"));
    args.extend([
        "-vf".into(),
        format!("scale={size}flags=lanczos+accurate_rnd+full_chroma_int"),
    ]);
    args.extend(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"].map(String::from));
    let out = std::process::Command::new("ffmpeg")
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg {args:?}");
    out.stdout
}

/// PSNR of a w x h block of `sheet` (width `sw`) at (x0, y0) against `want`.
fn block_psnr(
    sheet: &[u8],
    sw: usize,
    (x0, y0, w, h): (usize, usize, usize, usize),
    want: &[u8],
) -> f64 {
    let mut se = 0f64;
    for y in 0..h {
        for x in 0..w * 3 {
            let a = sheet[((y0 + y) * sw + x0) * 3 + x] as f64;
            let b = want[y * w * 3 + x] as f64;
            se += (a - b) * (a - b);
        }
    }
    let mse = se / (w * h * 3) as f64;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0 * 255.0 / mse).log10()
    }
}

/// `compare` writes bands whose halves are the input (scaled to the output
/// size) and the output at the asked times, checked against ffmpeg's own
/// decode of both files at those times.
#[test]
fn compare_sheet_halves_match_both_files_at_each_time() {
    let tmp = tmpdir();
    // Tagged centre-sited, as FFmpeg 5.1's scaler makes and reads chroma
    // whatever the tag (the tool honours the tag, see tests/color.rs).
    let center = ["-chroma_sample_location", "center"];
    let input = tmp.path().join("in.mkv");
    make_clip(&input, "64x48", "24", "2", &center);
    // The input at 128x96 from `from` seconds on, as a render would be.
    let render = |from: &str, name: &str| {
        let path = tmp.path().join(name);
        ffmpeg(&[
            "-ss",
            from,
            "-i",
            input.to_str().unwrap(),
            "-vf",
            "scale=128:96:flags=lanczos",
            "-c:v",
            "libx264",
            "-crf",
            "10",
            center[0],
            center[1],
            path.to_str().unwrap(),
        ]);
        path
    };
    let output = render("0", "out.mkv");
    let sheet = tmp.path().join("sheet.png");
    let (code, stdout, err) = run(&[
        "compare",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
        "--at",
        "0.5,1.5",
        "-o",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("wrote"), "{stdout}");
    // Two bands of (output row + zoom row), each row 2 x 128 wide, 96 high.
    let dims = ffprobe_json(&sheet, &["-show_entries", "stream=width,height"]);
    assert_eq!(dims["streams"][0]["width"], 256);
    assert_eq!(dims["streams"][0]["height"], 4 * 96);
    let px = rgb24_at(&sheet, None, None);
    for (band, t) in ["0.5", "1.5"].into_iter().enumerate() {
        let y0 = band * 2 * 96;
        let out_frame = rgb24_at(&output, Some(t), None);
        let in_scaled = rgb24_at(&input, Some(t), Some("128:96"));
        let right = block_psnr(&px, 256, (128, y0, 128, 96), &out_frame);
        let left = block_psnr(&px, 256, (0, y0, 128, 96), &in_scaled);
        eprintln!("band {band}: output half {right:.1} dB, input half {left:.1} dB");
        assert!(right > 35.0, "band {band}: output half {right:.1} dB");
        assert!(left > 28.0, "band {band}: input half {left:.1} dB");
        // The other time's frame does not match: the times are honoured.
        let other = rgb24_at(&output, Some(if band == 0 { "1.5" } else { "0.5" }), None);
        let wrong = block_psnr(&px, 256, (128, y0, 128, 96), &other);
        assert!(
            wrong + 5.0 < right,
            "band {band}: {wrong:.1} dB against the other time"
        );
    }
    // A preview of the input from 1 s on: --clip-start lines it up.
    let preview = render("1", "preview.mkv");
    let sheet2 = tmp.path().join("sheet2.png");
    let (code, _, err) = run(&[
        "compare",
        input.to_str().unwrap(),
        preview.to_str().unwrap(),
        "--clip-start",
        "1",
        "--at",
        "0.5",
        "-o",
        sheet2.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let px = rgb24_at(&sheet2, None, None);
    let in_scaled = rgb24_at(&input, Some("1.5"), Some("128:96"));
    let left = block_psnr(&px, 256, (0, 0, 128, 96), &in_scaled);
    assert!(left > 28.0, "--clip-start: input half {left:.1} dB");
    // Past the end: one line naming --at and the file.
    let (code, _, err) = run(&[
        "compare",
        input.to_str().unwrap(),
        output.to_str().unwrap(),
        "--at",
        "9",
        "-o",
        tmp.path().join("late.png").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--at") && err.lines().count() == 1, "{err}");
    assert!(!tmp.path().join("late.png").exists());
}

/// A model trained elsewhere plugs in through a second manifest: `info
/// --models` lists and loads it beside the built-in ones, `enhance` runs it
/// by name, and a name the built-in manifest already uses is refused.
#[test]
fn own_model_from_an_extra_manifest_is_checked_and_used() {
    if !models_ready() {
        eprintln!("SKIP: built-in models not built (run ./setup.sh)");
        return;
    }
    let tmp = tmpdir();
    // A tiny real ONNX interpolator: the 50/50 blend of its two inputs.
    let blend = ainimotion::model::test_models::blend_interpolator();
    std::fs::write(tmp.path().join("my-blend.onnx"), &blend).unwrap();
    let sha: String = {
        use sha2::Digest;
        sha2::Sha256::digest(&blend)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let manifest = |name: &str| {
        format!(
            r#"[[model]]
name = "{name}"
kind = "interpolate"
file = "my-blend.onnx"
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
source_package = "own==1"
source_path = "my-blend.onnx"
description = "my own 50/50 blend"
"#
        )
    };
    let extra = tmp.path().join("extra.toml");
    std::fs::write(&extra, manifest("my-blend")).unwrap();
    let extra_arg = extra.to_str().unwrap();

    let (code, info, err) = run(&[
        "info",
        "--models",
        "--device",
        "cpu",
        "--extra-models",
        extra_arg,
    ]);
    assert_eq!(code, 0, "{err}");
    let line = info
        .lines()
        .find(|l| l.contains("my-blend"))
        .unwrap_or_default();
    assert!(
        line.contains("interpolate") && line.contains(" ok"),
        "{info}"
    );
    assert!(
        info.contains("rife-4.26"),
        "the built-in models are still there: {info}"
    );

    let input = tmp.path().join("in.mkv");
    make_clip(&input, "64x48", "12", "1", &[]);
    let out = tmp.path().join("out.mkv");
    let report = tmp.path().join("r.json");
    enhance_ok(
        &input,
        &out,
        "interpolate-only",
        &[
            "--interpolator",
            "my-blend",
            "--device",
            "cpu",
            "--extra-models",
            extra_arg,
            "--report",
            report.to_str().unwrap(),
        ],
    );
    let r = common::report(&report);
    assert_eq!(r["interpolator"], "my-blend");
    assert!(r["interpolate"]["model_calls"].as_u64().unwrap() > 0, "{r}");

    // A name the built-in manifest has: one line naming both files.
    std::fs::write(&extra, manifest("rife-4.26")).unwrap();
    let (code, _, err) = run(&["info", "--models", "--extra-models", extra_arg]);
    assert_ne!(code, 0);
    assert!(
        err.contains("'rife-4.26' is already in") && err.contains("extra.toml"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}
