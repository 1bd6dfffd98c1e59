//! `RobustZ`: a value against the median and interquartile range of recent values.
//! One outlier moves neither, so a spike does not mask the next one, and a baseline
//! with a few spikes in it keeps its scale.

use serde::{Deserialize, Serialize};

use super::rolling::RollingOrder;
use super::{Level, Refractory, robust_baseline};
use crate::monitor::anomaly::{Detector, Verdict};

/// Settings of the robust detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RobustSettings {
    /// Recent values in the baseline.
    pub baseline_size: usize,
    /// Baseline values needed before judging.
    pub min_samples: usize,
    /// |robust z| above this is a warning.
    pub warning_z: f64,
    /// |robust z| above this is critical.
    pub critical_z: f64,
    /// Spread floor relative to |median|, for flat baselines.
    pub min_relative_std: f64,
    /// Values after an alarm whose anomaly scores are damped.
    pub refractory: usize,
}

impl Default for RobustSettings {
    fn default() -> Self {
        RobustSettings {
            baseline_size: 120,
            min_samples: 20,
            warning_z: 4.0,
            critical_z: 6.0,
            min_relative_std: 0.01,
            refractory: 100,
        }
    }
}

/// Median / IQR z-score over a ring of recent values.
#[derive(Debug, Clone)]
pub struct RobustZ {
    settings: RobustSettings,
    window: RollingOrder,
    refractory: Refractory,
}

impl RobustZ {
    /// An empty baseline.
    pub fn new(settings: RobustSettings) -> Self {
        RobustZ {
            window: RollingOrder::new(settings.baseline_size),
            refractory: Refractory::new(settings.refractory),
            settings,
        }
    }

    /// Median and standard-deviation equivalent of the baseline, after the floor.
    pub fn center_and_spread(&self) -> Option<(f64, f64)> {
        robust_baseline(&self.window, self.settings.min_relative_std)
    }
}

impl Detector for RobustZ {
    fn name(&self) -> &'static str {
        "robust"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        if !value.is_finite() || self.window.len() < self.settings.min_samples.max(2) {
            return None;
        }
        let (median, spread) = self.center_and_spread()?;
        let z = (value - median) / spread;
        let level = Level::new(self.settings.warning_z, self.settings.critical_z);
        Some(
            self.refractory
                .damp(level.verdict(z, median, spread, self.window.len())),
        )
    }

    fn update(&mut self, value: f64) {
        if value.is_finite() {
            self.refractory.step(self.evaluate(value).as_ref());
            self.window.push(value as f32);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.window.heap_bytes()
    }
}
