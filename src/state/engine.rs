//! The engine behind the page: the monitor, the simulator and the chart history,
//! stepped once per tick. No browser calls: wall time comes in as an argument.

use std::sync::Arc;

use crate::config::AppConfig;
use crate::monitor::simulate::Simulator;
use crate::monitor::window::ClosedTick;
use crate::monitor::{AlertEvent, DashboardSnapshot, ModuleSource, PerformanceMonitor};

use super::history::History;

/// Closed ticks kept for storage at most, until it takes them.
const MAX_KEPT_STEPS: usize = 3600;

/// Ticks of chart history kept per module (10 minutes at 1 s ticks).
pub const HISTORY_TICKS: usize = 600;

/// Monitor, simulator and history, advanced together.
#[derive(Debug)]
pub struct Engine {
    monitor: PerformanceMonitor,
    simulator: Option<Simulator>,
    /// Wall-clock start, Unix seconds.
    wall_start: f64,
    /// Monitor time at `wall_start` (ahead of it after resuming a faster clock's history).
    origin: f64,
    /// Ticks closed since `keep_closed`, for storage to take.
    closed: Option<Vec<ClosedStep>>,
    /// Simulated seconds per wall second.
    speed: f64,
    history: History,
    last_snapshot: Arc<DashboardSnapshot>,
    /// Time of the last closed tick (monitor time).
    last_tick: f64,
    problems: Vec<String>,
}

impl Engine {
    /// An engine starting at `wall_now` (Unix seconds), with the simulator seeded by `seed`.
    pub fn new(config: &AppConfig, wall_now: f64, seed: u64, speed: f64) -> Engine {
        Engine::build(config, wall_now, seed, speed, false)
    }

    /// The same, keeping every closed tick (the start-up window's included) for
    /// storage to take with [`Engine::take_closed`].
    pub fn keeping_closed(config: &AppConfig, wall_now: f64, seed: u64, speed: f64) -> Engine {
        Engine::build(config, wall_now, seed, speed, true)
    }

    fn build(config: &AppConfig, wall_now: f64, seed: u64, speed: f64, keep: bool) -> Engine {
        let mut monitor = PerformanceMonitor::new(config.monitor.clone());
        let simulation = &config.settings.simulation;
        let mut problems = Vec::new();
        // The simulator starts a little in the past, so the page opens on a filled
        // window instead of an empty one: up to a window, within an event budget.
        let simulated = config.simulated();
        let backfill = if simulated {
            backfill_seconds(
                &simulation.scenario,
                monitor.config().window_seconds(),
                monitor.config().tick_seconds,
            )
        } else {
            0.0
        };
        let start = wall_now - backfill;
        let simulator = simulated.then(|| {
            let mut simulator = Simulator::new(
                simulation.scenario.clone(),
                simulation.seed.unwrap_or(seed),
                start,
            );
            if let Err(error) = simulator.register(&mut monitor, start) {
                problems.push(format!("simulator: {error}"));
            }
            simulator
        });
        let last_snapshot = Arc::new(monitor.snapshot(wall_now));
        let mut engine = Engine {
            monitor,
            simulator,
            wall_start: wall_now,
            origin: wall_now,
            closed: keep.then(Vec::new),
            speed: speed.clamp(1.0, 100.0),
            history: History::new(HISTORY_TICKS),
            last_snapshot,
            last_tick: start,
            problems,
        };
        if backfill > 0.0 {
            engine.step(wall_now);
        }
        engine
    }

    /// The monitor's time at wall time `wall_now`: faster than the wall when `speed` > 1.
    pub fn now(&self, wall_now: f64) -> f64 {
        self.origin + (wall_now - self.wall_start) * self.speed
    }

    /// The wall-clock time of monitor time `now` (the inverse of `now`), for what
    /// leaves the page (webhooks) when simulated time runs faster.
    pub fn wall_time(&self, now: f64) -> f64 {
        self.wall_start + (now - self.origin) / self.speed
    }

    /// Generates traffic up to `wall_now`, closes due ticks, records history and
    /// returns the new snapshot and the tick's alert transitions.
    pub fn step(&mut self, wall_now: f64) -> (Arc<DashboardSnapshot>, Vec<AlertEvent>) {
        let now = self.now(wall_now);
        let tick = self.monitor.config().tick_seconds;
        let mut events = Vec::new();
        // One tick at a time, so that a faster clock still puts each event in its tick.
        let mut boundary = (self.last_tick / tick + 1.0).floor() * tick;
        let mut steps = 0;
        while boundary <= now && steps < 1000 {
            self.advance_simulator(boundary);
            let tick_events = self.monitor.tick(boundary);
            self.history.record(&self.monitor, boundary, &tick_events);
            if let Some(closed) = self.closed.as_mut() {
                // Bounded, should storage never come to take them (a database that
                // does not open): the oldest go first.
                if closed.len() == MAX_KEPT_STEPS {
                    closed.remove(0);
                }
                closed.push(ClosedStep::of(&self.monitor, boundary));
            }
            events.extend(tick_events);
            self.last_tick = boundary;
            boundary += tick;
            steps += 1;
        }
        if steps > 0 {
            // One snapshot per step, however many ticks it closed.
            self.last_snapshot = Arc::new(self.monitor.snapshot(self.last_tick));
        }
        self.advance_simulator(now);
        (Arc::clone(&self.last_snapshot), events)
    }

