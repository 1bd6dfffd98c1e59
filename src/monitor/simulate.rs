//! Simulated module streams: lognormal latencies, varying rates and scripted incidents
//! (a latency spike, an error burst, a traffic drop), replayable from a seed.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, LogNormal, Poisson};
use serde::{Deserialize, Serialize};

use super::RecordError;
use super::alert::AlertEvent;
use super::engine::PerformanceMonitor;
use super::module::ModuleId;
use super::snapshot::{DashboardSnapshot, ModuleSource};

/// One simulated module's normal behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimModule {
    /// Module name.
    pub name: String,
    /// Mean requests per second.
    pub rate_rps: f64,
    /// Median latency, seconds.
    pub median_latency_seconds: f64,
    /// Lognormal shape: the standard deviation of ln(latency).
    pub sigma: f64,
    /// Fraction of requests that fail, 0..1.
    pub error_rate: f64,
}

/// What goes wrong during an incident.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum IncidentKind {
    /// Latencies multiplied by `factor`.
    LatencySpike {
        /// Latency multiplier.
        factor: f64,
    },
    /// Error rate raised to `error_rate`.
    ErrorBurst {
        /// Error fraction during the burst.
        error_rate: f64,
    },
    /// Traffic multiplied by `factor` (below 1).
    TrafficDrop {
        /// Rate multiplier.
        factor: f64,
    },
}

/// A scripted incident, repeating every `period_seconds` of the scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Module affected.
    pub module: String,
    /// What happens, e.g. `{"kind": "latency_spike", "factor": 30}`.
    pub effect: IncidentKind,
    /// Start, seconds into each period.
    pub start_seconds: f64,
    /// Length, seconds.
    pub duration_seconds: f64,
}

/// A whole simulated system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scenario {
    /// Modules and their normal behaviour.
    pub modules: Vec<SimModule>,
    /// Scripted incidents.
    pub incidents: Vec<Incident>,
    /// The incident script repeats with this period, seconds.
    pub period_seconds: f64,
    /// Seconds of the slow rate wave (±`rate_wave` of the mean).
    pub wave_seconds: f64,
    /// Relative amplitude of the rate wave, 0..1.
    pub rate_wave: f64,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario::for_modules(&["api_gateway", "database", "cache", "search_engine"])
    }
}

/// Normal behaviour of the spec's four modules; other names get a profile from their hash.
fn profile(name: &str) -> SimModule {
    let (rate_rps, median_latency_seconds, sigma, error_rate) = match name {
        "api_gateway" => (200.0, 0.040, 0.45, 0.005),
        "database" => (120.0, 0.025, 0.50, 0.002),
        "cache" => (400.0, 0.002, 0.40, 0.001),
        "search_engine" => (30.0, 0.120, 0.55, 0.010),
        other => {
            let hash = other.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
            let unit = |shift: u32| ((hash >> shift) & 0xffff) as f64 / 65_535.0;
            (
                20.0 + 280.0 * unit(0),
                0.005 * (30.0f64).powf(unit(16)),
                0.35 + 0.3 * unit(32),
                0.001 + 0.009 * unit(48),
            )
        }
    };
    SimModule {
        name: name.to_owned(),
        rate_rps,
        median_latency_seconds,
        sigma,
        error_rate,
    }
}

