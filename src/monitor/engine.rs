//! `PerformanceMonitor`: records into module windows, closes ticks, runs detectors and
//! rules, and builds the dashboard snapshot.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use foldhash::fast::FixedState;

use super::alert::{
    self, Alert, AlertEvent, AlertLevel, AlertSource, AlertState, Comparison, Condition, Evidence,
    Observation, Rule, Timing,
};
use super::anomaly::{DetectorSpec, Verdict};
use super::bottleneck;
use super::config::MonitorConfig;
use super::custom::CustomKind;
use super::flap::{FlapBook, FlapSettings};
use super::metrics::MetricName;
use super::module::{ModuleId, ModuleMetrics, RuleKey, check_latency};
use super::pending::{PendingRecords, PendingTotals};
use super::predict::{self, Trend};
use super::sketch::SketchLayout;
use super::snapshot::{
    AlertSnapshot, DashboardSnapshot, ModuleMap, ModuleSnapshot, ModuleSource, MonitorStatus,
    SpecMetrics, Summary, WindowCounts,
};
use super::{RecordError, RequestEvent, Sample};

/// The longest module name accepted, in bytes.
pub const MAX_MODULE_NAME_BYTES: usize = 256;

/// The spec's `PerformanceMonitor`: every module's window, the rules, the alerts.
#[derive(Debug)]
pub struct PerformanceMonitor {
    config: MonitorConfig,
    layout: Arc<SketchLayout>,
    modules: Vec<ModuleMetrics>,
    index: HashMap<Box<str>, ModuleId, FixedState>,
    /// Module ids in name order, for the snapshot.
    by_name: Vec<ModuleId>,
    /// Index of the tick being filled; `None` before the first record or tick.
    open_tick: Option<i64>,
    last_tick_at: f64,
    alerts: AlertBook,
    status: MonitorStatus,
    /// Records validated and held, applied in batches (see `pending`); every `&mut`
    /// call that reads or changes a module's open tick applies them first, and the
    /// snapshot counts them.
    pending: PendingRecords,
}

impl Default for PerformanceMonitor {
    fn default() -> Self {
        PerformanceMonitor::new(MonitorConfig::default())
    }
}

impl PerformanceMonitor {
    /// A monitor with validated settings.
    pub fn new(config: MonitorConfig) -> Self {
        let max_resolved = config.settings.max_resolved_alerts;
        let predict = (config.settings.predict_horizon_minutes > 0.0).then(|| {
            let min_points = (config.settings.predict_min_history_seconds / config.tick_seconds)
                .ceil()
                .clamp(4.0, 3600.0);
            PredictSettings {
                horizon_seconds: config.settings.predict_horizon_minutes * 60.0,
                min_points: min_points as usize,
            }
        });
        let flap = FlapSettings {
            max_transitions: config.settings.flap_max_transitions,
            window_seconds: config.settings.flap_window_seconds,
            settle_seconds: config.settings.flap_settle_seconds,
        };
        let layout = Arc::new(SketchLayout::new(
            config.settings.relative_error,
            config.settings.max_bins,
        ));
        let status = MonitorStatus {
            window_seconds: config.window_seconds(),
            tick_seconds: config.tick_seconds,
            max_modules: config.settings.max_modules,
            ..MonitorStatus::default()
        };
        PerformanceMonitor {
            config,
            layout,
            modules: Vec::new(),
            index: HashMap::with_hasher(FixedState::with_seed(0x0072_6564_6c69_6e65)),
            by_name: Vec::new(),
            open_tick: None,
            last_tick_at: 0.0,
            alerts: AlertBook {
                predict,
                flaps: FlapBook::default(),
                flap,
                next_id: 1,
                resolved: VecDeque::new(),
                max_resolved,
                dropped: 0,
            },
            status,
            pending: PendingRecords::default(),
        }
    }

