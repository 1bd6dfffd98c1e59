//! The z-score detector: the spec's `AnomalyDetector` example, its thresholds, its
//! baseline rules, and an anomaly alert raised end to end by `PerformanceMonitor`.

mod common;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, LogNormal};
use redline::monitor::alert::AlertSource;
use redline::monitor::{
    AlertEvent, AlertLevel, AnomalyDetector, Detector, DetectorSpec, MetricName, MonitorConfig,
    MonitorSettings, PerformanceMonitor, RollingZScore, Transition, ZScoreSettings,
};

const T0: f64 = 1_700_000_000.0;

/// A baseline of mean 0.100 and (population) standard deviation 0.010.
fn spec_baseline(values: usize) -> AnomalyDetector {
    let mut detector = AnomalyDetector::new();
    for i in 0..values {
        let value = if i % 2 == 0 { 0.09 } else { 0.11 };
        detector.update_baseline("database", "latency_p95", value);
    }
    detector
}

#[test]
fn the_spec_example_half_a_second_is_anomalous_and_0_105_is_not() {
    let detector = spec_baseline(20);
    let z = detector
        .detect_anomaly("database", "latency_p95", 0.5)
        .expect("0.5 s against 0.100 ± 0.010 is anomalous");
    assert!(
        (z - 40.0).abs() < 1e-3,
        "z = {z}, expected (0.5 - 0.1) / 0.01 = 40"
    );
    assert_eq!(
        detector.detect_anomaly("database", "latency_p95", 0.105),
        None
    );
    let verdict = detector
        .verdict("database", "latency_p95", 0.105)
        .expect("baseline ready");
    assert!((verdict.score - 0.5).abs() < 1e-3, "z = {}", verdict.score);
    assert!((verdict.baseline_mean - 0.1).abs() < 1e-6);
    assert!((verdict.baseline_std - 0.01).abs() < 1e-6);
    assert_eq!(verdict.baseline_samples, 20);
}

#[test]
fn baselines_are_kept_per_module_and_metric() {
    let detector = spec_baseline(20);
    assert_eq!(
        detector.detect_anomaly("database", "latency_p99", 0.5),
        None
    );
    assert_eq!(detector.detect_anomaly("cache", "latency_p95", 0.5), None);
}

#[test]
fn judging_needs_ten_baseline_values() {
    let mut detector = AnomalyDetector::new();
    for i in 0..9 {
        let value = if i % 2 == 0 { 0.09 } else { 0.11 };
        detector.update_baseline("db", "latency_mean", value);
    }
    assert_eq!(
        detector.detect_anomaly("db", "latency_mean", 0.5),
        None,
        "9 values"
    );
    assert_eq!(detector.verdict("db", "latency_mean", 0.5), None);
    detector.update_baseline("db", "latency_mean", 0.11);
    let z = detector.detect_anomaly("db", "latency_mean", 0.5);
    assert!(z.is_some_and(|z| z > 30.0), "10 values: {z:?}");
}

#[test]
fn three_sigma_warns_and_four_sigma_is_critical() {
    let detector = spec_baseline(40);
    let cases = [
        (0.0, None),
        (2.9, None),
        (3.1, Some(AlertLevel::Warning)),
        (3.9, Some(AlertLevel::Warning)),
        (4.1, Some(AlertLevel::Critical)),
        (10.0, Some(AlertLevel::Critical)),
        (-2.9, None),
        (-3.5, Some(AlertLevel::Warning)),
        (-4.5, Some(AlertLevel::Critical)),
    ];
    for (sigmas, level) in cases {
        let value = 0.1 + sigmas * 0.01;
        let verdict = detector
            .verdict("database", "latency_p95", value)
            .expect("baseline ready");
        assert!(
            (verdict.score - sigmas).abs() < 1e-4,
            "{sigmas}: z = {}",
            verdict.score
        );
        assert_eq!(verdict.level, level, "z = {sigmas}");
        let detected = detector.detect_anomaly("database", "latency_p95", value);
        assert_eq!(detected.is_some(), level.is_some(), "z = {sigmas}");
    }
}

#[test]
fn a_flat_baseline_gives_finite_scores() {
    for flat in [0.0, 0.2, 1e6] {
        let mut detector = RollingZScore::new(ZScoreSettings::default());
        for _ in 0..30 {
            detector.update(flat);
        }
        let same = detector.evaluate(flat).expect("baseline ready");
        assert!(
            same.score.abs() < 1e-3 && same.level.is_none(),
            "flat {flat}: {same:?}"
        );
        assert!(same.baseline_std > 0.0, "a zero std is floored");
        for value in [flat + 1e-12, flat * 1.001, flat * 1.5 + 1.0, flat - 1.0] {
            let verdict = detector.evaluate(value).expect("baseline ready");
            assert!(
                verdict.score.is_finite(),
                "flat {flat}, value {value}: {verdict:?}"
            );
        }
        let jump = detector.evaluate(flat * 2.0 + 1.0).expect("baseline ready");
        assert_eq!(jump.level, Some(AlertLevel::Critical), "flat {flat}");
    }
}

