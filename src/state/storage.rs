//! Keeps the history in IndexedDB: opens it, resumes the engine from it, writes each
//! step's closed ticks (one record per tick, in one transaction per step), finishes
//! rollups, prunes by retention, watches the budget, and reports what is wrong.
//! Live monitoring never waits for storage and carries on whatever it reports.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use leptos::prelude::*;

use super::engine::{ClosedStep, Engine, StoredStep};
use super::history::Point;
use super::store::{self, HistorySettings, Retention, Rollups};
use crate::monitor::{AlertEvent, ModuleSource, PerformanceMonitor};
use crate::platform;
use crate::platform::storage::{Batch, Db, StorageError};

/// Where the history stands, as the page shows it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryStatus {
    /// What it is doing.
    pub state: HistoryState,
    /// What is wrong (or what happened), in words; empty when all is well.
    pub message: String,
    /// Ticks replayed on resume.
    pub resumed_ticks: usize,
    /// Bytes the origin stores (the browser's estimate), when known.
    pub usage_bytes: Option<f64>,
    /// The configured budget, bytes.
    pub budget_bytes: f64,
    /// Records refused as corrupt (skipped).
    pub corrupt_records: u64,
    /// Ticks not stored because a write failed or the budget was reached.
    pub unsaved_ticks: u64,
    /// Median main-thread milliseconds of preparing one step's write.
    pub write_ms: f64,
}

/// The history's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryState {
    /// Not kept (turned off, or embedded in another page).
    #[default]
    Off,
    /// Opening the database and resuming.
    Opening,
    /// Storing each tick.
    Recording,
    /// Another tab of this dashboard stores the history: this one resumed from it and
    /// reads it, but writes nothing (two writers would overwrite each other's ticks).
    Standby,
    /// The budget or the browser's quota is reached: live only until space is freed.
    Full,
    /// No IndexedDB here: live only.
    Unavailable,
    /// IndexedDB failed: live only.
    Failed,
}

impl HistoryState {
    /// True when stored history can be read (recording, standby or full).
    pub fn readable(self) -> bool {
        matches!(
            self,
            HistoryState::Recording | HistoryState::Full | HistoryState::Standby
        )
    }

    /// The class and word the page shows.
    pub fn name(self) -> &'static str {
        match self {
            HistoryState::Off => "off",
            HistoryState::Opening => "opening",
            HistoryState::Recording => "recording",
            HistoryState::Standby => "standby",
            HistoryState::Full => "full",
            HistoryState::Unavailable => "unavailable",
            HistoryState::Failed => "failed",
        }
    }
}

/// Ticks gathered into one write: one transaction per five ticks costs the main
/// thread less than one per tick. What is pending is written at once when the page
/// is hidden or left (`flush_now`).
const FLUSH_TICKS: usize = 5;

/// Seconds of wall time between two budget checks.
const MAINTENANCE_SECONDS: f64 = 10.0;
/// Budget checks per prune.
const CHECKS_PER_PRUNE: u32 = 6;

/// The storage side of the app state.
pub struct Keeper {
    db: Option<Rc<Db>>,
    settings: HistorySettings,
    retention: Retention,
    tick_seconds: f64,
    /// Stored module names and sources, by store id.
    names: Vec<(String, ModuleSource)>,
    ids: HashMap<String, u32>,
    /// Store id by the monitor's module index (`u32::MAX`: not looked up yet), so a
    /// tick's modules are not looked up by name every tick. Module indexes hold for
    /// the life of one monitor; the resume's replaces the first before any write.
    by_index: Vec<u32>,
    names_dirty: bool,
    rollups: Rollups,
    pending: Batch,
    writing: bool,
    last_maintenance: f64,
    checks: u32,
    costs: Vec<f64>,
    status: HistoryStatus,
}

/// The shared keeper.
pub type SharedKeeper = Rc<RefCell<Keeper>>;

impl Keeper {
    /// A keeper for `settings`, not yet open.
    pub fn new(settings: &HistorySettings, tick_seconds: f64) -> SharedKeeper {
        let retention = settings.retention();
        Rc::new(RefCell::new(Keeper {
            db: None,
            settings: settings.clone(),
            retention,
            tick_seconds,
            names: Vec::new(),
            ids: HashMap::new(),
            by_index: Vec::new(),
            names_dirty: false,
            rollups: Rollups::default(),
            pending: Batch::default(),
            writing: false,
            last_maintenance: f64::NEG_INFINITY,
            checks: 0,
            costs: Vec::new(),
            status: HistoryStatus {
                state: HistoryState::Opening,
                budget_bytes: retention.budget_bytes,
                ..HistoryStatus::default()
            },
        }))
    }

