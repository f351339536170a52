//! Folder mode: `enhance DIR --out OUTDIR` runs every video of a folder.
//!
//! Rules, chosen for a season on disk:
//! - A video is a file whose extension is a video container's (list in
//!   [`VIDEO_EXTENSIONS`]); subtitles, fonts, pictures and notes beside the
//!   episodes are passed over without a word. Files are taken in byte
//!   order of their paths (`ep01` before `ep02`), the subfolders too with
//!   `--recursive`, mirrored under OUTDIR.
//! - Each output keeps its input's name; the extension stays when we can
//!   write that container (`mkv`, `mp4`, `mov`), else it becomes `.mkv`,
//!   which holds every codec and stream type.
//! - An output that exists is complete (outputs are written under a
//!   temporary name and renamed at the end), so a rerun skips it and says
//!   so; `-y` does it again.
//! - A file that fails gets its one-line error and the next file starts;
//!   the run ends with one table and a non-zero exit if any file failed.
//! - OUTDIR is created if missing; it may not be the input folder, nor,
//!   with `--recursive`, inside it (its outputs would become inputs).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};
use crate::stage::report::Report;

/// Extensions (lower case) taken as video files.
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mkv", "mp4", "m4v", "mov", "avi", "webm", "ts", "m2ts", "mts", "flv", "wmv", "mpg", "mpeg",
    "vob", "ogv", "3gp", "rmvb", "asf", "divx",
];

/// Containers an output keeps as its extension.
const KEPT_EXTENSIONS: &[&str] = &["mkv", "mp4", "mov"];

/// One file of the folder and where its output goes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Item {
    pub input: PathBuf,
    pub output: PathBuf,
}

/// What became of one file.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase", tag = "status")]
pub enum Outcome {
    /// Enhanced now.
    Done { frames_out: u64, wall_s: f64 },
    /// Its output was already there.
    Skipped,
    /// Its one-line error and exit code.
    Failed { error: String, exit_code: i32 },
}

/// The files `enhance DIR --out OUTDIR` works on, in order.
pub fn plan(dir: &Path, out_dir: &Path, recursive: bool) -> Result<Vec<Item>> {
    let (out_abs, dir_abs) = (resolved(out_dir), resolved(dir));
    if out_abs.starts_with(&dir_abs) && (recursive || out_abs == dir_abs) {
        return Err(Error::output(
            out_dir,
            "is inside the input folder, so outputs would be read as inputs; choose another --out",
        ));
    }
    let mut inputs = Vec::new();
    collect(dir, recursive, &mut inputs)?;
    inputs.sort();
    Ok(inputs
        .into_iter()
        .map(|input| {
            let rel = input.strip_prefix(dir).unwrap_or(&input);
            let output = out_dir.join(output_name(rel));
            Item { input, output }
        })
        .collect())
}

/// A path with its existing part canonicalised (links and `..` resolved)
/// and the part that does not exist yet appended as given.
fn resolved(p: &Path) -> PathBuf {
    let mut rest = Vec::new();
    let mut head = p.to_path_buf();
    loop {
        if let Ok(c) = head.canonicalize() {
            return rest
                .iter()
                .rev()
                .fold(c, |acc: PathBuf, part| acc.join(part));
        }
        match (head.file_name().map(|n| n.to_os_string()), head.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                head = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
            }
            _ => return p.to_path_buf(),
        }
    }
}

fn collect(dir: &Path, recursive: bool, into: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::input(dir, format!("cannot list the folder: {e}")))?;
    for entry in entries {
        let path = entry
            .map_err(|e| Error::input(dir, format!("cannot list the folder: {e}")))?
            .path();
        if path.is_dir() {
            if recursive {
                collect(&path, recursive, into)?;
            }
        } else if is_video(&path) {
            into.push(path);
        }
    }
    Ok(())
}

