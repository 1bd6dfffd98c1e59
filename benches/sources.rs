//! Criterion benches of the source parsers: Prometheus exposition parse and scrape
//! (MB/s) on a page of 200 handlers, each with a 15-bucket latency histogram and a
//! request counter per status code, as prometheus_client writes it; and the event
//! path from message text to the monitor (events/s), as JSON batches and as NDJSON.
//!
//! `cargo bench --bench sources -- --noplot`; the figures go in the README.

use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use redline::monitor::{DetectorSpec, MonitorConfig, MonitorSettings, PerformanceMonitor};
use redline::sources::prometheus::{Line, parse};
use redline::sources::{
    EventFeed, Format, LabelMatcher, LineSplitter, ModuleBy, Scrape, ScrapeConfig,
};

const HANDLERS: usize = 200;
const BUCKETS: [&str; 15] = [
    "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1.0", "2.5", "5.0",
    "7.5", "10.0", "+Inf",
];
const T0: f64 = 1_700_000_000.0;

/// A prometheus_client-style page; `round` moves every counter forward.
fn page(round: u64) -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP http_requests_total HTTP requests served.\n# TYPE http_requests_total counter\n",
    );
    for h in 0..HANDLERS {
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
    for h in 0..HANDLERS {
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

fn quiet_monitor() -> PerformanceMonitor {
    let settings = MonitorSettings {
        rules: Vec::new(),
        detector: DetectorSpec::None,
        ..MonitorSettings::default()
    };
    PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid settings"))
}

fn exposition(c: &mut Criterion) {
    let pages = [page(0), page(1)];
    let mut group = c.benchmark_group("exposition");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Bytes(pages[0].len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            let mut sum = 0.0;
            for line in parse(black_box(&pages[0]), Format::Prometheus) {
                if let Ok(Line::Sample(sample)) = line {
                    sum += sample.value;
                }
            }
            sum
        })
    });
    let mut config = ScrapeConfig::new(ModuleBy::Label("handler".into()));
    config.requests_counter = Some("http_requests_total".into());
    config.error_matchers = vec![LabelMatcher::parse(r#"code=~"5..""#).expect("matcher")];
    config.latency_histogram = Some("http_request_duration_seconds".into());
    let mut scrape = Scrape::new(config);
    let mut round = 0;
    group.bench_function("scrape", |b| {
        b.iter(|| {
            round += 1;
            let report = scrape.scrape(black_box(&pages[round % 2]), Format::Prometheus);
            report.map(|r| r.samples.len()).unwrap_or(0)
        })
    });
    group.finish();
    eprintln!(
        "exposition page: {} bytes, {} lines",
        pages[0].len(),
        pages[0].lines().count()
    );
}

const EVENTS: usize = 1000;

fn event_line(i: usize) -> String {
    format!(
        r#"{{"module":"service_{}","latency":0.{:04},"ok":{},"timestamp":{}}}"#,
        i % 50,
        (i * 7919) % 10_000,
        !i.is_multiple_of(20),
        T0 + 0.25
    )
}

fn events(c: &mut Criterion) {
    let batch = format!(
        "[{}]",
        (0..EVENTS).map(event_line).collect::<Vec<_>>().join(",")
    );
    let ndjson: String = (0..EVENTS).map(|i| event_line(i) + "\n").collect();
    let mut group = c.benchmark_group("events");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(EVENTS as u64));
    let mut monitor = quiet_monitor();
    let mut feed = EventFeed::new();
    group.bench_function("json_batch_to_monitor", |b| {
        b.iter(|| feed.feed(&mut monitor, black_box(&batch), T0 + 0.5))
    });
    let mut splitter = LineSplitter::default();
    group.bench_function("ndjson_chunks_to_monitor", |b| {
        b.iter(|| {
            // Four fetch chunks cut mid-line.
            let bytes = black_box(ndjson.as_bytes());
            let quarter = bytes.len() / 4;
            let mut recorded = 0;
            for chunk in bytes.chunks(quarter.max(1)) {
                recorded += feed.feed_ndjson(&mut splitter, &mut monitor, chunk, T0 + 0.5);
            }
            recorded
        })
    });
    group.finish();
}

criterion_group!(benches, exposition, events);
criterion_main!(benches);
