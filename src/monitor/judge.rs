//! A tick's work on each module: close its window, recompute its statistics, and judge
//! its rules, forecasts and detectors. What a module's judging needs is the module's
//! own, so modules are judged independently (natively, on several threads once there
//! are enough of them). The judgements that may change an alert come back as
//! [`Settlement`]s, which the engine settles afterwards in module order: alert ids,
//! flap control and the resolved list are shared, and that order keeps a run the same
//! however many threads judged it.

use super::alert::{AlertSource, Comparison, Condition, Evidence, Observation, Rule, Timing};
use super::anomaly::{DetectorSpec, Verdict};
use super::config::MonitorConfig;
use super::metrics::MetricName;
use super::module::{ModuleMetrics, RuleKey};
use super::predict::{self, Trend};
use super::sketch::SketchLayout;
use super::{AlertLevel, anomaly::RollingZScore};

/// Validated prediction settings.
#[derive(Debug, Clone, Copy)]
pub(super) struct PredictSettings {
    pub(super) horizon_seconds: f64,
    /// Values a trend needs before it forecasts; it keeps twice as many.
    pub(super) min_points: usize,
}

/// What is being judged: which slot of which module, on which metric, by what.
pub(super) struct Judged<'a> {
    /// The module's index, which with `key` names the slot for flap control.
    pub(super) module_index: usize,
    pub(super) key: RuleKey,
    pub(super) metric: &'a MetricName,
    pub(super) source: AlertSource,
}

/// A judgement to settle: a breach, or any judgement of a slot that has an alert.
pub(super) struct Settlement<'a> {
    pub(super) judged: Judged<'a>,
    pub(super) observation: Observation,
}

/// What one tick is: the same for every module.
pub(super) struct TickWork<'a> {
    pub(super) config: &'a MonitorConfig,
    pub(super) layout: &'a SketchLayout,
    pub(super) predict: Option<PredictSettings>,
    /// Ticks closed by this call (more than one after a late caller).
    pub(super) closed: u64,
    pub(super) last_closed: i64,
    pub(super) now: f64,
}

/// Modules a thread judges before it takes the next run (native only).
#[cfg(not(target_arch = "wasm32"))]
const CHUNK_MODULES: usize = 64;

/// Judges every module and returns the settlements in module order. With at least
/// `parallel_from` modules and a pool of more than one thread, runs of
/// [`CHUNK_MODULES`] are judged on the calling thread and rayon's others (natively;
/// wasm32 has one thread). A pool of one would only move the work to another core.
pub(super) fn judge_all<'a>(
    modules: &mut [ModuleMetrics],
    work: &TickWork<'a>,
    parallel_from: usize,
) -> Vec<Settlement<'a>> {
    #[cfg(not(target_arch = "wasm32"))]
    if modules.len() >= parallel_from && rayon::current_num_threads() > 1 {
        return judge_on_threads(modules, work);
    }
    #[cfg(target_arch = "wasm32")]
    let _ = parallel_from;
    judge_run(modules, 0, work)
}

/// Judges runs of modules on the calling thread and on rayon's others, each taking the
/// next run until none is left, so the tick starts at once and a pool thread that wakes
/// late only joins in later (sleeping workers of a virtual machine can take longer to
/// wake than a tick's work; handed to the pool, the tick would wait for them).
#[cfg(not(target_arch = "wasm32"))]
fn judge_on_threads<'a>(modules: &mut [ModuleMetrics], work: &TickWork<'a>) -> Vec<Settlement<'a>> {
    use std::sync::{Mutex, PoisonError};
    let runs = Mutex::new(modules.chunks_mut(CHUNK_MODULES).enumerate());
    let judged = Mutex::new(Vec::new());
    let take_runs = || {
        loop {
            let next = runs.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((run, chunk)) = next else {
                break;
            };
            let settlements = judge_run(chunk, run * CHUNK_MODULES, work);
            let mut judged = judged.lock().unwrap_or_else(PoisonError::into_inner);
            judged.push((run, settlements));
        }
    };
    rayon::in_place_scope(|scope| {
        for _ in 1..rayon::current_num_threads() {
            scope.spawn(|_| take_runs());
        }
        take_runs();
    });
    let mut judged = judged.into_inner().unwrap_or_else(PoisonError::into_inner);
    judged.sort_unstable_by_key(|(run, _)| *run);
    judged
        .into_iter()
        .flat_map(|(_, settlements)| settlements)
        .collect()
}

fn judge_run<'a>(
    modules: &mut [ModuleMetrics],
    first_index: usize,
    work: &TickWork<'a>,
) -> Vec<Settlement<'a>> {
    let mut settlements = Vec::new();
    for offset in 0..modules.len() {
        // The next module's bins and oldest tick load while this one is worked on.
        if let Some(next) = modules.get(offset + 1) {
            std::hint::black_box(next.preload_tick());
        }
        let module = &mut modules[offset];
        close(module, work);
        let index = first_index + offset;
        judge_rules(module, index, work, &mut settlements);
        detect(module, index, work, &mut settlements);
    }
    settlements
}