    /// The current status.
    pub fn status(&self) -> HistoryStatus {
        self.status.clone()
    }

    /// True while the database is opening and the history resuming.
    pub fn opening(&self) -> bool {
        self.status.state == HistoryState::Opening
    }

    /// True while ticks should be handed over.
    pub fn wants_ticks(&self) -> bool {
        matches!(
            self.status.state,
            HistoryState::Recording | HistoryState::Full
        )
    }

    /// True once this page stores nothing more (storage failed, or another tab keeps
    /// the history).
    pub fn gave_up(&self) -> bool {
        matches!(
            self.status.state,
            HistoryState::Unavailable
                | HistoryState::Failed
                | HistoryState::Off
                | HistoryState::Standby
        )
    }

    fn fail(&mut self, error: &StorageError) {
        self.status.state = match error {
            StorageError::Quota(_) => HistoryState::Full,
            StorageError::Unavailable(_) => HistoryState::Unavailable,
            StorageError::Version(_) | StorageError::Failed(_) => HistoryState::Failed,
        };
        self.status.message = format!("{error}. Live monitoring continues; history is not stored.");
        if !matches!(error, StorageError::Quota(_)) {
            self.db = None;
        }
    }

    /// The stored module names, by store id.
    fn set_names(&mut self, names: Vec<(String, ModuleSource)>) {
        self.ids = names
            .iter()
            .enumerate()
            .map(|(id, (name, _))| (name.clone(), id as u32))
            .collect();
        self.names = names;
        self.by_index.clear();
    }

    /// The store id of the monitor's module `index`.
    fn id_at(&mut self, monitor: &PerformanceMonitor, index: usize) -> Option<u32> {
        if let Some(&id) = self.by_index.get(index).filter(|id| **id != u32::MAX) {
            return Some(id);
        }
        let module = monitor.modules().get(index)?;
        let id = self.id_for(module.name(), module.source());
        if self.by_index.len() <= index {
            self.by_index.resize(index + 1, u32::MAX);
        }
        self.by_index[index] = id;
        Some(id)
    }

    fn id_for(&mut self, name: &str, source: ModuleSource) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.names.len() as u32;
        self.names.push((name.to_owned(), source));
        self.ids.insert(name.to_owned(), id);
        self.names_dirty = true;
        id
    }

    /// Adds a step's closed ticks and alert transitions to the next write.
    pub fn add(
        &mut self,
        monitor: &PerformanceMonitor,
        steps: Vec<ClosedStep>,
        events: &[AlertEvent],
    ) {
        if self.status.state == HistoryState::Full {
            self.status.unsaved_ticks += steps.len() as u64;
            return;
        }
        for step in steps {
            let modules: Vec<(u32, crate::monitor::window::ClosedTick)> = step
                .modules
                .into_iter()
                .filter_map(|(index, tick)| Some((self.id_at(monitor, index)?, tick)))
                .collect();
            let (record, finished) =
                self.rollups
                    .add_and_encode(&self.retention, step.t, self.tick_seconds, &modules);
            self.pending.ticks.push((step.t, record));
            if let Some((start, finished)) = finished {
                self.pending.rollups.extend(
                    finished
                        .iter()
                        .map(|(id, tick)| (*id, start, store::encode_rollup(tick))),
                );
            }
        }
        self.pending.alerts.extend(
            events
                .iter()
                .filter_map(|e| Some((e.at, serde_json::to_string(e).ok()?))),
        );
        if self.names_dirty {
            self.names_dirty = false;
            if let Ok(names) = serde_json::to_string(&self.names) {
                self.pending.meta.push(("modules", names));
            }
        }
    }

    fn note_cost(&mut self, ms: f64) {
        if self.costs.len() == 31 {
            self.costs.remove(0);
        }
        self.costs.push(ms);
        self.status.write_ms = super::median(&self.costs).unwrap_or(0.0);
    }
}

/// The `format` meta entry: what stored records depend on.
fn format_entry(monitor: &PerformanceMonitor) -> String {
    serde_json::json!({
        "relative_error": monitor.layout().relative_error(),
        "tick_seconds": monitor.config().tick_seconds,
    })
    .to_string()
}

