//! The app's reactive state: the engine in a local store, the latest snapshot in a
//! signal, the route, and the tick loop that drives them on a gloo-timers interval.

pub mod alert_history;
pub mod engine;
pub mod history;
pub mod sources;
pub mod storage;
pub mod store;
pub mod webhooks;

use std::rc::Rc;
use std::sync::Arc;

use gloo_timers::callback::Interval;
use leptos::prelude::*;

use crate::config::AppConfig;
use crate::monitor::{AlertEvent, AlertLevel, DashboardSnapshot};
use crate::platform;
use crate::route::Route;
use crate::sources::status::SourceStatus;

pub use engine::Engine;

/// Where a dashboard lives, which decides what it may touch outside itself.
#[derive(Clone)]
pub enum Placement {
    /// The app's own page: hash routes, the document title, and the config and theme
    /// kept in localStorage.
    Page,
    /// Inside someone else's page (`mount()`, `<redline-dashboard>`, or the `Dashboard`
    /// component): routes stay inside the dashboard, the host's title, hash and storage
    /// are left alone, and an applied config restarts this dashboard only.
    Embedded(Rc<Embedding>),
}

/// What an embedding host hands a dashboard.
pub struct Embedding {
    /// Called once the dashboard's state exists (the JS API records through it).
    pub started: Box<dyn Fn(AppState)>,
    /// Restarts the dashboard with another (validated) config.
    pub restart: Box<dyn Fn(AppConfig)>,
}

impl Placement {
    /// True inside someone else's page.
    pub fn embedded(&self) -> bool {
        matches!(self, Placement::Embedded(_))
    }
}

/// Receives each tick's alert transitions (the JS API's `on("alert")`).
pub type AlertHook = Box<dyn Fn(&[AlertEvent])>;

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
    /// The document title and favicon level last set, so unchanged ones are not set
    /// again each tick.
    title: StoredValue<(String, Option<AlertLevel>)>,
    /// The current view.
    pub route: RwSignal<Route>,
    /// The config in force.
    pub config: StoredValue<Arc<AppConfig>>,
    /// Each fetched source's status, refreshed once per tick.
    pub sources: RwSignal<Vec<SourceStatus>>,
    /// The statuses the source tasks update.
    source_tasks: StoredValue<Vec<sources::SharedStatus>, LocalStorage>,
    /// "light" or "dark".
    pub theme: RwSignal<String>,
    /// The app's own page, or embedded in another.
    pub placement: StoredValue<Placement, LocalStorage>,
    /// Listeners for alert transitions.
    alert_hooks: StoredValue<Vec<(u32, AlertHook)>, LocalStorage>,
    /// The webhooks' queues and switches.
    pub webhook_runners: StoredValue<webhooks::Runners, LocalStorage>,
    /// The webhooks as the panel shows them, refreshed once per tick.
    pub webhooks: RwSignal<Vec<webhooks::WebhookStatus>>,
    /// Alert transitions gathered for the next desktop notification.
    digest: StoredValue<crate::notify::Digest, LocalStorage>,
    /// Desktop notifications: `granted`, `denied`, `default` or `unsupported`.
    pub notifications: RwSignal<String>,
    /// The stored history's keeper (the app's own page only).
    pub keeper: StoredValue<Option<storage::SharedKeeper>, LocalStorage>,
    /// The stored history's status.
    pub history: RwSignal<storage::HistoryStatus>,
}

