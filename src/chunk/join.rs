//! `join`: the chunks' video packets, unchanged and in order, muxed with
//! every other stream of the source exactly as a single run copies them.

use std::path::Path;

use ffmpeg_next as ff;

use super::Plan;
use crate::error::{Error, Result};
use crate::media::decode::VideoDecoder;
use crate::media::describe;
use crate::media::mux::{check_output, Muxer, OutputPlan, OutputSummary};
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
    let cfg = &plan.settings;
    let clip = plan.clip_range()?;
    let fmt = VideoDecoder::open(input, clip, cfg.decode.fields)?
        .format()
        .clone();
    let grid = OutputGrid::new(cfg.grid_request(), &fmt, None)?;
    let (time_base, frame_rate) = (grid.time_base, grid.frame_rate);
    let first = plan.chunk_file(0);
    let ictx = open_chunk(&first)?;
    let stream = ictx
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| Error::input(&first, "holds no video stream: make this chunk again"))?;
    let params = stream.parameters();
    // SAFETY: codecpar of an open input's stream is valid while it lives;
    // width and height are plain ints.
    let (width, height) = unsafe {
        let p = params.as_ptr();
        ((*p).width as usize, (*p).height as usize)
    };
    let mut muxer = Muxer::create_copying(
        &OutputPlan::new(out, input, &fmt, clip, cfg.encode.settings()).shaped(
            (width, height),
            time_base,
            frame_rate,
        ),
        &params,
    )?;
    drop(ictx);
    // The streams' warnings come with the summary: the join has nothing
    // to print them on.
    let early = std::mem::take(&mut muxer.warnings);
    for rec in &records {
        let path = plan.chunk_file(rec.chunk);
        let mut ictx = open_chunk(&path)?;
        let (index, tb) = match ictx.streams().best(ff::media::Type::Video) {
            Some(s) => (s.index(), s.time_base()),
            None => return Err(Error::input(&path, "holds no video stream: make it again")),
        };
        let mut frames = 0u64;
        // The packets before the first one with a dts: an encoder's first
        // packets have negative dts, which NUT does not store.
        let mut head: Vec<ff::Packet> = Vec::new();
        let mut seen_dts: Option<i64> = None;
        let mut packet = ff::Packet::empty();
        loop {
            let more = match packet.read(&mut ictx) {
                Ok(()) => true,
                Err(ff::Error::Eof) => false,
                Err(e) => {
                    return Err(Error::input(
                        &path,
                        format!("cannot read: {}; make this chunk again", describe(e)),
                    ))
                }
            };
            if more && packet.stream() != index {
                // Released before the next read, which would not release it.
                packet = ff::Packet::empty();
                continue;
            }
            let mut ready = Vec::new();
            if more {
                let p = std::mem::replace(&mut packet, ff::Packet::empty());
                if seen_dts.is_none() && p.dts().is_none() {
                    head.push(p);
                    continue;
                }
                if seen_dts.is_none() {
                    seen_dts = p.dts();
                    ready.extend(fill_head_dts(std::mem::take(&mut head), p.dts(), &p));
                }
                ready.push(p);
            } else {
                let last = head.last().and_then(|p| p.pts());
                ready.extend(fill_head_dts(
                    std::mem::take(&mut head),
                    last,
                    &ff::Packet::empty(),
                ));
            }
            for p in ready {
                frames += 1;
                muxer.write_packet(p, tb)?;
            }
            if !more {
                break;
            }
        }
        if frames != rec.frames {
            return Err(Error::input(
                &path,
                format!(
                    "holds {frames} frames but its record says {}; make this chunk again",
                    rec.frames
                ),
            ));
        }
    }
    let mut summary = muxer.finish()?;
    summary.warnings.splice(0..0, early);
    Ok(summary)
}

/// Give the leading packets without a dts one each, strictly increasing
/// and below `first_dts` (the first packet that has one, `next`), spaced
/// by the step that packet's pts shows against theirs.
fn fill_head_dts(
    mut head: Vec<ff::Packet>,
    first_dts: Option<i64>,
    next: &ff::Packet,
) -> Vec<ff::Packet> {
    let Some(first) = first_dts else {
        return head;
    };
    let mut pts: Vec<i64> = head.iter().filter_map(|p| p.pts()).collect();
    pts.extend(next.pts());
    pts.sort_unstable();
    let step = pts
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|&d| d > 0)
        .min()
        .unwrap_or(1);
    let n = head.len() as i64;
    for (i, p) in head.iter_mut().enumerate() {
        let dts = first - (n - i as i64) * step;
        p.set_dts(Some(p.pts().map_or(dts, |pts| dts.min(pts))));
    }
    head
}

fn open_chunk(path: &Path) -> Result<ff::format::context::Input> {
    ff::format::input(&path).map_err(|e| {
        Error::input(
            path,
            format!("cannot open: {}; make this chunk again", describe(e)),
        )
    })
}
