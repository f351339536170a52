//! Plans, chunks, joins and resume: the chunked run writes exactly the
//! frames of a single run, with the same streams, and a killed run resumes
//! from its journal.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;

/// Per-frame hashes (and pts) of the video, decoded.
fn frame_hashes(path: &Path) -> Vec<String> {
    framemd5(path, &["-map", "0:v:0"])
}

/// Packet hashes of every stream but the video (copied streams, as
/// stored), with their headers and the attachments' bytes.
fn other_packets(path: &Path) -> Vec<String> {
    framemd5(path, &["-map", "0", "-map", "-0:v", "-c", "copy"])
}

/// (type, codec, language, filename) of every stream.
fn stream_list(path: &Path) -> Vec<String> {
    streams(path)
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["codec_type"], s["codec_name"], s["tags"]["language"], s["tags"]["filename"]
            )
        })
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// plan + every chunk + join against a single run of the same settings.
fn chunked_equals_single(input: &Path, clip: Option<&str>, chunk_seconds: &str, min_chunks: usize) {
    let dir = tmpdir();
    let work = dir.path().join("work");
    let plan = work.join("plan.json");
    let mut settings = vec![
        "--preset",
        "fast",
        "--crf",
        "0",
        "--encoder-preset",
        "ultrafast",
    ];
    if let Some(c) = clip {
        settings.extend(["--clip", c]);
    }
    let mut args = vec![
        "plan",
        s(input),
        "--out",
        s(&plan),
        "--chunk-seconds",
        chunk_seconds,
    ];
    args.extend(&settings);
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "plan: {err}");
    let plan_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let chunks = plan_json["chunks"].as_array().unwrap().len();
    assert!(chunks >= min_chunks, "{chunks} chunks: {out}");
    // Out of order, as an array job may run them.
    for k in (0..chunks).rev() {
        let k = k.to_string();
        let (code, _, err) = run(&["enhance", s(input), "--plan", s(&plan), "--chunk", &k, "-q"]);
        assert_eq!(code, 0, "chunk {k}: {err}");
    }
    // A chunk whose journal record is there is not done again.
    let (code, _, err) = run(&["enhance", s(input), "--plan", s(&plan), "--chunk", "0"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("done already"), "{err}");
    let joined = dir.path().join("joined.mkv");
    let (code, _, err) = run(&["join", s(&plan), "--out", s(&joined)]);
    assert_eq!(code, 0, "join: {err}");
    let single = dir.path().join("single.mkv");
    let mut extra = vec!["--crf", "0", "--chunk-seconds", "0"];
    if let Some(c) = clip {
        extra.extend(["--clip", c]);
    }
    enhance_ok(input, &single, "fast", &extra);
    let (a, b) = (frame_hashes(&single), frame_hashes(&joined));
    assert!(!a.is_empty());
    assert_eq!(a.len(), b.len(), "frame counts differ");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "frame {i} differs (pts, size, hash)");
    }
    assert_eq!(stream_list(&single), stream_list(&joined));
    assert_eq!(other_packets(&single), other_packets(&joined));
    for (kind, name) in [("a", "audio"), ("v", "video")] {
        if streams(&single).iter().any(|st| st["codec_type"] == name) {
            let d = (stream_duration(&single, kind) - stream_duration(&joined, kind)).abs();
            assert!(d < 0.001, "{name} duration differs by {d} s");
        }
    }
    eprintln!(
        "{}: {chunks} chunks, {} frames identical to the single run",
        input.display(),
        a.len()
    );
}

#[test]
fn plan_chunks_join_equal_a_single_run_on_the_demo() {
    if !models_ready() {
        eprintln!("SKIP: models not built (run ./setup.sh)");
        return;
    }
    let Some(input) = media("anime/realesrgan_onepiece_demo.mp4") else {
        return;
    };
    chunked_equals_single(&input, None, "2", 3);
}

#[test]
fn plan_chunks_join_keep_subtitles_fonts_and_audio() {
    if !models_ready() {
        eprintln!("SKIP: models not built (run ./setup.sh)");
        return;
    }
    let Some(input) = media("anime/psd_issue-236-split-copy.mkv") else {
        return;
    };
    chunked_equals_single(&input, None, "0.6", 3);
}

