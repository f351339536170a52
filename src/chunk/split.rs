//! Where a plan's chunks start.
//!
//! A chunk may start only on a frame that begins a drawing (its incoming
//! label is not HOLD). The whole run's output there depends on nothing
//! before that frame: the planner's decisions for times at or after it
//! look at its run and later ones only, and the upscaler reuses results
//! only within one picture's frames. With the next chunk's first frame as
//! one frame of lookahead, a chunk then writes exactly the frames the
//! whole run writes in its time span (see [`crate::stage::runner::ChunkPart`]).
//!
//! Preference, within the length limit: the last CUT in its second half
//! (nothing is ever interpolated across it), else the last drawing start in
//! the window (MOTION or FLASH, with the lookahead frame the in-between
//! across the boundary is computed as in a single run). A HOLD can never
//! start a chunk: the frames of a held drawing reuse its first frame's
//! picture, which the new chunk would not have. When no drawing starts
//! within the limit (a still held longer than a chunk), the chunk runs on
//! to the next drawing: a held picture costs one model call however long
//! it lasts, so a longer chunk there costs nothing.

use crate::gate::Class;

/// First frame of each chunk (positions into `labels`/`pts`, starting with
/// 0). `labels[i]` is frame `i`'s incoming label (`labels[0]` is unused),
/// `pts` strictly increasing; a chunk spans at most `limit` pts ticks where
/// the labels allow. `limit <= 0`: one chunk.
pub fn chunk_starts(labels: &[Class], pts: &[i64], limit: i64) -> Vec<usize> {
    let n = labels.len().min(pts.len());
    let mut starts = vec![0];
    if n == 0 || limit <= 0 {
        return starts;
    }
    let mut start = 0;
    loop {
        let reach = pts[start].saturating_add(limit);
        // The rest fits: done.
        if pts[n - 1] < reach {
            return starts;
        }
        let can_start = |i: usize| labels[i] != Class::Hold;
        let half = pts[start].saturating_add(limit / 2);
        let window = (start + 1..n).take_while(|&i| pts[i] <= reach);
        let (mut cut, mut drawing) = (None, None);
        for i in window {
            if labels[i] == Class::Cut && pts[i] >= half {
                cut = Some(i);
            }
            if can_start(i) {
                drawing = Some(i);
            }
        }
        let next = cut
            .or(drawing)
            .or_else(|| (start + 1..n).find(|&i| can_start(i)));
        match next {
            Some(i) => {
                starts.push(i);
                start = i;
            }
            None => return starts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Class::{Cut as C, Hold as H, Motion as M};

    fn pts(n: usize) -> Vec<i64> {
        (0..n as i64).collect()
    }

    #[test]
    fn short_input_is_one_chunk() {
        assert_eq!(chunk_starts(&[M, M, M], &pts(3), 10), vec![0]);
        assert_eq!(chunk_starts(&[M; 30], &pts(30), 0), vec![0]);
    }

    #[test]
    fn prefers_a_cut_in_the_second_half_of_the_window() {
        // Cuts at 3 (first half) and 7; limit 10.
        let mut l = vec![M; 16];
        l[3] = C;
        l[7] = C;
        assert_eq!(chunk_starts(&l, &pts(16), 10), vec![0, 7]);
    }

    #[test]
    fn without_a_cut_takes_the_last_drawing_start_never_a_hold() {
        // On twos: drawings start at even frames.
        let l: Vec<Class> = (0..25).map(|i| if i % 2 == 1 { H } else { M }).collect();
        let s = chunk_starts(&l, &pts(25), 9);
        assert_eq!(s, vec![0, 8, 16]);
        assert!(s.iter().all(|&i| i == 0 || l[i] != H));
    }

    #[test]
    fn a_long_still_extends_the_chunk_to_the_next_drawing() {
        let mut l = vec![H; 40];
        l[0] = M;
        l[1] = M;
        l[30] = M;
        assert_eq!(chunk_starts(&l, &pts(40), 10), vec![0, 1, 30]);
        // Held to the end: no later start at all.
        let l2 = [M, H, H, H, H, H, H, H, H, H, H, H];
        assert_eq!(chunk_starts(&l2, &pts(12), 5), vec![0]);
    }

    #[test]
    fn every_chunk_but_stills_respects_the_limit() {
        let l: Vec<Class> = (0..500)
            .map(|i| match i % 37 {
                0 => C,
                k if k % 3 != 0 => H,
                _ => M,
            })
            .collect();
        let p = pts(500);
        let s = chunk_starts(&l, &p, 48);
        for w in s.windows(2) {
            assert!(p[w[1]] - p[w[0]] <= 48, "{w:?}");
            assert_ne!(l[w[1]], H);
        }
        assert!(s.len() > 10);
    }
}
