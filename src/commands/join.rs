//! `join`: a plan's finished chunks into the output.

use ainimotion::cli::JoinArgs;

use super::out;

pub fn run(args: &JoinArgs) -> anyhow::Result<()> {
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
