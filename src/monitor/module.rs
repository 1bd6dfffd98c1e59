//! `ModuleMetrics`: one module's window, custom metrics, detectors and active alerts.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::RecordError;
use super::alert::Alert;
use super::anomaly::Detector;
use super::custom::CustomMetrics;
use super::metrics::{Builtin, MetricName, WindowStats};
use super::predict::Trend;
use super::sketch::SketchLayout;
use super::snapshot::{ModuleSource, ModuleStatus};
use super::window::ModuleWindow;

/// A module's index in its monitor, for the allocation-free hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub(crate) u32);

impl ModuleId {
    /// The index as a number.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Identifies an alert slot within a module: a threshold rule, or a watched metric's detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RuleKey {
    Threshold(u16),
    Anomaly(u16),
    /// A threshold rule's predictive alert.
    Prediction(u16),
}

/// The spec's `ModuleMetrics`: everything the monitor keeps about one module.
#[derive(Debug)]
pub struct ModuleMetrics {
    /// Shared with the snapshots, which then hold the name without copying it.
    name: Arc<str>,
    layout: Arc<SketchLayout>,
    pub(crate) source: ModuleSource,
    pub(crate) window: ModuleWindow,
    pub(crate) custom: CustomMetrics,
    pub(crate) custom_values: BTreeMap<String, f64>,
    pub(crate) stats: WindowStats,
    pub(crate) rule_indexes: Vec<u16>,
    pub(crate) alerts: Vec<(RuleKey, Alert)>,
    pub(crate) detectors: Vec<Option<Box<dyn Detector>>>,
    /// Trends of the rules' metrics near their thresholds, by rule index (kept with
    /// the module: a tick finds them without a lookup keyed by module).
    pub(crate) trends: Vec<(u16, Trend)>,
    /// The latest statistics a source reported for this module, and when.
    pub(crate) reported: Option<Box<(super::ReportedMetrics, f64)>>,
}

impl ModuleMetrics {
    /// A module with no data, using the default sketch layout (1 % relative error).
    pub fn new(name: impl Into<String>) -> Self {
        Self::with_layout(name.into(), Arc::new(SketchLayout::new(0.01, 2048)))
    }

    pub(crate) fn with_layout(name: String, layout: Arc<SketchLayout>) -> Self {
        ModuleMetrics {
            name: name.into(),
            layout,
            source: ModuleSource::default(),
            window: ModuleWindow::default(),
            custom: CustomMetrics::default(),
            custom_values: BTreeMap::new(),
            stats: WindowStats::empty(),
            rule_indexes: Vec::new(),
            alerts: Vec::new(),
            detectors: Vec::new(),
            trends: Vec::new(),
            reported: None,
        }
    }

    /// The spec's `add_request(latency, success)`, plus `now` (Unix seconds) for `last_update`.
    /// The request counts in the open tick; statistics move when the monitor ticks.
    #[inline]
    pub fn add_request(
        &mut self,
        latency_seconds: f64,
        success: bool,
        now: f64,
    ) -> Result<(), RecordError> {
        record_request(
            &mut self.window,
            &self.layout,
            latency_seconds,
            success,
            now,
        )
    }

    /// The most recently closed tick as stored history keeps it.
    pub fn last_closed(&self) -> Option<super::window::ClosedTick> {
        self.window.last_closed()
    }

    /// The open tick so far, in the stored form.
    pub fn open_tick(&self) -> super::window::ClosedTick {
        self.window.open_tick()
    }

    /// Module name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module's name, shared.
    pub(crate) fn shared_name(&self) -> &Arc<str> {
        &self.name
    }

    /// Where the module's data comes from.
    pub fn source(&self) -> ModuleSource {
        self.source
    }

    /// The spec's statistics, as of the last tick.
    pub fn statistics(&self) -> &WindowStats {
        &self.stats
    }

    /// Custom metric values, as of the last tick.
    pub fn custom_values(&self) -> &BTreeMap<String, f64> {
        &self.custom_values
    }

    /// Requests since the module was first seen (including the open tick).
    pub fn request_count(&self) -> u64 {
        self.window.total_requests()
    }

    /// Errors since the module was first seen (including the open tick).
    pub fn error_count(&self) -> u64 {
        self.window.total_errors()
    }

    /// Time of the latest record (Unix seconds), 0 before any.
    pub fn last_update(&self) -> f64 {
        self.window.last_update()
    }

