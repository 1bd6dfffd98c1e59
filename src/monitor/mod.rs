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
mod engine;
pub mod metrics;
mod module;
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
pub use engine::PerformanceMonitor;
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
