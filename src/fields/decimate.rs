//! Decimation after field matching: telecine leaves one repeated picture in
//! every 5 video frames (4 film frames in 10 fields). Drop it, and give the
//! 4 film frames even film timing.
//!
//! The cycle of 5 is anchored on the clip's first frame (frame position
//! `round((pts - first pts) / frame duration)`), not on the first frame a
//! decoder sees, so a chunk decoded on its own cuts the same cycles as the
//! whole run. In steady 3:2 pulldown any 5 consecutive frames hold exactly
//! one repeat, whatever the cadence's phase. In each full
//! cycle the frame that differs least from its predecessor is dropped, but
//! only when it is a repeat (worst block change at most [`REPEAT_LEVELS`]):
//! a cycle of 5 different pictures (a 29.97 section: credits, overlays,
//! video-rate animation) keeps all 5 and their own timestamps. A cycle
//! with a frame missing (start, end, a gap in the stream) keeps what it has.

/// Largest mean absolute luma change (0..255 levels) of any 16x16 block for
/// a frame to count as a repeat of its predecessor. A matched repeat of a
/// lossily coded film frame differs by codec noise only: the One Piece demo
/// telecined and coded at x264 crf 20 has all 45 of its repeats below it.
/// A unique picture can change very little: a test card whose only change
/// is its frame counter moves one 16x16 block by 4.8 levels, which 32x32
/// blocks (FFmpeg `decimate`'s, at 1.1% of full scale = 2.8 levels) average
/// down to 1.3 and drop.
pub const REPEAT_LEVELS: f32 = 2.5;

/// Block side for [`repeat_change`].
pub const REPEAT_BLOCK: usize = 16;

/// Video frames in one telecine cycle.
pub const CYCLE: u64 = 5;

/// Worst [`REPEAT_BLOCK`]-square block mean absolute change between two
/// same-size luma planes scaled to 8 bits (every row: both fields count,
/// since a woven frame may change in one field only), 0..255; 255 when
/// they cannot be compared.
pub fn repeat_change(a: super::Plane, b: super::Plane) -> f32 {
    if !a.fits(&b) {
        return 255.0;
    }
    let (sa, sb) = (
        u32::from(a.depth.saturating_sub(8)),
        u32::from(b.depth.saturating_sub(8)),
    );
    let bx = a.width.div_ceil(REPEAT_BLOCK);
    let by = a.height.div_ceil(REPEAT_BLOCK);
    let mut sums = vec![0u64; bx * by];
    // Per band of REPEAT_BLOCK rows: absolute differences summed down each
    // column (a plain zipped loop the compiler vectorises), then across
    // each block's columns. u32 columns: samples above the stated depth
    // cannot overflow them.
    let mut cols = vec![0u32; a.width];
    for band in 0..by {
        cols.iter_mut().for_each(|c| *c = 0);
        for y in band * REPEAT_BLOCK..((band + 1) * REPEAT_BLOCK).min(a.height) {
            let ra = &a.data[y * a.stride..y * a.stride + a.width];
            let rb = &b.data[y * b.stride..y * b.stride + b.width];
            for ((c, &p), &q) in cols.iter_mut().zip(ra).zip(rb) {
                *c += u32::from((p >> sa).abs_diff(q >> sb));
            }
        }
        for (s, block) in sums[band * bx..(band + 1) * bx]
            .iter_mut()
            .zip(cols.chunks(REPEAT_BLOCK))
        {
            *s = block.iter().map(|&c| u64::from(c)).sum();
        }
    }
    let mut worst = 0f32;
    for (i, &s) in sums.iter().enumerate() {
        let (bxi, byi) = (i % bx, i / bx);
        let w = REPEAT_BLOCK.min(a.width - bxi * REPEAT_BLOCK);
        let h = REPEAT_BLOCK.min(a.height - byi * REPEAT_BLOCK);
        worst = worst.max(s as f32 / (w * h).max(1) as f32);
    }
    worst
}

/// One frame waiting for its cycle to complete.
struct Pending<T> {
    pts: i64,
    change: f32,
    item: T,
}

/// Streaming decimator: push frames in order, get the kept ones (with
/// their possibly new pts) when their cycle is complete.
pub struct Decimator<T> {
    /// One video frame in ticks of the stream time base.
    frame_ticks: f64,
    /// Pts of the clip's first frame: cycles count from it.
    anchor: i64,
    cycle: Option<i64>,
    pending: Vec<Pending<T>>,
    /// Frames dropped as repeats so far.
    pub dropped: u64,
    /// Cycles retimed as film so far.
    pub film_cycles: u64,
}

