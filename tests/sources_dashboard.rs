//! The spec's dashboard JSON as a source: a document written by Python's json.dumps
//! (bare NaN included), our own monitor's snapshot read back, increases between
//! polls, and arbitrary input.

use proptest::prelude::*;
use redline::monitor::Sample;
use redline::sources::dashboard::{DashboardTotals, parse_dashboard};

mod common;
use common::{T0, monitor};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[test]
fn a_python_document_keeps_its_valid_modules_and_counts_the_rest() {
    let dashboard = parse_dashboard(&fixture("dashboard_python.json")).expect("readable");
    let names: Vec<&str> = dashboard.modules.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["api_gateway", "database"]);
    assert_eq!(dashboard.modules[0].total_requests, 1500);
    assert_eq!(dashboard.modules[1].metrics.latency_p95, 0.65);
    assert_eq!(dashboard.skipped.module_not_a_number, 1, "broken: NaN p95");
    assert_eq!(
        dashboard.skipped.module_out_of_range, 1,
        "negative: rate < 0"
    );
    assert_eq!(dashboard.alerts.len(), 1);
    assert_eq!(dashboard.alerts[0].level, "warning");
    assert_eq!(dashboard.summary.map(|s| s.active_alerts), Some(1));
}

#[test]
fn our_own_snapshot_reads_back_as_a_dashboard_source() {
    let mut monitor = monitor();
    for i in 0..200 {
        let _ = monitor.record("checkout", 0.001 * f64::from(i), i % 10 != 0, T0 + 0.5);
        let _ = monitor.record("search", 0.002, true, T0 + 0.5);
    }
    monitor.tick(T0 + 1.0);
    let dashboard = parse_dashboard(&monitor.dashboard_json(T0 + 1.0)).expect("contract");
    assert_eq!(dashboard.timestamp, T0 + 1.0);
    assert_eq!(dashboard.modules.len(), 2);
    let checkout = &dashboard.modules[0];
    assert_eq!(
        (
            checkout.name.as_str(),
            checkout.total_requests,
            checkout.total_errors
        ),
        ("checkout", 200, 20)
    );
    assert!((checkout.metrics.error_rate - 0.1).abs() < 1e-12);
    assert_eq!(dashboard.skipped, Default::default());
}

#[test]
fn totals_become_increases_and_a_drop_is_a_restart() {
    let doc = |requests: u64, errors: u64| {
        format!(
            r#"{{"timestamp":1,"modules":{{"db":{{"metrics":{{"latency_mean":0,"latency_p50":0,"latency_p95":0,"latency_p99":0,"error_rate":0,"requests_per_second":0}},"last_update":1,"total_requests":{requests},"total_errors":{errors}}}}},"alerts":[],"summary":{{"total_modules":1,"active_alerts":0,"warning_alerts":0}}}}"#
        )
    };
    let mut totals = DashboardTotals::new(10);
    let counts: Vec<Vec<Sample>> = [(100, 5), (150, 7), (20, 1)]
        .iter()
        .map(|(r, e)| totals.increases(&parse_dashboard(&doc(*r, *e)).expect("valid")))
        .collect();
    let expect = |requests, errors| {
        vec![Sample::Counts {
            module: "db".into(),
            requests,
            errors,
        }]
    };
    assert_eq!(counts, vec![expect(0, 0), expect(50, 2), expect(20, 1)]);
    assert_eq!(totals.resets, 1);
}

#[test]
fn broken_documents_fail_with_a_clear_error() {
    let error = parse_dashboard(r#"{"timestamp": 1, "modules": {"#).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("dashboard is not valid JSON: EOF"),
        "{error}"
    );
    let error = parse_dashboard(r#"{"modules": {}}"#).unwrap_err();
    assert_eq!(
        error.to_string(),
        "dashboard JSON lacks a numeric `timestamp`: expected the spec's {timestamp, modules, alerts, summary}"
    );
    assert!(parse_dashboard("[]").is_err());
}

proptest! {
    #[test]
    fn any_text_is_handled_without_panicking(text in r#"[\[\]{}",:0-9a-zNIfinty.\- ]{0,160}"#) {
        let _ = parse_dashboard(&text);
    }
}
