//! A terminal view of redline: plays the simulator through the monitor core in real time
//! and prints the dashboard each tick (`cargo run --release --example terminal`).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redline::monitor::simulate::{Scenario, Simulator};
use redline::monitor::{AlertState, PerformanceMonitor, Transition};

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let seconds: Option<f64> = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok());
    let mut monitor = PerformanceMonitor::default();
    let start = unix_now();
    let seed = start as u64;
    let mut simulator = Simulator::new(Scenario::default(), seed, start);
    if let Err(error) = simulator.register(&mut monitor, start) {
        eprintln!("redline: {error}");
        std::process::exit(1);
    }
    println!(
        "redline: simulating {} modules (seed {seed}); Ctrl-C to stop",
        simulator.scenario().modules.len()
    );
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = unix_now();
        if let Err(error) = simulator.advance(&mut monitor, now) {
            eprintln!("redline: {error}");
        }
        for event in monitor.tick(now) {
            let state = match event.transition {
                Transition::Resolved => "RESOLVED",
                Transition::Cancelled => "cancelled",
                _ if event.alert.state == AlertState::Pending => "pending",
                _ => "FIRING",
            };
            println!(
                "  [{:>8}] {:<8} {}",
                state,
                event.alert.level,
                event.alert.message()
            );
        }
        if json {
            println!("{}", monitor.dashboard_json(now));
        } else {
            print_table(&monitor, now);
        }
        if seconds.is_some_and(|limit| now - start >= limit) {
            break;
        }
    }
}

fn print_table(monitor: &PerformanceMonitor, now: f64) {
    let snapshot = monitor.snapshot(now);
    println!(
        "{:<16} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}",
        "module", "p50 ms", "p95 ms", "p99 ms", "req/s", "err %", "status"
    );
    for (name, module) in &snapshot.modules {
        let m = &module.metrics;
        println!(
            "{:<16} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8.2} {:>9}",
            name,
            m.latency_p50 * 1e3,
            m.latency_p95 * 1e3,
            m.latency_p99 * 1e3,
            m.requests_per_second,
            m.error_rate * 100.0,
            format!("{:?}", module.status).to_lowercase()
        );
    }
    let s = snapshot.summary;
    println!(
        "firing: {} ({} critical, {} warning), pending: {}\n",
        s.active_alerts, s.critical_alerts, s.warning_alerts, s.pending_alerts
    );
}
