//! `ainimotion slurm`: a plan's chunks as a Slurm job array, then the join.
//!
//! Slurm does the scheduling; we only write two batch scripts and hand them
//! to `sbatch`. The array has one task per chunk still to do, each running
//! `ainimotion enhance INPUT --plan PLAN --chunk $SLURM_ARRAY_TASK_ID`; the
//! join job (`ainimotion join PLAN --out OUT`) waits for every task with
//! `--dependency=afterok` and is cancelled by Slurm if one fails
//! (`--kill-on-invalid-dep=yes`), so no job waits forever. Everything lives
//! in the work folder beside the output (`.OUT.ainimotion/`): the plan, its
//! journal and chunk files, the two scripts, the job logs (`logs/`) and the
//! ids of the last submission. Running the same command again reuses the
//! plan and submits only the chunks its journal lacks; with every chunk done
//! it submits only the join.
//!
//! The scripts call the binary by the absolute path it was started from, so
//! the nodes must see the same path (a shared file system, as the input,
//! output and work folder must be too).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;

use crate::chunk::{Plan, PlanRequest};
use crate::clip::ClipRange;
use crate::config::Config;
use crate::model::ModelOptions;
use crate::progress::Progress;
use crate::{Error, Result};

/// What the jobs ask Slurm for (`#SBATCH` lines).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobOptions {
    /// `--partition` of both jobs.
    pub partition: Option<String>,
    /// `--gpus-per-task` of each chunk task.
    pub gpus_per_task: Option<u32>,
    /// `--cpus-per-task` of each chunk task.
    pub cpus_per_task: Option<u32>,
    /// At most this many chunk tasks at once (`--array=…%N`).
    pub max_parallel: Option<u32>,
    /// `--time` of both jobs, in Slurm's format (`MM`, `HH:MM:SS`, `D-HH`, …).
    pub time: Option<String>,
}

/// Everything `ainimotion slurm` needs.
#[derive(Clone, Debug)]
pub struct SlurmOptions {
    pub input: PathBuf,
    pub output: PathBuf,
    /// Let the join replace an existing output.
    pub overwrite: bool,
    pub clip: Option<ClipRange>,
    pub chunk_seconds: f64,
    pub config: Config,
    pub models: ModelOptions,
    /// Flags every `enhance --plan --chunk` gets (device, threads, model paths).
    pub chunk_flags: Vec<String>,
    pub jobs: JobOptions,
    /// Write the plan and the scripts, submit nothing.
    pub dry_run: bool,
    /// The ainimotion binary the jobs run.
    pub exe: PathBuf,
}

/// What [`submit`] did (or, with `--dry-run`, would do).
#[derive(Clone, Debug)]
pub struct Submission {
    pub work_dir: PathBuf,
    pub plan: PathBuf,
    /// True when the plan was already there and matched.
    pub plan_reused: bool,
    pub total_chunks: usize,
    /// The chunks the array runs (the journal lacks them).
    pub pending: Vec<usize>,
    /// The `--array` value, when there is an array job.
    pub array_spec: Option<String>,
    pub array_script: Option<PathBuf>,
    pub join_script: PathBuf,
    /// The scripts' text, for `--dry-run`.
    pub array_text: Option<String>,
    pub join_text: String,
    /// Job ids from `sbatch --parsable`; `None` with `--dry-run`.
    pub array_job: Option<String>,
    pub join_job: Option<String>,
    pub logs: PathBuf,
    pub output: PathBuf,
    pub dry_run: bool,
}

