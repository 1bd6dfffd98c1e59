//! The monitor's settings: the raw JSON shape (`MonitorSettings`) and the validated
//! `MonitorConfig` built from it in one place.

use serde::{Deserialize, Serialize};

use super::alert::{Rule, RuleError, RuleSpec};
use super::anomaly::DetectorSpec;
use super::metrics::MetricName;

/// Checks that a setting lies in `low..=high`; the message names it and says what was
/// given (for settings validated to a message: sources, webhooks, notifications,
/// history).
pub fn check_between(what: &str, value: f64, low: f64, high: f64) -> Result<(), String> {
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{what} must be between {low} and {high} (got {value})"
        ))
    }
}

/// The monitor's part of `redline.json`, as written. Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorSettings {
    /// Sliding window length, seconds.
    pub window_seconds: f64,
    /// Tick length, seconds; the window must hold a whole number of ticks.
    pub tick_seconds: f64,
    /// Percentiles over fewer samples are flagged low-confidence.
    pub min_samples: u64,
    /// Most modules kept; records for new modules past this are refused and counted.
    pub max_modules: usize,
    /// Most custom metrics per module.
    pub max_custom_metrics: usize,
    /// Sketch relative error (DDSketch alpha), 0.0001..0.1.
    pub relative_error: f64,
    /// Most sketch bins per window; a wider range collapses the lowest bins.
    pub max_bins: usize,
    /// Alert rules; the spec's threshold table by default.
    pub rules: Vec<RuleSpec>,
    /// Anomaly detector run on every watched metric.
    pub detector: DetectorSpec,
    /// Metrics the detector watches; the spec's six by default. Custom names allowed.
    pub detect_metrics: Vec<String>,
    /// Relative hysteresis band on the anomaly score (see `RuleSpec::hysteresis`).
    pub anomaly_hysteresis: f64,
    /// Seconds an anomaly must persist before its alert fires.
    pub anomaly_for_seconds: f64,
    /// Seconds an anomaly must stay clear before its alert resolves.
    pub anomaly_clear_for_seconds: f64,
    /// Resolved alerts kept for display.
    pub max_resolved_alerts: usize,
    /// Seconds a resolved alert stays in the snapshot's `alerts` list.
    pub resolved_retention_seconds: f64,
    /// Bottlenecks listed in the snapshot.
    pub top_bottlenecks: usize,
    /// An alert slot changing state more often than this within `flap_window_seconds`
    /// is held as `flapping`; 0 turns flap control off.
    pub flap_max_transitions: usize,
    /// Window over which transitions are counted, seconds.
    pub flap_window_seconds: f64,
    /// Seconds without a transition underneath before a flapping alert settles.
    pub flap_settle_seconds: f64,
    /// Threshold rules raise an info "will breach in N minutes" alert when their
    /// metric's trend crosses the threshold within this many minutes; 0 turns it off.
    pub predict_horizon_minutes: f64,
    /// Seconds of history a trend needs before it forecasts (it keeps twice this).
    pub predict_min_history_seconds: f64,
}

impl Default for MonitorSettings {
    fn default() -> Self {
        MonitorSettings {
            window_seconds: 60.0,
            tick_seconds: 1.0,
            min_samples: 20,
            max_modules: 10_000,
            max_custom_metrics: 64,
            relative_error: 0.01,
            max_bins: 2048,
            rules: RuleSpec::spec_defaults(),
            detector: DetectorSpec::default(),
            detect_metrics: super::metrics::Builtin::SPEC
                .iter()
                .map(|m| m.name().to_owned())
                .collect(),
            anomaly_hysteresis: 0.1,
            anomaly_for_seconds: 3.0,
            anomaly_clear_for_seconds: 5.0,
            max_resolved_alerts: 500,
            resolved_retention_seconds: 300.0,
            top_bottlenecks: 10,
            flap_max_transitions: 4,
            flap_window_seconds: 300.0,
            flap_settle_seconds: 120.0,
            predict_horizon_minutes: 15.0,
            predict_min_history_seconds: 60.0,
        }
    }
}

