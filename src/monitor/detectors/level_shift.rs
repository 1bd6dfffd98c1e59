//! `LevelShift`: a two-sided CUSUM (Page 1954) of robustly standardised values against a
//! long median baseline. A lasting step up or down adds up, a lone spike (clipped)
//! does not; once the baseline catches up with the new level the sums drain away.

use serde::{Deserialize, Serialize};

use super::rolling::RollingOrder;
use super::{Level, Refractory, robust_baseline};
use crate::monitor::anomaly::{Detector, Verdict};

/// Settings of the level-shift detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LevelShiftSettings {
    /// Recent values in the baseline.
    pub baseline_size: usize,
    /// Baseline values needed before judging.
    pub min_samples: usize,
    /// Standardised drift ignored per value (CUSUM's k), in standard deviations.
    pub slack: f64,
    /// One value's standardised deviation counts at most this much.
    pub clip: f64,
    /// Cumulative sum above this is a warning (CUSUM's h).
    pub warning_sum: f64,
    /// Cumulative sum above this is critical.
    pub critical_sum: f64,
    /// Spread floor relative to |median|, for flat baselines.
    pub min_relative_std: f64,
    /// Values after an alarm whose anomaly scores are damped.
    pub refractory: usize,
}

impl Default for LevelShiftSettings {
    fn default() -> Self {
        LevelShiftSettings {
            baseline_size: 240,
            min_samples: 30,
            slack: 0.5,
            clip: 4.0,
            warning_sum: 8.0,
            critical_sum: 16.0,
            min_relative_std: 0.01,
            refractory: 100,
        }
    }
}

/// Two-sided CUSUM against a rolling median and IQR.
#[derive(Debug, Clone)]
pub struct LevelShift {
    settings: LevelShiftSettings,
    window: RollingOrder,
    upper: f64,
    lower: f64,
    refractory: Refractory,
}

impl LevelShift {
    /// An empty baseline.
    pub fn new(settings: LevelShiftSettings) -> Self {
        LevelShift {
            window: RollingOrder::new(settings.baseline_size),
            settings,
            upper: 0.0,
            lower: 0.0,
            refractory: Refractory::new(settings.refractory),
        }
    }

    fn baseline(&self) -> Option<(f64, f64)> {
        if self.window.len() < self.settings.min_samples.max(2) {
            return None;
        }
        robust_baseline(&self.window, self.settings.min_relative_std)
    }

    /// The sums after `value`, and the baseline it was judged against.
    fn step(&self, value: f64) -> Option<(f64, f64, f64, f64)> {
        let (median, spread) = self.baseline()?;
        let clip = self.settings.clip;
        let r = ((value - median) / spread).clamp(-clip, clip);
        // Capped so a long shift drains in bounded time once the baseline follows it.
        let cap = 2.0 * self.settings.critical_sum;
        let upper = (self.upper + r - self.settings.slack).clamp(0.0, cap);
        let lower = (self.lower - r - self.settings.slack).clamp(0.0, cap);
        Some((upper, lower, median, spread))
    }
}

impl Detector for LevelShift {
    fn name(&self) -> &'static str {
        "level_shift"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        if !value.is_finite() {
            return None;
        }
        let (upper, lower, median, spread) = self.step(value)?;
        let score = if upper >= lower { upper } else { -lower };
        let level = Level::new(self.settings.warning_sum, self.settings.critical_sum);
        let mut verdict = level.verdict(score, median, spread, self.window.len());
        // The sum's warning line in the value's terms: the value that would cross it.
        let needed = self.settings.warning_sum + self.settings.slack
            - if score >= 0.0 { self.upper } else { self.lower };
        verdict.warning_bound = median + score.signum() * needed * spread;
        Some(self.refractory.damp(verdict))
    }

    fn update(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.refractory.step(self.evaluate(value).as_ref());
        if let Some((upper, lower, ..)) = self.step(value) {
            self.upper = upper;
            self.lower = lower;
        }
        self.window.push(value as f32);
    }

    fn heap_bytes(&self) -> usize {
        self.window.heap_bytes()
    }
}