    /// Applies the records held for batching to their modules. Every `&mut` call
    /// other than recording does this first; call it before reading a module's open
    /// tick through [`modules`](Self::modules) or [`module`](Self::module).
    #[inline]
    pub fn flush_records(&mut self) {
        if !self.pending.is_empty() {
            self.apply_pending();
        }
    }

    /// Holds `capacity` records before applying them (1: each at once), for tests
    /// that compare batched and immediate recording.
    #[cfg(test)]
    pub(crate) fn set_record_batch(&mut self, capacity: usize) {
        self.flush_records();
        self.pending = PendingRecords::with_capacity(capacity);
    }

    #[inline(never)]
    fn apply_pending(&mut self) {
        self.pending.apply(&mut self.modules, &self.layout);
    }

    /// The validated configuration.
    pub fn config(&self) -> &MonitorConfig {
        &self.config
    }

    /// The spec's thresholds: the alert rules.
    pub fn thresholds(&self) -> &[Rule] {
        &self.config.rules
    }

    /// The monitor's own counters (refusals, drops).
    pub fn status(&self) -> MonitorStatus {
        MonitorStatus {
            dropped_resolved_alerts: self.alerts.dropped,
            ..self.status
        }
    }

    /// Every module, in the order first seen.
    ///
    /// A module's open-tick readers (`request_count`, `error_count`, `last_update`,
    /// `open_tick`) count records up to the last [`flush_records`](Self::flush_records)
    /// or other `&mut` call; statistics, alerts and closed ticks are always current.
    pub fn modules(&self) -> &[ModuleMetrics] {
        &self.modules
    }

    /// A module by name (see [`modules`](Self::modules) on records not yet applied).
    pub fn module(&self, name: &str) -> Option<&ModuleMetrics> {
        self.index.get(name).map(|id| &self.modules[id.index()])
    }

    /// A module's id, creating the module if it is new.
    pub fn module_id(&mut self, name: &str, now: f64) -> Result<ModuleId, RecordError> {
        if let Some(id) = self.index.get(name) {
            return Ok(*id);
        }
        self.add_module(name, now)
    }

    /// Declares a module and where its data comes from (shown before any data arrives).
    pub fn register(
        &mut self,
        name: &str,
        source: ModuleSource,
        now: f64,
    ) -> Result<ModuleId, RecordError> {
        let id = self.module_id(name, now)?;
        self.modules[id.index()].source = source;
        Ok(id)
    }

    #[cold]
    fn add_module(&mut self, name: &str, now: f64) -> Result<ModuleId, RecordError> {
        let limit = self.config.settings.max_modules;
        if self.modules.len() >= limit {
            self.status.refused_new_modules += 1;
            return Err(RecordError::ModuleCap {
                module: truncate(name),
                limit,
            });
        }
        if name.is_empty()
            || name.len() > MAX_MODULE_NAME_BYTES
            || name.chars().any(char::is_control)
        {
            self.status.rejected_records += 1;
            return Err(RecordError::ModuleName {
                module: truncate(name),
            });
        }
        let id = ModuleId(self.modules.len() as u32);
        let mut module = ModuleMetrics::with_layout(name.to_owned(), Arc::clone(&self.layout));
        module.rule_indexes = self
            .config
            .rules
            .iter()
            .enumerate()
            .filter(|(_, rule)| rule.selects(name))
            .map(|(index, _)| index as u16)
            .collect();
        let tick = self.tick_index(now).unwrap_or(0);
        self.open_tick.get_or_insert(tick);
        module.window.touch(self.open_tick.unwrap_or(tick));
        let position = self
            .by_name
            .partition_point(|other| self.modules[other.index()].name() < name);
        self.by_name.insert(position, id);
        self.modules.push(module);
        self.index.insert(name.into(), id);
        Ok(id)
    }

    /// Records one finished request. Returns the module's id for `record_id`.
    #[inline]
    pub fn record(
        &mut self,
        module: &str,
        latency_seconds: f64,
        ok: bool,
        now: f64,
    ) -> Result<ModuleId, RecordError> {
        let (id, created) = match self.index.get(module) {
            Some(id) => (*id, false),
            None => (self.add_module(module, now)?, true),
        };
        if let Err(error) = self.record_id(id, latency_seconds, ok, now) {
            self.discard_if_created(id, created);
            return Err(error);
        }
        Ok(id)
    }