/// Opens the database and resumes `engine` from it; then the keeper records.
pub async fn open_and_resume(
    keeper: SharedKeeper,
    engine: StoredValue<Engine, LocalStorage>,
    publish: impl Fn(HistoryStatus) + 'static,
) {
    let outcome = resume(&keeper, engine).await;
    {
        let mut keeper = keeper.borrow_mut();
        match outcome {
            Ok((replayed, writer)) => {
                keeper.status.resumed_ticks = replayed;
                keeper.status.state = if writer {
                    HistoryState::Recording
                } else {
                    keeper.status.message = "another tab of this dashboard keeps the history; this one resumed from it and shows it, but stores nothing.".to_owned();
                    HistoryState::Standby
                };
            }
            Err(error) => keeper.fail(&error),
        }
        if keeper.gave_up() {
            engine.try_update_value(Engine::stop_keeping);
        }
    }
    let standby = keeper.borrow().status.state == HistoryState::Standby;
    publish(keeper.borrow().status());
    if standby {
        platform::storage::wait_for_writer(move || {
            leptos::task::spawn_local(async move {
                let status = take_over(&keeper, engine).await;
                publish(status);
            });
        });
    }
}

/// The tab that kept the history has gone: this one writes from now on, with the
/// module names that tab stored.
async fn take_over(
    keeper: &SharedKeeper,
    engine: StoredValue<Engine, LocalStorage>,
) -> HistoryStatus {
    let db = keeper.borrow().db.clone();
    let names: Option<Vec<(String, ModuleSource)>> = match db {
        Some(db) => db
            .meta("modules")
            .await
            .ok()
            .flatten()
            .and_then(|json| serde_json::from_str(&json).ok()),
        None => None,
    };
    let mut kept = keeper.borrow_mut();
    if let Some(names) = names {
        kept.set_names(names);
    }
    kept.rollups = Rollups::default();
    kept.pending = Batch::default();
    kept.status.state = HistoryState::Recording;
    kept.status.message.clear();
    engine.try_update_value(Engine::start_keeping);
    kept.status()
}

async fn resume(
    keeper: &SharedKeeper,
    engine: StoredValue<Engine, LocalStorage>,
) -> Result<(usize, bool), StorageError> {
    let db = Rc::new(Db::open().await?);
    let writer = platform::storage::claim_writer().await;
    let Some(format) = engine.try_with_value(|e| format_entry(e.monitor())) else {
        return Ok((0, writer));
    };
    let stored_format = db.meta("format").await?;
    let names: Vec<(String, ModuleSource)> = match db.meta("modules").await? {
        Some(json) => serde_json::from_str(&json).unwrap_or_default(),
        None => Vec::new(),
    };
    let settings = keeper.borrow().settings.clone();
    let wall_now = platform::now_seconds();
    let (now, span) = engine
        .try_with_value(|e| {
            let window = e.monitor().config().window_seconds();
            let tick = e.monitor().config().tick_seconds;
            (
                e.now(wall_now),
                (f64::from(settings.resume_ticks) * tick).max(window),
            )
        })
        .unwrap_or((wall_now, 0.0));
    let mut by_id = Vec::new();
    let mut corrupt = 0u64;
    if stored_format.as_deref() == Some(format.as_str()) && !names.is_empty() {
        // Ticks from a faster clock may lie ahead of this page's: read them all.
        let records = db.ticks(now - span, f64::INFINITY).await?;
        for (t, record) in records {
            match store::decode_tick(&record) {
                Ok(modules) if t.is_finite() => by_id.push((t, modules)),
                _ => corrupt += 1,
            }
        }
    } else if stored_format.is_some() && writer {
        // Another tick length or sketch accuracy: the old records cannot merge with
        // new ones.
        db.prune(f64::INFINITY, f64::INFINITY, names.len() as u32)
            .await?;
    }
    let mut keeper = keeper.borrow_mut();
    // The span under way at the reload continues with the ticks it already had; the
    // spans before it were written then.
    let (retention, tick_seconds) = (keeper.retention, keeper.tick_seconds);
    if let Some((newest, _)) = by_id.last() {
        let open_span = retention.rollup_start(newest - tick_seconds);
        for (t, modules) in &by_id {
            if retention.rollup_start(t - tick_seconds) == open_span {
                let _ = keeper.rollups.add(&retention, *t, tick_seconds, modules);
            }
        }
    }
    let stored: Vec<StoredStep> = by_id
        .into_iter()
        .map(|(t, modules)| StoredStep {
            t,
            modules: modules
                .into_iter()
                .filter_map(|(id, tick)| {
                    let (name, source) = names.get(id as usize)?;
                    Some((name.clone(), *source, tick))
                })
                .collect(),
        })
        .collect();
    let replayed = engine
        .try_update_value(|e| e.resume(&stored, platform::now_seconds()))
        .unwrap_or(0);
    keeper.status.corrupt_records += corrupt;
    if corrupt > 0 {
        keeper.status.message = match corrupt {
            1 => "1 corrupt history record was skipped.".to_owned(),
            n => format!("{n} corrupt history records were skipped."),
        };
    }
    if stored_format.as_deref() != Some(format.as_str()) {
        keeper.pending.meta.push(("format", format));
        keeper.names_dirty = true;
        keeper.names.clear();
        keeper.ids.clear();
        keeper.by_index.clear();
    } else {
        keeper.set_names(names);
    }
    keeper.db = Some(db);
    Ok((replayed, writer))
}

