//! `ainimotion slurm` on a real one-node Slurm cluster started by the test
//! (tests/common/slurm_cluster.rs): Debian's munged, slurmctld and slurmd on
//! localhost, as root, from a generated config in a temporary folder.

mod common;
#[path = "common/slurm_cluster.rs"]
mod slurm_cluster;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use slurm_cluster::Cluster;

/// The cluster itself, independent of ainimotion: an array job and a job
/// that waits for it with afterok.
#[test]
fn cluster_runs_an_array_and_a_dependent_job() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = cluster.dir.path().join("jobs");
    std::fs::create_dir(&dir).unwrap();
    let out = |name: &str| format!("--output={}/{name}", dir.display());
    let t = Instant::now();
    let array = cluster.sbatch(&[
        "--array=0-2%2",
        &out("task-%a.log"),
        "--wrap",
        "echo task $SLURM_ARRAY_TASK_ID",
    ]);
    let after = format!("--dependency=afterok:{array}");
    let join = cluster.sbatch(&[&after, &out("join.log"), "--wrap", "echo joined"]);
    let states = cluster.wait_jobs(&[&array, &join], Duration::from_secs(60));
    eprintln!("jobs {states:?} in {:.1} s", t.elapsed().as_secs_f64());
    assert!(states.iter().all(|(_, s)| s == "COMPLETED"), "{states:?}");
    assert_eq!(states.len(), 4, "{states:?}");
    for k in 0..3 {
        let log = std::fs::read_to_string(dir.join(format!("task-{k}.log"))).unwrap();
        assert_eq!(log.trim(), format!("task {k}"));
    }
    let log = std::fs::read_to_string(dir.join("join.log")).unwrap();
    assert_eq!(log.trim(), "joined");
}

/// `ffmpeg -f framemd5` of the video: one `pts, size, md5` line per frame.
fn frame_hashes(path: &Path) -> Vec<String> {
    common::framemd5(path, &["-map", "0:v:0"])
        .iter()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            // stream, dts, pts, duration, size, md5: keep pts, size, md5.
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            format!("{}, {}, {}", f[2], f[4], f[5])
        })
        .collect()
}

/// Three 2.5 s scenes (moving, mostly held, moving) with a sine track:
/// two cuts, so a 2.5 s chunk limit gives at least three chunks.
fn make_scenes(path: &Path) {
    common::ffmpeg(&[
        "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=24:duration=2.5",
        "-f", "lavfi", "-i", "mandelbrot=size=160x96:rate=24",
        "-f", "lavfi", "-i", "smptebars=size=160x96:rate=24:duration=2.5",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=7.5",
        "-filter_complex",
        "[1:v]trim=duration=2.5,setpts=PTS-STARTPTS[m];[0:v][m][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]",
        "-map", "[v]", "-map", "3:a", "-c:v", "libx264", "-crf", "10", "-c:a", "aac",
        path.to_str().expect("utf-8 path"),
    ]);
}

/// The settings of both runs: 2x frame rate through RIFE, lossless.
const SETTINGS: [&str; 6] = [
    "--preset",
    "fast",
    "--crf",
    "0",
    "--encoder-preset",
    "ultrafast",
];

/// Run `ainimotion slurm` on the cluster; (stdout, array job id, join job id).
#[track_caller]
fn submit(
    cluster: &Cluster,
    input: &Path,
    out: &Path,
    extra: &[&str],
) -> (String, Option<String>, String) {
    let res = slurm_cmd(cluster, input, out, extra)
        .output()
        .expect("ainimotion runs");
    let stdout = String::from_utf8_lossy(&res.stdout).into_owned();
    assert!(
        res.status.success(),
        "ainimotion slurm: {}\n{stdout}",
        String::from_utf8_lossy(&res.stderr)
    );
    let id_after = |prefix: &str| {
        stdout.lines().find_map(|l| {
            l.strip_prefix(prefix)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .map(str::to_string)
        })
    };
    let array = id_after("submitted chunk array: job ");
    let join = id_after("submitted join: job ").expect("a join job id");
    (stdout, array, join)
}

/// `ainimotion slurm INPUT --out OUT` with the test's settings: chunks
/// of at most 2.5 s, one CPU per task, two tasks at once.
fn slurm_cmd(cluster: &Cluster, input: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut cmd = cluster.command(env!("CARGO_BIN_EXE_ainimotion"));
    cmd.arg("slurm")
        .arg(input)
        .arg("--out")
        .arg(out)
        .args(SETTINGS)
        .args(["--chunk-seconds", "2.5", "--cpus-per-task", "1"])
        .args(["--max-parallel", "2", "-q"])
        .args(extra);
    cmd
}

