//! JSON dashboards in the original spec's `get_dashboard_data()` format: each module's
//! reported metrics become the module's statistics in redline, so services built on
//! the original Python design appear beside the rest.
//!
//! Python's `json.dumps` writes `NaN` and `Infinity` for such floats, which JSON does
//! not allow; they are read as missing values and counted, not as a broken document.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::monitor::{ModuleSource, PerformanceMonitor, ReportedMetrics, Sample};

/// The spec's dashboard document, as far as redline reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SpecDashboard {
    /// When the source made it, Unix seconds.
    #[serde(default)]
    pub timestamp: Option<f64>,
    /// Modules by name.
    pub modules: BTreeMap<String, SpecModule>,
    /// The source's own alerts.
    #[serde(default)]
    pub alerts: Vec<serde_json::Value>,
}

/// One module of the spec's dashboard.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SpecModule {
    /// The six spec metrics; a missing or non-numeric one is left out.
    #[serde(default)]
    pub metrics: BTreeMap<String, Option<serde_json::Value>>,
    /// Requests since the source started.
    #[serde(default)]
    pub total_requests: Option<serde_json::Value>,
    /// Errors since the source started.
    #[serde(default)]
    pub total_errors: Option<serde_json::Value>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("not a dashboard in the spec's format: {0}")]
pub struct DashboardError(String);

/// Parses a document, reading `NaN`, `Infinity` and `-Infinity` as missing values.
pub fn parse_dashboard(text: &str) -> Result<SpecDashboard, DashboardError> {
    let text = null_non_finite(text);
    serde_json::from_str(&text).map_err(|e| DashboardError(e.to_string()))
}

