//! Input other than timed requests, and input that is refused: counters-only records,
//! histogram samples with their bucket bounds, and invalid latencies and module names.

use proptest::prelude::*;
use redline::monitor::metrics::PercentileMethod;
use redline::monitor::window::BucketError;
use redline::monitor::{ModuleStatus, RecordError, Sample};

mod common;
use common::{T0, monitor, stats};

#[test]
fn counters_only_records_feed_rates_but_not_latency() {
    let mut monitor = monitor();
    for k in 0..5u32 {
        let now = T0 + f64::from(k) + 0.5;
        monitor.record_counts("queue", 60, 3, now).expect("valid");
        let sample = Sample::Counts {
            module: "queue".to_owned(),
            requests: 60,
            errors: 3,
        };
        monitor.observe(&sample, now).expect("valid");
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    let s = stats(&monitor, "queue");
    assert_eq!((s.window_requests, s.window_errors), (600, 30));
    assert_eq!((s.requests_per_second, s.error_rate), (120.0, 0.05));
    assert_eq!(
        (s.latency_samples, s.latency_mean, s.latency_max),
        (0, 0.0, 0.0)
    );
    assert_eq!(s.percentiles.p95.samples, 0);
    assert!(s.percentiles.p95.low_confidence);
    let module = monitor.module("queue").expect("module");
    assert_eq!((module.request_count(), module.error_count()), (600, 30));
    assert_eq!(module.last_update(), T0 + 4.5);
    assert_eq!(
        monitor.snapshot(T0 + 5.0).modules["queue"].status,
        ModuleStatus::Ok
    );
}

#[test]
fn counts_mix_with_timed_requests_and_errors_never_exceed_requests() {
    let mut monitor = monitor();
    for _ in 0..10 {
        monitor
            .record("mixed", 0.3, false, T0 + 0.5)
            .expect("valid");
    }
    monitor
        .record_counts("mixed", 90, 0, T0 + 0.5)
        .expect("valid");
    monitor
        .record_counts("mixed", 5, 9, T0 + 0.5)
        .expect("valid"); // 9 errors of 5 requests
    monitor.tick(T0 + 1.0);
    let s = stats(&monitor, "mixed");
    assert_eq!(
        (s.window_requests, s.window_errors, s.latency_samples),
        (105, 15, 10)
    );
    assert!(s.error_rate <= 1.0);
    assert!(
        (s.latency_mean - 0.3).abs() < 1e-12,
        "counts carry no latency"
    );
}

#[test]
fn histogram_samples_report_the_bucket_bounds() {
    let mut monitor = monitor();
    let bounds = vec![0.1, 0.25, 0.5, 1.0, f64::INFINITY];
    for k in 0..2u32 {
        let sample = Sample::Histogram {
            module: "scraped".to_owned(),
            upper_bounds_seconds: bounds.clone(),
            increases: vec![25, 20, 4, 1, 0],
            sum_increase_seconds: 7.5,
        };
        monitor
            .observe(&sample, T0 + f64::from(k) + 0.5)
            .expect("valid histogram");
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    // Window: [50, 40, 8, 2, 0]; ranks 50, 95 and 99 of 100.
    let s = stats(&monitor, "scraped");
    assert_eq!(s.latency_samples, 100);
    assert!((s.latency_mean - 0.15).abs() < 1e-12);
    let expect = [
        (s.percentiles.p50, 0.0, 0.1),
        (s.percentiles.p95, 0.25, 0.5),
        (s.percentiles.p99, 0.5, 1.0),
    ];
    for (p, lower, upper) in expect {
        assert_eq!(p.method, PercentileMethod::Buckets);
        assert_eq!((p.bucket_lower, p.bucket_upper), (Some(lower), Some(upper)));
        assert!(
            (lower..=upper).contains(&p.value),
            "{} outside [{lower}, {upper}]",
            p.value
        );
        assert_eq!(p.samples, 100);
    }
    assert_eq!(s.latency_max, 1.0, "the highest non-empty bucket's bound");
}

#[test]
fn bad_histograms_are_refused_and_counted() {
    let mut monitor = monitor();
    let bad = [
        (vec![0.1, 0.5], vec![1, 1]),                   // no +Inf
        (vec![0.5, 0.1, f64::INFINITY], vec![1, 1, 1]), // not ascending
        (vec![0.1, f64::INFINITY], vec![1]),            // one count short
        (vec![f64::NAN, f64::INFINITY], vec![1, 1]),    // NaN bound
    ];
    for (bounds, increases) in bad {
        let sample = Sample::Histogram {
            module: "scraped".to_owned(),
            upper_bounds_seconds: bounds,
            increases,
            sum_increase_seconds: 0.0,
        };
        let refused = monitor.observe(&sample, T0);
        assert!(
            matches!(
                refused,
                Err(RecordError::Histogram(
                    BucketError::BadBounds | BucketError::LengthMismatch { .. }
                ))
            ),
            "{refused:?}"
        );
    }
    assert_eq!(monitor.snapshot(T0).monitor.rejected_histograms, 4);
    assert!(
        monitor.module("scraped").is_none(),
        "refused samples created a module"
    );
}

/// Prometheus's own rule: the q-quantile is the smallest value with at least q * n
/// samples at or below it, i.e. the sample of (1-based) rank ceil(q * n).
fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.max(1) - 1]
}

