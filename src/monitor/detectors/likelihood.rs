//! `Likelihood`: how unusual the recent surprise is for this series. A short-window
//! robust z-score is the raw surprise; its recent average is judged against the long
//! run of such averages (after Numenta's anomaly likelihood, Ahmad et al. 2017), so a
//! series that is always jumpy needs a bigger jolt than a calm one, and one score
//! threshold serves every series.

use serde::{Deserialize, Serialize};

use super::rolling::RollingOrder;
use super::{Level, Refractory, robust_baseline};
use crate::monitor::anomaly::{Detector, Verdict};

/// Settings of the likelihood detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LikelihoodSettings {
    /// Recent values the raw surprise is judged against.
    pub baseline_size: usize,
    /// Raw surprise: |robust z| clipped at this, over this.
    pub clip_z: f64,
    /// Raw surprises averaged into the recent surprise.
    pub short_size: usize,
    /// Memory of the long-run surprise statistics, in values.
    pub history_size: usize,
    /// Values seen before judging.
    pub min_samples: usize,
    /// z of the recent surprise above this is a warning.
    pub warning_z: f64,
    /// z of the recent surprise above this is critical.
    pub critical_z: f64,
    /// Spread floor relative to |median|, for flat baselines.
    pub min_relative_std: f64,
    /// Values after an alarm whose anomaly scores are damped.
    pub refractory: usize,
}

impl Default for LikelihoodSettings {
    fn default() -> Self {
        LikelihoodSettings {
            baseline_size: 120,
            clip_z: 8.0,
            short_size: 8,
            history_size: 2000,
            min_samples: 150,
            warning_z: 4.0,
            critical_z: 6.0,
            min_relative_std: 0.01,
            refractory: 100,
        }
    }
}

/// Anomaly likelihood over a robust z-score.
#[derive(Debug, Clone)]
pub struct Likelihood {
    settings: LikelihoodSettings,
    window: RollingOrder,
    raw: Vec<f32>,
    raw_next: usize,
    raw_sum: f64,
    mean: f64,
    variance: f64,
    seen: usize,
    refractory: Refractory,
}

impl Likelihood {
    /// Nothing learnt yet.
    pub fn new(settings: LikelihoodSettings) -> Self {
        Likelihood {
            window: RollingOrder::new(settings.baseline_size),
            settings,
            raw: Vec::new(),
            raw_next: 0,
            raw_sum: 0.0,
            mean: 0.0,
            variance: 0.0,
            seen: 0,
            refractory: Refractory::new(settings.refractory),
        }
    }

    /// Raw surprise of `value` in [0, 1], with the baseline behind it.
    fn raw_surprise(&self, value: f64) -> Option<(f64, f64, f64)> {
        if self.window.len() < 2 {
            return None;
        }
        let (median, spread) = robust_baseline(&self.window, self.settings.min_relative_std)?;
        let z = ((value - median) / spread).abs();
        Some((
            z.min(self.settings.clip_z) / self.settings.clip_z,
            median,
            spread,
        ))
    }

    /// The verdict on a value of raw surprise `raw` against `(median, spread)`.
    fn judge(&self, (raw, median, spread): (f64, f64, f64)) -> Option<Verdict> {
        if self.seen < self.settings.min_samples.max(2) {
            return None;
        }
        let average = self.recent_average(raw);
        let std = self.variance.sqrt().max(1e-4);
        let z = (average - self.mean) / std;
        let level = Level::new(self.settings.warning_z, self.settings.critical_z);
        let mut verdict = level.verdict(z, median, spread, self.window.len());
        verdict.anomaly_score = if z <= 0.0 {
            0.0
        } else {
            let tail = 0.5 * libm::erfc(z / std::f64::consts::SQRT_2);
            // -ln(tail) keeps growing where 1 - tail has run out of digits.
            let surprise = -tail.max(1e-300).ln();
            surprise / (surprise + 10.0)
        };
        Some(self.refractory.damp(verdict))
    }

    /// Learns one raw surprise: the long-run statistics of the recent average, then
    /// the short ring.
    fn learn(&mut self, raw: f64) {
        let average = self.recent_average(raw);
        let rate = (1.0 / self.seen.max(1) as f64).max(1.0 / self.settings.history_size as f64);
        let delta = average - self.mean;
        self.mean += rate * delta;
        self.variance = (1.0 - rate) * (self.variance + rate * delta * delta);
        let short = self.settings.short_size.max(1);
        if self.raw.len() < short {
            self.raw.push(raw as f32);
        } else {
            self.raw_sum -= f64::from(self.raw[self.raw_next]);
            self.raw[self.raw_next] = raw as f32;
            self.raw_next = (self.raw_next + 1) % short;
        }
        self.raw_sum += f64::from(raw as f32);
    }

    /// Recent average surprise if `raw` were the newest.
    fn recent_average(&self, raw: f64) -> f64 {
        let short = self.settings.short_size.max(1);
        if self.raw.len() < short {
            return (self.raw_sum + raw) / (self.raw.len() + 1) as f64;
        }
        let oldest = f64::from(self.raw[self.raw_next]);
        (self.raw_sum - oldest + raw) / short as f64
    }
}

impl Detector for Likelihood {
    fn name(&self) -> &'static str {
        "likelihood"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        if !value.is_finite() {
            return None;
        }
        self.judge(self.raw_surprise(value)?)
    }

    fn update(&mut self, value: f64) {
        self.observe(value);
    }

    /// One baseline lookup serves both the verdict and the learning.
    fn observe(&mut self, value: f64) -> Option<Verdict> {
        if !value.is_finite() {
            return None;
        }
        let surprise = self.raw_surprise(value);
        let verdict = surprise.and_then(|s| self.judge(s));
        self.refractory.step(verdict.as_ref());
        if let Some((raw, ..)) = surprise {
            self.learn(raw);
        }
        self.seen += 1;
        self.window.push(value as f32);
        verdict
    }

    fn heap_bytes(&self) -> usize {
        self.window.heap_bytes() + self.raw.capacity() * std::mem::size_of::<f32>()
    }
}
