//! The app's reactive state: the engine in a local store, the latest snapshot in a
//! signal, the route, and the tick loop that drives them on a gloo-timers interval.

pub mod engine;
pub mod history;
pub mod sources;

use std::sync::Arc;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use crate::config::AppConfig;
use crate::monitor::{AlertLevel, DashboardSnapshot};
use crate::platform;
use crate::route::Route;
use crate::sources::status::SourceStatus;

pub use engine::Engine;

/// Everything components read, shared through Leptos context.
#[derive(Clone, Copy)]
pub struct AppState {
    /// Monitor, simulator and history.
    pub engine: StoredValue<Engine, LocalStorage>,
    /// The latest dashboard snapshot; every view derives from it.
    pub snapshot: RwSignal<Arc<DashboardSnapshot>>,
    /// Counts ticks, so charts know when to redraw.
    pub tick: RwSignal<u64>,
    /// Median main-thread milliseconds of the recent ticks' full update: core tick,
    /// snapshot, and the DOM and chart work it triggered.
    pub tick_cost_ms: RwSignal<f64>,
    /// The recent ticks' costs, newest last.
    tick_costs: StoredValue<Vec<f64>>,
    /// The document title last set, so an unchanged one is not set again.
    title: StoredValue<String>,
    /// The current view.
    pub route: RwSignal<Route>,
    /// The config in force.
    pub config: StoredValue<Arc<AppConfig>>,
    /// Each fetched source's status, refreshed once per tick.
    pub sources: RwSignal<Vec<SourceStatus>>,
    /// The statuses the source tasks update.
    source_tasks: StoredValue<Vec<sources::SharedStatus>, LocalStorage>,
}

impl AppState {
    /// Creates the state, starts the tick loop, and provides it as context.
    pub fn start(config: AppConfig, speed_override: Option<f64>) -> AppState {
        let wall_now = platform::now_seconds();
        let speed = speed_override.unwrap_or(config.settings.simulation.speed);
        let engine = Engine::new(&config, wall_now, wall_now.to_bits(), speed);
        let snapshot = RwSignal::new(engine.snapshot());
        let tick_seconds = config.monitor.tick_seconds;
        let source_settings = config.settings.sources.clone();
        let state = AppState {
            engine: StoredValue::new_local(engine),
            snapshot,
            tick: RwSignal::new(0),
            tick_cost_ms: RwSignal::new(0.0),
            tick_costs: StoredValue::new(Vec::new()),
            title: StoredValue::new(String::new()),
            route: RwSignal::new(Route::parse(&platform::location_hash())),
            config: StoredValue::new(Arc::new(config)),
            sources: RwSignal::new(Vec::new()),
            source_tasks: StoredValue::new_local(Vec::new()),
        };
        provide_context(state);
        let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let tasks = sources::start_all(&source_settings, state.engine, Arc::clone(&alive));
        state.source_tasks.set_value(tasks);
        state.refresh_sources();
        on_cleanup(move || alive.store(false, std::sync::atomic::Ordering::Relaxed));
        state.run_ticks(tick_seconds, speed);
        state
    }

    fn run_ticks(self, tick_seconds: f64, speed: f64) {
        // Fire a few times per tick, so that ticks close on time whatever the speed.
        let period_ms = ((tick_seconds * 1000.0 / speed.max(1.0)) / 4.0).clamp(20.0, 250.0) as u32;
        let interval = Interval::new(period_ms, move || self.step());
        let interval = StoredValue::new_local(Some(interval));
        on_cleanup(move || {
            interval.update_value(|held| {
                held.take().map(Interval::cancel);
            })
        });
    }

    /// Advances the engine to now; publishes a new snapshot when a tick closed.
    pub fn step(self) {
        let started = platform::performance_now();
        let before = self.snapshot.with_untracked(|s| s.timestamp);
        let Some((snapshot, _events)) = self
            .engine
            .try_update_value(|engine| engine.step(platform::now_seconds()))
        else {
            return;
        };
        if snapshot.timestamp == before {
            return;
        }
        self.set_title_for(&snapshot);
        self.refresh_sources();
        self.publish_cost();
        self.snapshot.set(snapshot);
        self.tick.update(|n| *n += 1);
        platform::performance_mark("redline-tick");
        // Effects and DOM updates run in microtasks after this call; a zero timeout
        // runs after them, so the cost covers the whole update.
        gloo_timers::callback::Timeout::new(0, move || {
            self.record_cost(platform::performance_now() - started)
        })
        .forget();
    }

    /// Copies the source tasks' statuses into the signal when they changed.
    fn refresh_sources(self) {
        // Compared in place first: cloned only when something changed.
        let changed = self.source_tasks.try_with_value(|tasks| {
            self.sources.with_untracked(|shown| {
                shown.len() != tasks.len()
                    || tasks
                        .iter()
                        .zip(shown)
                        .any(|(task, shown)| *task.borrow() != *shown)
            })
        });
        if changed != Some(true) {
            return;
        }
        if let Some(current) = self.source_tasks.try_with_value(|tasks| {
            tasks
                .iter()
                .map(|status| status.borrow().clone())
                .collect::<Vec<_>>()
        }) {
            self.sources.set(current);
        }
    }

    /// Keeps a tick's cost; it is shown with the next tick, so that showing it does not
    /// cost a render of its own.
    fn record_cost(self, cost_ms: f64) {
        self.tick_costs.try_update_value(|costs| {
            if costs.len() == 30 {
                costs.remove(0);
            }
            costs.push(cost_ms);
        });
    }

    /// Publishes the median of the recent ticks' costs.
    fn publish_cost(self) {
        let median = self.tick_costs.try_with_value(|costs| {
            let mut sorted = costs.clone();
            sorted.sort_unstable_by(f64::total_cmp);
            sorted.get(sorted.len() / 2).copied()
        });
        if let Some(Some(median)) = median
            && self.tick_cost_ms.get_untracked() != median
        {
            self.tick_cost_ms.set(median);
        }
    }

    /// The document title shows the worst firing level, so a background tab still says
    /// it. It is set only when it changes: setting it costs the browser work every time.
    fn set_title_for(self, snapshot: &DashboardSnapshot) {
        let summary = snapshot.summary;
        let title = if summary.critical_alerts > 0 {
            format!("🔴 {} critical · redline", summary.critical_alerts)
        } else if summary.warning_alerts > 0 {
            format!("🟠 {} warning · redline", summary.warning_alerts)
        } else {
            "redline".to_owned()
        };
        let changed = self.title.try_update_value(|shown| {
            let changed = *shown != title;
            if changed {
                shown.clone_from(&title);
            }
            changed
        });
        if changed == Some(true) {
            platform::set_title(&title);
        }
    }
}

/// The worst level firing now, if any.
pub fn worst_firing(snapshot: &DashboardSnapshot) -> Option<AlertLevel> {
    let s = snapshot.summary;
    if s.critical_alerts > 0 {
        Some(AlertLevel::Critical)
    } else if s.warning_alerts > 0 {
        Some(AlertLevel::Warning)
    } else if s.info_alerts > 0 {
        Some(AlertLevel::Info)
    } else {
        None
    }
}

/// The app state from context; components are only mounted under the app.
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}
