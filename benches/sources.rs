//! Criterion benches of the source parsers: Prometheus exposition parse and scrape
//! (MB/s) on a page of 200 handlers, each with a 15-bucket latency histogram and a
//! request counter per status code, as prometheus_client writes it; and the event
//! path from message text to the monitor (events/s), as JSON batches and as NDJSON.
//!
//! `cargo bench --bench sources -- --noplot`; the figures go in the README.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
#[path = "../tests/common/workloads.rs"]
mod workloads;

use redline::monitor::{DetectorSpec, MonitorConfig, MonitorSettings, PerformanceMonitor};
use redline::sources::prometheus::{Line, parse};
use redline::sources::{
    EventFeed, Format, LabelMatcher, LineSplitter, ModuleBy, Scrape, ScrapeConfig,
};
use workloads::{EVENTS, T0, event_line, page};

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
