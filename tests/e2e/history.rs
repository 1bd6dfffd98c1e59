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

/// Puts a record that is not a tick between the two newest stored ticks.
const CORRUPT_ONE: &str = "
  const done = arguments[arguments.length - 1];
  const open = indexedDB.open('redline-history');
  open.onsuccess = () => {
    const store = open.result.transaction('ticks', 'readwrite').objectStore('ticks');
    const keys = store.getAllKeys();
    keys.onsuccess = () => {
      const newest = keys.result[keys.result.length - 1];
      store.put(new Uint8Array([1, 200, 7]), newest - 0.5);
      store.transaction.oncomplete = () => { open.result.close(); done(true); };
    };
  };
  open.onerror = () => done(false);";

/// How many ticks are stored.
const COUNT_TICKS: &str = "
  const done = arguments[arguments.length - 1];
  const open = indexedDB.open('redline-history');
  open.onsuccess = () => {
    const count = open.result.transaction('ticks').objectStore('ticks').count();
    count.onsuccess = () => { open.result.close(); done(count.result); };
    count.onerror = () => done(0);
  };
  open.onerror = () => done(0);";

/// Shows the live window, then picks the last hour.
const PICK_HOUR: &str = "
  document.querySelector('[data-testid=range-0]').click();
  document.querySelector('[data-testid=range-1]').click();
  return true;";

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
        // Let a few steps' writes land, then slip a corrupt record in among them.
        tokio::time::sleep(Duration::from_millis(3000)).await;
        browser.client().execute_async(CORRUPT_ONE, vec![]).await?;
        // The reload, at 1x: what follows it is slow enough to tell a resumed alert
        // from a new one.
        dashboard.open(&server.url("/?speed=1")).await?;
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
        let problem = dashboard.text("[data-testid=history-problem]").await?;
        ensure(
            problem
                .as_deref()
                .is_some_and(|p| p.contains("1 corrupt history record was skipped")),
            || format!("the corrupt record is reported: {problem:?}"),
        )?;
        // The same alert: its metric and its start time (it may have resolved since,
        // at 20x speed, but it must not have started again).
        let identity = |text: &str| -> Vec<String> {
            text.lines()
                .map(str::trim)
                .filter(|l| l.starts_with("latency_") || l.starts_with("error_") || is_clock(l))
                .map(str::to_owned)
                .collect()
        };
        let wanted = identity(&firing.text);
        ensure(wanted.len() == 2, || {
            format!("metric and start time in: {}", firing.text)
        })?;
        // The Alerts view lists them all (the overview only the first eight).
        dashboard.go_to_hash("#/alerts").await?;
        let alerts = dashboard.alerts().await?;
        let same = alerts.iter().find(|a| {
            a.level.as_deref() == Some("critical")
                && a.text.contains("database")
                && identity(&a.text) == wanted
        });
        ensure(same.is_some(), || {
            format!("the alert {wanted:?} resumed with its start time: {alerts:#?}")
        })?;
        // The stored alert history (the last 24 h, loaded as the view opens) holds the
        // same alert once, though it was recorded by two page loads.
        let stored = wait_until("the alert in the stored alert history", WAIT, async || {
            let history = dashboard.history_alerts().await?;
            let same: Vec<_> = history
                .into_iter()
                .filter(|a| a.text.contains("database") && identity(&a.text) == wanted)
                .collect();
            Ok((!same.is_empty()).then_some(same))
        })
        .await?;
        ensure(stored.len() == 1, || {
            format!("one history item for the alert {wanted:?}: {stored:#?}")
        })?;
        ensure(stored[0].level.as_deref() == Some("critical"), || {
            format!("its worst level: {stored:#?}")
        })?;
        let note = dashboard.text("[data-testid=alert-history-note]").await?;
        println!("alert history: {note:?}");
        browser
            .client()
            .execute(
                "document.querySelector('[data-testid=alert-history]').scrollIntoView();",
                vec![],
            )
            .await?;
        browser.screenshot("history-alerts").await?;
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
        // The last hour from stored rollups: one point per minute of simulated time
        // (the minutes that the first page stored at 20x).
        let note = wait_until("two minutes of stored points", WAIT, async || {
            browser.client().execute(PICK_HOUR, vec![]).await?;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let note = dashboard.text("[data-testid=range-note]").await?;
            Ok(note.filter(|n| {
                n.contains("points from stored history")
                    && n.split_whitespace()
                        .next()
                        .and_then(|c| c.parse::<u32>().ok())
                        >= Some(2)
            }))
        })
        .await?;
        println!("1 h range: {note}");
        let stored: u32 = note
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        ensure(stored >= 2, || format!("a few minutes of rollups: {note}"))?;
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
                text.contains("database") && text.contains(&wanted[0]) && text.contains("iring")
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

/// A wall-clock time as the alert list shows a start: `HH:MM:SS`.
fn is_clock(text: &str) -> bool {
    let parts: Vec<&str> = text.split(':').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn a_second_tab_reads_the_history_and_writes_once_the_first_has_gone() -> E2eResult<()> {
    let root = dist()?;
    run("history-tabs", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;
        dashboard
            .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
            .await?;
        wait_until("the first tab recording", WAIT, async || {
            Ok(history_state(&dashboard)
                .await?
                .filter(|s| s == "recording"))
        })
        .await?;
        wait_until("the first tab's ticks stored", WAIT, async || {
            let stored = browser.client().execute_async(COUNT_TICKS, vec![]).await?;
            Ok(stored.as_u64().filter(|n| *n > 0))
        })
        .await?;
        let first = browser.client().window().await?;
        let second = browser.client().new_window(true).await?;
        browser
            .client()
            .switch_to_window(second.handle.clone())
            .await?;
        dashboard.open(&server.url("/")).await?;
        dashboard
            .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
            .await?;
        let chip = wait_until("the second tab on standby", WAIT, async || {
            let text = dashboard.text("[data-testid=history-status]").await?;
            Ok(text.filter(|t| t.contains("standby")))
        })
        .await?;
        println!("second tab: {chip}");
        ensure(!chip.contains("resumed 0 ticks"), || {
            format!("the second tab resumes from what the first stored: {chip}")
        })?;
        let problem = dashboard.text("[data-testid=history-problem]").await?;
        ensure(
            problem
                .as_deref()
                .is_some_and(|p| p.contains("another tab")),
            || format!("the second tab says why it stores nothing: {problem:?}"),
        )?;
        browser.screenshot("history-second-tab").await?;
        browser.client().switch_to_window(first).await?;
        let state = history_state(&dashboard).await?;
        ensure(state.as_deref() == Some("recording"), || {
            format!("the first tab keeps recording: {state:?}")
        })?;
        // The first tab goes: the second takes over the writing.
        browser.client().close_window().await?;
        browser.client().switch_to_window(second.handle).await?;
        wait_until("the second tab taking over", WAIT, async || {
            Ok(history_state(&dashboard)
                .await?
                .filter(|s| s == "recording"))
        })
        .await?;
        ensure_no_page_errors(browser).await
    })
    .await
}