#[test]
fn non_finite_values_are_never_judged_nor_learned() {
    let mut detector = RollingZScore::new(ZScoreSettings::default());
    for i in 0..20 {
        detector.update(if i % 2 == 0 { 0.09 } else { 0.11 });
    }
    assert_eq!(detector.observe(f64::NAN), None);
    assert_eq!(detector.observe(f64::INFINITY), None);
    let (mean, std) = detector.baseline().expect("baseline");
    assert!((mean - 0.1).abs() < 1e-6 && (std - 0.01).abs() < 1e-6);
}

#[test]
fn a_value_is_judged_before_it_joins_the_baseline() {
    let mut detector = RollingZScore::new(ZScoreSettings::default());
    for i in 0..10 {
        detector.update(if i % 2 == 0 { 0.09 } else { 0.11 });
    }
    let first = detector.observe(1.0).expect("baseline ready");
    assert_eq!(first.level, Some(AlertLevel::Critical));
    assert_eq!(
        first.baseline_samples, 10,
        "judged against the 10 values before it"
    );
    let second = detector.evaluate(1.0).expect("baseline ready");
    assert_eq!(second.baseline_samples, 11);
    assert!(
        second.score < first.score,
        "the outlier widened the baseline"
    );
}

#[test]
fn the_baseline_is_only_the_recent_values() {
    let mut detector = RollingZScore::new(ZScoreSettings {
        baseline_size: 10,
        ..ZScoreSettings::default()
    });
    for _ in 0..10 {
        detector.update(5.0);
    }
    for i in 0..10 {
        detector.update(if i % 2 == 0 { 0.09 } else { 0.11 });
    }
    let verdict = detector.evaluate(0.105).expect("baseline ready");
    assert_eq!(
        verdict.level, None,
        "the old 5.0 values have left: {verdict:?}"
    );
    assert_eq!(verdict.baseline_samples, 10);
}

fn anomaly_events(events: &[AlertEvent]) -> impl Iterator<Item = &AlertEvent> {
    events
        .iter()
        .filter(|e| matches!(e.alert.source, AlertSource::Anomaly { .. }))
}

