//! Criterion benchmarks of the vision pipeline on the 12 MP and 1080p test photos, with the
//! models loaded once. Run: `cargo bench -p gradphoto-vision --bench vision`.

#![allow(clippy::unwrap_used)] // benchmark set-up: a panic is the failure report

use criterion::{criterion_group, criterion_main, Criterion};
use gradphoto_vision::decode::{decode_reduced, DecodeLimits};
use gradphoto_vision::inspect::working_reduction;
use gradphoto_vision::measures::measure_all;
use gradphoto_vision::raster::fit_within;
use gradphoto_vision::standardize::{plan, render};
use gradphoto_vision::{PhotoSpec, Thresholds, Vision};

fn photo(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/data/photos/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let vision = Vision::load().unwrap();
    let spec = PhotoSpec::chsi();
    let thresholds = Thresholds::default();
    for (label, name) in [("12mp", "phone_12mp.jpg"), ("1080p", "phone_1080p.jpg")] {
        let bytes = photo(name);
        let mut g = c.benchmark_group(label);
        g.sample_size(20);
        let reduction = working_reduction(&bytes).unwrap();
        g.bench_function("decode_working", |b| {
            b.iter(|| decode_reduced(&bytes, DecodeLimits::default(), reduction).unwrap())
        });
        g.bench_function("decode_full", |b| {
            b.iter(|| decode_reduced(&bytes, DecodeLimits::default(), 1).unwrap())
        });
        let decoded = decode_reduced(&bytes, DecodeLimits::default(), reduction).unwrap();
        let thumb = fit_within(&decoded.rgb, 512);
        g.bench_function("thumbnail", |b| b.iter(|| fit_within(&decoded.rgb, 512)));
        g.bench_function("detection", |b| b.iter(|| vision.detect(&thumb).unwrap()));
        let ins = vision.inspect(&bytes).unwrap();
        let det = ins.faces[0].clone();
        g.bench_function("landmarks", |b| {
            b.iter(|| vision.face_mesh(&decoded.rgb, &det).unwrap())
        });
        g.bench_function("segmentation", |b| {
            b.iter(|| vision.segment(&thumb).unwrap())
        });
        let p = plan(&ins, &spec).unwrap();
        g.bench_function("render_refine_encode", |b| {
            b.iter(|| render(vision.segmenter_plan(), &ins, &p, &spec).unwrap())
        });
        g.bench_function("measures", |b| {
            b.iter(|| measure_all(&ins, Some(&p), None, &spec, &thresholds))
        });
        g.bench_function("inspect", |b| b.iter(|| vision.inspect(&bytes).unwrap()));
        g.bench_function("standardize_end_to_end", |b| {
            b.iter(|| vision.standardize(&bytes, &spec).unwrap())
        });
        g.bench_function("analyze_end_to_end", |b| {
            b.iter(|| {
                vision
                    .analyze(&bytes, &spec, &thresholds, None, None)
                    .unwrap()
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
