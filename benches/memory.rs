//! Memory per active module, measured by a counting global allocator, next to
//! `PerformanceMonitor::heap_bytes()`; then the bytes and per-tick time of three
//! sliding-window sketch designs (ARCHITECTURE.md, "The latency sketch").
//!
//! `cargo bench --bench memory`. Counted bytes are the sizes requested from the
//! allocator; the allocator's own overhead per block (about 8 to 16 bytes with glibc)
//! is not included, so the live block count is printed too.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Instant;

use common::designs::{self, DESIGNS};
use common::{Steady, Workload};

/// Counts live bytes and live blocks; otherwise the system allocator.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, passed on as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with `layout`, per the caller's contract.
        unsafe { System.dealloc(ptr, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        let new_ptr = unsafe { System.realloc(ptr, layout, new_size) };
        if !new_ptr.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        new_ptr
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live bytes and blocks now.
fn live() -> (isize, isize) {
    (
        LIVE_BYTES.load(Ordering::Relaxed),
        LIVE_BLOCKS.load(Ordering::Relaxed),
    )
}

const MODULES: usize = 1_000;
const WINDOW_TICKS: usize = 60;
/// Ticks after which the default detector (`hybrid`) has fixed its novelty levels.
const LEARNT_TICKS: usize = 305;
const DESIGN_WINDOWS: usize = 200;
const DESIGN_EVENTS_PER_TICK: usize = 100;
const DESIGN_TIMED_TICKS: usize = 30;

fn kib(bytes: f64) -> f64 {
    bytes / 1024.0
}

/// Bytes per module of a whole monitor with a full window, at each rate.
fn monitor_memory() {
    println!("PerformanceMonitor, default window (60 s, 1 s ticks), {MODULES} modules,");
    println!("lognormal latencies (median 50 ms, sigma 0.5), 1 % errors, after 65 closed ticks");
    println!("(and at 1,000 events/s after 305, once the default detector has learnt its levels)");
    println!();
    println!(
        "| events/s per module, ticks | counted live bytes / module | heap_bytes() / module | live blocks / module | target |"
    );
    println!("|---:|---:|---:|---:|---|");
    for (rate, ticks) in [
        (10, WINDOW_TICKS + 5),
        (100, WINDOW_TICKS + 5),
        (1_000, WINDOW_TICKS + 5),
        (1_000, LEARNT_TICKS),
    ] {
        let (bytes_before, blocks_before) = live();
        let mut steady = Steady::new(MODULES, rate, 10 + rate as u64);
        steady.run_ticks(ticks);
        let (bytes_after, blocks_after) = live();
        // The `Steady` driver's own RNG and id list are a few KiB in all; subtract them.
        let driver = steady.ids.capacity() * std::mem::size_of_val(&steady.ids[0]);
        let counted = (bytes_after - bytes_before) as f64 - driver as f64;
        let per_module = counted / MODULES as f64;
        let heap = steady.monitor.heap_bytes() as f64 / MODULES as f64;
        let blocks = (blocks_after - blocks_before) as f64 / MODULES as f64;
        let met = if per_module <= 16.0 * 1024.0 {
            "met"
        } else {
            "MISSED"
        };
        println!(
            "| {rate}, {ticks} ticks | {per_module:.0} B ({:.2} KiB) | {heap:.0} B ({:.2} KiB) | {blocks:.1} | <= 16 KiB: {met} |",
            kib(per_module),
            kib(heap),
        );
        drop(black_box(steady));
    }
    println!();
}

/// Bytes per module window and per-tick time of each design, at 100 events per tick.
fn design_comparison() {
    println!(
        "Sliding-window designs: one module's 60-tick latency window at {DESIGN_EVENTS_PER_TICK} events/s,"
    );
    println!(
        "{DESIGN_WINDOWS} windows; time = close a tick, expire the oldest, report p50/p95/p99/p999"
    );
    println!(
        "(median over {DESIGN_TIMED_TICKS} ticks; `cargo bench --bench monitor` has criterion's figures)"
    );
    println!();
    println!("| design | bytes / window | µs / window / tick |");
    println!("|---|---:|---:|");
    for name in DESIGNS {
        let mut workload = Workload::new(20);
        let (before, _) = live();
        let mut windows: Vec<_> = (0..DESIGN_WINDOWS)
            .map(|_| designs::build(name, WINDOW_TICKS))
            .collect();
        for _ in 0..=WINDOW_TICKS {
            for window in &mut windows {
                for _ in 0..DESIGN_EVENTS_PER_TICK {
                    window.add(workload.latency_seconds());
                }
                black_box(window.close_tick_and_quantiles());
            }
        }
        let (after, _) = live();
        let per_window = (after - before) as f64 / DESIGN_WINDOWS as f64;
        let mut per_tick_micros = Vec::with_capacity(DESIGN_TIMED_TICKS);
        for _ in 0..DESIGN_TIMED_TICKS {
            for window in &mut windows {
                for _ in 0..DESIGN_EVENTS_PER_TICK {
                    window.add(workload.latency_seconds());
                }
            }
            let start = Instant::now();
            for window in &mut windows {
                black_box(window.close_tick_and_quantiles());
            }
            per_tick_micros.push(start.elapsed().as_secs_f64() * 1e6 / DESIGN_WINDOWS as f64);
        }
        per_tick_micros.sort_by(f64::total_cmp);
        let median = per_tick_micros[per_tick_micros.len() / 2];
        println!(
            "| {} | {per_window:.0} B ({:.1} KiB) | {median:.2} |",
            windows[0].label(),
            kib(per_window)
        );
    }
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported here.
    monitor_memory();
    design_comparison();
}