impl AppState {
    /// Creates the state, starts the tick loop, and provides it as context.
    pub fn start(
        config: AppConfig,
        speed_override: Option<f64>,
        placement: Placement,
        theme: RwSignal<String>,
    ) -> AppState {
        let wall_now = platform::now_seconds();
        let speed = speed_override.unwrap_or(config.settings.simulation.speed);
        // History is kept on the app's own page; an embedding host owns its data.
        let keep_history = config.settings.history.enabled && !placement.embedded();
        let engine = if keep_history {
            Engine::keeping_closed(&config, wall_now, wall_now.to_bits(), speed)
        } else {
            Engine::new(&config, wall_now, wall_now.to_bits(), speed)
        };
        let keeper = keep_history
            .then(|| storage::Keeper::new(&config.settings.history, config.monitor.tick_seconds));
        let snapshot = RwSignal::new(engine.snapshot());
        let tick_seconds = config.monitor.tick_seconds;
        let source_settings = config.settings.sources.clone();
        let webhook_settings = config.settings.webhooks.clone();
        let trusted = !config.untrusted;
        let remember = !placement.embedded();
        let state = AppState {
            engine: StoredValue::new_local(engine),
            snapshot,
            tick: RwSignal::new(0),
            tick_cost_ms: RwSignal::new(0.0),
            tick_costs: StoredValue::new(Vec::new()),
            title: StoredValue::new((String::new(), None)),
            route: RwSignal::new(if placement.embedded() {
                Route::Overview
            } else {
                Route::parse(&platform::location_hash())
            }),
            config: StoredValue::new(Arc::new(config)),
            sources: RwSignal::new(Vec::new()),
            source_tasks: StoredValue::new_local(Vec::new()),
            theme,
            placement: StoredValue::new_local(placement),
            alert_hooks: StoredValue::new_local(Vec::new()),
            webhook_runners: StoredValue::new_local(Vec::new()),
            webhooks: RwSignal::new(Vec::new()),
            digest: StoredValue::new_local(crate::notify::Digest::default()),
            notifications: RwSignal::new(platform::notifications_permission()),
            keeper: StoredValue::new_local(keeper.clone()),
            history: RwSignal::new(
                keeper
                    .as_ref()
                    .map(|k| k.borrow().status())
                    .unwrap_or_default(),
            ),
        };
        provide_context(state);
        let alive = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let tasks = sources::start_all(&source_settings, state.engine, Arc::clone(&alive));
        state.source_tasks.set_value(tasks);
        state.refresh_sources();
        let runners = webhooks::start_all(&webhook_settings, trusted, remember, Arc::clone(&alive));
        if !runners.is_empty() {
            let fed = runners.clone();
            let engine = state.engine;
            state.add_alert_hook(Box::new(move |events| {
                // Receivers get wall-clock times, also when simulated time runs faster.
                let Some(events) = engine.try_with_value(|engine| {
                    events
                        .iter()
                        .map(|event| webhooks::on_wall_clock(event, |t| engine.wall_time(t)))
                        .collect::<Vec<_>>()
                }) else {
                    return;
                };
                fed.iter()
                    .for_each(|runner| runner.borrow_mut().push(&events));
            }));
        }
        state.webhook_runners.set_value(runners);
        state.refresh_webhooks();
        on_cleanup(move || alive.store(false, std::sync::atomic::Ordering::Relaxed));
        if let Some(keeper) = keeper {
            // A page being hidden may be closed next: what is pending is written now
            // (`visibilitychange` bubbles from the document to the window).
            let pending = Rc::clone(&keeper);
            let hidden = leptos::prelude::window_event_listener_untyped("pagehide", move |_| {
                storage::flush_now(&pending, state.history_publisher());
            });
            let pending = Rc::clone(&keeper);
            let switched =
                leptos::prelude::window_event_listener_untyped("visibilitychange", move |_| {
                    if platform::page_hidden() {
                        storage::flush_now(&pending, state.history_publisher());
                    }
                });
            on_cleanup(move || {
                hidden.remove();
                switched.remove();
            });
            let engine = state.engine;
            leptos::task::spawn_local(async move {
                storage::open_and_resume(keeper, engine, state.history_publisher()).await;
                // The resumed window, alerts and charts show at once.
                if let Some(snapshot) = state.engine.try_with_value(Engine::snapshot) {
                    state.snapshot.set(snapshot);
                    state.tick.update(|n| *n += 1);
                }
            });
        }
        state.run_ticks(tick_seconds, speed);
        state
    }

