//! The simulator: deterministic for a seed, and its scripted incidents fire and resolve
//! the expected alerts within two minutes.

use redline::monitor::simulate::{Scenario, Simulator, monitor_modules};
use redline::monitor::{
    AlertEvent, AlertLevel, Builtin, MetricName, ModuleSource, PerformanceMonitor, Transition,
};

const START: f64 = 1_700_000_000.0;

fn play(seed: u64, seconds: f64) -> (PerformanceMonitor, Vec<AlertEvent>) {
    let mut monitor = PerformanceMonitor::default();
    let mut simulator = Simulator::new(Scenario::default(), seed, START);
    simulator.register(&mut monitor, START).expect("register");
    let events = simulator
        .run_until(&mut monitor, START + seconds)
        .expect("run");
    (monitor, events)
}

fn first(
    events: &[AlertEvent],
    module: &str,
    metric: Builtin,
    level: AlertLevel,
    transition: Transition,
) -> Option<f64> {
    events
        .iter()
        .find(|e| {
            e.alert.module == module
                && e.alert.metric == MetricName::Builtin(metric)
                && e.alert.level == level
                && e.transition == transition
                && matches!(
                    e.alert.source,
                    redline::monitor::alert::AlertSource::Threshold { .. }
                )
        })
        .map(|e| e.at - START)
}

#[test]
fn same_seed_replays_exactly() {
    let (a, events_a) = play(7, 90.0);
    let (b, events_b) = play(7, 90.0);
    assert_eq!(
        a.dashboard_json(START + 90.0),
        b.dashboard_json(START + 90.0)
    );
    assert_eq!(events_a, events_b);
    let (c, _) = play(8, 90.0);
    assert_ne!(
        a.dashboard_json(START + 90.0),
        c.dashboard_json(START + 90.0)
    );
}

#[test]
fn incidents_fire_and_resolve_within_two_minutes() {
    let (monitor, events) = play(42, 240.0);
    // Latency spike on the database at 20 s.
    let critical = first(
        &events,
        "database",
        Builtin::LatencyP95,
        AlertLevel::Critical,
        Transition::Firing,
    )
    .expect("database p95 critical fires");
    let resolved = first(
        &events,
        "database",
        Builtin::LatencyP95,
        AlertLevel::Critical,
        Transition::Resolved,
    )
    .expect("database p95 critical resolves");
    assert!(critical > 20.0 && critical < 30.0, "fired at {critical}");
    assert!(resolved < 20.0 + 120.0, "resolved at {resolved}");
    assert!(
        first(
            &events,
            "database",
            Builtin::LatencyP95,
            AlertLevel::Warning,
            Transition::Firing
        )
        .is_some()
    );
    // Error burst on the gateway at 60 s.
    let burst = first(
        &events,
        "api_gateway",
        Builtin::ErrorRate,
        AlertLevel::Critical,
        Transition::Firing,
    )
    .expect("error-rate critical fires");
    let burst_end = first(
        &events,
        "api_gateway",
        Builtin::ErrorRate,
        AlertLevel::Critical,
        Transition::Resolved,
    )
    .expect("error-rate critical resolves");
    assert!(
        burst > 60.0 && burst_end < 60.0 + 120.0,
        "{burst} .. {burst_end}"
    );
    let warning = first(
        &events,
        "api_gateway",
        Builtin::ErrorRate,
        AlertLevel::Warning,
        Transition::Firing,
    )
    .expect("error-rate warning fires");
    assert!(warning < burst, "the warning comes first");
    // Traffic drop on search at 100 s.
    let drop = first(
        &events,
        "search_engine",
        Builtin::RequestsPerSecond,
        AlertLevel::Warning,
        Transition::Firing,
    )
    .expect("traffic drop fires");
    let drop_end = first(
        &events,
        "search_engine",
        Builtin::RequestsPerSecond,
        AlertLevel::Warning,
        Transition::Resolved,
    )
    .expect("traffic drop resolves");
    assert!(
        drop > 100.0 && drop_end < 100.0 + 120.0,
        "{drop} .. {drop_end}"
    );
    // Nothing else breaches a threshold: the cache is never alerted on.
    assert!(events.iter().all(|e| e.alert.module != "cache"
        || !matches!(
            e.alert.source,
            redline::monitor::alert::AlertSource::Threshold { .. }
        )));
    let snapshot = monitor.snapshot(START + 240.0);
    assert!(
        snapshot
            .modules
            .values()
            .all(|m| m.source == ModuleSource::Simulated)
    );
}

#[test]
fn monitor_modules_reads_like_the_spec() {
    let mut monitor = PerformanceMonitor::default();
    let modules = ["api_gateway", "database", "cache", "search_engine"];
    let dashboard = monitor_modules(&mut monitor, &modules, 30.0, START, 1).expect("monitor");
    assert_eq!(dashboard.summary.total_modules, 4);
    for name in modules {
        let module = &dashboard.modules[name];
        assert!(module.total_requests > 0, "{name} saw traffic");
        assert!(module.metrics.latency_p95 >= module.metrics.latency_p50);
    }
    let gateway = dashboard.modules["api_gateway"].metrics.requests_per_second;
    assert!(
        (150.0..250.0).contains(&gateway),
        "api_gateway at {gateway} req/s"
    );
}

#[test]
fn any_module_list_gets_incidents() {
    let scenario = Scenario::for_modules(&["payments", "ledger", "auth"]);
    assert_eq!(scenario.incidents.len(), 3);
    assert!(scenario.validate().is_ok());
    let mut monitor = PerformanceMonitor::default();
    let mut simulator = Simulator::new(scenario, 3, START);
    let events = simulator
        .run_until(&mut monitor, START + 170.0)
        .expect("run");
    for kind in [
        Builtin::LatencyP95,
        Builtin::ErrorRate,
        Builtin::RequestsPerSecond,
    ] {
        assert!(
            events.iter().any(|e| e.transition == Transition::Firing
                && e.alert.metric == MetricName::Builtin(kind)),
            "{kind:?} fired"
        );
    }
}
