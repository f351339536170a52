//! Which triplets a stream of gated frames holds: three consecutive
//! distinct drawings of one shot, with the middle one's timestep.
//!
//! Pure bookkeeping over the gate's labels (no pixels), so it is tested on
//! label strings. A **drawing** is a frame whose incoming label is not HOLD
//! (the first frame of a run of held copies). A triplet is three
//! consecutive drawings `d0, d1, d2` such that
//! - no CUT and no FLASH lies between d0 and d2 (a CUT starts a new shot;
//!   a FLASH frame is never a drawing of the shot around it),
//! - d0 and d1 are each shown no longer than `max_hold_s` (the preset's
//!   `max_cadence_hold`, 0.25 s: a drawing on twos or threes, not a pause;
//!   after a pause the next drawing is a new movement, not an in-between).
//!
//! The middle's timestep is `(t1 - t0) / (t2 - t0)` from the
//! presentation times of the drawings' first frames: 0.5 on even timing
//! (A A B B C C), 0.4 for A A B B B C (two frames, then three).
//!
//! Triplets are found when d2 arrives, so only the last three drawings are
//! kept: memory does not grow with the video.

use std::collections::VecDeque;

use crate::gate::Class;

/// One drawing: its first frame, how long it has been shown so far, and
/// what the caller keeps with it (pictures, thumbnails).
#[derive(Clone, Debug)]
pub struct Drawing<P> {
    pub index: u64,
    pub time_s: f64,
    /// Frames showing it so far (1 + the HOLDs after it).
    pub frames: u64,
    pub payload: P,
}

/// A triplet found by [`Picker::push`].
#[derive(Clone, Debug)]
pub struct Found<P> {
    pub drawings: [Drawing<P>; 3],
    /// Shot number in this input (0 for the first gated frame's shot, +1
    /// at every CUT).
    pub shot: u64,
    /// Frame index where that shot starts (its first gated frame).
    pub shot_start: u64,
    pub timestep: f64,
}

/// Finds triplets in a stream of gated frames (module docs).
pub struct Picker<P> {
    max_hold_frames: f64,
    window: VecDeque<Drawing<P>>,
    shot: Option<u64>,
    shot_start: u64,
}

impl<P: Clone> Picker<P> {
    /// `max_hold_s` at `fps` frames per second.
    pub fn new(max_hold_s: f64, fps: f64) -> Picker<P> {
        Picker {
            max_hold_frames: max_hold_s * fps + 1e-6,
            window: VecDeque::with_capacity(3),
            shot: None,
            shot_start: 0,
        }
    }

    /// Shot of the last frame pushed.
    pub fn shot(&self) -> u64 {
        self.shot.unwrap_or(0)
    }

    /// The next gated frame: `class` is the label of the transition into it
    /// (None for the first). `payload` is called only for drawings.
    pub fn push(
        &mut self,
        index: u64,
        time_s: f64,
        class: Option<Class>,
        payload: impl FnOnce() -> P,
    ) -> Option<Found<P>> {
        match class {
            None | Some(Class::Cut) => {
                self.shot = Some(self.shot.map_or(0, |s| s + 1));
                self.shot_start = index;
                self.window.clear();
            }
            Some(Class::Flash) => self.window.clear(),
            Some(Class::Hold) => {
                if let Some(last) = self.window.back_mut() {
                    last.frames += 1;
                }
                return None;
            }
            Some(Class::Motion) => {
                // A drawing held past the cadence is a pause: no triplet
                // has it as d0 or d1.
                if self
                    .window
                    .back()
                    .is_some_and(|d| d.frames as f64 > self.max_hold_frames)
                {
                    self.window.clear();
                }
            }
        }
        self.window.push_back(Drawing {
            index,
            time_s,
            frames: 1,
            payload: payload(),
        });
        if self.window.len() < 3 {
            return None;
        }
        let d0 = self.window.pop_front()?;
        let (d1, d2) = (self.window[0].clone(), self.window[1].clone());
        let span = d2.time_s - d0.time_s;
        let timestep = (d1.time_s - d0.time_s) / span;
        if !(span > 0.0 && timestep > 0.0 && timestep < 1.0) {
            // Timestamps out of order (a damaged file): no timing to learn.
            return None;
        }
        Some(Found {
            drawings: [d0, d1, d2],
            shot: self.shot(),
            shot_start: self.shot_start,
            timestep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Push frames labelled by `labels` ('c' cut, 'h' hold, 'm' motion,
    /// 'f' flash; the first frame has no label) at 24 fps; returns
    /// (first frames of the three drawings, timestep, shot) per triplet.
    fn run(labels: &str, max_hold_s: f64) -> Vec<([u64; 3], f64, u64)> {
        let mut p = Picker::new(max_hold_s, 24.0);
        let mut out = Vec::new();
        let classes = std::iter::once(None).chain(labels.chars().map(|c| {
            Some(match c {
                'c' => Class::Cut,
                'h' => Class::Hold,
                'm' => Class::Motion,
                'f' => Class::Flash,
                other => panic!("label {other}"),
            })
        }));
        for (i, class) in classes.enumerate() {
            let i = i as u64;
            if let Some(f) = p.push(i, i as f64 / 24.0, class, || ()) {
                let idx = f.drawings.clone().map(|d| d.index);
                out.push((idx, f.timestep, f.shot));
            }
        }
        out
    }

    #[test]
    fn every_frame_a_drawing_gives_sliding_triplets_at_one_half() {
        let t = run("mmmm", 0.25);
        let idx: Vec<_> = t.iter().map(|x| x.0).collect();
        assert_eq!(idx, vec![[0, 1, 2], [1, 2, 3], [2, 3, 4]]);
        assert!(t.iter().all(|x| (x.1 - 0.5).abs() < 1e-9));
    }

    #[test]
    fn twos_and_threes_take_first_frames_and_uneven_timesteps() {
        // A A B B B C: drawings at 0, 2, 5.
        let t = run("hmhhm", 0.25);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].0, [0, 2, 5]);
        assert!((t[0].1 - 0.4).abs() < 1e-9);
        // On threes, evenly: 0.5.
        let t = run("hhmhhmhh", 0.25);
        assert_eq!(t[0].0, [0, 3, 6]);
        assert!((t[0].1 - 0.5).abs() < 1e-9);
    }

    #[test]
    fn never_across_a_cut_or_a_flash() {
        // Cut at frame 2: drawings 0,1 | 2,3,4.
        let t = run("mcmm", 0.25);
        assert_eq!(
            t.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>(),
            vec![([2, 3, 4], 1)]
        );
        // Flash frames 2 and 3 (into, out of): only 3,4,5 after it.
        let t = run("mffmm", 0.25);
        assert_eq!(
            t.iter().map(|x| (x.0, x.2)).collect::<Vec<_>>(),
            vec![([3, 4, 5], 0)]
        );
    }

    #[test]
    fn a_pause_is_no_in_between() {
        // B held 12 frames (0.5 s): no triplet with B as d0 or d1, but one
        // ending on B; and C D E after it (frames 14-16).
        let t = run("mmhhhhhhhhhhhmmm", 0.25);
        let idx: Vec<_> = t.iter().map(|x| x.0).collect();
        assert_eq!(idx, vec![[0, 1, 2], [14, 15, 16]]);
        // Allowed with a longer cadence limit.
        assert_eq!(run("mmhhhhhhhhhhhm", 1.0).len(), 2);
    }
}