/// Why settings were refused; each message says what to change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// Tick length out of range.
    #[error("tick_seconds must be between 0.01 and 3600 (got {0})")]
    Tick(f64),
    /// Window not a whole number of ticks, or too long.
    #[error(
        "window_seconds must be a whole number of ticks, from 1 to 3600 ticks (got {window} s with {tick} s ticks)"
    )]
    Window {
        /// Window length given.
        window: f64,
        /// Tick length given.
        tick: f64,
    },
    /// Relative error out of range.
    #[error("relative_error must be between 0.0001 and 0.1 (got {0}); 0.01 means 1 %")]
    RelativeError(f64),
    /// Module cap zero.
    #[error("max_modules must be at least 1")]
    MaxModules,
    /// Bin cap too small.
    #[error("max_bins must be between 64 and 65536 (got {0})")]
    MaxBins(usize),
    /// An anomaly setting is out of range.
    #[error("{0}")]
    Anomaly(&'static str),
    /// A flap-control setting is out of range.
    #[error("{0}")]
    Flap(&'static str),
    /// A prediction setting is out of range.
    #[error("{0}")]
    Predict(&'static str),
    /// A rule is invalid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The detector's settings are invalid.
    #[error(transparent)]
    Detector(#[from] super::detectors::DetectorError),
}

/// Validated monitor settings.
#[derive(Debug, Clone)]
pub struct MonitorConfig {
    /// The settings as given (kept for export and the config panel).
    pub settings: MonitorSettings,
    /// Tick length, seconds.
    pub tick_seconds: f64,
    /// Ticks in the window.
    pub window_ticks: usize,
    /// Validated rules, in config order.
    pub rules: Vec<Rule>,
    /// Metrics the detector watches.
    pub detect_metrics: Vec<MetricName>,
}

impl MonitorConfig {
    /// Validates `settings`.
    pub fn new(settings: MonitorSettings) -> Result<MonitorConfig, ConfigError> {
        let tick = settings.tick_seconds;
        if !(0.01..=3600.0).contains(&tick) {
            return Err(ConfigError::Tick(tick));
        }
        let ticks = settings.window_seconds / tick;
        let window_ticks = ticks.round();
        if !ticks.is_finite()
            || (ticks - window_ticks).abs() > 1e-6
            || !(1.0..=3600.0).contains(&window_ticks)
        {
            return Err(ConfigError::Window {
                window: settings.window_seconds,
                tick,
            });
        }
        if !(0.0001..=0.1).contains(&settings.relative_error) {
            return Err(ConfigError::RelativeError(settings.relative_error));
        }
        if settings.max_modules == 0 {
            return Err(ConfigError::MaxModules);
        }
        if !(64..=65_536).contains(&settings.max_bins) {
            return Err(ConfigError::MaxBins(settings.max_bins));
        }
        if !(0.0..1.0).contains(&settings.anomaly_hysteresis) {
            return Err(ConfigError::Anomaly(
                "anomaly_hysteresis must be between 0 and 1",
            ));
        }
        let durations = [
            settings.anomaly_for_seconds,
            settings.anomaly_clear_for_seconds,
            settings.resolved_retention_seconds,
        ];
        if durations.iter().any(|d| !d.is_finite() || *d < 0.0) {
            return Err(ConfigError::Anomaly(
                "anomaly_for_seconds, anomaly_clear_for_seconds and resolved_retention_seconds must be seconds >= 0",
            ));
        }
        let flap_window = settings.flap_window_seconds;
        if !(flap_window.is_finite() && flap_window > 0.0 && flap_window <= 86_400.0) {
            return Err(ConfigError::Flap(
                "flap_window_seconds must be seconds > 0, at most 86400",
            ));
        }
        if !(0.0..=86_400.0).contains(&settings.flap_settle_seconds) {
            return Err(ConfigError::Flap(
                "flap_settle_seconds must be seconds from 0 to 86400",
            ));
        }
        if settings.flap_max_transitions > 10_000 {
            return Err(ConfigError::Flap(
                "flap_max_transitions must be at most 10000 (0 turns flap control off)",
            ));
        }
        if !(0.0..=1440.0).contains(&settings.predict_horizon_minutes) {
            return Err(ConfigError::Predict(
                "predict_horizon_minutes must be minutes from 0 (off) to 1440",
            ));
        }
        // Forecasts always need at least 4 ticks and use at most 3,600 (the engine
        // clamps), so long ticks do not make the default invalid.
        if !(0.0..=86_400.0).contains(&settings.predict_min_history_seconds) {
            return Err(ConfigError::Predict(
                "predict_min_history_seconds must be seconds from 0 to 86400 (at least 4 ticks are always used)",
            ));
        }
        settings.detector.validate()?;
        let mut rules: Vec<Rule> = Vec::with_capacity(settings.rules.len());
        for spec in &settings.rules {
            let rule = Rule::from_spec(spec)?;
            if rules.iter().any(|r| r.name == rule.name) {
                return Err(RuleError::Duplicate { rule: rule.name }.into());
            }
            rules.push(rule);
        }
        let detect_metrics = settings
            .detect_metrics
            .iter()
            .map(|name| MetricName::from(name.clone()))
            .collect();
        Ok(MonitorConfig {
            tick_seconds: tick,
            window_ticks: window_ticks as usize,
            rules,
            detect_metrics,
            settings,
        })
    }

    /// Parses and validates the monitor settings from JSON.
    pub fn from_json(json: &str) -> Result<MonitorConfig, String> {
        let settings: MonitorSettings =
            serde_json::from_str(json).map_err(|e| format!("monitor settings: {e}"))?;
        MonitorConfig::new(settings).map_err(|e| e.to_string())
    }

    /// Window length, seconds.
    pub fn window_seconds(&self) -> f64 {
        self.window_ticks as f64 * self.tick_seconds
    }
}

impl Default for MonitorConfig {
    fn default() -> Self {
        // The defaults are valid by construction; a test below keeps them so.
        match MonitorConfig::new(MonitorSettings::default()) {
            Ok(config) => config,
            Err(error) => unreachable!("default settings are invalid: {error}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let config = MonitorConfig::new(MonitorSettings::default()).expect("valid");
        assert_eq!(config.window_ticks, 60);
        assert_eq!(config.rules.len(), 7);
    }

    #[test]
    fn long_ticks_keep_the_prediction_defaults_valid() {
        let settings = MonitorSettings {
            window_seconds: 3600.0,
            tick_seconds: 3600.0,
            ..MonitorSettings::default()
        };
        assert!(MonitorConfig::new(settings).is_ok());
        let settings = MonitorSettings {
            predict_min_history_seconds: -1.0,
            ..MonitorSettings::default()
        };
        assert!(MonitorConfig::new(settings).is_err());
    }

    #[test]
    fn errors_say_what_to_change() {
        let bad_window = MonitorSettings {
            window_seconds: 10.5,
            ..MonitorSettings::default()
        };
        let message = MonitorConfig::new(bad_window)
            .expect_err("fractional ticks")
            .to_string();
        assert!(message.contains("whole number of ticks"), "{message}");
        let unknown = MonitorConfig::from_json(r#"{"window": 60}"#).expect_err("unknown field");
        assert!(unknown.contains("unknown field `window`"), "{unknown}");
    }

    #[test]
    fn flap_settings_are_checked() {
        for json in [
            r#"{"flap_window_seconds": 0}"#,
            r#"{"flap_settle_seconds": -1}"#,
            r#"{"flap_max_transitions": 100000}"#,
        ] {
            let message = MonitorConfig::from_json(json).expect_err(json);
            assert!(message.contains("flap_"), "{json}: {message}");
        }
        let off = MonitorConfig::from_json(r#"{"flap_max_transitions": 0}"#).expect("valid");
        assert_eq!(off.settings.flap_max_transitions, 0);
    }

    #[test]
    fn partial_json_keeps_defaults() {
        let config = MonitorConfig::from_json(r#"{"window_seconds": 30, "tick_seconds": 0.5}"#)
            .expect("valid");
        assert_eq!(config.window_ticks, 60);
        assert_eq!(config.settings.max_modules, 10_000);
    }
}
