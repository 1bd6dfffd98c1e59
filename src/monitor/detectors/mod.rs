//! The detectors beyond the spec's z-score, and `DetectorSpec`: the config's choice of
//! detector by `kind`, validated, with a fresh detector per watched series.

use serde::{Deserialize, Serialize};

use super::anomaly::{Detector, RollingZScore, ZScoreSettings};

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

/// Which detector the monitor runs on each module's metrics (`"kind"` in config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DetectorSpec {
    /// No anomaly detection.
    None,
    /// The spec's rolling z-score.
    Zscore(ZScoreSettings),
}

impl Default for DetectorSpec {
    fn default() -> Self {
        DetectorSpec::Zscore(ZScoreSettings::default())
    }
}

impl DetectorSpec {
    /// Every detector kind, as written in config (`none` aside).
    pub const KINDS: &'static [&'static str] = &["zscore"];

    /// The kind, as written in config.
    pub fn kind(&self) -> &'static str {
        match self {
            DetectorSpec::None => "none",
            DetectorSpec::Zscore(_) => "zscore",
        }
    }

    /// Checks the settings' ranges.
    pub fn validate(&self) -> Result<(), DetectorError> {
        match self {
            DetectorSpec::None => Ok(()),
            DetectorSpec::Zscore(z) => {
                check_range(
                    "zscore",
                    "warning_z",
                    z.warning_z,
                    (f64::MIN_POSITIVE, 1e6),
                    "> 0",
                )?;
                check_range(
                    "zscore",
                    "critical_z",
                    z.critical_z,
                    (z.warning_z, 1e6),
                    ">= warning_z",
                )?;
                check_range(
                    "zscore",
                    "baseline_size",
                    z.baseline_size as f64,
                    (2.0, 100_000.0),
                    "2..100000",
                )?;
                check_range(
                    "zscore",
                    "min_samples",
                    z.min_samples as f64,
                    (0.0, z.baseline_size as f64),
                    "at most baseline_size",
                )
            }
        }
    }

    /// The |score| at which a warning starts (the alert's hysteresis is relative to it).
    pub fn warning_score(&self) -> f64 {
        match self {
            DetectorSpec::Zscore(z) => z.warning_z,
            DetectorSpec::None => 3.0,
        }
    }

    /// A fresh detector for one series, or `None` when detection is off.
    pub fn build(&self) -> Option<Box<dyn Detector>> {
        match self {
            DetectorSpec::None => None,
            DetectorSpec::Zscore(settings) => Some(Box::new(RollingZScore::new(*settings))),
        }
    }
}