/// Closes the module's ticks and recomputes its statistics and custom values.
fn close(module: &mut ModuleMetrics, work: &TickWork<'_>) {
    let config = work.config;
    let (window_ticks, tick_seconds) = (config.window_ticks, config.tick_seconds);
    let min_samples = config.settings.min_samples;
    module
        .window
        .close_ticks(work.layout, work.closed, window_ticks, min_samples);
    module.stats = module.window.stats(
        work.layout,
        min_samples,
        tick_seconds,
        window_ticks,
        work.last_closed,
    );
    if let Some(reported) = &module.reported {
        let (metrics, at) = **reported;
        let window_seconds = window_ticks as f64 * tick_seconds;
        if work.now - at <= window_seconds {
            module.stats.apply_reported(&metrics, window_seconds);
        } else {
            // A window without a report: the module shows what it has, or no data.
            module.reported = None;
        }
    }
    if !module.custom.is_empty() {
        module
            .custom
            .close_ticks(work.layout, work.closed, window_ticks);
        module.custom_values = module
            .custom
            .values(work.layout, module.stats.covered_seconds);
    }
}

fn has_alert(module: &ModuleMetrics, key: RuleKey) -> bool {
    module.alerts.iter().any(|(k, _)| *k == key)
}

/// Judges the module's threshold rules, and their forecasts when predictions are on.
fn judge_rules<'a>(
    module: &mut ModuleMetrics,
    index: usize,
    work: &TickWork<'a>,
    settlements: &mut Vec<Settlement<'a>>,
) {
    let config = work.config;
    for rule_position in 0..module.rule_indexes.len() {
        let rule_index = module.rule_indexes[rule_position];
        let rule = &config.rules[rule_index as usize];
        let key = RuleKey::Threshold(rule_index);
        let condition = match module.metric_value(&rule.metric) {
            Some((value, samples, true)) => Some((rule.judge(value), value, samples)),
            // No data at all: an active alert on it resolves.
            Some((value, 0, false)) => Some((Condition::Clear, value, 0)),
            // Too few samples to judge: hold the current state.
            Some((_, _, false)) => None,
            None => Some((Condition::Clear, 0.0, 0)),
        };
        let Some((condition, value, samples)) = condition else {
            continue;
        };
        if let Some(settings) = work.predict {
            let id = (index, rule_index);
            let rule_and_seasons = (rule, config.detect_metrics.as_slice());
            let judged = (condition, value, samples);
            settlements.extend(forecast(
                settings,
                module,
                id,
                rule_and_seasons,
                judged,
                work.now,
            ));
        }
        if condition != Condition::Breach && !has_alert(module, key) {
            continue;
        }
        settlements.push(Settlement {
            judged: Judged {
                module_index: index,
                key,
                metric: &rule.metric,
                source: AlertSource::Threshold {
                    rule: rule.name.clone(),
                },
            },
            observation: Observation {
                condition,
                level: rule.level,
                evidence: Evidence::of_rule(rule, value, samples, module.stats.covered_seconds),
                timing: Timing {
                    for_seconds: rule.for_seconds,
                    clear_for_seconds: rule.clear_for_seconds,
                },
            },
        });
    }
}

/// Follows a rule's metric near its threshold and judges the rule's info-level
/// prediction: a breach while its trend will cross the threshold within the horizon,
/// clear once it no longer will.
fn forecast<'a>(
    settings: PredictSettings,
    module: &mut ModuleMetrics,
    (module_index, rule_index): (usize, u16),
    (rule, detect_metrics): (&'a Rule, &[MetricName]),
    (condition, value, samples): (Condition, f64, u64),
    now: f64,
) -> Option<Settlement<'a>> {
    let forecast = if samples > 0
        && condition != Condition::Breach
        && predict::follows(value, rule.threshold, rule.comparison)
    {
        let trends = &mut module.trends;
        let position = match trends.iter().position(|(r, _)| *r == rule_index) {
            Some(position) => position,
            None => {
                trends.push((rule_index, Trend::new(2 * settings.min_points)));
                trends.len() - 1
            }
        };
        let trend = &mut trends[position].1;
        // The metric's detector's learnt season, where it learns one.
        let season = detect_metrics
            .iter()
            .position(|m| *m == rule.metric)
            .and_then(|slot| module.detectors.get(slot))
            .and_then(|d| d.as_deref())
            .filter(|d| d.expected_at(now).is_some());
        trend.use_residuals(season.is_some());
        let expected = season.and_then(|d| d.expected_at(now)).unwrap_or(0.0);
        trend.push(now, value - expected);
        if trend.forecast_due() {
            let (threshold, comparison) = (rule.threshold, rule.comparison);
            let (horizon, min_points) = (settings.horizon_seconds, settings.min_points);
            let forecast = match season {
                Some(detector) => {
                    trend.forecast_seasonal(threshold, comparison, horizon, min_points, |t| {
                        detector.expected_at(t)
                    })
                }
                None => trend.forecast(threshold, comparison, horizon, min_points),
            };
            trend.keep_forecast(now, forecast);
        }
        trend.kept_forecast(now)
    } else {
        if let Some(position) = module.trends.iter().position(|(r, _)| *r == rule_index) {
            module.trends.swap_remove(position);
        }
        None
    };
    let key = RuleKey::Prediction(rule_index);
    if forecast.is_none() && !has_alert(module, key) {
        return None;
    }
    let evidence = Evidence {
        breach_in_seconds: forecast.map(|f| f.breach_in_seconds),
        ..Evidence::of_rule(rule, value, samples, module.stats.covered_seconds)
    };
    Some(Settlement {
        judged: Judged {
            module_index,
            key,
            metric: &rule.metric,
            source: AlertSource::Prediction {
                rule: rule.name.clone(),
            },
        },
        observation: Observation {
            condition: if forecast.is_some() {
                Condition::Breach
            } else {
                Condition::Clear
            },
            level: AlertLevel::Info,
            evidence,
            timing: Timing {
                for_seconds: 0.0,
                clear_for_seconds: 0.0,
            },
        },
    })
}

