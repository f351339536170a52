//! Issue 25: whole episodes, not clips. One generated 24-minute episode
//! (160x90 so that it costs seconds, not hours: testsrc2 at 23.976, AAC
//! stereo, SRT subtitles) carries three markers, at about 30 s, 12 min and
//! 23.5 min: a white frame, a 1 kHz beep starting at that frame's time and
//! a subtitle event starting there too. After runs at `--fps 2x`, `59.94`
//! (chunked) and `48` (from a variable-rate copy), every marker's picture,
//! sound and subtitle are within one output frame of each other, and the
//! ends of the three streams keep their times. Peak memory of the 24-minute
//! runs (single and chunked) stays within 10% of 2-minute runs of the same
//! material.
//!
//! The interpolator is the tiny ONNX blend model the tests build
//! (`--extra-models`), on CPU: an episode at 2x is about 69,000 frames.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;

/// Frame rate of the episode.
const FPS: f64 = 24000.0 / 1001.0;
/// Frames of the episode: 24 minutes at 23.976.
const FRAMES: u64 = 34_526;
/// The marker frames (none is a multiple of 7 plus 3: the variable-rate
/// copy drops those).
const MARKERS: [u64; 3] = [720, 17_264, 33_809];
/// A last subtitle event, near the end (seconds).
const LAST_SUB_S: f64 = 1435.0;

struct Episode {
    dir: PathBuf,
    /// 24 minutes, constant rate.
    cfr: PathBuf,
    /// The same with every frame n = 3 (mod 7) dropped, the others at
    /// their own times: variable rate.
    vfr: PathBuf,
    /// The first 2 minutes of `cfr` (stream copy).
    short: PathBuf,
    /// The blend interpolator's manifest.
    manifest: PathBuf,
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// `mm:ss,mmm` for SRT.
fn srt_time(t: f64) -> String {
    let ms = (t * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// The episode, made once per test process.
fn episode() -> &'static Episode {
    static EPISODE: OnceLock<Episode> = OnceLock::new();
    EPISODE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("episode");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let times: Vec<f64> = MARKERS.iter().map(|&n| n as f64 / FPS).collect();
        let mut srt = String::new();
        for (k, &t) in times.iter().chain(&[LAST_SUB_S]).enumerate() {
            let t1 = srt_time(t + 1.0);
            srt += &format!("{}\n{} --> {t1}\nmarker {k}\n\n", k + 1, srt_time(t));
        }
        let subs = dir.join("markers.srt");
        std::fs::write(&subs, srt).unwrap();
        let white: Vec<String> = MARKERS.iter().map(|n| format!("eq(n\\,{n})")).collect();
        // Beeps start at the marker frames' exact times (in samples).
        let beeps: Vec<String> = MARKERS
            .iter()
            .map(|n| format!("between(t\\,{n}*1001/24000\\,{n}*1001/24000+0.1)"))
            .collect();
        let cfr = dir.join("episode.mkv");
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!(
                "testsrc2=s=160x90:r=24000/1001:d=1440,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='{}'",
                white.join("+")
            ),
            "-f",
            "lavfi",
            "-i",
            &format!(
                "aevalsrc='if({}\\,0.8*sin(2*PI*1000*t)\\,0)|if({}\\,0.8*sin(2*PI*1000*t)\\,0)':s=48000:d=1440",
                beeps.join("+"),
                beeps.join("+")
            ),
            "-i",
            s(&subs),
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "20",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-c:s",
            "srt",
            s(&cfr),
        ]);
        let vfr = dir.join("episode-vfr.mkv");
        // -copyts: the kept frames keep their times, in step with the
        // audio and subtitles copied beside them.
        ffmpeg(&[
            "-copyts",
            "-i",
            s(&cfr),
            "-map",
            "0",
            "-vf",
            "select='not(eq(mod(n\\,7)\\,3))'",
            "-fps_mode",
            "passthrough",
            "-c:v",
            "libx264",
            "-bf",
            "0",
            "-preset",
            "ultrafast",
            "-crf",
            "20",
            "-c:a",
            "copy",
            "-c:s",
            "copy",
            s(&vfr),
        ]);
        let short = dir.join("episode-2min.mkv");
        ffmpeg(&["-i", s(&cfr), "-map", "0", "-t", "120", "-c", "copy", s(&short)]);
        let manifest = blend_manifest(&dir);
        Episode {
            dir,
            cfr,
            vfr,
            short,
            manifest,
        }
    })
}

