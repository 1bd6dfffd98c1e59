//! Workloads shared by the source benches (benches/sources.rs) and the in-browser
//! throughput measurements (tests/web.rs): a prometheus_client-style exposition page
//! of 200 handlers, and request events as JSON.
#![allow(dead_code)] // each user takes what it needs

use std::fmt::Write;

pub const HANDLERS: usize = 200;
const BUCKETS: [&str; 15] = [
    "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0",
    "7.5", "10.0", "+Inf",
];
/// The workloads' clock, Unix seconds.
pub const T0: f64 = 1_700_000_000.0;

/// A prometheus_client-style page of `HANDLERS` handlers; `round` moves every
/// counter forward.
pub fn page(round: u64) -> String {
    page_of(HANDLERS, round)
}

/// A prometheus_client-style page of `handlers` handlers.
pub fn page_of(handlers: usize, round: u64) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP http_requests_total HTTP requests served.\n# TYPE http_requests_total counter\n",
    );
    for h in 0..handlers {
        for (code, share) in [("200", 90), ("404", 6), ("503", 4)] {
            let value = (round + 1) * share * (h as u64 + 1);
            let _ = writeln!(
                out,
                "http_requests_total{{code=\"{code}\",handler=\"/api/v1/handler_{h}\"}} {value}.0"
            );
            let _ = writeln!(
                out,
                "http_requests_created{{code=\"{code}\",handler=\"/api/v1/handler_{h}\"}} 1.7957819904037344e+09"
            );
        }
    }
    out.push_str("# HELP http_request_duration_seconds HTTP request duration in seconds.\n# TYPE http_request_duration_seconds histogram\n");
    for h in 0..handlers {
        let total = (round + 1) * 100 * (h as u64 + 1);
        for (i, le) in BUCKETS.iter().enumerate() {
            let cumulative = total * (i as u64 + 1) / BUCKETS.len() as u64;
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{handler=\"/api/v1/handler_{h}\",le=\"{le}\"}} {cumulative}.0"
            );
        }
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{handler=\"/api/v1/handler_{h}\"}} {total}.0"
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{handler=\"/api/v1/handler_{h}\"}} {}",
            total as f64 * 0.0421
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_created{{handler=\"/api/v1/handler_{h}\"}} 1.7957819904036698e+09"
        );
    }
    out
}

pub const EVENTS: usize = 1000;

pub fn event_line(i: usize) -> String {
    format!(
        r#"{{"module":"service_{}","latency":0.{:04},"ok":{},"timestamp":{}}}"#,
        i % 50,
        (i * 7919) % 10_000,
        !i.is_multiple_of(20),
        T0 + 0.25
    )
}
