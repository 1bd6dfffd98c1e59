//! The detectors beyond the spec's z-score, and `DetectorSpec`: the config's choice of
//! detector by `kind`, validated, with a fresh detector per watched series.

pub mod context;
pub mod hybrid;
pub mod level_shift;
pub mod likelihood;
#[cfg(test)]
mod reference;
pub mod robust;
pub mod rolling;
pub mod seasonal;

use serde::{Deserialize, Serialize};

use super::alert::AlertLevel;
use super::anomaly::{Detector, RollingZScore, Verdict, ZScoreSettings};
pub use context::{Context, ContextSettings};
pub use hybrid::{Hybrid, HybridSettings};
pub use level_shift::{LevelShift, LevelShiftSettings};
pub use likelihood::{Likelihood, LikelihoodSettings};
pub use robust::{RobustSettings, RobustZ};
pub use seasonal::{Seasonal, SeasonalSettings};

/// Why a detector setting was refused; each says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DetectorError {
    /// A setting is out of its range.
    #[error("detector {kind}: {setting} must be {range} (got {value})")]
    Range {
        /// The detector kind.
        kind: &'static str,
        /// The setting's name.
        setting: &'static str,
        /// The allowed range, in words.
        range: &'static str,
        /// The value given.
        value: f64,
    },
}

/// Checks that `value` lies in `low..=high`.
pub(crate) fn check_range(
    kind: &'static str,
    setting: &'static str,
    value: f64,
    (low, high): (f64, f64),
    range: &'static str,
) -> Result<(), DetectorError> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(DetectorError::Range {
            kind,
            setting,
            range,
            value,
        })
    }
}

/// A standard-deviation equivalent floored so a flat baseline gives finite scores.
pub(crate) fn floor_spread(spread: f64, center: f64, min_relative: f64) -> f64 {
    spread.max(min_relative * center.abs()).max(1e-9)
}

/// Median and a standard-deviation equivalent of a window: the larger of IQR / 1.349
/// and the 5–95 % range / 3.29 (equal for normal data; the second keeps a scale when
/// discrete values collapse the quartiles), floored relative to the median.
pub(crate) fn robust_baseline(
    window: &rolling::RollingOrder,
    min_relative: f64,
) -> Option<(f64, f64)> {
    let median = window.quantile(0.5)?;
    let iqr = window.quantile(0.75)? - window.quantile(0.25)?;
    let range = window.quantile(0.95)? - window.quantile(0.05)?;
    let spread = (iqr / 1.348_979_5).max(range / 3.289_707_3);
    Some((median, floor_spread(spread, median, min_relative)))
}

/// Warning and critical limits on |score|, and the verdict they give.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level {
    warning: f64,
    critical: f64,
}

impl Level {
    pub(crate) fn new(warning: f64, critical: f64) -> Self {
        Level { warning, critical }
    }

    /// The verdict on a signed `score` against a baseline (`center`, `spread`); the
    /// anomaly score is |score| / (|score| + warning), one half at the warning line.
    pub(crate) fn verdict(&self, score: f64, center: f64, spread: f64, samples: usize) -> Verdict {
        let size = score.abs();
        let level = if size > self.critical {
            Some(AlertLevel::Critical)
        } else if size > self.warning {
            Some(AlertLevel::Warning)
        } else {
            None
        };
        Verdict {
            score,
            anomaly_score: size / (size + self.warning),
            baseline_mean: center,
            baseline_std: spread,
            baseline_samples: samples,
            level,
            warning_bound: center + self.warning * spread * score.signum(),
        }
    }
}

fn check_levels(kind: &'static str, warning: f64, critical: f64) -> Result<(), DetectorError> {
    let name = if kind == "level_shift" {
        ("warning_sum", "critical_sum")
    } else {
        ("warning_z", "critical_z")
    };
    check_range(kind, name.0, warning, (f64::MIN_POSITIVE, 1e6), "> 0")?;
    check_range(
        kind,
        name.1,
        critical,
        (warning, 1e6),
        "at least the warning level",
    )
}

/// The warning and critical lines, and the spread floor relative to the baseline.
fn check_lines(
    kind: &'static str,
    warning: f64,
    critical: f64,
    min_relative_std: f64,
) -> Result<(), DetectorError> {
    check_levels(kind, warning, critical)?;
    check_relative_floor(kind, min_relative_std)
}

fn check_baseline(
    kind: &'static str,
    size: usize,
    min_samples: usize,
) -> Result<(), DetectorError> {
    check_range(
        kind,
        "baseline_size",
        size as f64,
        (2.0, 100_000.0),
        "2..100000",
    )?;
    check_range(
        kind,
        "min_samples",
        min_samples as f64,
        (0.0, size as f64),
        "at most baseline_size",
    )
}

fn check_relative_floor(kind: &'static str, value: f64) -> Result<(), DetectorError> {
    check_range(kind, "min_relative_std", value, (0.0, 10.0), "0..10")
}

