//! `Seasonal`: learns what each time of day looks like (one exponentially weighted mean
//! and variance per slot of the period) and judges a value against its own slot, so a
//! nightly dip or a morning peak is expected and the same value at noon is not.

use serde::{Deserialize, Serialize};

use super::{Level, Refractory, floor_spread};
use crate::monitor::anomaly::{Detector, Verdict};

/// Settings of the seasonal detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeasonalSettings {
    /// The period, seconds (a day by default).
    pub period_seconds: f64,
    /// Slots per period.
    pub slots: usize,
    /// Weight of a new value in its slot's mean and variance (0..1).
    pub learning_rate: f64,
    /// Values a slot needs before it judges.
    pub min_samples: usize,
    /// |z| against the slot above this is a warning.
    pub warning_z: f64,
    /// |z| against the slot above this is critical.
    pub critical_z: f64,
    /// Spread floor relative to |slot mean|.
    pub min_relative_std: f64,
    /// Spread floor relative to the series' overall standard deviation.
    pub min_global_std: f64,
    /// Values after an alarm whose anomaly scores are damped.
    pub refractory: usize,
}

impl Default for SeasonalSettings {
    fn default() -> Self {
        SeasonalSettings {
            period_seconds: 86_400.0,
            slots: 48,
            learning_rate: 0.1,
            min_samples: 4,
            warning_z: 4.0,
            critical_z: 6.0,
            min_relative_std: 0.01,
            min_global_std: 0.1,
            refractory: 100,
        }
    }
}

/// One slot's running statistics.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    mean: f32,
    variance: f32,
    count: u32,
}

impl Slot {
    fn learn(&mut self, value: f64, rate: f64) {
        self.count = self.count.saturating_add(1);
        // The first values average plainly; then the weight settles at `rate`.
        let weight = rate.max(1.0 / f64::from(self.count));
        let delta = value - f64::from(self.mean);
        let mean = f64::from(self.mean) + weight * delta;
        let variance = (1.0 - weight) * (f64::from(self.variance) + weight * delta * delta);
        self.mean = mean as f32;
        self.variance = variance as f32;
    }
}

/// Time-of-day baselines.
#[derive(Debug, Clone)]
pub struct Seasonal {
    settings: SeasonalSettings,
    slots: Vec<Slot>,
    overall: Slot,
    last_now: Option<f64>,
    step_seconds: f64,
    refractory: Refractory,
}

impl Seasonal {
    /// No slot learnt yet.
    pub fn new(settings: SeasonalSettings) -> Self {
        Seasonal {
            settings,
            slots: Vec::new(),
            overall: Slot::default(),
            last_now: None,
            step_seconds: 1.0,
            refractory: Refractory::new(settings.refractory),
        }
    }

    fn slot_index(&self, now: f64) -> usize {
        let period = self.settings.period_seconds;
        let phase = now.rem_euclid(period) / period;
        ((phase * self.settings.slots as f64) as usize).min(self.settings.slots - 1)
    }

    /// Without a time, a value is taken one step after the last.
    fn assumed_now(&self) -> f64 {
        self.last_now.map_or(0.0, |t| t + self.step_seconds)
    }

    fn evaluate_at(&self, now: f64, value: f64) -> Option<Verdict> {
        if !value.is_finite() || !now.is_finite() {
            return None;
        }
        let slot = self.slots.get(self.slot_index(now))?;
        if (slot.count as usize) < self.settings.min_samples.max(1) {
            return None;
        }
        let mean = f64::from(slot.mean);
        let overall_std = f64::from(self.overall.variance).sqrt();
        let spread = floor_spread(
            f64::from(slot.variance).sqrt(),
            mean,
            self.settings.min_relative_std,
        )
        .max(self.settings.min_global_std * overall_std);
        let z = (value - mean) / spread;
        let level = Level::new(self.settings.warning_z, self.settings.critical_z);
        Some(
            self.refractory
                .damp(level.verdict(z, mean, spread, slot.count as usize)),
        )
    }

    fn update_at(&mut self, now: f64, value: f64) {
        if !value.is_finite() || !now.is_finite() {
            return;
        }
        self.refractory.step(self.evaluate_at(now, value).as_ref());
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); self.settings.slots.max(1)];
        }
        if let Some(last) = self.last_now
            && now > last
        {
            self.step_seconds = now - last;
        }
        self.last_now = Some(now);
        let index = self.slot_index(now);
        let rate = self.settings.learning_rate;
        self.slots[index].learn(value, rate);
        self.overall.learn(value, rate / self.settings.slots as f64);
    }
}

impl Detector for Seasonal {
    fn name(&self) -> &'static str {
        "seasonal"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        self.evaluate_at(self.assumed_now(), value)
    }

    fn update(&mut self, value: f64) {
        self.update_at(self.assumed_now(), value);
    }

    fn observe_at(&mut self, now: f64, value: f64) -> Option<Verdict> {
        let verdict = self.evaluate_at(now, value);
        self.update_at(now, value);
        verdict
    }

    fn expected_at(&self, now: f64) -> Option<f64> {
        let slot = self.slots.get(self.slot_index(now))?;
        ((slot.count as usize) >= self.settings.min_samples.max(1)).then(|| f64::from(slot.mean))
    }

    fn heap_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }
}
