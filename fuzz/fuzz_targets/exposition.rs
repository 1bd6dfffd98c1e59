//! Any bytes through the exposition parser in both formats: it must not panic, and
//! every label set it accepts must iterate.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redline::sources::Format;
use redline::sources::prometheus::{Line, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for format in [Format::Prometheus, Format::OpenMetrics] {
        for line in parse(text, format) {
            if let Ok(Line::Sample(sample)) = line {
                for label in sample.labels.iter() {
                    let _ = label.value();
                }
            }
        }
    }
});
