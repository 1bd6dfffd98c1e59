//! Memory limits: the module cap refuses new modules with a typed error and counts
//! them, while existing modules keep recording; refused input uses up nothing.

use redline::monitor::{
    CustomKind, MonitorConfig, MonitorSettings, PerformanceMonitor, RecordError, Sample,
};

const T0: f64 = 1_700_000_000.0;

fn monitor_with(settings: MonitorSettings) -> PerformanceMonitor {
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid settings"))
}

#[test]
fn modules_past_the_cap_are_refused_and_counted() {
    let mut monitor = monitor_with(MonitorSettings {
        max_modules: 3,
        ..MonitorSettings::default()
    });
    for name in ["a", "b", "c"] {
        monitor
            .record(name, 0.01, true, T0 + 0.5)
            .expect("under the cap");
    }
    let refused = monitor.record("d", 0.01, true, T0 + 0.5);
    assert_eq!(
        refused,
        Err(RecordError::ModuleCap {
            module: "d".to_owned(),
            limit: 3
        })
    );
    let message = refused
        .map(|_| String::new())
        .unwrap_or_else(|e| e.to_string());
    assert!(
        message.contains("max_modules"),
        "the error says what to change: {message}"
    );
    assert!(matches!(
        monitor.record_counts("e", 1, 0, T0 + 0.5),
        Err(RecordError::ModuleCap { .. })
    ));
    let sample = Sample::Counts {
        module: "d".to_owned(),
        requests: 1,
        errors: 0,
    };
    assert!(matches!(
        monitor.observe(&sample, T0 + 0.5),
        Err(RecordError::ModuleCap { .. })
    ));
    assert_eq!(monitor.snapshot(T0 + 0.5).monitor.refused_new_modules, 3);

    // Existing modules keep recording.
    for name in ["a", "b", "c"] {
        for _ in 0..19 {
            monitor
                .record(name, 0.01, true, T0 + 0.7)
                .expect("existing module");
        }
    }
    monitor.tick(T0 + 1.0);
    let snapshot = monitor.snapshot(T0 + 1.0);
    assert_eq!(snapshot.summary.total_modules, 3);
    assert!(monitor.module("d").is_none() && monitor.module("e").is_none());
    for name in ["a", "b", "c"] {
        assert_eq!(snapshot.modules[name].total_requests, 20);
        assert_eq!(snapshot.modules[name].metrics.requests_per_second, 20.0);
    }
    assert_eq!(snapshot.monitor.refused_new_modules, 3);
    assert_eq!(snapshot.monitor.max_modules, 3);
}

#[test]
fn refused_records_do_not_use_up_the_cap() {
    let mut monitor = monitor_with(MonitorSettings {
        max_modules: 1,
        ..MonitorSettings::default()
    });
    assert!(matches!(
        monitor.record("junk", f64::NAN, true, T0),
        Err(RecordError::Latency { .. })
    ));
    let bad_gauge = Sample::Custom {
        module: "junk2".to_owned(),
        name: "depth".to_owned(),
        kind: CustomKind::Gauge,
        value: f64::INFINITY,
    };
    assert!(matches!(
        monitor.observe(&bad_gauge, T0),
        Err(RecordError::Custom(_))
    ));
    monitor
        .record("real", 0.01, true, T0)
        .expect("the cap is still free");
    let status = monitor.snapshot(T0).monitor;
    assert_eq!(
        (
            status.refused_new_modules,
            status.rejected_records,
            status.rejected_custom
        ),
        (0, 1, 1)
    );
}
