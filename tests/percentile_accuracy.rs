//! Percentile accuracy: the monitor's p50, p95, p99 and p999 against an exact oracle
//! (the sorted samples still in the window), within the sketch's stated relative error.

use proptest::prelude::*;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Pareto};
use redline::monitor::{
    DetectorSpec, MonitorConfig, MonitorSettings, Percentile, PercentileSet, PerformanceMonitor,
};

const T0: f64 = 1_700_000_000.0;
const MODULE: &str = "checkout";
const QUANTILES: [f64; 4] = [0.50, 0.95, 0.99, 0.999];
/// Latencies at or below this many seconds count as zero (DDSketch's minimum value).
const ZERO_SECONDS: f64 = 1e-9;

fn monitor(settings: MonitorSettings) -> PerformanceMonitor {
    let settings = MonitorSettings {
        rules: Vec::new(),
        detector: DetectorSpec::None,
        ..settings
    };
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid settings"))
}

/// The exact quantile: the sample of rank floor(q * (n - 1)), DDSketch's rank rule.
/// The module's p50 as of the last tick.
fn module_p50(monitor: &PerformanceMonitor) -> Percentile {
    monitor
        .module(MODULE)
        .expect("module")
        .statistics()
        .percentiles
        .p50
}

fn oracle(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * (sorted.len() - 1) as f64).floor() as usize;
    sorted[rank]
}

fn each(set: &PercentileSet) -> [Percentile; 4] {
    [set.p50, set.p95, set.p99, set.p999]
}

/// Every percentile of `set` is within its stated bound of the oracle over `samples`.
fn assert_within_bound(samples: &[f64], set: &PercentileSet) -> Result<(), TestCaseError> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    for (q, reported) in QUANTILES.iter().zip(each(set)) {
        let exact = oracle(&sorted, *q);
        let alpha = reported.relative_error.unwrap_or(f64::NAN);
        let error = (reported.value - exact).abs();
        prop_assert!(
            error <= alpha * exact * (1.0 + 1e-9) + ZERO_SECONDS,
            "q={q}: reported {} vs exact {exact} (bound {alpha}, n={})",
            reported.value,
            samples.len()
        );
        prop_assert_eq!(reported.samples, samples.len() as u64);
    }
    Ok(())
}

/// A latency distribution to draw test data from.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Uniform {
        low: f64,
        span: f64,
    },
    LogNormal {
        median: f64,
        sigma: f64,
    },
    Bimodal {
        fast: f64,
        slow_factor: f64,
        slow_share: f64,
    },
    Pareto {
        scale: f64,
        shape: f64,
    },
    Constant(f64),
}

impl Shape {
    fn draw(self, seed: u64, count: usize) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        match self {
            Shape::Uniform { low, span } => (0..count)
                .map(|_| low + span * rng.random::<f64>())
                .collect(),
            Shape::LogNormal { median, sigma } => {
                let dist = LogNormal::new(median.ln(), sigma).expect("valid lognormal");
                (0..count).map(|_| dist.sample(&mut rng)).collect()
            }
            Shape::Bimodal {
                fast,
                slow_factor,
                slow_share,
            } => {
                let fast_dist = LogNormal::new(fast.ln(), 0.15).expect("valid lognormal");
                let slow_dist =
                    LogNormal::new((fast * slow_factor).ln(), 0.15).expect("valid lognormal");
                (0..count)
                    .map(|_| {
                        if rng.random::<f64>() < slow_share {
                            slow_dist.sample(&mut rng)
                        } else {
                            fast_dist.sample(&mut rng)
                        }
                    })
                    .collect()
            }
            Shape::Pareto { scale, shape } => {
                let dist = Pareto::new(scale, shape).expect("valid pareto");
                (0..count).map(|_| dist.sample(&mut rng)).collect()
            }
            Shape::Constant(value) => vec![value; count],
        }
    }
}

