//! Workloads shared by the benches: seeded lognormal latencies, a monitor driven to a
//! steady state, and the three sliding-window sketch designs compared in ARCHITECTURE.md.

#![allow(dead_code)] // each bench binary uses a different part

pub mod designs;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use redline::monitor::{ModuleId, PerformanceMonitor};

/// The middle of `values` (the upper middle for an even count); 0 when empty.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Median latency of the synthetic workload, seconds.
pub const MEDIAN_LATENCY_SECONDS: f64 = 0.050;
/// Lognormal shape (sigma of the log) of the synthetic workload.
pub const LATENCY_SIGMA: f64 = 0.5;
/// Share of requests that fail.
pub const ERROR_SHARE: f64 = 0.01;
/// A fixed Unix time to start from, on a tick boundary.
pub const START_SECONDS: f64 = 1_700_000_000.0;

/// Seeded lognormal latencies (median 50 ms, sigma 0.5) and error flags.
pub struct Workload {
    rng: SmallRng,
    latency: LogNormal<f64>,
}

impl Workload {
    /// A workload that replays exactly for a given seed.
    pub fn new(seed: u64) -> Self {
        let latency = match LogNormal::new(MEDIAN_LATENCY_SECONDS.ln(), LATENCY_SIGMA) {
            Ok(latency) => latency,
            Err(error) => panic!("lognormal parameters are constants: {error}"),
        };
        Workload {
            rng: SmallRng::seed_from_u64(seed),
            latency,
        }
    }

    /// The next latency, seconds.
    pub fn latency_seconds(&mut self) -> f64 {
        self.latency.sample(&mut self.rng)
    }

    /// The next request's outcome: true for success.
    pub fn ok(&mut self) -> bool {
        self.rng.random::<f64>() >= ERROR_SHARE
    }

    /// A uniform index below `bound`.
    pub fn index(&mut self, bound: usize) -> usize {
        self.rng.random_range(0..bound)
    }

    /// `count` latencies with their outcomes.
    pub fn events(&mut self, count: usize) -> Vec<(f64, bool)> {
        (0..count)
            .map(|_| (self.latency_seconds(), self.ok()))
            .collect()
    }
}

/// Module names as a real system might have them.
pub fn module_names(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("service-{i:05}")).collect()
}

/// A monitor whose modules all receive `events_per_tick` requests every tick.
pub struct Steady {
    /// The monitor under test.
    pub monitor: PerformanceMonitor,
    /// Every module's id, in registration order.
    pub ids: Vec<ModuleId>,
    /// Start of the open tick, Unix seconds.
    pub tick_start_seconds: f64,
    /// Requests per module per tick.
    pub events_per_tick: usize,
    workload: Workload,
}

impl Steady {
    /// Registers `modules` modules; no history yet.
    pub fn new(modules: usize, events_per_tick: usize, seed: u64) -> Self {
        let mut monitor = PerformanceMonitor::default();
        let now = START_SECONDS + 0.5;
        let ids = module_names(modules)
            .iter()
            .map(|name| match monitor.module_id(name, now) {
                Ok(id) => id,
                Err(error) => panic!("registering {name}: {error}"),
            })
            .collect();
        Steady {
            monitor,
            ids,
            tick_start_seconds: START_SECONDS,
            events_per_tick,
            workload: Workload::new(seed),
        }
    }

    /// Records one tick's events for every module, interleaved, into the open tick.
    pub fn fill_open_tick(&mut self) {
        let now = self.tick_start_seconds + 0.5;
        for _ in 0..self.events_per_tick {
            for &id in &self.ids {
                let latency = self.workload.latency_seconds();
                let ok = self.workload.ok();
                if let Err(error) = self.monitor.record_id(id, latency, ok, now) {
                    panic!("record_id: {error}");
                }
            }
        }
    }

    /// The time at which the open tick closes.
    pub fn next_tick_seconds(&self) -> f64 {
        self.tick_start_seconds + 1.0
    }

    /// Closes the open tick; returns the time it was closed at.
    pub fn close_tick(&mut self) -> f64 {
        let now = self.next_tick_seconds();
        self.monitor.tick(now);
        self.tick_start_seconds = now;
        now
    }

    /// Fills and closes `ticks` ticks.
    pub fn run_ticks(&mut self, ticks: usize) {
        for _ in 0..ticks {
            self.fill_open_tick();
            self.close_tick();
        }
    }
}