/// The novelty settings' ranges, for `context` and the novelty path of `hybrid`.
fn check_context(kind: &'static str, c: &ContextSettings) -> Result<(), DetectorError> {
    check_range(
        kind,
        "warning_score",
        c.warning_score,
        (1e-6, 1.0),
        "in (0, 1]",
    )?;
    check_range(
        kind,
        "critical_score",
        c.critical_score,
        (c.warning_score, 1.0),
        "from warning_score to 1",
    )?;
    check_range(
        kind,
        "learn_samples",
        c.learn_samples as f64,
        (2.0, 1e6),
        "2..1000000",
    )?;
    check_range(kind, "levels", c.levels as f64, (1.0, 1e6), "1..1000000")?;
    check_range(kind, "max_order", c.max_order as f64, (1.0, 16.0), "1..16")?;
    check_range(
        kind,
        "memory_bits",
        c.memory_bits as f64,
        (64.0, 16_777_216.0),
        "64..16777216",
    )
}

/// After an alarm (a verdict with a level), the anomaly scores of the next `length`
/// values are damped a hundredfold, so one episode scores high once: NAB counts only
/// a window's first detection and every later one outside it as a false positive.
/// Levels, and so alerts, are left alone.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Refractory {
    length: usize,
    left: usize,
}

impl Refractory {
    pub(crate) fn new(length: usize) -> Self {
        Refractory { length, left: 0 }
    }

    /// Damps `verdict`'s anomaly score while an earlier alarm is recent.
    pub(crate) fn damp(&self, mut verdict: Verdict) -> Verdict {
        if self.left > 0 {
            verdict.anomaly_score *= 0.01;
        }
        verdict
    }

    /// Counts one value, starting a quiet spell when it alarmed outside one.
    pub(crate) fn step(&mut self, verdict: Option<&Verdict>) {
        self.step_alarm(verdict.is_some_and(|v| v.level.is_some()));
    }

    /// `step` for a detector whose alarm is not its verdict's level.
    pub(crate) fn step_alarm(&mut self, alarm: bool) {
        if self.left > 0 {
            self.left -= 1;
        } else if alarm {
            self.left = self.length;
        }
    }
}

/// Which detector the monitor runs on each module's metrics (`"kind"` in config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DetectorSpec {
    /// No anomaly detection.
    None,
    /// The spec's rolling z-score.
    Zscore(ZScoreSettings),
    /// Median / IQR z-score over recent values.
    Robust(RobustSettings),
    /// Two-sided CUSUM for lasting steps up or down.
    LevelShift(LevelShiftSettings),
    /// Time-of-day baselines.
    Seasonal(SeasonalSettings),
    /// Anomaly likelihood of a robust z-score's recent average.
    Likelihood(LikelihoodSettings),
    /// Contextual novelty of runs of quantised levels.
    Context(ContextSettings),
    /// Contextual novelty plus a fast shift path (the monitor's default).
    Hybrid(HybridSettings),
}

impl Default for DetectorSpec {
    fn default() -> Self {
        DetectorSpec::Hybrid(HybridSettings::default())
    }
}