fn shapes() -> impl Strategy<Value = Shape> {
    prop_oneof![
        (0.0..1.0f64, 1e-3..10.0f64).prop_map(|(low, span)| Shape::Uniform { low, span }),
        (1e-4..10.0f64, 0.05..2.5f64)
            .prop_map(|(median, sigma)| Shape::LogNormal { median, sigma }),
        (1e-3..0.05f64, 10.0..200.0f64, 0.01..0.5f64).prop_map(
            |(fast, slow_factor, slow_share)| {
                Shape::Bimodal {
                    fast,
                    slow_factor,
                    slow_share,
                }
            }
        ),
        // Shape >= 1 keeps the range inside the default 2048 bins (no collapsing).
        (1e-4..0.1f64, 1.0..3.0f64).prop_map(|(scale, shape)| Shape::Pareto { scale, shape }),
        prop_oneof![Just(0.0), Just(0.25), 1e-6..100.0f64].prop_map(Shape::Constant),
    ]
}

/// Records `samples` round-robin over `ticks` ticks, then closes them all.
fn record_over_ticks(monitor: &mut PerformanceMonitor, samples: &[f64], ticks: usize) {
    for tick in 0..ticks {
        let now = T0 + tick as f64 + 0.5;
        for latency in samples.iter().skip(tick).step_by(ticks) {
            monitor
                .record(MODULE, *latency, true, now)
                .expect("valid record");
        }
        monitor.tick(T0 + tick as f64 + 1.0);
    }
}

