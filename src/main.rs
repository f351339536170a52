//! ainimotion binary: arguments → library → exit code.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;

use ainimotion::cli::{
    Cli, Command, CompareArgs, EnhanceArgs, EvalArgs, InfoArgs, JoinArgs, PlanArgs, PresetsArgs,
    SlurmArgs, TripletsArgs,
};
use ainimotion::progress::{BarProgress, NoProgress, Progress};
use ainimotion::Error;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ainimotion::media::init(cli.verbose);
    let abort = Arc::new(AtomicBool::new(false));
    install_signal_handler(abort.clone());
    let result = match &cli.command {
        Command::Enhance(args) => run_enhance(args, &cli, abort),
        Command::Info(args) => run_info(args),
        Command::Presets(args) => run_presets(args),
        Command::Compare(args) => run_compare(args),
        Command::Plan(args) => run_plan(args, &cli, abort),
        Command::Join(args) => run_join(args),
        Command::Slurm(args) => run_slurm(args, &cli, &abort),
        Command::Triplets(args) => run_triplets(args, &cli, &abort),
        Command::Eval(args) => run_eval(args, &cli, &abort),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `ainimotion info x | head`: a closed pipe is not an error.
        Err(err)
            if err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        // A folder run: its table already says which files failed.
        Err(err) if err.is::<ainimotion::batch::FolderFailed>() => {
            let code = err
                .downcast_ref::<ainimotion::batch::FolderFailed>()
                .map_or(1, |f| f.exit_code);
            ExitCode::from(code as u8)
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            let code = match err.chain().find_map(|e| e.downcast_ref::<Error>()) {
                // 128 + the signal, as a shell reports a process it killed.
                Some(e) if e.is_interrupted() => match FIRST_SIGNAL.load(Ordering::SeqCst) {
                    0 => e.exit_code(),
                    signo => 128 + signo,
                },
                Some(e) => e.exit_code(),
                None => 1,
            };
            ExitCode::from(code as u8)
        }
    }
}

