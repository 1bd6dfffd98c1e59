//! Window behaviour through the public API: edges, idle modules, late callers and
//! exact rates.

use proptest::prelude::*;
use redline::monitor::{ModuleStatus, MonitorSettings, PerformanceMonitor};

mod common;
use common::{T0, monitor, monitor_with, stats};

/// Ticks once per tick from `from` (exclusive) to `to` (inclusive), in whole ticks.
fn tick_through(monitor: &mut PerformanceMonitor, from: u32, to: u32) {
    for k in from + 1..=to {
        monitor.tick(T0 + f64::from(k));
    }
}

#[test]
fn a_sample_stays_59_ticks_and_leaves_at_60() {
    let mut monitor = monitor();
    monitor.record("db", 0.2, true, T0 + 0.5).expect("valid"); // tick 0
    monitor.tick(T0 + 1.0);
    monitor.record("db", 0.4, false, T0 + 1.5).expect("valid"); // tick 1
    tick_through(&mut monitor, 1, 60); // last closed tick: 59, so tick 0 is 59 ticks old
    let s = stats(&monitor, "db");
    assert_eq!(
        (s.window_requests, s.latency_samples, s.window_errors),
        (2, 2, 1)
    );
    assert_eq!(s.latency_max, 0.4);

    monitor.tick(T0 + 61.0); // last closed tick: 60; tick 0 is 60 ticks old and leaves
    let s = stats(&monitor, "db");
    assert_eq!(
        (s.window_requests, s.latency_samples, s.window_errors),
        (1, 1, 1)
    );
    assert_eq!(s.latency_max, 0.4, "the max expires with its tick");
    assert!((s.latency_mean - 0.4).abs() < 1e-12);
    assert_eq!(s.error_rate, 1.0);

    monitor.tick(T0 + 62.0);
    let s = stats(&monitor, "db");
    assert_eq!((s.window_requests, s.latency_samples), (0, 0));
    assert_eq!(s.total_requests, 2, "totals outlive the window");
}

#[test]
fn window_edges_follow_a_configured_window_and_tick() {
    // 10 s of 0.5 s ticks: 20 ticks.
    let mut monitor = monitor_with(MonitorSettings {
        window_seconds: 10.0,
        tick_seconds: 0.5,
        ..MonitorSettings::default()
    });
    monitor.record("db", 0.1, true, T0 + 0.1).expect("valid"); // tick [T0, T0 + 0.5)
    for k in 1..=20 {
        monitor.tick(T0 + 0.5 * f64::from(k));
    }
    assert_eq!(
        stats(&monitor, "db").window_requests,
        1,
        "19 ticks old: stays"
    );
    assert_eq!(
        stats(&monitor, "db").requests_per_second,
        0.1,
        "1 request over 10 s"
    );
    monitor.tick(T0 + 10.5);
    assert_eq!(
        stats(&monitor, "db").window_requests,
        0,
        "20 ticks old: leaves"
    );
}

