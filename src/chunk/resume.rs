//! A plain `enhance` of a long input: plan, chunks and join in one
//! command, with the work folder beside the output so that the same
//! command after any interruption (Ctrl-C, SIGKILL, power loss) reuses the
//! chunks already journalled and does only the rest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{join::join, make_plan, run_chunk, InputIdentity, Plan, PlanRequest};
use crate::error::{Error, Result};
use crate::media::mux::check_output;
use crate::output_lock::OutputLock;
use crate::progress::Progress;
use crate::stage::report::ChunkCounts;
use crate::stage::{EnhanceOptions, Report};

/// The work folder of an output: `.NAME.ainimotion/` beside it.
pub fn work_dir_for(output: &Path) -> PathBuf {
    let name = output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    output
        .parent()
        .unwrap_or(Path::new("."))
        .join(format!(".{name}.ainimotion"))
}

/// Seconds the run covers (the clip's length, else the input's), when the
/// container says.
pub fn run_seconds(input: &Path, clip: Option<crate::clip::ClipRange>) -> Option<f64> {
    crate::media::decode::VideoDecoder::open(input, clip, crate::fields::FieldsMode::Progressive)
        .ok()
        .and_then(|d| d.format().expected_duration_s)
}

/// Whether a run of `seconds` goes in chunks of `chunk_seconds`: when it
/// makes at least two full chunks (short previews need no work folder).
pub fn worth_chunking(seconds: Option<f64>, chunk_seconds: f64) -> bool {
    chunk_seconds > 0.0 && seconds.is_some_and(|s| s >= 2.0 * chunk_seconds)
}

/// Run `opts` as plan + chunks + join with its work folder beside the
/// output; `keep_work` keeps the folder after a successful join.
pub fn enhance_in_chunks(
    opts: &EnhanceOptions,
    chunk_seconds: f64,
    keep_work: bool,
    progress: &mut dyn Progress,
    abort: Arc<AtomicBool>,
) -> Result<Report> {
    let started = Instant::now();
    opts.config.validate("settings")?;
    check_output(&opts.output, &opts.input, opts.overwrite)?;
    // Held until the join is done: a second run on this output is refused
    // instead of writing the same chunks.
    let lock = OutputLock::acquire(&opts.output)?;
    if let Some(w) = lock.warning() {
        progress.warn(w);
    }
    let work = work_dir_for(&opts.output);
    let plan_path = work.join("plan.json");
    let req = PlanRequest {
        input: opts.input.clone(),
        clip: opts.clip,
        chunk_seconds,
        config: opts.config.clone(),
        models: opts.models.clone(),
        work_dir: work.clone(),
    };
    let plan = plan_to_follow(&req, &plan_path, progress, &abort)?;
    let pending = plan.pending();
    let total = plan.chunks.len();
    let reused = total - pending.len();
    if reused > 0 {
        progress.info(&format!(
            "resuming: {reused} of {total} chunks are done already and are reused; doing {}",
            pending.len()
        ));
    }
    let report = run_pending(&plan, &pending, opts, progress, &abort)?;
    // The join copies audio and subtitles from the input.
    input_unchanged(&plan, &opts.input, total)?;
    progress.info(&format!(
        "joining {total} chunks into {}",
        opts.output.display()
    ));
    let summary = join(&plan, &plan_path, &opts.input, &opts.output, opts.overwrite)?;
    for w in &summary.warnings {
        progress.warn(w);
    }
    if !keep_work {
        let _ = std::fs::remove_dir_all(&work);
    }
    drop(lock);
    let mut report = match report {
        Some(r) => r,
        // Everything was done already: figures from the plan and the join.
        None => Report::joined(&opts.input, summary.clone()),
    };
    for w in &summary.warnings {
        if !report.warnings.contains(w) {
            report.warnings.push(w.clone());
        }
    }
    report.frames_in = plan.frames;
    report.frames_out = summary.frames;
    report.output = summary;
    report.wall_s = started.elapsed().as_secs_f64();
    report.speed_fps = report.frames_out as f64 / report.wall_s.max(1e-9);
    report.chunks = Some(ChunkCounts {
        total: total as u64,
        reused: reused as u64,
        done: pending.len() as u64,
    });
    Ok(report)
}