/// `enhance` of `input` into `out` with the blend interpolator; returns
/// stderr and the peak resident memory of the process (MiB).
fn enhance_measured(input: &Path, out: &Path, fps: &str, chunk_seconds: &str) -> (String, f64) {
    let ep = episode();
    let args = [
        "enhance",
        s(input),
        "-o",
        s(out),
        "-y",
        "-q",
        "--preset",
        "interpolate-only",
        "--fps",
        fps,
        "--lossless",
        "--encoder-preset",
        "ultrafast",
        "--interpolator",
        "blend",
        "--extra-models",
        s(&ep.manifest),
        "--device",
        "cpu",
        "--chunk-seconds",
        chunk_seconds,
    ];
    let mut child = bin()
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut pipe = child.stderr.take().expect("stderr piped");
    let reader = std::thread::spawn(move || {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut err);
        err
    });
    // The kernel's high-water mark of the process's resident memory,
    // polled until it exits (wait4's ru_maxrss would also count the test
    // process's own memory, which the child shares between fork and exec).
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        let hwm = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|t| {
                let line = t.lines().find(|l| l.starts_with("VmHWM:"))?;
                line.split_whitespace().nth(1)?.parse::<u64>().ok()
            })
            .unwrap_or(0);
        peak_kib = peak_kib.max(hwm);
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let err = reader.join().expect("stderr reader");
    assert!(
        status.success(),
        "enhance {} failed: {err}",
        input.display()
    );
    (err, peak_kib as f64 / 1024.0)
}

