//! Hot per-frame kernels: colour conversion (and, as they land, SSIM,
//! tile pack/unpack, resize).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use ainimotion::color::{from_rgb, to_rgb, Colorimetry, Matrix};
use ainimotion::picture::{Chroma, Picture};

fn picture_1080p() -> Picture {
    let mut p = Picture::black(1920, 1080, Chroma::Yuv420, 10);
    for (i, v) in p.planes[0].iter_mut().enumerate() {
        *v = 64 + (i % 876) as u16;
    }
    p
}

fn colour(c: &mut Criterion) {
    let cm = Colorimetry::new(Matrix::Bt709, false);
    let pic = picture_1080p();
    let rgb = to_rgb(&pic, cm);
    let mut g = c.benchmark_group("colour_1080p");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.bench_function("yuv420p10_to_rgb_f32", |b| b.iter(|| to_rgb(&pic, cm)));
    g.bench_function("rgb_f32_to_yuv420p10", |b| {
        b.iter(|| from_rgb(&rgb, Chroma::Yuv420, 10, cm))
    });
    g.finish();
}

/// Gating cost per 1080p frame, everything the gate computes for one new
/// frame: the thumbnail (luma and colour histogram), the comparison with the
/// previous thumbnail, and in the worst case (a HOLD candidate, which every
/// frame of a still shot is) a second thumbnail comparison and the
/// full-resolution check against the run's first frame, including the new
/// frame's texture map. Run on one core: `taskset -c 0 cargo bench --bench kernels -- gate_`.
fn gate(c: &mut Criterion) {
    use std::sync::Arc;

    use ainimotion::gate::{compare, fine, thumbnail_of, Fine};
    // A held drawing (flat areas and edges, 10-bit) and the next frame of
    // a still shot: the same drawing with codec-like noise and 100 thin
    // streaks. Gating cost does not depend on the content except through
    // the blocks that change, which this pair exercises.
    let mut a = Picture::black(1920, 1080, Chroma::Yuv420, 10);
    for y in 0..1080 {
        for x in 0..1920 {
            a.planes[0][y * 1920 + x] = if (x / 96 + y / 64) % 3 == 0 { 200 } else { 700 };
        }
    }
    let mut b = a.clone();
    let mut seed = 12345u32;
    for v in b.planes[0].iter_mut() {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        *v = (*v as i32 + (seed % 9) as i32 - 4) as u16;
    }
    for k in 0..100usize {
        let (x, y0) = ((k * 193) % 1900, (k * 71) % 1000);
        for y in y0..y0 + 40 {
            b.planes[0][y * 1920 + x] += 120;
        }
    }
    let (a, b) = (Arc::new(a), Arc::new(b));
    let ta = thumbnail_of(&a);
    let tb = thumbnail_of(&b);
    let first = Fine::new(a.clone());
    let mut g = c.benchmark_group("gate_1080p_one_core");
    g.throughput(Throughput::Elements(1));
    g.bench_function("thumbnail", |bch| bch.iter(|| thumbnail_of(&b)));
    g.bench_function("compare", |bch| bch.iter(|| compare(&ta, &tb)));
    let (tw, th) = (tb.width(), tb.height());
    let tdata = tb.data().to_vec();
    g.bench_function("edge_map", |bch| {
        bch.iter(|| ainimotion::gate::edges::EdgeMap::of(tw, th, &tdata))
    });
    g.bench_function("fine_check_new_frame", |bch| {
        bch.iter(|| {
            let fb = Fine::new(b.clone());
            fine::changed_blocks(&first, &fb, 5.0, 0.5)
        })
    });
    // Thumbnail check against the previous frame and the run's first; the
    // full-resolution one against the run's first.
    let worst_case = || {
        let t = thumbnail_of(&b);
        let s = compare(&ta, &t);
        let fb = Fine::new(b.clone());
        let s2 = compare(&ta, &t);
        let n = fine::changed_blocks(&first, &fb, 5.0, 0.5);
        (s, s2, n)
    };
    g.bench_function("whole_frame_worst_case", |bch| bch.iter(worst_case));
    // Fields. Per frame, only film mode measures anything: each frame's
    // change against the previous one, for the repeats (auto on
    // progressive video, deinterlace and progressive measure nothing per
    // frame). The decision's analysis looks at a fixed 240 frames per file
    // (5 windows of 48): a frame's own combing, and four pairings when it
    // is combed.
    fn plane(p: &Picture) -> ainimotion::fields::Plane<'_> {
        ainimotion::fields::Plane {
            data: &p.planes[0],
            width: 1920,
            height: 1080,
            stride: 1920,
            depth: 10,
        }
    }
    g.bench_function("fields_comb_own", |bch| {
        bch.iter(|| ainimotion::fields::comb(plane(&b), plane(&b)))
    });
    g.bench_function("fields_repeat_change", |bch| {
        bch.iter(|| ainimotion::fields::decimate::repeat_change(plane(&a), plane(&b)))
    });
    g.bench_function("fields_analysis_frame_combed", |bch| {
        bch.iter(|| {
            let moved = ainimotion::fields::decimate::repeat_change(plane(&a), plane(&b));
            let own = ainimotion::fields::comb(plane(&b), plane(&b));
            let pairs = [
                ainimotion::fields::comb(plane(&b), plane(&a)),
                ainimotion::fields::comb(plane(&b), plane(&a)),
                ainimotion::fields::comb(plane(&a), plane(&b)),
                ainimotion::fields::comb(plane(&a), plane(&b)),
            ];
            (moved, own, pairs)
        })
    });
    // What the gate and the fields step cost per frame together in the
    // worst steady case: a HOLD candidate in film mode.
    g.bench_function("gate_and_fields_whole_frame", |bch| {
        bch.iter(|| {
            let gate = worst_case();
            let r = ainimotion::fields::decimate::repeat_change(plane(&a), plane(&b));
            (gate, r)
        })
    });
    g.finish();
}

