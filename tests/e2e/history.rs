//! History in IndexedDB: a reload resumes windows and firing alerts without announcing
//! them again; a budget that is too small, or no IndexedDB at all, leaves live
//! monitoring running and says what is wrong.

use std::time::Duration;

use serde_json::Value;

use crate::browser::{E2eResult, ensure, wait_until};
use crate::dashboard::Dashboard;
use crate::{WAIT, dist, ensure_no_page_errors, run};

/// Records notifications before the app starts (the permission granted, the user
/// elsewhere), so that a reload's first ticks are watched too.
const RECORDER: &str = "<script>
  window.__notes = [];
  window.Notification = class {
    constructor(title, options) { window.__notes.push({ title, ...options, at: Date.now() }); }
    static get permission() { return 'granted'; }
    static requestPermission() { return Promise.resolve('granted'); }
  };
  document.hasFocus = () => false;
</script>";

/// Takes IndexedDB away, as private modes and locked-down frames do.
const NO_INDEXEDDB: &str =
    "<script>Object.defineProperty(window, 'indexedDB', { value: undefined });</script>";

/// The bundle's index.html with `script` first in its head.
fn index_with(script: &str) -> E2eResult<Vec<u8>> {
    let index = std::fs::read_to_string(dist()?.join("index.html"))?;
    Ok(index
        .replacen("<head>", &format!("<head>{script}"), 1)
        .into_bytes())
}

