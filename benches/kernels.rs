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
    let cm = Colorimetry {
        matrix: Matrix::Bt709,
        full_range: false,
    };
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

/// Gating cost per 1080p frame: thumbnail of the full-resolution luma plus
/// the comparison with the previous thumbnail (what the gate does per frame).
fn gate(c: &mut Criterion) {
    use ainimotion::gate::{compare, thumbnail, Luma};
    let a = picture_1080p();
    let mut b = picture_1080p();
    for (i, v) in b.planes[0].iter_mut().enumerate() {
        *v = 64 + ((i * 7 + 3) % 876) as u16;
    }
    let luma = |p: &Picture| -> Vec<u16> { p.planes[0].clone() };
    let (la, lb) = (luma(&a), luma(&b));
    fn mk(d: &[u16]) -> Luma<'_> {
        Luma {
            data: d,
            width: 1920,
            height: 1080,
            stride: 1920,
            bit_depth: 10,
        }
    }
    let ta = thumbnail(&mk(&la));
    let tb = thumbnail(&mk(&lb));
    let mut g = c.benchmark_group("gate_1080p_one_core");
    g.throughput(Throughput::Elements(1));
    g.bench_function("thumbnail", |bch| bch.iter(|| thumbnail(&mk(&lb))));
    g.bench_function("compare", |bch| bch.iter(|| compare(&ta, &tb)));
    g.bench_function("thumbnail_and_compare", |bch| {
        bch.iter(|| compare(&ta, &thumbnail(&mk(&lb))))
    });
    g.finish();
}

criterion_group!(benches, colour, gate);
criterion_main!(benches);
