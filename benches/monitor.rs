//! Criterion benches of the monitor's hot paths, with their baselines in the same run:
//! record (hot module, and spread over 10,000 modules) against `DDSketch::add` and
//! HdrHistogram's `record`; tick plus snapshot for 1,000 active modules; and the
//! per-tick cost of three sliding-window sketch designs.
//!
//! `cargo bench --bench monitor -- --noplot`; the figures go in the README.

mod common;

use std::hash::BuildHasher;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main, measurement::WallTime,
};
use foldhash::fast::FixedState;
use hdrhistogram::Histogram;
use redline::monitor::PerformanceMonitor;
use sketches_ddsketch::{Config as DdConfig, DDSketch};

use common::designs::{self, DESIGNS};
use common::{START_SECONDS, Steady, Workload, module_names};

/// Events per iteration of the record benches.
const BATCH: usize = 4096;
/// Events in the 10,000-module sequence (random module order).
const SPREAD_EVENTS: usize = 1 << 16;
const SPREAD_MODULES: usize = 10_000;
/// Active modules in the tick and snapshot benches, and their events per tick.
const ACTIVE_MODULES: usize = 1_000;
const EVENTS_PER_TICK: usize = 100;
const WINDOW_TICKS: usize = 60;
/// Module windows advanced per iteration of the design comparison.
const DESIGN_WINDOWS: usize = 100;

fn record(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .throughput(Throughput::Elements(BATCH as u64));
    let events = Workload::new(1).events(BATCH);
    let now = START_SECONDS + 0.5;

    // Baselines: the crates' own per-value cost on the same latencies.
    group.bench_function("baseline_ddsketch_add", |b| {
        let mut sketch = DDSketch::new(DdConfig::new(0.01, 2048, 1.0e-9));
        b.iter(|| {
            for &(latency, _) in &events {
                sketch.add(black_box(latency));
            }
        });
    });
    group.bench_function("baseline_hdrhistogram_record", |b| {
        let mut histogram = match Histogram::<u32>::new_with_bounds(1, 3_600_000_000, 2) {
            Ok(histogram) => histogram,
            Err(error) => panic!("constant bounds: {error:?}"),
        };
        b.iter(|| {
            for &(latency, _) in &events {
                histogram.saturating_record((black_box(latency) * 1e6) as u64);
            }
        });
    });

    let mut monitor = PerformanceMonitor::default();
    let hot_name = "api_gateway";
    let hot_id = match monitor.module_id(hot_name, now) {
        Ok(id) => id,
        Err(error) => panic!("{error}"),
    };
    group.bench_function("hot_module_record_id", |b| {
        b.iter(|| {
            for &(latency, ok) in &events {
                let _ = black_box(monitor.record_id(hot_id, black_box(latency), ok, now));
            }
        });
    });
    group.bench_function("hot_module_record_by_name", |b| {
        b.iter(|| {
            for &(latency, ok) in &events {
                let _ = black_box(monitor.record(black_box(hot_name), black_box(latency), ok, now));
            }
        });
    });

    group
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(SPREAD_EVENTS as u64));
    let mut spread = Steady::new(SPREAD_MODULES, 10, 2);
    // Every module has seen a tick, so its arrays exist, as in a running monitor.
    spread.run_ticks(1);
    let names = module_names(SPREAD_MODULES);
    let mut workload = Workload::new(3);
    let sequence: Vec<(usize, f64, bool)> = (0..SPREAD_EVENTS)
        .map(|_| {
            (
                workload.index(SPREAD_MODULES),
                workload.latency_seconds(),
                workload.ok(),
            )
        })
        .collect();
    let spread_now = spread.tick_start_seconds + 0.5;
    group.bench_function("10k_modules_record_by_name", |b| {
        b.iter(|| {
            for &(module, latency, ok) in &sequence {
                let result =
                    spread
                        .monitor
                        .record(black_box(&names[module]), latency, ok, spread_now);
                let _ = black_box(result);
            }
        });
    });
    // The benchmark's own part, in the same run: hashing the name as the index does,
    // then `record_id`. The hash does not feed the record here, so their cache misses
    // overlap: this is what the name costs to reach, not a floor for recording by name.
    let hasher = FixedState::with_seed(0x0072_6564_6c69_6e65);
    group.bench_function("10k_modules_hash_then_record_id", |b| {
        b.iter(|| {
            for &(module, latency, ok) in &sequence {
                let hash = hasher.hash_one(black_box(names[module].as_str()));
                let id = spread.ids[module];
                let result = spread.monitor.record_id(id, latency, ok, spread_now);
                let _ = black_box((hash, result));
            }
        });
    });
    group.bench_function("10k_modules_record_id", |b| {
        b.iter(|| {
            for &(module, latency, ok) in &sequence {
                let result = spread
                    .monitor
                    .record_id(spread.ids[module], latency, ok, spread_now);
                let _ = black_box(result);
            }
        });
    });
    group.finish();
}