/// The first stop signal received (0: none yet).
static FIRST_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// First SIGINT (Ctrl-C), SIGTERM or SIGHUP: set the abort flag, so the
/// run stops cleanly (no output under the target name, a chunked run's
/// finished chunks kept) and says so in one line; the exit code is then
/// 128 + that signal (130, 143, 129). Second: remove temporary outputs
/// and lock files and exit at once with 128 + the second signal. The
/// signals are read on a thread of their own (signal-hook's iterator), so
/// nothing here runs in a signal handler.
fn install_signal_handler(abort: Arc<AtomicBool>) {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("warning: cannot catch Ctrl-C and SIGTERM ({e}); they stop the run at once");
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signo in signals.forever() {
                let first = FIRST_SIGNAL
                    .compare_exchange(0, signo, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok();
                if first {
                    abort.store(true, Ordering::SeqCst);
                } else {
                    ainimotion::media::mux::remove_partial_outputs();
                    ainimotion::output_lock::remove_lock_files();
                    std::process::exit(128 + signo);
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("warning: cannot watch for Ctrl-C and SIGTERM ({e})");
    }
}

fn run_enhance(args: &EnhanceArgs, cli: &Cli, abort: Arc<AtomicBool>) -> anyhow::Result<()> {
    if let (Some(plan), Some(k)) = (&args.plan, args.chunk) {
        return run_chunk(args, cli, plan, k, abort);
    }
    let config = ainimotion::config::resolve(&args.preset, args.config.as_deref(), &args.settings)?;
    let Some(output) = &args.out else {
        return Err(Error::Config("--out: give the output file".into()).into());
    };
    if args.input.is_dir() {
        return run_folder(args, output, cli, config, abort);
    }
    if args.recursive {
        return Err(Error::Config(format!(
            "--recursive goes with a folder input; {} is a file",
            args.input.display()
        ))
        .into());
    }
    let item = ainimotion::batch::Item {
        input: args.input.clone(),
        output: output.clone(),
    };
    let report = enhance_one(args, cli, &config, &item, abort)?;
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    Ok(())
}

/// `enhance DIR --out OUTDIR`: every video of the folder in turn, past
/// failures, skipping finished outputs; one table at the end (stdout).
fn run_folder(
    args: &EnhanceArgs,
    out_dir: &std::path::Path,
    cli: &Cli,
    config: ainimotion::config::Config,
    abort: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    use ainimotion::batch::{plan, render_table, FolderFailed, Outcome};
    let items = plan(&args.input, out_dir, args.recursive)?;
    if items.is_empty() {
        return Err(Error::input(
            &args.input,
            "holds no video files (use --recursive for subfolders)",
        )
        .into());
    }
    let total = items.len();
    let mut rows = Vec::with_capacity(total);
    let mut first_code = None;
    for (k, item) in items.into_iter().enumerate() {
        if abort.load(Ordering::SeqCst) {
            return Err(Error::Interrupted.into());
        }
        if item.output.exists() && !args.overwrite {
            rows.push((item, Outcome::Skipped));
            continue;
        }
        if !cli.quiet {
            eprintln!("[{}/{total}] {}", k + 1, item.input.display());
        }
        let made = match item.output.parent() {
            Some(dir) => std::fs::create_dir_all(dir)
                .map_err(|e| Error::output(dir, format!("cannot create the folder: {e}"))),
            None => Ok(()),
        };
        let outcome =
            match made.and_then(|()| enhance_one(args, cli, &config, &item, abort.clone())) {
                Ok(report) => Outcome::Done {
                    frames_out: report.frames_out,
                    wall_s: report.wall_s,
                },
                Err(e) if e.is_interrupted() => return Err(e.into()),
                Err(e) => {
                    eprintln!("error: {e}");
                    first_code.get_or_insert(e.exit_code());
                    Outcome::Failed {
                        error: e.to_string(),
                        exit_code: e.exit_code(),
                    }
                }
            };
        rows.push((item, outcome));
    }
    out(&render_table(&rows))?;
    if let Some(path) = &args.report {
        let json: Vec<_> = rows
            .iter()
            .map(|(item, outcome)| serde_json::json!({"input": item.input, "output": item.output, "outcome": outcome}))
            .collect();
        std::fs::write(path, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    match first_code {
        Some(exit_code) => Err(FolderFailed {
            failed: rows
                .iter()
                .filter(|(_, o)| matches!(o, Outcome::Failed { .. }))
                .count(),
            total,
            exit_code,
        }
        .into()),
        None => Ok(()),
    }
}

/// Enhance one file (with progress and the summary unless quiet).
fn enhance_one(
    args: &EnhanceArgs,
    cli: &Cli,
    config: &ainimotion::config::Config,
    item: &ainimotion::batch::Item,
    abort: Arc<AtomicBool>,
) -> Result<ainimotion::stage::report::Report, Error> {
    let opts = ainimotion::EnhanceOptions {
        input: item.input.clone(),
        output: item.output.clone(),
        overwrite: args.overwrite,
        clip: args.clip,
        config: config.clone(),
        models: args.model.options(),
        no_gate: args.no_gate,
        part: None,
    };
    let mut progress = progress_for(cli);
    let progress = progress.as_mut();
    use ainimotion::chunk::resume::{enhance_in_chunks, run_seconds, worth_chunking};
    let chunked = !args.no_gate
        && args.chunk_seconds > 0.0
        && worth_chunking(run_seconds(&opts.input, opts.clip), args.chunk_seconds);
    let report = if chunked {
        enhance_in_chunks(&opts, args.chunk_seconds, args.keep_work, progress, abort)?
    } else {
        ainimotion::enhance(&opts, progress, abort)?
    };
    if !cli.quiet {
        eprint!("{}", ainimotion::stage::report::render_summary(&report));
    }
    Ok(report)
}

/// `enhance INPUT --plan P --chunk K`: one chunk into the plan's work
/// folder. The plan fixes the settings; only where the models run may
/// change (another machine).
fn run_chunk(
    args: &EnhanceArgs,
    cli: &Cli,
    plan_path: &std::path::Path,
    k: usize,
    abort: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    fn has_keys(t: &toml::Table) -> bool {
        t.values().any(|v| v.as_table().is_none_or(has_keys))
    }
    let flags = toml::Table::try_from(&args.settings)?;
    if has_keys(&flags)
        || args.config.is_some()
        || args.clip.is_some()
        || args.preset != ainimotion::config::DEFAULT_PRESET
        || args.no_gate
    {
        return Err(Error::Config(format!(
            "--plan {}: the plan fixes the clip and the settings; give only --chunk and device flags (make a new plan to change them)",
            plan_path.display()
        ))
        .into());
    }
    let plan = ainimotion::chunk::Plan::read(plan_path)?;
    let mut progress = progress_for(cli);
    let progress = progress.as_mut();
    let Some(report) =
        ainimotion::chunk::run_chunk(&plan, &args.input, k, args.model.options(), progress, abort)?
    else {
        if !cli.quiet {
            eprintln!(
                "chunk {k} is done already ({}); nothing to do",
                plan.record_file(k).display()
            );
        }
        return Ok(());
    };
    if !cli.quiet {
        eprint!("{}", ainimotion::stage::report::render_summary(&report));
    }
    if let Some(path) = &args.report {
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("cannot write report {}", path.display()))?;
    }
    Ok(())
}

fn run_plan(args: &PlanArgs, cli: &Cli, abort: Arc<AtomicBool>) -> anyhow::Result<()> {
    let config = ainimotion::config::resolve(&args.preset, args.config.as_deref(), &args.settings)?;
    let work_dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| Error::output(&work_dir, format!("cannot create the folder: {e}")))?;
    ainimotion::media::mux::check_new_file(&args.out, args.overwrite)?;
    let req = ainimotion::chunk::PlanRequest {
        input: args.input.clone(),
        clip: args.clip,
        chunk_seconds: args.chunk_seconds,
        config,
        models: args.model.options(),
        work_dir,
    };
    let mut progress = progress_for(cli);
    let progress = progress.as_mut();
    let plan = ainimotion::chunk::make_plan(&req, progress, &abort)?;
    plan.write(&args.out)?;
    out(&ainimotion::chunk::render_plan(&plan))?;
    out(&format!("wrote {}\n", args.out.display()))?;
    Ok(())
}

fn run_join(args: &JoinArgs) -> anyhow::Result<()> {
    let plan = ainimotion::chunk::Plan::read(&args.plan)?;
    let input = args
        .input
        .clone()
        .unwrap_or_else(|| plan.input.path.clone());
    let summary =
        ainimotion::chunk::join::join(&plan, &args.plan, &input, &args.out, args.overwrite)?;
    for w in &summary.warnings {
        eprintln!("warning: {w}");
    }
    if args.remove_chunks {
        plan.remove_chunks();
    }
    out(&format!(
        "joined {} chunks: {} frames into {} ({} other stream(s) kept)\n",
        plan.chunks.len(),
        summary.frames,
        summary.path.display(),
        summary.copied_streams
    ))?;
    Ok(())
}

/// `slurm`: plan, scripts, sbatch; prints the job ids and where to look.
fn run_slurm(args: &SlurmArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    let config = ainimotion::config::resolve(&args.preset, args.config.as_deref(), &args.settings)?;
    let opts = ainimotion::slurm::SlurmOptions {
        input: args.input.clone(),
        output: args.out.clone(),
        overwrite: args.overwrite,
        clip: args.clip,
        chunk_seconds: args.chunk_seconds,
        config,
        models: args.model.options(),
        chunk_flags: args.chunk_flags(),
        jobs: ainimotion::slurm::JobOptions {
            partition: args.partition.clone(),
            gpus_per_task: args.gpus_per_task,
            cpus_per_task: args.cpus_per_task,
            max_parallel: args.max_parallel,
            time: args.time.clone(),
        },
        dry_run: args.dry_run,
        exe: std::env::current_exe().context("cannot find the path of this ainimotion binary")?,
    };
    let mut progress = progress_for(cli);
    let progress = progress.as_mut();
    let submission = ainimotion::slurm::submit(&opts, progress, abort)?;
    out(&ainimotion::slurm::render(&submission))?;
    Ok(())
}

fn run_info(args: &InfoArgs) -> anyhow::Result<()> {
    if args.models {
        let info = ainimotion::model::models_info(&args.model.options())?;
        if args.json {
            out(&format!("{}\n", serde_json::to_string_pretty(&info)?))?;
        } else {
            out(&ainimotion::model::render_models(&info))?;
        }
        if args.input.is_none() {
            return Ok(());
        }
    }
    let Some(input) = &args.input else {
        return Ok(());
    };
    let info = ainimotion::probe(input, args.count)?;
    if let Some(sheet) = &args.sheet {
        ainimotion::lab::cut_sheet::check_path(sheet)?;
    }
    let gate = if args.gate {
        let mut config = ainimotion::config::resolve(
            ainimotion::config::DEFAULT_PRESET,
            args.config.as_deref(),
            &toml::Table::new(),
        )?;
        if let Some(f) = args.fields {
            config.decode.fields = f;
        }
        let summary = ainimotion::analyze(input, args.clip, &config)?;
        if let Some(sheet) = &args.sheet {
            let n = ainimotion::lab::cut_sheet::write(
                sheet,
                input,
                args.clip,
                config.decode.fields,
                &summary,
            )?;
            eprintln!("sheet: {} break(s) in {}", n, sheet.display());
        }
        Some(summary)
    } else {
        None
    };
    if args.json {
        let mut v = serde_json::to_value(&info)?;
        if let (Some(g), Some(obj)) = (&gate, v.as_object_mut()) {
            obj.insert("gate".into(), serde_json::to_value(g)?);
        }
        out(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
    } else {
        out(&ainimotion::media::probe::render_text(&info))?;
        if let Some(g) = &gate {
            out(&ainimotion::gate::render_summary(g))?;
        }
    }
    Ok(())
}

fn run_compare(args: &CompareArgs) -> anyhow::Result<()> {
    let bands = ainimotion::compare::compare(&ainimotion::compare::CompareOptions {
        input: args.input.clone(),
        output: args.output.clone(),
        times: args.at.clone(),
        input_offset: args.clip_start,
        sheet: args.out.clone(),
        overwrite: args.overwrite,
    })?;
    for b in &bands {
        let (x, y, w, h) = b.crop;
        out(&format!(
            "{}: zoom of output pixels {w}x{h} at ({x}, {y})\n",
            ainimotion::clip::format_time(b.time)
        ))?;
    }
    out(&format!("wrote {}\n", args.out.display()))?;
    Ok(())
}

fn run_triplets(args: &TripletsArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    use ainimotion::cli::StillFormatArg;
    use ainimotion::lab::image::StillFormat;
    let config =
        ainimotion::config::resolve(&args.preset, args.config.as_deref(), &toml::Table::new())?;
    let mut opts = ainimotion::lab::TripletOptions::new(args.inputs.clone(), args.out.clone());
    opts.height = args.height;
    opts.skip_start = args.skip_start;
    opts.skip_end = args.skip_end;
    opts.crop_top = args.crop_top;
    opts.crop_bottom = args.crop_bottom;
    opts.min_motion = args.min_motion;
    opts.max_motion = args.max_motion;
    opts.max_per_shot = args.max_per_shot;
    opts.every = args.every;
    opts.format = match args.format {
        StillFormatArg::Jpg => StillFormat::Jpg,
        StillFormatArg::Png => StillFormat::Png,
    };
    opts.quality = args.quality;
    opts.test_fraction = args.test_fraction;
    let mut progress = progress_for(cli);
    let s = ainimotion::lab::triplets(&opts, &config, progress.as_mut(), abort)?;
    if !cli.quiet {
        for src in &s.sources {
            if src.already_done {
                continue;
            }
            eprintln!(
                "{}: {} frames, {} shots, {} drawings, {} triplets found: {} too static, {} too fast, {} thinned, {} kept ({} written, {} there already)",
                src.path.display(),
                src.frames,
                src.shots,
                src.drawings,
                src.found,
                src.too_static,
                src.too_fast,
                src.thinned,
                src.kept,
                src.written,
                src.existing
            );
        }
    }
    let read = if s.frames == 0 {
        "every input was done already".to_string()
    } else {
        format!(
            "{} frames in {:.1} s ({:.1} frames/s)",
            s.frames,
            s.wall_s,
            s.fps()
        )
    };
    out(&format!(
        "{} triplets written, {} there already; {} in tri_trainlist.txt, {} in tri_testlist.txt ({}); {read}\n",
        s.written,
        s.existing,
        s.train,
        s.test,
        args.out.display(),
    ))?;
    Ok(())
}

fn run_eval(args: &EvalArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    use ainimotion::lab::eval::{check_png, eval, render_table, write_sheet, EvalOptions};
    let config =
        ainimotion::config::resolve(&args.preset, args.config.as_deref(), &toml::Table::new())?;
    for p in args.sheet.iter().chain(&args.chart) {
        check_png(p)?;
    }
    let temp = std::env::temp_dir().join(format!("ainimotion-eval-{}", std::process::id()));
    let work = args.work.clone().unwrap_or_else(|| temp.clone());
    let mut t = ainimotion::lab::TripletOptions::new(args.inputs.clone(), work);
    t.height = args.height;
    t.skip_start = args.skip_start;
    t.skip_end = args.skip_end;
    t.crop_top = args.crop_top;
    t.crop_bottom = args.crop_bottom;
    t.min_motion = args.min_motion;
    t.max_motion = args.max_motion;
    let opts = EvalOptions {
        triplets: t,
        interpolators: args.interpolators.clone(),
        upscalers: args.upscalers.clone(),
        max_triplets: args.max_triplets,
        sheet_rows: if args.sheet.is_some() {
            args.sheet_rows
        } else {
            0
        },
        at_output_size: args.at_output_size.clone(),
        models: args.model.options(),
    };
    let mut progress = progress_for(cli);
    let result = eval(&opts, &config, progress.as_mut(), abort);
    if args.work.is_none() {
        let _ = std::fs::remove_dir_all(&temp);
    }
    let (report, rows) = result?;
    out(&render_table(&report))?;
    if let Some(p) = &args.json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(p, json + "\n").with_context(|| format!("cannot write {}", p.display()))?;
    }
    if let Some(p) = &args.chart {
        ainimotion::lab::chart::write_chart(p, &report)?;
        out(&format!("wrote {}\n", p.display()))?;
    }
    if let Some(p) = &args.sheet {
        write_sheet(p, &rows)?;
        out(&format!(
            "wrote {} (rows: {}; columns: truth, {})\n",
            p.display(),
            report.worst.join(", "),
            if report.at_output_size.is_empty() {
                report
                    .interpolation
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                format!(
                    "upscale, warp ({}; worst by warp)",
                    report.at_output_size_of
                )
            }
        ))?;
    }
    Ok(())
}

fn run_presets(args: &PresetsArgs) -> anyhow::Result<()> {
    use ainimotion::config::{resolve, DEFAULT_PRESET, PRESETS};
    match &args.show {
        Some(name) => {
            let cfg = resolve(name, args.config.as_deref(), &toml::Table::new())?;
            let with = args
                .config
                .as_ref()
                .map(|c| format!(" with {}", c.display()))
                .unwrap_or_default();
            out(&format!(
                "# preset '{name}'{with}, resolved\n{}",
                toml::to_string_pretty(&cfg)?
            ))?;
        }
        None => {
            for (name, _) in PRESETS {
                let cfg = resolve(name, None, &toml::Table::new())?;
                let mark = if *name == DEFAULT_PRESET {
                    " (default)"
                } else {
                    ""
                };
                out(&format!("{name:<18}{}{mark}\n", cfg.description))?;
            }
        }
    }
    Ok(())
}

/// A progress bar, or nothing but warnings with `--quiet`.
fn progress_for(cli: &Cli) -> Box<dyn Progress> {
    if cli.quiet {
        Box::new(NoProgress)
    } else {
        Box::new(BarProgress::new())
    }
}

/// Write to stdout without panicking on a closed pipe.
fn out(text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}