fn wait_for(path: &Path, limit: Duration) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if path.exists() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn a_killed_run_resumes_from_its_journal_and_gives_the_same_frames() {
    if !models_ready() {
        eprintln!("SKIP: models not built (run ./setup.sh)");
        return;
    }
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "320x240", "24", "8", &[]);
    let out = dir.path().join("out.mkv");
    let work: PathBuf = dir.path().join(".out.mkv.ainimotion");
    let args = [
        "enhance",
        s(&input),
        "-o",
        s(&out),
        "--preset",
        "fast",
        "--crf",
        "0",
        "--encoder-preset",
        "ultrafast",
        "--chunk-seconds",
        "2",
        "-q",
    ];
    let mut child = bin().args(args).spawn().expect("binary runs");
    let second = work.join("chunk-0001.json");
    let started = wait_for(&second, Duration::from_secs(300));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(started, "the second chunk never finished");
    assert!(!out.exists(), "a killed run left an output");
    let report = dir.path().join("report.json");
    let mut again = args.to_vec();
    again.extend(["--report", s(&report)]);
    let (code, _, err) = run(&again);
    assert_eq!(code, 0, "rerun: {err}");
    let r = common::report(&report);
    let (total, reused, done) = (
        r["chunks"]["total"].as_u64().unwrap(),
        r["chunks"]["reused"].as_u64().unwrap(),
        r["chunks"]["done"].as_u64().unwrap(),
    );
    assert!(total >= 4, "{total} chunks");
    assert!(reused >= 2, "only {reused} chunks reused");
    assert_eq!(reused + done, total);
    assert!(!work.exists(), "the work folder stays after a join");
    let single = dir.path().join("single.mkv");
    enhance_ok(
        &input,
        &single,
        "fast",
        &["--crf", "0", "--chunk-seconds", "0"],
    );
    assert_eq!(frame_hashes(&single), frame_hashes(&out));
    eprintln!("resumed: {reused} of {total} chunks reused, {done} done, frames identical");
}

#[test]
fn changed_input_or_settings_never_mix_with_old_chunks() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "160x120", "24", "6", &[]);
    let work = dir.path().join("w");
    let plan = work.join("plan.json");
    let (code, _, err) = run(&[
        "plan",
        s(&input),
        "--out",
        s(&plan),
        "--preset",
        "reencode",
        "--chunk-seconds",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    // A chunk of another file (same name, other content): refused.
    let other = dir.path().join("in2.mkv");
    make_clip(&other, "160x120", "24", "5", &[]);
    let (code, _, err) = run(&[
        "enhance",
        s(&other),
        "--plan",
        s(&plan),
        "--chunk",
        "0",
        "-q",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("make a new plan"), "{err}");
    // Settings flags with --plan: refused.
    let (code, _, err) = run(&[
        "enhance",
        s(&input),
        "--plan",
        s(&plan),
        "--chunk",
        "0",
        "--crf",
        "3",
    ]);
    assert_eq!(code, 2, "{err}");
    // Join before the chunks are done: names them.
    let (code, _, err) = run(&["join", s(&plan), "--out", s(&dir.path().join("j.mkv"))]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("chunks are not done (0, 1, 2"), "{err}");
    assert!(!dir.path().join("j.mkv").exists());
    // A plain run whose work folder holds a plan of other settings starts
    // over (says so) and gives the right result.
    let out = dir.path().join("out.mkv");
    let old = dir.path().join(".out.mkv.ainimotion").join("plan.json");
    let (code, _, err) = run(&[
        "plan",
        s(&input),
        "--out",
        s(&old),
        "--preset",
        "reencode",
        "--crf",
        "9",
        "--chunk-seconds",
        "2",
    ]);
    assert_eq!(code, 0, "{err}");
    let err = enhance_ok(
        &input,
        &out,
        "reencode",
        &["--crf", "0", "--chunk-seconds", "2"],
    );
    assert!(err.contains("starting over"), "{err}");
    let single = dir.path().join("single.mkv");
    enhance_ok(
        &input,
        &single,
        "reencode",
        &["--crf", "0", "--chunk-seconds", "0"],
    );
    assert_eq!(frame_hashes(&single), frame_hashes(&out));
}

/// Lossy x264 (B-frames, so every chunk's encoder starts with negative dts)
/// joined into .mp4 and .mkv: the same timestamps as a single run, and
/// every frame there.
#[test]
fn lossy_chunks_join_into_mp4_and_mkv_with_the_single_runs_timestamps() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "160x120", "24", "6", &[]);
    for ext in ["mp4", "mkv"] {
        let out = dir.path().join(format!("chunked.{ext}"));
        let single = dir.path().join(format!("single.{ext}"));
        // The preset's x264 medium: B-frames (the helpers' usual
        // ultrafast has none).
        for (o, chunk) in [(&out, "2"), (&single, "0")] {
            let (code, _, err) = run(&[
                "enhance",
                s(&input),
                "-o",
                s(o),
                "--preset",
                "reencode",
                "-q",
                "--chunk-seconds",
                chunk,
            ]);
            assert_eq!(code, 0, "{err}");
        }
        let pts = |p: &Path| -> Vec<String> {
            frame_hashes(p)
                .iter()
                .map(|l| l.split(',').nth(2).unwrap_or("").trim().to_string())
                .collect()
        };
        assert_eq!(pts(&single).len(), 144, "{ext}");
        assert_eq!(pts(&single), pts(&out), "{ext}: timestamps differ");
        assert_eq!(stream_list(&single), stream_list(&out));
    }
}