proptest! {
    #[test]
    fn percentiles_stay_within_the_sketch_bound(
        shape in shapes(),
        seed in any::<u64>(),
        count in 1usize..3000,
        ticks in 1usize..=60,
    ) {
        let samples = shape.draw(seed, count);
        let mut monitor = monitor(MonitorSettings::default());
        record_over_ticks(&mut monitor, &samples, ticks);
        let stats = monitor.module(MODULE).expect("module exists").statistics();
        prop_assert_eq!(stats.latency_samples, count as u64);
        for reported in each(&stats.percentiles) {
            prop_assert_eq!(reported.relative_error, Some(0.01));
        }
        assert_within_bound(&samples, &stats.percentiles)?;
        let max = samples.iter().copied().fold(0.0, f64::max);
        prop_assert_eq!(stats.latency_max, max);
        let mean = samples.iter().sum::<f64>() / count as f64;
        prop_assert!((stats.latency_mean - mean).abs() <= 1e-9 * mean.max(1.0));
    }

    #[test]
    fn any_finite_latencies_stay_within_the_bound(
        samples in prop::collection::vec(prop_oneof![Just(0.0), 0.0..1e4f64, 1e-7..1e-2f64], 1..500),
    ) {
        let mut monitor = monitor(MonitorSettings::default());
        record_over_ticks(&mut monitor, &samples, 1);
        let stats = monitor.module(MODULE).expect("module exists").statistics();
        assert_within_bound(&samples, &stats.percentiles)?;
    }

    #[test]
    fn a_configured_relative_error_is_reported_and_kept(
        alpha in prop_oneof![Just(0.001), Just(0.005), Just(0.02), Just(0.05)],
        median in 1e-3..1.0f64,
        sigma in 0.1..2.0f64,
        seed in any::<u64>(),
        count in 1usize..2000,
    ) {
        let samples = Shape::LogNormal { median, sigma }.draw(seed, count);
        // Enough bins that a fine alpha never collapses (collapsing is tested below).
        let settings = MonitorSettings { relative_error: alpha, max_bins: 65_536, ..MonitorSettings::default() };
        let mut monitor = monitor(settings);
        record_over_ticks(&mut monitor, &samples, 3);
        let stats = monitor.module(MODULE).expect("module exists").statistics();
        for reported in each(&stats.percentiles) {
            prop_assert_eq!(reported.relative_error, Some(alpha));
        }
        assert_within_bound(&samples, &stats.percentiles)?;
    }

    /// Records spread over many ticks; the oracle holds only the ticks still in the window.
    #[test]
    fn percentiles_cover_only_the_samples_in_the_window(
        shape in shapes(),
        seed in any::<u64>(),
        window_ticks in 1usize..=60,
        per_tick in prop::collection::vec(0usize..40, 1..150),
    ) {
        let settings = MonitorSettings { window_seconds: window_ticks as f64, ..MonitorSettings::default() };
        let mut monitor = monitor(settings);
        let total: usize = per_tick.iter().sum();
        let samples = shape.draw(seed, total);
        let mut by_tick: Vec<&[f64]> = Vec::with_capacity(per_tick.len());
        let mut offset = 0;
        monitor.register(MODULE, Default::default(), T0).expect("module registered");
        for (tick, count) in per_tick.iter().enumerate() {
            let batch = &samples[offset..offset + count];
            offset += count;
            by_tick.push(batch);
            for latency in batch {
                monitor.record(MODULE, *latency, true, T0 + tick as f64 + 0.5).expect("valid record");
            }
            monitor.tick(T0 + tick as f64 + 1.0);

            let first_in_window = (tick + 1).saturating_sub(window_ticks);
            let in_window: Vec<f64> = by_tick[first_in_window..].concat();
            let stats = monitor.module(MODULE).expect("module exists").statistics();
            prop_assert_eq!(stats.latency_samples, in_window.len() as u64);
            prop_assert_eq!(stats.window_requests, in_window.len() as u64);
            let covered_ticks = (tick + 1).min(window_ticks);
            prop_assert_eq!(stats.requests_per_second, in_window.len() as f64 / covered_ticks as f64);
            if in_window.is_empty() {
                for reported in each(&stats.percentiles) {
                    prop_assert_eq!((reported.value, reported.samples, reported.low_confidence), (0.0, 0, true));
                }
                prop_assert_eq!(stats.latency_max, 0.0);
            } else {
                assert_within_bound(&in_window, &stats.percentiles)?;
                prop_assert_eq!(stats.latency_max, in_window.iter().copied().fold(0.0, f64::max));
            }
        }
    }

    /// With few bins the sketch collapses its lowest bins; any percentile it can no
    /// longer vouch for must be flagged low-confidence, never silently wrong.
    #[test]
    fn collapsed_bins_never_pass_off_a_wrong_percentile(
        seed in any::<u64>(),
        sigma in 1.0..3.0f64,
        count in 1usize..2000,
    ) {
        let samples = Shape::LogNormal { median: 0.05, sigma }.draw(seed, count);
        let settings = MonitorSettings { max_bins: 64, min_samples: 1, ..MonitorSettings::default() };
        let mut monitor = monitor(settings);
        record_over_ticks(&mut monitor, &samples, 2);
        let stats = monitor.module(MODULE).expect("module exists").statistics();
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        for (q, reported) in QUANTILES.iter().zip(each(&stats.percentiles)) {
            let exact = oracle(&sorted, *q);
            let within = (reported.value - exact).abs() <= 0.01 * exact * (1.0 + 1e-9) + ZERO_SECONDS;
            prop_assert!(
                within || reported.low_confidence,
                "q={q}: reported {} vs exact {exact}, not flagged", reported.value
            );
            prop_assert!(reported.value <= stats.latency_max);
        }
    }

    /// Below `min_samples` every percentile is flagged; at or above it, a percentile is
    /// flagged only while fewer than one sample is expected above its quantile.
    #[test]
    fn low_confidence_follows_the_sample_count(min_samples in 2u64..200, count in 1usize..1500) {
        let settings = MonitorSettings { min_samples, ..MonitorSettings::default() };
        let mut monitor = monitor(settings);
        let samples = Shape::LogNormal { median: 0.1, sigma: 0.5 }.draw(min_samples, count);
        record_over_ticks(&mut monitor, &samples, 1);
        let set = monitor.module(MODULE).expect("module exists").statistics().percentiles;
        let n = count as u64;
        prop_assert_eq!(set.p50.low_confidence, n < min_samples);
        if n < min_samples {
            prop_assert!(each(&set).iter().all(|p| p.low_confidence));
        }
        if n >= min_samples.max(1000) {
            prop_assert!(each(&set).iter().all(|p| !p.low_confidence));
        }
        for reported in each(&set) {
            prop_assert_eq!(reported.samples, n);
        }
    }
}