    /// Publishes a history status when it changed.
    fn history_publisher(self) -> impl Fn(storage::HistoryStatus) + Clone + 'static {
        move |status| {
            if self.history.try_with_untracked(|shown| *shown != status) == Some(true) {
                self.history.set(status);
            }
        }
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
        let Some((snapshot, events)) = self
            .engine
            .try_update_value(|engine| engine.step(platform::now_seconds()))
        else {
            return;
        };
        let mut resuming = false;
        if let Some(Some(keeper)) = self.keeper.try_get_value() {
            // Until the stored history is resumed, this monitor's transitions are
            // provisional (the resumed one replaces it): nobody is told of them.
            resuming = keeper.borrow().opening();
            storage::step(&keeper, self.engine, &events, self.history_publisher());
        }
        let events = if resuming { Vec::new() } else { events };
        if !events.is_empty() {
            self.alert_hooks
                .with_value(|hooks| hooks.iter().for_each(|(_, hook)| hook(&events)));
        }
        let embedded = self.placement.with_value(Placement::embedded);
        if !embedded {
            self.notify_people(&events);
        }
        if snapshot.timestamp == before {
            return;
        }
        if !embedded {
            self.set_title_for(&snapshot);
        }
        // Hidden (a background tab), the monitor keeps recording and alerting, but
        // nothing is drawn: the next visible tick publishes the latest snapshot.
        if platform::page_hidden() {
            return;
        }
        self.refresh_sources();
        self.refresh_webhooks();
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

    /// Gathers notable transitions and, at most once per interval, shows them as one
    /// desktop notification when the user is looking elsewhere (and plays the tone
    /// for a new critical alert when the config asks). On the app's own page only.
    fn notify_people(self, events: &[crate::monitor::AlertEvent]) {
        let Some(settings) = self
            .config
            .try_with_value(|c| c.settings.notifications.clone())
        else {
            return;
        };
        if !settings.enabled {
            return;
        }
        let now = platform::now_seconds();
        let notice = self.digest.try_update_value(|digest| {
            digest.add(events, settings.min_level);
            digest.take(now, settings.min_interval_seconds)
        });
        let Some(Some(notice)) = notice else {
            return;
        };
        if settings.sound && notice.critical_started {
            platform::play_tone();
        }
        // Someone watching the dashboard sees the alerts already.
        if self.notifications.get_untracked() == "granted" && platform::user_is_elsewhere() {
            platform::notify(&notice.title, &notice.body, "redline-alerts");
        }
    }

    /// Calls `hook` with every tick's alert transitions until `remove_alert_hook(id)`.
    pub fn add_alert_hook(self, hook: AlertHook) -> u32 {
        self.alert_hooks
            .try_update_value(|hooks| {
                let id = hooks.last().map_or(1, |(last, _)| last + 1);
                hooks.push((id, hook));
                id
            })
            .unwrap_or(0)
    }

    /// Stops a hook from `add_alert_hook`.
    pub fn remove_alert_hook(self, id: u32) {
        self.alert_hooks
            .try_update_value(|hooks| hooks.retain(|(other, _)| *other != id));
    }

    /// Copies the webhooks' statuses into the signal when they changed.
    pub fn refresh_webhooks(self) {
        let Some(current) = self.webhook_runners.try_with_value(|runners| {
            runners
                .iter()
                .map(|runner| runner.borrow().status())
                .collect::<Vec<_>>()
        }) else {
            return;
        };
        if self.webhooks.with_untracked(|shown| *shown != current) {
            self.webhooks.set(current);
        }
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
        let median = self.tick_costs.try_with_value(|costs| median(costs));
        if let Some(Some(median)) = median
            && self.tick_cost_ms.get_untracked() != median
        {
            self.tick_cost_ms.set(median);
        }
    }

    /// The document title shows the worst firing level, so a background tab still says
    /// it, and so does the favicon. They are set only when they change: setting them
    /// costs the browser work every time.
    fn set_title_for(self, snapshot: &DashboardSnapshot) {
        let summary = snapshot.summary;
        let title = if summary.critical_alerts > 0 {
            format!("🔴 {} critical · redline", summary.critical_alerts)
        } else if summary.warning_alerts > 0 {
            format!("🟠 {} warning · redline", summary.warning_alerts)
        } else {
            "redline".to_owned()
        };
        let worst = worst_firing(snapshot);
        let changed = self.title.try_update_value(|(shown, badge)| {
            let changed = *shown != title || *badge != worst;
            if changed {
                shown.clone_from(&title);
                *badge = worst;
            }
            changed
        });
        if changed == Some(true) {
            platform::set_title(&title);
            platform::favicon(&crate::notify::favicon(worst));
        }
    }
}

/// The median of `values` (the upper one of an even count), if any.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    crate::sort::sort_by(&mut sorted, |a, b| a.total_cmp(b));
    sorted.get(sorted.len() / 2).copied()
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
