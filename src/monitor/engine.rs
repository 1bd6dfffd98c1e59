//! `PerformanceMonitor`: records into module windows, closes ticks, runs detectors and
//! rules, and builds the dashboard snapshot.

use std::collections::VecDeque;
use std::sync::Arc;

use super::alert::{self, Alert, AlertEvent, AlertState, Observation, Rule};
use super::bottleneck;
use super::config::MonitorConfig;
use super::custom::CustomKind;
use super::flap::{FlapBook, FlapSettings};
use super::judge::{self, Judged, PredictSettings, Settlement, TickWork};
use super::module::{ModuleId, ModuleMetrics, check_latency};
use super::names::NameIndex;
use super::pending::{PendingRecords, PendingTotals};
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
    index: NameIndex,
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
    /// Module count from which a tick judges modules on several threads (native only;
    /// see `judge`). Tests lower or raise it to compare the two.
    parallel_from: usize,
}

/// Below this many modules a tick judges them on the calling thread. A module's judging
/// takes one or two microseconds, and the tick ends only once the pool thread it asked
/// for has woken, which took 50 to 190 µs on this project's virtual machine.
const PARALLEL_FROM_MODULES: usize = 256;

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
            index: NameIndex::new(),
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
            parallel_from: PARALLEL_FROM_MODULES,
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
            return Ok(id);
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
        self.index.push(name, id);
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
            Some(id) => (id, false),
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
            debug_assert_eq!(self.index.get(module.name()), Some(id));
            self.index.pop();
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
                let created = !self.index.contains(module.as_str());
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
                let created = !self.index.contains(module.as_str());
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
        let work = TickWork {
            config: &self.config,
            layout: &self.layout,
            predict: self.alerts.predict,
            closed,
            last_closed,
            now,
        };
        let settlements = judge::judge_all(&mut self.modules, &work, self.parallel_from);
        for Settlement {
            judged,
            observation,
        } in settlements
        {
            let module = &mut self.modules[judged.module_index];
            self.alerts
                .settle(module, judged, observation, now, &mut events);
        }
        self.prune_resolved(now);
        events
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
                    (module.shared_name().clone(), module_snapshot(module, held))
                })
                .collect(),
        );
        // In name order, so that ties rank by name.
        let bottlenecks = bottleneck::rank(
            self.by_name.iter().map(|id| {
                let module = &self.modules[id.index()];
                (module.name(), &module.stats)
            }),
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

impl AlertBook {
    /// Steps the alert in the judged slot of `module`, keeping it while active and
    /// archiving it once resolved.
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

    /// Judging modules on rayon's threads settles the same alerts, with the same ids
    /// and in the same order, as judging them on one: every tick's transitions and the
    /// dashboard JSON are equal, through incidents, anomalies and forecasts.
    #[test]
    fn judging_on_several_threads_changes_nothing() {
        use crate::monitor::alert::AlertSource;
        use crate::monitor::simulate::{Scenario, Simulator};
        let names: Vec<String> = (0..299).map(|i| format!("module_{i:03}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let start = 1_700_000_000.0;
        let run = |parallel_from: usize| {
            let mut monitor = PerformanceMonitor {
                parallel_from,
                ..PerformanceMonitor::default()
            };
            let mut simulator = Simulator::new(Scenario::for_modules(&names), 7, start);
            let mut ticks = Vec::new();
            for second in 1..=240 {
                let now = start + f64::from(second);
                simulator.advance(&mut monitor, now).expect("records");
                // A latency ramp, for forecasts: p95 crosses 1 s after about 3 minutes.
                for request in 0..50 {
                    let seconds = 0.3 + 0.004 * f64::from(second) + 1e-4 * f64::from(request);
                    monitor.record("ramp", seconds, true, now).expect("valid");
                }
                let events = monitor.tick(now);
                let json = (second % 10 == 0).then(|| monitor.dashboard_json(now));
                ticks.push((events, json));
            }
            ticks
        };
        let serial = run(usize::MAX);
        // Four threads, whatever the machine has: runs are then judged out of order.
        let pool = rayon::ThreadPoolBuilder::new().num_threads(4).build();
        let parallel = pool.expect("a thread pool").install(|| run(0));
        let events: Vec<&AlertEvent> = serial.iter().flat_map(|(e, _)| e).collect();
        let sourced = |f: fn(&AlertSource) -> bool| events.iter().any(|e| f(&e.alert.source));
        assert!(sourced(|s| matches!(s, AlertSource::Threshold { .. })));
        assert!(sourced(|s| matches!(s, AlertSource::Anomaly { .. })));
        assert!(sourced(|s| matches!(s, AlertSource::Prediction { .. })));
        for (second, (one, many)) in serial.iter().zip(&parallel).enumerate() {
            assert_eq!(one, many, "tick {}", second + 1);
        }
    }

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