#[test]
fn low_confidence_clears_at_min_samples_for_each_percentile() {
    // (samples, expected flags for p50, p95, p99, p999) with the default min_samples = 20.
    let cases = [
        (19, [true, true, true, true]),
        (20, [false, false, true, true]),
        (99, [false, false, true, true]),
        (100, [false, false, false, true]),
        (999, [false, false, false, true]),
        (1000, [false, false, false, false]),
    ];
    for (count, expected) in cases {
        let mut monitor = monitor(MonitorSettings::default());
        let samples = Shape::Uniform {
            low: 0.01,
            span: 0.5,
        }
        .draw(count, count as usize);
        record_over_ticks(&mut monitor, &samples, 1);
        let set = monitor
            .module(MODULE)
            .expect("module exists")
            .statistics()
            .percentiles;
        let flags = each(&set).map(|p| p.low_confidence);
        assert_eq!(flags, expected, "{count} samples");
        assert!(each(&set).iter().all(|p| p.samples == count));
    }
}

#[test]
fn low_confidence_returns_when_samples_leave_the_window() {
    let settings = MonitorSettings {
        window_seconds: 10.0,
        ..MonitorSettings::default()
    };
    let mut monitor = monitor(settings);
    for _ in 0..30 {
        monitor
            .record(MODULE, 0.2, true, T0 + 0.5)
            .expect("valid record");
    }
    monitor.tick(T0 + 1.0);
    let p50 = module_p50(&monitor);
    assert!(!p50.low_confidence, "30 samples >= min_samples 20");
    assert!((p50.value - 0.2).abs() <= 0.002);
    // Then five samples a tick for nine ticks (75 in the window), and quiet ticks
    // until only three of those ticks (15 samples, under min_samples) remain.
    for tick in 1..10 {
        for _ in 0..5 {
            monitor
                .record(MODULE, 0.3, true, T0 + tick as f64 + 0.5)
                .expect("valid record");
        }
        monitor.tick(T0 + tick as f64 + 1.0);
    }
    let p50 = module_p50(&monitor);
    assert_eq!(p50.samples, 75);
    monitor.tick(T0 + 11.0); // tick 0 (the 30 samples) leaves; 45 remain
    monitor.tick(T0 + 17.0); // ticks 1..=6 leave; 3 ticks (15 samples) remain
    let p50 = module_p50(&monitor);
    assert_eq!(p50.samples, 15);
    assert!(p50.low_confidence, "15 samples < min_samples 20");
    assert!((p50.value - 0.3).abs() <= 0.003);
}

/// Regression: growing the bins downward as far as `max_bins` allows, a value below
/// the grown range was folded into the lowest bin without marking the sketch collapsed,
/// so a wrong p50 (0.39 s for 0.1 s) was reported as trustworthy.
#[test]
fn a_value_below_a_capped_range_flags_the_percentile_it_distorts() {
    let mut monitor = monitor(MonitorSettings {
        max_bins: 64,
        min_samples: 1,
        ..MonitorSettings::default()
    });
    monitor
        .record(MODULE, 1.0, true, T0 + 0.5)
        .expect("valid record");
    monitor
        .record(MODULE, 0.1, true, T0 + 0.5)
        .expect("valid record");
    monitor.tick(T0 + 1.0);
    let p50 = module_p50(&monitor);
    let exact = 0.1; // rank floor(0.5 * (2 - 1)) = 0: the smaller sample
    let within = (p50.value - exact).abs() <= 0.01 * exact;
    assert!(
        within || p50.low_confidence,
        "p50 {} (exact {exact}) is neither within 1 % nor flagged",
        p50.value
    );
}
