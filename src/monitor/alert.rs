//! Alert rules as data, and the lifecycle of one alert: pending, firing, resolved,
//! with `for` durations and hysteresis so a value hovering at a threshold cannot flap.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::metrics::{Builtin, MetricName};

/// Severity, ordered: info < warning < critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    /// Worth knowing; nobody needs to act.
    Info,
    /// Degraded; someone should look.
    Warning,
    /// Broken; act now.
    Critical,
}

impl AlertLevel {
    /// The lowercase name used in JSON.
    pub fn name(self) -> &'static str {
        match self {
            AlertLevel::Info => "info",
            AlertLevel::Warning => "warning",
            AlertLevel::Critical => "critical",
        }
    }
}

impl fmt::Display for AlertLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which side of the threshold is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// Bad when the value is above the threshold (`>`).
    #[serde(alias = ">")]
    Above,
    /// Bad when the value is below the threshold (`<`).
    #[serde(alias = "<")]
    Below,
}

impl Comparison {
    fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Above => value > threshold,
            Comparison::Below => value < threshold,
        }
    }

    /// Symbol used in messages.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Above => ">",
            Comparison::Below => "<",
        }
    }
}

/// A rule as written in the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Rule name, unique; defaults to `<metric> <op> <threshold> <level>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Metric the rule watches (`latency_p95`, `error_rate`, a custom metric's name...).
    pub metric: String,
    /// `above` (`>`) or `below` (`<`).
    #[serde(alias = "op")]
    pub comparison: Comparison,
    /// Threshold in the metric's unit (seconds, requests per second, or a 0..1 ratio).
    pub threshold: f64,
    /// Level of the alert the rule raises.
    pub level: AlertLevel,
    /// Seconds the condition must hold before the alert fires (pending until then).
    #[serde(default, rename = "for")]
    pub for_seconds: f64,
    /// Seconds the value must stay clear before a firing alert resolves.
    #[serde(default = "default_clear_for_seconds", rename = "clear_for")]
    pub clear_for_seconds: f64,
    /// Relative band a firing alert must clear to resolve: with 0.1, a `> 0.5` alert
    /// resolves only at or below 0.45.
    #[serde(default = "default_hysteresis")]
    pub hysteresis: f64,
    /// Module names the rule applies to; a trailing `*` matches a prefix, `*` all.
    #[serde(default = "default_modules")]
    pub modules: Vec<String>,
}

fn default_clear_for_seconds() -> f64 {
    5.0
}

fn default_hysteresis() -> f64 {
    0.1
}

fn default_modules() -> Vec<String> {
    vec!["*".to_owned()]
}

impl RuleSpec {
    /// A rule on every module with the default `for`, clear time and hysteresis.
    pub fn new(metric: Builtin, comparison: Comparison, threshold: f64, level: AlertLevel) -> Self {
        RuleSpec {
            name: None,
            metric: metric.name().to_owned(),
            comparison,
            threshold,
            level,
            for_seconds: 0.0,
            clear_for_seconds: default_clear_for_seconds(),
            hysteresis: default_hysteresis(),
            modules: default_modules(),
        }
    }

    /// The spec's threshold table, plus the p99 critical its "twice the threshold" rule implies.
    pub fn spec_defaults() -> Vec<RuleSpec> {
        use AlertLevel::{Critical, Warning};
        use Builtin::{ErrorRate, LatencyP95, LatencyP99, RequestsPerSecond};
        use Comparison::{Above, Below};
        vec![
            RuleSpec::new(LatencyP95, Above, 0.5, Warning),
            RuleSpec::new(LatencyP99, Above, 1.0, Warning),
            RuleSpec::new(LatencyP95, Above, 1.0, Critical),
            RuleSpec::new(LatencyP99, Above, 2.0, Critical),
            RuleSpec::new(ErrorRate, Above, 0.05, Warning),
            RuleSpec::new(ErrorRate, Above, 0.10, Critical),
            RuleSpec::new(RequestsPerSecond, Below, 10.0, Warning),
        ]
    }
}

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// The threshold is NaN or infinite.
    #[error("rule {rule:?}: threshold must be a finite number")]
    Threshold {
        /// The offending rule.
        rule: String,
    },
    /// A duration is negative or not finite.
    #[error("rule {rule:?}: `for` and `clear_for` must be finite seconds >= 0")]
    Duration {
        /// The offending rule.
        rule: String,
    },
    /// The hysteresis band is outside 0..1.
    #[error("rule {rule:?}: hysteresis must be between 0 and 1 (a fraction of the threshold)")]
    Hysteresis {
        /// The offending rule.
        rule: String,
    },
    /// The metric name is empty.
    #[error("rule {rule:?}: name a metric, e.g. \"latency_p95\" or a custom metric")]
    Metric {
        /// The offending rule.
        rule: String,
    },
    /// Two rules share a name.
    #[error("two rules are named {rule:?}; give each rule a unique name")]
    Duplicate {
        /// The repeated name.
        rule: String,
    },
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Unique name.
    pub name: String,
    /// Watched metric.
    pub metric: MetricName,
    /// Bad side of the threshold.
    pub comparison: Comparison,
    /// Threshold in the metric's unit.
    pub threshold: f64,
    /// Value a firing alert must reach (inclusive) to count as clear.
    pub resolve_threshold: f64,
    /// Level raised.
    pub level: AlertLevel,
    /// Pending time before firing, seconds.
    pub for_seconds: f64,
    /// Clear time before resolving, seconds.
    pub clear_for_seconds: f64,
    /// Module patterns.
    pub modules: Vec<String>,
}