/// Times (s) at which the output's video shows each marker: the first frame
/// of each run of white frames.
fn white_times(out: &Path) -> Vec<f64> {
    let pts = video_pts(out);
    // Mean luma of every frame, decoded as stored (no rate conversion).
    let luma = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-i",
            s(out),
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
        ])
        .args([
            "-vf",
            "scale=16:9:flags=area",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .expect("ffmpeg runs")
        .stdout;
    let means: Vec<f64> = luma
        .chunks_exact(144)
        .map(|f| f.iter().map(|&v| f64::from(v)).sum::<f64>() / 144.0)
        .collect();
    assert_eq!(pts.len(), means.len(), "{}", out.display());
    let mut times = Vec::new();
    let mut was_white = false;
    for (t, mean) in pts.iter().zip(&means) {
        let white = *mean > 200.0;
        if white && !was_white {
            times.push(*t);
        }
        was_white = white;
    }
    times
}

/// Times (s) at which the output's audio starts each beep.
fn beep_times(out: &Path) -> Vec<f64> {
    let rate = 48_000.0;
    let pcm = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i", s(out), "-map", "0:a:0", "-ac", "1"])
        .args(["-f", "s16le", "-acodec", "pcm_s16le", "-"])
        .output()
        .expect("ffmpeg runs")
        .stdout;
    let start = stream_start(out, "a");
    let mut times = Vec::new();
    let mut quiet_since = usize::MAX / 2;
    for (i, c) in pcm.chunks_exact(2).enumerate() {
        let loud = i16::from_le_bytes([c[0], c[1]]).unsigned_abs() > 8000;
        if loud {
            // A new beep after at least a second of silence.
            if i.saturating_sub(quiet_since) > rate as usize || times.is_empty() {
                times.push(start + i as f64 / rate);
            }
            quiet_since = i;
        }
    }
    times
}

/// Start time (s) of the first stream of `kind` ("a", "s").
fn stream_start(path: &Path, kind: &str) -> f64 {
    let v = ffprobe_json(
        path,
        &[
            "-select_streams",
            &format!("{kind}:0"),
            "-show_entries",
            "stream=start_time",
        ],
    );
    v["streams"][0]["start_time"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0)
}

/// Start times (s) of the subtitle events.
fn subtitle_times(path: &Path) -> Vec<f64> {
    let v = ffprobe_json(
        path,
        &["-select_streams", "s:0", "-show_entries", "packet=pts_time"],
    );
    v["packets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["pts_time"].as_str()?.parse().ok())
        .collect()
}

/// Every marker's picture, beep and subtitle within one output frame of
/// where the same stream has it in the input (a generated input may itself
/// carry a fixed offset between its streams, which is not ours to change);
/// the last frame, audio and subtitle of the output where the input's are.
fn assert_in_sync(input: &Path, out: &Path, out_fps: f64, what: &str) {
    let frame = 1.0 / out_fps;
    let (in_pictures, in_beeps, in_subs) =
        (white_times(input), beep_times(input), subtitle_times(input));
    assert_eq!(in_pictures.len(), MARKERS.len(), "input white frames");
    assert_eq!(in_beeps.len(), MARKERS.len(), "input beeps");
    let pictures = white_times(out);
    let beeps = beep_times(out);
    let subs = subtitle_times(out);
    eprintln!(
        "{what}: input pictures {in_pictures:?}, beeps {in_beeps:?}; output pictures {pictures:?}, beeps {beeps:?}, subtitles {subs:?}"
    );
    assert_eq!(pictures.len(), MARKERS.len(), "{what}: white frames");
    assert_eq!(beeps.len(), MARKERS.len(), "{what}: beeps");
    assert_eq!(subs.len(), in_subs.len(), "{what}: subtitle events");
    let mut worst = 0.0f64;
    for k in 0..MARKERS.len() {
        for (name, t, t0) in [
            ("picture", pictures[k], in_pictures[k]),
            ("beep", beeps[k], in_beeps[k]),
            ("subtitle", subs[k], in_subs[k]),
        ] {
            let off = (t - t0).abs();
            worst = worst.max(off);
            assert!(
                off <= frame + 1e-3,
                "{what}: marker {k} {name} at {t:.4} s, in the input at {t0:.4} s"
            );
        }
    }
    let (in_v, out_v) = (video_pts(input), video_pts(out));
    let (in_last, out_last) = (in_v[in_v.len() - 1], out_v[out_v.len() - 1]);
    let audio = (stream_duration(input, "a"), stream_duration(out, "a"));
    let last_sub = (in_subs[in_subs.len() - 1], subs[subs.len() - 1]);
    eprintln!(
        "{what}: worst marker offset {:.1} ms (one output frame {:.1} ms); last frame {in_last:.4} -> {out_last:.4} s, audio length {:.4} -> {:.4} s, last subtitle {:.4} -> {:.4} s",
        worst * 1e3,
        frame * 1e3,
        audio.0,
        audio.1,
        last_sub.0,
        last_sub.1
    );
    // The output's last frame is the input's last or one shown within the
    // input's last frame's duration (the output covers the input's length).
    assert!(
        out_last >= in_last - frame && out_last <= in_last + 1.0 / FPS,
        "{what}: last frame at {out_last} s, input's at {in_last} s"
    );
    assert!(
        (audio.0 - audio.1).abs() <= frame,
        "{what}: audio {audio:?}"
    );
    assert!(
        (last_sub.0 - last_sub.1).abs() <= frame,
        "{what}: last subtitle {last_sub:?}"
    );
}

/// One test, so that the three 24-minute runs serve both checks.
#[test]
fn a_24_minute_episode_stays_in_sync_and_its_memory_flat() {
    let ep = episode();
    let mut memory = Vec::new();
    for (mode, fps, chunk) in [("single", "2x", "0"), ("chunked", "59.94", "120")] {
        let out = ep.dir.join(format!("out-{mode}.mkv"));
        let long = enhance_measured(&ep.cfr, &out, fps, chunk).1;
        let out_fps = if fps == "2x" {
            2.0 * FPS
        } else {
            60000.0 / 1001.0
        };
        assert_in_sync(&ep.cfr, &out, out_fps, &format!("{fps} {mode}"));
        let short_out = ep.dir.join(format!("out-2min-{mode}.mkv"));
        let short = enhance_measured(&ep.short, &short_out, fps, chunk).1;
        eprintln!(
            "{mode}: peak memory {short:.1} MiB at 2 minutes, {long:.1} MiB at 24 minutes ({:+.1}%)",
            100.0 * (long / short - 1.0)
        );
        memory.push((mode, short, long));
    }
    let out = ep.dir.join("out-48-vfr.mkv");
    enhance_measured(&ep.vfr, &out, "48", "0");
    assert_in_sync(&ep.vfr, &out, 48.0, "48 from VFR");
    assert_eq!(video_pts(&ep.cfr).len() as u64, FRAMES);
    for (mode, short, long) in memory {
        assert!(
            long <= short * 1.10,
            "{mode}: {long:.1} MiB at 24 minutes against {short:.1} MiB at 2"
        );
    }
}