    /// Alerts active on this module (pending or firing).
    pub fn active_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().map(|(_, alert)| alert)
    }

    /// Health by the worst firing alert, or `NoData` when the window is empty.
    pub fn status(&self) -> ModuleStatus {
        use super::alert::{AlertLevel, AlertState};
        let worst = self
            .alerts
            .iter()
            .filter(|(_, a)| matches!(a.state, AlertState::Firing | AlertState::Flapping))
            .map(|(_, a)| a.level)
            .max();
        match worst {
            Some(AlertLevel::Critical) => ModuleStatus::Critical,
            Some(AlertLevel::Warning) => ModuleStatus::Warning,
            _ if self.stats.window_requests == 0 && self.stats.latency_samples == 0 => {
                ModuleStatus::NoData
            }
            _ => ModuleStatus::Ok,
        }
    }

    /// A metric's value with its support: `(value, samples, trustworthy)`.
    #[inline]
    pub fn metric_value(&self, metric: &MetricName) -> Option<(f64, u64, bool)> {
        match metric {
            MetricName::Builtin(builtin) => {
                let (samples, trusted) = self.stats.support(*builtin);
                Some((self.stats.get(*builtin), samples, trusted))
            }
            MetricName::Custom(name) => self.custom_values.get(name).map(|v| (*v, 1, true)),
        }
    }

    /// A metric's value over the last tick alone, with its support, as detectors see
    /// it: `(value, samples, trustworthy)`. Custom metrics give their window value.
    ///
    /// Detectors judge each tick on its own because consecutive window values share
    /// all but one tick: a z-score over them mistakes one odd tick entering (and, a
    /// window later, leaving) for a shift.
    pub fn tick_value(
        &self,
        metric: &MetricName,
        min_samples: u64,
        tick_seconds: f64,
    ) -> Option<(f64, u64, bool)> {
        let tick = self.window.last_tick();
        let MetricName::Builtin(builtin) = metric else {
            return self.metric_value(metric);
        };
        if self.reported.is_some() {
            // A reported module's values are its source's own window aggregates.
            return self.metric_value(metric);
        }
        Some(match builtin {
            Builtin::LatencyMean => (
                tick.latency_mean,
                tick.latency_samples,
                tick.latency_samples > 0,
            ),
            Builtin::LatencyMax => return None,
            Builtin::RequestsPerSecond => {
                (tick.requests as f64 / tick_seconds, tick.requests, true)
            }
            Builtin::ErrorRate => {
                let rate = if tick.requests > 0 {
                    tick.errors as f64 / tick.requests as f64
                } else {
                    0.0
                };
                (rate, tick.requests, tick.requests > 0)
            }
            percentile => {
                let quantile = percentile.quantile()?;
                let index = super::sketch::QUANTILES
                    .iter()
                    .position(|q| *q == quantile)?;
                let samples = tick.quantiles.samples;
                let value = tick.quantiles.values[index]?;
                let trusted = !tick.quantiles.collapsed
                    && !super::metrics::is_low_confidence(quantile, samples, min_samples);
                (value, samples, trusted)
            }
        })
    }

    /// The value of a built-in metric, as of the last tick.
    pub fn get(&self, metric: Builtin) -> f64 {
        self.stats.get(metric)
    }

    /// Reads what the monitor's next tick reads first in this module's heap (its
    /// bins, oldest tick, detectors), so that the loads overlap the work on the module
    /// before it; the value only keeps the loads.
    pub(crate) fn preload_tick(&self) -> u32 {
        self.detectors
            .iter()
            .flatten()
            .fold(self.window.preload_close(), |acc, d| acc ^ d.preload())
    }

    /// Heap bytes held by this module, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<[usize; 2]>()
            + self.name.len()
            + self.window.heap_bytes()
            + self.custom.heap_bytes()
            + self.rule_indexes.capacity() * 2
            + self.alerts.capacity() * std::mem::size_of::<(RuleKey, Alert)>()
            + self
                .detectors
                .iter()
                .flatten()
                .map(|d| d.heap_bytes() + 48)
                .sum::<usize>()
            + self.trends.capacity() * std::mem::size_of::<(u16, Trend)>()
            + self
                .trends
                .iter()
                .map(|(_, trend)| trend.heap_bytes())
                .sum::<usize>()
    }
}

/// Records a request into `window`, refusing a latency that is negative, NaN or infinite.
#[inline]
fn record_request(
    window: &mut ModuleWindow,
    layout: &SketchLayout,
    latency_seconds: f64,
    success: bool,
    now: f64,
) -> Result<(), RecordError> {
    check_latency(latency_seconds)?;
    window.add_request(layout, latency_seconds, success, now);
    Ok(())
}

/// Refuses a latency that is negative, NaN or infinite.
#[inline]
pub(crate) fn check_latency(latency_seconds: f64) -> Result<(), RecordError> {
    if latency_seconds >= 0.0 && latency_seconds.is_finite() {
        Ok(())
    } else {
        Err(RecordError::Latency {
            latency: latency_seconds,
        })
    }
}