/// The plan in the work folder when it describes this very job, else a
/// new one (an old folder of another job is cleared, and said so).
fn plan_to_follow(
    req: &PlanRequest,
    plan_path: &Path,
    progress: &mut dyn Progress,
    abort: &Arc<AtomicBool>,
) -> Result<Plan> {
    let work = &req.work_dir;
    match plan_path.exists().then(|| Plan::read(plan_path)) {
        Some(Ok(p)) if p.describes(req)? => return Ok(p),
        _ => {}
    }
    if work.exists() {
        progress.warn(&format!(
            "{}: holds an unfinished run that is not this one (another input, other settings or models, or no plan yet); starting over",
            work.display()
        ));
        std::fs::remove_dir_all(work)
            .map_err(|e| Error::output(work, format!("cannot clear the old work folder: {e}")))?;
    }
    std::fs::create_dir_all(work)
        .map_err(|e| Error::output(work, format!("cannot create: {e}")))?;
    progress.info(&format!(
        "planning: labelling every frame, chunks of at most {} s (work folder {})",
        req.chunk_seconds,
        work.display()
    ));
    let plan = make_plan(req, progress, abort).inspect_err(|_| {
        // Nothing to resume from: leave no folder that a rerun would call
        // "an unfinished run that is not this one".
        let _ = std::fs::remove_dir(work);
    })?;
    plan.write(plan_path)?;
    Ok(plan)
}

/// Runs the chunks not done yet, one after the other, with the models
/// loaded once; their reports summed (None when there was none to run).
/// Stopped by the user: [`Error::InterruptedResumable`] with the count.
fn run_pending(
    plan: &Plan,
    pending: &[usize],
    opts: &EnhanceOptions,
    progress: &mut dyn Progress,
    abort: &Arc<AtomicBool>,
) -> Result<Option<Report>> {
    let total = plan.chunks.len();
    let work = &plan.work_dir;
    let mut done = total - pending.len();
    let stopped = |done: usize| Error::InterruptedResumable {
        work: work.clone(),
        done,
        total,
    };
    let mut report: Option<Report> = None;
    // Loaded by the first chunk, reused by the others.
    let mut models = None;
    for (n, &k) in pending.iter().enumerate() {
        let c = &plan.chunks[k];
        progress.info(&format!(
            "chunk {}/{} ({} of {total}: {} - {})",
            n + 1,
            pending.len(),
            k + 1,
            crate::clip::format_time(c.start_s),
            c.end_s.map_or("end".into(), crate::clip::format_time)
        ));
        let ran = match run_chunk(
            plan,
            &opts.input,
            k,
            opts.models.clone(),
            progress,
            abort.clone(),
            &mut models,
        ) {
            Err(Error::Interrupted) => return Err(stopped(done)),
            Err(e) => {
                input_unchanged(plan, &opts.input, done)?;
                return Err(e);
            }
            Ok(ran) => ran,
        };
        done += 1;
        if let Some(r) = ran {
            match report.as_mut() {
                Some(all) => all.absorb(&r),
                None => report = Some(r),
            }
        }
        release_freed_memory();
    }
    if abort.load(Ordering::SeqCst) {
        return Err(stopped(done));
    }
    Ok(report)
}

/// After a chunk failed: whether the input went away or changed during
/// the run, said in the words of a plain `enhance` (the plan's own check
/// speaks to `--plan` users). Ok when it is still the planned file.
fn input_unchanged(plan: &Plan, input: &Path, done: usize) -> Result<()> {
    let (total, work) = (plan.chunks.len(), &plan.work_dir);
    match InputIdentity::of(input) {
        Err(_) if !input.exists() => Err(Error::input(
            input,
            format!(
                "disappeared during the run; {done} of {total} chunks are done and kept in {}: put the file back and run the same command to resume",
                work.display()
            ),
        )),
        Err(e) => Err(e),
        Ok(now) if !now.same_content(&plan.input) => Err(Error::input(
            input,
            format!(
                "changed during the run (was {} bytes, now {}); chunks made of the old file are never reused for another",
                plan.input.size, now.size
            ),
        )),
        Ok(_) => Ok(()),
    }
}

/// Give memory freed by the chunk's threads back to the system. Each
/// chunk's stage threads are new, and glibc gives new threads their own
/// malloc arenas, which keep what was freed in them: without this, peak
/// RSS crept up by about 4 MiB per chunk (measured: 583 MiB after 5 chunks,
/// 626 after 15, 652 after 22, against 440 for one pass).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim only returns free heap pages to the kernel;
        // it takes no pointers and is safe to call at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}
