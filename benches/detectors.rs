//! Criterion bench of each anomaly detector's cost per value (`observe_at`: judge, then
//! learn), over a steady lognormal series with a spike every 500 values, after a
//! warm-up long enough for every detector to be judging.
//!
//! `cargo bench --bench detectors -- --noplot`; the figures go in the README.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, LogNormal};
use redline::monitor::{Detector, DetectorSpec};
use redline::nab::WindowedGaussian;

/// Values per iteration.
const BATCH: usize = 4096;
/// Values learnt before timing.
const WARM_UP: usize = 2_000;

/// Makes a fresh detector.
type Build = Box<dyn Fn() -> Box<dyn Detector>>;

fn series(count: usize) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let noise = LogNormal::new(100f64.ln(), 0.2).expect("valid lognormal");
    (0..count)
        .map(|i| noise.sample(&mut rng) * if i % 500 == 499 { 5.0 } else { 1.0 })
        .collect()
}

fn detectors(c: &mut Criterion) {
    let values = series(WARM_UP + BATCH);
    let mut group = c.benchmark_group("detector_observe");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .throughput(Throughput::Elements(BATCH as u64));
    let mut kinds: Vec<(&str, Build)> = vec![(
        "windowed_gaussian",
        Box::new(|| Box::new(WindowedGaussian::new())),
    )];
    for kind in DetectorSpec::KINDS {
        let spec: DetectorSpec =
            serde_json::from_str(&format!(r#"{{"kind": "{kind}"}}"#)).expect("a kind");
        kinds.push((kind, Box::new(move || spec.build().expect("a detector"))));
    }
    for (name, build) in &kinds {
        group.bench_function(*name, |b| {
            b.iter_batched_ref(
                || {
                    let mut detector = build();
                    for (i, v) in values[..WARM_UP].iter().enumerate() {
                        detector.observe_at(60.0 * i as f64, *v);
                    }
                    detector
                },
                |detector| {
                    for (i, v) in values[WARM_UP..].iter().enumerate() {
                        let now = 60.0 * (WARM_UP + i) as f64;
                        black_box(detector.observe_at(now, black_box(*v)));
                    }
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, detectors);
criterion_main!(benches);