/// 1,000 modules with a full 60-tick window, each given `events_per_tick` events per tick.
fn active_monitor(events_per_tick: usize) -> Steady {
    let mut steady = Steady::new(ACTIVE_MODULES, events_per_tick, 4);
    steady.run_ticks(WINDOW_TICKS + 1);
    steady
}

/// Times `measured` once per iteration, after recording the next tick's events untimed.
fn per_tick(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    steady: &mut Steady,
    mut measured: impl FnMut(&mut PerformanceMonitor, f64),
) {
    group.bench_function(id, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                steady.fill_open_tick();
                let now = steady.next_tick_seconds();
                let start = Instant::now();
                measured(&mut steady.monitor, now);
                total += start.elapsed();
                steady.tick_start_seconds = now;
            }
            total
        });
    });
}

fn tick_and_snapshot(c: &mut Criterion) {
    tick_and_snapshot_at(c, "tick_1000_active_modules", EVENTS_PER_TICK);
    tick_and_snapshot_at(c, "tick_1000_modules_10ev", 10);
}

fn tick_and_snapshot_at(c: &mut Criterion, name: &str, events_per_tick: usize) {
    let mut group = c.benchmark_group(name);
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .throughput(Throughput::Elements(ACTIVE_MODULES as u64));
    let mut steady = active_monitor(events_per_tick);
    {
        let now = steady.tick_start_seconds;
        let snapshot = steady.monitor.snapshot(now);
        let json = steady.monitor.dashboard_json(now);
        eprintln!(
            "setup: {} modules, {} alerts listed ({} firing, {} pending), dashboard JSON {} bytes",
            snapshot.modules.len(),
            snapshot.alerts.len(),
            snapshot.summary.active_alerts,
            snapshot.summary.pending_alerts,
            json.len()
        );
    }
    // Outputs are dropped inside the timed region: replacing the last snapshot is real work.
    per_tick(
        &mut group,
        "tick_plus_snapshot",
        &mut steady,
        |monitor, now| {
            let events = monitor.tick(now);
            let snapshot = monitor.snapshot(now);
            drop(black_box((events, snapshot)));
        },
    );
    per_tick(&mut group, "tick", &mut steady, |monitor, now| {
        drop(black_box(monitor.tick(now)));
    });
    let now = steady.tick_start_seconds;
    group.bench_function("snapshot", |b| {
        b.iter(|| steady.monitor.snapshot(black_box(now)))
    });
    group.bench_function("dashboard_json", |b| {
        b.iter(|| steady.monitor.dashboard_json(black_box(now)))
    });
    let snapshot = steady.monitor.snapshot(now);
    group.bench_function("serialise_snapshot_only", |b| {
        b.iter(|| serde_json::to_string(black_box(&snapshot)).map(|json| json.len()))
    });
    group.finish();
}

fn window_designs(c: &mut Criterion) {
    let mut group = c.benchmark_group("window_design_100ev_per_tick");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10)
        .throughput(Throughput::Elements(DESIGN_WINDOWS as u64));
    for name in DESIGNS {
        let mut workload = Workload::new(5);
        let mut windows: Vec<_> = (0..DESIGN_WINDOWS)
            .map(|_| designs::build(name, WINDOW_TICKS))
            .collect();
        for _ in 0..=WINDOW_TICKS {
            for window in &mut windows {
                for _ in 0..EVENTS_PER_TICK {
                    window.add(workload.latency_seconds());
                }
                black_box(window.close_tick_and_quantiles());
            }
        }
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    for window in &mut windows {
                        for _ in 0..EVENTS_PER_TICK {
                            window.add(workload.latency_seconds());
                        }
                    }
                    let start = Instant::now();
                    for window in &mut windows {
                        black_box(window.close_tick_and_quantiles());
                    }
                    total += start.elapsed();
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, record, tick_and_snapshot, window_designs);
criterion_main!(benches);
