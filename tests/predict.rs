//! Predictive alerts through `PerformanceMonitor::tick`: a ramp is predicted before
//! its threshold rule fires, the prediction is withdrawn when the rule takes over,
//! and a flat series (or prediction turned off) predicts nothing.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, Normal};
use redline::monitor::alert::AlertSource;
use redline::monitor::{
    AlertEvent, AlertLevel, Builtin, Comparison, DetectorSpec, MonitorConfig, MonitorSettings,
    PerformanceMonitor, RuleSpec, Transition,
};

const T0: f64 = 1_700_000_000.0;

fn monitor(predict_horizon_minutes: f64) -> PerformanceMonitor {
    let settings = MonitorSettings {
        rules: vec![RuleSpec::new(
            Builtin::LatencyP95,
            Comparison::Above,
            0.5,
            AlertLevel::Warning,
        )],
        detector: DetectorSpec::None,
        predict_horizon_minutes,
        ..MonitorSettings::default()
    };
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"))
}

/// Runs `ticks` ticks of 100 requests around `latency(k)` (1 % noise) on one module.
fn run(
    monitor: &mut PerformanceMonitor,
    ticks: u32,
    latency: impl Fn(u32) -> f64,
) -> Vec<AlertEvent> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let noise = Normal::new(1.0, 0.01).expect("valid normal");
    let mut events = Vec::new();
    for k in 0..ticks {
        for _ in 0..100 {
            let seconds = (latency(k) * noise.sample(&mut rng)).max(0.0);
            monitor
                .record("api", seconds, true, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        events.extend(monitor.tick(T0 + f64::from(k) + 1.0));
    }
    events
}

fn is_prediction(event: &AlertEvent) -> bool {
    matches!(event.alert.source, AlertSource::Prediction { .. })
}

#[test]
fn a_ramp_is_predicted_before_its_rule_fires_and_withdrawn_when_it_does() {
    // 0.2 s rising 1 ms per second: p95 crosses 0.5 s about five minutes in.
    let events = run(&mut monitor(15.0), 420, |k| 0.2 + 0.001 * f64::from(k));
    let predicted = events
        .iter()
        .find(|e| is_prediction(e) && e.transition == Transition::Firing)
        .expect("a prediction fired");
    let fired = events
        .iter()
        .find(|e| !is_prediction(e) && e.transition == Transition::Firing)
        .expect("the rule fired");
    let lead_seconds = fired.at - predicted.at;
    // 185 s: p95 reaches 0.25 s near tick 55 and the trend then waits 60 ticks.
    assert!(lead_seconds >= 120.0, "lead {lead_seconds} s");
    assert_eq!(predicted.alert.level, AlertLevel::Info);
    let message = predicted.alert.message();
    assert!(message.contains("will cross > 0.500 in about"), "{message}");
    let minutes = predicted.alert.evidence.breach_in_seconds.expect("eta") / 60.0;
    assert!(minutes > 0.0 && minutes <= 15.0, "{minutes}");
    let withdrawn = events
        .iter()
        .find(|e| is_prediction(e) && e.transition == Transition::Resolved)
        .expect("withdrawn");
    assert_eq!(withdrawn.at, fired.at, "withdrawn as the rule takes over");
    assert_eq!(
        events
            .iter()
            .filter(|e| is_prediction(e) && e.transition == Transition::Firing)
            .count(),
        1,
        "one prediction"
    );
}

#[test]
fn a_flat_series_near_the_threshold_predicts_nothing() {
    let events = run(&mut monitor(15.0), 600, |_| 0.4);
    assert_eq!(
        events.iter().filter(|e| is_prediction(e)).count(),
        0,
        "{events:?}"
    );
}

#[test]
fn a_ramp_that_levels_off_is_withdrawn() {
    let events = run(&mut monitor(15.0), 600, |k| {
        0.2 + 0.001 * f64::from(k.min(180))
    });
    let kinds: Vec<Transition> = events
        .iter()
        .filter(|e| is_prediction(e))
        .map(|e| e.transition)
        .collect();
    assert_eq!(kinds.first(), Some(&Transition::Pending), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&Transition::Resolved), "{kinds:?}");
    assert!(events.iter().all(is_prediction), "the rule never fires");
}

#[test]
fn predictions_can_be_turned_off() {
    let events = run(&mut monitor(0.0), 420, |k| 0.2 + 0.001 * f64::from(k));
    assert_eq!(events.iter().filter(|e| is_prediction(e)).count(), 0);
}