impl Rule {
    /// Validates a rule spec.
    pub fn from_spec(spec: &RuleSpec) -> Result<Rule, RuleError> {
        let name = spec.name.clone().unwrap_or_else(|| {
            format!(
                "{} {} {} {}",
                spec.metric,
                spec.comparison.symbol(),
                spec.threshold,
                spec.level
            )
        });
        if spec.metric.trim().is_empty() {
            return Err(RuleError::Metric { rule: name });
        }
        if !spec.threshold.is_finite() {
            return Err(RuleError::Threshold { rule: name });
        }
        let valid_duration = |d: f64| d.is_finite() && d >= 0.0;
        if !valid_duration(spec.for_seconds) || !valid_duration(spec.clear_for_seconds) {
            return Err(RuleError::Duration { rule: name });
        }
        if !(0.0..1.0).contains(&spec.hysteresis) {
            return Err(RuleError::Hysteresis { rule: name });
        }
        let band = spec.hysteresis * spec.threshold.abs();
        let resolve_threshold = match spec.comparison {
            Comparison::Above => spec.threshold - band,
            Comparison::Below => spec.threshold + band,
        };
        Ok(Rule {
            name,
            metric: MetricName::from(spec.metric.clone()),
            comparison: spec.comparison,
            threshold: spec.threshold,
            resolve_threshold,
            level: spec.level,
            for_seconds: spec.for_seconds,
            clear_for_seconds: spec.clear_for_seconds,
            modules: spec.modules.clone(),
        })
    }

    /// True when the rule applies to `module`.
    pub fn selects(&self, module: &str) -> bool {
        self.modules
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => module.starts_with(prefix),
                None => pattern == module,
            })
    }

    /// Classifies a value: breaching, clear (past the hysteresis band), or in between.
    pub fn judge(&self, value: f64) -> Condition {
        if self.comparison.breaches(value, self.threshold) {
            Condition::Breach
        } else if self.comparison.breaches(value, self.resolve_threshold) {
            Condition::Band
        } else {
            Condition::Clear
        }
    }
}

/// Where a value stands against a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Past the threshold.
    Breach,
    /// Not past the threshold, but inside the hysteresis band: a firing alert holds.
    Band,
    /// Clear of the band.
    Clear,
}

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// The condition holds but `for` has not elapsed.
    Pending,
    /// The condition held for `for`; the alert is active.
    Firing,
    /// The alert fired and its condition has since cleared.
    Resolved,
    /// The alert was pending and its condition cleared before it fired.
    Cancelled,
    /// The alert changed state too often (`flap_max_transitions` within
    /// `flap_window_seconds`); it is held here until it settles.
    Flapping,
}

/// What raised an alert.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AlertSource {
    /// A threshold rule, by name.
    Threshold {
        /// The rule's name.
        rule: String,
    },
    /// An anomaly detector.
    Anomaly {
        /// The detector's name.
        detector: String,
    },
    /// A threshold rule's forecast: its metric's trend will cross the threshold.
    Prediction {
        /// The rule's name.
        rule: String,
    },
}

