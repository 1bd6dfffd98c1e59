//! Criterion bench of each anomaly detector's cost per value (`observe_at`: judge, then
//! learn), over a steady lognormal series with a spike every 500 values, after a
//! warm-up long enough for every detector to be judging.
//!
//! `cargo bench --bench detectors -- --noplot`; the figures go in the README.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

#[path = "../tests/common/detector_workload.rs"]
mod detector_workload;
use detector_workload::{BATCH, STEP_SECONDS, WARM_UP, series, warmed};

fn detectors(c: &mut Criterion) {
    let values = series(WARM_UP + BATCH);
    let mut group = c.benchmark_group("detector_observe");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .throughput(Throughput::Elements(BATCH as u64));
    let kinds = detector_workload::detectors();
    for (name, build) in &kinds {
        group.bench_function(*name, |b| {
            b.iter_batched_ref(
                || warmed(build, &values),
                |detector| {
                    for (i, v) in values[WARM_UP..].iter().enumerate() {
                        let now = STEP_SECONDS * (WARM_UP + i) as f64;
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
