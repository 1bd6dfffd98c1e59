//! The exposition parser and the scrape mapper against real payloads: pages captured
//! from a `prometheus_client` app and from Prometheus itself
//! (`tests/peers/capture_fixtures.sh`), checked sample by sample against
//! prometheus_client's own parsers (`tests/peers/reference_parse.py`).

use std::collections::BTreeMap;

use redline::monitor::metrics::PercentileMethod;
use redline::monitor::{ModuleSource, Sample};
use redline::sources::prometheus::{Line, parse};
use redline::sources::{Format, LabelMatcher, ModuleBy, Scrape, ScrapeConfig, feed_samples};

mod common;
use common::{T0, monitor, stats};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

type Parsed = (String, BTreeMap<String, String>, f64);

fn ours(page: &str, format: Format) -> Vec<Parsed> {
    parse(page, format)
        .filter_map(|line| match line.unwrap_or_else(|e| panic!("{e}")) {
            Line::Sample(s) => Some((
                s.name.to_owned(),
                s.labels
                    .iter()
                    .map(|l| (l.name.to_owned(), l.value().into_owned()))
                    .collect(),
                s.value,
            )),
            _ => None,
        })
        .collect()
}

fn reference(name: &str) -> Vec<Parsed> {
    fixture(name)
        .lines()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).expect("reference JSON");
            let labels = json["labels"]
                .as_object()
                .expect("labels")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("label").to_owned()))
                .collect();
            let value = json["value"]
                .as_str()
                .expect("value")
                .parse()
                .expect("float");
            (
                json["name"].as_str().expect("name").to_owned(),
                labels,
                value,
            )
        })
        .collect()
}

fn assert_same(ours: &[Parsed], reference: &[Parsed]) {
    assert_eq!(ours.len(), reference.len());
    for (a, b) in ours.iter().zip(reference) {
        let same_value = a.2 == b.2 || (a.2.is_nan() && b.2.is_nan());
        assert!(a.0 == b.0 && a.1 == b.1 && same_value, "{a:?} != {b:?}");
    }
}

#[test]
fn prometheus_client_pages_parse_as_its_own_parser_reads_them() {
    let text = ours(&fixture("prometheus_client_2.txt"), Format::Prometheus);
    assert_same(&text, &reference("prometheus_client_2.reference.jsonl"));
    let om = ours(&fixture("prometheus_client_2.om.txt"), Format::OpenMetrics);
    assert_same(&om, &reference("prometheus_client_2.om.reference.jsonl"));
}

#[test]
fn prometheus_own_metrics_parse_as_prometheus_client_reads_them() {
    let text = ours(&fixture("prometheus_self.txt"), Format::Prometheus);
    assert_same(&text, &reference("prometheus_self.reference.jsonl"));
}

