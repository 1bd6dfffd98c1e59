//! The detectors' cost workload, shared by the native bench (benches/detectors.rs)
//! and the in-browser measurement (tests/wasm_detectors.rs), so that both time the
//! same values: a steady lognormal series with a spike every 500 values.
#![allow(dead_code)] // each user takes what it needs

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, LogNormal};
use redline::monitor::{Detector, DetectorSpec};
use redline::nab::WindowedGaussian;

/// Values per timed batch.
pub const BATCH: usize = 4096;
/// Values learnt before timing, enough for every detector to be judging.
pub const WARM_UP: usize = 2_000;
/// Seconds between values (the seasonal detector places them by time of day).
pub const STEP_SECONDS: f64 = 60.0;

/// Makes a fresh detector.
pub type Build = Box<dyn Fn() -> Box<dyn Detector>>;

/// The series: `count` lognormal values around 100, every 500th five times higher.
pub fn series(count: usize) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let noise = LogNormal::new(100f64.ln(), 0.2).expect("valid lognormal");
    (0..count)
        .map(|i| noise.sample(&mut rng) * if i % 500 == 499 { 5.0 } else { 1.0 })
        .collect()
}

/// NAB's windowedGaussian and every monitor detector kind with its defaults.
pub fn detectors() -> Vec<(&'static str, Build)> {
    let mut kinds: Vec<(&'static str, Build)> = vec![(
        "windowed_gaussian",
        Box::new(|| Box::new(WindowedGaussian::new())),
    )];
    for kind in DetectorSpec::KINDS {
        let spec: DetectorSpec =
            serde_json::from_str(&format!(r#"{{"kind": "{kind}"}}"#)).expect("a kind");
        kinds.push((kind, Box::new(move || spec.build().expect("a detector"))));
    }
    kinds
}

/// A fresh detector that has learnt the series' first `WARM_UP` values.
pub fn warmed(build: &Build, values: &[f64]) -> Box<dyn Detector> {
    let mut detector = build();
    for (i, v) in values[..WARM_UP].iter().enumerate() {
        detector.observe_at(STEP_SECONDS * i as f64, *v);
    }
    detector
}
