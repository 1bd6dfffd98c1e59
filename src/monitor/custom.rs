//! Custom metrics, windowed like the built-in ones: counters (shown as rates), gauges
//! (last, min and max) and distributions (percentiles).
//!
//! Each yields named values that rules and detectors can watch:
//! - counter `jobs`: `jobs` (per second over the window);
//! - gauge `queue_depth`: `queue_depth` (last), `queue_depth_min`, `queue_depth_max`;
//! - distribution `payload_bytes`: `payload_bytes_mean`, `_p50`, `_p95`, `_p99`, `_count`.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::sketch::{SketchLayout, TickLog, TickMark, WindowSketch};

/// The kind of a custom metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CustomKind {
    /// Monotonic increments, shown as a rate per second.
    Counter,
    /// A level, shown as last, min and max over the window.
    Gauge,
    /// Observations, shown as percentiles.
    Distribution,
}

/// One closed tick of a custom metric.
#[derive(Debug, Clone, Default)]
struct CustomTick {
    sum: f64,
    count: u64,
    min: f64,
    max: f64,
    bins: TickMark,
}

/// A custom metric's window.
#[derive(Debug, Clone)]
pub struct CustomMetric {
    kind: CustomKind,
    ticks: VecDeque<CustomTick>,
    open: CustomTick,
    last: Option<f64>,
    sketch: WindowSketch,
    /// Encoded sketch bins of the closed ticks (distributions only).
    bin_log: TickLog,
    total: f64,
}

/// Why a custom value was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CustomError {
    /// The value is NaN or infinite (or negative, for a counter).
    #[error("custom metric {name:?}: value must be finite (and >= 0 for counters)")]
    Value {
        /// The metric.
        name: String,
    },
    /// The name is already used by a metric of another kind.
    #[error("custom metric {name:?} is a {existing:?}; use another name for a {wanted:?}")]
    KindClash {
        /// The metric.
        name: String,
        /// Its kind.
        existing: CustomKind,
        /// The kind asked for.
        wanted: CustomKind,
    },
    /// The module already has the most custom metrics allowed.
    #[error(
        "module already has {limit} custom metrics (max_custom_metrics); {name:?} was not added"
    )]
    TooMany {
        /// The refused metric.
        name: String,
        /// The cap.
        limit: usize,
    },
    /// The name is empty or clashes with a built-in metric.
    #[error("custom metric name {name:?} is empty or a built-in metric's name; choose another")]
    Name {
        /// The refused name.
        name: String,
    },
}

impl CustomMetric {
    fn new(kind: CustomKind) -> Self {
        CustomMetric {
            kind,
            ticks: VecDeque::new(),
            open: CustomTick::empty(),
            last: None,
            sketch: WindowSketch::default(),
            bin_log: TickLog::default(),
            total: 0.0,
        }
    }

    /// Kind of this metric.
    pub fn kind(&self) -> CustomKind {
        self.kind
    }

    fn record(&mut self, layout: &SketchLayout, value: f64) {
        let open = &mut self.open;
        open.sum += value;
        open.count += 1;
        open.min = open.min.min(value);
        open.max = open.max.max(value);
        match self.kind {
            CustomKind::Counter => self.total += value,
            CustomKind::Gauge => self.last = Some(value),
            CustomKind::Distribution => self.sketch.add(layout, value),
        }
    }

    fn close_ticks(&mut self, layout: &SketchLayout, count: u64, window_ticks: usize) {
        if count == 0 {
            return;
        }
        let mut closed = std::mem::replace(&mut self.open, CustomTick::empty());
        closed.bins = self
            .sketch
            .close_tick_into(layout, &mut self.bin_log, u64::MAX)
            .0;
        self.push(closed, window_ticks);
        for _ in 0..(count - 1).min(window_ticks as u64) {
            self.push(CustomTick::empty(), window_ticks);
        }
    }

    fn push(&mut self, tick: CustomTick, window_ticks: usize) {
        self.ticks.push_back(tick);
        while self.ticks.len() > window_ticks {
            if let Some(old) = self.ticks.pop_front() {
                self.sketch.expire_from(&mut self.bin_log, old.bins);
            }
        }
    }

