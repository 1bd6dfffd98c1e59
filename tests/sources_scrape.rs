//! The scrape mapper on hand-written pages: counter resets (by decrease and by
//! `_created`), histogram edge cases, duplicates, limits and unreadable pages, each
//! counted by reason.

use redline::monitor::Sample;
use redline::sources::{
    Format, LabelMatcher, ModuleBy, Scrape, ScrapeConfig, ScrapeError, ScrapeLimits,
};

fn config() -> ScrapeConfig {
    let mut config = ScrapeConfig::new(ModuleBy::Label("job".into()));
    config.requests_counter = Some("req".into());
    config.error_matchers = vec![LabelMatcher::parse(r#"code=~"5..""#).expect("matcher")];
    config.latency_histogram = Some("lat".into());
    config
}

fn counts(samples: &[Sample], module: &str) -> Option<(u64, u64)> {
    samples.iter().find_map(|s| match s {
        Sample::Counts {
            module: m,
            requests,
            errors,
        } if m == module => Some((*requests, *errors)),
        _ => None,
    })
}

fn histogram(samples: &[Sample], module: &str) -> Option<Vec<u64>> {
    samples.iter().find_map(|s| match s {
        Sample::Histogram {
            module: m,
            increases,
            ..
        } if m == module => Some(increases.clone()),
        _ => None,
    })
}

fn pages(scrape: &mut Scrape, pages: &[&str]) -> Vec<Vec<Sample>> {
    pages
        .iter()
        .map(|page| {
            scrape
                .scrape(page, Format::Prometheus)
                .expect("page")
                .samples
        })
        .collect()
}

#[test]
fn counter_increases_and_errors_by_matcher() {
    let mut scrape = Scrape::new(config());
    let out = pages(
        &mut scrape,
        &[
            "req_total{job=\"a\",code=\"200\"} 10\nreq_total{job=\"a\",code=\"500\"} 1\n",
            "req_total{job=\"a\",code=\"200\"} 25\nreq_total{job=\"a\",code=\"500\"} 4\n",
        ],
    );
    assert_eq!(counts(&out[0], "a"), Some((0, 0)), "first page: baseline");
    assert_eq!(counts(&out[1], "a"), Some((18, 3)));
}

#[test]
fn a_counter_that_goes_down_restarted_and_its_value_is_the_increase() {
    let mut scrape = Scrape::new(config());
    let out = pages(
        &mut scrape,
        &["req_total{job=\"a\"} 100\n", "req_total{job=\"a\"} 7\n"],
    );
    assert_eq!(counts(&out[1], "a"), Some((7, 0)));
    assert_eq!(scrape.stats().resets, 1);
}

#[test]
fn a_changed_created_timestamp_is_a_restart_even_when_the_value_rose() {
    for created_first in [false, true] {
        let page = |value: u32, created: u32| {
            let total = format!("req_total{{job=\"a\"}} {value}\n");
            let created = format!("req_created{{job=\"a\"}} {created}\n");
            if created_first {
                created + &total
            } else {
                total + &created
            }
        };
        let mut scrape = Scrape::new(config());
        let first = page(5, 1000);
        let second = page(9, 2000);
        let out = pages(&mut scrape, &[&first, &second]);
        assert_eq!(
            counts(&out[1], "a"),
            Some((9, 0)),
            "created first: {created_first}"
        );
        assert_eq!(scrape.stats().resets, 1);
    }
}

const BUCKETS_1: &str = "lat_bucket{job=\"a\",le=\"0.1\"} 1\nlat_bucket{job=\"a\",le=\"1\"} 3\n\
                         lat_bucket{job=\"a\",le=\"+Inf\"} 4\nlat_sum{job=\"a\"} 2\nlat_count{job=\"a\"} 4\n";
const BUCKETS_2: &str = "lat_bucket{job=\"a\",le=\"0.1\"} 6\nlat_bucket{job=\"a\",le=\"1\"} 9\n\
                         lat_bucket{job=\"a\",le=\"+Inf\"} 11\nlat_sum{job=\"a\"} 5\nlat_count{job=\"a\"} 11\n";

#[test]
fn histogram_buckets_become_non_cumulative_increases() {
    let mut scrape = Scrape::new(config());
    let out = pages(&mut scrape, &[BUCKETS_1, BUCKETS_2]);
    assert_eq!(histogram(&out[1], "a"), Some(vec![5, 1, 1]));
    let Some(Sample::Histogram {
        upper_bounds_seconds,
        sum_increase_seconds,
        ..
    }) = out[1]
        .iter()
        .find(|s| matches!(s, Sample::Histogram { .. }))
    else {
        panic!()
    };
    assert_eq!(upper_bounds_seconds, &vec![0.1, 1.0, f64::INFINITY]);
    assert_eq!(*sum_increase_seconds, 3.0);
    // With a request counter configured, the histogram's count is not added to it.
    assert_eq!(counts(&out[1], "a"), Some((0, 0)));
}

#[test]
fn without_a_request_counter_requests_come_from_the_histogram() {
    let mut config = config();
    config.requests_counter = None;
    let mut scrape = Scrape::new(config);
    let out = pages(&mut scrape, &[BUCKETS_1, BUCKETS_2]);
    assert_eq!(counts(&out[1], "a"), Some((7, 0)));
}

#[test]
fn series_of_one_module_are_summed() {
    let page = |x: u32| {
        format!(
            "lat_bucket{{job=\"a\",path=\"/x\",le=\"1\"}} {x}\nlat_bucket{{job=\"a\",path=\"/x\",le=\"+Inf\"}} {x}\n\
             lat_bucket{{job=\"a\",path=\"/y\",le=\"1\"}} {x}\nlat_bucket{{job=\"a\",path=\"/y\",le=\"+Inf\"}} {}\n",
            2 * x
        )
    };
    let mut scrape = Scrape::new(config());
    let out = pages(&mut scrape, &[&page(1), &page(4)]);
    assert_eq!(histogram(&out[1], "a"), Some(vec![6, 3]));
}

#[test]
fn bad_histograms_are_rejected_by_reason() {
    let cases = [
        ("lat_bucket{job=\"a\",le=\"1\"} 1\n", "missing_inf"),
        (
            "lat_bucket{job=\"a\",le=\"1\"} NaN\nlat_bucket{job=\"a\",le=\"+Inf\"} 1\n",
            "not_finite",
        ),
        (
            "lat_bucket{job=\"a\",le=\"1\"} 5\nlat_bucket{job=\"a\",le=\"+Inf\"} 1\n",
            "non_monotonic",
        ),
        (
            "lat_bucket{job=\"a\",le=\"x\"} 1\nlat_bucket{job=\"a\",le=\"+Inf\"} 1\n",
            "bad_le",
        ),
        ("lat_bucket{le=\"+Inf\"} 1\n", "missing_module_label"),
    ];
    for (page, reason) in cases {
        let mut scrape = Scrape::new(config());
        let report = scrape.scrape(page, Format::Prometheus).expect("readable");
        assert!(histogram(&report.samples, "a").is_none());
        let rejected = serde_json::to_value(&scrape.stats().rejected).expect("json");
        assert_eq!(rejected[reason], 1, "{page:?}: {rejected}");
    }
}

#[test]
fn a_duplicate_series_is_counted_and_skipped() {
    let mut scrape = Scrape::new(config());
    // b is refused by the module cap; the two after it by the series cap.
    let page = "req_total{job=\"a\"} 1\nreq_total{job=\"a\"} 2\n";
    let double_buckets = format!("{BUCKETS_1}{BUCKETS_1}");
    let out = pages(&mut scrape, &[page, &double_buckets]);
    assert_eq!(counts(&out[0], "a"), Some((0, 0)));
    assert_eq!(scrape.stats().duplicates, 2);
}

#[test]
fn limits_are_enforced_and_counted() {
    let mut config = config();
    config.limits = ScrapeLimits {
        max_response_bytes: 200,
        max_series: 2,
        max_modules: 1,
    };
    let mut scrape = Scrape::new(config);
    let big = "x 1\n".repeat(100);
    assert_eq!(
        scrape.scrape(&big, Format::Prometheus),
        Err(ScrapeError::TooLarge {
            bytes: 400,
            limit: 200
        })
    );
    // b is refused by the module cap; the two after it by the series cap.
    let page = "req_total{job=\"a\"} 1\nreq_total{job=\"b\"} 1\nreq_total{job=\"a\",x=\"1\"} 1\nreq_total{job=\"a\",x=\"2\"} 1\n";
    scrape.scrape(page, Format::Prometheus).expect("readable");
    let stats = scrape.stats();
    assert_eq!(
        (
            stats.rejected.module_cap,
            stats.rejected.series_cap,
            stats.failed_scrapes
        ),
        (1, 2, 1)
    );
    assert_eq!(scrape.modules().collect::<Vec<_>>(), vec!["a"]);
}

#[test]
fn a_fixed_module_takes_every_series() {
    let mut config = config();
    config.module = ModuleBy::Fixed("target".into());
    let mut scrape = Scrape::new(config);
    let out = pages(&mut scrape, &["req_total 1\n", "req_total 3\n"]);
    assert_eq!(counts(&out[1], "target"), Some((2, 0)));
}

#[test]
fn garbage_fails_the_scrape_with_the_line_and_a_truncated_page_keeps_what_it_can() {
    let mut scrape = Scrape::new(config());
    let error = scrape
        .scrape("<html>\n<body>oops</body>\n", Format::Prometheus)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "not Prometheus exposition: line 1: expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) at column 1"
    );
    let cut =
        "req_total{job=\"a\"} 1\nlat_bucket{job=\"a\",le=\"1\"} 1\nlat_bucket{job=\"a\",le=\"+I";
    let report = scrape
        .scrape(cut, Format::OpenMetrics)
        .expect("partly readable");
    assert_eq!(report.errors.len(), 2, "{:?}", report.errors);
    assert_eq!(counts(&report.samples, "a"), Some((0, 0)));
    assert_eq!(scrape.stats().rejected.missing_inf, 1);
}