async fn history_state(dashboard: &Dashboard<'_>) -> E2eResult<Option<String>> {
    dashboard
        .attribute("[data-testid=history-status]", "data-state")
        .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn a_reload_resumes_history_and_firing_alerts_without_notifying_again() -> E2eResult<()> {
    let root = dist()?;
    let index = index_with(RECORDER)?;
    let config =
        br#"{ "simulation": { "speed": 20 }, "notifications": { "min_interval_seconds": 1 } }"#;
    let overlay: &[(&str, &[u8])] = &[
        ("/index.html", &index),
        ("/", &index),
        ("/redline.json", config),
    ];
    run("history-reload", &root, overlay, async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;
        dashboard
            .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
            .await?;
        wait_until("history recording", WAIT, async || {
            Ok(history_state(&dashboard)
                .await?
                .filter(|s| s == "recording"))
        })
        .await?;
        let firing = wait_until("a firing critical database alert", WAIT, async || {
            let alerts = dashboard.alerts().await?;
            Ok(alerts.into_iter().find(|a| {
                a.state.as_deref() == Some("firing")
                    && a.level.as_deref() == Some("critical")
                    && a.text.contains("database")
            }))
        })
        .await?;
        println!("before the reload: {}", firing.text);
        // Let a few steps' writes land.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        browser.client().refresh().await?;
        dashboard
            .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
            .await?;
        let status = wait_until("history resumed", WAIT, async || {
            let state = history_state(&dashboard).await?;
            let text = dashboard.text("[data-testid=history-status]").await?;
            Ok(text.filter(|t| {
                state.as_deref() == Some("recording") && !t.contains("resumed 0 ticks")
            }))
        })
        .await?;
        println!("after the reload: {status}");
        let alerts = dashboard.alerts().await?;
        let still = alerts.iter().find(|a| {
            a.state.as_deref() == Some("firing")
                && a.level.as_deref() == Some("critical")
                && a.text.contains("database")
        });
        ensure(still.is_some(), || {
            format!("the database alert is firing after the reload: {alerts:#?}")
        })?;
        let charted = dashboard
            .attribute("[data-testid=chart-latency]", "data-points")
            .await?;
        dashboard.go_to_hash("#/modules/database").await?;
        let points = wait_until("the database chart's resumed points", WAIT, async || {
            let points = dashboard
                .attribute("[data-testid=chart-latency]", "data-points")
                .await?;
            Ok(points
                .and_then(|p| p.parse::<u32>().ok())
                .filter(|p| *p >= 60))
        })
        .await?;
        println!("latency chart: {points} points (overview: {charted:?})");
        // The last hour from stored rollups: one point per minute of simulated time.
        browser
            .client()
            .execute(
                "document.querySelector('[data-testid=range-1]').click(); return true;",
                vec![],
            )
            .await?;
        let note = wait_until("the hour's stored points", WAIT, async || {
            let note = dashboard.text("[data-testid=range-note]").await?;
            Ok(note.filter(|n| n.contains("points from stored history")))
        })
        .await?;
        println!("1 h range: {note}");
        let stored: u32 = note
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        ensure(stored >= 3, || format!("a few minutes of rollups: {note}"))?;
        let drawn = dashboard
            .attribute("[data-testid=chart-latency]", "data-points")
            .await?;
        ensure(drawn == Some(stored.to_string()), || {
            format!("the chart draws the range's {stored} points, not the live ones: {drawn:?}")
        })?;
        browser.screenshot("history-range").await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let notes: Value = browser
            .client()
            .execute("return window.__notes;", vec![])
            .await?;
        let again: Vec<&Value> = notes
            .as_array()
            .into_iter()
            .flatten()
            .filter(|n| {
                let text = format!("{} {}", n["title"], n["body"]);
                text.contains("firing: database") || text.contains("Firing: database")
            })
            .collect();
        browser.screenshot("history-after-reload").await?;
        ensure(again.is_empty(), || {
            format!("announced again after the reload: {again:#?}")
        })?;
        ensure_no_page_errors(browser).await
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn a_full_budget_or_no_indexeddb_leaves_live_monitoring_running() -> E2eResult<()> {
    let root = dist()?;
    let config = br#"{ "history": { "budget_mib": 0.001 } }"#;
    let overlay: &[(&str, &[u8])] = &[("/redline.json", config)];
    run("history-full", &root, overlay, async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;
        dashboard
            .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
            .await?;
        let problem = wait_until(
            "the budget problem shown",
            Duration::from_secs(40),
            async || {
                let state = history_state(&dashboard).await?;
                let text = dashboard.text("[data-testid=history-problem]").await?;
                Ok(text.filter(|_| state.as_deref() == Some("full")))
            },
        )
        .await?;
        println!("{problem}");
        ensure(
            problem.contains("budget") && problem.contains("Live monitoring continues"),
            || format!("the problem says what and what still works: {problem}"),
        )?;
        let before = dashboard.text("[data-testid=source-status]").await?;
        wait_until("live numbers still moving", WAIT, async || {
            let now = dashboard.text("[data-testid=source-status]").await?;
            Ok((now != before).then_some(()))
        })
        .await?;
        browser.screenshot("history-full").await?;
        ensure_no_page_errors(browser).await
    })
    .await?;
    let index = index_with(NO_INDEXEDDB)?;
    let overlay: &[(&str, &[u8])] = &[("/index.html", &index), ("/", &index)];
    run(
        "history-unavailable",
        &root,
        overlay,
        async |browser, server| {
            let dashboard = Dashboard::new(browser);
            dashboard.open(&server.url("/")).await?;
            dashboard
                .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
                .await?;
            let problem = wait_until("IndexedDB's absence shown", WAIT, async || {
                let state = history_state(&dashboard).await?;
                let text = dashboard.text("[data-testid=history-problem]").await?;
                Ok(text.filter(|_| state.as_deref() == Some("unavailable")))
            })
            .await?;
            println!("{problem}");
            ensure(problem.contains("IndexedDB is unavailable"), || {
                problem.clone()
            })?;
            let before = dashboard.text("[data-testid=source-status]").await?;
            wait_until("live numbers still moving", WAIT, async || {
                let now = dashboard.text("[data-testid=source-status]").await?;
                Ok((now != before).then_some(()))
            })
            .await?;
            browser.screenshot("history-unavailable").await?;
            ensure_no_page_errors(browser).await
        },
    )
    .await
}