/// Make or reuse the plan, write the scripts and submit them.
pub fn submit(
    opts: &SlurmOptions,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<Submission> {
    // Everything that can fail in the first second, before the plan scan.
    let sbatch = if opts.dry_run {
        None
    } else {
        Some(find_sbatch()?)
    };
    check_job_options(&opts.jobs)?;
    let (input, output) = checked_paths(opts)?;
    let exe = absolute(&opts.exe)?;
    let _lock = lock_output(&output, progress)?;
    // The folder a plain `enhance` of the same output resumes from.
    let work_dir = crate::chunk::resume::work_dir_for(&output);
    let (plan, plan_reused) = plan_in(&work_dir, opts, &input, progress, abort)?;
    let mut submission = write_scripts(opts, &plan, plan_reused, &exe, &input, output, work_dir)?;
    if let Some(sbatch) = sbatch {
        send(&sbatch, &mut submission)?;
    }
    Ok(submission)
}

/// `sbatch` on the PATH, or what to do without it.
fn find_sbatch() -> Result<PathBuf> {
    find_program("sbatch").ok_or_else(|| {
        Error::Config(
            "sbatch not found on PATH: run this on a Slurm login node, or install Slurm's \
             client commands (Debian: apt-get install slurm-client); --dry-run writes the \
             scripts without it"
                .into(),
        )
    })
}

/// The input (one video file) and the output (new, or `-y`), absolute.
fn checked_paths(opts: &SlurmOptions) -> Result<(PathBuf, PathBuf)> {
    let input = absolute(&opts.input)?;
    if !input.is_file() {
        let reason = if input.exists() {
            "is not a file (slurm takes one video)"
        } else {
            "no such file"
        };
        return Err(Error::input(&opts.input, reason));
    }
    let output = absolute(&opts.output)?;
    if output.exists() && !opts.overwrite {
        return Err(Error::output(
            &opts.output,
            "already exists (use -y to overwrite)",
        ));
    }
    Ok((input, output))
}

/// Not while an `enhance` (or another `slurm`) plans or writes this
/// output's work folder: the lock is held until the jobs are submitted
/// (the array tasks run in parallel by design and take none). Its file
/// goes beside the output, so that folder is made first, as making the
/// work folder always did.
fn lock_output(
    output: &Path,
    progress: &mut dyn Progress,
) -> Result<crate::output_lock::OutputLock> {
    if let Some(dir) = output.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::output(dir, format!("cannot create the folder: {e}")))?;
    }
    let lock = crate::output_lock::OutputLock::acquire(output)?;
    if let Some(w) = lock.warning() {
        progress.warn(w);
    }
    Ok(lock)
}

/// The work folder's plan: the one there if it matches (see
/// [`reuse_plan`]), else a new one, written. True when reused.
fn plan_in(
    work_dir: &Path,
    opts: &SlurmOptions,
    input: &Path,
    progress: &mut dyn Progress,
    abort: &AtomicBool,
) -> Result<(Plan, bool)> {
    let plan_path = work_dir.join("plan.json");
    let request = PlanRequest {
        input: input.to_path_buf(),
        clip: opts.clip,
        chunk_seconds: opts.chunk_seconds,
        config: opts.config.clone(),
        models: opts.models.clone(),
        work_dir: work_dir.to_path_buf(),
    };
    if plan_path.exists() {
        return Ok((reuse_plan(&plan_path, &request)?, true));
    }
    let plan = crate::chunk::make_plan(&request, progress, abort)?;
    std::fs::create_dir_all(work_dir)
        .map_err(|e| Error::output(work_dir, format!("cannot create the folder: {e}")))?;
    plan.write(&plan_path)?;
    Ok((plan, false))
}

/// The logs folder and the two scripts (the array's only when chunks are
/// left), written into the work folder; nothing submitted yet.
fn write_scripts(
    opts: &SlurmOptions,
    plan: &Plan,
    plan_reused: bool,
    exe: &Path,
    input: &Path,
    output: PathBuf,
    work_dir: PathBuf,
) -> Result<Submission> {
    let plan_path = work_dir.join("plan.json");
    let logs = work_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .map_err(|e| Error::output(&logs, format!("cannot create the folder: {e}")))?;
    let pending = plan.pending();
    let job = Job {
        exe,
        input,
        plan: &plan_path,
        output: &output,
        logs: &logs,
        name: job_name(&output),
        overwrite: opts.overwrite,
        chunk_flags: &opts.chunk_flags,
        opts: &opts.jobs,
    };
    let array_spec = (!pending.is_empty()).then(|| array_spec(&pending, opts.jobs.max_parallel));
    let array_text = match &array_spec {
        Some(spec) => Some(array_script(&job, spec)?),
        None => None,
    };
    let join_text = join_script(&job)?;
    let array_script_path = work_dir.join("chunks.sbatch");
    let join_script_path = work_dir.join("join.sbatch");
    if let Some(text) = &array_text {
        write_file(&array_script_path, text)?;
    }
    write_file(&join_script_path, &join_text)?;
    Ok(Submission {
        work_dir,
        plan: plan_path,
        plan_reused,
        total_chunks: plan.chunks.len(),
        pending,
        array_spec,
        array_script: array_text.as_ref().map(|_| array_script_path),
        join_script: join_script_path,
        array_text,
        join_text,
        array_job: None,
        join_job: None,
        logs,
        output,
        dry_run: opts.dry_run,
    })
}

