//! The detectors beyond the spec's z-score (issue 7): chosen by `kind` in config with
//! validated settings, each judging a steady series quietly and a clear anomaly
//! loudly, and their alerts carrying detector, score, baseline and sample count in the
//! snapshot JSON.

mod common;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, LogNormal};
use redline::monitor::{AlertLevel, Detector, DetectorSpec, MonitorConfig, MonitorSettings};

use common::T0;

fn spec(json: &str) -> DetectorSpec {
    serde_json::from_str(json).expect("a detector setting")
}

/// `count` lognormal values around 100, seeded.
fn steady(count: usize, seed: u64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let noise = LogNormal::new(100f64.ln(), 0.1).expect("valid lognormal");
    (0..count).map(|_| noise.sample(&mut rng)).collect()
}

/// Alarms (verdicts with a level) over `values`, one per minute from T0.
fn alarms(detector: &mut dyn Detector, values: &[f64]) -> Vec<usize> {
    values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let verdict = detector.observe_at(T0 + 60.0 * i as f64, *v)?;
            assert!(
                (0.0..=1.0).contains(&verdict.anomaly_score),
                "{}: {verdict:?}",
                detector.name()
            );
            verdict.level.map(|_| i)
        })
        .collect()
}

#[test]
fn every_kind_is_chosen_by_name_with_its_defaults() {
    for kind in DetectorSpec::KINDS {
        let spec = spec(&format!(r#"{{"kind": "{kind}"}}"#));
        assert_eq!(spec.kind(), *kind);
        spec.validate().expect("defaults are valid");
        let detector = spec.build().expect("a detector");
        assert_eq!(detector.name(), *kind);
    }
    let settings: MonitorSettings =
        serde_json::from_str(r#"{"detector": {"kind": "robust", "baseline_size": 30}}"#)
            .expect("monitor settings");
    MonitorConfig::new(settings).expect("valid");
}

#[test]
fn bad_detector_settings_say_what_to_change() {
    let unknown =
        MonitorConfig::from_json(r#"{"detector": {"kind": "magic"}}"#).expect_err("unknown kind");
    assert!(unknown.contains("unknown variant `magic`"), "{unknown}");
    assert!(unknown.contains("context"), "lists the kinds: {unknown}");
    let cases = [
        (
            r#"{"kind": "robust", "warning_z": 0}"#,
            "warning_z must be > 0",
        ),
        (
            r#"{"kind": "robust", "baseline_size": 10, "min_samples": 20}"#,
            "min_samples must be at most baseline_size",
        ),
        (
            r#"{"kind": "seasonal", "slots": 0}"#,
            "slots must be 1..10000",
        ),
        (
            r#"{"kind": "level_shift", "warning_sum": 9, "critical_sum": 5}"#,
            "critical_sum must be at least the warning level",
        ),
        (
            r#"{"kind": "context", "max_order": 40}"#,
            "max_order must be 1..16",
        ),
        (
            r#"{"kind": "likelihood", "short_size": 0}"#,
            "short_size must be 1..10000",
        ),
    ];
    for (json, expected) in cases {
        let settings = MonitorSettings {
            detector: spec(json),
            ..MonitorSettings::default()
        };
        let message = MonitorConfig::new(settings).expect_err(json).to_string();
        assert!(message.contains(expected), "{json}: {message}");
    }
    let typo = MonitorConfig::from_json(r#"{"detector": {"kind": "robust", "window": 5}}"#)
        .expect_err("unknown field");
    assert!(typo.contains("unknown field `window`"), "{typo}");
}

#[test]
fn a_steady_series_stays_quiet_and_a_spike_alarms() {
    let mut values = steady(3000, 3);
    values[2500] = 400.0;
    for kind in ["robust", "context", "seasonal"] {
        let mut detector = spec(&format!(r#"{{"kind": "{kind}"}}"#))
            .build()
            .expect("a detector");
        let found = alarms(detector.as_mut(), &values);
        assert!(found.contains(&2500), "{kind} missed the spike: {found:?}");
        // Context fixes its levels at value 300 and finds the tails novel for a while.
        let false_alarms = found.iter().filter(|i| **i != 2500 && **i > 600).count();
        assert!(
            false_alarms <= 5,
            "{kind}: {false_alarms} false alarms in {found:?}"
        );
    }
}

#[test]
fn a_burst_alarms_the_likelihood_detector() {
    // Anomaly likelihood judges the recent average surprise: a burst, not one value.
    let mut values = steady(3000, 4);
    values[2500..2505].iter_mut().for_each(|v| *v *= 4.0);
    let mut detector = spec(r#"{"kind": "likelihood"}"#)
        .build()
        .expect("a detector");
    let found = alarms(detector.as_mut(), &values);
    assert!(
        found.iter().any(|i| (2500..2505).contains(i)),
        "missed the burst: {found:?}"
    );
    assert!(found.iter().all(|i| (2500..2520).contains(i)), "{found:?}");
}

#[test]
fn a_lasting_step_alarms_the_level_shift_detector_and_a_lone_spike_does_not() {
    let mut detector = LevelShiftFixture::new();
    let mut values = steady(600, 5);
    values[300] = 300.0;
    assert!(
        detector.alarms(&values).is_empty(),
        "a lone spike is no shift"
    );
    let mut detector = LevelShiftFixture::new();
    let mut values = steady(600, 6);
    values[400..].iter_mut().for_each(|v| *v *= 1.5);
    let found = detector.alarms(&values);
    let first = found.first().copied().expect("the step alarms");
    assert!((400..410).contains(&first), "alarmed at {first}");
}

struct LevelShiftFixture(Box<dyn Detector>);

impl LevelShiftFixture {
    fn new() -> Self {
        LevelShiftFixture(
            spec(r#"{"kind": "level_shift"}"#)
                .build()
                .expect("a detector"),
        )
    }

    fn alarms(&mut self, values: &[f64]) -> Vec<usize> {
        alarms(self.0.as_mut(), values)
    }
}

#[test]
fn the_seasonal_detector_expects_each_time_of_day_its_own_level() {
    let mut detector = spec(r#"{"kind": "seasonal"}"#).build().expect("a detector");
    // Ten days at 5-minute steps from midnight UTC: 100 by night, 200 from 06:00 to 18:00.
    let start = 1_700_006_400.0;
    for (i, noise) in steady(2880, 8).iter().enumerate() {
        let t = start + 300.0 * i as f64;
        let hour = t.rem_euclid(86_400.0) / 3_600.0;
        let level = if (6.0..18.0).contains(&hour) {
            2.0
        } else {
            1.0
        };
        detector.observe_at(t, level * noise);
    }
    let midnight = start + 10.0 * 86_400.0;
    let noon = midnight + 12.0 * 3_600.0;
    let at_noon = detector.observe_at(noon, 200.0).expect("judged");
    assert_eq!(at_noon.level, None, "200 at noon is usual: {at_noon:?}");
    let at_night = detector
        .observe_at(midnight + 300.0, 200.0)
        .expect("judged");
    assert!(
        at_night.level.is_some(),
        "200 at night is not: {at_night:?}"
    );
}

#[test]
fn issue_7_anomaly_alerts_name_detector_score_baseline_and_samples_in_the_snapshot() {
    let mut monitor =
        common::latency_mean_watcher(spec(r#"{"kind": "robust", "min_samples": 10}"#));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let steady = LogNormal::new(0.1f64.ln(), 0.2).expect("valid lognormal");
    for k in 0..41u32 {
        let factor = if k >= 40 { 5.0 } else { 1.0 };
        for _ in 0..50 {
            let latency = factor * steady.sample(&mut rng);
            let now = T0 + f64::from(k) + 0.5;
            monitor
                .record("database", latency, true, now)
                .expect("valid");
        }
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    let json = serde_json::to_value(monitor.snapshot(T0 + 41.0)).expect("serialises");
    let alerts = json["alerts"].as_array().expect("alerts");
    let alert = alerts
        .iter()
        .find(|a| a["source"]["type"] == "anomaly")
        .expect("an anomaly alert");
    assert_eq!(alert["source"]["detector"], "robust");
    assert_eq!(alert["level"], serde_json::json!(AlertLevel::Critical));
    let evidence = &alert["evidence"];
    assert!(
        evidence["z_score"].as_f64().expect("score") > 6.0,
        "{evidence}"
    );
    let unit = evidence["anomaly_score"].as_f64().expect("anomaly score");
    assert!(unit > 0.5 && unit <= 1.0, "{evidence}");
    let mean = evidence["baseline_mean"].as_f64().expect("baseline");
    assert!((mean - 0.1).abs() < 0.01, "{evidence}");
    assert!(evidence["baseline_std"].as_f64().expect("spread") > 0.0);
    assert_eq!(evidence["baseline_samples"], 40);
    assert_eq!(evidence["samples"], 50);
    let message = alert["message"].as_str().expect("message");
    assert!(message.contains("robust = "), "{message}");
}
