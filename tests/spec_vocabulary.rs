//! The original spec's vocabulary and severity rules (`check_thresholds`,
//! `ModuleMetrics`, `AlertLevel`), and the dashboard JSON contract.

use redline::monitor::{
    AlertLevel, Builtin, Comparison, DetectorSpec, MetricName, ModuleMetrics, MonitorConfig,
    MonitorSettings, PerformanceMonitor, RecordError, RuleSpec, WindowStats,
};
use serde_json::Value;

const T0: f64 = 1_700_000_000.0;

/// Healthy statistics: nothing in them breaches the spec's thresholds.
fn healthy() -> WindowStats {
    let mut stats = WindowStats::empty();
    stats.percentiles.p50.value = 0.05;
    stats.percentiles.p95.value = 0.1;
    stats.percentiles.p99.value = 0.2;
    stats.latency_mean = 0.06;
    stats.error_rate = 0.01;
    stats.requests_per_second = 50.0;
    stats
}

/// (metric, level) of each alert `check_thresholds` raises for `stats`.
fn check(stats: &WindowStats) -> Vec<(String, AlertLevel)> {
    PerformanceMonitor::default()
        .check_thresholds("checkout", stats, T0)
        .into_iter()
        .map(|alert| (alert.metric, alert.level))
        .collect()
}

fn one(metric: &str, level: AlertLevel) -> Vec<(String, AlertLevel)> {
    vec![(metric.to_owned(), level)]
}

#[test]
fn healthy_statistics_raise_nothing() {
    assert_eq!(check(&healthy()), vec![]);
    let mut slow_mean = healthy();
    slow_mean.latency_mean = 10.0; // the spec has no threshold on the mean
    assert_eq!(check(&slow_mean), vec![]);
}

#[test]
fn an_error_rate_over_ten_percent_is_critical() {
    for (rate, expected) in [
        (0.12, one("error_rate", AlertLevel::Critical)),
        (1.0, one("error_rate", AlertLevel::Critical)),
        (0.10, one("error_rate", AlertLevel::Warning)),
        (0.07, one("error_rate", AlertLevel::Warning)),
        (0.05, vec![]),
        (0.0, vec![]),
    ] {
        let mut stats = healthy();
        stats.error_rate = rate;
        assert_eq!(check(&stats), expected, "error rate {rate}");
    }
}

#[test]
fn a_latency_over_twice_its_threshold_is_critical() {
    for (p95, expected) in [
        (1.2, one("latency_p95", AlertLevel::Critical)),
        (1.0, one("latency_p95", AlertLevel::Warning)),
        (0.7, one("latency_p95", AlertLevel::Warning)),
        (0.5, vec![]),
    ] {
        let mut stats = healthy();
        stats.percentiles.p95.value = p95;
        assert_eq!(check(&stats), expected, "p95 {p95}");
    }
    for (p99, expected) in [
        (2.5, one("latency_p99", AlertLevel::Critical)),
        (1.5, one("latency_p99", AlertLevel::Warning)),
        (1.0, vec![]),
    ] {
        let mut stats = healthy();
        stats.percentiles.p99.value = p99;
        assert_eq!(check(&stats), expected, "p99 {p99}");
    }
}

#[test]
fn requests_per_second_alerts_only_below_its_threshold_and_only_as_a_warning() {
    for (rps, expected) in [
        (5.0, one("requests_per_second", AlertLevel::Warning)),
        (0.0, one("requests_per_second", AlertLevel::Warning)),
        (9.99, one("requests_per_second", AlertLevel::Warning)),
        (10.0, vec![]),
        (500.0, vec![]),
    ] {
        let mut stats = healthy();
        stats.requests_per_second = rps;
        assert_eq!(check(&stats), expected, "rps {rps}");
    }
}

#[test]
fn each_breach_is_its_own_alert_with_the_spec_fields() {
    let mut stats = healthy();
    stats.percentiles.p95.value = 1.2;
    stats.error_rate = 0.07;
    stats.requests_per_second = 3.0;
    let alerts = PerformanceMonitor::default().check_thresholds("checkout", &stats, T0 + 7.0);
    let got: Vec<(&str, f64, f64, AlertLevel)> = alerts
        .iter()
        .map(|a| (a.metric.as_str(), a.value, a.threshold, a.level))
        .collect();
    assert_eq!(
        got,
        vec![
            ("latency_p95", 1.2, 0.5, AlertLevel::Critical),
            ("error_rate", 0.07, 0.05, AlertLevel::Warning),
            ("requests_per_second", 3.0, 10.0, AlertLevel::Warning),
        ]
    );
    assert!(
        alerts
            .iter()
            .all(|a| a.module == "checkout" && a.timestamp == T0 + 7.0)
    );
    assert_eq!(
        alerts[0].message,
        "checkout: latency_p95 = 1.200 (threshold: 0.500)"
    );
    let json = serde_json::to_value(&alerts[1]).expect("serialises");
    let mut keys: Vec<&str> = json
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "level",
            "message",
            "metric",
            "module",
            "threshold",
            "timestamp",
            "value"
        ]
    );
    assert_eq!(json["level"], "warning");
}