    /// Drops a module this call just created when its first data was refused, so
    /// refused input leaves no empty module behind and does not use up the cap.
    fn discard_if_created(&mut self, id: ModuleId, created: bool) {
        if created
            && id.index() + 1 == self.modules.len()
            && let Some(module) = self.modules.pop()
        {
            self.index.remove(module.name());
            self.by_name.retain(|other| *other != id);
        }
    }

    /// Records one finished request for a module by id: the hot path. The record is
    /// validated now and applied with the next batch (see `pending`).
    #[inline]
    pub fn record_id(
        &mut self,
        id: ModuleId,
        latency_seconds: f64,
        ok: bool,
        now: f64,
    ) -> Result<(), RecordError> {
        if id.index() >= self.modules.len() {
            return Err(RecordError::UnknownId(id.index()));
        }
        if let Err(error) = check_latency(latency_seconds) {
            self.status.rejected_records += 1;
            return Err(error);
        }
        if self
            .pending
            .push(&self.layout, id, latency_seconds, ok, now)
        {
            self.apply_pending();
        }
        Ok(())
    }

    /// Records an event from a stream; an operation also feeds the distribution `op:<name>`.
    pub fn record_event(
        &mut self,
        event: &RequestEvent,
        now: f64,
    ) -> Result<ModuleId, RecordError> {
        if let Some(timestamp) = event.timestamp {
            let window = self.config.window_seconds();
            if !timestamp.is_finite() || timestamp < now - window {
                self.status.rejected_records += 1;
                return Err(RecordError::Stale {
                    timestamp,
                    window_seconds: window,
                });
            }
        }
        let id = self.record(&event.module, event.latency, event.ok, now)?;
        if let Some(operation) = &event.operation {
            // The request itself is recorded; a refused operation metric (say, past
            // max_custom_metrics) is counted in `rejected_custom` and not an error here.
            let name = format!("op:{operation}");
            let _ = self.custom_id(id, &name, CustomKind::Distribution, event.latency);
        }
        Ok(id)
    }

    /// Records requests and errors that carry no latency.
    pub fn record_counts(
        &mut self,
        module: &str,
        requests: u64,
        errors: u64,
        now: f64,
    ) -> Result<ModuleId, RecordError> {
        self.flush_records();
        let id = self.module_id(module, now)?;
        let m = &mut self.modules[id.index()];
        m.window.add_counts(requests, errors);
        m.window.note_update(now);
        Ok(id)
    }

    /// Feeds a pre-aggregated sample.
    pub fn observe(&mut self, sample: &Sample, now: f64) -> Result<ModuleId, RecordError> {
        self.flush_records();
        match sample {
            Sample::Counts {
                module,
                requests,
                errors,
            } => self.record_counts(module, *requests, *errors, now),
            Sample::Histogram {
                module,
                upper_bounds_seconds,
                increases,
                sum_increase_seconds,
            } => {
                let created = !self.index.contains_key(module.as_str());
                let id = self.module_id(module, now)?;
                let m = &mut self.modules[id.index()];
                match m
                    .window
                    .add_buckets(upper_bounds_seconds, increases, *sum_increase_seconds)
                {
                    Ok(()) => {
                        m.window.note_update(now);
                        Ok(id)
                    }
                    Err(error) => {
                        self.status.rejected_histograms += 1;
                        self.discard_if_created(id, created);
                        Err(error.into())
                    }
                }
            }
            Sample::Reported { module, metrics } => {
                if let Err(error) = metrics.validate() {
                    self.status.rejected_records += 1;
                    return Err(error);
                }
                let id = self.module_id(module, now)?;
                let m = &mut self.modules[id.index()];
                m.reported = Some(Box::new((*metrics, now)));
                m.window.note_update(now);
                Ok(id)
            }
            Sample::Custom {
                module,
                name,
                kind,
                value,
            } => {
                let created = !self.index.contains_key(module.as_str());
                let id = self.module_id(module, now)?;
                if let Err(error) = self.custom_id(id, name, *kind, *value) {
                    self.discard_if_created(id, created);
                    return Err(error);
                }
                let m = &mut self.modules[id.index()];
                m.window.note_update(now);
                Ok(id)
            }
        }
    }

