//! The dashboard snapshot: exactly the original spec's `get_dashboard_data()` JSON,
//! plus documented extras.
//!
//! Spec fields (never renamed or removed): `timestamp`; `modules.{name}.{metrics,
//! last_update, total_requests, total_errors}` with the six spec metrics in `metrics`;
//! `alerts[]` of `{timestamp, module, metric, value, threshold, level, message}`;
//! `summary.{total_modules, active_alerts, warning_alerts}`.
//!
//! Counting, precisely: `active_alerts` is the number of alerts **firing** now, of any
//! level; `warning_alerts` is the number firing now at level warning; `critical_alerts`
//! and `info_alerts` likewise; `pending_alerts` counts alerts whose condition holds but
//! whose `for` has not elapsed. `alerts[]` lists pending and firing alerts, then those
//! resolved within `resolved_retention_seconds`, newest first.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::alert::{Alert, AlertLevel, AlertSource, AlertState, Evidence};
use super::bottleneck::Bottleneck;
use super::metrics::{PercentileSet, WindowStats};

/// Where a module's data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleSource {
    /// Request events recorded directly (event streams, the JS API).
    #[default]
    Events,
    /// The built-in simulator.
    Simulated,
    /// A Prometheus `/metrics` scrape.
    Prometheus,
    /// A JSON dashboard in the spec's format.
    Dashboard,
    /// Timed probes of a URL.
    Probe,
    /// A Prometheus-compatible query API.
    Query,
    /// The host page (real-user monitoring).
    Host,
}

impl ModuleSource {
    /// The name used in JSON and the UI.
    pub fn name(self) -> &'static str {
        match self {
            ModuleSource::Events => "events",
            ModuleSource::Simulated => "simulated",
            ModuleSource::Prometheus => "prometheus",
            ModuleSource::Dashboard => "dashboard",
            ModuleSource::Probe => "probe",
            ModuleSource::Query => "query",
            ModuleSource::Host => "host",
        }
    }
}

/// The health shown for a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModuleStatus {
    /// Data, and nothing firing above info.
    Ok,
    /// A warning is firing.
    Warning,
    /// A critical alert is firing.
    Critical,
    /// No requests in the window.
    NoData,
}

/// The whole dashboard at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardSnapshot {
    /// When the snapshot was taken (Unix seconds).
    pub timestamp: f64,
    /// Per module, by name.
    pub modules: ModuleMap,
    /// Active alerts, then recently resolved ones.
    pub alerts: Vec<AlertSnapshot>,
    /// Counts; see the module docs for exactly what each counts.
    pub summary: Summary,
    /// Extra: modules ranked by time spent.
    pub bottlenecks: Vec<Bottleneck>,
    /// Extra: the monitor's own health.
    pub monitor: MonitorStatus,
}

/// Modules by name, in name order. Serialises as the JSON object the spec's `modules`
/// is; kept as a sorted `Vec` so that building a snapshot moves each entry once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModuleMap(Vec<(Arc<str>, ModuleSnapshot)>);

impl ModuleMap {
    /// Builds the map from entries already sorted by name, without duplicates.
    pub(crate) fn from_sorted(entries: Vec<(Arc<str>, ModuleSnapshot)>) -> Self {
        debug_assert!(entries.windows(2).all(|pair| pair[0].0 < pair[1].0));
        ModuleMap(entries)
    }

    /// A module by name.
    pub fn get(&self, name: &str) -> Option<&ModuleSnapshot> {
        self.0
            .binary_search_by(|(key, _)| (**key).cmp(name))
            .ok()
            .map(|index| &self.0[index].1)
    }

    /// Number of modules.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no modules.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (name, module) pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ModuleSnapshot)> {
        self.0.iter().map(|(name, module)| (&**name, module))
    }

    /// Module names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(name, _)| &**name)
    }

    /// Modules in name order.
    pub fn values(&self) -> impl Iterator<Item = &ModuleSnapshot> {
        self.0.iter().map(|(_, module)| module)
    }
}

impl std::ops::Index<&str> for ModuleMap {
    type Output = ModuleSnapshot;

    /// The module named `name`; panics when there is none, as `BTreeMap` does.
    fn index(&self, name: &str) -> &ModuleSnapshot {
        match self.get(name) {
            Some(module) => module,
            None => panic!("no module named {name:?} in the snapshot"),
        }
    }
}

impl<'a> IntoIterator for &'a ModuleMap {
    type Item = (&'a str, &'a ModuleSnapshot);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Arc<str>, ModuleSnapshot)>,
        fn(&'a (Arc<str>, ModuleSnapshot)) -> (&'a str, &'a ModuleSnapshot),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(name, module)| (&**name, module))
    }
}

impl Serialize for ModuleMap {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for ModuleMap {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<String, ModuleSnapshot>::deserialize(deserializer)?;
        Ok(ModuleMap(
            map.into_iter()
                .map(|(name, module)| (Arc::from(name), module))
                .collect(),
        ))
    }
}

