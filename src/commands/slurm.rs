//! `slurm`: plan, scripts, sbatch; prints the job ids and where to look.

use std::sync::atomic::AtomicBool;

use anyhow::Context;

use ainimotion::chunk::slurm::{render, submit, JobOptions, SlurmOptions};
use ainimotion::cli::{Cli, SlurmArgs};

use super::{out, progress_for};

pub fn run(args: &SlurmArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    let config = ainimotion::config::resolve(&args.preset, args.config.as_deref(), &args.settings)?;
    let opts = SlurmOptions {
        input: args.input.clone(),
        output: args.out.clone(),
        overwrite: args.overwrite,
        clip: args.clip,
        chunk_seconds: args.chunk_seconds,
        config,
        models: args.model.options(),
        chunk_flags: args.chunk_flags(),
        jobs: JobOptions {
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
    let submission = submit(&opts, progress.as_mut(), abort)?;
    out(&render(&submission))?;
    Ok(())
}