/// Whether a path's extension is a video container's.
pub fn is_video(path: &Path) -> bool {
    extension(path).is_some_and(|e| VIDEO_EXTENSIONS.contains(&e.as_str()))
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// The output's path relative to OUTDIR: the input's, with `.mkv` where
/// we cannot write the input's container.
fn output_name(rel: &Path) -> PathBuf {
    match extension(rel) {
        Some(e) if KEPT_EXTENSIONS.contains(&e.as_str()) => rel.to_path_buf(),
        _ => rel.with_extension("mkv"),
    }
}

/// Every item in turn through `enhance` (the rules above): an existing
/// output is skipped unless `overwrite`; a failure gets its one-line error
/// (stderr) and the next item starts; an interruption ends the run.
pub fn run(
    items: Vec<Item>,
    overwrite: bool,
    quiet: bool,
    abort: &AtomicBool,
    mut enhance: impl FnMut(&Item) -> Result<Report>,
) -> Result<Vec<(Item, Outcome)>> {
    let total = items.len();
    let mut rows = Vec::with_capacity(total);
    for (k, item) in items.into_iter().enumerate() {
        if abort.load(Ordering::SeqCst) {
            return Err(Error::Interrupted);
        }
        if item.output.exists() && !overwrite {
            rows.push((item, Outcome::Skipped));
            continue;
        }
        if !quiet {
            eprintln!("[{}/{total}] {}", k + 1, item.input.display());
        }
        let outcome = match make_parent(&item.output).and_then(|()| enhance(&item)) {
            Ok(report) => Outcome::Done {
                frames_out: report.frames_out,
                wall_s: report.wall_s,
            },
            Err(e) if e.is_interrupted() => return Err(e),
            Err(e) => {
                eprintln!("error: {e}");
                Outcome::Failed {
                    error: e.to_string(),
                    exit_code: e.exit_code(),
                }
            }
        };
        rows.push((item, outcome));
    }
    Ok(rows)
}

/// The output's folder, created if missing.
fn make_parent(output: &Path) -> Result<()> {
    match output.parent() {
        Some(dir) => std::fs::create_dir_all(dir)
            .map_err(|e| Error::output(dir, format!("cannot create the folder: {e}"))),
        None => Ok(()),
    }
}

/// How the run failed, if any file did: the count and the first failure's
/// exit code.
pub fn failure(rows: &[(Item, Outcome)]) -> Option<FolderFailed> {
    let mut failed = rows.iter().filter_map(|(_, o)| match o {
        Outcome::Failed { exit_code, .. } => Some(*exit_code),
        _ => None,
    });
    let exit_code = failed.next()?;
    Some(FolderFailed {
        failed: 1 + failed.count(),
        total: rows.len(),
        exit_code,
    })
}

/// `--report` of a folder run: each file's input, output and outcome.
pub fn report_json(rows: &[(Item, Outcome)]) -> serde_json::Value {
    rows.iter()
        .map(|(item, outcome)| serde_json::json!({"input": item.input, "output": item.output, "outcome": outcome}))
        .collect()
}

/// The folder run ended with `failed` of `total` files failed; the first
/// failure's exit code is the run's. Its message is the table's last line,
/// so the binary prints nothing more for it.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} file(s) failed")]
pub struct FolderFailed {
    pub failed: usize,
    pub total: usize,
    pub exit_code: i32,
}

/// The end-of-run table: one row a file, then the totals.
pub fn render_table(rows: &[(Item, Outcome)]) -> String {
    use std::fmt::Write;
    let name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into())
    };
    let width = rows
        .iter()
        .map(|(i, _)| name(&i.input).len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut s = format!("{:<width$}  {:<7}  detail\n", "file", "status");
    let (mut done, mut skipped, mut failed) = (0, 0, 0);
    for (item, outcome) in rows {
        let (status, detail) = match outcome {
            Outcome::Done { frames_out, wall_s } => {
                done += 1;
                (
                    "done",
                    format!(
                        "{frames_out} frames in {wall_s:.1} s → {}",
                        item.output.display()
                    ),
                )
            }
            Outcome::Skipped => {
                skipped += 1;
                (
                    "skipped",
                    format!("{} already exists", item.output.display()),
                )
            }
            Outcome::Failed { error, .. } => {
                failed += 1;
                ("FAILED", error.clone())
            }
        };
        let _ = writeln!(s, "{:<width$}  {status:<7}  {detail}", name(&item.input));
    }
    let _ = writeln!(
        s,
        "{} file(s): {done} done, {skipped} already done, {failed} failed",
        rows.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("test folder");
        }
        std::fs::write(p, b"x").expect("test file");
    }

    #[test]
    fn plan_takes_videos_in_order_and_names_outputs() {
        let root = std::env::temp_dir().join(format!("ainimotion-batch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("season");
        for f in [
            "ep02.mkv",
            "ep01.MP4",
            "ep03.avi",
            "ep01.ass",
            "notes.txt",
            "sub/ep04.mkv",
        ] {
            touch(&dir.join(f));
        }
        let out = root.join("out");
        let flat = plan(&dir, &out, false).expect("plan");
        let names: Vec<_> = flat
            .iter()
            .map(|i| {
                i.output
                    .strip_prefix(&out)
                    .expect("under out")
                    .to_path_buf()
            })
            .collect();
        assert_eq!(
            names,
            ["ep01.MP4", "ep02.mkv", "ep03.mkv"].map(PathBuf::from),
            "subtitles and notes are passed over; .avi is written as .mkv"
        );
        let deep = plan(&dir, &out, true).expect("plan");
        assert_eq!(deep.len(), 4);
        assert_eq!(deep[3].output, out.join("sub/ep04.mkv"));
        // Outputs inside the input folder would be read back as inputs,
        // whether the folder exists yet or not.
        assert!(plan(&dir, &dir.join("new/deeper"), true).is_err());
        std::fs::create_dir_all(dir.join("enhanced")).expect("folder");
        assert!(plan(&dir, &dir.join("enhanced"), true).is_err());
        assert!(plan(&dir, &dir, false).is_err());
        assert!(plan(&dir, &dir.join("enhanced"), false).is_ok());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn table_counts_each_outcome() {
        let item = |n: &str| Item {
            input: PathBuf::from(n),
            output: PathBuf::from(format!("out/{n}")),
        };
        let t = render_table(&[
            (
                item("a.mkv"),
                Outcome::Done {
                    frames_out: 10,
                    wall_s: 1.0,
                },
            ),
            (item("b.mkv"), Outcome::Skipped),
            (
                item("c.mkv"),
                Outcome::Failed {
                    error: "c.mkv: bad".into(),
                    exit_code: 2,
                },
            ),
        ]);
        assert!(
            t.contains("3 file(s): 1 done, 1 already done, 1 failed"),
            "{t}"
        );
        assert!(t.contains("FAILED   c.mkv: bad"), "{t}");
    }
}