#[test]
fn check_thresholds_reads_recorded_statistics() {
    let mut monitor = PerformanceMonitor::default();
    for i in 0..100 {
        monitor
            .record("payments", 0.02, i >= 12, T0 + 0.5)
            .expect("valid");
    }
    monitor.tick(T0 + 1.0);
    let stats = monitor
        .module("payments")
        .expect("module")
        .statistics()
        .clone();
    assert_eq!(stats.error_rate, 0.12);
    let alerts = monitor.check_thresholds("payments", &stats, T0 + 1.0);
    let got: Vec<(&str, AlertLevel)> = alerts
        .iter()
        .map(|a| (a.metric.as_str(), a.level))
        .collect();
    assert_eq!(got, vec![("error_rate", AlertLevel::Critical)]);
}

#[test]
fn the_default_thresholds_are_the_spec_table() {
    let monitor = PerformanceMonitor::default();
    let rules: Vec<(MetricName, Comparison, f64, AlertLevel)> = monitor
        .thresholds()
        .iter()
        .map(|r| (r.metric.clone(), r.comparison, r.threshold, r.level))
        .collect();
    use AlertLevel::{Critical, Warning};
    use Builtin::{ErrorRate, LatencyP95, LatencyP99, RequestsPerSecond};
    use Comparison::{Above, Below};
    for (metric, comparison, threshold, level) in [
        (LatencyP95, Above, 0.5, Warning),
        (LatencyP99, Above, 1.0, Warning),
        (LatencyP95, Above, 1.0, Critical),
        (ErrorRate, Above, 0.05, Warning),
        (ErrorRate, Above, 0.10, Critical),
        (RequestsPerSecond, Below, 10.0, Warning),
    ] {
        let row = (MetricName::Builtin(metric), comparison, threshold, level);
        assert!(rules.contains(&row), "missing {row:?} in {rules:?}");
    }
}

#[test]
fn module_metrics_counts_requests_errors_and_last_update() {
    let mut module = ModuleMetrics::new("database");
    assert_eq!(
        (
            module.request_count(),
            module.error_count(),
            module.last_update()
        ),
        (0, 0, 0.0)
    );
    module.add_request(0.12, true, T0 + 1.0).expect("valid");
    module.add_request(0.30, false, T0 + 3.0).expect("valid");
    module.add_request(0.05, true, T0 + 2.0).expect("valid"); // late arrival
    assert_eq!(module.name(), "database");
    assert_eq!((module.request_count(), module.error_count()), (3, 1));
    assert_eq!(
        module.last_update(),
        T0 + 3.0,
        "last_update never moves back"
    );
    let refused = module.add_request(f64::NAN, false, T0 + 9.0);
    assert!(matches!(refused, Err(RecordError::Latency { .. })));
    assert_eq!(
        (
            module.request_count(),
            module.error_count(),
            module.last_update()
        ),
        (3, 1, T0 + 3.0)
    );
}

#[test]
fn alert_levels_serialise_as_the_spec_names() {
    for (level, name) in [
        (AlertLevel::Info, "info"),
        (AlertLevel::Warning, "warning"),
        (AlertLevel::Critical, "critical"),
    ] {
        let json = serde_json::to_string(&level).expect("serialises");
        assert_eq!(json, format!("\"{name}\""));
        let back: AlertLevel = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, level);
        assert_eq!(level.to_string(), name);
    }
    assert!(AlertLevel::Info < AlertLevel::Warning && AlertLevel::Warning < AlertLevel::Critical);
    assert!(serde_json::from_str::<AlertLevel>("\"WARNING\"").is_err());
}