/// Takes the engine's closed ticks into the next write and starts it when none is
/// under way; prunes and checks the budget now and then. Returns the main-thread
/// milliseconds spent.
pub fn step(
    keeper: &SharedKeeper,
    engine: StoredValue<Engine, LocalStorage>,
    events: &[AlertEvent],
    publish: impl Fn(HistoryStatus) + Clone + 'static,
) {
    let started = platform::performance_now();
    {
        let mut kept = keeper.borrow_mut();
        if !kept.wants_ticks() {
            return;
        }
        let taken = engine.try_update_value(|e| {
            let steps = e.take_closed();
            let taken = steps.len();
            kept.add(e.monitor(), steps, events);
            taken
        });
        // Steps that closed no tick cost nothing worth counting.
        if taken.unwrap_or(0) == 0 {
            return;
        }
    }
    flush(keeper, false, publish.clone());
    let wall_now = platform::now_seconds();
    let due = {
        let mut kept = keeper.borrow_mut();
        let cost = platform::performance_now() - started;
        kept.note_cost(cost);
        let due = wall_now - kept.last_maintenance >= MAINTENANCE_SECONDS;
        if due {
            kept.last_maintenance = wall_now;
        }
        due
    };
    if due {
        let keeper = Rc::clone(keeper);
        let now = engine
            .try_with_value(|e| e.now(wall_now))
            .unwrap_or(wall_now);
        leptos::task::spawn_local(async move { maintain(keeper, now, publish).await });
    }
}

/// Writes what is pending now (the page is being hidden or left).
pub fn flush_now(keeper: &SharedKeeper, publish: impl Fn(HistoryStatus) + 'static) {
    flush(keeper, true, publish);
}

fn flush(keeper: &SharedKeeper, force: bool, publish: impl Fn(HistoryStatus) + 'static) {
    let (db, batch) = {
        let mut kept = keeper.borrow_mut();
        if kept.writing || kept.pending.is_empty() || kept.status.state != HistoryState::Recording {
            return;
        }
        if !force && kept.pending.ticks.len() < FLUSH_TICKS && kept.pending.rollups.is_empty() {
            return;
        }
        let Some(db) = kept.db.clone() else {
            return;
        };
        kept.writing = true;
        (db, std::mem::take(&mut kept.pending))
    };
    let keeper = Rc::clone(keeper);
    leptos::task::spawn_local(async move {
        let ticks = batch.ticks.len() as u64;
        let outcome = db.write(batch).await;
        let status = {
            let mut kept = keeper.borrow_mut();
            kept.writing = false;
            match outcome {
                Ok(()) => None,
                Err(error) => {
                    kept.status.unsaved_ticks += ticks;
                    kept.fail(&error);
                    Some(kept.status())
                }
            }
        };
        if let Some(status) = status {
            publish(status);
        }
    });
}