impl DetectorSpec {
    /// Every detector kind, as written in config (`none` aside).
    pub const KINDS: &'static [&'static str] = &[
        "zscore",
        "robust",
        "level_shift",
        "seasonal",
        "likelihood",
        "context",
        "hybrid",
    ];

    /// The kind, as written in config.
    pub fn kind(&self) -> &'static str {
        match self {
            DetectorSpec::None => "none",
            DetectorSpec::Zscore(_) => "zscore",
            DetectorSpec::Robust(_) => "robust",
            DetectorSpec::LevelShift(_) => "level_shift",
            DetectorSpec::Seasonal(_) => "seasonal",
            DetectorSpec::Likelihood(_) => "likelihood",
            DetectorSpec::Context(_) => "context",
            DetectorSpec::Hybrid(_) => "hybrid",
        }
    }

    /// Checks the settings' ranges.
    pub fn validate(&self) -> Result<(), DetectorError> {
        match self {
            DetectorSpec::None => Ok(()),
            DetectorSpec::Zscore(z) => {
                let kind = "zscore";
                check_levels(kind, z.warning_z, z.critical_z)?;
                check_baseline(kind, z.baseline_size, z.min_samples)
            }
            DetectorSpec::Robust(r) => {
                let kind = "robust";
                check_lines(kind, r.warning_z, r.critical_z, r.min_relative_std)?;
                check_baseline(kind, r.baseline_size, r.min_samples)
            }
            DetectorSpec::LevelShift(l) => {
                let kind = "level_shift";
                check_lines(kind, l.warning_sum, l.critical_sum, l.min_relative_std)?;
                check_range(kind, "slack", l.slack, (0.0, 100.0), "0..100")?;
                check_range(kind, "clip", l.clip, (0.01, 1e6), "> 0")?;
                check_baseline(kind, l.baseline_size, l.min_samples)
            }
            DetectorSpec::Seasonal(s) => {
                let kind = "seasonal";
                check_lines(kind, s.warning_z, s.critical_z, s.min_relative_std)?;
                let period = (1.0, 366.0 * 86_400.0);
                check_range(
                    kind,
                    "period_seconds",
                    s.period_seconds,
                    period,
                    "1..31622400",
                )?;
                check_range(kind, "slots", s.slots as f64, (1.0, 10_000.0), "1..10000")?;
                let rate = (1e-6, 1.0);
                check_range(kind, "learning_rate", s.learning_rate, rate, "in (0, 1]")?;
                check_range(
                    kind,
                    "min_global_std",
                    s.min_global_std,
                    (0.0, 10.0),
                    "0..10",
                )?;
                check_range(
                    kind,
                    "min_samples",
                    s.min_samples as f64,
                    (1.0, 1e6),
                    "1..1000000",
                )
            }
            DetectorSpec::Likelihood(l) => {
                let kind = "likelihood";
                check_lines(kind, l.warning_z, l.critical_z, l.min_relative_std)?;
                check_range(kind, "clip_z", l.clip_z, (0.1, 1e6), "> 0")?;
                check_range(
                    kind,
                    "short_size",
                    l.short_size as f64,
                    (1.0, 10_000.0),
                    "1..10000",
                )?;
                let history = (2.0, 1e7);
                check_range(
                    kind,
                    "history_size",
                    l.history_size as f64,
                    history,
                    "2..10000000",
                )?;
                check_baseline(kind, l.baseline_size, 2)
            }
            DetectorSpec::Context(c) => check_context("context", c),
            DetectorSpec::Hybrid(h) => {
                let kind = "hybrid";
                check_lines(kind, h.warning_z, h.critical_z, h.min_relative_std)?;
                check_range(kind, "clip_z", h.clip_z, (0.1, 1e6), "> 0")?;
                check_range(kind, "confirm_z", h.confirm_z, (0.0, 1e6), ">= 0")?;
                check_range(
                    kind,
                    "adjacent_weight",
                    h.adjacent_weight,
                    (0.0, 1.0),
                    "0..1",
                )?;
                check_range(kind, "span", h.span as f64, (1.0, 1e7), "1..10000000")?;
                check_range(
                    kind,
                    "min_samples",
                    h.min_samples as f64,
                    (2.0, 1e7),
                    "2..10000000",
                )?;
                check_context(kind, &h.context())
            }
        }
    }

    /// The |score| at which a warning starts (the alert's hysteresis is relative to it).
    pub fn warning_score(&self) -> f64 {
        match self {
            DetectorSpec::Zscore(z) => z.warning_z,
            DetectorSpec::Robust(r) => r.warning_z,
            DetectorSpec::LevelShift(l) => l.warning_sum,
            DetectorSpec::Seasonal(s) => s.warning_z,
            DetectorSpec::Likelihood(l) => l.warning_z,
            DetectorSpec::Context(c) => c.warning_score,
            DetectorSpec::Hybrid(h) => h.warning_z,
            DetectorSpec::None => 3.0,
        }
    }

    /// A fresh detector for one series, or `None` when detection is off.
    pub fn build(&self) -> Option<Box<dyn Detector>> {
        match self {
            DetectorSpec::None => None,
            DetectorSpec::Zscore(settings) => Some(Box::new(RollingZScore::new(*settings))),
            DetectorSpec::Robust(settings) => Some(Box::new(RobustZ::new(*settings))),
            DetectorSpec::LevelShift(settings) => Some(Box::new(LevelShift::new(*settings))),
            DetectorSpec::Seasonal(settings) => Some(Box::new(Seasonal::new(*settings))),
            DetectorSpec::Likelihood(settings) => Some(Box::new(Likelihood::new(*settings))),
            DetectorSpec::Context(settings) => Some(Box::new(Context::new(*settings))),
            DetectorSpec::Hybrid(settings) => Some(Box::new(Hybrid::new(*settings))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(level: Option<AlertLevel>) -> Verdict {
        Level::new(3.0, 4.0).verdict(if level.is_some() { 5.0 } else { 1.0 }, 0.0, 1.0, 10)
    }

    #[test]
    fn refractory_damps_scores_for_its_length_after_an_alarm() {
        let mut refractory = Refractory::new(2);
        let alarm = verdict(Some(AlertLevel::Critical));
        assert_eq!(refractory.damp(alarm).anomaly_score, alarm.anomaly_score);
        refractory.step(Some(&alarm));
        let damped = refractory.damp(alarm);
        assert!((damped.anomaly_score - 0.01 * alarm.anomaly_score).abs() < 1e-12);
        assert_eq!(damped.level, alarm.level, "levels are left alone");
        refractory.step(Some(&alarm));
        refractory.step(Some(&verdict(None)));
        assert_eq!(refractory.damp(alarm).anomaly_score, alarm.anomaly_score);
    }

    #[test]
    fn anomaly_scores_are_half_at_the_warning_line() {
        let at_warning = Level::new(3.0, 4.0).verdict(-3.0, 1.0, 0.5, 5);
        assert_eq!(at_warning.anomaly_score, 0.5);
        assert_eq!(at_warning.level, None);
        assert_eq!(at_warning.warning_bound, 1.0 - 1.5);
    }
}
