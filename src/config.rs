//! The dashboard's config document (`redline.json`, `?config=URL`, the config panel or
//! `mount()`): the raw JSON shape, and the validated `AppConfig` built from it.
//!
//! Precedence, first found wins: the `mount()` argument, `?config=URL`, `redline.json`
//! next to `index.html`, the copy saved in localStorage, then the defaults. A document
//! that is found but broken is an error shown on screen, never silently skipped.

use serde::{Deserialize, Serialize};

use crate::monitor::simulate::Scenario;
use crate::monitor::{MonitorConfig, MonitorSettings};
use crate::sources::config::{SourceSettings, validate_sources};

/// The whole config document, as written. Every field has a default.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Window, tick, rules and detector.
    pub monitor: MonitorSettings,
    /// The simulated modules (the default source).
    pub simulation: SimulationSettings,
    /// Fetched sources: scrapes, JSON dashboards, event streams, probes, query APIs.
    pub sources: Vec<SourceSettings>,
    /// Where alert transitions are sent: JSON webhooks and Alertmanager.
    pub webhooks: Vec<crate::webhook::WebhookSettings>,
    /// Desktop notifications, the favicon badge and the tone.
    pub notifications: crate::notify::NotificationSettings,
    /// History kept in the browser (IndexedDB): resolutions, retention and budget.
    pub history: crate::state::store::HistorySettings,
}

/// The simulator's part of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimulationSettings {
    /// Run the simulator at all. Unset, it runs only when no `sources` are listed.
    pub enabled: Option<bool>,
    /// Seed for a replayable run; a fresh one per page load when absent.
    pub seed: Option<u64>,
    /// Simulated seconds per wall-clock second (1 to 100); `?speed=N` overrides it.
    pub speed: f64,
    /// The simulated system: modules, incidents and their period.
    pub scenario: Scenario,
}

impl Default for SimulationSettings {
    fn default() -> Self {
        SimulationSettings {
            enabled: None,
            seed: None,
            speed: 1.0,
            scenario: Scenario::default(),
        }
    }
}

/// A config that was found but cannot be used, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigProblem {
    /// Where the document came from (`redline.json`, a URL, `localStorage`...).
    pub origin: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "config from {}: {}", self.origin, self.message)
    }
}

/// A validated config.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The document as given, for export and the config panel.
    pub settings: Settings,
    /// Validated monitor settings.
    pub monitor: MonitorConfig,
    /// Where it came from.
    pub origin: String,
    /// Loaded from a link (`?config=`) or an import: its webhooks stay off until the
    /// user allows each one, so that a crafted link cannot send alert data anywhere.
    pub untrusted: bool,
}

impl AppConfig {
    /// Parses and validates a config document.
    pub fn parse(json: &str, origin: &str) -> Result<AppConfig, ConfigProblem> {
        let problem = |message: String| ConfigProblem {
            origin: origin.to_owned(),
            message,
        };
        let settings: Settings = serde_json::from_str(json).map_err(|e| problem(e.to_string()))?;
        AppConfig::from_settings(settings, origin)
    }

    /// Validates settings.
    pub fn from_settings(settings: Settings, origin: &str) -> Result<AppConfig, ConfigProblem> {
        let problem = |message: String| ConfigProblem {
            origin: origin.to_owned(),
            message,
        };
        let monitor = MonitorConfig::new(settings.monitor.clone())
            .map_err(|e| problem(format!("monitor: {e}")))?;
        let simulation = &settings.simulation;
        if !(simulation.speed.is_finite() && (1.0..=100.0).contains(&simulation.speed)) {
            return Err(problem(format!(
                "simulation.speed must be between 1 and 100 (got {})",
                simulation.speed
            )));
        }
        simulation.scenario.validate().map_err(problem)?;
        validate_sources(&settings.sources).map_err(problem)?;
        crate::webhook::validate_webhooks(&settings.webhooks).map_err(problem)?;
        settings.notifications.check().map_err(problem)?;
        settings.history.check().map_err(problem)?;
        Ok(AppConfig {
            settings,
            monitor,
            origin: origin.to_owned(),
            untrusted: false,
        })
    }

    /// The defaults: the spec's four simulated modules and its threshold table.
    pub fn defaults() -> AppConfig {
        match AppConfig::from_settings(Settings::default(), "defaults") {
            Ok(config) => config,
            Err(problem) => unreachable!("the default settings are invalid: {problem}"),
        }
    }

    /// Whether the simulator runs: as set, or when no fetched source is listed.
    pub fn simulated(&self) -> bool {
        self.settings
            .simulation
            .enabled
            .unwrap_or(self.settings.sources.is_empty())
    }

    /// The document as pretty JSON, for export and the config panel.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.settings).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_round_trip() {
        let config = AppConfig::defaults();
        let again = AppConfig::parse(&config.to_json(), "export").expect("round trip");
        assert_eq!(again.settings, config.settings);
        assert_eq!(config.settings.simulation.scenario.modules.len(), 4);
    }

    #[test]
    fn problems_name_their_origin_and_the_fix() {
        let broken = AppConfig::parse("{\"monitor\": {\"window_seconds\": 10.5}}", "redline.json")
            .expect_err("fractional ticks");
        assert_eq!(broken.origin, "redline.json");
        assert!(
            broken.message.contains("whole number of ticks"),
            "{}",
            broken.message
        );
        let syntax = AppConfig::parse("{\"monitor\": ", "https://x/y.json").expect_err("truncated");
        assert!(syntax.message.contains("line 1"), "{}", syntax.message);
        let unknown = AppConfig::parse("{\"monitr\": {}}", "here").expect_err("typo");
        assert!(
            unknown.message.contains("unknown field `monitr`"),
            "{}",
            unknown.message
        );
        let speed =
            AppConfig::parse("{\"simulation\": {\"speed\": 0}}", "here").expect_err("speed");
        assert!(speed.to_string().contains("between 1 and 100"), "{speed}");
    }
}