impl Scenario {
    /// The given modules, with incidents scripted so that a warning and a critical
    /// fire and resolve within two minutes of each incident's start (with the default
    /// 60 s window and rules): a latency spike, an error burst and a traffic drop.
    pub fn for_modules(names: &[&str]) -> Scenario {
        let mut modules: Vec<SimModule> = names.iter().map(|name| profile(name)).collect();
        let mut incidents = Vec::new();
        let pick = |preferred: &str, fallback: usize| -> Option<usize> {
            names
                .iter()
                .position(|n| *n == preferred)
                .or((!names.is_empty()).then(|| fallback % names.len()))
        };
        if let Some(i) = pick("database", 1) {
            incidents.push(Incident {
                module: names[i].to_owned(),
                effect: IncidentKind::LatencySpike { factor: 30.0 },
                start_seconds: 20.0,
                duration_seconds: 25.0,
            });
        }
        if let Some(i) = pick("api_gateway", 0) {
            incidents.push(Incident {
                module: names[i].to_owned(),
                effect: IncidentKind::ErrorBurst { error_rate: 0.4 },
                start_seconds: 60.0,
                duration_seconds: 20.0,
            });
        }
        if let Some(i) = pick("search_engine", names.len().saturating_sub(1)) {
            // The drop must take the window's rate under 10 req/s: keep this module modest.
            modules[i].rate_rps = modules[i].rate_rps.min(30.0);
            incidents.push(Incident {
                module: names[i].to_owned(),
                effect: IncidentKind::TrafficDrop { factor: 0.05 },
                start_seconds: 100.0,
                duration_seconds: 50.0,
            });
        }
        Scenario {
            modules,
            incidents,
            period_seconds: 180.0,
            wave_seconds: 300.0,
            rate_wave: 0.15,
        }
    }

    /// Checks the scenario's numbers; the message says what to change.
    pub fn validate(&self) -> Result<(), String> {
        for m in &self.modules {
            let ok = m.rate_rps.is_finite()
                && (0.0..=100_000.0).contains(&m.rate_rps)
                && m.median_latency_seconds.is_finite()
                && m.median_latency_seconds > 0.0
                && m.sigma.is_finite()
                && (0.0..=3.0).contains(&m.sigma)
                && (0.0..=1.0).contains(&m.error_rate);
            if !ok {
                return Err(format!(
                    "simulated module {:?}: rate_rps must be 0..100000, median_latency_seconds > 0, sigma 0..3, error_rate 0..1",
                    m.name
                ));
            }
        }
        if !(self.period_seconds.is_finite() && self.period_seconds > 0.0) {
            return Err("simulation period_seconds must be > 0".to_owned());
        }
        if !(self.wave_seconds.is_finite()
            && self.wave_seconds > 0.0
            && (0.0..1.0).contains(&self.rate_wave))
        {
            return Err("simulation wave_seconds must be > 0 and rate_wave in 0..1".to_owned());
        }
        Ok(())
    }
}

/// Drives a monitor with the scenario's traffic.
#[derive(Debug, Clone)]
pub struct Simulator {
    scenario: Scenario,
    rng: Xoshiro256PlusPlus,
    start: f64,
    generated_until: f64,
    ids: Vec<Option<ModuleId>>,
}

impl Simulator {
    /// A simulator whose scenario clock starts at `start` (Unix seconds).
    pub fn new(scenario: Scenario, seed: u64, start: f64) -> Simulator {
        let ids = vec![None; scenario.modules.len()];
        Simulator {
            scenario,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            start,
            generated_until: start,
            ids,
        }
    }

    /// The scenario being played.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// Adds modules the scenario does not simulate yet, each with its name's stable
    /// profile (the spec's `monitor_modules` on a running simulation).
    pub fn watch(&mut self, names: &[&str]) {
        for name in names {
            if !self.scenario.modules.iter().any(|m| m.name == *name) {
                self.scenario.modules.push(profile(name));
                self.ids.push(None);
            }
        }
    }

    /// Registers the modules as simulated, so they show before their first request.
    pub fn register(
        &mut self,
        monitor: &mut PerformanceMonitor,
        now: f64,
    ) -> Result<(), RecordError> {
        for (slot, module) in self.ids.iter_mut().zip(&self.scenario.modules) {
            *slot = Some(monitor.register(&module.name, ModuleSource::Simulated, now)?);
        }
        Ok(())
    }

    /// Generates nothing for the time up to `now` (a clock that jumped ahead).
    pub fn skip_to(&mut self, now: f64) {
        self.generated_until = self.generated_until.max(now);
    }