/// The facts behind an alert, as of its latest evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The metric's value.
    pub value: f64,
    /// The threshold crossed (for anomalies, the value at which |z| reaches the warning limit).
    pub threshold: f64,
    /// The side of the threshold that is bad.
    pub comparison: Comparison,
    /// Samples behind the value (requests or latency samples in the window).
    pub samples: u64,
    /// Seconds of data the window covered.
    pub window_seconds: f64,
    /// z-score, for anomalies (the detector's signed score: a z-score, or its
    /// equivalent such as a CUSUM sum or a novelty share).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub z_score: Option<f64>,
    /// The detector's anomaly score from 0 to 1, for anomalies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anomaly_score: Option<f64>,
    /// Baseline mean, for anomalies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_mean: Option<f64>,
    /// Baseline standard deviation, for anomalies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_std: Option<f64>,
    /// Baseline values, for anomalies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_samples: Option<usize>,
    /// Seconds until the trend crosses the threshold, for predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_in_seconds: Option<f64>,
}

impl Evidence {
    /// A threshold rule's evidence: the value against the rule's threshold.
    pub fn of_rule(rule: &Rule, value: f64, samples: u64, window_seconds: f64) -> Evidence {
        Evidence {
            value,
            threshold: rule.threshold,
            comparison: rule.comparison,
            samples,
            window_seconds,
            z_score: None,
            anomaly_score: None,
            baseline_mean: None,
            baseline_std: None,
            baseline_samples: None,
            breach_in_seconds: None,
        }
    }
}

/// One alert: unique per (module, metric, rule) while active.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Monitor-wide sequence number.
    pub id: u64,
    /// Module the alert is about.
    pub module: String,
    /// Metric the alert is about.
    pub metric: MetricName,
    /// What raised it.
    pub source: AlertSource,
    /// Current level.
    pub level: AlertLevel,
    /// Current state.
    pub state: AlertState,
    /// When the condition was first seen (Unix seconds).
    pub pending_since: f64,
    /// When it started firing.
    pub firing_since: Option<f64>,
    /// When it resolved or was cancelled.
    pub ended_at: Option<f64>,
    /// When the value was last in the clear band while firing.
    pub clearing_since: Option<f64>,
    /// The latest evidence (the worst value seen is kept in `peak_value`).
    pub evidence: Evidence,
    /// The worst value seen while active.
    pub peak_value: f64,
}

impl Alert {
    /// The spec's message: `database: latency_p95 = 0.650 (threshold: 0.500)`.
    pub fn message(&self) -> String {
        let e = &self.evidence;
        if let (AlertSource::Prediction { .. }, Some(seconds)) = (&self.source, e.breach_in_seconds)
        {
            return format!(
                "{}: {} = {:.3} will cross {} {:.3} in about {:.0} min at its current trend",
                self.module,
                self.metric,
                e.value,
                e.comparison.symbol(),
                e.threshold,
                (seconds / 60.0).ceil()
            );
        }
        match (&self.source, e.z_score) {
            (AlertSource::Anomaly { detector }, Some(z)) => format!(
                "{}: {} = {:.3} is anomalous ({} = {:.1} against {:.3} ± {:.3} over {} values)",
                self.module,
                self.metric,
                e.value,
                if detector == "zscore" { "z" } else { detector },
                z,
                e.baseline_mean.unwrap_or_default(),
                e.baseline_std.unwrap_or_default(),
                e.baseline_samples.unwrap_or_default()
            ),
            _ => format!(
                "{}: {} = {:.3} (threshold: {:.3})",
                self.module, self.metric, e.value, e.threshold
            ),
        }
    }

    /// When the alert became what it is: firing time if it fired, else pending time.
    pub fn started_at(&self) -> f64 {
        self.firing_since.unwrap_or(self.pending_since)
    }

    /// True while pending, firing or flapping.
    pub fn is_active(&self) -> bool {
        matches!(
            self.state,
            AlertState::Pending | AlertState::Firing | AlertState::Flapping
        )
    }
}

/// A change in an alert's life, as delivered to the alert list, history and notifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// When it happened (Unix seconds).
    pub at: f64,
    /// What happened.
    pub transition: Transition,
    /// The alert after the change.
    pub alert: Alert,
}

/// The kinds of change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    /// The condition started to hold.
    Pending,
    /// The alert fired.
    Firing,
    /// A firing alert's level changed (anomalies escalate and de-escalate).
    LevelChanged,
    /// A firing alert cleared.
    Resolved,
    /// A pending alert cleared before firing.
    Cancelled,
    /// The alert started flapping; it leaves `flapping` as `Firing` or `Resolved`.
    Flapping,
}

/// Lifecycle timings of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Pending time before firing.
    pub for_seconds: f64,
    /// Clear time before resolving.
    pub clear_for_seconds: f64,
}

