//! NAB's windowedGaussian baseline, reimplemented from its description in
//! `../shared/nab/README.md`: each value scores Φ(|z|) = 1 − Q(|z|) against the mean
//! and population standard deviation of up to 6,400 earlier values; once full, the
//! window moves on 100 values at a time. The first value scores 0.

use std::collections::VecDeque;

use crate::monitor::{Detector, Verdict};

/// Values in the full window.
const WINDOW: usize = 6_400;
/// Values the full window moves by.
const STEP: usize = 100;
/// Standard deviation used when the window is flat.
const FLAT_STD: f64 = 1e-6;

/// The windowedGaussian detector (a NAB reference, not for the monitor).
#[derive(Debug, Clone, Default)]
pub struct WindowedGaussian {
    window: VecDeque<f64>,
    pending: Vec<f64>,
    mean: f64,
    /// Sum of squared deviations from `mean` (Welford's running form while filling).
    squares: f64,
    std: f64,
}

impl WindowedGaussian {
    /// An empty detector.
    pub fn new() -> Self {
        WindowedGaussian::default()
    }

    /// Recomputes mean and spread over the whole window (two passes).
    fn refresh(&mut self) {
        let n = self.window.len() as f64;
        self.mean = self.window.iter().sum::<f64>() / n;
        self.squares = self.window.iter().map(|v| (v - self.mean).powi(2)).sum();
        self.set_std();
    }

    fn set_std(&mut self) {
        let variance = self.squares / self.window.len() as f64;
        self.std = if variance == 0.0 {
            FLAT_STD
        } else {
            variance.sqrt()
        };
    }
}

impl Detector for WindowedGaussian {
    fn name(&self) -> &'static str {
        "windowed_gaussian"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        if self.window.is_empty() {
            return None;
        }
        let z = (value - self.mean) / self.std;
        let tail = 0.5 * libm::erfc(z.abs() / std::f64::consts::SQRT_2);
        Some(Verdict {
            score: z,
            anomaly_score: 1.0 - tail,
            baseline_mean: self.mean,
            baseline_std: self.std,
            baseline_samples: self.window.len(),
            level: None,
            warning_bound: self.mean + 3.0 * self.std * z.signum(),
        })
    }

    fn update(&mut self, value: f64) {
        if self.window.len() < WINDOW {
            // Growing: Welford's update, O(1) per value instead of a pass per value.
            self.window.push_back(value);
            let delta = value - self.mean;
            self.mean += delta / self.window.len() as f64;
            self.squares += delta * (value - self.mean);
            self.set_std();
            return;
        }
        self.pending.push(value);
        if self.pending.len() == STEP {
            self.window.drain(..STEP);
            self.window.extend(self.pending.drain(..));
            self.refresh();
        }
    }

    fn heap_bytes(&self) -> usize {
        (self.window.capacity() + self.pending.capacity()) * std::mem::size_of::<f64>()
    }
}