    /// Generates the traffic of `(last call, now]` into the monitor's open tick.
    /// Call it at least once per tick, before `tick`, for events to land in their tick.
    pub fn advance(
        &mut self,
        monitor: &mut PerformanceMonitor,
        now: f64,
    ) -> Result<u64, RecordError> {
        let elapsed = now - self.generated_until;
        if !(elapsed > 0.0 && elapsed.is_finite()) {
            return Ok(0);
        }
        self.generated_until = now;
        let t = now - self.start;
        let phase = (t / self.scenario.period_seconds).fract() * self.scenario.period_seconds;
        let mut recorded = 0;
        for index in 0..self.scenario.modules.len() {
            let id = match self.ids[index] {
                Some(id) => id,
                None => {
                    let name = &self.scenario.modules[index].name;
                    let id = monitor.register(name, ModuleSource::Simulated, now)?;
                    self.ids[index] = Some(id);
                    id
                }
            };
            let module = &self.scenario.modules[index];
            let (mut latency_factor, mut error_rate, mut rate_factor) =
                (1.0, module.error_rate, 1.0);
            for incident in &self.scenario.incidents {
                let active = incident.module == module.name
                    && phase >= incident.start_seconds
                    && phase < incident.start_seconds + incident.duration_seconds;
                if !active {
                    continue;
                }
                match incident.effect {
                    IncidentKind::LatencySpike { factor } => latency_factor *= factor,
                    IncidentKind::ErrorBurst { error_rate: burst } => {
                        error_rate = error_rate.max(burst)
                    }
                    IncidentKind::TrafficDrop { factor } => rate_factor *= factor,
                }
            }
            // Each module's wave is offset so they do not move in lockstep.
            let offset = index as f64 * 0.7;
            let wave = (std::f64::consts::TAU * t / self.scenario.wave_seconds + offset).sin();
            let mean =
                module.rate_rps * rate_factor * (1.0 + self.scenario.rate_wave * wave) * elapsed;
            let count = match Poisson::new(mean.max(1e-9)) {
                Ok(poisson) => poisson.sample(&mut self.rng) as u64,
                Err(_) => 0,
            };
            let median = module.median_latency_seconds * latency_factor;
            let Ok(latency) = LogNormal::new(median.ln(), module.sigma.max(1e-6)) else {
                continue;
            };
            for _ in 0..count {
                let seconds: f64 = latency.sample(&mut self.rng);
                let ok = self.rng.random::<f64>() >= error_rate;
                monitor.record_id(id, seconds, ok, now)?;
            }
            recorded += count;
        }
        Ok(recorded)
    }

    /// Plays the scenario up to `until`, one tick at a time, and returns every alert
    /// transition along the way.
    pub fn run_until(
        &mut self,
        monitor: &mut PerformanceMonitor,
        until: f64,
    ) -> Result<Vec<AlertEvent>, RecordError> {
        let tick = monitor.config().tick_seconds;
        let mut events = Vec::new();
        monitor.tick(self.generated_until);
        let mut now = ((self.generated_until / tick).floor() + 1.0) * tick;
        while now <= until {
            self.advance(monitor, now)?;
            events.extend(monitor.tick(now));
            now += tick;
        }
        Ok(events)
    }
}

/// The spec's `monitor_modules(modules, duration)`: watch simulated modules for
/// `duration_seconds` of scenario time from `start`, and return the dashboard.
pub fn monitor_modules(
    monitor: &mut PerformanceMonitor,
    modules: &[&str],
    duration_seconds: f64,
    start: f64,
    seed: u64,
) -> Result<DashboardSnapshot, RecordError> {
    let mut simulator = Simulator::new(Scenario::for_modules(modules), seed, start);
    simulator.register(monitor, start)?;
    let end = start + duration_seconds.max(0.0);
    simulator.run_until(monitor, end)?;
    Ok(monitor.snapshot(end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_names_get_stable_profiles() {
        let a = profile("payments");
        let b = profile("payments");
        assert_eq!(a, b);
        assert!((20.0..=300.0).contains(&a.rate_rps));
        assert!(
            Scenario::for_modules(&["payments", "ledger"])
                .validate()
                .is_ok()
        );
    }
}
