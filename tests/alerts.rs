//! Alert lifecycle through `PerformanceMonitor::tick`: every transition, deduplication
//! and hysteresis (the no-flap test).

use redline::monitor::{
    AlertEvent, AlertLevel, AlertState, Builtin, Comparison, CustomKind, DetectorSpec,
    MonitorConfig, MonitorSettings, PerformanceMonitor, RuleSpec, Sample, Transition,
    ZScoreSettings,
};

const T0: f64 = 1_700_000_000.0;

fn monitor_with(settings: MonitorSettings) -> PerformanceMonitor {
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid settings"))
}

/// Threshold rules only (no anomaly detector), over a window of `window_seconds`.
fn monitor(rules: Vec<RuleSpec>, window_seconds: f64) -> PerformanceMonitor {
    monitor_with(MonitorSettings {
        rules,
        window_seconds,
        detector: DetectorSpec::None,
        ..MonitorSettings::default()
    })
}

fn error_rule(threshold: f64, for_seconds: f64) -> RuleSpec {
    RuleSpec {
        for_seconds,
        ..RuleSpec::new(
            Builtin::ErrorRate,
            Comparison::Above,
            threshold,
            AlertLevel::Warning,
        )
    }
}

/// Records `requests` requests of 10 ms into tick `k` of `module`, `errors` of them failed.
fn record(monitor: &mut PerformanceMonitor, module: &str, k: u32, requests: u32, errors: u32) {
    let now = T0 + f64::from(k) + 0.5;
    for i in 0..requests {
        monitor
            .record(module, 0.01, i >= errors, now)
            .expect("valid record");
    }
}

/// Records tick `k` of one module, then closes the tick and returns its alert events.
fn feed(
    monitor: &mut PerformanceMonitor,
    module: &str,
    k: u32,
    requests: u32,
    errors: u32,
) -> Vec<AlertEvent> {
    record(monitor, module, k, requests, errors);
    monitor.tick(closes(k))
}

/// When tick `k` closes.
fn closes(k: u32) -> f64 {
    T0 + f64::from(k) + 1.0
}

fn transitions(events: &[AlertEvent]) -> Vec<(Transition, f64)> {
    events.iter().map(|e| (e.transition, e.at)).collect()
}

fn count(events: &[AlertEvent], transition: Transition) -> usize {
    events.iter().filter(|e| e.transition == transition).count()
}

#[test]
fn an_alert_goes_pending_then_firing_then_resolved() {
    let mut monitor = monitor(vec![error_rule(0.05, 3.0)], 1.0);
    let mut events = feed(&mut monitor, "db", 0, 100, 0);
    assert!(events.is_empty());
    events.extend(feed(&mut monitor, "db", 1, 100, 20));
    let snapshot = monitor.snapshot(closes(1));
    assert_eq!(
        (
            snapshot.summary.pending_alerts,
            snapshot.summary.active_alerts
        ),
        (1, 0)
    );
    assert_eq!(snapshot.alerts[0].state, AlertState::Pending);
    for k in 2..10 {
        events.extend(feed(&mut monitor, "db", k, 100, 20));
        let firing = monitor.snapshot(closes(k)).summary.active_alerts;
        assert_eq!(
            firing,
            usize::from(k >= 4),
            "tick {k}: fires once `for` (3 s) has elapsed"
        );
    }
    for k in 10..20 {
        events.extend(feed(&mut monitor, "db", k, 100, 0));
    }
    // Clear from tick 10 (closing at +11); resolved once clear for 5 s.
    assert_eq!(
        transitions(&events),
        vec![
            (Transition::Pending, closes(1)),
            (Transition::Firing, closes(4)),
            (Transition::Resolved, closes(15)),
        ]
    );
    assert!(
        events.iter().all(|e| e.alert.id == events[0].alert.id),
        "one alert throughout"
    );
    let resolved = &events[2].alert;
    assert_eq!(resolved.state, AlertState::Resolved);
    assert_eq!(
        (resolved.firing_since, resolved.ended_at),
        (Some(closes(4)), Some(closes(15)))
    );
    assert_eq!(resolved.peak_value, 0.2);
    assert_eq!(monitor.active_alerts().count(), 0);
    assert_eq!(monitor.resolved_alerts().count(), 1);
    let snapshot = monitor.snapshot(closes(19));
    assert_eq!(
        (
            snapshot.summary.active_alerts,
            snapshot.summary.pending_alerts
        ),
        (0, 0)
    );
    assert_eq!(
        snapshot.alerts.len(),
        1,
        "the resolved alert is still listed"
    );
    assert_eq!(snapshot.alerts[0].state, AlertState::Resolved);
}

