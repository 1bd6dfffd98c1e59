//! The monitor core: per-module sliding windows, percentiles, anomaly detection,
//! alert lifecycle, bottleneck ranking and the dashboard snapshot.
//!
//! Pure Rust: no I/O, no leptos or web-sys, no clock (every call that needs time
//! takes `now`, Unix seconds) and no self-seeded randomness (the simulator takes a
//! seed). It builds and is tested natively and for `wasm32-unknown-unknown`.

pub mod alert;
pub mod anomaly;
pub mod bottleneck;
pub mod config;
pub mod custom;
pub mod detectors;
mod engine;
mod flap;
mod judge;
pub mod metrics;
mod module;
mod names;
mod pending;
pub mod predict;
pub mod rice;
pub mod simulate;
pub mod sketch;
pub mod snapshot;
mod spec;
pub mod window;

use serde::{Deserialize, Serialize};

pub use alert::{
    Alert, AlertEvent, AlertLevel, AlertState, Comparison, Rule, RuleSpec, Transition,
};
pub use anomaly::{
    AnomalyDetector, Detector, DetectorSpec, RollingZScore, Verdict, ZScoreSettings,
};
pub use config::{ConfigError, MonitorConfig, MonitorSettings};
pub use custom::{CustomError, CustomKind};
pub use engine::{MAX_MODULE_NAME_BYTES, PerformanceMonitor};
pub use metrics::{Builtin, MetricName, Percentile, PercentileSet, WindowStats};
pub use module::{ModuleId, ModuleMetrics};
pub use snapshot::{DashboardSnapshot, ModuleSource, ModuleStatus};
pub use spec::{MetricSnapshot, PerformanceAlert};

/// Time as Unix seconds, the unit of every `now` in the core.
pub type UnixSeconds = f64;

/// One finished request, as event sources deliver it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestEvent {
    /// Module name.
    pub module: String,
    /// Latency in seconds (finite, >= 0).
    pub latency: f64,
    /// False for an error.
    pub ok: bool,
    /// When the request finished (Unix seconds); `now` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<f64>,
    /// Operation within the module (recorded as the custom distribution `op:<name>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// A pre-aggregated sample, as Prometheus-style sources deliver them.
#[derive(Debug, Clone, PartialEq)]
pub enum Sample {
    /// Requests and errors with no latency (a counter's increase).
    Counts {
        /// Module name.
        module: String,
        /// Requests added.
        requests: u64,
        /// Errors added (at most `requests`).
        errors: u64,
    },
    /// A latency histogram's bucket increases since the last sample.
    Histogram {
        /// Module name.
        module: String,
        /// Bucket upper bounds in seconds, ascending, ending with `+Inf`.
        upper_bounds_seconds: Vec<f64>,
        /// Non-cumulative increase of each bucket.
        increases: Vec<u64>,
        /// Increase of the histogram's `_sum`, seconds.
        sum_increase_seconds: f64,
    },
    /// Statistics computed elsewhere over the source's own window (a JSON dashboard in
    /// the spec's format, or a query API): they stand for the module's window until a
    /// window passes without a new report.
    Reported {
        /// Module name.
        module: String,
        /// The reported values.
        metrics: ReportedMetrics,
    },
    /// A custom metric value.
    Custom {
        /// Module name.
        module: String,
        /// Metric name.
        name: String,
        /// Counter, gauge or distribution.
        kind: CustomKind,
        /// Increment (counter), level (gauge) or observation (distribution).
        value: f64,
    },
}

impl Sample {
    /// The module the sample is for.
    pub fn module(&self) -> &str {
        match self {
            Sample::Counts { module, .. }
            | Sample::Histogram { module, .. }
            | Sample::Reported { module, .. }
            | Sample::Custom { module, .. } => module,
        }
    }
}

/// A module's statistics as another monitor computed them. Absent values are left to
/// the module's own window.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ReportedMetrics {
    /// Mean latency, seconds.
    pub latency_mean: Option<f64>,
    /// Median latency, seconds.
    pub latency_p50: Option<f64>,
    /// 95th percentile latency, seconds.
    pub latency_p95: Option<f64>,
    /// 99th percentile latency, seconds.
    pub latency_p99: Option<f64>,
    /// Requests per second.
    pub requests_per_second: Option<f64>,
    /// Errors ÷ requests, 0..1.
    pub error_rate: Option<f64>,
    /// Requests since the source started.
    pub total_requests: Option<u64>,
    /// Errors since the source started.
    pub total_errors: Option<u64>,
}

impl ReportedMetrics {
    /// Checks every value: finite and non-negative, an error rate within 0..1.
    pub fn validate(&self) -> Result<(), RecordError> {
        let values = [
            ("latency_mean", self.latency_mean),
            ("latency_p50", self.latency_p50),
            ("latency_p95", self.latency_p95),
            ("latency_p99", self.latency_p99),
            ("requests_per_second", self.requests_per_second),
            ("error_rate", self.error_rate),
        ];
        for (metric, value) in values {
            if let Some(value) = value
                && !(value.is_finite() && value >= 0.0)
            {
                return Err(RecordError::Reported { metric, value });
            }
        }
        if let Some(rate) = self.error_rate
            && rate > 1.0
        {
            return Err(RecordError::Reported {
                metric: "error_rate",
                value: rate,
            });
        }
        Ok(())
    }
}

/// Why a record or sample was refused. Each is counted in the snapshot's `monitor`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecordError {
    /// The module cap was reached and the module is new.
    #[error(
        "module {module:?} refused: the monitor already tracks {limit} modules (raise max_modules)"
    )]
    ModuleCap {
        /// The refused module.
        module: String,
        /// The cap.
        limit: usize,
    },
    /// The module name is empty, too long or contains control characters.
    #[error("module name {module:?} is invalid: use 1 to 256 bytes without control characters")]
    ModuleName {
        /// The refused name (truncated).
        module: String,
    },
    /// The latency is negative, NaN or infinite.
    #[error("latency {latency} s is invalid: send a finite number of seconds >= 0")]
    Latency {
        /// The refused value.
        latency: f64,
    },
    /// The event is older than the window.
    #[error("event at {timestamp} is older than the {window_seconds} s window and was skipped")]
    Stale {
        /// The event's timestamp.
        timestamp: f64,
        /// The window length.
        window_seconds: f64,
    },
    /// A reported statistic is NaN, infinite, negative, or an error rate above 1.
    #[error("reported {metric} = {value} is invalid: send a finite number >= 0 (error_rate <= 1)")]
    Reported {
        /// The metric.
        metric: &'static str,
        /// The refused value.
        value: f64,
    },
    /// No module has this id.
    #[error("no module has id {0}")]
    UnknownId(usize),
    /// A histogram sample was malformed.
    #[error(transparent)]
    Histogram(#[from] window::BucketError),
    /// A custom metric value was refused.
    #[error(transparent)]
    Custom(#[from] CustomError),
}
