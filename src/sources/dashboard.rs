//! The original spec's `get_dashboard_data()` JSON, as polled from a service built on
//! the Python design: parsed into typed structs, validated, and turned into request
//! and error increases.
//!
//! A module with a missing, negative or non-finite field is skipped and counted by
//! reason, as is a malformed alert; only JSON that cannot be read at all, or lacks
//! `timestamp` or `modules`, is an error. Python's `json.dumps` writes `NaN` and
//! `Infinity` as bare tokens, which are not JSON: they are read as missing values, so
//! they are counted rather than failing the whole document.

use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::fast::FixedState;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::monitor::Sample;
pub use crate::monitor::snapshot::SpecMetrics;

/// One module of the document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardModule {
    /// Module name (the key in `modules`).
    pub name: String,
    /// Its metrics: the spec's six, plus `latency_p999` and `latency_max` when sent
    /// (otherwise both are the p99, their lower bound).
    pub metrics: SpecMetrics,
    /// When it was last updated (Unix seconds).
    pub last_update: f64,
    /// Requests since the producer started.
    pub total_requests: u64,
    /// Errors since the producer started.
    pub total_errors: u64,
}

/// One alert of the document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DashboardAlert {
    /// When it was raised (Unix seconds).
    pub timestamp: f64,
    /// The module.
    pub module: String,
    /// The metric.
    pub metric: String,
    /// The value that breached.
    pub value: f64,
    /// The threshold.
    pub threshold: f64,
    /// `info`, `warning` or `critical` (lower-cased).
    pub level: String,
    /// The producer's message.
    pub message: String,
}

/// The document's `summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DashboardSummary {
    /// Modules monitored.
    pub total_modules: u64,
    /// Active alerts.
    pub active_alerts: u64,
    /// Warning alerts.
    pub warning_alerts: u64,
}

/// A validated dashboard document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    /// When the producer made it (Unix seconds).
    pub timestamp: f64,
    /// Valid modules, in document order.
    pub modules: Vec<DashboardModule>,
    /// Valid alerts.
    pub alerts: Vec<DashboardAlert>,
    /// The summary, when present and valid.
    pub summary: Option<DashboardSummary>,
    /// What was skipped.
    pub skipped: DashboardSkips,
}

/// Modules and alerts skipped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DashboardSkips {
    /// Modules lacking a field (or whose `metrics` is not an object).
    pub module_missing_field: u64,
    /// Modules with a field that is not a finite number (NaN, Infinity, a string).
    pub module_not_a_number: u64,
    /// Modules with a negative value, or an `error_rate` above 1.
    pub module_out_of_range: u64,
    /// Alerts lacking a field or with a field of the wrong type.
    pub alerts: u64,
    /// `summary` missing or malformed.
    pub summary: u64,
}

/// Why a document could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DashboardError {
    /// Broken JSON, with serde_json's line and column.
    #[error("dashboard is not valid JSON: {0}")]
    Json(String),
    /// Valid JSON missing what the spec requires.
    #[error(
        "dashboard JSON lacks {0}: expected the spec's {{timestamp, modules, alerts, summary}}"
    )]
    Shape(&'static str),
}

#[derive(Debug, Clone, Copy)]
enum Skip {
    Missing,
    NotANumber,
    OutOfRange,
}

/// Parses and validates a document.
pub fn parse_dashboard(text: &str) -> Result<Dashboard, DashboardError> {
    let text = replace_non_json_numbers(text);
    let root: Value =
        serde_json::from_str(&text).map_err(|e| DashboardError::Json(e.to_string()))?;
    let root = root
        .as_object()
        .ok_or(DashboardError::Shape("a top-level object"))?;
    let timestamp = root
        .get("timestamp")
        .and_then(Value::as_f64)
        .filter(|t| t.is_finite())
        .ok_or(DashboardError::Shape("a numeric `timestamp`"))?;
    let modules = root
        .get("modules")
        .and_then(Value::as_object)
        .ok_or(DashboardError::Shape("a `modules` object"))?;
    let mut skipped = DashboardSkips::default();
    let mut valid = Vec::with_capacity(modules.len());
    for (name, module) in modules {
        match module_of(name, module) {
            Ok(module) => valid.push(module),
            Err(Skip::Missing) => skipped.module_missing_field += 1,
            Err(Skip::NotANumber) => skipped.module_not_a_number += 1,
            Err(Skip::OutOfRange) => skipped.module_out_of_range += 1,
        }
    }
    let mut alerts = Vec::new();
    for alert in root
        .get("alerts")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match alert_of(alert) {
            Some(alert) => alerts.push(alert),
            None => skipped.alerts += 1,
        }
    }
    let summary = root.get("summary").and_then(summary_of);
    if summary.is_none() {
        skipped.summary += 1;
    }
    Ok(Dashboard {
        timestamp,
        modules: valid,
        alerts,
        summary,
        skipped,
    })
}

