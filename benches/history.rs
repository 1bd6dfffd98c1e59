//! Stored history, natively: bytes per module per day at full resolution and in
//! rollups, the time to prepare one tick's record for 500 modules, and the time to
//! re-aggregate a day of one module's rollups into 1,440 points.
//!
//! `cargo bench --bench history`. The browser's side of the same paths (the write's
//! main-thread time and a day's range charted) is measured by the history blocks of
//! `scripts/measure-browser.mjs` (`make measure`).

mod common;

use std::hint::black_box;
use std::time::Instant;

use common::{Steady, median};
use redline::monitor::window::ClosedTick;
use redline::state::store::{self, Merged, Retention, Rollups};

/// Ticks sampled per workload (a day is extrapolated from them).
const SAMPLE_TICKS: usize = 600;
const DAY_SECONDS: f64 = 86_400.0;

/// Each module's closed tick, by store id.
fn closed(steady: &Steady) -> Vec<(u32, ClosedTick)> {
    steady
        .monitor
        .modules()
        .iter()
        .enumerate()
        .filter_map(|(id, module)| Some((id as u32, module.last_closed()?)))
        .collect()
}

fn storage_per_day() {
    println!("Bytes stored per module per day (1 s ticks; lognormal latencies, median 50 ms,");
    println!("sigma 0.5, 1 % errors; {SAMPLE_TICKS} ticks of 10 modules, extrapolated to a day)");
    println!();
    println!(
        "| events/s per module | full resolution / day | 1-minute rollups / day | bytes per module-tick (bins: as the window keeps them → stored) | target |"
    );
    println!("|---:|---:|---:|---:|---|");
    let retention = Retention {
        recent_seconds: DAY_SECONDS,
        rollup_seconds: 60.0,
        rollup_keep_seconds: 7.0 * DAY_SECONDS,
        budget_bytes: f64::INFINITY,
    };
    for rate in [10, 100, 1_000] {
        let modules = 10;
        let mut steady = Steady::new(modules, rate, 7 + rate as u64);
        steady.run_ticks(5);
        let (mut tick_bytes, mut rollup_bytes) = (0usize, 0usize);
        let (mut window_bins, mut stored_bins) = (0usize, 0usize);
        let mut rollups = Rollups::default();
        for _ in 0..SAMPLE_TICKS {
            steady.fill_open_tick();
            let t = steady.close_tick();
            let ticks = closed(&steady);
            // IndexedDB keeps the key (8 bytes) beside each value.
            let record = store::encode_tick(&ticks);
            tick_bytes += record.len() + 8;
            window_bins += ticks.iter().map(|(_, tick)| tick.bins.len()).sum::<usize>();
            let stored = store::decode_tick(&record).expect("a record just written decodes");
            stored_bins += stored
                .iter()
                .map(|(_, tick)| tick.bins.len())
                .sum::<usize>();
            if let Some((_, done)) = rollups.add(&retention, t, 1.0, &ticks) {
                rollup_bytes += done
                    .iter()
                    .map(|(_, r)| store::encode_rollup(r).len() + 16)
                    .sum::<usize>();
            }
        }
        let per_day = |bytes: usize, span: f64| {
            bytes as f64 / modules as f64 * DAY_SECONDS / span / (1024.0 * 1024.0)
        };
        let full = per_day(tick_bytes, SAMPLE_TICKS as f64);
        // Rollups finished: the spans fully inside the sample.
        let spans = (SAMPLE_TICKS / 60 - 1) as f64 * 60.0;
        let rolled = per_day(rollup_bytes, spans);
        let met = if full <= 8.0 { "met" } else { "MISSED" };
        let per_tick = |bytes: usize| bytes as f64 / (modules * SAMPLE_TICKS) as f64;
        println!(
            "| {rate} | {full:.2} MiB | {:.0} KiB | {:.1} ({:.1} → {:.1}) | <= 8 MiB: {met} |",
            rolled * 1024.0,
            per_tick(tick_bytes),
            per_tick(window_bins),
            per_tick(stored_bins),
        );
    }
    println!();
}

fn write_and_range_cost() {
    let modules = 500;
    let mut steady = Steady::new(modules, 100, 11);
    steady.run_ticks(65);
    let retention = Retention {
        recent_seconds: DAY_SECONDS,
        rollup_seconds: 60.0,
        rollup_keep_seconds: 7.0 * DAY_SECONDS,
        budget_bytes: f64::INFINITY,
    };
    let mut rollups = Rollups::default();
    let (mut costs, mut with_rollups) = (Vec::new(), Vec::new());
    for _ in 0..120 {
        steady.fill_open_tick();
        let t = steady.close_tick();
        let started = Instant::now();
        let ticks = closed(&steady);
        costs.push(started.elapsed().as_secs_f64() * 1e3);
        let (record, finished) = rollups.add_and_encode(&retention, t, 1.0, &ticks);
        let records: Vec<Vec<u8>> = finished
            .iter()
            .flat_map(|(_, done)| done.iter().map(|(_, r)| store::encode_rollup(r)))
            .collect();
        with_rollups.push(started.elapsed().as_secs_f64() * 1e3);
        black_box((record, records));
    }
    println!(
        "One tick for {modules} modules at 100 events/s: taking each module's closed tick, median {:.3} ms over 120 ticks; with the record encoded and the minute rollups merged (the keeper's work): median {:.3} ms, slowest (a minute's rollups finished) {:.3} ms",
        median(costs),
        median(with_rollups.clone()),
        with_rollups.iter().copied().fold(0.0, f64::max)
    );
    // A day of one module's minute rollups: merge each minute's 60 ticks once, then
    // re-aggregate the 1,440 records into 1,440 points as the range picker does.
    let mut one = Steady::new(1, 100, 12);
    let mut minute = Merged::default();
    for _ in 0..60 {
        one.fill_open_tick();
        one.close_tick();
        minute.add(&closed(&one)[0].1);
    }
    let record = store::encode_rollup(&minute.to_closed());
    let day: Vec<Vec<u8>> = (0..1440).map(|_| record.clone()).collect();
    let layout = one.monitor.layout().clone();
    let mut costs = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let spans: Vec<(f64, ClosedTick)> = day
            .iter()
            .enumerate()
            .filter_map(|(k, r)| Some((60.0 * (k + 1) as f64, store::decode_rollup(r).ok()?)))
            .collect();
        let points = store::series(&layout, spans.iter().map(|(t, c)| (*t, c)), 0.0, 60.0, 60.0);
        black_box(points);
        costs.push(started.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "A day of one module's 1-minute rollups ({} bytes each) decoded and re-aggregated into 1,440 points: median {:.3} ms over 20 runs",
        record.len(),
        median(costs)
    );
}

fn main() {
    storage_per_day();
    write_and_range_cost();
}
