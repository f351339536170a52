//! `enhance`: one file, a folder of them, or one chunk of a plan.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use ainimotion::batch::{self, Item};
use ainimotion::cli::{Cli, EnhanceArgs};
use ainimotion::config::Config;
use ainimotion::stage::report::{render_summary, Report};
use ainimotion::Error;

use super::{out, progress_for, write_report};

pub fn run(args: &EnhanceArgs, cli: &Cli, abort: Arc<AtomicBool>) -> anyhow::Result<()> {
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
    let item = Item {
        input: args.input.clone(),
        output: output.clone(),
    };
    let report = enhance_one(args, cli, &config, &item, abort)?;
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    Ok(())
}

/// `enhance DIR --out OUTDIR`: every video of the folder in turn, past
/// failures, skipping finished outputs; one table at the end (stdout).
fn run_folder(
    args: &EnhanceArgs,
    out_dir: &Path,
    cli: &Cli,
    config: Config,
    abort: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    let items = batch::plan(&args.input, out_dir, args.recursive)?;
    if items.is_empty() {
        return Err(Error::input(
            &args.input,
            "holds no video files (use --recursive for subfolders)",
        )
        .into());
    }
    let rows = batch::run(items, args.overwrite, cli.quiet, &abort, |item| {
        enhance_one(args, cli, &config, item, abort.clone())
    })?;
    out(&batch::render_table(&rows))?;
    if let Some(path) = &args.report {
        write_report(path, &batch::report_json(&rows))?;
    }
    match batch::failure(&rows) {
        Some(failed) => Err(failed.into()),
        None => Ok(()),
    }
}

/// Enhance one file (with progress and the summary unless quiet); long
/// inputs run in chunks that a rerun resumes from.
fn enhance_one(
    args: &EnhanceArgs,
    cli: &Cli,
    config: &Config,
    item: &Item,
    abort: Arc<AtomicBool>,
) -> Result<Report, Error> {
    use ainimotion::chunk::resume::{enhance_in_chunks, run_seconds, worth_chunking};
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
    let chunked = !args.no_gate
        && args.chunk_seconds > 0.0
        && worth_chunking(run_seconds(&opts.input, opts.clip), args.chunk_seconds);
    let report = if chunked {
        enhance_in_chunks(&opts, args.chunk_seconds, args.keep_work, progress, abort)?
    } else {
        ainimotion::enhance(&opts, progress, abort)?
    };
    if !cli.quiet {
        eprint!("{}", render_summary(&report));
    }
    Ok(report)
}

/// `enhance INPUT --plan P --chunk K`: one chunk into the plan's work
/// folder. The plan fixes the settings; only where the models run may
/// change (another machine).
fn run_chunk(
    args: &EnhanceArgs,
    cli: &Cli,
    plan_path: &Path,
    k: usize,
    abort: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    if changes_settings(args)? {
        return Err(Error::Config(format!(
            "--plan {}: the plan fixes the clip and the settings; give only --chunk and device flags (make a new plan to change them)",
            plan_path.display()
        ))
        .into());
    }
    let plan = ainimotion::chunk::Plan::read(plan_path)?;
    let mut progress = progress_for(cli);
    let progress = progress.as_mut();
    let Some(report) = ainimotion::chunk::run_chunk(
        &plan,
        &args.input,
        k,
        args.model.options(),
        progress,
        abort,
        &mut None,
    )?
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
        eprint!("{}", render_summary(&report));
    }
    if let Some(path) = &args.report {
        write_report(path, &report)?;
    }
    Ok(())
}

/// Whether a chunk's flags try to change what its plan fixed: a setting,
/// a config file, the clip, the preset or gating.
fn changes_settings(args: &EnhanceArgs) -> anyhow::Result<bool> {
    fn has_keys(t: &toml::Table) -> bool {
        t.values().any(|v| v.as_table().is_none_or(has_keys))
    }
    let flags = toml::Table::try_from(&args.settings)?;
    Ok(has_keys(&flags)
        || args.config.is_some()
        || args.clip.is_some()
        || args.preset != ainimotion::config::DEFAULT_PRESET
        || args.no_gate)
}
