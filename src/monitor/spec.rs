//! The original spec's vocabulary: `PerformanceAlert`, `MetricSnapshot`, its
//! stateless `check_thresholds` with its severity rules, and `get_dashboard_data`.

use serde::{Deserialize, Serialize};

use super::alert::AlertLevel;
use super::engine::PerformanceMonitor;
use super::metrics::{Builtin, WindowStats};
use super::snapshot::{DashboardSnapshot, SpecMetrics};

/// The spec's alert record: `{timestamp, module, metric, value, threshold, level, message}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerformanceAlert {
    /// When it was raised (Unix seconds).
    pub timestamp: f64,
    /// Module.
    pub module: String,
    /// Metric name.
    pub metric: String,
    /// Value seen.
    pub value: f64,
    /// Threshold crossed.
    pub threshold: f64,
    /// Severity.
    pub level: AlertLevel,
    /// `module: metric = value (threshold: threshold)`.
    pub message: String,
}

/// The spec's point-in-time copy of one module's metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSnapshot {
    /// When it was taken (Unix seconds).
    pub timestamp: f64,
    /// Module.
    pub module: String,
    /// The spec's metrics.
    pub metrics: SpecMetrics,
}

/// The spec's thresholds: one value per metric, as its `thresholds` dict held them.
pub const SPEC_THRESHOLDS: [(Builtin, f64); 4] = [
    (Builtin::LatencyP95, 0.5),
    (Builtin::LatencyP99, 1.0),
    (Builtin::ErrorRate, 0.05),
    (Builtin::RequestsPerSecond, 10.0),
];

impl PerformanceMonitor {
    /// The spec's `check_thresholds`: a stateless check of one module's statistics.
    ///
    /// Severity as the spec decides it: an error rate over 10 % is critical; a latency
    /// over twice its threshold is critical; requests_per_second alerts when it falls
    /// below its threshold; everything else is a warning. The stateful lifecycle
    /// (pending, firing, resolved) is `tick`'s job; this is the spec's one-shot check.
    pub fn check_thresholds(
        &self,
        module: &str,
        stats: &WindowStats,
        now: f64,
    ) -> Vec<PerformanceAlert> {
        SPEC_THRESHOLDS
            .iter()
            .filter_map(|&(metric, threshold)| {
                let value = stats.get(metric);
                let breached = match metric {
                    Builtin::RequestsPerSecond => value < threshold,
                    _ => value > threshold,
                };
                if !breached {
                    return None;
                }
                let critical = match metric {
                    Builtin::ErrorRate => value > 0.10,
                    latency if latency.is_latency() => value > threshold * 2.0,
                    _ => false,
                };
                Some(PerformanceAlert {
                    timestamp: now,
                    module: module.to_owned(),
                    metric: metric.name().to_owned(),
                    value,
                    threshold,
                    level: if critical {
                        AlertLevel::Critical
                    } else {
                        AlertLevel::Warning
                    },
                    message: format!(
                        "{module}: {} = {value:.3} (threshold: {threshold:.3})",
                        metric.name()
                    ),
                })
            })
            .collect()
    }

    /// A module's metrics now, as the spec's `MetricSnapshot`.
    pub fn metric_snapshot(&self, module: &str, now: f64) -> Option<MetricSnapshot> {
        self.module(module).map(|m| MetricSnapshot {
            timestamp: now,
            module: module.to_owned(),
            metrics: SpecMetrics::from(m.statistics()),
        })
    }

    /// The spec's `get_dashboard_data()`.
    pub fn get_dashboard_data(&self, now: f64) -> DashboardSnapshot {
        self.snapshot(now)
    }
}
