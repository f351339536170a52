//! `join`: the chunks' video packets, unchanged and in order, muxed with
//! every other stream of the source exactly as a single run copies them.

use std::path::Path;

use super::{ChunkRecord, Plan};
use crate::error::{Error, Result};
use crate::media::decode::VideoDecoder;
use crate::media::mux::{check_output, Muxer, OutputPlan, OutputSummary};
use crate::media::packets::VideoPackets;
use crate::timing::OutputGrid;

/// Chunks the join cannot use yet, as one line naming them and the fix.
fn missing_error(plan: &Plan, plan_path: &Path, missing: &[usize]) -> Error {
    let list: Vec<String> = missing.iter().take(12).map(|k| k.to_string()).collect();
    let more = if missing.len() > 12 { ", …" } else { "" };
    Error::input(
        plan_path,
        format!(
            "{} of {} chunks are not done ({}{more}); run `ainimotion enhance {} --plan {} --chunk K` for each",
            missing.len(),
            plan.chunks.len(),
            list.join(", "),
            plan.input.path.display(),
            plan_path.display()
        ),
    )
}

/// Join every chunk of `plan` into `out`.
pub fn join(
    plan: &Plan,
    plan_path: &Path,
    input: &Path,
    out: &Path,
    overwrite: bool,
) -> Result<OutputSummary> {
    check_output(out, input, overwrite)?;
    plan.check_input(input)?;
    let records = done_records(plan, plan_path)?;
    let mut muxer = open_joined(plan, input, out)?;
    // The streams' warnings come with the summary: the join has nothing
    // to print them on.
    let early = std::mem::take(&mut muxer.warnings);
    for rec in &records {
        copy_chunk(plan, rec, &mut muxer)?;
    }
    let mut summary = muxer.finish()?;
    summary.warnings.splice(0..0, early);
    Ok(summary)
}

/// Every chunk's record, or an error naming those not done.
fn done_records(plan: &Plan, plan_path: &Path) -> Result<Vec<ChunkRecord>> {
    let mut records = Vec::with_capacity(plan.chunks.len());
    let mut missing = Vec::new();
    for k in 0..plan.chunks.len() {
        match plan.done(k) {
            Some(r) => records.push(r),
            None => missing.push(k),
        }
    }
    if !missing.is_empty() {
        return Err(missing_error(plan, plan_path, &missing));
    }
    Ok(records)
}

/// The joined output: described as a single run of the plan's settings
/// describes its own, its video stream that of the first chunk.
fn open_joined(plan: &Plan, input: &Path, out: &Path) -> Result<Muxer> {
    let cfg = &plan.settings;
    let clip = plan.clip_range()?;
    let fmt = VideoDecoder::open(input, clip, cfg.decode.fields)?
        .format()
        .clone();
    let grid = OutputGrid::new(cfg.grid_request(), &fmt, None)?;
    let first = VideoPackets::open(&plan.chunk_file(0))?;
    Muxer::create_copying(
        &OutputPlan::new(out, input, &fmt, clip, cfg.encode.settings()).shaped(
            first.size(),
            grid.time_base,
            grid.frame_rate,
        ),
        &first,
    )
}

/// Chunk `rec`'s video packets, unchanged, into `muxer`; its frame count
/// must be the one its record states.
fn copy_chunk(plan: &Plan, rec: &ChunkRecord, muxer: &mut Muxer) -> Result<()> {
    let path = plan.chunk_file(rec.chunk);
    let frames = VideoPackets::open(&path)?.copy_into(muxer)?;
    if frames != rec.frames {
        return Err(Error::input(
            &path,
            format!(
                "holds {frames} frames but its record says {}; make this chunk again",
                rec.frames
            ),
        ));
    }
    Ok(())
}