/// The spec's six metrics plus p999 and max.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpecMetrics {
    /// Mean latency, seconds.
    pub latency_mean: f64,
    /// Median latency, seconds.
    pub latency_p50: f64,
    /// 95th percentile latency, seconds.
    pub latency_p95: f64,
    /// 99th percentile latency, seconds.
    pub latency_p99: f64,
    /// Errors ÷ requests in the window, 0..1.
    pub error_rate: f64,
    /// Requests per second over the window.
    pub requests_per_second: f64,
    /// Extra: 99.9th percentile latency, seconds.
    pub latency_p999: f64,
    /// Extra: largest latency in the window, seconds.
    pub latency_max: f64,
}

impl From<&WindowStats> for SpecMetrics {
    fn from(stats: &WindowStats) -> Self {
        SpecMetrics {
            latency_mean: stats.latency_mean,
            latency_p50: stats.percentiles.p50.value,
            latency_p95: stats.percentiles.p95.value,
            latency_p99: stats.percentiles.p99.value,
            error_rate: stats.error_rate,
            requests_per_second: stats.requests_per_second,
            latency_p999: stats.percentiles.p999.value,
            latency_max: stats.latency_max,
        }
    }
}

/// One module in the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModuleSnapshot {
    /// The spec's metrics.
    pub metrics: SpecMetrics,
    /// Time of the module's latest record (Unix seconds).
    pub last_update: f64,
    /// Requests since the module was first seen.
    pub total_requests: u64,
    /// Errors since the module was first seen.
    pub total_errors: u64,
    /// Extra: where the data comes from.
    pub source: ModuleSource,
    /// Extra: health by the worst firing alert.
    pub status: ModuleStatus,
    /// Extra: each percentile with its sample count, error bound and confidence.
    pub percentiles: PercentileSet,
    /// Extra: requests and errors in the window, and the seconds it covers.
    pub window: WindowCounts,
    /// Extra: custom metric values by name (absent when there are none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub custom: BTreeMap<String, f64>,
}

/// Window totals behind the rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowCounts {
    /// Requests in the window.
    pub requests: u64,
    /// Errors in the window.
    pub errors: u64,
    /// Latency samples in the window.
    pub latency_samples: u64,
    /// Seconds the window covers.
    pub seconds: f64,
}

/// One alert in the snapshot: the spec's fields first, then the lifecycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSnapshot {
    /// When the alert started (firing time, or pending time if it has not fired).
    pub timestamp: f64,
    /// Module.
    pub module: String,
    /// Metric.
    pub metric: String,
    /// Latest value.
    pub value: f64,
    /// Threshold crossed.
    pub threshold: f64,
    /// `info`, `warning` or `critical`.
    pub level: AlertLevel,
    /// Human-readable summary.
    pub message: String,
    /// Extra: alert id, stable over its life.
    pub id: u64,
    /// Extra: pending, firing, resolved, cancelled or flapping.
    pub state: AlertState,
    /// Extra: the rule or detector that raised it.
    pub source: AlertSource,
    /// Extra: when it resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<f64>,
    /// Extra: seconds from start to end (or to the snapshot, while active).
    pub duration_seconds: f64,
    /// Extra: the worst value seen.
    pub peak_value: f64,
    /// Extra: the facts behind it.
    pub evidence: Evidence,
}

impl AlertSnapshot {
    /// The snapshot view of an alert at `now`.
    pub fn new(alert: &Alert, now: f64) -> Self {
        let start = alert.started_at();
        AlertSnapshot {
            timestamp: start,
            module: alert.module.clone(),
            metric: alert.metric.to_string(),
            value: alert.evidence.value,
            threshold: alert.evidence.threshold,
            level: alert.level,
            message: alert.message(),
            id: alert.id,
            state: alert.state,
            source: alert.source.clone(),
            ended_at: alert.ended_at,
            duration_seconds: (alert.ended_at.unwrap_or(now) - start).max(0.0),
            peak_value: alert.peak_value,
            evidence: alert.evidence,
        }
    }
}

/// The spec's summary, with extra counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Modules monitored.
    pub total_modules: usize,
    /// Alerts firing now, any level.
    pub active_alerts: usize,
    /// Alerts firing now at level warning.
    pub warning_alerts: usize,
    /// Extra: alerts firing now at level critical.
    pub critical_alerts: usize,
    /// Extra: alerts firing now at level info.
    pub info_alerts: usize,
    /// Extra: alerts pending (condition holds, `for` not yet elapsed).
    pub pending_alerts: usize,
    /// Extra: alerts flapping (also counted in `active_alerts` and their level's count).
    #[serde(default)]
    pub flapping_alerts: usize,
}

/// The monitor's own health: what it refused or shed, so nothing is lost silently.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MonitorStatus {
    /// Window length, seconds.
    pub window_seconds: f64,
    /// Tick length, seconds.
    pub tick_seconds: f64,
    /// Module cap.
    pub max_modules: usize,
    /// Records refused because the module cap was reached.
    pub refused_new_modules: u64,
    /// Records refused as invalid (NaN, negative or infinite latency, bad names...).
    pub rejected_records: u64,
    /// Custom metric values refused.
    pub rejected_custom: u64,
    /// Histogram samples refused.
    pub rejected_histograms: u64,
    /// Resolved alerts dropped from the bounded history.
    pub dropped_resolved_alerts: u64,
}