#[test]
fn a_pending_alert_is_cancelled_when_its_condition_clears() {
    let mut monitor = monitor(vec![error_rule(0.05, 3.0)], 1.0);
    let mut events = feed(&mut monitor, "db", 0, 1000, 200);
    // 4.8 %: below the threshold, inside the hysteresis band; a pending alert still cancels.
    events.extend(feed(&mut monitor, "db", 1, 1000, 48));
    assert_eq!(
        transitions(&events),
        vec![
            (Transition::Pending, closes(0)),
            (Transition::Cancelled, closes(1))
        ]
    );
    assert_eq!(events[1].alert.state, AlertState::Cancelled);
    assert_eq!(monitor.active_alerts().count(), 0);
    assert_eq!(
        monitor.resolved_alerts().count(),
        0,
        "a cancelled alert never fired"
    );

    // A new breach is a new alert.
    let again = feed(&mut monitor, "db", 2, 1000, 200);
    assert_eq!(transitions(&again), vec![(Transition::Pending, closes(2))]);
    assert_ne!(again[0].alert.id, events[0].alert.id);
}

#[test]
fn resolving_waits_for_the_value_to_stay_clear() {
    let mut monitor = monitor(vec![error_rule(0.05, 0.0)], 1.0);
    let mut events = feed(&mut monitor, "db", 0, 1000, 100);
    assert_eq!(
        transitions(&events),
        vec![
            (Transition::Pending, closes(0)),
            (Transition::Firing, closes(0))
        ],
        "with no `for`, pending and firing come together"
    );
    for k in 1..4 {
        events.extend(feed(&mut monitor, "db", k, 1000, 0)); // clear for 3 s
    }
    events.extend(feed(&mut monitor, "db", 4, 1000, 47)); // back in the band: the clock restarts
    for k in 5..20 {
        events.extend(feed(&mut monitor, "db", k, 1000, 0));
    }
    assert_eq!(count(&events, Transition::Firing), 1);
    let resolved: Vec<f64> = events
        .iter()
        .filter(|e| e.transition == Transition::Resolved)
        .map(|e| e.at)
        .collect();
    assert_eq!(
        resolved,
        vec![closes(5) + 5.0],
        "5 s after the value cleared again"
    );
}

#[test]
fn anomaly_alerts_change_level_while_firing() {
    let mut monitor = monitor_with(MonitorSettings {
        rules: Vec::new(),
        detector: DetectorSpec::Zscore(ZScoreSettings::default()),
        detect_metrics: vec!["queue_depth".to_owned()],
        // Fire on the first anomalous tick: this test is about level changes.
        anomaly_for_seconds: 0.0,
        ..MonitorSettings::default()
    });
    let depth = |monitor: &mut PerformanceMonitor, k: u32, value: f64| {
        let sample = Sample::Custom {
            module: "worker".to_owned(),
            name: "queue_depth".to_owned(),
            kind: CustomKind::Gauge,
            value,
        };
        monitor
            .observe(&sample, T0 + f64::from(k) + 0.5)
            .expect("valid gauge");
        monitor.tick(closes(k))
    };
    let mut events = Vec::new();
    for k in 0..20 {
        // Baseline: mean 100, standard deviation 10.
        events.extend(depth(
            &mut monitor,
            k,
            if k % 2 == 0 { 90.0 } else { 110.0 },
        ));
    }
    assert!(events.is_empty(), "{events:?}");
    events.extend(depth(&mut monitor, 20, 135.0)); // z = 3.5: warning
    events.extend(depth(&mut monitor, 21, 160.0)); // against 21 values (135 included): z = 4.75
    events.extend(depth(&mut monitor, 22, 160.0)); // against 22 values: z = 3.26
    for k in 23..30 {
        events.extend(depth(&mut monitor, k, 100.0));
    }
    let seen: Vec<(Transition, AlertLevel, f64)> = events
        .iter()
        .map(|e| (e.transition, e.alert.level, e.at))
        .collect();
    assert_eq!(
        seen,
        vec![
            (Transition::Pending, AlertLevel::Warning, closes(20)),
            (Transition::Firing, AlertLevel::Warning, closes(20)),
            (Transition::LevelChanged, AlertLevel::Critical, closes(21)),
            (Transition::LevelChanged, AlertLevel::Warning, closes(22)),
            (Transition::Resolved, AlertLevel::Warning, closes(23) + 5.0),
        ]
    );
    let z = events[2].alert.evidence.z_score.expect("z-score");
    assert!((z - 4.75).abs() < 0.01, "z = {z}");
}

