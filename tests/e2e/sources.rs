//! Fetched sources against real peers: a `prometheus_client` service scraped through
//! its `/metrics`, SSE, WebSocket and NDJSON event streams, a JSON dashboard in the
//! spec's format, probes of fast, slow, failing, hanging and CORS-refusing endpoints,
//! and broken and huge responses, all at once in one page.

use std::time::Duration;

use crate::browser::{E2eResult, ensure, wait_until};
use crate::dashboard::{Dashboard, ModuleRow};
use crate::peers::{Peer, get};
use crate::{dist, ensure_no_page_errors, run, run_proxying};

/// The streams peer's known events: latency 0.010 + (i % 100) ms steps, 5 % errors.
const PEER_EVENTS: usize = 2000;

fn peer_latency(i: usize) -> f64 {
    0.010 + (i % 100) as f64 * 0.001
}

/// The exact `q` quantile of the peer's events, by DDSketch's rank rule (the value at
/// rank floor(q × (n − 1)) of the sorted samples).
fn exact_quantile(q: f64) -> f64 {
    let mut values: Vec<f64> = (0..PEER_EVENTS).map(peer_latency).collect();
    values.sort_by(f64::total_cmp);
    values[(q * (values.len() - 1) as f64).floor() as usize]
}

/// A cell's number in base units: seconds for latencies, a ratio for percentages.
fn number(text: &str) -> Option<f64> {
    let text = text.trim();
    let (value, unit) = text.split_once(' ').unwrap_or((text, ""));
    let value: f64 = value.trim_start_matches('<').parse().ok()?;
    Some(match unit {
        "µs" => value / 1e6,
        "ms" => value / 1e3,
        "%" => value / 100.0,
        _ => value,
    })
}

fn cell(row: &ModuleRow, pick: fn(&ModuleRow) -> &Option<String>) -> Option<f64> {
    pick(row).as_deref().and_then(number)
}

fn config(service: &Peer, streams: &Peer) -> String {
    let http = |path: &str| streams.url(0, path);
    let ws = format!(
        "ws://127.0.0.1:{}/",
        streams.ports.get(1).copied().unwrap_or(0)
    );
    serde_json::json!({
        "sources": [
            {"kind": "prometheus", "name": "service", "url": service.url(0, "/metrics"),
             "module_label": "handler", "interval_seconds": 1},
            {"kind": "sse", "name": "sse", "url": http("/events")},
            {"kind": "websocket", "name": "ws", "url": ws},
            {"kind": "ndjson", "name": "nd", "url": http("/ndjson")},
            {"kind": "dashboard", "name": "legacy", "url": http("/dashboard.json"),
             "interval_seconds": 1},
            {"kind": "probe", "name": "probes", "interval_seconds": 1, "timeout_seconds": 1,
             "targets": [
                {"module": "probe_fast", "url": http("/probe/fast")},
                {"module": "probe_slow", "url": http("/probe/slow")},
                {"module": "probe_error", "url": http("/probe/error")},
                {"module": "probe_hang", "url": http("/probe/hang")},
                {"module": "probe_nocors", "url": http("/probe/nocors")},
             ]},
            {"kind": "prometheus", "name": "garbage", "url": http("/garbage"),
             "interval_seconds": 1},
            {"kind": "prometheus", "name": "huge", "url": http("/big"),
             "interval_seconds": 2, "max_bytes": 1_048_576},
            {"kind": "prometheus", "name": "many", "url": http("/many-series"),
             "interval_seconds": 2, "module_label": "handler", "max_modules": 200},
            {"kind": "sse", "name": "bad-events", "url": http("/bad-events")},
            {"kind": "dashboard", "name": "nan-dashboard", "url": http("/dashboard-nan.json"),
             "interval_seconds": 2},
        ]
    })
    .to_string()
}

async fn row(dashboard: &Dashboard<'_>, module: &str) -> E2eResult<Option<ModuleRow>> {
    dashboard.filter_modules(module).await?;
    Ok(dashboard
        .module_rows()
        .await?
        .into_iter()
        .find(|row| row.module.as_deref() == Some(module)))
}

/// Waits for `module`'s row to satisfy `check`, returning it.
async fn wait_row(
    dashboard: &Dashboard<'_>,
    module: &str,
    what: &str,
    check: impl Fn(&ModuleRow) -> bool,
) -> E2eResult<ModuleRow> {
    wait_until(
        &format!("{module}: {what}"),
        Duration::from_secs(30),
        async || Ok(row(dashboard, module).await?.filter(|r| check(r))),
    )
    .await
}