/// `enhance IN -o OUT --preset reencode -q --encoder-preset ultrafast
/// --chunk-seconds CHUNK`, as strings for a spawned child.
fn reencode_args(input: &Path, out: &Path, chunk: &str) -> Vec<String> {
    [
        "enhance",
        s(input),
        "-o",
        s(out),
        "--preset",
        "reencode",
        "-q",
        "--encoder-preset",
        "ultrafast",
        "--chunk-seconds",
        chunk,
    ]
    .map(String::from)
    .to_vec()
}

/// Wait for `child` at most `limit`; kill it and fail past that.
fn wait_at_most(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            return status;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("still running {limit:?} after it should have stopped");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Everything the child wrote on stderr (it has ended).
fn stderr_of(child: &mut std::process::Child) -> String {
    let mut err = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        std::io::Read::read_to_string(&mut pipe, &mut err).expect("read stderr");
    }
    err
}

/// Issue 25: SIGTERM and SIGINT stop a chunked run within two seconds
/// with 143 / 130 and one line saying how many chunks are kept and that
/// the same command resumes; nothing is left under the target name, and
/// the rerun reuses exactly the chunks that line counted.
#[test]
fn sigterm_and_sigint_stop_a_chunked_run_within_two_seconds_and_it_resumes() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "320x180", "24", "60", &[]);
    for (signal, name, code) in [
        (libc::SIGTERM, "sigterm", 143),
        (libc::SIGINT, "sigint", 130),
    ] {
        let out = dir.path().join(format!("{name}.mkv"));
        let work = dir.path().join(format!(".{name}.mkv.ainimotion"));
        let args = reencode_args(&input, &out, "5");
        let mut child = bin()
            .args(&args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary runs");
        let first_done = wait_for(&work.join("chunk-0000.json"), Duration::from_secs(300));
        let sent = Instant::now();
        // SAFETY: kill(2) with our own child's pid and a valid signal.
        let rc = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill failed");
        let status = wait_at_most(&mut child, Duration::from_secs(30));
        let latency = sent.elapsed();
        let err = stderr_of(&mut child);
        eprintln!(
            "{name}: exit {:?} {:.0} ms after the signal: {err}",
            status.code(),
            latency.as_secs_f64() * 1e3
        );
        assert!(first_done, "{name}: the first chunk never finished");
        assert_eq!(status.code(), Some(code), "{name}: {err}");
        assert!(latency < Duration::from_secs(2), "{name}: took {latency:?}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains("the same command resumes") && err.contains(s(&work)),
            "{err}"
        );
        let kept: u64 = err
            .split("interrupted; ")
            .nth(1)
            .and_then(|t| t.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no chunk count in: {err}"));
        assert!(kept >= 1, "{err}");
        // Nothing under the target name, no temporary file or lock beside
        // it, no half-written chunk in the work folder.
        let beside: Vec<String> = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(&format!("{name}.mkv")))
            .collect();
        assert_eq!(beside, [format!(".{name}.mkv.ainimotion")], "{name}");
        let partial = std::fs::read_dir(&work)
            .expect("work folder")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .find(|n| n.contains(".partial-"));
        assert_eq!(partial, None, "{name}: a partial chunk was left");

        let report = dir.path().join(format!("{name}.json"));
        let mut again = args.clone();
        again.extend(["--report".to_string(), s(&report).to_string()]);
        let again: Vec<&str> = again.iter().map(String::as_str).collect();
        let (rc, _, err) = run(&again);
        assert_eq!(rc, 0, "{name} rerun: {err}");
        let r = common::report(&report);
        assert_eq!(r["chunks"]["reused"].as_u64(), Some(kept), "{name}");
        assert!(out.exists() && !work.exists());
    }
}

