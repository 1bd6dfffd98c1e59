//! Anomaly detection: the `Detector` trait, the spec's rolling z-score, and the
//! spec's keyed `AnomalyDetector`. The other detectors, and `DetectorSpec` that picks
//! one by name, are in `detectors/`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::alert::AlertLevel;
pub use super::detectors::DetectorSpec;

/// What a detector concluded about one value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// Signed score in standard deviations (a z-score, or a detector's equivalent).
    pub score: f64,
    /// How anomalous the value is, from 0 to 1, rising with the evidence (what NAB's
    /// threshold sweep compares).
    pub anomaly_score: f64,
    /// Baseline mean the value was judged against.
    pub baseline_mean: f64,
    /// Baseline standard deviation used (after the zero-variance floor).
    pub baseline_std: f64,
    /// Baseline values behind the judgement.
    pub baseline_samples: usize,
    /// `Some(level)` when the value is anomalous.
    pub level: Option<AlertLevel>,
    /// The value at which a warning starts, in the direction of this value.
    pub warning_bound: f64,
}

/// A streaming anomaly detector for one series (one module's metric).
///
/// Implementations keep bounded memory and never look ahead: `evaluate` judges a
/// value against what came before, `update` adds it to the baseline.
pub trait Detector: std::fmt::Debug + Send {
    /// The detector's name, as used in config and alerts.
    fn name(&self) -> &'static str;
    /// Judges `value` against the current baseline; `None` until the baseline is ready.
    fn evaluate(&self, value: f64) -> Option<Verdict>;
    /// Adds `value` to the baseline.
    fn update(&mut self, value: f64);
    /// Judges, then learns: what the monitor calls once per tick.
    fn observe(&mut self, value: f64) -> Option<Verdict> {
        let verdict = self.evaluate(value);
        self.update(value);
        verdict
    }
    /// `observe` for a value taken at `now` (Unix seconds); detectors that learn
    /// patterns in time (the seasonal one) override it, the others ignore `now`.
    fn observe_at(&mut self, now: f64, value: f64) -> Option<Verdict> {
        let _ = now;
        self.observe(value)
    }
    /// The learnt seasonal level at `now`, for detectors that learn one (the seasonal
    /// detector's time-of-day slot); predictive alerts forecast around it.
    fn expected_at(&self, now: f64) -> Option<f64> {
        let _ = now;
        None
    }
    /// Heap bytes held, for memory accounting.
    fn heap_bytes(&self) -> usize;
    /// Reads what the next `observe` reads first, so that it is loaded by then (the
    /// monitor calls it for the next module while working on one); the value only
    /// keeps the loads.
    fn preload(&self) -> u32 {
        0
    }
}

/// Settings of the spec's rolling z-score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZScoreSettings {
    /// Recent values in the baseline.
    pub baseline_size: usize,
    /// Baseline values needed before judging.
    pub min_samples: usize,
    /// |z| above this is a warning.
    pub warning_z: f64,
    /// |z| above this is critical.
    pub critical_z: f64,
    /// Standard deviation floor, relative to |mean|, so a flat baseline does not turn
    /// every wobble into an infinite z-score.
    pub min_relative_std: f64,
    /// Absolute standard deviation floor, for a baseline flat at zero.
    pub min_std: f64,
}

impl Default for ZScoreSettings {
    fn default() -> Self {
        ZScoreSettings {
            baseline_size: 60,
            min_samples: 10,
            warning_z: 3.0,
            critical_z: 4.0,
            min_relative_std: 0.01,
            min_std: 1e-9,
        }
    }
}

/// The spec's detector: z-score of a value against a ring of recent values.
#[derive(Debug, Clone)]
pub struct RollingZScore {
    settings: ZScoreSettings,
    ring: Vec<f32>,
    next: usize,
    sum: f64,
    sum_squares: f64,
    updates_since_resum: usize,
}

impl RollingZScore {
    /// A detector with an empty baseline.
    pub fn new(settings: ZScoreSettings) -> Self {
        RollingZScore {
            settings,
            ring: Vec::new(),
            next: 0,
            sum: 0.0,
            sum_squares: 0.0,
            updates_since_resum: 0,
        }
    }

    /// Baseline mean and (population) standard deviation, before any floor.
    pub fn baseline(&self) -> Option<(f64, f64)> {
        let n = self.ring.len();
        if n == 0 {
            return None;
        }
        let mean = self.sum / n as f64;
        let variance = (self.sum_squares / n as f64 - mean * mean).max(0.0);
        Some((mean, variance.sqrt()))
    }

    fn resum(&mut self) {
        self.sum = self.ring.iter().map(|v| f64::from(*v)).sum();
        self.sum_squares = self.ring.iter().map(|v| f64::from(*v).powi(2)).sum();
        self.updates_since_resum = 0;
    }
}

