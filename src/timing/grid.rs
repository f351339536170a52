//! The output time grid of a run, from one place.
//!
//! [`OutputGrid::new`] turns the input's clock and the requested rate into
//! the output's time base and frame rate, the [`Planner`] that puts every
//! output frame on the grid, and, for one chunk of a longer run, the output
//! frames that chunk owns ([`OutputGrid::window`]). `enhance` builds its
//! grid here for a whole run and for each chunk, and `join` gives the joined
//! stream the same time base from here: a chunked run equals a single run
//! because both place their frames through this one path. Where output pts
//! start on the input's timeline is [`Planner::origin_output_pts`].

use super::{output_time_base, resolve_rate, CadenceMode, FpsTarget, PlanParams, Planner};
use crate::error::{Error, Result};
use crate::media::decode::VideoFormat;
use crate::media::Rational;

/// What the settings ask of the grid (`interpolate.fps`, `cadence` and
/// `max_cadence_hold_s`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridRequest {
    pub fps: FpsTarget,
    pub cadence: CadenceMode,
    pub max_cadence_hold_s: f64,
}

/// Where one part of a run (a chunk) lies in the whole, in the input's
/// time base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridPart {
    /// Pts of the whole run's first frame: the grid's origin.
    pub origin_pts: i64,
    /// The part's first frame (index, pts).
    pub first: (u64, i64),
    /// The next part's first frame (index, pts), decoded as this part's
    /// lookahead and not written by it; `None` for the last part.
    pub next: Option<(u64, i64)>,
}

/// The output's time grid.
#[derive(Debug)]
pub struct OutputGrid {
    pub time_base: Rational,
    pub frame_rate: Rational,
    /// `None`: no rate asked for, the output keeps the input's timing.
    pub planner: Option<Planner>,
    /// Output frames per input frame (for the progress total).
    pub ratio: f64,
    part: Option<GridPart>,
}

impl OutputGrid {
    /// The grid for video `fmt` under `request` (`None`: keep the input's
    /// timing), for the whole run or for one `part` of it. Errors name
    /// `--fps`.
    pub fn new(
        request: Option<GridRequest>,
        fmt: &VideoFormat,
        part: Option<GridPart>,
    ) -> Result<OutputGrid> {
        let Some(req) = request else {
            return Ok(OutputGrid {
                time_base: fmt.time_base,
                frame_rate: fmt.frame_rate,
                planner: None,
                ratio: 1.0,
                part,
            });
        };
        let fps_error = |e: String| Error::Config(format!("--fps: {e}"));
        let (num, den) = resolve_rate(req.fps, fmt.nominal_rate()).map_err(fps_error)?;
        let mut params = PlanParams::new((num, den), req.cadence);
        params.max_cadence_hold_s = req.max_cadence_hold_s;
        let tb = (fmt.time_base.numerator(), fmt.time_base.denominator());
        let mut planner = Planner::try_new(params, tb).map_err(fps_error)?;
        if let Some(p) = part {
            planner = planner.with_grid(p.origin_pts, p.first.1);
        }
        let (tb_num, tb_den) = output_time_base(&params);
        Ok(OutputGrid {
            time_base: Rational::new(tb_num, tb_den),
            frame_rate: Rational::new(num as i32, den as i32),
            planner: Some(planner),
            ratio: (num as f64 / den as f64) / fmt.fps(),
            part,
        })
    }

    /// For a part: the output frames (numbers `lo..hi`) that are its own.
    /// When the run `interpolates` (a planner and a model), the grid points
    /// from its first frame's time up to (not including) the lookahead
    /// frame's; otherwise its own input frames (the lookahead frame is not
    /// written). `None` for a whole run.
    pub fn window(&self, interpolates: bool) -> Option<(u64, u64)> {
        let part = self.part?;
        Some(match self.planner.as_ref().filter(|_| interpolates) {
            Some(pl) => (
                pl.first_k_at(part.origin_pts, part.first.1),
                part.next
                    .map_or(u64::MAX, |(_, pts)| pl.first_k_at(part.origin_pts, pts)),
            ),
            None => (part.first.0, part.next.map_or(u64::MAX, |(index, _)| index)),
        })
    }
}