impl<T> Decimator<T> {
    /// `frame_ticks`: the video frame duration (e.g. 1001 for 29.97 in
    /// 1/30000) in stream ticks; must be positive.
    /// `anchor`: the pts of the clip's first frame (the same for every
    /// chunk of a run).
    pub fn new(frame_ticks: f64, anchor: i64) -> Decimator<T> {
        Decimator {
            frame_ticks: frame_ticks.max(1e-9),
            anchor,
            cycle: None,
            pending: Vec::new(),
            dropped: 0,
            film_cycles: 0,
        }
    }

    fn cycle_of(&self, pts: i64) -> i64 {
        let pos = ((pts - self.anchor) as f64 / self.frame_ticks).round() as i64;
        pos.div_euclid(CYCLE as i64)
    }

    /// Push the next frame: its pts, its [`repeat_change`] against the
    /// previous frame (`f32::INFINITY` for the first) and the payload.
    pub fn push(&mut self, pts: i64, change: f32, item: T) -> Vec<(i64, T)> {
        let cycle = self.cycle_of(pts);
        let out = match self.cycle {
            Some(c) if c != cycle => self.flush(),
            _ => Vec::new(),
        };
        self.cycle = Some(cycle);
        self.pending.push(Pending { pts, change, item });
        out
    }

    /// End of input: release the last cycle.
    pub fn finish(&mut self) -> Vec<(i64, T)> {
        self.flush()
    }

    fn flush(&mut self) -> Vec<(i64, T)> {
        let pending = std::mem::take(&mut self.pending);
        let full = pending.len() as u64 == CYCLE;
        let repeat = pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.change <= REPEAT_LEVELS)
            .min_by(|a, b| a.1.change.total_cmp(&b.1.change))
            .map(|(i, _)| i);
        match (full, repeat, self.cycle) {
            (true, Some(drop), Some(cycle)) => {
                self.dropped += 1;
                self.film_cycles += 1;
                // 4 film frames evenly over the cycle's 5 frame times.
                let start = self.anchor as f64 + cycle as f64 * CYCLE as f64 * self.frame_ticks;
                let step = self.frame_ticks * CYCLE as f64 / (CYCLE - 1) as f64;
                pending
                    .into_iter()
                    .enumerate()
                    .filter(|(i, _)| *i != drop)
                    .enumerate()
                    .map(|(j, (_, p))| ((start + j as f64 * step).round() as i64, p.item))
                    .collect()
            }
            _ => pending.into_iter().map(|p| (p.pts, p.item)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Push `changes` at 29.97 in 1/30000 from frame `first`.
    fn run(first: i64, changes: &[f32]) -> (Vec<(i64, usize)>, u64) {
        let mut d = Decimator::new(1001.0, 0);
        let mut out = Vec::new();
        for (i, &c) in changes.iter().enumerate() {
            out.extend(d.push((first + i as i64) * 1001, c, i));
        }
        out.extend(d.finish());
        (out, d.dropped)
    }

    #[test]
    fn one_repeat_in_five_is_dropped_and_the_film_frames_are_evenly_timed() {
        // Cycles of 5 with the repeat at position 3.
        let changes: Vec<f32> = (0..20)
            .map(|i| if i % 5 == 3 { 0.5 } else { 20.0 })
            .collect();
        let (out, dropped) = run(0, &changes);
        assert_eq!(dropped, 4);
        assert_eq!(out.len(), 16);
        assert!(out.iter().all(|(_, i)| i % 5 != 3));
        let pts: Vec<i64> = out.iter().map(|p| p.0).collect();
        for w in pts.windows(2) {
            assert!((w[1] - w[0] - 1251).abs() <= 1, "{pts:?}");
        }
    }

    #[test]
    fn a_video_rate_section_keeps_every_picture_and_its_time() {
        let changes = vec![20.0f32; 15];
        let (out, dropped) = run(0, &changes);
        assert_eq!(dropped, 0);
        assert_eq!(
            out.iter().map(|p| p.0).collect::<Vec<_>>(),
            (0..15).map(|i| i * 1001).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_chunk_starting_mid_cycle_cuts_the_same_cycles_as_the_whole_run() {
        let changes: Vec<f32> = (0..30)
            .map(|i| if i % 5 == 1 { 0.2 } else { 9.0 })
            .collect();
        let (whole, _) = run(0, &changes);
        // A chunk starting at frame 10 (the plan starts chunks anywhere; the
        // cycles are the timeline's, so they agree).
        let (part, _) = run(10, &changes[10..]);
        let tail: Vec<(i64, usize)> = whole
            .iter()
            .filter(|p| p.1 >= 10)
            .map(|&(t, i)| (t, i - 10))
            .collect();
        assert_eq!(part, tail);
        // A partial first cycle keeps its frames.
        let (late, dropped) = run(2, &changes[..3]);
        assert_eq!((late.len(), dropped), (3, 0));
    }
}