/// The chunk indices whose task logs the array job `id` left.
fn task_logs(logs: &Path, id: &str) -> Vec<usize> {
    let suffix = format!(".job{id}.log");
    let mut tasks: Vec<usize> = std::fs::read_dir(logs)
        .expect("logs folder")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("chunk-")?
                .strip_suffix(&suffix)?
                .parse()
                .ok()
        })
        .collect();
    tasks.sort_unstable();
    tasks
}

/// Issue #14: plan, one array task per chunk, the join after them; the
/// same frames as a single run. Then chunk 1 lost and its task failing:
/// the join is cancelled; the same command again redoes chunk 1 only and
/// joins the same frames; with every chunk done, only the join runs.
#[test]
fn slurm_array_matches_a_single_run_and_redoes_only_a_failed_chunk() {
    if !common::models_ready() {
        return;
    }
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = common::tmpdir();
    // A space in the folder: every path in the scripts must be quoted.
    let work = dir.path().join("season 1");
    std::fs::create_dir(&work).unwrap();
    let input = work.join("ep01.mkv");
    make_scenes(&input);
    let single = work.join("single.mkv");
    let t = Instant::now();
    let mut args = vec![
        "enhance",
        input.to_str().unwrap(),
        "-o",
        single.to_str().unwrap(),
        "-q",
    ];
    args.extend(SETTINGS);
    let (code, _, err) = common::run(&args);
    assert_eq!(code, 0, "single run: {err}");
    let single_s = t.elapsed().as_secs_f64();
    let expected = frame_hashes(&single);

    // 1. Every chunk, then the join.
    let out = work.join("ep01 out.mkv");
    let t = Instant::now();
    let (stdout, array, join) = submit(&cluster, &input, &out, &[]);
    let array = array.expect("an array job");
    // While those jobs are queued or running, a second submission would
    // compute the same chunks again: refused, naming them.
    let again = slurm_cmd(&cluster, &input, &out, &[]).output().unwrap();
    let err = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("of the last submission for this output are still queued or running")
            && err.contains(&format!("scancel {array} {join}")),
        "{err}"
    );
    let states = cluster.wait_jobs(&[&array, &join], Duration::from_secs(300));
    let first_s = t.elapsed().as_secs_f64();
    let logs = work.join(".ep01 out.mkv.ainimotion/logs");
    assert!(
        states.iter().all(|(_, s)| s == "COMPLETED"),
        "{states:?}\n{stdout}\n{}",
        read_logs(&logs)
    );
    let chunks = task_logs(&logs, &array);
    eprintln!(
        "first run: {} tasks, one per chunk ({}), then the join: {first_s:.1} s; single run {single_s:.1} s",
        chunks.len(),
        stdout.lines().next().unwrap_or_default()
    );
    assert!(chunks.len() >= 3, "{chunks:?}\n{stdout}");
    assert_eq!(chunks, (0..chunks.len()).collect::<Vec<_>>());
    assert_eq!(
        frame_hashes(&out),
        expected,
        "joined output differs from the single run"
    );
    assert_eq!(common::streams(&out).len(), common::streams(&single).len());

    // 2. Chunk 1 lost, and its task fails (a folder where its file goes):
    //    the array holds that chunk only, and Slurm cancels the join.
    let work_dir = work.join(".ep01 out.mkv.ainimotion");
    lose_chunk(&work_dir, 1);
    let blocker = work_dir.join("chunk-0001.nut");
    std::fs::create_dir(&blocker).unwrap();
    let before = std::fs::metadata(&out).unwrap().modified().unwrap();
    let (stdout, array2, join2) = submit(&cluster, &input, &out, &["-y"]);
    let array2 = array2.expect("an array job for the lost chunk");
    assert!(stdout.contains("1 to do: --array=1%2"), "{stdout}");
    let states = cluster.wait_jobs(&[&array2, &join2], Duration::from_secs(300));
    assert_eq!(
        states,
        [
            (format!("{array2}_1"), "FAILED".to_string()),
            (join2.clone(), "CANCELLED".to_string())
        ],
        "{}",
        read_logs(&logs)
    );
    assert_eq!(task_logs(&logs, &array2), vec![1]);
    let log = std::fs::read_to_string(logs.join(format!("chunk-1.job{array2}.log"))).unwrap();
    eprintln!("second run: task 1 failed ({}), join cancelled", log.trim());
    assert_eq!(std::fs::metadata(&out).unwrap().modified().unwrap(), before);

    // 3. The same command again: chunk 1 only, then the join.
    std::fs::remove_dir(&blocker).unwrap();
    let t = Instant::now();
    let (stdout, array3, join3) = submit(&cluster, &input, &out, &["-y"]);
    let array3 = array3.expect("an array job for the failed chunk");
    assert!(stdout.contains("1 to do: --array=1%2"), "{stdout}");
    let states = cluster.wait_jobs(&[&array3, &join3], Duration::from_secs(300));
    assert!(
        states.iter().all(|(_, s)| s == "COMPLETED"),
        "{states:?}\n{}",
        read_logs(&logs)
    );
    assert_eq!(task_logs(&logs, &array3), vec![1]);
    eprintln!(
        "third run: chunk 1 only, then the join, in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(
        frame_hashes(&out),
        expected,
        "output after redoing chunk 1 differs"
    );

    // 4. Nothing missing: only the join.
    let (stdout, array4, join4) = submit(&cluster, &input, &out, &["-y"]);
    assert_eq!(array4, None, "{stdout}");
    assert!(stdout.contains("every chunk is done"), "{stdout}");
    let states = cluster.wait_jobs(&[&join4], Duration::from_secs(120));
    assert!(states.iter().all(|(_, s)| s == "COMPLETED"), "{states:?}");
    assert_eq!(frame_hashes(&out), expected);
    eprintln!(
        "{} frames identical to the single run after the first, third and fourth runs",
        expected.len()
    );

    // sbatch refusing a job: its message, in one line naming the script.
    let res = cluster
        .command(env!("CARGO_BIN_EXE_ainimotion"))
        .arg("slurm")
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .args(SETTINGS)
        .args([
            "--chunk-seconds",
            "2.5",
            "-y",
            "-q",
            "--partition",
            "nosuch",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(3), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ")
            && err.contains("join.sbatch: sbatch refused it: ")
            && err.contains("nosuch"),
        "{err}"
    );
}

