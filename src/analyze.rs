//! `info --gate`: run the same decode and gate stages as `enhance` over a
//! file (or a `--clip` range of it) and summarise cuts, holds and cadence.

use std::path::Path;

use crate::clip::ClipRange;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::gate::{summarise, GateSummary};
use crate::media::decode::VideoDecoder;
use crate::media::ts_seconds;
use crate::stage::gate::{gate_file, GateStage, Gated};

/// Label every transition of `path` (decoding in a second thread so the
/// gate runs beside the decoder, as in `enhance`).
pub fn analyze(path: &Path, clip: Option<ClipRange>, config: &Config) -> Result<GateSummary> {
    let params = config.gate.clone();
    params.validate().map_err(Error::Config)?;
    let decoder = VideoDecoder::open(path, clip, config.decode.fields)?;
    let fmt = decoder.format().clone();
    let mut gate = GateStage::new(params.clone()).keep_transitions();
    let mut times = Vec::new();
    // The pictures themselves are not needed here: each is dropped at once.
    let mut time = |g: Gated| times.push(ts_seconds(g.frame.pts, fmt.time_base));
    gate_file(decoder, |_| true, &mut gate, None, &mut time)?.decoded?;
    Ok(summarise(
        gate.transitions(),
        &times,
        fmt.fps(),
        config.interpolate.max_cadence_hold_s,
        params,
    ))
}