fn number(object: &Map<String, Value>, key: &str) -> Result<f64, Skip> {
    match object.get(key) {
        None => Err(Skip::Missing),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(v),
            Some(v) if v.is_finite() => Err(Skip::OutOfRange),
            _ => Err(Skip::NotANumber),
        },
        Some(_) => Err(Skip::NotANumber),
    }
}

fn count(object: &Map<String, Value>, key: &str) -> Result<u64, Skip> {
    let value = number(object, key)?;
    // Python ints come as integers; a float total is truncated.
    Ok(value.min(u64::MAX as f64) as u64)
}

fn module_of(name: &str, module: &Value) -> Result<DashboardModule, Skip> {
    let module = module.as_object().ok_or(Skip::Missing)?;
    let metrics = module
        .get("metrics")
        .and_then(Value::as_object)
        .ok_or(Skip::Missing)?;
    let six = SpecMetrics {
        latency_mean: number(metrics, "latency_mean")?,
        latency_p50: number(metrics, "latency_p50")?,
        latency_p95: number(metrics, "latency_p95")?,
        latency_p99: number(metrics, "latency_p99")?,
        error_rate: number(metrics, "error_rate")?,
        requests_per_second: number(metrics, "requests_per_second")?,
        // Extras a redline producer sends; the spec's Python does not, and then p99
        // stands in as their lower bound.
        latency_p999: 0.0,
        latency_max: 0.0,
    };
    let metrics = SpecMetrics {
        latency_p999: number(metrics, "latency_p999").unwrap_or(six.latency_p99),
        latency_max: number(metrics, "latency_max").unwrap_or(six.latency_p99),
        ..six
    };
    if metrics.error_rate > 1.0 {
        return Err(Skip::OutOfRange);
    }
    let total_requests = count(module, "total_requests")?;
    let total_errors = count(module, "total_errors")?;
    if total_errors > total_requests {
        return Err(Skip::OutOfRange);
    }
    Ok(DashboardModule {
        name: name.to_owned(),
        metrics,
        last_update: number(module, "last_update")?,
        total_requests,
        total_errors,
    })
}

fn alert_of(alert: &Value) -> Option<DashboardAlert> {
    let alert = alert.as_object()?;
    let text = |key: &str| alert.get(key).and_then(Value::as_str).map(str::to_owned);
    let real = |key: &str| {
        alert
            .get(key)
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite())
    };
    let level = text("level")?.to_ascii_lowercase();
    if !matches!(level.as_str(), "info" | "warning" | "critical") {
        return None;
    }
    Some(DashboardAlert {
        timestamp: real("timestamp")?,
        module: text("module")?,
        metric: text("metric")?,
        value: real("value")?,
        threshold: real("threshold")?,
        level,
        message: text("message")?,
    })
}

fn summary_of(summary: &Value) -> Option<DashboardSummary> {
    let summary = summary.as_object()?;
    let field = |key: &str| count(summary, key).ok();
    Some(DashboardSummary {
        total_modules: field("total_modules")?,
        active_alerts: field("active_alerts")?,
        warning_alerts: field("warning_alerts")?,
    })
}

/// Rewrites Python's bare `NaN`, `Infinity` and `-Infinity` (outside strings) as
/// `null`; borrows the text when there are none.
fn replace_non_json_numbers(text: &str) -> Cow<'_, str> {
    if !text.contains("NaN") && !text.contains("Infinity") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if let Some(token) = ["-Infinity", "Infinity", "NaN"]
            .into_iter()
            .find(|token| rest.starts_with(token))
        {
            out.push_str("null");
            rest = rest.get(token.len()..).unwrap_or("");
            continue;
        }
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    Cow::Owned(out)
}

/// Turns each module's `total_requests` and `total_errors` into increases between
/// polls. The first poll of a module is its baseline; a total that goes down means
/// the producer restarted, and the new total is the increase.
#[derive(Debug, Clone, Default)]
pub struct DashboardTotals {
    previous: HashMap<String, (u64, u64), FixedState>,
    max_modules: usize,
    /// Restarts seen.
    pub resets: u64,
    /// Modules refused past `max_modules`.
    pub refused_modules: u64,
}

impl DashboardTotals {
    /// A tracker of at most `max_modules` modules.
    pub fn new(max_modules: usize) -> Self {
        DashboardTotals {
            max_modules,
            ..DashboardTotals::default()
        }
    }

    /// One `Sample::Counts` per module with the increases since the previous poll.
    pub fn increases(&mut self, dashboard: &Dashboard) -> Vec<Sample> {
        let mut samples = Vec::with_capacity(dashboard.modules.len());
        for module in &dashboard.modules {
            let now = (module.total_requests, module.total_errors);
            let known = self.previous.len();
            let (requests, errors) = match self.previous.get_mut(&module.name) {
                Some(previous) => {
                    let restarted = now.0 < previous.0 || now.1 < previous.1;
                    let increase = if restarted {
                        self.resets += 1;
                        now
                    } else {
                        (now.0 - previous.0, now.1 - previous.1)
                    };
                    *previous = now;
                    increase
                }
                None if known >= self.max_modules => {
                    self.refused_modules += 1;
                    continue;
                }
                None => {
                    self.previous.insert(module.name.clone(), now);
                    (0, 0)
                }
            };
            samples.push(Sample::Counts {
                module: module.name.clone(),
                requests,
                errors: errors.min(requests),
            });
        }
        samples
    }
}

