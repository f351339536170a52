//! `plan`: split a run into chunks at scene cuts and write the plan.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use ainimotion::cli::{Cli, PlanArgs};
use ainimotion::Error;

use super::{out, progress_for};

pub fn run(args: &PlanArgs, cli: &Cli, abort: &AtomicBool) -> anyhow::Result<()> {
    let config = ainimotion::config::resolve(&args.preset, args.config.as_deref(), &args.settings)?;
    let work_dir = match args.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
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
    let plan = ainimotion::chunk::make_plan(&req, progress.as_mut(), abort)?;
    plan.write(&args.out)?;
    out(&ainimotion::chunk::render_plan(&plan))?;
    out(&format!("wrote {}\n", args.out.display()))?;
    Ok(())
}
