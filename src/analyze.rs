//! `info --gate`: run the gate over a file (or a `--clip` range of it).

use std::path::Path;
use std::sync::Arc;

use crate::clip::ClipRange;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::gate::{summarise, thumbnail, Gate, GateSummary, Luma};
use crate::media::decode::VideoDecoder;
use crate::media::ts_seconds;

/// Label every transition of `path` (decoding in a second thread so the
/// gate runs beside the decoder) and summarise cuts, holds and cadence.
pub fn analyze(path: &Path, clip: Option<ClipRange>, config: &Config) -> Result<GateSummary> {
    let params = config.gate.clone();
    params.validate().map_err(Error::Config)?;
    let mut decoder = VideoDecoder::open(path, clip)?;
    let fmt = decoder.format().clone();
    let (tx, rx) = crossbeam_channel::bounded(8);
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
    let mut gate = Gate::new(params.clone());
    let mut transitions = Vec::new();
    let mut times = Vec::new();
    for frame in rx.iter() {
        let pic: Arc<_> = frame.picture;
        times.push(ts_seconds(frame.pts, fmt.time_base));
        let luma = Luma::of(&pic);
        transitions.extend(gate.push(thumbnail(&luma)));
    }
    transitions.extend(gate.finish());
    handle
        .join()
        .map_err(|_| Error::Config("internal error: the decode thread panicked".into()))??;
    Ok(summarise(
        transitions,
        &times,
        fmt.fps(),
        config.interpolate.max_cadence_hold_s,
        params,
    ))
}