/// Feeds polled dashboards to a monitor: each module's six spec metrics become its
/// reported statistics (the producer's own window), so its percentiles, rates and
/// alerts show as the producer computed them. At most `max_modules` modules.
#[derive(Debug, Clone)]
pub struct DashboardFeed {
    modules: super::ReportedModules,
}

impl DashboardFeed {
    /// A feed that creates at most `max_modules` modules.
    pub fn new(max_modules: usize) -> DashboardFeed {
        DashboardFeed {
            modules: super::ReportedModules::new(
                crate::monitor::ModuleSource::Dashboard,
                max_modules,
            ),
        }
    }

    /// Records each valid module of `dashboard` at `now`, and says what was skipped.
    pub fn feed(
        &mut self,
        monitor: &mut crate::monitor::PerformanceMonitor,
        dashboard: &Dashboard,
        now: f64,
    ) -> super::ReportedRound {
        use crate::monitor::ReportedMetrics;
        let mut round = super::ReportedRound::default();
        let skipped = &dashboard.skipped;
        for (count, what) in [
            (skipped.module_missing_field, "lacking a field"),
            (skipped.module_not_a_number, "with NaN or a non-number"),
            (
                skipped.module_out_of_range,
                "with a negative value or an error rate over 1",
            ),
        ] {
            if count > 0 {
                round
                    .problems
                    .push(format!("{count} modules {what} skipped"));
            }
        }
        let reports = dashboard.modules.iter().map(|module| {
            let m = &module.metrics;
            let metrics = ReportedMetrics {
                latency_mean: Some(m.latency_mean),
                latency_p50: Some(m.latency_p50),
                latency_p95: Some(m.latency_p95),
                latency_p99: Some(m.latency_p99),
                requests_per_second: Some(m.requests_per_second),
                error_rate: Some(m.error_rate),
                total_requests: Some(module.total_requests),
                total_errors: Some(module.total_errors),
            };
            (module.name.as_str(), metrics)
        });
        self.modules.record(monitor, reports, now, &mut round);
        round
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_nan_and_infinity_become_null_outside_strings_only() {
        let text = r#"{"a": NaN, "b": -Infinity, "c": "NaN \" Infinity", "d": Infinity}"#;
        assert_eq!(
            replace_non_json_numbers(text),
            r#"{"a": null, "b": null, "c": "NaN \" Infinity", "d": null}"#
        );
        assert!(matches!(replace_non_json_numbers("{}"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_poll_becomes_reported_statistics() {
        use crate::monitor::{ModuleSource, PerformanceMonitor};
        let document = r#"{"timestamp": 1700000000.5, "modules": {
            "auth": {"metrics": {"latency_mean": 0.12, "latency_p50": 0.1, "latency_p95": 0.75,
                     "latency_p99": 0.9, "error_rate": 0.02, "requests_per_second": 42.0},
                     "last_update": 1700000000.0, "total_requests": 12000, "total_errors": 240},
            "billing": {"metrics": {"latency_mean": NaN, "latency_p50": 0.04, "latency_p95": 0.08,
                     "latency_p99": 0.1, "error_rate": 0.15, "requests_per_second": 12.5},
                     "last_update": 1700000000.0, "total_requests": 3000, "total_errors": 450},
            "search": {"metrics": {"latency_mean": 0.05, "latency_p50": 0.04, "latency_p95": 0.08,
                     "latency_p99": 0.1, "error_rate": 0.0, "requests_per_second": 1.0},
                     "last_update": 1700000000.0, "total_requests": 30, "total_errors": 0}},
            "alerts": [], "summary": {"total_modules": 3, "active_alerts": 0, "warning_alerts": 0}}"#;
        let dashboard = parse_dashboard(document).expect("valid");
        let mut monitor = PerformanceMonitor::default();
        let mut feed = DashboardFeed::new(1);
        let report = feed.feed(&mut monitor, &dashboard, 1_700_000_000.5);
        assert_eq!(report.accepted, 1);
        assert_eq!(
            report.problems,
            [
                "1 modules with NaN or a non-number skipped",
                "1 modules skipped: this source may create at most 1"
            ]
        );
        monitor.tick(1_700_000_001.0);
        let auth = monitor.module("auth").expect("auth");
        assert_eq!(auth.source(), ModuleSource::Dashboard);
        let stats = auth.statistics();
        assert_eq!(
            (stats.percentiles.p95.value, stats.requests_per_second),
            (0.75, 42.0)
        );
        assert_eq!((stats.total_requests, stats.total_errors), (12_000, 240));
    }
}