#[test]
fn an_idle_module_drops_to_no_data_and_frees_memory() {
    let mut monitor = monitor();
    for k in 0..10u32 {
        for i in 0..200u32 {
            let latency = 0.001 * f64::from(1 + (i * 37 + k) % 400);
            monitor
                .record("search", latency, i % 10 != 0, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    let busy_bytes = monitor.heap_bytes();
    let s = stats(&monitor, "search");
    assert_eq!(s.window_requests, 2000);
    assert_eq!(
        monitor.snapshot(T0 + 10.0).modules["search"].status,
        ModuleStatus::Ok
    );

    tick_through(&mut monitor, 10, 70); // the last busy tick (9) is now 60 ticks old
    let s = stats(&monitor, "search");
    assert_eq!(
        (s.window_requests, s.window_errors, s.latency_samples),
        (0, 0, 0)
    );
    assert_eq!((s.requests_per_second, s.error_rate), (0.0, 0.0));
    assert_eq!((s.latency_mean, s.latency_max), (0.0, 0.0));
    for p in [
        s.percentiles.p50,
        s.percentiles.p95,
        s.percentiles.p99,
        s.percentiles.p999,
    ] {
        assert_eq!((p.value, p.samples, p.low_confidence), (0.0, 0, true));
    }
    assert_eq!((s.total_requests, s.total_errors), (2000, 200));
    let snapshot = monitor.snapshot(T0 + 70.0);
    assert_eq!(snapshot.modules["search"].status, ModuleStatus::NoData);
    let idle_bytes = monitor.heap_bytes();
    assert!(
        idle_bytes < busy_bytes,
        "idle module holds {idle_bytes} bytes, no less than the {busy_bytes} it held while busy"
    );
}

#[test]
fn a_late_caller_closes_skipped_ticks_empty() {
    let mut monitor = monitor();
    for i in 0..100 {
        monitor
            .record("api", 0.05, i % 10 != 0, T0 + 0.5)
            .expect("valid");
    }
    monitor.tick(T0 + 5.0); // closes tick 0 and four empty ticks
    let s = stats(&monitor, "api");
    assert_eq!(s.covered_seconds, 5.0);
    assert_eq!(
        s.requests_per_second, 20.0,
        "100 requests over the 5 s covered"
    );
    assert_eq!(s.error_rate, 0.1);

    for _ in 0..50 {
        monitor.record("api", 0.05, true, T0 + 5.5).expect("valid");
    }
    monitor.tick(T0 + 6.0);
    assert_eq!(
        stats(&monitor, "api").requests_per_second,
        25.0,
        "150 requests over 6 s"
    );

    // Jump to the tick that closes tick 59: tick 0 is then 59 ticks old and stays;
    // one tick later it is 60 ticks old and leaves.
    monitor.tick(T0 + 60.0);
    assert_eq!(stats(&monitor, "api").window_requests, 150);
    monitor.tick(T0 + 61.0);
    assert_eq!(stats(&monitor, "api").window_requests, 50);
}

#[test]
fn a_caller_later_than_the_whole_window_starts_afresh() {
    let mut monitor = monitor();
    for _ in 0..100 {
        monitor.record("api", 0.05, false, T0 + 0.5).expect("valid");
    }
    monitor.tick(T0 + 1.0);
    let events = monitor.tick(T0 + 1000.0); // 999 ticks late
    assert!(events.is_empty());
    let s = stats(&monitor, "api");
    assert_eq!(
        (s.window_requests, s.latency_samples, s.requests_per_second),
        (0, 0, 0.0)
    );
    assert_eq!(s.percentiles.p99.samples, 0);
    assert_eq!(s.covered_seconds, 60.0);

    for _ in 0..30 {
        monitor
            .record("api", 0.07, true, T0 + 1000.5)
            .expect("valid");
    }
    monitor.tick(T0 + 1001.0);
    let s = stats(&monitor, "api");
    assert_eq!(s.window_requests, 30);
    assert_eq!(
        s.requests_per_second, 0.5,
        "30 requests over the full 60 s window"
    );
    assert_eq!(s.error_rate, 0.0);
    assert!((s.percentiles.p50.value - 0.07).abs() <= 0.0007);
    assert_eq!(s.total_requests, 130);
}

proptest! {
    /// Skipping ticks with no records is the same as ticking through them.
    #[test]
    fn skipping_idle_ticks_matches_ticking_through_them(
        plan in prop::collection::vec((0u32..20, any::<bool>()), 1..150),
    ) {
        // plan[k] = (requests in tick k, whether the late caller ticks at tick k)
        let mut steady = monitor();
        let mut late = monitor();
        for (k, (requests, late_ticks_here)) in plan.iter().enumerate() {
            let start = T0 + k as f64;
            // The late caller must open tick k before recording into it.
            if *requests > 0 || *late_ticks_here {
                late.tick(start);
            }
            steady.tick(start);
            for i in 0..*requests {
                let latency = 0.01 * f64::from(1 + (i * 7 + k as u32) % 50);
                let ok = !(i + k as u32).is_multiple_of(3);
                steady.record("m", latency, ok, start + 0.5).expect("valid");
                late.record("m", latency, ok, start + 0.5).expect("valid");
            }
            if *late_ticks_here {
                late.tick(start + 1.0);
                steady.tick(start + 1.0);
                if let (Some(a), Some(b)) = (steady.module("m"), late.module("m")) {
                    prop_assert_eq!(a.statistics(), b.statistics());
                }
            }
        }
        let end = T0 + plan.len() as f64 + 3.0;
        steady.tick(end);
        late.tick(end);
        if let (Some(a), Some(b)) = (steady.module("m"), late.module("m")) {
            prop_assert_eq!(a.statistics(), b.statistics());
        }
    }
}

#[test]
fn requests_per_second_and_error_rate_are_exact() {
    let mut monitor = monitor();
    for k in 0..10u32 {
        for i in 0..40 {
            monitor
                .record("pay", 0.02, i % 40 >= 3, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    let s = stats(&monitor, "pay");
    assert_eq!((s.window_requests, s.window_errors), (400, 30));
    assert_eq!(
        s.requests_per_second, 40.0,
        "400 requests over the 10 s seen so far"
    );
    assert_eq!(s.error_rate, 0.075);

    // Tick k carries k requests from here on; after 60 more ticks the window is ticks 10..=69.
    for k in 10..70u32 {
        for i in 0..k {
            monitor
                .record("pay", 0.02, i != 0, T0 + f64::from(k) + 0.5)
                .expect("valid");
        }
        monitor.tick(T0 + f64::from(k) + 1.0);
    }
    let s = stats(&monitor, "pay");
    let requests: u32 = (10..70).sum();
    assert_eq!(s.window_requests, u64::from(requests));
    assert_eq!(s.requests_per_second, f64::from(requests) / 60.0);
    assert_eq!(
        s.error_rate,
        60.0 / f64::from(requests),
        "one error per tick"
    );
    assert_eq!(
        (s.total_requests, s.total_errors),
        (400 + u64::from(requests), 30 + 60)
    );
}

#[test]
fn a_module_seen_late_is_rated_over_its_own_seconds() {
    let mut monitor = monitor();
    monitor
        .record("early", 0.01, true, T0 + 0.5)
        .expect("valid");
    tick_through(&mut monitor, 0, 30);
    for _ in 0..90 {
        monitor
            .record("late", 0.01, true, T0 + 30.5)
            .expect("valid");
    }
    tick_through(&mut monitor, 30, 33);
    assert_eq!(
        stats(&monitor, "late").requests_per_second,
        30.0,
        "90 requests over 3 s"
    );
    assert_eq!(stats(&monitor, "early").requests_per_second, 1.0 / 33.0);
}