/// Deletes what retention no longer keeps, then compares the origin's usage with the
/// budget: over it, writes stop (and resume once pruning brings it back under).
async fn maintain(keeper: SharedKeeper, now: f64, publish: impl Fn(HistoryStatus)) {
    let Some((db, retention, modules, prune)) = ({
        let mut kept = keeper.borrow_mut();
        kept.checks += 1;
        let prune = kept.checks % CHECKS_PER_PRUNE == 1;
        kept.db
            .clone()
            .map(|db| (db, kept.retention, kept.names.len() as u32, prune))
    }) else {
        return;
    };
    let pruned = if prune {
        db.prune(
            retention.ticks_cutoff(now),
            retention.rollups_cutoff(now),
            modules,
        )
        .await
    } else {
        Ok(())
    };
    let usage = platform::storage::usage_bytes().await;
    let status = {
        let mut kept = keeper.borrow_mut();
        if let Err(error) = pruned {
            kept.fail(&error);
        }
        kept.status.usage_bytes = usage;
        let over = usage.is_some_and(|used| used > retention.budget_bytes);
        match kept.status.state {
            HistoryState::Recording if over => {
                kept.status.state = HistoryState::Full;
                kept.status.message = format!(
                    "storage is over its budget ({} used of {}): new ticks are not stored. Live monitoring continues. Raise history.budget_mib or shorten the retention.",
                    crate::format::bytes(usage.unwrap_or(0.0)),
                    crate::format::bytes(retention.budget_bytes),
                );
                kept.pending = Batch::default();
            }
            HistoryState::Full if !over && kept.db.is_some() => {
                kept.status.state = HistoryState::Recording;
                kept.status.message.clear();
            }
            _ => {}
        }
        kept.status()
    };
    publish(status);
}

/// One module's stored rollups over `[from, to]`, re-aggregated to about `points`
/// points.
pub async fn load_range(
    keeper: SharedKeeper,
    layout: crate::monitor::sketch::SketchLayout,
    module: String,
    from: f64,
    to: f64,
    points: usize,
) -> Result<Vec<Point>, String> {
    let rollup_seconds = keeper.borrow().retention.rollup_seconds;
    let step = ((to - from) / points.max(1) as f64).max(rollup_seconds);
    let step = (step / rollup_seconds).ceil() * rollup_seconds;
    load_series(&keeper, &layout, &module, from, to, step).await
}

/// One module's stored rollups over `[from, to]`, merged into steps of `step` seconds
/// (a multiple of the rollup span).
async fn load_series(
    keeper: &SharedKeeper,
    layout: &crate::monitor::sketch::SketchLayout,
    module: &str,
    from: f64,
    to: f64,
    step: f64,
) -> Result<Vec<Point>, String> {
    let (db, id, rollup_seconds) = {
        let kept = keeper.borrow();
        let db = kept
            .db
            .clone()
            .ok_or_else(|| format!("no stored history: {}", kept.status.message))?;
        let id = *kept
            .ids
            .get(module)
            .ok_or_else(|| format!("nothing stored for {module} yet"))?;
        (db, id, kept.retention.rollup_seconds)
    };
    let records = db
        .rollups(id, from, to)
        .await
        .map_err(|error| error.to_string())?;
    let spans: Vec<(f64, crate::monitor::window::ClosedTick)> = records
        .iter()
        .filter_map(|(start, record)| {
            Some((start + rollup_seconds, store::decode_rollup(record).ok()?))
        })
        .collect();
    Ok(store::series(
        layout,
        spans.iter().map(|(t, tick)| (*t, tick)),
        from,
        step,
        rollup_seconds,
    ))
}

/// The alert transitions stored over `[from, to]`, grouped by alert; transitions that
/// do not decode are counted.
pub async fn load_alert_history(
    keeper: SharedKeeper,
    from: f64,
    to: f64,
) -> Result<(super::alert_history::AlertHistory, usize), String> {
    let db = {
        let kept = keeper.borrow();
        kept.db
            .clone()
            .ok_or_else(|| format!("no stored history: {}", kept.status.message))?
    };
    let records = db
        .alerts(from, to)
        .await
        .map_err(|error| error.to_string())?;
    let events: Vec<crate::monitor::AlertEvent> = records
        .iter()
        .filter_map(|json| serde_json::from_str(json).ok())
        .collect();
    let corrupt = records.len() - events.len();
    Ok((super::alert_history::group(&events), corrupt))
}

/// Every stored module's rollups over `[from, to]` at the rollup span, as a chart
/// history (for the CSV and JSON exports of long ranges).
pub async fn load_all(
    keeper: SharedKeeper,
    layout: crate::monitor::sketch::SketchLayout,
    from: f64,
    to: f64,
) -> Result<super::history::History, String> {
    let (names, step) = {
        let kept = keeper.borrow();
        let names: Vec<String> = kept.names.iter().map(|(name, _)| name.clone()).collect();
        (names, kept.retention.rollup_seconds)
    };
    let spans = ((to - from) / step).ceil().max(1.0) as usize;
    let mut history = super::history::History::new(spans + 1);
    for name in names {
        let points = load_series(&keeper, &layout, &name, from, to, step).await?;
        history.backfill(&name, &points);
    }
    Ok(history)
}