proptest! {
    /// Histogram percentiles: the exact quantile of the latencies behind the buckets
    /// lies within the reported bucket bounds, and the estimate lies inside them too.
    #[test]
    fn bucket_bounds_contain_the_exact_quantile(
        latencies in prop::collection::vec(0.0005..20.0f64, 1..400),
        ticks in 1usize..5,
    ) {
        const BOUNDS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, f64::INFINITY];
        let mut monitor = monitor();
        for tick in 0..ticks {
            let mut increases = vec![0u64; BOUNDS.len()];
            let mut sum = 0.0;
            for latency in latencies.iter().skip(tick).step_by(ticks) {
                let bucket = BOUNDS.iter().position(|bound| latency <= bound).unwrap_or(BOUNDS.len() - 1);
                increases[bucket] += 1;
                sum += latency;
            }
            let sample = Sample::Histogram {
                module: "scraped".to_owned(),
                upper_bounds_seconds: BOUNDS.to_vec(),
                increases,
                sum_increase_seconds: sum,
            };
            monitor.observe(&sample, T0 + tick as f64 + 0.5).expect("valid histogram");
            monitor.tick(T0 + tick as f64 + 1.0);
        }
        let mut sorted = latencies.clone();
        sorted.sort_by(f64::total_cmp);
        let s = stats(&monitor, "scraped");
        prop_assert_eq!(s.latency_samples, latencies.len() as u64);
        let mean = latencies.iter().sum::<f64>() / latencies.len() as f64;
        // Window sums are whole nanoseconds: each tick's sum rounds by up to 0.5 ns.
        let rounding = 0.5e-9 * ticks as f64 / latencies.len() as f64;
        prop_assert!((s.latency_mean - mean).abs() <= 1e-9 * mean + rounding);
        let set = s.percentiles;
        for (q, p) in [(0.5, set.p50), (0.95, set.p95), (0.99, set.p99), (0.999, set.p999)] {
            let exact = nearest_rank(&sorted, q);
            let lower = p.bucket_lower.unwrap_or(f64::NAN);
            let upper = p.bucket_upper.unwrap_or(f64::INFINITY);
            prop_assert_eq!(p.method, PercentileMethod::Buckets);
            prop_assert!(lower < exact && exact <= upper, "q={}: {} outside ({}, {}]", q, exact, lower, upper);
            prop_assert!(lower <= p.value && p.value <= upper);
            prop_assert_eq!(p.samples, latencies.len() as u64);
        }
    }
}

#[test]
fn invalid_latencies_are_refused_counted_and_leave_no_trace() {
    let mut monitor = monitor();
    monitor.record("db", 0.1, true, T0 + 0.5).expect("valid");
    for latency in [f64::NAN, -0.001, f64::INFINITY, f64::NEG_INFINITY] {
        let refused = monitor.record("db", latency, true, T0 + 0.6);
        assert!(
            matches!(refused, Err(RecordError::Latency { .. })),
            "{latency}: {refused:?}"
        );
        let message = refused
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains("finite number of seconds >= 0"),
            "{message}"
        );
    }
    // A refused record for a module never seen must not create it.
    let refused = monitor.record("ghost", f64::NAN, true, T0 + 0.6);
    assert!(matches!(refused, Err(RecordError::Latency { .. })));
    monitor.tick(T0 + 1.0);
    let s = stats(&monitor, "db");
    assert_eq!((s.window_requests, s.latency_samples), (1, 1));
    assert_eq!(monitor.module("db").expect("db").last_update(), T0 + 0.5);
    let snapshot = monitor.snapshot(T0 + 1.0);
    assert_eq!(snapshot.monitor.rejected_records, 5);
    assert!(
        monitor.module("ghost").is_none(),
        "a refused record created module 'ghost'"
    );
    assert_eq!(snapshot.summary.total_modules, 1);
}

