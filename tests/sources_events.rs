//! Event messages into the monitor: batches and single events, rejects by reason,
//! stale timestamps, NDJSON split at any chunk boundary, and arbitrary input.

use proptest::prelude::*;
use redline::sources::{EventFeed, LineSplitter, parse_message};

mod common;
use common::{T0, monitor, stats};

#[test]
fn events_reach_the_monitor_and_percentiles_match_the_exact_ones() {
    let mut monitor = monitor();
    let mut feed = EventFeed::new();
    let latencies: Vec<f64> = (1..=1000).map(|i| f64::from(i) / 1000.0).collect();
    for chunk in latencies.chunks(100) {
        let batch: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!(
                    r#"{{"module":"api","latency":{l},"ok":{}}}"#,
                    !i.is_multiple_of(10)
                )
            })
            .collect();
        let recorded = feed
            .feed(&mut monitor, &format!("[{}]", batch.join(",")), T0 + 0.5)
            .expect("valid");
        assert_eq!(recorded, 100);
    }
    monitor.tick(T0 + 1.0);
    let s = stats(&monitor, "api");
    assert_eq!((s.window_requests, s.window_errors), (1000, 100));
    // DDSketch's rank rule floor(q·(n−1)) on the sorted latencies, within α = 1 %.
    for (p, q) in [
        (s.percentiles.p50, 0.5),
        (s.percentiles.p95, 0.95),
        (s.percentiles.p99, 0.99),
    ] {
        let exact = latencies[(q * 999.0_f64).floor() as usize];
        assert!(
            (p.value - exact).abs() <= 0.01 * exact,
            "{q}: {} vs {exact}",
            p.value
        );
    }
    assert_eq!(feed.stats().recorded, 1000);
}

#[test]
fn stale_operations_and_refusals_are_counted() {
    let mut monitor = monitor();
    let mut feed = EventFeed::new();
    let window = monitor.config().window_seconds();
    let message = format!(
        r#"[{{"module":"a","latency":0.1,"ok":true,"timestamp":{old}}},
            {{"module":"a","latency":0.1,"ok":true,"timestamp":{recent},"operation":"get"}},
            {{"module":"a","latency":-0.1,"ok":true}}]"#,
        old = T0 - window - 1.0,
        recent = T0 - 1.0
    );
    assert_eq!(feed.feed(&mut monitor, &message, T0), Ok(1));
    let stats = feed.stats();
    assert_eq!((stats.rejected.stale, stats.rejected.latency), (1, 1));
    assert!(feed.feed(&mut monitor, "{oops", T0).is_err());
    assert_eq!(feed.stats().broken_messages, 1);
}

fn ndjson(events: usize) -> String {
    (0..events)
        .map(|i| {
            format!(
                r#"{{"module":"m{}","latency":0.00{},"ok":true}}"#,
                i % 3,
                i % 10
            ) + "\n"
        })
        .collect()
}

proptest! {
    #[test]
    fn ndjson_split_anywhere_records_the_same_events(cuts in prop::collection::vec(0usize..2000, 0..20)) {
        let text = ndjson(40);
        let bytes = text.as_bytes();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
        cuts.sort_unstable();
        let mut monitor = monitor();
        let mut feed = EventFeed::new();
        let mut splitter = LineSplitter::default();
        let mut start = 0;
        for cut in cuts.into_iter().chain([bytes.len()]) {
            feed.feed_ndjson(&mut splitter, &mut monitor, &bytes[start..cut], T0);
            start = cut;
        }
        prop_assert_eq!(feed.stats().recorded, 40);
        prop_assert_eq!(feed.stats().broken_messages, 0);
        prop_assert_eq!(splitter.pending_bytes(), 0);
    }

    #[test]
    fn any_message_is_handled_without_panicking(text in ".{0,200}") {
        let _ = parse_message(&text, |_| {});
    }

    #[test]
    fn any_json_like_message_is_handled_without_panicking(
        text in r#"[\[\]{}",:0-9a-z.\- ]{0,120}"#
    ) {
        let mut monitor = monitor();
        let _ = EventFeed::new().feed(&mut monitor, &text, T0);
        let mut splitter = LineSplitter::new(16);
        splitter.push(text.as_bytes(), |_| {});
        splitter.finish(|_| {});
    }
}