    fn custom_id(
        &mut self,
        id: ModuleId,
        name: &str,
        kind: CustomKind,
        value: f64,
    ) -> Result<(), RecordError> {
        let limit = self.config.settings.max_custom_metrics;
        let layout = Arc::clone(&self.layout);
        let module = &mut self.modules[id.index()];
        module
            .custom
            .record(&layout, name, kind, value, limit)
            .map_err(|error| {
                self.status.rejected_custom += 1;
                RecordError::from(error)
            })
    }

    /// Adds a stored tick of module `name` (from `source`) to the open tick at `now`,
    /// as stored history resumes a window: the next `tick` closes it as if its requests
    /// had been recorded. Bins that do not decode are counted as a rejected record.
    pub fn replay(
        &mut self,
        name: &str,
        source: ModuleSource,
        tick: &super::window::ClosedTick,
        now: f64,
    ) -> Result<ModuleId, RecordError> {
        self.flush_records();
        let id = self.register(name, source, now)?;
        let module = &mut self.modules[id.index()];
        module.window.note_update(now);
        if !module.window.add_closed(&self.layout, tick) {
            self.status.rejected_records += 1;
        }
        Ok(id)
    }

    /// The bin layout every module's sketch uses (for re-aggregating stored ticks).
    pub fn layout(&self) -> &SketchLayout {
        &self.layout
    }

    /// Sets a module's data source label.
    pub fn set_source(&mut self, id: ModuleId, source: ModuleSource) {
        if let Some(module) = self.modules.get_mut(id.index()) {
            module.source = source;
        }
    }

    fn tick_index(&self, now: f64) -> Option<i64> {
        let index = (now / self.config.tick_seconds).floor();
        (index.is_finite() && index.abs() < 1e15).then_some(index as i64)
    }

    /// Closes every tick that ended by `now`, then recomputes statistics, runs the
    /// detectors and rules, and returns the alert transitions. Ticks skipped by a late
    /// caller close empty; statistics, detectors and rules then run once, at `now`.
    pub fn tick(&mut self, now: f64) -> Vec<AlertEvent> {
        self.flush_records();
        let mut events = Vec::new();
        let Some(current) = self.tick_index(now) else {
            return events;
        };
        let Some(open) = self.open_tick else {
            self.open_tick = Some(current);
            return events;
        };
        if current <= open {
            return events;
        }
        let closed = (current - open) as u64;
        let last_closed = current - 1;
        self.open_tick = Some(current);
        self.last_tick_at = now;
        let window_ticks = self.config.window_ticks;
        let tick_seconds = self.config.tick_seconds;
        let min_samples = self.config.settings.min_samples;
        for index in 0..self.modules.len() {
            // The next module's bins and oldest tick load while this one is worked on.
            if let Some(next) = self.modules.get(index + 1) {
                std::hint::black_box(next.preload_tick());
            }
            let module = &mut self.modules[index];
            module
                .window
                .close_ticks(&self.layout, closed, window_ticks, min_samples);
            module.stats = module.window.stats(
                &self.layout,
                min_samples,
                tick_seconds,
                window_ticks,
                last_closed,
            );
            if let Some(reported) = &module.reported {
                let (metrics, at) = **reported;
                let window_seconds = window_ticks as f64 * tick_seconds;
                if now - at <= window_seconds {
                    module.stats.apply_reported(&metrics, window_seconds);
                } else {
                    // A window without a report: the module shows what it has, or no data.
                    module.reported = None;
                }
            }
            if !module.custom.is_empty() {
                module
                    .custom
                    .close_ticks(&self.layout, closed, window_ticks);
                module.custom_values = module
                    .custom
                    .values(&self.layout, module.stats.covered_seconds);
            }
            self.evaluate(index, now, &mut events);
        }
        self.prune_resolved(now);
        events
    }