#[test]
fn a_latency_jump_raises_an_anomaly_alert_with_its_evidence() {
    // Fires on the first anomalous tick, so the evidence is the pre-jump baseline.
    let mut monitor = common::latency_mean_watcher(DetectorSpec::Zscore(ZScoreSettings::default()));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let steady = LogNormal::new(0.1f64.ln(), 0.2).expect("valid lognormal");
    let mut events = Vec::new();
    let jump_at: u32 = 40;
    for k in 0..jump_at + 5 {
        let factor = if k >= jump_at { 5.0 } else { 1.0 };
        for _ in 0..50 {
            let latency = factor * steady.sample(&mut rng);
            monitor
                .record("database", latency, true, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        // A quiet neighbour must stay quiet.
        monitor
            .record("cache", 0.002, true, T0 + f64::from(k) + 0.5)
            .expect("valid");
        let tick_events = monitor.tick(T0 + f64::from(k) + 1.0);
        if k < jump_at {
            assert_eq!(
                anomaly_events(&tick_events).count(),
                0,
                "tick {k}: {tick_events:?}"
            );
        }
        events.extend(tick_events);
    }
    let firing: Vec<&AlertEvent> = anomaly_events(&events)
        .filter(|e| e.transition == Transition::Firing)
        .collect();
    assert_eq!(firing.len(), 1, "{firing:?}");
    let alert = &firing[0].alert;
    assert_eq!(
        firing[0].at,
        T0 + f64::from(jump_at) + 1.0,
        "fires on the first tick after the jump"
    );
    assert_eq!(alert.module, "database");
    assert_eq!(alert.metric, MetricName::from("latency_mean".to_owned()));
    assert_eq!(
        alert.source,
        AlertSource::Anomaly {
            detector: "zscore".to_owned()
        }
    );
    let evidence = alert.evidence;
    let z = evidence.z_score.expect("z-score in the evidence");
    let mean = evidence
        .baseline_mean
        .expect("baseline mean in the evidence");
    let std = evidence.baseline_std.expect("baseline std in the evidence");
    assert!(z > 4.0, "z = {z}");
    assert_eq!(alert.level, AlertLevel::Critical);
    assert!(
        (mean - 0.1).abs() < 0.01,
        "baseline mean {mean} is the pre-jump latency_mean"
    );
    assert!(std > 0.0 && std < 0.01, "baseline std {std}");
    assert!(
        ((evidence.value - mean) / std - z).abs() < 1e-3 * z,
        "z agrees with value, mean and std"
    );
    assert_eq!(evidence.baseline_samples, Some(jump_at as usize));
    assert!(evidence.value > mean + 3.0 * std);
    assert!(alert.message().contains("anomalous"), "{}", alert.message());
    let active: Vec<_> = monitor.active_alerts().collect();
    assert!(active.iter().all(|a| a.module == "database"), "{active:?}");
}

/// Ticks of a steady lognormal workload for `modules` modules, with an optional latency
/// factor from tick `jump_at` on; returns the anomaly events.
fn steady_run(modules: usize, ticks: u32, jump: Option<(u32, f64)>, seed: u64) -> Vec<AlertEvent> {
    let settings = MonitorSettings {
        rules: Vec::new(),
        ..MonitorSettings::default()
    };
    let mut monitor = PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let latency = LogNormal::new(0.05f64.ln(), 0.5).expect("valid lognormal");
    let names: Vec<String> = (0..modules).map(|i| format!("service-{i}")).collect();
    let mut events = Vec::new();
    for k in 0..ticks {
        let factor = match jump {
            Some((at, factor)) if k >= at => factor,
            _ => 1.0,
        };
        for name in &names {
            for n in 0..100u32 {
                let ok = n % 100 != 0; // 1 % errors
                let seconds = factor * latency.sample(&mut rng);
                monitor
                    .record(name, seconds, ok, T0 + f64::from(k) + 0.5)
                    .expect("valid");
            }
        }
        events.extend(monitor.tick(T0 + f64::from(k) + 1.0));
    }
    anomaly_events(&events).cloned().collect()
}

#[test]
fn a_steady_workload_raises_no_anomaly_alerts() {
    // 50 modules × 6 metrics × 600 ticks = 180,000 judgements of stationary data.
    let events = steady_run(50, 600, None, 11);
    let fired: Vec<String> = events
        .iter()
        .filter(|e| e.transition == Transition::Firing)
        .map(|e| e.alert.message())
        .collect();
    assert!(fired.len() <= 2, "{} false alarms: {fired:?}", fired.len());
}

#[test]
fn a_single_odd_tick_stays_pending_and_a_lasting_shift_fires() {
    let events = steady_run(1, 80, Some((60, 4.0)), 5);
    let firing: Vec<&AlertEvent> = events
        .iter()
        .filter(|e| e.transition == Transition::Firing)
        .collect();
    assert!(!firing.is_empty(), "a lasting 4x latency shift fires");
    let first = firing.iter().map(|e| e.at).fold(f64::INFINITY, f64::min);
    let pending = events
        .iter()
        .filter(|e| e.transition == Transition::Pending && e.alert.id == firing[0].alert.id)
        .map(|e| e.at)
        .next()
        .expect("it was pending first");
    assert_eq!(
        pending,
        T0 + 61.0,
        "pending on the first tick after the shift"
    );
    assert_eq!(
        first - pending,
        3.0,
        "fires once anomaly_for_seconds (3 s) has passed"
    );
}

/// A module whose error rate sits at zero, then sees `errors` failed requests out of
/// 200 in one tick; returns the anomaly events on its error rate.
fn error_rate_anomalies(errors: u32) -> Vec<AlertEvent> {
    let settings = MonitorSettings {
        rules: Vec::new(),
        ..MonitorSettings::default()
    };
    let mut monitor = PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"));
    let mut events = Vec::new();
    for k in 0..400u32 {
        let failed = if k >= 380 { errors } else { 0 };
        for n in 0..200u32 {
            monitor
                .record("billing", 0.05, n >= failed, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        events.extend(monitor.tick(T0 + f64::from(k) + 1.0));
    }
    anomaly_events(&events)
        .filter(|e| e.alert.metric == MetricName::from("error_rate".to_owned()))
        .cloned()
        .collect()
}

#[test]
fn an_error_or_two_against_a_rate_of_zero_is_chance_and_a_burst_is_an_anomaly() {
    // One or two failures in 200 requests: within what chance gives (a z-score in the
    // millions against a spread learnt at zero, without the sampling floor).
    for errors in [1, 2] {
        let events = error_rate_anomalies(errors);
        assert!(events.is_empty(), "{errors} errors: {events:#?}");
    }
    // Twenty in 200 (10 %) is far beyond it.
    let events = error_rate_anomalies(20);
    assert!(
        events.iter().any(|e| e.transition == Transition::Firing),
        "{events:#?}"
    );
}
