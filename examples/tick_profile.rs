//! Steady-state ticks of 1,000 modules with a full window, for instruction counts:
//! `valgrind --tool=callgrind --toggle-collect='tick_profile::measured_tick'
//! target/release/examples/tick_profile <events per tick> <ticks>` (README, "Performance").

#[path = "../benches/common/mod.rs"]
mod common;

use common::Steady;
use redline::monitor::PerformanceMonitor;

/// The only function callgrind counts: one `tick`.
#[inline(never)]
fn measured_tick(monitor: &mut PerformanceMonitor, now: f64) -> usize {
    monitor.tick(now).len()
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse::<usize>().ok());
    let events_per_tick = args.next().flatten().unwrap_or(100);
    let ticks = args.next().flatten().unwrap_or(20);
    let mut steady = Steady::new(1_000, events_per_tick, 4);
    steady.run_ticks(61);
    let mut transitions = 0;
    for _ in 0..ticks {
        steady.fill_open_tick();
        let now = steady.next_tick_seconds();
        transitions += measured_tick(&mut steady.monitor, now);
        steady.tick_start_seconds = now;
    }
    println!(
        "{ticks} ticks of 1,000 modules at {events_per_tick} events each: {transitions} alert transitions"
    );
}