/// An in-between made at output size (`upscale.inbetweens = "warp"`): two
/// 1280x960 10-bit 4:2:0 pictures (the One Piece demo upscaled 2x) warped
/// with a 640x480 flow and blended, against the upscaler call it replaces
/// (animevideov3 on 640x480: 0.275 s on an AMX Xeon, issue 27).
fn warp(c: &mut Criterion) {
    use ainimotion::resize::warp::warp_blend;
    let mut a = Picture::black(1280, 960, Chroma::Yuv420, 10);
    for (i, v) in a.planes[0].iter_mut().enumerate() {
        *v = 64 + (i * 7 % 876) as u16;
    }
    let mut b = a.clone();
    b.planes[0].rotate_left(3);
    let (w, h) = (640, 480);
    let flow = flow_of(w, h, |c, i| match c {
        4 => 0.5,
        _ => ((i % w) as f32 / w as f32 - 0.5) * 6.0,
    });
    let mut g = c.benchmark_group("warp_960p");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.bench_function("warp_blend_yuv420p10", |bch| {
        bch.iter(|| warp_blend(&a, &b, &flow))
    });
    g.finish();
}

/// The ghost guard's cost per in-between at 1080p (the model's working
/// size): its whole verdict on a motion in-between that reaches the flow
/// test (the dearest path: the mean differences, then both neighbours
/// warped along the flow and compared on the sampled grid).
fn guard(c: &mut Criterion) {
    use ainimotion::picture::RgbImage;
    use ainimotion::stage::guard::{flow_share, judge};
    let (w, h) = (1920, 1080);
    let picture = |shift: usize| {
        let mut img = RgbImage::new(w, h);
        for (i, v) in img.data.iter_mut().enumerate() {
            let x = (i % w + shift) % w;
            *v = if (x / 64 + i / w / 48).is_multiple_of(2) {
                0.2
            } else {
                0.8
            };
        }
        img
    };
    let (a, b, mid) = (picture(0), picture(8), picture(4));
    let flow = flow_of(w, h, |ch, _| match ch {
        0 => 4.0,
        2 => -4.0,
        4 => 0.5,
        _ => 0.0,
    });
    let mut g = c.benchmark_group("guard_1080p");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.bench_function("flow_share", |bch| {
        bch.iter(|| flow_share(&a, &b, Some(&flow)))
    });
    g.bench_function("judge_motion_in_between", |bch| {
        bch.iter(|| judge(&a, &b, &mid, false, Some(&flow)))
    });
    g.finish();
}

/// A flow field of `w` x `h` (its five channels: two motions and the
/// mask), sample `i` of channel `c` being `value(c, i)`.
fn flow_of(w: usize, h: usize, value: impl Fn(usize, usize) -> f32) -> ainimotion::picture::Flow {
    let data = (0..5)
        .flat_map(|c| (0..w * h).map(move |i| (c, i)))
        .map(|(c, i)| value(c, i))
        .collect();
    ainimotion::picture::Flow {
        width: w,
        height: h,
        data,
    }
}

criterion_group!(benches, colour, gate, warp, guard);
criterion_main!(benches);