#[test]
fn a_long_breach_is_one_alert_per_module_metric_and_rule() {
    let mut monitor = monitor(RuleSpec::spec_defaults(), 60.0);
    let mut events = Vec::new();
    for k in 0..200 {
        record(&mut monitor, "db", k, 100, 20); // 20 % errors: warning and critical rules
        record(&mut monitor, "cache", k, 100, 0);
        events.extend(monitor.tick(closes(k)));
        let active: Vec<_> = monitor.active_alerts().collect();
        assert_eq!(active.len(), 2, "tick {k}: {active:?}");
    }
    assert_eq!(events.len(), 4, "{:?}", transitions(&events));
    assert_eq!(count(&events, Transition::Pending), 2);
    assert_eq!(count(&events, Transition::Firing), 2);
    assert!(events.iter().all(|e| e.alert.module == "db"));
    let levels: Vec<AlertLevel> = monitor.active_alerts().map(|a| a.level).collect();
    assert!(levels.contains(&AlertLevel::Warning) && levels.contains(&AlertLevel::Critical));
    let ids: Vec<u64> = monitor.active_alerts().map(|a| a.id).collect();
    let fired_ids: Vec<u64> = events
        .iter()
        .filter(|e| e.transition == Transition::Firing)
        .map(|e| e.alert.id)
        .collect();
    assert_eq!(ids.len(), 2);
    assert!(
        ids.iter().all(|id| fired_ids.contains(id)),
        "the alerts that fired are the ones still active"
    );
    let snapshot = monitor.snapshot(closes(199));
    assert_eq!(snapshot.alerts.len(), 2);
    assert_eq!(
        (
            snapshot.summary.active_alerts,
            snapshot.summary.warning_alerts
        ),
        (2, 1)
    );
}

/// Error rate per tick, in errors per 1000 requests: hovering around the 5 % warning
/// (never clear of its 4.5 % hysteresis band for long), then clearly below it.
fn hovering_error_rate() -> Vec<u32> {
    let mut permille = vec![52];
    permille.extend([48; 10]); // below the threshold for twice `clear_for`
    permille.push(52);
    for i in 0..20 {
        permille.push(if i % 2 == 0 { 48 } else { 52 }); // tick-by-tick wobble
    }
    permille.extend([49, 46, 50, 47, 51, 48, 46, 49]);
    permille.extend([20; 15]); // clearly below the band
    permille
}

fn run_error_rate(rule: RuleSpec, permille: &[u32]) -> Vec<AlertEvent> {
    // Flap control off: these tests are about the lifecycle underneath it.
    run_error_rate_with(rule, permille, 0, 1.0)
}

/// `run_error_rate` with flap control (`flap_max_transitions`, `flap_settle_seconds`).
fn run_error_rate_with(
    rule: RuleSpec,
    permille: &[u32],
    flap_max_transitions: usize,
    flap_settle_seconds: f64,
) -> Vec<AlertEvent> {
    let mut monitor = monitor_with(MonitorSettings {
        rules: vec![rule],
        window_seconds: 1.0,
        detector: DetectorSpec::None,
        flap_max_transitions,
        flap_settle_seconds,
        ..MonitorSettings::default()
    });
    let mut events = Vec::new();
    for (k, errors) in permille.iter().enumerate() {
        events.extend(feed(&mut monitor, "api", k as u32, 1000, *errors));
    }
    events
}

#[test]
fn an_error_rate_hovering_at_the_threshold_does_not_flap() {
    let series = hovering_error_rate();
    let events = run_error_rate(RuleSpec::spec_defaults()[4].clone(), &series);
    assert_eq!(
        count(&events, Transition::Firing),
        1,
        "{:?}",
        transitions(&events)
    );
    assert_eq!(
        count(&events, Transition::Resolved),
        1,
        "{:?}",
        transitions(&events)
    );
    let first_clear = series.iter().position(|e| *e == 20).expect("a clear tick") as u32;
    let resolved = events
        .iter()
        .find(|e| e.transition == Transition::Resolved)
        .expect("resolved");
    assert_eq!(
        resolved.at,
        closes(first_clear) + 5.0,
        "resolves only after the drop"
    );
    assert_eq!(resolved.alert.peak_value, 0.052);
}

#[test]
fn the_same_series_flaps_without_hysteresis() {
    // Control for the test above: the series really does cross the threshold often
    // enough to flap if the band is removed.
    let series = hovering_error_rate();
    let no_band = RuleSpec {
        hysteresis: 0.0,
        ..RuleSpec::spec_defaults()[4].clone()
    };
    let events = run_error_rate(no_band, &series);
    assert!(
        count(&events, Transition::Firing) >= 2,
        "{:?}",
        transitions(&events)
    );
    let raw = RuleSpec {
        hysteresis: 0.0,
        clear_for_seconds: 0.0,
        ..RuleSpec::spec_defaults()[4].clone()
    };
    let events = run_error_rate(raw, &series);
    assert!(
        count(&events, Transition::Firing) >= 10,
        "{:?}",
        transitions(&events)
    );
}

