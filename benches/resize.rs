//! Resize of a x4 model output (3x1440x2560 f32, from 640x360) to 720p and
//! 1080p, on 1 and 2 rayon threads.

use ainimotion::resize::{resize, Filter, Planar};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let (w, h, ch) = (2560usize, 1440usize, 3usize);
    let data: Vec<f32> = (0..ch * h * w)
        .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 1000.0)
        .collect();
    let src = Planar::new(&data, w, h, ch).unwrap();
    let cases = [
        ("area_1440p_to_720p", 1280usize, 720usize, Filter::Area),
        ("lanczos3_1440p_to_720p", 1280, 720, Filter::Lanczos3),
        ("lanczos3_1440p_to_1080p", 1920, 1080, Filter::Lanczos3),
        ("bilinear_1440p_to_1080p", 1920, 1080, Filter::Bilinear),
    ];
    let mut g = c.benchmark_group("resize");
    g.sample_size(20);
    for threads in [1usize, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for (name, ow, oh, f) in cases {
            g.bench_function(format!("{name}/{threads}t"), |b| {
                b.iter(|| pool.install(|| black_box(resize(black_box(&src), ow, oh, f))))
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
