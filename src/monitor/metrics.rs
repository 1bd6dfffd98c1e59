//! Metric names and the statistics a module's window yields each tick.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A metric every module has, computed from its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Builtin {
    /// Mean latency over the window, seconds.
    LatencyMean,
    /// Median latency, seconds.
    LatencyP50,
    /// 95th percentile latency, seconds.
    LatencyP95,
    /// 99th percentile latency, seconds.
    LatencyP99,
    /// 99.9th percentile latency, seconds.
    LatencyP999,
    /// Largest latency in the window, seconds.
    LatencyMax,
    /// Requests in the window divided by the seconds it covers.
    RequestsPerSecond,
    /// Errors divided by requests in the window, 0..1.
    ErrorRate,
}

impl Builtin {
    /// Every built-in metric, in display order.
    pub const ALL: [Builtin; 8] = [
        Builtin::LatencyMean,
        Builtin::LatencyP50,
        Builtin::LatencyP95,
        Builtin::LatencyP99,
        Builtin::LatencyP999,
        Builtin::LatencyMax,
        Builtin::RequestsPerSecond,
        Builtin::ErrorRate,
    ];

    /// The six metrics of the original spec, which anomaly detection watches by default.
    pub const SPEC: [Builtin; 6] = [
        Builtin::LatencyMean,
        Builtin::LatencyP50,
        Builtin::LatencyP95,
        Builtin::LatencyP99,
        Builtin::ErrorRate,
        Builtin::RequestsPerSecond,
    ];

    /// The name used in JSON, rules and the UI.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::LatencyMean => "latency_mean",
            Builtin::LatencyP50 => "latency_p50",
            Builtin::LatencyP95 => "latency_p95",
            Builtin::LatencyP99 => "latency_p99",
            Builtin::LatencyP999 => "latency_p999",
            Builtin::LatencyMax => "latency_max",
            Builtin::RequestsPerSecond => "requests_per_second",
            Builtin::ErrorRate => "error_rate",
        }
    }

    /// Parses a built-in metric name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL
            .into_iter()
            .find(|metric| metric.name() == name)
    }

    /// True for metrics measured in seconds of latency.
    pub fn is_latency(self) -> bool {
        !matches!(self, Builtin::RequestsPerSecond | Builtin::ErrorRate)
    }

    /// The quantile behind a percentile metric.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Builtin::LatencyP50 => Some(0.50),
            Builtin::LatencyP95 => Some(0.95),
            Builtin::LatencyP99 => Some(0.99),
            Builtin::LatencyP999 => Some(0.999),
            _ => None,
        }
    }
}

/// Any metric a rule or detector can name: a built-in one, or a custom metric's value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum MetricName {
    /// One of [`Builtin`].
    Builtin(Builtin),
    /// A custom metric's value by its full name (see `custom`, e.g. `queue_depth_max`).
    Custom(String),
}

impl MetricName {
    /// The metric's name as written in rules and JSON.
    pub fn as_str(&self) -> &str {
        match self {
            MetricName::Builtin(metric) => metric.name(),
            MetricName::Custom(name) => name,
        }
    }
}

impl From<Builtin> for MetricName {
    fn from(metric: Builtin) -> Self {
        MetricName::Builtin(metric)
    }
}

impl From<String> for MetricName {
    fn from(name: String) -> Self {
        match Builtin::from_name(&name) {
            Some(metric) => MetricName::Builtin(metric),
            None => MetricName::Custom(name),
        }
    }
}

impl From<MetricName> for String {
    fn from(name: MetricName) -> Self {
        name.as_str().to_owned()
    }
}

impl fmt::Display for MetricName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a percentile was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PercentileMethod {
    /// From the window's DDSketch bins: within `relative_error` of the true value.
    Sketch,
    /// From histogram buckets: the true value lies in `[bucket_lower, bucket_upper]`;
    /// `value` is a linear interpolation inside that bucket.
    Buckets,
    /// Given by the source (a JSON dashboard or a query API) as computed there; its
    /// error bound is the source's own and unknown here.
    Reported,
}