/// Issue 25: two runs on one output wrote the same work folder (the
/// second exited 0, the first died). Now a second `enhance`, chunked or
/// not, and a `slurm` on the same output are refused at once with one
/// line naming the running one's pid (exit 2), and the first completes;
/// the lock of a SIGKILLed run does not block the next run.
#[test]
fn a_second_run_on_one_output_is_refused_and_a_killed_runs_lock_does_not_block() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "320x180", "24", "60", &[]);
    let holder = |lock: &Path, pid: u32| {
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(60) {
            let text = std::fs::read_to_string(lock).unwrap_or_default();
            if text.lines().next() == Some(pid.to_string().as_str()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    };
    for chunk in ["5", "0"] {
        let out = dir.path().join(format!("out{chunk}.mkv"));
        let lock = dir.path().join(format!(".out{chunk}.mkv.lock"));
        let args = reencode_args(&input, &out, chunk);
        let mut first = bin()
            .args(&args)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary runs");
        assert!(holder(&lock, first.id()), "no lock naming the first run");
        let pid = format!("pid {}", first.id());
        let mut second: Vec<&str> = args.iter().map(String::as_str).collect();
        let slurm = [
            "slurm",
            s(&input),
            "-o",
            s(&out),
            "--preset",
            "reencode",
            "--chunk-seconds",
            "5",
            "--dry-run",
            "-q",
        ];
        let mut tries = vec![second.clone()];
        if chunk != "0" {
            tries.push(slurm.to_vec());
        }
        second.push("-y");
        tries.push(second);
        for t in &tries {
            let started = Instant::now();
            let (code, _, err) = run(t);
            eprintln!(
                "{} while the first runs: exit {code} in {:.0} ms: {err}",
                t[0],
                started.elapsed().as_secs_f64() * 1e3
            );
            assert_eq!(code, 2, "{t:?}: {err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            assert!(
                err.contains(&pid) && err.contains("is writing this output"),
                "{err}"
            );
        }
        let status = wait_at_most(&mut first, Duration::from_secs(300));
        let err = stderr_of(&mut first);
        assert!(status.success(), "the first run failed: {err}");
        assert!(out.exists(), "no output");
        assert!(!lock.exists(), "the lock file stays after the run");
    }
    // A killed run's lock file stays; the next run takes it and ends.
    let out = dir.path().join("killed.mkv");
    let lock = dir.path().join(".killed.mkv.lock");
    let args = reencode_args(&input, &out, "5");
    let mut child = bin().args(&args).spawn().expect("binary runs");
    let locked = holder(&lock, child.id());
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(locked, "no lock naming the run");
    assert!(lock.exists(), "the lock file should outlive a SIGKILL");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "after a killed run: {err}");
    assert!(out.exists() && !lock.exists());
}