    fn evaluate(&mut self, index: usize, now: f64, events: &mut Vec<AlertEvent>) {
        let config = &self.config;
        let module = &mut self.modules[index];
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
            if self.alerts.predict.is_some() {
                let judged = (condition, value, samples);
                let detect_metrics = &config.detect_metrics;
                let id = (index, rule_index);
                let rule_and_seasons = (rule, detect_metrics.as_slice());
                self.alerts
                    .predict(module, id, rule_and_seasons, judged, now, events);
            }
            let has_alert = module.alerts.iter().any(|(k, _)| *k == key);
            if condition != Condition::Breach && !has_alert {
                continue;
            }
            let evidence = Evidence::of_rule(rule, value, samples, module.stats.covered_seconds);
            let timing = Timing {
                for_seconds: rule.for_seconds,
                clear_for_seconds: rule.clear_for_seconds,
            };
            let source = AlertSource::Threshold {
                rule: rule.name.clone(),
            };
            let judged = Judged {
                module_index: index,
                key,
                metric: &rule.metric,
                source,
            };
            let observation = Observation {
                condition,
                level: rule.level,
                evidence,
                timing,
            };
            self.alerts.settle(module, judged, observation, now, events);
        }
        self.detect(index, now, events);
    }

    fn detect(&mut self, index: usize, now: f64, events: &mut Vec<AlertEvent>) {
        let config = &self.config;
        if config.settings.detector == DetectorSpec::None {
            return;
        }
        let module = &mut self.modules[index];
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
                config.settings.detector.build().unwrap_or_else(|| {
                    Box::new(super::anomaly::RollingZScore::new(Default::default()))
                })
            });
            let name = detector.name();
            let Some(verdict) = detector.observe_at(now, value) else {
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
            if condition != Condition::Breach && !module.alerts.iter().any(|(k, _)| *k == key) {
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
            let timing = Timing {
                for_seconds: config.settings.anomaly_for_seconds,
                clear_for_seconds: config.settings.anomaly_clear_for_seconds,
            };
            let level = verdict.level.unwrap_or(super::alert::AlertLevel::Warning);
            let source = AlertSource::Anomaly {
                detector: name.to_owned(),
            };
            let judged = Judged {
                module_index: index,
                key,
                metric,
                source,
            };
            let observation = Observation {
                condition,
                level,
                evidence,
                timing,
            };
            self.alerts.settle(module, judged, observation, now, events);
        }
    }

    fn prune_resolved(&mut self, now: f64) {
        let retention = self.config.settings.resolved_retention_seconds;
        self.alerts.flaps.prune(self.alerts.flap, now);
        while let Some(oldest) = self.alerts.resolved.front() {
            if now - oldest.ended_at.unwrap_or(now) <= retention {
                break;
            }
            self.alerts.resolved.pop_front();
        }
    }

    /// Alerts pending or firing now, across modules.
    pub fn active_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.modules.iter().flat_map(|m| m.active_alerts())
    }

    /// Recently resolved alerts, oldest first.
    pub fn resolved_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.resolved.iter()
    }

    /// The dashboard at `now`: the spec's structure plus extras (see `snapshot`).
    pub fn snapshot(&self, now: f64) -> DashboardSnapshot {
        let mut summary = Summary {
            total_modules: self.modules.len(),
            active_alerts: 0,
            warning_alerts: 0,
            critical_alerts: 0,
            info_alerts: 0,
            pending_alerts: 0,
            flapping_alerts: 0,
        };
        let mut alerts = Vec::new();
        for alert in self.active_alerts() {
            match alert.state {
                AlertState::Firing | AlertState::Flapping => {
                    // A flapping alert counts as active: it has not settled.
                    summary.active_alerts += 1;
                    if alert.state == AlertState::Flapping {
                        summary.flapping_alerts += 1;
                    }
                    match alert.level {
                        super::AlertLevel::Warning => summary.warning_alerts += 1,
                        super::AlertLevel::Critical => summary.critical_alerts += 1,
                        super::AlertLevel::Info => summary.info_alerts += 1,
                    }
                }
                AlertState::Pending => summary.pending_alerts += 1,
                _ => {}
            }
            alerts.push(AlertSnapshot::new(alert, now));
        }
        alerts.sort_by(|a, b| {
            b.level
                .cmp(&a.level)
                .then(b.timestamp.total_cmp(&a.timestamp))
        });
        alerts.extend(
            self.alerts
                .resolved
                .iter()
                .rev()
                .map(|alert| AlertSnapshot::new(alert, now)),
        );
        // Records not yet applied count as if they were.
        let pending = self.pending.totals_by_module(self.modules.len());
        let modules = ModuleMap::from_sorted(
            self.by_name
                .iter()
                .map(|id| {
                    let module = &self.modules[id.index()];
                    let held = pending.get(id.index()).copied().unwrap_or_default();
                    (module.name().to_owned(), module_snapshot(module, held))
                })
                .collect(),
        );
        let bottlenecks = bottleneck::rank(
            self.modules.iter().map(|m| (m.name(), &m.stats)),
            self.config.settings.top_bottlenecks,
        );
        DashboardSnapshot {
            timestamp: now,
            modules,
            alerts,
            summary,
            bottlenecks,
            monitor: self.status(),
        }
    }

    /// The spec's `get_dashboard_data()`, as JSON.
    pub fn dashboard_json(&self, now: f64) -> String {
        // Serialising these plain structs cannot fail; non-finite floats become null.
        serde_json::to_string(&self.snapshot(now))
            .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// Heap bytes held by all modules (excluding the index and allocator overhead), as
    /// of the last applied batch of records.
    pub fn heap_bytes(&self) -> usize {
        self.modules
            .iter()
            .map(ModuleMetrics::heap_bytes)
            .sum::<usize>()
            + self.modules.capacity() * std::mem::size_of::<ModuleMetrics>()
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

/// A module's snapshot, counting `held` records not yet applied to it.
fn module_snapshot(module: &ModuleMetrics, held: PendingTotals) -> ModuleSnapshot {
    let stats = module.statistics();
    let (total_requests, total_errors) = module.window.totals_with(held.requests, held.errors);
    let last_update = module.last_update();
    ModuleSnapshot {
        metrics: SpecMetrics::from(stats),
        last_update: if held.last_update > last_update {
            held.last_update
        } else {
            last_update
        },
        total_requests,
        total_errors,
        source: module.source(),
        status: module.status(),
        percentiles: stats.percentiles,
        window: WindowCounts {
            requests: stats.window_requests,
            errors: stats.window_errors,
            latency_samples: stats.latency_samples,
            seconds: stats.covered_seconds,
        },
        custom: module.custom_values().clone(),
    }
}

/// Alert ids and the bounded list of resolved alerts.
#[derive(Debug)]
struct AlertBook {
    predict: Option<PredictSettings>,
    flaps: FlapBook,
    flap: FlapSettings,
    next_id: u64,
    resolved: VecDeque<Alert>,
    max_resolved: usize,
    dropped: u64,
}

/// Validated prediction settings.
#[derive(Debug, Clone, Copy)]
struct PredictSettings {
    horizon_seconds: f64,
    /// Values a trend needs before it forecasts; it keeps twice as many.
    min_points: usize,
}

/// What is being judged: which slot of which module, on which metric, by what.
struct Judged<'a> {
    /// The module's index, which with `key` names the slot for flap control.
    module_index: usize,
    key: RuleKey,
    metric: &'a MetricName,
    source: AlertSource,
}

impl AlertBook {
    /// Steps the alert in the judged slot of `module`, keeping it while active and
    /// archiving it once resolved.
    /// Follows a rule's metric near its threshold and raises (or withdraws) the
    /// rule's info-level prediction when its trend will (or no longer will) cross
    /// the threshold within the horizon.
    fn predict(
        &mut self,
        module: &mut ModuleMetrics,
        (module_index, rule_index): (usize, u16),
        (rule, detect_metrics): (&Rule, &[MetricName]),
        (condition, value, samples): (Condition, f64, u64),
        now: f64,
        events: &mut Vec<AlertEvent>,
    ) {
        let Some(settings) = self.predict else {
            return;
        };
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
        if forecast.is_none() && !module.alerts.iter().any(|(k, _)| *k == key) {
            return;
        }
        let evidence = Evidence {
            breach_in_seconds: forecast.map(|f| f.breach_in_seconds),
            ..Evidence::of_rule(rule, value, samples, module.stats.covered_seconds)
        };
        let judged = Judged {
            module_index,
            key,
            metric: &rule.metric,
            source: AlertSource::Prediction {
                rule: rule.name.clone(),
            },
        };
        let observation = Observation {
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
        };
        self.settle(module, judged, observation, now, events);
    }

    fn settle(
        &mut self,
        module: &mut ModuleMetrics,
        judged: Judged<'_>,
        observation: Observation,
        now: f64,
        events: &mut Vec<AlertEvent>,
    ) {
        let Judged {
            module_index,
            key,
            metric,
            source,
        } = judged;
        let position = module.alerts.iter().position(|(k, _)| *k == key);
        let mut slot = position.map(|p| module.alerts.swap_remove(p).1);
        let module_name = module.name();
        let next_id = &mut self.next_id;
        let run = |slot: &mut Option<Alert>, events: &mut Vec<AlertEvent>| {
            alert::step(
                slot,
                observation,
                now,
                || {
                    let id = *next_id;
                    *next_id += 1;
                    Alert {
                        id,
                        module: module_name.to_owned(),
                        metric: metric.clone(),
                        source,
                        level: observation.level,
                        state: AlertState::Pending,
                        pending_since: now,
                        firing_since: None,
                        ended_at: None,
                        clearing_since: None,
                        evidence: observation.evidence,
                        peak_value: observation.evidence.value,
                    }
                },
                events,
            )
        };
        let id = (module_index, key);
        self.flaps.step(self.flap, id, &mut slot, now, run, events);
        match slot {
            Some(alert) if alert.is_active() => module.alerts.push((key, alert)),
            Some(alert) if alert.state == AlertState::Resolved => {
                self.resolved.push_back(alert);
                while self.resolved.len() > self.max_resolved {
                    self.resolved.pop_front();
                    self.dropped += 1;
                }
            }
            _ => {}
        }
    }
}

fn truncate(name: &str) -> String {
    name.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{DetectorSpec, MonitorSettings};

    #[test]
    fn resolved_alerts_are_bounded_and_what_is_shed_is_counted() {
        let settings = MonitorSettings {
            max_resolved_alerts: 2,
            detector: DetectorSpec::None,
            // Five bursts in six minutes would flap; this is about the resolved list.
            flap_max_transitions: 0,
            ..MonitorSettings::default()
        };
        let mut monitor = PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"));
        // Five one-tick error bursts, each followed by a quiet minute and more.
        let mut now = 1_000.0;
        for _ in 0..5 {
            for _ in 0..2_000 {
                monitor.record("db", 0.01, false, now + 0.5).expect("valid");
            }
            now += 1.0;
            monitor.tick(now);
            for _ in 0..70 {
                for _ in 0..100 {
                    monitor.record("db", 0.01, true, now + 0.5).expect("valid");
                }
                now += 1.0;
                monitor.tick(now);
            }
        }
        let resolved = monitor.resolved_alerts().count();
        let status = monitor.snapshot(now).monitor;
        assert_eq!(resolved, 2);
        // Each burst resolves a warning and a critical: 10 resolved, 2 kept.
        assert_eq!(status.dropped_resolved_alerts, 8);
    }
}
