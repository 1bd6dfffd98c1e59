//! Helpers shared by the public-API tests: a quiet monitor (no rules, no detector) and
//! a module's statistics.
#![allow(dead_code)] // each test crate uses only some of these

use redline::monitor::{
    DetectorSpec, MonitorConfig, MonitorSettings, PerformanceMonitor, WindowStats,
};

/// A fixed start time, Unix seconds.
pub const T0: f64 = 1_700_000_000.0;

/// A monitor with these settings, minus rules and anomaly detection.
pub fn monitor_with(settings: MonitorSettings) -> PerformanceMonitor {
    let settings = MonitorSettings {
        rules: Vec::new(),
        detector: DetectorSpec::None,
        ..settings
    };
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid settings"))
}

/// A monitor that judges only `latency_mean`, with `detector` and no rules, and fires
/// on the first anomalous tick, so an alert's evidence is the pre-anomaly baseline.
pub fn latency_mean_watcher(detector: DetectorSpec) -> PerformanceMonitor {
    let settings = MonitorSettings {
        rules: Vec::new(),
        detector,
        detect_metrics: vec!["latency_mean".to_owned()],
        anomaly_for_seconds: 0.0,
        ..MonitorSettings::default()
    };
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid settings"))
}

/// A quiet monitor with the default window.
pub fn monitor() -> PerformanceMonitor {
    monitor_with(MonitorSettings::default())
}

/// A module's statistics as of the last tick.
pub fn stats<'a>(monitor: &'a PerformanceMonitor, module: &str) -> &'a WindowStats {
    monitor.module(module).expect("module exists").statistics()
}