    fn advance_simulator(&mut self, now: f64) {
        if let Some(simulator) = self.simulator.as_mut()
            && let Err(error) = simulator.advance(&mut self.monitor, now)
        {
            let message = format!("simulator: {error}");
            if !self.problems.contains(&message) && self.problems.len() < 20 {
                self.problems.push(message);
            }
        }
    }

    /// Watches `modules` (the spec's `monitor_modules`): added to the simulation when it
    /// runs, else listed (as the host page's) until data arrives.
    pub fn watch(&mut self, modules: &[&str], wall_now: f64) -> Result<(), String> {
        let now = self.now(wall_now);
        if let Some(simulator) = self.simulator.as_mut() {
            simulator.watch(modules);
            return simulator
                .register(&mut self.monitor, now)
                .map_err(|error| error.to_string());
        }
        for name in modules {
            if self.monitor.module(name).is_none() {
                self.monitor
                    .register(name, crate::monitor::ModuleSource::Host, now)
                    .map_err(|error| error.to_string())?;
            }
        }
        Ok(())
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<DashboardSnapshot> {
        Arc::clone(&self.last_snapshot)
    }

    /// Stops keeping closed ticks (storage gave up).
    pub fn stop_keeping(&mut self) {
        self.closed = None;
    }

    /// Keeps closed ticks from now on (storage takes over writing).
    pub fn start_keeping(&mut self) {
        self.closed.get_or_insert_with(Vec::new);
    }

    /// The ticks closed since the last call (with `keep_closed`), oldest first.
    pub fn take_closed(&mut self) -> Vec<ClosedStep> {
        self.closed.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Resumes from stored ticks (oldest first): a fresh monitor replays them, then
    /// the ticks closed since start and the open tick, and replaces the current one.
    /// Windows, detectors' baselines and alert states come back as they were, and the
    /// replay's alert transitions are not announced again. Returns the ticks replayed.
    pub fn resume(&mut self, stored: &[StoredStep], wall_now: f64) -> usize {
        let Some(newest) = stored.last().map(|step| step.t) else {
            return 0;
        };
        let tick = self.monitor.config().tick_seconds;
        let now = self.now(wall_now);
        // A faster clock may have run ahead of the wall before the reload: continue
        // from where it was.
        if newest + tick > now {
            self.origin += newest + tick - now;
            let now = self.now(wall_now);
            if let Some(simulator) = self.simulator.as_mut() {
                simulator.skip_to(now);
            }
        }
        let live: Vec<ClosedStep> = self
            .take_closed()
            .into_iter()
            .filter(|step| step.t > newest)
            .collect();
        let mut monitor = PerformanceMonitor::new(self.monitor.config().clone());
        let mut history = History::new(HISTORY_TICKS);
        let mut replayed = 0;
        for step in stored {
            for (name, source, closed) in &step.modules {
                // A module past the cap or misnamed was refused live as well.
                let _ = monitor.replay(name, *source, closed, step.t - tick);
            }
            let events = monitor.tick(step.t);
            history.record(&monitor, step.t, &events);
            replayed += 1;
        }
        for step in &live {
            for (index, closed) in &step.modules {
                if let Some(module) = self.monitor.modules().get(*index) {
                    let _ = monitor.replay(module.name(), module.source(), closed, step.t - tick);
                }
            }
            let events = monitor.tick(step.t);
            history.record(&monitor, step.t, &events);
        }
        let open_at = self.last_tick.max(newest);
        // The open tick carried over includes the records still held for batching.
        self.monitor.flush_records();
        for module in self.monitor.modules() {
            let _ = monitor.replay(module.name(), module.source(), &module.open_tick(), open_at);
        }
        self.last_tick = self.last_tick.max(newest);
        if let Some(simulator) = self.simulator.as_mut()
            && let Err(error) = simulator.register(&mut monitor, open_at)
        {
            self.problems.push(format!("simulator: {error}"));
        }
        self.monitor = monitor;
        self.history = history;
        self.last_snapshot = Arc::new(self.monitor.snapshot(self.last_tick));
        if let Some(closed) = self.closed.as_mut() {
            closed.extend(live);
        }
        replayed
    }

    /// The chart history.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The chart history, for sources that fill it from the past.
    pub fn history_mut(&mut self) -> &mut History {
        &mut self.history
    }

    /// The monitor, for records from other sources.
    pub fn monitor_mut(&mut self) -> &mut PerformanceMonitor {
        &mut self.monitor
    }

    /// The monitor.
    pub fn monitor(&self) -> &PerformanceMonitor {
        &self.monitor
    }

    /// Problems met while running (shown in the source status).
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Whether the simulator feeds this engine.
    pub fn simulated(&self) -> bool {
        self.simulator.is_some()
    }

    /// Simulated seconds per wall second.
    pub fn speed(&self) -> f64 {
        self.speed
    }
}

/// The ticks one `tick` closed: each module that had data, by its index in the
/// monitor, in the stored form.
#[derive(Debug, Clone)]
pub struct ClosedStep {
    /// Tick time (monitor time), Unix seconds.
    pub t: f64,
    /// Module index (in `PerformanceMonitor::modules`) and its tick.
    pub modules: Vec<(usize, ClosedTick)>,
}

impl ClosedStep {
    fn of(monitor: &PerformanceMonitor, t: f64) -> ClosedStep {
        let modules = monitor
            .modules()
            .iter()
            .enumerate()
            .filter_map(|(index, module)| Some((index, module.last_closed()?)))
            .filter(|(_, tick)| tick.requests > 0 || tick.latency_count > 0)
            .collect();
        ClosedStep { t, modules }
    }
}

/// A stored tick, read back for resuming: each module by name and source.
#[derive(Debug, Clone)]
pub struct StoredStep {
    /// Tick time (monitor time), Unix seconds.
    pub t: f64,
    /// Module name, source and tick.
    pub modules: Vec<(String, ModuleSource, ClosedTick)>,
}

/// Most simulated events generated at start-up to fill the window (a few ms of work).
const BACKFILL_EVENTS: f64 = 60_000.0;

/// Seconds of simulated history to generate before the first paint: the whole window
/// when the scenario is small, less when its traffic would cost too much.
fn backfill_seconds(
    scenario: &crate::monitor::simulate::Scenario,
    window_seconds: f64,
    tick_seconds: f64,
) -> f64 {
    let rate: f64 = scenario.modules.iter().map(|m| m.rate_rps).sum();
    let seconds = if rate > 0.0 {
        BACKFILL_EVENTS / rate
    } else {
        window_seconds
    };
    (seconds.min(window_seconds) / tick_seconds).floor() * tick_seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_faster_clock_closes_several_ticks_per_step() {
        let config = AppConfig::defaults();
        let mut engine = Engine::new(&config, 1_000.0, 1, 10.0);
        let before = engine.history().points("database").count();
        let (snapshot, _) = engine.step(1_001.0);
        assert_eq!(snapshot.timestamp, 1_010.0);
        assert_eq!(engine.history().points("database").count(), before + 10);
    }

    #[test]
    fn the_page_opens_on_a_filled_window() {
        let config = AppConfig::defaults();
        let engine = Engine::new(&config, 1_000.0, 1, 1.0);
        let snapshot = engine.snapshot();
        assert_eq!(snapshot.timestamp, 1_000.0);
        assert!(snapshot.modules["database"].window.seconds >= 59.0);
        assert!(engine.history().points("database").count() >= 59);
        let mut big = AppConfig::defaults();
        let names: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        big.settings.simulation.scenario = crate::monitor::simulate::Scenario::for_modules(&names);
        let engine = Engine::new(&big, 1_000.0, 1, 1.0);
        assert!(
            engine.history().points("m1").count() <= 2,
            "a big scenario backfills little"
        );
    }

    #[test]
    fn watched_modules_join_the_simulation_or_wait_for_data() {
        let config = AppConfig::defaults();
        let mut engine = Engine::new(&config, 1_000.0, 1, 1.0);
        engine.watch(&["payments", "database"], 1_000.0).unwrap();
        engine.step(1_005.0);
        let payments = &engine.snapshot().modules["payments"];
        assert_eq!(payments.source, crate::monitor::ModuleSource::Simulated);
        assert!(
            payments.total_requests > 0,
            "the simulator feeds a watched module"
        );
        assert_eq!(engine.snapshot().modules.len(), 5);

        let mut quiet = AppConfig::defaults();
        quiet.settings.simulation.enabled = Some(false);
        let mut engine = Engine::new(&quiet, 1_000.0, 1, 1.0);
        engine.watch(&["checkout"], 1_000.0).unwrap();
        engine.step(1_002.0);
        let checkout = &engine.snapshot().modules["checkout"];
        assert_eq!(checkout.source, crate::monitor::ModuleSource::Host);
        assert_eq!(checkout.total_requests, 0);
        assert!(
            engine.watch(&[""], 1_003.0).is_err(),
            "an empty name is refused"
        );
    }

    /// What storage would have kept of `engine`'s closed ticks.
    fn stored(engine: &mut Engine) -> Vec<StoredStep> {
        let steps = engine.take_closed();
        let modules = engine.monitor().modules();
        steps
            .into_iter()
            .map(|step| StoredStep {
                t: step.t,
                modules: step
                    .modules
                    .into_iter()
                    .map(|(index, tick)| {
                        let module = &modules[index];
                        (module.name().to_owned(), module.source(), tick)
                    })
                    .collect(),
            })
            .collect()
    }

    #[test]
    fn a_reload_resumes_windows_and_firing_alerts_without_announcing_them() {
        let config = AppConfig::defaults();
        let mut before = Engine::keeping_closed(&config, 0.0, 3, 10.0);
        let mut firing = Vec::new();
        for second in 1..=5 {
            let (snapshot, _) = before.step(f64::from(second));
            firing = snapshot
                .alerts
                .iter()
                .filter(|a| a.state == crate::monitor::AlertState::Firing)
                .map(|a| (a.module.clone(), a.metric.clone(), a.level, a.timestamp))
                .collect();
        }
        assert!(
            !firing.is_empty(),
            "the incident fires within 50 simulated seconds"
        );
        let stored = stored(&mut before);
        let old = before.snapshot();
        // The reload: a new page at wall time 5.2, whose clock starts behind the
        // stored ticks (they ran ten times faster).
        let mut after = Engine::keeping_closed(&config, 5.2, 4, 10.0);
        assert_eq!(after.resume(&stored, 5.2), stored.len());
        let resumed = after.snapshot();
        for (module, metric, level, started) in &firing {
            let alert = resumed
                .alerts
                .iter()
                .find(|a| &a.module == module && &a.metric == metric && a.level == *level);
            let alert = alert.unwrap_or_else(|| panic!("{module} {metric} resumed"));
            assert_eq!(alert.state, crate::monitor::AlertState::Firing);
            assert_eq!(alert.timestamp, *started, "the same alert, not a new one");
        }
        let db = (&old.modules["database"], &resumed.modules["database"]);
        assert_eq!(db.0.percentiles, db.1.percentiles);
        assert_eq!(db.0.window.requests, db.1.window.requests);
        let (_, events) = after.step(5.5);
        let refired: Vec<_> = events
            .iter()
            .filter(|e| e.transition == crate::monitor::Transition::Firing)
            .filter(|e| {
                firing.iter().any(|(m, metric, _, _)| {
                    *m == e.alert.module && *metric == e.alert.metric.to_string()
                })
            })
            .collect();
        assert!(refired.is_empty(), "announced again: {refired:?}");
        assert!(after.snapshot().timestamp > old.timestamp);
    }

    #[test]
    fn the_incident_fires_within_a_minute_of_simulated_time() {
        let config = AppConfig::defaults();
        let mut engine = Engine::new(&config, 0.0, 3, 10.0);
        let mut critical = false;
        for second in 1..=6 {
            let (snapshot, _) = engine.step(f64::from(second));
            critical |= snapshot
                .alerts
                .iter()
                .any(|a| a.module == "database" && a.level == crate::monitor::AlertLevel::Critical);
        }
        assert!(
            critical,
            "the database spike at 20 s raises a critical alert by 60 s"
        );
    }

    /// Steps every 20 ms at 20x (as the page's interval does), a realistic clock, the
    /// new page's own steps before the resume: the firing alerts are the same ones.
    #[test]
    fn resume_is_exact_at_a_browser_like_pace_for_many_seeds() {
        let config = AppConfig::defaults();
        for seed in 1..30u64 {
            let start = 1_795_803_600.123;
            let mut before = Engine::keeping_closed(&config, start, seed, 20.0);
            let mut wall = start;
            for _ in 0..500 {
                wall += 0.02;
                before.step(wall);
            }
            let stored = stored(&mut before);
            let old = before.snapshot();
            let mut after = Engine::keeping_closed(&config, wall + 0.5, seed + 100, 20.0);
            for k in 0..5 {
                after.step(wall + 0.6 + 0.02 * f64::from(k));
            }
            after.resume(&stored, wall + 0.7);
            let new = after.snapshot();
            let key = |s: &DashboardSnapshot| {
                let mut v: Vec<_> = s
                    .alerts
                    .iter()
                    .filter(|a| a.state == crate::monitor::AlertState::Firing)
                    .map(|a| (a.module.clone(), a.metric.clone(), a.level, a.timestamp))
                    .collect();
                v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
                v
            };
            assert_eq!(key(&old), key(&new), "seed {seed}");
        }
    }
}