fn app_config() -> ScrapeConfig {
    let mut config = ScrapeConfig::new(ModuleBy::Label("handler".into()));
    config.requests_counter = Some("http_requests_total".into());
    config.error_matchers = vec![LabelMatcher::parse(r#"code=~"5..""#).expect("matcher")];
    config.latency_histogram = Some("http_request_duration_seconds".into());
    config
}

fn by_module(samples: &[Sample]) -> BTreeMap<String, Vec<Sample>> {
    let mut out: BTreeMap<String, Vec<Sample>> = BTreeMap::new();
    for sample in samples {
        out.entry(sample.module().to_owned())
            .or_default()
            .push(sample.clone());
    }
    out
}

/// Traffic between the two captures (capture_fixtures.sh, "Traffic B"): /api 100 at
/// 0.02 s (200) and 20 at 0.2 s (503); /slow 10 at 1.5 s; /new 4 at 0.004 s.
fn check_traffic_b(format: Format, first: &str, second: &str) {
    let mut scrape = Scrape::new(app_config());
    let baseline = scrape.scrape(&fixture(first), format).expect("first page");
    assert!(baseline.errors.is_empty(), "{:?}", baseline.errors);
    for sample in &baseline.samples {
        assert!(
            !matches!(sample, Sample::Histogram { .. }),
            "no baseline yet"
        );
    }
    let report = scrape
        .scrape(&fixture(second), format)
        .expect("second page");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let modules = by_module(&report.samples);
    let bounds = [
        0.005,
        0.01,
        0.025,
        0.05,
        0.075,
        0.1,
        0.25,
        0.5,
        0.75,
        1.0,
        2.5,
        5.0,
        7.5,
        10.0,
        f64::INFINITY,
    ];
    let histogram = |counts: &[(usize, u64)], sum: f64| {
        let mut increases = vec![0; bounds.len()];
        for (index, count) in counts {
            increases[*index] = *count;
        }
        (increases, sum)
    };
    let expect = [
        ("/api", 120, 20, histogram(&[(2, 100), (6, 20)], 6.0)),
        ("/slow", 10, 0, histogram(&[(10, 10)], 15.0)),
    ];
    for (module, requests, errors, (increases, sum)) in expect {
        let samples = &modules[module];
        assert_eq!(
            samples[0],
            Sample::Counts {
                module: module.into(),
                requests,
                errors
            }
        );
        let Sample::Histogram {
            upper_bounds_seconds,
            increases: got,
            sum_increase_seconds,
            ..
        } = &samples[1]
        else {
            panic!("{samples:?}")
        };
        assert_eq!(upper_bounds_seconds, &bounds);
        assert_eq!(got, &increases);
        assert!((sum_increase_seconds - sum).abs() < 1e-9);
    }
    // /new and /api's 503 series appeared between the pages: after a target's first
    // page, a new series counts from zero.
    let new = &modules["/new"];
    assert_eq!(
        new[0],
        Sample::Counts {
            module: "/new".into(),
            requests: 4,
            errors: 0
        }
    );
    assert!(matches!(&new[1], Sample::Histogram { increases, .. } if increases[0] == 4));
    let stats = scrape.stats();
    assert_eq!(
        (stats.resets, stats.duplicates, stats.parse_errors),
        (0, 0, 0)
    );
    assert_eq!(stats.rejected, Default::default());
}

#[test]
fn scrape_increases_match_the_traffic_sent_in_text_format() {
    check_traffic_b(
        Format::Prometheus,
        "prometheus_client_1.txt",
        "prometheus_client_2.txt",
    );
}

#[test]
fn scrape_increases_match_the_traffic_sent_in_openmetrics() {
    check_traffic_b(
        Format::OpenMetrics,
        "prometheus_client_1.om.txt",
        "prometheus_client_2.om.txt",
    );
}

#[test]
fn the_monitor_p95_lies_in_the_reported_bucket_bounds() {
    let mut scrape = Scrape::new(app_config());
    let mut monitor = monitor();
    for (k, page) in ["prometheus_client_1.txt", "prometheus_client_2.txt"]
        .iter()
        .enumerate()
    {
        let now = T0 + k as f64 + 0.5;
        let report = scrape
            .scrape(&fixture(page), Format::Prometheus)
            .expect("page");
        let fed = feed_samples(&mut monitor, &report.samples, ModuleSource::Prometheus, now);
        assert_eq!(fed.refused, 0, "{:?}", fed.first_error);
        monitor.tick(T0 + k as f64 + 1.0);
    }
    let api = stats(&monitor, "/api");
    assert_eq!((api.window_requests, api.window_errors), (120, 20));
    // 100 at 0.02 s and 20 at 0.2 s: the exact p95 (0.2 s) is in (0.1, 0.25].
    let p95 = api.percentiles.p95;
    assert_eq!(p95.method, PercentileMethod::Buckets);
    assert_eq!(
        (p95.bucket_lower, p95.bucket_upper),
        (Some(0.1), Some(0.25))
    );
    assert!((0.1..=0.25).contains(&p95.value));
    let p50 = api.percentiles.p50;
    assert_eq!(
        (p50.bucket_lower, p50.bucket_upper),
        (Some(0.01), Some(0.025))
    );
    assert!((api.error_rate - 20.0 / 120.0).abs() < 1e-12);
}
