//! Notifications for people: desktop notifications grouped into at most one per
//! interval while the user looks elsewhere, and the favicon badge of the worst level.
//! The page's `Notification` is replaced by a recorder (headless Chromium shows none).

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::{E2eResult, ensure, wait_until};
use crate::dashboard::Dashboard;
use crate::{WAIT, dist, ensure_no_page_errors, run};

/// Records notifications instead of showing them, grants permission, and says the
/// user is in another window.
const RECORDER: &str = "
  window.__notes = [];
  window.Notification = class {
    constructor(title, options) { window.__notes.push({ title, ...options, at: Date.now() }); }
    static get permission() { return window.__granted ? 'granted' : 'default'; }
    static requestPermission() { window.__granted = true; return Promise.resolve('granted'); }
  };
  document.hasFocus = () => false;
  return true;";

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn alerts_make_grouped_notifications_and_a_badge() -> E2eResult<()> {
    let root = dist()?;
    let config = br#"{
        "simulation": { "speed": 20 },
        "notifications": { "min_interval_seconds": 5 }
    }"#;
    let overlay: &[(&str, &[u8])] = &[("/redline.json", config)];
    run("notify", &root, overlay, async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;
        dashboard
            .wait_for_modules(crate::SIMULATED_MODULES, WAIT)
            .await?;
        browser.client().execute(RECORDER, vec![]).await?;
        browser
            .client()
            .execute(
                "document.querySelector('[data-testid=notifications]').click(); return true;",
                vec![],
            )
            .await?;
        let on = wait_until("notifications switched on", WAIT, async || {
            let text = dashboard.text("[data-testid=notifications]").await?;
            Ok(text.filter(|t| t.contains("notifications on")))
        })
        .await?;
        println!("header: {on}");
        let started = Instant::now();
        let badge = wait_until("the critical badge in the favicon", WAIT, async || {
            let href = browser
                .client()
                .execute(
                    "return document.querySelector('link[rel~=icon]')?.href ?? null;",
                    vec![],
                )
                .await?;
            Ok(href
                .as_str()
                .filter(|h| h.contains("dc2626"))
                .map(str::to_owned))
        })
        .await?;
        println!("favicon: {badge}");
        // At 20× speed, simulated incidents make dozens of transitions in 16 s.
        tokio::time::sleep(Duration::from_secs(16)).await;
        let elapsed = started.elapsed().as_secs_f64();
        let notes: Vec<Value> = serde_json::from_value(
            browser
                .client()
                .execute("return window.__notes;", vec![])
                .await?,
        )?;
        println!(
            "{} notifications in {elapsed:.0} s: {notes:#?}",
            notes.len()
        );
        ensure(!notes.is_empty(), || {
            "no notification while the user was elsewhere".to_owned()
        })?;
        let most = (elapsed / 5.0).ceil() as usize + 1;
        ensure(notes.len() <= most, || {
            format!(
                "{} notifications in {elapsed:.0} s: a storm (at most {most})",
                notes.len()
            )
        })?;
        ensure(notes.iter().all(|n| n["tag"] == "redline-alerts"), || {
            "every notification replaces the last (one tag)".to_owned()
        })?;
        ensure(
            notes
                .iter()
                .any(|n| n["body"].as_str().is_some_and(|b| b.contains("firing: "))),
            || "no notification lists a firing alert".to_owned(),
        )?;
        ensure_no_page_errors(browser).await
    })
    .await
}