    fn values(
        &self,
        name: &str,
        layout: &SketchLayout,
        covered_seconds: f64,
        out: &mut BTreeMap<String, f64>,
    ) {
        let sum: f64 = self.ticks.iter().map(|t| t.sum).sum();
        let count: u64 = self.ticks.iter().map(|t| t.count).sum();
        match self.kind {
            CustomKind::Counter => {
                let rate = if covered_seconds > 0.0 {
                    sum / covered_seconds
                } else {
                    0.0
                };
                out.insert(name.to_owned(), rate);
                out.insert(format!("{name}_total"), self.total);
            }
            CustomKind::Gauge => {
                let min = self
                    .ticks
                    .iter()
                    .map(|t| t.min)
                    .fold(f64::INFINITY, f64::min);
                let max = self
                    .ticks
                    .iter()
                    .map(|t| t.max)
                    .fold(f64::NEG_INFINITY, f64::max);
                if let Some(last) = self.last {
                    out.insert(name.to_owned(), last);
                }
                if count > 0 {
                    out.insert(format!("{name}_min"), min);
                    out.insert(format!("{name}_max"), max);
                }
            }
            CustomKind::Distribution => {
                let max = self.ticks.iter().map(|t| t.max).fold(0.0, f64::max);
                let estimates = self.sketch.quantiles(layout, max);
                out.insert(format!("{name}_count"), count as f64);
                if count > 0 {
                    out.insert(format!("{name}_mean"), sum / count as f64);
                    for (suffix, value) in ["p50", "p95", "p99"].iter().zip(estimates.values) {
                        out.insert(format!("{name}_{suffix}"), value.unwrap_or(0.0));
                    }
                }
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.ticks.capacity() * std::mem::size_of::<CustomTick>()
            + self.bin_log.heap_bytes()
            + self.sketch.heap_bytes()
    }
}

impl CustomTick {
    fn empty() -> Self {
        CustomTick {
            sum: 0.0,
            count: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            bins: TickMark::default(),
        }
    }
}

/// All custom metrics of one module.
#[derive(Debug, Clone, Default)]
pub struct CustomMetrics {
    metrics: BTreeMap<String, CustomMetric>,
}

impl CustomMetrics {
    /// Records a value; creates the metric on first use.
    pub fn record(
        &mut self,
        layout: &SketchLayout,
        name: &str,
        kind: CustomKind,
        value: f64,
        limit: usize,
    ) -> Result<(), CustomError> {
        if name.is_empty() || super::metrics::Builtin::from_name(name).is_some() {
            return Err(CustomError::Name {
                name: name.to_owned(),
            });
        }
        let bad_counter = kind == CustomKind::Counter && value < 0.0;
        let bad_distribution = kind == CustomKind::Distribution && value < 0.0;
        if !value.is_finite() || bad_counter || bad_distribution {
            return Err(CustomError::Value {
                name: name.to_owned(),
            });
        }
        if !self.metrics.contains_key(name) {
            if self.metrics.len() >= limit {
                return Err(CustomError::TooMany {
                    name: name.to_owned(),
                    limit,
                });
            }
            self.metrics
                .insert(name.to_owned(), CustomMetric::new(kind));
        }
        match self.metrics.get_mut(name) {
            Some(metric) if metric.kind == kind => {
                metric.record(layout, value);
                Ok(())
            }
            Some(metric) => Err(CustomError::KindClash {
                name: name.to_owned(),
                existing: metric.kind,
                wanted: kind,
            }),
            None => Ok(()),
        }
    }

    /// Closes ticks for every custom metric.
    pub fn close_ticks(&mut self, layout: &SketchLayout, count: u64, window_ticks: usize) {
        for metric in self.metrics.values_mut() {
            metric.close_ticks(layout, count, window_ticks);
        }
    }

    /// Named values of every custom metric (empty map when there are none).
    pub fn values(&self, layout: &SketchLayout, covered_seconds: f64) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for (name, metric) in &self.metrics {
            metric.values(name, layout, covered_seconds, &mut out);
        }
        out
    }

    /// True when the module has no custom metrics.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.metrics
            .iter()
            .map(|(name, metric)| name.len() + metric.heap_bytes() + 64)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_yields_its_values() {
        let layout = SketchLayout::new(0.01, 2048);
        let mut custom = CustomMetrics::default();
        for value in [1.0, 2.0, 3.0] {
            custom
                .record(&layout, "jobs", CustomKind::Counter, value, 8)
                .expect("ok");
            custom
                .record(&layout, "depth", CustomKind::Gauge, value * 10.0, 8)
                .expect("ok");
            custom
                .record(&layout, "size", CustomKind::Distribution, value, 8)
                .expect("ok");
        }
        custom.close_ticks(&layout, 1, 60);
        let values = custom.values(&layout, 2.0);
        assert_eq!(values["jobs"], 3.0);
        assert_eq!(values["jobs_total"], 6.0);
        assert_eq!(
            (values["depth"], values["depth_min"], values["depth_max"]),
            (30.0, 10.0, 30.0)
        );
        assert_eq!(values["size_count"], 3.0);
        assert!((values["size_p50"] - 2.0).abs() <= 0.02);
    }

    #[test]
    fn bad_values_and_clashes_are_refused() {
        let layout = SketchLayout::new(0.01, 2048);
        let mut custom = CustomMetrics::default();
        assert!(
            custom
                .record(&layout, "x", CustomKind::Counter, -1.0, 8)
                .is_err()
        );
        assert!(
            custom
                .record(&layout, "x", CustomKind::Gauge, f64::NAN, 8)
                .is_err()
        );
        assert!(
            custom
                .record(&layout, "error_rate", CustomKind::Gauge, 1.0, 8)
                .is_err()
        );
        custom
            .record(&layout, "x", CustomKind::Gauge, 1.0, 8)
            .expect("ok");
        assert!(matches!(
            custom.record(&layout, "x", CustomKind::Counter, 1.0, 8),
            Err(CustomError::KindClash { .. })
        ));
        assert!(matches!(
            custom.record(&layout, "y", CustomKind::Gauge, 1.0, 1),
            Err(CustomError::TooMany { .. })
        ));
    }
}
