//! Each anomaly detector's cost per value in the browser's wasm engine, on the
//! native bench's workload (benches/detectors.rs): `observe_at` (judge, then learn)
//! over a 4,096-value batch after a 2,000-value warm-up.
//!
//! A measurement, not a timed test: it prints figures for the README and asserts
//! nothing about time. Run with `make measure-wasm` (the bundle's `wasm-release`
//! profile, headless Chromium through wasm-bindgen-test-runner).
#![cfg(target_arch = "wasm32")]

use std::hint::black_box;

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/detector_workload.rs"]
mod detector_workload;
use detector_workload::{BATCH, STEP_SECONDS, WARM_UP, series, warmed};

/// Timed batches per sample: the page's clock is coarse (Chromium rounds
/// `performance.now()` to 0.1 ms without cross-origin isolation), so a sample sums
/// several batches' times.
const BATCHES_PER_SAMPLE: usize = 8;
/// Samples per detector; the median is reported.
const SAMPLES: usize = 21;

/// Milliseconds on the page's clock.
fn now_ms() -> f64 {
    redline::platform::performance_now()
}

/// Nanoseconds per value of one sample: fresh warmed detectors, only the batches timed.
fn sample_ns_per_value(build: &detector_workload::Build, values: &[f64]) -> f64 {
    let mut elapsed_ms = 0.0;
    for _ in 0..BATCHES_PER_SAMPLE {
        let mut detector = warmed(build, values);
        let started = now_ms();
        for (i, v) in values[WARM_UP..].iter().enumerate() {
            let now = STEP_SECONDS * (WARM_UP + i) as f64;
            black_box(detector.observe_at(now, black_box(*v)));
        }
        elapsed_ms += now_ms() - started;
    }
    elapsed_ms * 1e6 / (BATCHES_PER_SAMPLE * BATCH) as f64
}

#[wasm_bindgen_test]
fn detector_cost_per_value_in_wasm() {
    let values = series(WARM_UP + BATCH);
    for (name, build) in &detector_workload::detectors() {
        let mut samples: Vec<f64> = (0..SAMPLES)
            .map(|_| sample_ns_per_value(build, &values))
            .collect();
        samples.sort_by(f64::total_cmp);
        wasm_bindgen_test::console_log!(
            "wasm detector {name}: {:.0} ns per value (median of {SAMPLES}; range {:.0} to {:.0})",
            samples[SAMPLES / 2],
            samples[0],
            samples[SAMPLES - 1]
        );
    }
}