/// One percentile with the evidence behind it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentile {
    /// Estimate in seconds (0 when there are no samples).
    pub value: f64,
    /// Latency samples in the window.
    pub samples: u64,
    /// How the estimate was obtained.
    pub method: PercentileMethod,
    /// Guaranteed relative error bound for sketch estimates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative_error: Option<f64>,
    /// Lower bound of the bucket holding the percentile (bucket estimates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_lower: Option<f64>,
    /// Upper bound of the bucket holding the percentile (bucket estimates; may be `inf`
    /// in Rust, serialised as null).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_upper: Option<f64>,
    /// Too few samples to trust: fewer than `min_samples`, or fewer than one sample
    /// expected above this quantile.
    pub low_confidence: bool,
}

impl Percentile {
    /// A percentile of an empty window.
    pub fn empty(method: PercentileMethod) -> Self {
        Percentile {
            value: 0.0,
            samples: 0,
            method,
            relative_error: None,
            bucket_lower: None,
            bucket_upper: None,
            low_confidence: true,
        }
    }
}

/// Seconds of history after which rates are judged, when the window is longer.
pub const RATE_SETTLE_SECONDS: f64 = 10.0;

/// Decides whether a quantile over `samples` values is too thin to present as fact.
pub fn is_low_confidence(quantile: f64, samples: u64, min_samples: u64) -> bool {
    samples < min_samples.max(1) || (samples as f64) * (1.0 - quantile) < 1.0
}

/// The percentiles of one window: p50, p95, p99 and p999.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PercentileSet {
    /// Median.
    pub p50: Percentile,
    /// 95th percentile.
    pub p95: Percentile,
    /// 99th percentile.
    pub p99: Percentile,
    /// 99.9th percentile.
    pub p999: Percentile,
}

impl PercentileSet {
    /// All four percentiles of an empty window.
    pub fn empty(method: PercentileMethod) -> Self {
        let empty = Percentile::empty(method);
        PercentileSet {
            p50: empty,
            p95: empty,
            p99: empty,
            p999: empty,
        }
    }

    /// The percentile behind a percentile metric.
    pub fn get(&self, metric: Builtin) -> Option<&Percentile> {
        match metric {
            Builtin::LatencyP50 => Some(&self.p50),
            Builtin::LatencyP95 => Some(&self.p95),
            Builtin::LatencyP99 => Some(&self.p99),
            Builtin::LatencyP999 => Some(&self.p999),
            _ => None,
        }
    }
}

/// A module's statistics over its sliding window, as of the last closed tick.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowStats {
    /// Mean latency, seconds (0 without samples).
    pub latency_mean: f64,
    /// Largest latency in the window, seconds (0 without samples).
    pub latency_max: f64,
    /// p50, p95, p99 and p999 with their evidence.
    pub percentiles: PercentileSet,
    /// Requests in the window divided by the seconds it covers.
    pub requests_per_second: f64,
    /// Errors divided by requests in the window, 0..1.
    pub error_rate: f64,
    /// Requests in the window.
    pub window_requests: u64,
    /// Errors in the window.
    pub window_errors: u64,
    /// Latency samples in the window.
    pub latency_samples: u64,
    /// Seconds of history the window covers (less than the window while a module is new).
    pub covered_seconds: f64,
    /// True once the window covers enough time for a rate to mean something: the
    /// whole window, or at least `RATE_SETTLE_SECONDS`.
    pub rate_settled: bool,
    /// Requests since the module was first seen.
    pub total_requests: u64,
    /// Errors since the module was first seen.
    pub total_errors: u64,
}

impl WindowStats {
    /// Statistics of a module with no data yet.
    pub fn empty() -> Self {
        WindowStats {
            latency_mean: 0.0,
            latency_max: 0.0,
            percentiles: PercentileSet::empty(PercentileMethod::Sketch),
            requests_per_second: 0.0,
            error_rate: 0.0,
            window_requests: 0,
            window_errors: 0,
            latency_samples: 0,
            covered_seconds: 0.0,
            rate_settled: false,
            total_requests: 0,
            total_errors: 0,
        }
    }