/// Two modules: `api` breaches the 5 % error warning and has a pending alert on its
/// mean; `db` breaches both error-rate rules (warning and critical).
fn two_module_monitor() -> PerformanceMonitor {
    let mut rules = RuleSpec::spec_defaults();
    rules.push(RuleSpec {
        name: Some("slow mean".to_owned()),
        for_seconds: 60.0,
        ..RuleSpec::new(
            Builtin::LatencyMean,
            Comparison::Above,
            0.01,
            AlertLevel::Warning,
        )
    });
    let settings = MonitorSettings {
        rules,
        detector: DetectorSpec::None,
        ..MonitorSettings::default()
    };
    let mut monitor = PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"));
    for k in 0..3u32 {
        let now = T0 + f64::from(k) + 0.5;
        for i in 0..100u32 {
            monitor
                .record("api", 0.001 * f64::from(i + 1), i >= 7, now)
                .expect("valid");
            monitor.record("db", 0.005, i >= 20, now).expect("valid");
        }
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    monitor
}

fn close(actual: &Value, expected: f64, relative: f64) -> bool {
    actual
        .as_f64()
        .is_some_and(|a| (a - expected).abs() <= relative * expected.abs())
}

#[test]
fn the_snapshot_json_has_the_spec_structure_and_the_recorded_values() {
    let monitor = two_module_monitor();
    let now = T0 + 3.0;
    let json = serde_json::to_value(monitor.snapshot(now)).expect("serialises");
    assert_eq!(json["timestamp"], now);

    let api = &json["modules"]["api"];
    let metrics = &api["metrics"];
    for key in [
        "latency_mean",
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "error_rate",
        "requests_per_second",
    ] {
        assert!(
            metrics[key].is_f64(),
            "modules.api.metrics.{key} missing: {metrics}"
        );
    }
    assert!(close(&metrics["latency_mean"], 0.0505, 1e-12), "{metrics}");
    // 300 samples of 1..=100 ms (three of each): ranks 149, 284 and 296.
    assert!(close(&metrics["latency_p50"], 0.050, 0.01), "{metrics}");
    assert!(close(&metrics["latency_p95"], 0.095, 0.01), "{metrics}");
    assert!(close(&metrics["latency_p99"], 0.099, 0.01), "{metrics}");
    assert_eq!(metrics["error_rate"], 0.07);
    assert_eq!(metrics["requests_per_second"], 100.0);
    assert_eq!(api["last_update"], T0 + 2.5);
    assert_eq!(api["total_requests"], 300);
    assert_eq!(api["total_errors"], 21);
    let db = &json["modules"]["db"];
    assert_eq!(db["metrics"]["error_rate"], 0.2);
    assert_eq!(
        (db["total_requests"].as_u64(), db["total_errors"].as_u64()),
        (Some(300), Some(60))
    );

    let alerts = json["alerts"].as_array().expect("alerts array");
    assert_eq!(alerts.len(), 4, "{alerts:#?}");
    for alert in alerts {
        for key in [
            "timestamp",
            "module",
            "metric",
            "value",
            "threshold",
            "level",
            "message",
        ] {
            assert!(!alert[key].is_null(), "alert without {key}: {alert}");
        }
    }
    let find = |module: &str, metric: &str, threshold: f64| {
        alerts
            .iter()
            .find(|a| a["module"] == module && a["metric"] == metric && a["threshold"] == threshold)
            .unwrap_or_else(|| panic!("no alert {module} {metric} {threshold}: {alerts:#?}"))
    };
    let api_errors = find("api", "error_rate", 0.05);
    assert_eq!(api_errors["value"], 0.07);
    assert_eq!(api_errors["level"], "warning");
    assert_eq!(
        api_errors["timestamp"],
        T0 + 1.0,
        "fired when the first tick closed"
    );
    assert_eq!(
        api_errors["message"],
        "api: error_rate = 0.070 (threshold: 0.050)"
    );
    assert_eq!(find("db", "error_rate", 0.1)["level"], "critical");
    assert_eq!(find("db", "error_rate", 0.05)["level"], "warning");
    assert_eq!(find("db", "error_rate", 0.1)["value"], 0.2);
    let pending = find("api", "latency_mean", 0.01);
    assert_eq!(pending["state"], "pending");

    // Firing alerts of any level count as active; warning_alerts counts firing warnings.
    let summary = &json["summary"];
    assert_eq!(summary["total_modules"], 2);
    assert_eq!(summary["active_alerts"], 3, "{summary}");
    assert_eq!(summary["warning_alerts"], 2, "{summary}");
    assert_eq!(summary["critical_alerts"], 1, "{summary}");
    assert_eq!(summary["pending_alerts"], 1, "{summary}");
}

#[test]
fn every_way_to_read_the_dashboard_agrees() {
    let monitor = two_module_monitor();
    let now = T0 + 3.0;
    let snapshot = serde_json::to_value(monitor.snapshot(now)).expect("serialises");
    // Compared as text: serde_json's default float parser may be 1 ulp off on reading.
    let text = serde_json::to_string(&monitor.snapshot(now)).expect("serialises");
    assert_eq!(monitor.dashboard_json(now), text);
    let parsed: Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(parsed["summary"], snapshot["summary"]);
    assert_eq!(monitor.get_dashboard_data(now), monitor.snapshot(now));
    let metric_snapshot = monitor.metric_snapshot("api", now).expect("module exists");
    assert_eq!(metric_snapshot.module, "api");
    assert_eq!(metric_snapshot.timestamp, now);
    assert_eq!(
        serde_json::to_value(metric_snapshot.metrics).expect("serialises"),
        snapshot["modules"]["api"]["metrics"]
    );
    assert!(monitor.metric_snapshot("nope", now).is_none());
}