async fn source_state(dashboard: &Dashboard<'_>, name: &str) -> E2eResult<(String, String)> {
    let selector = format!("[data-testid=source-row][data-source=\"{name}\"]");
    let state = dashboard
        .attribute(&selector, "data-state")
        .await?
        .unwrap_or_default();
    let text = dashboard.text(&selector).await?.unwrap_or_default();
    Ok((state, text))
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles and the test peers; run `make test-e2e`"]
async fn fetched_sources_feed_the_dashboard() -> E2eResult<()> {
    let service = Peer::start("instrumented_app.py", &[])?;
    let streams = Peer::start("streams_peer.py", &["--lifetime", "300"])?;
    let config = config(&service, &streams);
    let root = dist()?;
    let overlay: &[(&str, &[u8])] = &[("/redline.json", config.as_bytes())];
    run("sources", &root, overlay, async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;

        // The first scrape sets the counters' baseline; traffic after it is counted.
        wait_until("the first scrape", Duration::from_secs(30), async || {
            let (state, _) = source_state(&dashboard, "service").await?;
            Ok((state == "ok").then_some(()))
        })
        .await?;
        get(&service.url(0, "/drive?handler=/api&latency=0.05&status=200&count=180"))?;
        get(&service.url(0, "/drive?handler=/api&latency=0.3&status=500&count=20"))?;

        // Scraped: 10 % errors; the p95 lies in the (0.25 s, 0.5 s] bucket.
        let api = wait_row(&dashboard, "/api", "10 % errors from the scrape", |r| {
            cell(r, |r| &r.error_rate).is_some_and(|e| (e - 0.10).abs() < 0.005)
        })
        .await?;
        println!("scraped /api: {api:?}");
        let p95 = cell(&api, |r| &r.p95).unwrap_or_default();
        ensure((0.25..=0.5).contains(&p95), || {
            format!("the scraped p95 {p95} s is outside its bucket (0.25 s, 0.5 s]")
        })?;

        // Event streams: exact percentiles within the sketch's 1 % (plus display rounding).
        for module in ["sse_api", "ws_api", "ndjson_api"] {
            let row = wait_row(&dashboard, module, "all 2000 events with 5 % errors", |r| {
                cell(r, |r| &r.error_rate).is_some_and(|e| (e - 0.05).abs() < 0.0005)
            })
            .await?;
            for (name, q, shown) in [
                ("p50", 0.50, cell(&row, |r| &r.p50)),
                ("p95", 0.95, cell(&row, |r| &r.p95)),
                ("p99", 0.99, cell(&row, |r| &r.p99)),
            ] {
                let exact = exact_quantile(q);
                let shown = shown.unwrap_or(f64::NAN);
                // 1 % sketch bound, plus half a unit of the one-decimal ms display.
                let bound = exact * 0.01 + 0.000_05;
                ensure((shown - exact).abs() <= bound, || {
                    format!("{module} {name}: shown {shown} s, exact {exact} s (bound {bound})")
                })?;
            }
            println!("{module}: {row:?}");
        }

        // The spec's JSON dashboard: its reported values, its own alert in the source's
        // status, and the alert redline's rules raise.
        wait_until(
            "the legacy source's own alert",
            Duration::from_secs(30),
            async || {
                let (_, text) = source_state(&dashboard, "legacy").await?;
                Ok(text
                    .contains("High error rate in legacy_billing")
                    .then_some(()))
            },
        )
        .await?;
        let billing = wait_row(&dashboard, "legacy_billing", "reported values", |r| {
            cell(r, |r| &r.error_rate).is_some_and(|e| (e - 0.15).abs() < 0.005)
        })
        .await?;
        ensure(cell(&billing, |r| &r.p95) == Some(0.08), || {
            format!("legacy_billing p95 should read 80 ms as reported: {billing:?}")
        })?;
        wait_until(
            "a critical error-rate alert for legacy_billing",
            Duration::from_secs(30),
            async || {
                let alerts = dashboard.alerts().await?;
                Ok(alerts.into_iter().find(|a| {
                    a.text.contains("legacy_billing") && a.level.as_deref() == Some("critical")
                }))
            },
        )
        .await?;

        // Probes: answers are fast or slow; errors, hangs and CORS refusals are errors.
        let fast = wait_row(&dashboard, "probe_fast", "a success", |r| {
            cell(r, |r| &r.error_rate) == Some(0.0)
        })
        .await?;
        let slow = wait_row(&dashboard, "probe_slow", "timed successes", |r| {
            cell(r, |r| &r.p50).is_some_and(|p| p >= 0.29)
        })
        .await?;
        println!("probes: {fast:?} {slow:?}");
        for module in ["probe_error", "probe_hang", "probe_nocors"] {
            wait_row(&dashboard, module, "100 % errors", |r| {
                cell(r, |r| &r.error_rate) == Some(1.0)
            })
            .await?;
        }

        // Broken and huge responses: the source says what is wrong; the rest go on.
        let (state, text) = wait_until(
            "the garbage source failing",
            Duration::from_secs(30),
            async || {
                let (state, text) = source_state(&dashboard, "garbage").await?;
                Ok((state == "failing" || text.contains("line")).then_some((state, text)))
            },
        )
        .await?;
        println!("garbage source: {state} {text:?}");
        ensure(text.contains("line"), || {
            format!("the garbage source's status does not say where the page broke: {text:?}")
        })?;
        let (_, text) = wait_until(
            "the huge source failing",
            Duration::from_secs(30),
            async || {
                let (state, text) = source_state(&dashboard, "huge").await?;
                Ok((state == "failing").then_some(((), text)))
            },
        )
        .await?;
        println!("huge source: {text:?}");
        ensure(text.contains("larger than"), || {
            format!("the huge source's status does not name the size cap: {text:?}")
        })?;
        let (state, _) = source_state(&dashboard, "sse").await?;
        ensure(state == "ok", || {
            format!("the SSE source is {state}, not ok")
        })?;
        // 100,000 series: capped at the source's 200 modules, and the rest counted.
        let (_, text) = wait_until(
            "the many-series source's module cap",
            Duration::from_secs(30),
            async || {
                let (state, text) = source_state(&dashboard, "many").await?;
                Ok((state == "ok" && text.contains("max_modules")).then_some(((), text)))
            },
        )
        .await?;
        println!("many-series source: {text:?}");
        // Broken events are counted by reason; the good ones around them recorded.
        let mixed = wait_row(&dashboard, "sse_mixed", "the 200 good events", |r| {
            cell(r, |r| &r.error_rate).is_some_and(|e| (e - 0.05).abs() < 0.0005)
        })
        .await?;
        println!("sse_mixed: {mixed:?}");
        let (_, text) = source_state(&dashboard, "bad-events").await?;
        println!("bad-events source: {text:?}");
        ensure(
            text.contains("200 taken") && text.contains("5 refused"),
            || format!("the bad-events source does not count good and broken events: {text:?}"),
        )?;
        // A module with NaN or negative values in a spec dashboard is skipped and
        // counted; the good one beside it is taken.
        let (_, text) = wait_until(
            "the NaN dashboard's skipped values",
            Duration::from_secs(30),
            async || {
                let (_, text) = source_state(&dashboard, "nan-dashboard").await?;
                Ok(text.contains("skipped").then_some(((), text)))
            },
        )
        .await?;
        println!("nan-dashboard source: {text:?}");
        wait_row(
            &dashboard,
            "fine_billing",
            "the good module beside it",
            |r| cell(r, |r| &r.p95) == Some(0.08),
        )
        .await?;
        // The page still ticks: the summary's clock moves.
        let before = dashboard.text("[data-testid=source-status]").await?;
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let after = dashboard.text("[data-testid=source-status]").await?;
        ensure(before != after, || {
            format!("the page stopped ticking: {after:?}")
        })?;

        dashboard.filter_modules("").await?;
        // Over 200 modules now, far more than when the table first measured itself:
        // its visible area is still filled with rows.
        let (rows, room) = wait_until(
            "the table filled with rows",
            Duration::from_secs(10),
            async || {
                let (rows, room) = dashboard.table_fill().await?;
                Ok((room > 10 && rows >= room).then_some((rows, room)))
            },
        )
        .await?;
        println!("module table: {rows} rows rendered for {room} rows of room");
        browser.screenshot("sources").await?;
        dashboard.go_to_hash("#/modules/%2Fapi").await?;
        let detail = wait_until(
            "the /api detail with its bucket",
            Duration::from_secs(20),
            async || {
                Ok(dashboard
                    .text("[data-testid=detail-line]")
                    .await?
                    .filter(|t| t.contains("in bucket")))
            },
        )
        .await?;
        println!("/api detail: {detail}");
        ensure(detail.contains("250 ms – 500 ms"), || {
            format!("the detail does not show the p95's bucket bounds: {detail}")
        })?;
        browser.screenshot("scraped-detail").await?;
        ensure_no_page_errors(browser).await?;
        Ok(())
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles, the test peers and prometheus; run `make test-e2e`"]
async fn prometheus_as_a_target_and_as_a_query_api() -> E2eResult<()> {
    let service = Peer::start("instrumented_app.py", &[])?;
    let app_target = format!("127.0.0.1:{}", service.ports.first().copied().unwrap_or(0));
    let prometheus = Peer::prometheus(&[app_target])?;
    let config = serde_json::json!({
        "sources": [
            // Prometheus's own exposition, its HTTP handlers as modules. Prometheus sends
            // no CORS headers on /metrics, so the page reads it from its own origin,
            // through the test server, as a reverse proxy would serve it.
            {"kind": "prometheus", "name": "prometheus-self", "url": "prometheus/metrics",
             "interval_seconds": 1, "module_label": "handler",
             "requests_metric": "prometheus_http_requests_total",
             "latency_histogram": "prometheus_http_request_duration_seconds"},
            // The query API over what Prometheus scraped from the service.
            {"kind": "prometheus_query", "name": "fleet", "url": prometheus.url(0, ""),
             "interval_seconds": 1, "module_label": "handler"},
        ]
    })
    .to_string();
    // Known traffic, spread over the first seconds so that rate() has samples: /api
    // at 50 ms with 10 % errors, /slow at 800 ms.
    let drive = {
        let base = service.url(0, "");
        move || -> E2eResult<()> {
            get(&format!(
                "{base}/drive?handler=/api&latency=0.05&status=200&count=90"
            ))?;
            get(&format!(
                "{base}/drive?handler=/api&latency=0.05&status=500&count=10"
            ))?;
            get(&format!(
                "{base}/drive?handler=/slow&latency=0.8&status=200&count=10"
            ))?;
            Ok(())
        }
    };
    // Ten seconds of scraped history before the page opens, for the range queries.
    for _ in 0..10 {
        drive()?;
        std::thread::sleep(Duration::from_secs(1));
    }
    let root = dist()?;
    let overlay: &[(&str, &[u8])] = &[("/redline.json", config.as_bytes())];
    let proxies = [("/prometheus/", prometheus.url(0, ""))];
    run_proxying(
        "prometheus",
        &root,
        overlay,
        &proxies,
        async |browser, server| {
            let dashboard = Dashboard::new(browser);
            let opened = std::time::Instant::now();
            dashboard.open(&server.url("/")).await?;
            let api = wait_until(
                "/api from the query API with 10 % errors",
                Duration::from_secs(60),
                async || {
                    drive()?;
                    Ok(row(&dashboard, "/api").await?.filter(|r| {
                        cell(r, |r| &r.error_rate).is_some_and(|e| (e - 0.10).abs() < 0.02)
                            && cell(r, |r| &r.p95).is_some()
                    }))
                },
            )
            .await?;
            println!("/api from the query API: {api:?}");
            // histogram_quantile interpolates inside the (25 ms, 50 ms] bucket.
            let p95 = cell(&api, |r| &r.p95).unwrap_or_default();
            ensure((0.025..=0.05).contains(&p95), || {
                format!("/api p95 {p95} s is outside the (25 ms, 50 ms] bucket")
            })?;
            let slow = wait_row(&dashboard, "/slow", "a p95 over 500 ms", |r| {
                cell(r, |r| &r.p95).is_some_and(|p| (0.5..=1.0).contains(&p))
            })
            .await?;
            println!("/slow from the query API: {slow:?}");
            // Prometheus's own handlers, scraped from its /metrics.
            let own = wait_row(
                &dashboard,
                "/api/v1/query",
                "Prometheus's query handler, scraped",
                |r| cell(r, |r| &r.rps).is_some_and(|rps| rps > 0.0),
            )
            .await?;
            println!("Prometheus's own /api/v1/query: {own:?}");
            for name in ["prometheus-self", "fleet"] {
                let (state, text) = source_state(&dashboard, name).await?;
                ensure(state == "ok", || {
                    format!("source {name} is {state}: {text}")
                })?;
            }
            browser.screenshot("prometheus").await?;
            // The query API's past fills the charts: more points than ticks since opening.
            dashboard.go_to_hash("#/modules/%2Fapi").await?;
            let points = wait_until("the /api latency chart", Duration::from_secs(20), async || {
                Ok(dashboard
                    .attribute("[data-testid=chart-latency]", "data-points")
                    .await?
                    .and_then(|p| p.parse::<u64>().ok()))
            })
            .await?;
            let ticks = opened.elapsed().as_secs();
            println!("/api chart: {points} points, {ticks} s after opening");
            ensure(points > ticks + 3, || {
                format!("the /api chart holds {points} points {ticks} s after opening: no history from query_range")
            })?;
            browser.screenshot("prometheus-detail").await?;
            ensure_no_page_errors(browser).await?;
            Ok(())
        },
    )
    .await
}