#[test]
fn a_p95_wobbling_around_half_a_second_does_not_flap() {
    let mut monitor = monitor(vec![RuleSpec::spec_defaults()[0].clone()], 1.0);
    assert_eq!(monitor.thresholds()[0].threshold, 0.5);
    let mut events = Vec::new();
    // 100 requests a tick; the 95th (rank floor(0.95 * 99) = 94) is the first slow one.
    let tick = |monitor: &mut PerformanceMonitor, k: u32, slow: f64| {
        for i in 0..100 {
            let latency = if i < 94 { 0.1 } else { slow };
            monitor
                .record("search", latency, true, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        monitor.tick(closes(k))
    };
    for k in 0..40 {
        let slow = match k % 4 {
            0 => 0.52,
            1 => 0.48,
            2 => 0.47,
            _ => 0.51,
        };
        events.extend(tick(&mut monitor, k, slow));
    }
    for k in 40..60 {
        events.extend(tick(&mut monitor, k, 0.3));
    }
    assert_eq!(
        count(&events, Transition::Firing),
        1,
        "{:?}",
        transitions(&events)
    );
    let resolved: Vec<f64> = events
        .iter()
        .filter(|e| e.transition == Transition::Resolved)
        .map(|e| e.at)
        .collect();
    assert_eq!(resolved, vec![closes(40) + 5.0]);
}

/// A rule with neither hysteresis nor clear time: every crossing is a transition.
fn raw_error_rule() -> RuleSpec {
    RuleSpec {
        hysteresis: 0.0,
        clear_for_seconds: 0.0,
        ..RuleSpec::spec_defaults()[4].clone()
    }
}

#[test]
fn an_oscillating_value_is_held_as_flapping_and_notifies_twice() {
    // 40 ticks alternating around 5 %, then 30 clearly below.
    let mut series: Vec<u32> = (0..40).map(|i| if i % 2 == 0 { 52 } else { 48 }).collect();
    series.extend([20; 30]);
    let events = run_error_rate_with(raw_error_rule(), &series, 4, 10.0);
    let kinds = transitions(&events);
    // Changes that notify: firing (with its pending, one tick), resolved, twice; the
    // fifth (pending and firing again) is folded into one `flapping` event.
    assert_eq!(count(&events, Transition::Flapping), 1, "{kinds:?}");
    assert_eq!(events.len(), 8, "six, into flapping, out of it: {kinds:?}");
    let flapping = events
        .iter()
        .position(|e| e.transition == Transition::Flapping)
        .expect("flapping");
    assert_eq!(flapping, 6, "{kinds:?}");
    let out = &events[7];
    assert_eq!(out.transition, Transition::Resolved, "{kinds:?}");
    assert_eq!(
        out.alert.id, events[flapping].alert.id,
        "one alert throughout"
    );
    let first_clear = series.iter().position(|e| *e == 20).expect("clear") as u32;
    // The last change underneath is the resolve at the last 4.8 % tick.
    assert_eq!(
        out.at,
        closes(first_clear - 1) + 10.0,
        "settles 10 s after the last change"
    );
}

#[test]
fn a_flapping_alert_shows_in_the_snapshot_and_counts_as_active() {
    let mut monitor = monitor_with(MonitorSettings {
        rules: vec![raw_error_rule()],
        window_seconds: 1.0,
        detector: DetectorSpec::None,
        ..MonitorSettings::default()
    });
    for k in 0..12 {
        feed(
            &mut monitor,
            "api",
            k,
            1000,
            if k % 2 == 0 { 52 } else { 48 },
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&monitor.dashboard_json(closes(11))).expect("json");
    assert_eq!(json["alerts"][0]["state"], "flapping", "{json}");
    assert_eq!(json["summary"]["active_alerts"], 1);
    assert_eq!(json["summary"]["warning_alerts"], 1);
    assert_eq!(json["summary"]["flapping_alerts"], 1);
    let alert = monitor.active_alerts().next().expect("held");
    assert_eq!(alert.state, AlertState::Flapping);
}

#[test]
fn a_flapping_alert_that_settles_breaching_fires_again() {
    let mut series: Vec<u32> = (0..20).map(|i| if i % 2 == 0 { 52 } else { 48 }).collect();
    series.extend([90; 30]);
    let events = run_error_rate_with(raw_error_rule(), &series, 4, 10.0);
    let last = events.last().expect("events");
    assert_eq!(
        last.transition,
        Transition::Firing,
        "{:?}",
        transitions(&events)
    );
    assert_eq!(last.alert.state, AlertState::Firing);
    assert_eq!(count(&events, Transition::Flapping), 1);
}
