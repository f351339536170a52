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

criterion_group!(benches, colour);
criterion_main!(benches);
