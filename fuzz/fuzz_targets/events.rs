//! Any bytes as an NDJSON stream, split into two fetch chunks, into a monitor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redline::monitor::{MonitorConfig, MonitorSettings, PerformanceMonitor};
use redline::sources::{EventFeed, LineSplitter};

fuzz_target!(|data: &[u8]| {
    let Ok(config) = MonitorConfig::new(MonitorSettings::default()) else {
        return;
    };
    let mut monitor = PerformanceMonitor::new(config);
    let mut feed = EventFeed::new();
    let mut splitter = LineSplitter::new(4096);
    let (first, second) = data.split_at(data.len() / 3);
    for chunk in [first, second] {
        feed.feed_ndjson(&mut splitter, &mut monitor, chunk, 1_700_000_000.0);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = feed.feed(&mut monitor, text, 1_700_000_000.0);
    }
});