/// `--inbetweens warp` (issue 27): each distinct drawing goes through the
/// upscaler once and every kept in-between is warped at output size; the
/// in-betweens stay close to today's mode (upscale each in-between), the
/// drawings are the same, and a chunked run equals the single run frame for
/// frame. One Piece demo, first second, real RIFE and animevideov3.
#[test]
fn warped_in_betweens_upscale_each_drawing_once_and_chunk_exactly() {
    if !models_ready() {
        return;
    }
    let Some(input) = media("anime/realesrgan_onepiece_demo.mp4") else {
        return;
    };
    let dir = tmpdir();
    let settings = ["--clip", "0-1", "--crf", "0"];
    let run_mode = |name: &str, mode: &str, chunk: &str| {
        let out = dir.path().join(format!("{name}.mkv"));
        let rep = dir.path().join(format!("{name}.json"));
        let mut extra = settings.to_vec();
        extra.extend(["--inbetweens", mode, "--chunk-seconds", chunk]);
        extra.extend(["--report", s(&rep)]);
        enhance_ok(&input, &out, "anime-clean", &extra);
        (out, report(&rep))
    };
    let (warp, r) = run_mode("warp", "warp", "0");
    let distinct = r["gate"]["distinct"].as_u64().unwrap();
    let inferred = r["interpolate"]["inferred"].as_u64().unwrap();
    assert!(distinct >= 4 && inferred >= 4, "{r}");
    assert_eq!(r["upscale"]["inferred"].as_u64(), Some(distinct), "{r}");
    assert_eq!(r["upscale"]["warped"].as_u64(), Some(inferred), "{r}");

    let (today, t) = run_mode("upscale", "upscale", "0");
    assert_eq!(t["upscale"]["inferred"].as_u64(), Some(distinct + inferred));
    assert_eq!(t["upscale"]["warped"].as_u64(), Some(0));
    // Same frames and times; drawings identical, in-betweens close.
    let (a, b) = (frame_hashes(&today), frame_hashes(&warp));
    assert_eq!(a.len(), b.len());
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count() as u64;
    assert_eq!(
        same + inferred,
        a.len() as u64,
        "only in-betweens may differ"
    );
    let db = psnr(&today, &warp);
    eprintln!(
        "warp against upscale mode: {db:.2} dB over {} frames",
        a.len()
    );
    assert!(db > 40.0, "{db:.2} dB");

    let (chunked, c) = run_mode("chunked", "warp", "0.4");
    assert_eq!(c["upscale"]["warped"].as_u64(), Some(inferred), "{c}");
    let chunked = frame_hashes(&chunked);
    assert_eq!(b.len(), chunked.len(), "frame counts differ");
    for (i, (x, y)) in b.iter().zip(&chunked).enumerate() {
        assert_eq!(
            x, y,
            "frame {i} differs between the single and the chunked run"
        );
    }
}

/// A chunked run's report adds up to the single run's (issue 25): the same
/// frames in and out, gate classes, distinct pictures, model calls and
/// copies, decoded frames and the input's end; it says how many chunks
/// there were and how many were reused. Drawings on threes, a cut, and the
/// tiny blend interpolator, so it runs without the built models.
#[test]
fn a_chunked_runs_report_adds_up_to_the_single_runs() {
    let dir = tmpdir();
    let clip = dir.path().join("in.mkv");
    ffmpeg(&[
        "-filter_complex",
        "testsrc2=s=320x180:r=8:d=6,fps=24[a];mandelbrot=s=320x180:r=24,trim=duration=5[b];[a][b]concat=n=2[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-qp",
        "0",
        "-preset",
        "ultrafast",
        s(&clip),
    ]);
    let manifest = blend_manifest(dir.path());
    let run_with = |chunk: &str| {
        let out = dir.path().join(format!("out{chunk}.mkv"));
        let rep = dir.path().join(format!("r{chunk}.json"));
        let extra = [
            "--interpolator",
            "blend",
            "--extra-models",
            s(&manifest),
            "--device",
            "cpu",
            "--chunk-seconds",
            chunk,
            "--report",
            s(&rep),
        ];
        enhance_ok(&clip, &out, "interpolate-only", &extra);
        report(&rep)
    };
    let (single, chunked) = (run_with("0"), run_with("2"));
    let chunks = chunked["chunks"]["total"].as_u64().unwrap();
    assert!(chunks >= 4, "{chunked}");
    assert_eq!(chunked["chunks"]["reused"].as_u64(), Some(0));
    for key in [
        "/frames_in",
        "/frames_out",
        "/gate/cut",
        "/gate/hold",
        "/gate/motion",
        "/gate/flash",
        "/gate/distinct",
        "/interpolate/inferred",
        "/interpolate/copied",
        "/interpolate/held",
        "/interpolate/cut_copies",
        "/interpolate/rejected",
        "/interpolate/model_calls",
        "/decode/frames",
    ] {
        assert_eq!(
            single.pointer(key),
            chunked.pointer(key),
            "{key}: single {single}\nchunked {chunked}"
        );
    }
    let end = |r: &serde_json::Value| r["decode"]["last_end_s"].as_f64().unwrap();
    assert!((end(&single) - 11.0).abs() < 0.05, "{single}");
    assert!((end(&single) - end(&chunked)).abs() < 1e-6, "{chunked}");
    assert_eq!(
        single["gate"]["cut"].as_u64(),
        Some(1),
        "one cut between the sources: {single}"
    );
}