#[test]
fn invalid_module_names_are_refused_and_counted() {
    let mut monitor = monitor();
    let long = "m".repeat(257);
    for name in ["", "bad\nname", "tab\there", "del\u{7f}", long.as_str()] {
        let refused = monitor.record(name, 0.1, true, T0);
        assert!(
            matches!(refused, Err(RecordError::ModuleName { .. })),
            "{name:?}: {refused:?}"
        );
        let refused = monitor.record_counts(name, 1, 0, T0);
        assert!(
            matches!(refused, Err(RecordError::ModuleName { .. })),
            "{name:?}: {refused:?}"
        );
    }
    assert!(
        monitor.record(&"m".repeat(256), 0.1, true, T0).is_ok(),
        "256 bytes is allowed"
    );
    assert!(monitor.record("ünïcode ok", 0.1, true, T0).is_ok());
    let snapshot = monitor.snapshot(T0);
    assert_eq!(snapshot.monitor.rejected_records, 10);
    assert_eq!(snapshot.summary.total_modules, 2);
}

#[test]
fn reported_statistics_stand_for_the_window_until_a_window_passes_without_one() {
    use redline::monitor::ReportedMetrics;
    use redline::monitor::{DetectorSpec, MonitorConfig, MonitorSettings, PerformanceMonitor};
    // The spec's rules, no anomaly detection.
    let settings = MonitorSettings {
        detector: DetectorSpec::None,
        ..MonitorSettings::default()
    };
    let mut monitor = PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"));
    let report = |p95: f64| Sample::Reported {
        module: "legacy".to_owned(),
        metrics: ReportedMetrics {
            latency_mean: Some(0.2),
            latency_p50: Some(0.15),
            latency_p95: Some(p95),
            latency_p99: Some(1.5),
            requests_per_second: Some(40.0),
            error_rate: Some(0.12),
            total_requests: Some(5_000),
            total_errors: Some(600),
        },
    };
    for k in 0..10u32 {
        monitor
            .observe(&report(0.8), T0 + f64::from(k) + 0.5)
            .expect("valid");
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    let s = stats(&monitor, "legacy");
    assert_eq!((s.requests_per_second, s.error_rate), (40.0, 0.12));
    assert_eq!(s.percentiles.p95.value, 0.8);
    assert_eq!(s.percentiles.p95.method, PercentileMethod::Reported);
    assert!(!s.percentiles.p95.low_confidence);
    assert_eq!((s.total_requests, s.total_errors), (5_000, 600));
    // The spec's rules judge reported values like any others: p95 0.8 s is a warning,
    // an error rate of 12 % critical.
    let snapshot = monitor.snapshot(T0 + 10.0);
    let firing: Vec<(&str, String)> = snapshot
        .alerts
        .iter()
        .map(|a| (a.metric.as_str(), a.level.to_string()))
        .collect();
    assert!(
        firing.contains(&("latency_p95", "warning".to_owned())),
        "{firing:?}"
    );
    assert!(
        firing.contains(&("error_rate", "critical".to_owned())),
        "{firing:?}"
    );
    // Bad values are refused and counted; the last good report stays.
    let mut bad = report(f64::NAN);
    assert!(matches!(
        monitor.observe(&bad, T0 + 10.5),
        Err(RecordError::Reported {
            metric: "latency_p95",
            ..
        })
    ));
    if let Sample::Reported { metrics, .. } = &mut bad {
        metrics.latency_p95 = Some(0.8);
        metrics.error_rate = Some(1.5);
    }
    assert!(monitor.observe(&bad, T0 + 10.5).is_err());
    // A window with no report: the module has no data of its own, and its alerts
    // resolve once `clear_for` has passed.
    for second in 80..90 {
        monitor.tick(T0 + f64::from(second));
    }
    let s = stats(&monitor, "legacy");
    assert_eq!((s.requests_per_second, s.percentiles.p95.value), (0.0, 0.0));
    let snapshot = monitor.snapshot(T0 + 89.0);
    let left: Vec<&str> = snapshot
        .alerts
        .iter()
        .filter(|a| a.state == redline::monitor::AlertState::Firing)
        .map(|a| a.metric.as_str())
        .collect();
    // Only the spec's "requests_per_second < 10" still holds for a silent module.
    assert_eq!(left, ["requests_per_second"]);
}