/// Replaces the bare tokens `NaN`, `Infinity` and `-Infinity` outside strings by `null`.
fn null_non_finite(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            rest = &rest[c.len_utf8()..];
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        let token = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|token| rest.starts_with(token));
        match token {
            Some(token) => {
                out.push_str("null");
                rest = &rest[token.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What one poll gave the monitor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DashboardReport {
    /// Modules taken.
    pub accepted: u64,
    /// Values or modules skipped, with why.
    pub problems: Vec<String>,
    /// Alerts the source itself reported.
    pub source_alerts: usize,
}

/// Feeds polled dashboards to a monitor, keeping at most `max_modules` modules.
#[derive(Debug, Clone)]
pub struct DashboardFeed {
    max_modules: usize,
    modules: std::collections::BTreeSet<String>,
}

impl DashboardFeed {
    /// A feed that creates at most `max_modules` modules.
    pub fn new(max_modules: usize) -> DashboardFeed {
        DashboardFeed {
            max_modules,
            modules: Default::default(),
        }
    }

    /// Records each module's reported statistics at `now`.
    pub fn feed(
        &mut self,
        monitor: &mut PerformanceMonitor,
        document: &SpecDashboard,
        now: f64,
    ) -> DashboardReport {
        let mut report = DashboardReport {
            source_alerts: document.alerts.len(),
            ..DashboardReport::default()
        };
        let mut skipped_over_cap = 0usize;
        for (name, module) in &document.modules {
            if !self.modules.contains(name) {
                if self.modules.len() >= self.max_modules {
                    skipped_over_cap += 1;
                    continue;
                }
                self.modules.insert(name.clone());
            }
            let (metrics, problems) = reported(module);
            for problem in problems {
                report.problems.push(format!("{name}: {problem}"));
            }
            let sample = Sample::Reported {
                module: name.clone(),
                metrics,
            };
            match monitor.observe(&sample, now) {
                Ok(id) => {
                    monitor.set_source(id, ModuleSource::Dashboard);
                    report.accepted += 1;
                }
                Err(error) => report.problems.push(format!("{name}: {error}")),
            }
        }
        if skipped_over_cap > 0 {
            report.problems.push(format!(
                "{skipped_over_cap} modules skipped: this source may create at most {}",
                self.max_modules
            ));
        }
        report
    }
}

/// A module's values, skipping (and naming) those that are missing, NaN or negative.
fn reported(module: &SpecModule) -> (ReportedMetrics, Vec<String>) {
    let mut problems = Vec::new();
    let mut value = |name: &str| -> Option<f64> {
        let raw = module.metrics.get(name)?;
        match raw.as_ref().and_then(serde_json::Value::as_f64) {
            Some(v) if v.is_finite() && v >= 0.0 && (name != "error_rate" || v <= 1.0) => Some(v),
            _ => {
                problems.push(format!(
                    "{name} = {} skipped",
                    raw.as_ref()
                        .map_or("NaN/null".to_owned(), |v| v.to_string())
                ));
                None
            }
        }
    };
    let metrics = ReportedMetrics {
        latency_mean: value("latency_mean"),
        latency_p50: value("latency_p50"),
        latency_p95: value("latency_p95"),
        latency_p99: value("latency_p99"),
        requests_per_second: value("requests_per_second"),
        error_rate: value("error_rate"),
        total_requests: module
            .total_requests
            .as_ref()
            .and_then(serde_json::Value::as_u64),
        total_errors: module
            .total_errors
            .as_ref()
            .and_then(serde_json::Value::as_u64),
    };
    (metrics, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = r#"{
        "timestamp": 1700000000.5,
        "modules": {
            "auth": {"metrics": {"latency_mean": 0.12, "latency_p50": 0.1, "latency_p95": 0.75,
                     "latency_p99": 0.9, "error_rate": 0.02, "requests_per_second": 42.0},
                     "last_update": 1700000000.0, "total_requests": 12000, "total_errors": 240},
            "billing": {"metrics": {"latency_mean": NaN, "latency_p50": -1, "latency_p95": 0.08,
                        "latency_p99": Infinity, "error_rate": 1.5, "requests_per_second": 12.5},
                        "last_update": 1700000000.0, "total_requests": 3000, "total_errors": 450},
            "note \"NaN\" inside": {"metrics": {}}
        },
        "alerts": [{"module": "billing", "metric": "error_rate", "level": "critical"}],
        "summary": {"total_modules": 3, "active_alerts": 1, "warning_alerts": 0}
    }"#;

    #[test]
    fn reads_the_spec_format_and_skips_bad_values_by_name() {
        let document = parse_dashboard(DOCUMENT).expect("valid");
        assert_eq!(document.modules.len(), 3);
        assert!(document.modules.contains_key("note \"NaN\" inside"));
        let mut monitor = PerformanceMonitor::default();
        let mut feed = DashboardFeed::new(2);
        let report = feed.feed(&mut monitor, &document, 1_700_000_000.5);
        assert_eq!(report.accepted, 2);
        assert_eq!(report.source_alerts, 1);
        let problems = report.problems.join("\n");
        for expected in [
            "billing: latency_mean = NaN/null skipped",
            "billing: latency_p50 = -1 skipped",
            "billing: latency_p99 = NaN/null skipped",
            "billing: error_rate = 1.5 skipped",
            "1 modules skipped: this source may create at most 2",
        ] {
            assert!(problems.contains(expected), "{expected} in {problems}");
        }
        monitor.tick(1_700_000_001.0);
        let auth = monitor.module("auth").expect("auth").statistics();
        assert_eq!(
            (auth.percentiles.p95.value, auth.requests_per_second),
            (0.75, 42.0)
        );
        assert_eq!(
            monitor.module("auth").map(|m| m.source()),
            Some(ModuleSource::Dashboard)
        );
        let billing = monitor.module("billing").expect("billing").statistics();
        assert_eq!(
            (billing.percentiles.p95.value, billing.requests_per_second),
            (0.08, 12.5)
        );
    }

    #[test]
    fn broken_documents_say_where() {
        let error = parse_dashboard("{\"modules\": {\"a\": ").expect_err("truncated");
        assert!(error.to_string().contains("line 1"), "{error}");
        let error = parse_dashboard("[1, 2]").expect_err("an array");
        assert!(error.to_string().contains("spec's format"), "{error}");
    }
}
