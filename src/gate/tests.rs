//! Gate behaviour on synthetic pictures.

use super::*;

const W: usize = 160;
const H: usize = 96;

/// A textured picture (deterministic pattern), optionally shifted.
fn textured(shift: usize, seed: u32) -> Vec<f32> {
    let mut v = Vec::with_capacity(W * H);
    for y in 0..H {
        for x in 0..W {
            let xx = (x + shift) as u32;
            let h = (xx / 6)
                .wrapping_mul(2654435761)
                .wrapping_add((y as u32 / 6).wrapping_mul(40503))
                .wrapping_add(seed.wrapping_mul(97));
            v.push(40.0 + (h % 160) as f32);
        }
    }
    v
}

fn thumb(data: &[f32]) -> Thumb {
    Thumb::from_samples(W, H, data)
}

/// Deterministic small noise, like codec noise (±amp levels).
fn noisy(data: &[f32], amp: f32, seed: u64) -> Vec<f32> {
    let mut s = seed | 1;
    data.iter()
        .map(|v| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            v + ((s % 1000) as f32 / 1000.0 - 0.5) * 2.0 * amp
        })
        .collect()
}

fn classes(frames: &[Vec<f32>]) -> Vec<Class> {
    let mut g = Gate::new(GateParams::default());
    let mut out = Vec::new();
    for f in frames {
        out.extend(g.push(thumb(f)).into_iter().map(|t| t.class));
    }
    out.extend(g.finish().into_iter().map(|t| t.class));
    out
}

#[test]
fn noise_on_a_held_drawing_is_hold() {
    let base = textured(0, 1);
    // ±0.8 levels per thumbnail sample: codec noise after the thumbnail's
    // box average (real held drawings measured MAD 0.0-0.1 on the clips).
    let frames: Vec<Vec<f32>> = (0..6).map(|i| noisy(&base, 0.8, i + 1)).collect();
    assert!(classes(&frames).iter().all(|c| *c == Class::Hold));
}

#[test]
fn small_moving_patch_is_motion() {
    let base = textured(0, 1);
    let mut frames = Vec::new();
    for i in 0..4 {
        let mut f = base.clone();
        // An 8x6 "mouth" that changes shape each frame.
        for y in 60..66 {
            for x in 70..78 {
                f[y * W + x] = if (x + y + i) % 2 == 0 { 20.0 } else { 230.0 };
            }
        }
        frames.push(f);
    }
    assert_eq!(classes(&frames), vec![Class::Motion; 3]);
}

#[test]
fn pan_is_motion_and_unrelated_pictures_are_a_cut() {
    let mut frames: Vec<Vec<f32>> = (0..8).map(|i| textured(i * 2, 1)).collect();
    // New shot: different texture and brightness.
    frames.extend((0..4).map(|i| {
        textured(i * 2, 77)
            .iter()
            .map(|v| v * 0.5)
            .collect::<Vec<_>>()
    }));
    let c = classes(&frames);
    assert!(c[..7].iter().all(|c| *c == Class::Motion), "{c:?}");
    assert_eq!(c[7], Class::Cut, "{c:?}");
    assert!(c[8..].iter().all(|c| *c == Class::Motion), "{c:?}");
}

#[test]
fn a_fade_is_not_a_cut() {
    let base = textured(0, 3);
    let frames: Vec<Vec<f32>> = (0..12)
        .map(|i| base.iter().map(|v| v * (1.0 - i as f32 / 12.0)).collect())
        .collect();
    let c = classes(&frames);
    assert!(!c.contains(&Class::Cut), "{c:?}");
}

#[test]
fn repeat_of_points_at_the_run_start() {
    let a = textured(0, 1);
    let b = textured(4, 1);
    let frames = vec![a.clone(), a.clone(), a, b.clone(), b];
    let mut g = Gate::new(GateParams::default());
    let mut ts = Vec::new();
    for f in &frames {
        ts.extend(g.push(thumb(f)));
    }
    ts.extend(g.finish());
    let rep: Vec<Option<u64>> = ts.iter().map(|t| t.repeat_of).collect();
    assert_eq!(rep, vec![Some(0), Some(0), None, Some(3)]);
}

#[test]
fn cadence_of_twos_and_threes_and_long_holds() {
    let mk = |pattern: &[Class]| -> Vec<Transition> {
        pattern
            .iter()
            .enumerate()
            .map(|(i, &class)| Transition {
                from: i as u64,
                to: i as u64 + 1,
                class,
                scores: Scores::incomparable(),
                repeat_of: None,
                evidence: None,
            })
            .collect()
    };
    use Class::*;
    let twos: Vec<Class> = (0..23)
        .map(|i| if i % 2 == 0 { Hold } else { Motion })
        .collect();
    let shots = analyse_cadence(&mk(&twos), 24, 24.0, 0.25);
    assert_eq!(shots.len(), 1);
    assert_eq!(shots[0].cadence, Cadence::Twos);
    assert_eq!(shots[0].distinct, 12);
    let threes: Vec<Class> = (0..23)
        .map(|i| if i % 3 == 2 { Motion } else { Hold })
        .collect();
    assert_eq!(
        analyse_cadence(&mk(&threes), 24, 24.0, 0.25)[0].cadence,
        Cadence::Threes
    );
    // On twos, a cut, then a 2 s hold: two shots, the second still.
    let mut p: Vec<Class> = (0..11)
        .map(|i| if i % 2 == 0 { Hold } else { Motion })
        .collect();
    p.push(Cut);
    p.extend(std::iter::repeat_n(Hold, 47));
    let shots = analyse_cadence(&mk(&p), 60, 24.0, 0.25);
    assert_eq!(shots.len(), 2);
    assert_eq!(
        (shots[1].start, shots[1].cadence, shots[1].holds),
        (12, Cadence::Still, 1)
    );
    assert!(is_cadence_run(3, 24.0, 0.25) && !is_cadence_run(7, 24.0, 0.25));
}

#[test]
fn params_validate_and_reject_unknown_keys() {
    assert!(GateParams::default().validate().is_ok());
    let p = GateParams {
        cut_ssim: 2.0,
        ..GateParams::default()
    };
    assert!(p.validate().unwrap_err().contains("gate.cut_ssim"));
    let bad: Result<GateParams, _> = toml::from_str("hold_mad = 1.0\nhold_madd = 2.0\n");
    assert!(bad.is_err());
}

#[test]
fn a_very_slow_fade_is_never_frozen_into_one_picture() {
    // Each step is below the HOLD thresholds (0.6 levels), but over 20
    // frames the picture changes by 12 levels: it must not be one long hold.
    let base = textured(0, 5);
    let frames: Vec<Vec<f32>> = (0..20)
        .map(|i| base.iter().map(|v| v + 0.6 * i as f32).collect())
        .collect();
    let c = classes(&frames);
    let longest = c
        .split(|k| *k != Class::Hold)
        .map(|run| run.len())
        .max()
        .unwrap_or(0);
    assert!(longest < 8, "held for {longest} transitions: {c:?}");
    assert!(c.contains(&Class::Motion));
}