/// Submit the array (when it has chunks) and the join after it, recording
/// the job ids in the work folder's `jobs.txt` as they come.
fn send(sbatch: &Path, submission: &mut Submission) -> Result<()> {
    let jobs_file = submission.work_dir.join("jobs.txt");
    refuse_if_still_queued(&jobs_file)?;
    if let Some(script) = &submission.array_script {
        let id = run_sbatch(sbatch, &[], script)?;
        // Recorded at once: a rerun must see it even if the join is refused.
        write_file(&jobs_file, &format!("{id}\n"))?;
        submission.array_job = Some(id);
    }
    let join_script_path = &submission.join_script;
    let dependency = submission
        .array_job
        .as_ref()
        .map(|id| format!("--dependency=afterok:{id}"));
    let join_id = run_sbatch(sbatch, dependency.as_slice(), join_script_path).map_err(|e| {
        match (&submission.array_job, e) {
            (Some(id), Error::Refused { path, reason }) => Error::Refused {
                path,
                reason: format!(
                    "{reason} (the chunk array, job {id}, is queued: `scancel {id}`, or submit the join by hand with `sbatch --dependency=afterok:{id} {}`)",
                    sh_quote(&join_script_path.to_string_lossy())
                ),
            },
            (_, e) => e,
        }
    })?;
    submission.join_job = Some(join_id);
    let ids: Vec<&str> = [&submission.array_job, &submission.join_job]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    write_file(&jobs_file, &format!("{}\n", ids.join(",")))?;
    Ok(())
}

/// The plan already in the work folder, if it describes the same job as
/// `request` (the same input content, clip, settings, chunk length and
/// model files, as a resumed `enhance` checks); else a one-line error. Its chunks' journal
/// records say what is done, so it is never made again.
fn reuse_plan(path: &Path, request: &PlanRequest) -> Result<Plan> {
    let plan = Plan::read(path)?;
    if !plan.describes(request)? {
        return Err(Error::Config(format!(
            "{}: holds a plan for another input or other settings; remove that folder to start afresh, or choose another --out",
            request.work_dir.display()
        )));
    }
    Ok(plan)
}

/// The values that go into the scripts, quoted there.
struct Job<'a> {
    exe: &'a Path,
    input: &'a Path,
    plan: &'a Path,
    output: &'a Path,
    logs: &'a Path,
    name: String,
    overwrite: bool,
    chunk_flags: &'a [String],
    opts: &'a JobOptions,
}

/// `--array` value: the chunk indices as ranges (`0-3,5,7-9`), then
/// `%N` to run at most N at once.
pub fn array_spec(indices: &[usize], max_parallel: Option<u32>) -> String {
    let mut sorted = indices.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut spec = String::new();
    let mut k = 0;
    while k < sorted.len() {
        let first = sorted[k];
        let mut last = first;
        while k + 1 < sorted.len() && sorted[k + 1] == last + 1 {
            k += 1;
            last = sorted[k];
        }
        if !spec.is_empty() {
            spec.push(',');
        }
        if last == first {
            let _ = write!(spec, "{first}");
        } else {
            let _ = write!(spec, "{first}-{last}");
        }
        k += 1;
    }
    if let Some(n) = max_parallel {
        let _ = write!(spec, "%{n}");
    }
    spec
}