    /// The value of a built-in metric.
    pub fn get(&self, metric: Builtin) -> f64 {
        match metric {
            Builtin::LatencyMean => self.latency_mean,
            Builtin::LatencyP50 => self.percentiles.p50.value,
            Builtin::LatencyP95 => self.percentiles.p95.value,
            Builtin::LatencyP99 => self.percentiles.p99.value,
            Builtin::LatencyP999 => self.percentiles.p999.value,
            Builtin::LatencyMax => self.latency_max,
            Builtin::RequestsPerSecond => self.requests_per_second,
            Builtin::ErrorRate => self.error_rate,
        }
    }

    /// Lays values another monitor computed over this window's own; a rate or
    /// percentile reported by the source is taken as settled.
    pub fn apply_reported(
        &mut self,
        reported: &crate::monitor::ReportedMetrics,
        window_seconds: f64,
    ) {
        if let Some(rps) = reported.requests_per_second {
            self.requests_per_second = rps;
            self.window_requests = (rps * window_seconds).round() as u64;
            self.covered_seconds = self.covered_seconds.max(window_seconds);
            self.rate_settled = true;
        }
        if let Some(rate) = reported.error_rate {
            self.error_rate = rate;
            self.window_errors = (rate * self.window_requests as f64).round() as u64;
        }
        if let Some(mean) = reported.latency_mean {
            self.latency_mean = mean;
            self.latency_samples = self.latency_samples.max(self.window_requests).max(1);
        }
        let samples = self.window_requests.max(1);
        for (value, percentile) in [
            (reported.latency_p50, &mut self.percentiles.p50),
            (reported.latency_p95, &mut self.percentiles.p95),
            (reported.latency_p99, &mut self.percentiles.p99),
        ] {
            if let Some(value) = value {
                *percentile = Percentile {
                    value,
                    samples,
                    method: PercentileMethod::Reported,
                    relative_error: None,
                    bucket_lower: None,
                    bucket_upper: None,
                    low_confidence: false,
                };
                self.latency_max = self.latency_max.max(value);
                self.latency_samples = self.latency_samples.max(samples);
            }
        }
        if let Some(total) = reported.total_requests {
            self.total_requests = self.total_requests.max(total);
        }
        if let Some(total) = reported.total_errors {
            self.total_errors = self.total_errors.max(total);
        }
    }

    /// The number of samples behind a metric's value, and whether it is trustworthy.
    pub fn support(&self, metric: Builtin) -> (u64, bool) {
        match metric {
            Builtin::LatencyMean | Builtin::LatencyMax => {
                (self.latency_samples, self.latency_samples > 0)
            }
            // A rate over the first second or two of a module's life is mostly noise
            // (the first tick is usually partial), so rules wait until it settles.
            Builtin::RequestsPerSecond => (self.window_requests, self.rate_settled),
            Builtin::ErrorRate => (self.window_requests, self.window_requests > 0),
            percentile => match self.percentiles.get(percentile) {
                Some(p) => (p.samples, !p.low_confidence),
                None => (0, false),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_round_trip() {
        for metric in Builtin::ALL {
            assert_eq!(Builtin::from_name(metric.name()), Some(metric));
            let name = MetricName::from(metric.name().to_owned());
            assert_eq!(name, MetricName::Builtin(metric));
        }
        assert_eq!(
            MetricName::from("queue_depth".to_owned()),
            MetricName::Custom("queue_depth".to_owned())
        );
    }

    #[test]
    fn confidence_needs_samples_above_the_quantile() {
        assert!(is_low_confidence(0.5, 5, 10));
        assert!(!is_low_confidence(0.5, 10, 10));
        assert!(is_low_confidence(0.999, 500, 10));
        assert!(!is_low_confidence(0.999, 1000, 10));
    }
}
