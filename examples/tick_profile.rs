//! Steady-state ticks of 1,000 modules with a full window, for instruction counts:
//! `valgrind --tool=callgrind --toggle-collect='tick_profile::measured_tick'
//! target/release/examples/tick_profile <events per tick> <ticks> [<warm-up ticks>]`
//! (README, "Performance"). `--toggle-collect='tick_profile::measured_snapshot'`
//! counts the snapshot taken after each tick instead. Warm-up defaults to 61 ticks
//! (one full window); the benches run for a thousand ticks and more, by which time
//! the detectors have learnt their levels and trends have their full history.

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{Steady, median};
use redline::monitor::PerformanceMonitor;

/// The only function callgrind counts: one `tick`.
#[inline(never)]
fn measured_tick(monitor: &mut PerformanceMonitor, now: f64) -> usize {
    monitor.tick(now).len()
}

/// The snapshot after each tick, counted on its own.
#[inline(never)]
fn measured_snapshot(monitor: &PerformanceMonitor, now: f64) -> usize {
    monitor.snapshot(now).modules.len()
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|arg| arg.parse::<usize>().ok());
    let events_per_tick = args.next().flatten().unwrap_or(100);
    let ticks = args.next().flatten().unwrap_or(20);
    let warm_up_ticks = args.next().flatten().unwrap_or(61);
    let mut steady = Steady::new(1_000, events_per_tick, 4);
    steady.run_ticks(warm_up_ticks);
    let mut transitions = 0;
    let (mut tick_times, mut snapshot_times) = (Vec::new(), Vec::new());
    for _ in 0..ticks {
        steady.fill_open_tick();
        let now = steady.next_tick_seconds();
        let started = Instant::now();
        transitions += measured_tick(&mut steady.monitor, now);
        let ticked = Instant::now();
        std::hint::black_box(measured_snapshot(&steady.monitor, now));
        tick_times.push((ticked - started).as_secs_f64() * 1e6);
        snapshot_times.push(ticked.elapsed().as_secs_f64() * 1e6);
        steady.tick_start_seconds = now;
    }
    println!(
        "{ticks} ticks of 1,000 modules at {events_per_tick} events each: {transitions} alert transitions"
    );
    // Wall time per call, for comparing thread counts (RAYON_NUM_THREADS=1 judges
    // on the calling thread); meaningless under valgrind.
    println!(
        "tick: median {:.0} µs, mean {:.0} µs; snapshot: median {:.0} µs",
        median(tick_times.clone()),
        tick_times.iter().sum::<f64>() / tick_times.len().max(1) as f64,
        median(snapshot_times),
    );
}