/// The job array: one task per pending chunk.
fn array_script(job: &Job, spec: &str) -> Result<String> {
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(
        s,
        "# ainimotion chunks of {} (plan {}).",
        one_line(job.input),
        one_line(job.plan)
    );
    s.push_str(
        "# Written by `ainimotion slurm`; run it again to submit the chunks still missing.\n",
    );
    let _ = writeln!(s, "#SBATCH --job-name={}", job.name);
    let _ = writeln!(s, "#SBATCH --array={spec}");
    let log = job.logs.join("chunk-%a.job%A.log");
    let _ = writeln!(s, "#SBATCH --output={}", sbatch_path(&log)?);
    s.push_str("#SBATCH --ntasks=1\n");
    if let Some(n) = job.opts.cpus_per_task {
        let _ = writeln!(s, "#SBATCH --cpus-per-task={n}");
    }
    if let Some(n) = job.opts.gpus_per_task {
        let _ = writeln!(s, "#SBATCH --gpus-per-task={n}");
    }
    common_lines(&mut s, job);
    s.push_str("set -eu\n");
    let mut cmd = vec![
        sh_quote(&path_str(job.exe)?),
        "enhance".into(),
        sh_quote(&path_str(job.input)?),
        "--plan".into(),
        sh_quote(&path_str(job.plan)?),
        "--chunk".into(),
        "\"$SLURM_ARRAY_TASK_ID\"".into(),
    ];
    cmd.extend(job.chunk_flags.iter().map(|f| sh_quote(f)));
    let _ = writeln!(s, "exec {}", cmd.join(" "));
    Ok(s)
}

/// The join: submitted with `--dependency=afterok:ARRAY` when there is an array.
fn join_script(job: &Job) -> Result<String> {
    let mut s = String::from("#!/bin/bash\n");
    let _ = writeln!(
        s,
        "# ainimotion join of the chunks of {} into {}.",
        one_line(job.input),
        one_line(job.output)
    );
    s.push_str("# Submitted after the chunk array with --dependency=afterok:ARRAY_JOB_ID.\n");
    let _ = writeln!(s, "#SBATCH --job-name={}-join", job.name);
    let log = job.logs.join("join.job%j.log");
    let _ = writeln!(s, "#SBATCH --output={}", sbatch_path(&log)?);
    s.push_str("#SBATCH --ntasks=1\n");
    s.push_str("#SBATCH --kill-on-invalid-dep=yes\n");
    common_lines(&mut s, job);
    s.push_str("set -eu\n");
    let mut cmd = vec![
        sh_quote(&path_str(job.exe)?),
        "join".into(),
        sh_quote(&path_str(job.plan)?),
        "--out".into(),
        sh_quote(&path_str(job.output)?),
    ];
    if job.overwrite {
        cmd.push("-y".into());
    }
    let _ = writeln!(s, "exec {}", cmd.join(" "));
    Ok(s)
}

fn common_lines(s: &mut String, job: &Job) {
    if let Some(p) = &job.opts.partition {
        let _ = writeln!(s, "#SBATCH --partition={p}");
    }
    if let Some(t) = &job.opts.time {
        let _ = writeln!(s, "#SBATCH --time={t}");
    }
}

/// `ainimotion-STEM` with only characters Slurm and shells take as they are.
fn job_name(output: &Path) -> String {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    if clean.is_empty() {
        "ainimotion".into()
    } else {
        format!("ainimotion-{clean}")
    }
}

/// Partition and time go into `#SBATCH` lines as they are: refuse anything
/// that could break the line or the script.
fn check_job_options(jobs: &JobOptions) -> Result<()> {
    if let Some(p) = &jobs.partition {
        if p.is_empty()
            || !p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.,".contains(c))
        {
            return Err(Error::Config(format!(
                "invalid --partition '{p}' (expected a partition name: letters, digits, '_', '-', '.', or a comma-separated list)"
            )));
        }
    }
    if let Some(t) = &jobs.time {
        if t.is_empty()
            || !t
                .chars()
                .all(|c| c.is_ascii_digit() || c == ':' || c == '-')
        {
            return Err(Error::Config(format!(
                "invalid --time '{t}' (expected Slurm's format: MM, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS)"
            )));
        }
    }
    for (flag, v) in [
        ("--gpus-per-task", jobs.gpus_per_task),
        ("--cpus-per-task", jobs.cpus_per_task),
        ("--max-parallel", jobs.max_parallel),
    ] {
        if v == Some(0) {
            return Err(Error::Config(format!("invalid {flag} 0 (expected >= 1)")));
        }
    }
    Ok(())
}