/// Killed again and again (issue 25): SIGKILL at three random moments of
/// one chunked run (planning, chunks or the join), each followed by the
/// same command; the final output is frame-exact to an uninterrupted run
/// (`--lossless`), and nothing is left beside it: no temporary output of
/// a killed process, no lock, no work folder. The moments come from a seed
/// printed with the result (`KILL_SEED=N` repeats a run). The tiny blend
/// interpolator keeps it to seconds without the built models.
#[test]
fn killed_three_times_at_random_moments_the_run_still_gives_the_same_frames() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "320x180", "24", "24", &[]);
    let manifest = blend_manifest(dir.path());
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("out.mkv");
    let mut args: Vec<String> = ["enhance", s(&input), "-o", s(&out), "-q"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    args.extend(
        [
            "--preset",
            "interpolate-only",
            "--lossless",
            "--encoder-preset",
            "ultrafast",
            "--interpolator",
            "blend",
            "--device",
            "cpu",
            "--chunk-seconds",
            "4",
            "--extra-models",
            s(&manifest),
        ]
        .map(String::from),
    );
    let mut seed: u64 = std::env::var("KILL_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    let first_seed = seed;
    // How long the whole run takes here, uninterrupted, into another file:
    // the kills fall anywhere within it.
    let whole = dir.path().join("whole.mkv");
    let mut whole_args: Vec<String> = args.clone();
    whole_args[3] = s(&whole).to_string();
    let t0 = std::time::Instant::now();
    let status = bin().args(&whole_args).status().expect("binary runs");
    assert!(status.success());
    let span = (t0.elapsed().as_millis() as u64).max(500);
    let mut kills = Vec::new();
    for round in 0..3u64 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        // Each rerun has less left to do: later kills fall earlier.
        let window = (span * (4 - round) / 4).max(100);
        let delay = Duration::from_millis(50 + (seed >> 33) % window);
        let mut child = bin().args(&args).spawn().expect("binary runs");
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        if !finished {
            child.kill().expect("SIGKILL");
        }
        let _ = child.wait();
        kills.push(format!(
            "{} ms{}",
            delay.as_millis(),
            if finished { " (done)" } else { "" }
        ));
    }
    // The run may have finished within the last rounds' time.
    if !out.exists() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = run(&args);
        assert_eq!(code, 0, "KILL_SEED={first_seed}: the final run: {err}");
    }
    let single = dir.path().join("single.mkv");
    let extra = [
        "--lossless",
        "--interpolator",
        "blend",
        "--device",
        "cpu",
        "--chunk-seconds",
        "0",
        "--extra-models",
        s(&manifest),
    ];
    enhance_ok(&input, &single, "interpolate-only", &extra);
    let (a, b) = (frame_hashes(&single), frame_hashes(&out));
    assert_eq!(
        a.len(),
        b.len(),
        "KILL_SEED={first_seed}: frame counts differ"
    );
    assert!(a == b, "KILL_SEED={first_seed}: frames differ");
    assert!(
        frame_hashes(&whole) == a,
        "the uninterrupted chunked run differs"
    );
    let left: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "out.mkv")
        .collect();
    assert!(
        left.is_empty(),
        "KILL_SEED={first_seed}: left beside the output: {left:?}"
    );
    eprintln!(
        "KILL_SEED={first_seed}: a whole run takes {span} ms; killed at {}; {} frames identical",
        kills.join(", "),
        a.len()
    );
}