impl Detector for RollingZScore {
    fn name(&self) -> &'static str {
        "zscore"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        if !value.is_finite() || self.ring.len() < self.settings.min_samples.max(2) {
            return None;
        }
        let (mean, raw_std) = self.baseline()?;
        let std = raw_std
            .max(self.settings.min_relative_std * mean.abs())
            .max(self.settings.min_std);
        let score = (value - mean) / std;
        let level = if score.abs() > self.settings.critical_z {
            Some(AlertLevel::Critical)
        } else if score.abs() > self.settings.warning_z {
            Some(AlertLevel::Warning)
        } else {
            None
        };
        Some(Verdict {
            score,
            anomaly_score: score.abs() / (score.abs() + self.settings.warning_z),
            baseline_mean: mean,
            baseline_std: std,
            baseline_samples: self.ring.len(),
            level,
            warning_bound: mean + self.settings.warning_z * std * score.signum(),
        })
    }

    fn update(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        // f32 halves the ring; the baseline needs far less precision than that.
        let stored = value as f32;
        let capacity = self.settings.baseline_size.max(2);
        if self.ring.len() < capacity {
            if self.ring.is_empty() {
                self.ring.reserve_exact(capacity);
            }
            self.ring.push(stored);
        } else {
            let old = std::mem::replace(&mut self.ring[self.next], stored);
            self.next = (self.next + 1) % capacity;
            self.sum -= f64::from(old);
            self.sum_squares -= f64::from(old).powi(2);
        }
        self.sum += f64::from(stored);
        self.sum_squares += f64::from(stored).powi(2);
        self.updates_since_resum += 1;
        // Adding and subtracting drifts; start afresh once per ring turn.
        if self.updates_since_resum >= capacity {
            self.resum();
        }
    }

    fn heap_bytes(&self) -> usize {
        self.ring.capacity() * std::mem::size_of::<f32>()
    }

    fn preload(&self) -> u32 {
        self.ring.get(self.next).map_or(0, |value| value.to_bits())
    }
}

/// The spec's `AnomalyDetector`: baselines keyed by (module, metric).
#[derive(Debug, Default)]
pub struct AnomalyDetector {
    settings: ZScoreSettings,
    baselines: HashMap<(String, String), RollingZScore>,
}

impl AnomalyDetector {
    /// A detector with the spec's defaults: a baseline of 100 values, judged after 10.
    pub fn new() -> Self {
        Self::with_settings(ZScoreSettings {
            baseline_size: 100,
            ..ZScoreSettings::default()
        })
    }

    /// A detector with explicit settings.
    pub fn with_settings(settings: ZScoreSettings) -> Self {
        AnomalyDetector {
            settings,
            baselines: HashMap::new(),
        }
    }

    /// Adds `value` to the baseline of (module, metric).
    pub fn update_baseline(&mut self, module: &str, metric: &str, value: f64) {
        let settings = self.settings;
        self.baselines
            .entry((module.to_owned(), metric.to_owned()))
            .or_insert_with(|| RollingZScore::new(settings))
            .update(value);
    }

    /// The z-score of `value` when it is anomalous (|z| > 3 by default) against at
    /// least `min_samples` (10) baseline values; `None` otherwise.
    pub fn detect_anomaly(&self, module: &str, metric: &str, value: f64) -> Option<f64> {
        let verdict = self
            .baselines
            .get(&(module.to_owned(), metric.to_owned()))?
            .evaluate(value)?;
        verdict.level.map(|_| verdict.score)
    }

    /// The full verdict for `value`, anomalous or not.
    pub fn verdict(&self, module: &str, metric: &str, value: f64) -> Option<Verdict> {
        self.baselines
            .get(&(module.to_owned(), metric.to_owned()))?
            .evaluate(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_zero_baseline_uses_the_absolute_floor() {
        let mut detector = RollingZScore::new(ZScoreSettings::default());
        for _ in 0..20 {
            detector.update(0.0);
        }
        let same = detector.evaluate(0.0).expect("baseline ready");
        assert_eq!(same.score, 0.0);
        assert_eq!(same.level, None);
        let jump = detector.evaluate(0.01).expect("baseline ready");
        assert!(jump.score.is_finite());
        assert_eq!(jump.level, Some(AlertLevel::Critical));
    }

    #[test]
    fn ring_keeps_only_recent_values() {
        let mut detector = RollingZScore::new(ZScoreSettings {
            baseline_size: 10,
            ..ZScoreSettings::default()
        });
        for _ in 0..10 {
            detector.update(100.0);
        }
        for _ in 0..10 {
            detector.update(1.0);
        }
        let (mean, std) = detector.baseline().expect("baseline");
        assert!((mean - 1.0).abs() < 1e-9 && std < 1e-6, "{mean} {std}");
        assert_eq!(detector.heap_bytes(), 40);
    }
}