/// A word for bash: as it is when it holds only safe characters, else in
/// single quotes (a `'` inside becomes `'\''`).
pub fn sh_quote(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=@,+%".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A file-name pattern for an `#SBATCH` line: in double quotes (sbatch
/// strips them), with a literal `%` doubled. A path holding `"`, `\` or a
/// line break cannot be written there.
fn sbatch_path(path: &Path) -> Result<String> {
    let text = path_str(path)?;
    // Our own patterns (%a, %A, %j) are in the file name, not the folder.
    let (dir, name) = match text.rfind('/') {
        Some(i) => text.split_at(i + 1),
        None => ("", text.as_str()),
    };
    if dir.contains(['"', '\\', '\n', '\r']) {
        return Err(Error::output(
            path,
            "the work folder's path holds a '\"', '\\' or a line break, which an #SBATCH line cannot carry; choose another --out",
        ));
    }
    Ok(format!("\"{}{}\"", dir.replace('%', "%%"), name))
}

fn path_str(path: &Path) -> Result<String> {
    path.to_str().map(str::to_string).ok_or_else(|| {
        Error::input(
            path,
            "path is not valid UTF-8, which the batch scripts need",
        )
    })
}

/// A path for a comment line.
fn one_line(path: &Path) -> String {
    path.to_string_lossy().replace(['\n', '\r'], " ")
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path)
        .map_err(|e| Error::input(path, format!("cannot resolve the path: {e}")))
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::output(path, format!("cannot write: {e}")))
}

/// The first executable `name` on PATH.
fn find_program(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// `sbatch --parsable [EXTRA] SCRIPT`: the job id, or sbatch's error in one line.
fn run_sbatch(sbatch: &Path, extra: &[String], script: &Path) -> Result<String> {
    let out = Command::new(sbatch)
        .arg("--parsable")
        .args(extra)
        .arg(script)
        .output()
        .map_err(|e| Error::Config(format!("{}: cannot run: {e}", sbatch.display())))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::Refused {
            path: script.to_path_buf(),
            reason: format!(
                "sbatch refused it: {}",
                squash(&String::from_utf8_lossy(&out.stderr))
            ),
        });
    }
    parse_job_id(&stdout).ok_or_else(|| Error::Refused {
        path: script.to_path_buf(),
        reason: format!("sbatch printed no job id (stdout: '{}')", squash(&stdout)),
    })
}

/// `--parsable` prints `ID` or `ID;CLUSTER`.
fn parse_job_id(stdout: &str) -> Option<String> {
    let id = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let id = id.split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_string())
}

/// Several lines of a tool's message as one.
fn squash(text: &str) -> String {
    let joined: Vec<&str> = text
        .lines()
        .map(|l| l.trim().trim_start_matches("sbatch: "))
        .filter(|l| !l.is_empty())
        .collect();
    if joined.is_empty() {
        "(no message)".into()
    } else {
        joined.join("; ")
    }
}

/// The jobs of the last submission still queued or running would redo the
/// same chunks: refuse until they end or are cancelled.
fn refuse_if_still_queued(jobs_file: &Path) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(jobs_file) else {
        return Ok(());
    };
    let ids = text.trim();
    if ids.is_empty() || !ids.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return Ok(());
    }
    // squeue forgets finished jobs; an unknown id is a finished one.
    let Ok(out) = Command::new("squeue")
        .args(["--noheader", "--format=%i %T", "--jobs", ids])
        .output()
    else {
        return Ok(());
    };
    let active: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            ["PENDING", "RUNNING", "CONFIGURING", "SUSPENDED", "REQUEUED"]
                .iter()
                .any(|s| l.contains(s))
        })
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect();
    if active.is_empty() {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "jobs {} of the last submission for this output are still queued or running; wait for them or `scancel {}`, then run this again",
            active.join(", "),
            ids.replace(',', " ")
        )))
    }
}