/// Issue 25: an input that disappears or is cut short while a chunked run
/// works on it stops the run with one line (exit 2) and no output. Gone:
/// the line says the chunks done are kept and the same command resumes;
/// put back, it does, and gives the frames of an uninterrupted run. Cut
/// short: the line says it changed, and no short chunk is kept for a
/// later run on the restored file to reuse.
#[test]
fn an_input_that_disappears_or_is_cut_short_mid_run_stops_with_one_line() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "320x180", "24", "40", &[]);
    let args = |out: &Path| {
        let mut a = reencode_args(&input, out, "4");
        a.push("--lossless".into());
        a
    };
    let reference = dir.path().join("reference.mkv");
    let (code, _, err) = run(&args(&reference)
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    for cut_short in [false, true] {
        let out = dir.path().join(format!("out_{cut_short}.mkv"));
        let work = dir.path().join(format!(".out_{cut_short}.mkv.ainimotion"));
        let aside = dir.path().join("in.aside");
        std::fs::copy(&input, &aside).unwrap();
        let mut child = bin()
            .args(args(&out))
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("binary runs");
        assert!(
            wait_for(&work.join("chunk-0000.json"), Duration::from_secs(300)),
            "the first chunk never finished"
        );
        if cut_short {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(&input)
                .unwrap();
            f.set_len(f.metadata().unwrap().len() / 2).unwrap();
        } else {
            std::fs::remove_file(&input).unwrap();
        }
        let status = wait_at_most(&mut child, Duration::from_secs(120));
        let err = stderr_of(&mut child);
        eprintln!("cut short {cut_short}: exit {:?}: {err}", status.code());
        std::fs::rename(&aside, &input).unwrap();
        assert_eq!(status.code(), Some(2), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(s(&input)), "{err}");
        assert!(!out.exists(), "an output was left: {err}");
        assert!(stray_files(dir.path(), &[])
            .iter()
            .all(|f| !f.contains("partial")));
        if cut_short {
            assert!(err.contains("changed during the run"), "{err}");
        } else {
            assert!(work.join("plan.json").exists(), "work folder not kept");
            assert!(
                err.contains("disappeared during the run") && err.contains("the same command"),
                "{err}"
            );
        }
        // Every chunk kept is whole: the rerun on the restored file (which
        // reuses them) gives exactly the uninterrupted run's frames.
        let (code, _, err) = run(&args(&out).iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(code, 0, "{err}");
        assert_eq!(frame_hashes(&out), frame_hashes(&reference));
    }
}

/// Issue 25: a single (unchunked) run whose input is cut short while it
/// reads it stops with one line (exit 2) and leaves no output: the decoder
/// would stop at the new end and the output would be silently short.
#[test]
fn a_single_run_whose_input_is_cut_short_leaves_no_output() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "320x180", "24", "60", &[]);
    let out = dir.path().join("out.mkv");
    let mut args = reencode_args(&input, &out, "0");
    args.push("--lossless".into());
    let mut child = bin()
        .args(&args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    // Cut it short once the output has started (its temporary file exists).
    let t = Instant::now();
    let started = loop {
        let writing = stray_files(dir.path(), &[])
            .iter()
            .any(|f| f.contains("partial"));
        if writing || t.elapsed() > Duration::from_secs(120) {
            break writing;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&input)
        .unwrap();
    f.set_len(f.metadata().unwrap().len() / 2).unwrap();
    let status = wait_at_most(&mut child, Duration::from_secs(120));
    let err = stderr_of(&mut child);
    eprintln!("exit {:?}: {err}", status.code());
    assert!(started, "the output never started");
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("changed during the run") && err.contains(s(&input)),
        "{err}"
    );
    assert_eq!(
        err.trim()
            .lines()
            .filter(|l| l.starts_with("error"))
            .count(),
        1,
        "{err}"
    );
    assert!(!out.exists(), "a short output was left");
}