/// Without sbatch: one line saying what to install, before any work.
#[test]
fn slurm_without_sbatch_says_what_to_install() {
    let dir = common::tmpdir();
    let input = dir.path().join("in.mkv");
    common::make_clip(&input, "64x48", "24", "1", &[]);
    let (code, stdout, err) = run_with_path(&[
        "slurm",
        input.to_str().unwrap(),
        "-o",
        dir.path().join("out.mkv").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: sbatch not found on PATH"), "{err}");
    assert!(err.contains("apt-get install slurm-client"), "{err}");
    assert!(stdout.is_empty());
    assert!(
        !dir.path().join(".out.mkv.ainimotion").exists(),
        "no work before the check"
    );
}

/// `--dry-run` needs no Slurm: it writes the plan and both scripts, prints
/// them with the commands to submit them, and submits nothing.
#[test]
fn slurm_dry_run_prints_both_scripts() {
    let dir = common::tmpdir();
    let input = dir.path().join("in put.mkv");
    make_scenes(&input);
    let out = dir.path().join("out.mkv");
    let (code, stdout, err) = run_with_path(&[
        "slurm",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--preset",
        "reencode",
        "--chunk-seconds",
        "2.5",
        "--dry-run",
        "--max-parallel",
        "2",
        "--gpus-per-task",
        "1",
        "--partition",
        "gpu",
        "--time",
        "1:00:00",
        "-q",
    ]);
    assert_eq!(code, 0, "{err}");
    let work = dir.path().join(".out.mkv.ainimotion");
    for line in [
        "3 chunks; 3 to do: --array=0-2%2)",
        "#SBATCH --array=0-2%2\n",
        "#SBATCH --gpus-per-task=1\n",
        "#SBATCH --partition=gpu\n",
        "#SBATCH --time=1:00:00\n",
        "#SBATCH --kill-on-invalid-dep=yes\n",
        "--chunk \"$SLURM_ARRAY_TASK_ID\"",
        "dry run: nothing submitted",
        "sbatch --dependency=afterok:$id",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    let quoted_input = format!("enhance '{}' --plan", input.display());
    assert!(stdout.contains(&quoted_input), "{stdout}");
    for file in ["plan.json", "chunks.sbatch", "join.sbatch"] {
        assert!(work.join(file).is_file(), "{file}");
    }
    assert!(!work.join("jobs.txt").exists(), "nothing submitted");
    assert!(!out.exists());
}

/// Run the binary with a PATH where no program is found (no sbatch).
fn run_with_path(args: &[&str]) -> (i32, String, String) {
    let res = common::bin()
        .args(args)
        .env("PATH", "/nonexistent")
        .output()
        .expect("binary runs");
    (
        res.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&res.stdout).into_owned(),
        String::from_utf8_lossy(&res.stderr).into_owned(),
    )
}

/// Every log of a work folder, for a failure message.
fn read_logs(logs: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(logs).into_iter().flatten().flatten() {
        let body = std::fs::read_to_string(e.path()).unwrap_or_default();
        text.push_str(&format!("--- {}\n{body}\n", e.path().display()));
    }
    text
}

/// Make chunk `k` of a plan's work folder missing (its result and journal
/// record gone), as after a task that failed or a file lost.
fn lose_chunk(work_dir: &Path, k: usize) {
    for ext in ["nut", "json"] {
        let path = work_dir.join(format!("chunk-{k:04}.{ext}"));
        std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