/// What to tell the user: job ids, how to watch them, where the logs go
/// (with `--dry-run`: the scripts and how to submit them).
pub fn render(s: &Submission) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "plan: {} ({} chunks{}; {} to do{})",
        s.plan.display(),
        s.total_chunks,
        if s.plan_reused { ", reused" } else { "" },
        s.pending.len(),
        match &s.array_spec {
            Some(spec) => format!(": --array={spec}"),
            None => String::new(),
        }
    );
    if s.dry_run {
        if let (Some(path), Some(text)) = (&s.array_script, &s.array_text) {
            let _ = writeln!(t, "\n# ---- {}\n{text}", path.display());
        }
        let _ = writeln!(t, "# ---- {}\n{}", s.join_script.display(), s.join_text);
        let _ = writeln!(t, "dry run: nothing submitted. To submit by hand:");
        let join = sh_quote(&s.join_script.to_string_lossy());
        match &s.array_script {
            Some(path) => {
                let _ = writeln!(
                    t,
                    "  id=$(sbatch --parsable {}) && sbatch --dependency=afterok:$id {join}",
                    sh_quote(&path.to_string_lossy())
                );
            }
            None => {
                let _ = writeln!(t, "  sbatch {join}");
            }
        }
        return t;
    }
    match (&s.array_job, &s.pending.is_empty()) {
        (Some(id), _) => {
            let _ = writeln!(
                t,
                "submitted chunk array: job {id} ({} tasks)",
                s.pending.len()
            );
        }
        (None, true) => {
            let _ = writeln!(t, "every chunk is done: submitting only the join");
        }
        (None, false) => {}
    }
    if let Some(id) = &s.join_job {
        let after = s
            .array_job
            .as_ref()
            .map(|a| format!(", runs when every task of {a} succeeds"))
            .unwrap_or_default();
        let _ = writeln!(t, "submitted join: job {id}{after}");
    }
    let ids: Vec<&str> = [&s.array_job, &s.join_job]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let _ = writeln!(t, "watch: squeue --jobs {}", ids.join(","));
    let _ = writeln!(t, "logs: {}", s.logs.display());
    let _ = writeln!(t, "output: {}", s.output.display());
    let _ = writeln!(
        t,
        "if a task fails, Slurm cancels the join; run the same command again to submit only the missing chunks"
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job<'a>(opts: &'a JobOptions, flags: &'a [String]) -> Job<'a> {
        Job {
            exe: Path::new("/opt/ainimotion/bin/ainimotion"),
            input: Path::new("/data/My Show/ep 01 'final'.mkv"),
            plan: Path::new("/out/.ep01.mkv.ainimotion/plan.json"),
            output: Path::new("/out/ep01.mkv"),
            logs: Path::new("/out/.ep01.mkv.ainimotion/logs"),
            name: "ainimotion-ep01".into(),
            overwrite: false,
            chunk_flags: flags,
            opts,
        }
    }

    #[test]
    fn array_spec_compresses_runs_and_limits_parallel_tasks() {
        assert_eq!(array_spec(&[0, 1, 2, 3], None), "0-3");
        assert_eq!(array_spec(&[0, 1, 2, 3], Some(2)), "0-3%2");
        assert_eq!(array_spec(&[5, 0, 2, 1, 7, 8, 9], None), "0-2,5,7-9");
        assert_eq!(array_spec(&[4], Some(1)), "4%1");
        assert_eq!(array_spec(&[3, 3, 4], None), "3-4");
        assert_eq!(array_spec(&[], None), "");
    }

    #[test]
    fn sh_quote_keeps_every_path_one_word() {
        assert_eq!(sh_quote("/a/b-c_d.mkv"), "/a/b-c_d.mkv");
        assert_eq!(sh_quote("/a b/c"), "'/a b/c'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert_eq!(sh_quote("$HOME `x` \"y\""), "'$HOME `x` \"y\"'");
        assert_eq!(sh_quote(""), "''");
        // What bash makes of it: the same words back.
        let words = ["/a b/c", "it's", "$HOME; rm -rf /", "x\ny", "%a\\"];
        let line: Vec<String> = words.iter().map(|w| sh_quote(w)).collect();
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("printf '%s\\0' {}", line.join(" ")))
            .output()
            .expect("bash runs");
        let back: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_terminator('\0')
            .map(str::to_string)
            .collect();
        assert_eq!(back, words);
    }

    #[test]
    fn array_script_runs_one_chunk_per_task_with_quoted_paths() {
        let opts = JobOptions {
            partition: Some("gpu".into()),
            gpus_per_task: Some(1),
            cpus_per_task: Some(8),
            max_parallel: Some(4),
            time: Some("2:00:00".into()),
        };
        let flags = vec!["--device".to_string(), "cuda".to_string()];
        let s = array_script(&job(&opts, &flags), "0-2,5%4").unwrap();
        assert!(s.starts_with("#!/bin/bash\n"), "{s}");
        for line in [
            "#SBATCH --job-name=ainimotion-ep01\n",
            "#SBATCH --array=0-2,5%4\n",
            "#SBATCH --output=\"/out/.ep01.mkv.ainimotion/logs/chunk-%a.job%A.log\"\n",
            "#SBATCH --gpus-per-task=1\n",
            "#SBATCH --cpus-per-task=8\n",
            "#SBATCH --partition=gpu\n",
            "#SBATCH --time=2:00:00\n",
            "exec /opt/ainimotion/bin/ainimotion enhance '/data/My Show/ep 01 '\\''final'\\''.mkv' \
             --plan /out/.ep01.mkv.ainimotion/plan.json --chunk \"$SLURM_ARRAY_TASK_ID\" --device cuda\n",
        ] {
            assert!(s.contains(line), "missing {line:?} in\n{s}");
        }
        // sbatch reads #SBATCH lines only up to the first command.
        let first_command = s.find("\nset -eu").unwrap();
        assert!(s.rfind("#SBATCH").unwrap() < first_command);
    }

    #[test]
    fn array_script_leaves_out_what_was_not_asked() {
        let opts = JobOptions::default();
        let s = array_script(&job(&opts, &[]), "0-2").unwrap();
        for absent in [
            "--partition",
            "--gpus-per-task",
            "--cpus-per-task",
            "--time",
        ] {
            assert!(!s.contains(absent), "{absent} in\n{s}");
        }
    }

    #[test]
    fn join_script_joins_the_plan_and_is_cancelled_when_a_chunk_fails() {
        let opts = JobOptions {
            partition: Some("cpu".into()),
            ..JobOptions::default()
        };
        let mut j = job(&opts, &[]);
        let s = join_script(&j).unwrap();
        assert!(
            s.contains("#SBATCH --job-name=ainimotion-ep01-join\n"),
            "{s}"
        );
        assert!(s.contains("#SBATCH --kill-on-invalid-dep=yes\n"), "{s}");
        assert!(s.contains("#SBATCH --partition=cpu\n"), "{s}");
        assert!(s.contains(
            "exec /opt/ainimotion/bin/ainimotion join /out/.ep01.mkv.ainimotion/plan.json --out /out/ep01.mkv\n"
        ), "{s}");
        assert!(
            !s.contains("#SBATCH --dependency"),
            "given on the command line: {s}"
        );
        j.overwrite = true;
        assert!(join_script(&j)
            .unwrap()
            .contains("--out /out/ep01.mkv -y\n"));
    }

    #[test]
    fn sbatch_paths_are_quoted_and_percent_escaped() {
        let p = Path::new("/data/100% my show/.x.ainimotion/logs/chunk-%a.job%A.log");
        assert_eq!(
            sbatch_path(p).unwrap(),
            "\"/data/100%% my show/.x.ainimotion/logs/chunk-%a.job%A.log\""
        );
        let bad = Path::new("/data/a\"b/logs/x.log");
        let err = sbatch_path(bad).unwrap_err().to_string();
        assert!(err.contains("choose another --out"), "{err}");
    }

    #[test]
    fn job_options_that_would_break_a_script_line_are_refused() {
        let bad = |o: JobOptions| check_job_options(&o).unwrap_err().to_string();
        let e = bad(JobOptions {
            partition: Some("gpu\n#SBATCH --x".into()),
            ..JobOptions::default()
        });
        assert!(e.starts_with("invalid --partition"), "{e}");
        let e = bad(JobOptions {
            time: Some("1 hour".into()),
            ..JobOptions::default()
        });
        assert!(e.starts_with("invalid --time '1 hour'"), "{e}");
        let e = bad(JobOptions {
            max_parallel: Some(0),
            ..JobOptions::default()
        });
        assert_eq!(e, "invalid --max-parallel 0 (expected >= 1)");
        assert!(check_job_options(&JobOptions {
            partition: Some("gpu,debug".into()),
            time: Some("1-12:00:00".into()),
            ..JobOptions::default()
        })
        .is_ok());
    }

    #[test]
    fn job_ids_from_parsable_output() {
        assert_eq!(parse_job_id("1234\n").as_deref(), Some("1234"));
        assert_eq!(parse_job_id("1234;cluster\n").as_deref(), Some("1234"));
        assert_eq!(parse_job_id("Submitted batch job 12\n"), None);
        assert_eq!(parse_job_id(""), None);
    }

    #[test]
    fn tool_messages_become_one_line() {
        assert_eq!(
            squash("sbatch: error: invalid partition specified: gpu\nsbatch: error: Batch job submission failed\n"),
            "error: invalid partition specified: gpu; error: Batch job submission failed"
        );
    }
}