/// Feeds the tick's value of each detected metric to the module's detector for it.
fn detect<'a>(
    module: &mut ModuleMetrics,
    index: usize,
    work: &TickWork<'a>,
    settlements: &mut Vec<Settlement<'a>>,
) {
    let config = work.config;
    if config.settings.detector == DetectorSpec::None {
        return;
    }
    if module.detectors.len() < config.detect_metrics.len() {
        module
            .detectors
            .resize_with(config.detect_metrics.len(), || None);
    }
    let hysteresis = config.settings.anomaly_hysteresis;
    let min_samples = config.settings.min_samples;
    let tick_seconds = config.tick_seconds;
    for (slot, metric) in config.detect_metrics.iter().enumerate() {
        let Some((value, samples, true)) = module.tick_value(metric, min_samples, tick_seconds)
        else {
            continue;
        };
        let detector = module.detectors[slot].get_or_insert_with(|| {
            config
                .settings
                .detector
                .build()
                .unwrap_or_else(|| Box::new(RollingZScore::new(Default::default())))
        });
        let name = detector.name();
        let Some(verdict) = detector.observe_at(work.now, value) else {
            continue;
        };
        let key = RuleKey::Anomaly(slot as u16);
        let warning_z = config.settings.detector.warning_score();
        let condition = if within_sampling_noise(metric, value, &verdict, samples) {
            Condition::Clear
        } else if verdict.level.is_some() {
            Condition::Breach
        } else if verdict.score.abs() <= warning_z * (1.0 - hysteresis) {
            Condition::Clear
        } else {
            Condition::Band
        };
        if condition != Condition::Breach && !has_alert(module, key) {
            continue;
        }
        let evidence = Evidence {
            value,
            threshold: verdict.warning_bound,
            comparison: if verdict.score >= 0.0 {
                Comparison::Above
            } else {
                Comparison::Below
            },
            samples,
            window_seconds: module.stats.covered_seconds,
            z_score: Some(verdict.score),
            anomaly_score: Some(verdict.anomaly_score),
            baseline_mean: Some(verdict.baseline_mean),
            baseline_std: Some(verdict.baseline_std),
            baseline_samples: Some(verdict.baseline_samples),
            breach_in_seconds: None,
        };
        settlements.push(Settlement {
            judged: Judged {
                module_index: index,
                key,
                metric,
                source: AlertSource::Anomaly {
                    detector: name.to_owned(),
                },
            },
            observation: Observation {
                condition,
                level: verdict.level.unwrap_or(AlertLevel::Warning),
                evidence,
                timing: Timing {
                    for_seconds: config.settings.anomaly_for_seconds,
                    clear_for_seconds: config.settings.anomaly_clear_for_seconds,
                },
            },
        });
    }
}

/// True when an error rate's move from its baseline is within what chance gives at
/// the tick's volume: within three standard deviations of a binomial with the
/// baseline's rate (at least one error in the tick's requests). A detector's spread
/// learnt from a rate that sat at zero is near zero, so without this one error in a
/// hundred requests would be a critical anomaly with a z-score in the millions.
fn within_sampling_noise(
    metric: &MetricName,
    value: f64,
    verdict: &Verdict,
    requests: u64,
) -> bool {
    if *metric != MetricName::Builtin(super::metrics::Builtin::ErrorRate) || requests == 0 {
        return false;
    }
    let n = requests as f64;
    let rate = verdict.baseline_mean.clamp(0.0, 1.0);
    // At least the variance of one error in the tick's requests.
    let variance = (rate * (1.0 - rate)).max((n - 1.0).max(1.0) / (n * n));
    (value - verdict.baseline_mean).abs() <= 3.0 * (variance / n).sqrt()
}
