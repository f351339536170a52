//! `info --gate`: run the same decode and gate stages as `enhance` over a
//! file (or a `--clip` range of it) and summarise cuts, holds and cadence.

use std::path::Path;

use crate::clip::ClipRange;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::gate::{summarise, GateSummary};
use crate::media::decode::VideoDecoder;
use crate::media::ts_seconds;
use crate::stage::gate::GateStage;
use crate::stage::Stage;
use crate::stage::DECODE_QUEUE;

/// Label every transition of `path` (decoding in a second thread so the
/// gate runs beside the decoder, as in `enhance`).
pub fn analyze(path: &Path, clip: Option<ClipRange>, config: &Config) -> Result<GateSummary> {
    let params = config.gate.clone();
    params.validate().map_err(Error::Config)?;
    let mut decoder = VideoDecoder::open(path, clip)?;
    let fmt = decoder.format().clone();
    let (tx, rx) = crossbeam_channel::bounded(DECODE_QUEUE);
    let handle = std::thread::Builder::new()
        .name("decode".into())
        .spawn(move || -> Result<()> {
            while let Some(f) = decoder.next_frame()? {
                if tx.send(f).is_err() {
                    break;
                }
            }
            Ok(())
        })
        .map_err(|e| Error::Config(format!("cannot start decode thread: {e}")))?;
    let mut gate = GateStage::new(params.clone()).keep_transitions();
    let mut times = Vec::new();
    for frame in rx.iter() {
        times.push(ts_seconds(frame.pts, fmt.time_base));
        // The pictures themselves are not needed here: drop them at once.
        drop(gate.push(frame)?);
    }
    drop(gate.finish()?);
    handle
        .join()
        .map_err(|_| Error::Internal("the decode stage panicked".into()))??;
    Ok(summarise(
        gate.transitions(),
        &times,
        fmt.fps(),
        config.interpolate.max_cadence_hold_s,
        params,
    ))
}