/// One evaluation of a rule or detector against one module.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    /// Where the value stands.
    pub condition: Condition,
    /// Level to raise (or escalate to) on a breach.
    pub level: AlertLevel,
    /// The facts behind it.
    pub evidence: Evidence,
    /// `for` and `clear_for`.
    pub timing: Timing,
}

/// Advances one alert slot by one evaluation and reports the transitions.
///
/// `slot` holds the active alert, if any; `make` creates a new alert when the
/// condition starts to hold. A finished alert is left in `slot` with its final state
/// so the caller can archive it.
pub fn step(
    slot: &mut Option<Alert>,
    observation: Observation,
    now: f64,
    make: impl FnOnce() -> Alert,
    events: &mut Vec<AlertEvent>,
) {
    let Observation {
        condition,
        level,
        evidence,
        timing,
    } = observation;
    let mut emit = |alert: &Alert, transition| {
        events.push(AlertEvent {
            at: now,
            transition,
            alert: alert.clone(),
        })
    };
    match slot {
        None => {
            if condition != Condition::Breach {
                return;
            }
            let mut alert = make();
            alert.state = AlertState::Pending;
            alert.pending_since = now;
            alert.level = level;
            alert.evidence = evidence;
            alert.peak_value = evidence.value;
            emit(&alert, Transition::Pending);
            if timing.for_seconds <= 0.0 {
                alert.state = AlertState::Firing;
                alert.firing_since = Some(now);
                emit(&alert, Transition::Firing);
            }
            *slot = Some(alert);
        }
        Some(alert) => {
            let worse = match evidence.comparison {
                Comparison::Above => evidence.value > alert.peak_value,
                Comparison::Below => evidence.value < alert.peak_value,
            };
            if worse {
                alert.peak_value = evidence.value;
            }
            alert.evidence = evidence;
            match (alert.state, condition) {
                (AlertState::Pending, Condition::Breach) => {
                    alert.level = level;
                    if now - alert.pending_since >= timing.for_seconds {
                        alert.state = AlertState::Firing;
                        alert.firing_since = Some(now);
                        emit(alert, Transition::Firing);
                    }
                }
                (AlertState::Pending, _) => {
                    alert.state = AlertState::Cancelled;
                    alert.ended_at = Some(now);
                    emit(alert, Transition::Cancelled);
                }
                (AlertState::Firing, Condition::Clear) => {
                    let since = *alert.clearing_since.get_or_insert(now);
                    if now - since >= timing.clear_for_seconds {
                        alert.state = AlertState::Resolved;
                        alert.ended_at = Some(now);
                        emit(alert, Transition::Resolved);
                    }
                }
                (AlertState::Firing, condition) => {
                    alert.clearing_since = None;
                    if condition == Condition::Breach && level != alert.level {
                        alert.level = level;
                        emit(alert, Transition::LevelChanged);
                    }
                }
                (AlertState::Resolved | AlertState::Cancelled | AlertState::Flapping, _) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_defaults_follow_the_spec_table() {
        let rules: Vec<Rule> = RuleSpec::spec_defaults()
            .iter()
            .map(|spec| Rule::from_spec(spec).expect("valid default"))
            .collect();
        assert_eq!(rules.len(), 7);
        let rps = rules
            .iter()
            .find(|r| r.metric == MetricName::Builtin(Builtin::RequestsPerSecond))
            .expect("rps rule");
        assert_eq!(rps.comparison, Comparison::Below);
        assert_eq!(rps.resolve_threshold, 11.0);
    }

    #[test]
    fn selectors_match_names_and_prefixes() {
        let mut spec = RuleSpec::new(
            Builtin::ErrorRate,
            Comparison::Above,
            0.1,
            AlertLevel::Warning,
        );
        spec.modules = vec!["db_*".into(), "cache".into()];
        let rule = Rule::from_spec(&spec).expect("valid");
        assert!(rule.selects("db_primary"));
        assert!(rule.selects("cache"));
        assert!(!rule.selects("cache2"));
        assert!(!rule.selects("api"));
    }

    #[test]
    fn invalid_rules_say_what_to_change() {
        let mut spec = RuleSpec::new(
            Builtin::ErrorRate,
            Comparison::Above,
            f64::NAN,
            AlertLevel::Warning,
        );
        let message = Rule::from_spec(&spec)
            .expect_err("NaN threshold")
            .to_string();
        assert!(message.contains("finite"), "{message}");
        spec.threshold = 0.1;
        spec.hysteresis = 1.5;
        assert!(matches!(
            Rule::from_spec(&spec),
            Err(RuleError::Hysteresis { .. })
        ));
    }
}
