//! Alerts that reach people: a real Alertmanager receives the simulator's firing
//! alert with the right labels and sees it resolve; a webhook receiver that fails its
//! first attempts gets the alert after retries; and a config from a `?config=` link
//! sends nothing until the user allows it.

use std::time::Duration;

use serde_json::Value;

use crate::browser::{E2eResult, ensure, wait_until};
use crate::dashboard::Dashboard;
use crate::peers::{Peer, get};
use crate::static_server::HOOK_PATH;
use crate::{dist, ensure_no_page_errors, run, run_proxying};

/// Long enough for the simulator's database incident to fire and resolve at 20×.
const ALERT_WAIT: Duration = Duration::from_secs(60);

/// The alerts Alertmanager holds now (active ones only: resolved alerts are not listed).
fn alertmanager_alerts(am: &Peer) -> E2eResult<Vec<Value>> {
    Ok(serde_json::from_str(&get(&am.url(0, "/api/v2/alerts"))?)?)
}

/// The "N delivered" count in a webhook panel's text.
fn delivered_count(text: &str) -> Option<u64> {
    let before = text.split(" delivered").next()?;
    before.split_whitespace().last()?.parse().ok()
}

/// The database's critical p95 threshold alert (not the anomaly detector's on the
/// same metric), as Alertmanager holds it.
fn database_critical(alerts: &[Value]) -> Option<Value> {
    alerts
        .iter()
        .find(|a| {
            let labels = &a["labels"];
            labels["module"] == "database"
                && labels["severity"] == "critical"
                && labels["metric"] == "latency_p95"
                && labels["rule"]
                    .as_str()
                    .is_some_and(|rule| rule.starts_with("latency_p95 >"))
        })
        .cloned()
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn alertmanager_receives_the_firing_alert_and_sees_it_resolve() -> E2eResult<()> {
    let am = Peer::alertmanager()?;
    let root = dist()?;
    // Alertmanager sends no CORS headers: the page reaches it through a path of its
    // own origin, as the README says to set up.
    let config = br#"{
        "simulation": { "speed": 20 },
        "webhooks": [{ "name": "am", "kind": "alertmanager", "url": "/alertmanager",
                       "resend_seconds": 5 }]
    }"#;
    let overlay: &[(&str, &[u8])] = &[("/redline.json", config)];
    let proxies = [("/alertmanager", am.url(0, ""))];
    run_proxying(
        "webhooks-am",
        &root,
        overlay,
        &proxies,
        async |browser, server| {
            Dashboard::new(browser).open(&server.url("/")).await?;
            let alert = wait_until(
                "the database's critical alert in Alertmanager",
                ALERT_WAIT,
                async || Ok(database_critical(&alertmanager_alerts(&am)?)),
            )
            .await?;
            println!("Alertmanager holds: {alert:#}");
            for label in ["alertname", "module", "metric", "rule", "severity"] {
                ensure(alert["labels"][label].is_string(), || {
                    format!("label {label} is missing: {alert}")
                })?;
            }
            ensure(
                alert["annotations"]["summary"]
                    .as_str()
                    .is_some_and(|s| s.contains("database")),
                || format!("the summary names the module: {alert}"),
            )?;
            let generator = alert["generatorURL"].as_str().unwrap_or_default();
            ensure(generator == server.url("/#/modules/database"), || {
                format!("generatorURL {generator:?} does not open the module in the dashboard")
            })?;
            ensure(
                alert["startsAt"].as_str().is_some_and(|s| s.ends_with('Z')),
                || format!("startsAt: {alert}"),
            )?;
            // The incident ends; the resolved alert arrives with its endsAt and leaves
            // Alertmanager's active list (its resolve_timeout is 5 minutes: only our
            // endsAt can end it this soon).
            wait_until(
                "the alert to resolve in Alertmanager",
                ALERT_WAIT,
                async || {
                    Ok(database_critical(&alertmanager_alerts(&am)?)
                        .is_none()
                        .then_some(()))
                },
            )
            .await?;
            let panel = Dashboard::new(browser)
                .text("[data-testid=webhooks]")
                .await?;
            println!("webhooks panel: {panel:?}");
            let delivered = panel.as_deref().and_then(delivered_count);
            ensure(delivered.is_some_and(|n| n >= 2), || {
                format!("the panel shows under two deliveries (firing, resolved): {panel:?}")
            })?;
            browser.screenshot("alertmanager").await?;
            ensure_no_page_errors(browser).await
        },
    )
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn a_linked_config_waits_for_consent_then_retries_into_a_failing_receiver() -> E2eResult<()> {
    let root = dist()?;
    let config = format!(
        r#"{{
        "simulation": {{ "speed": 20 }},
        "webhooks": [{{ "name": "hook", "kind": "json", "url": "{HOOK_PATH}" }}]
    }}"#
    );
    let overlay: &[(&str, &[u8])] = &[("/linked.json", config.as_bytes())];
    run(
        "webhooks-consent",
        &root,
        overlay,
        async |browser, server| {
            server.fail_hook_attempts(2);
            let dashboard = Dashboard::new(browser);
            dashboard.open(&server.url("/?config=/linked.json")).await?;
            // Alerts fire (the database incident) while the webhook is held.
            wait_until(
                "a firing critical alert on the page",
                ALERT_WAIT,
                async || {
                    let alerts = dashboard.alerts().await?;
                    Ok(alerts
                        .iter()
                        .any(|a| {
                            a.level.as_deref() == Some("critical")
                                && a.state.as_deref() == Some("firing")
                        })
                        .then_some(()))
                },
            )
            .await?;
            tokio::time::sleep(Duration::from_secs(2)).await;
            let held = server
                .requested_paths()
                .iter()
                .filter(|p| *p == HOOK_PATH)
                .count();
            ensure(held == 0, || {
                format!("a config from a link sent {held} requests before the user allowed it")
            })?;
            let enabled = dashboard
                .attribute("[data-testid=webhook]", "data-enabled")
                .await?;
            ensure(enabled.as_deref() == Some("false"), || {
                format!("the linked webhook is not held: {enabled:?}")
            })?;
            browser.screenshot("held").await?;

            browser
                .client()
                .execute(
                    "document.querySelector('[data-testid=webhook-allow]').click(); return true;",
                    vec![],
                )
                .await?;
            let bodies = wait_until(
                "the receiver to accept a delivery after retries",
                ALERT_WAIT,
                async || {
                    let (bodies, refused) = server.hook_received();
                    Ok((!bodies.is_empty() && refused == 2).then_some(bodies))
                },
            )
            .await?;
            let first: Value = serde_json::from_str(&bodies[0])?;
            println!("first delivery: {first:#}");
            ensure(
                first["transition"] == "firing" && first["alert"]["module"].is_string(),
                || format!("the delivery is not a firing alert: {first}"),
            )?;
            let counts = wait_until("the panel's counts", ALERT_WAIT, async || {
                let counts = dashboard.text("[data-testid=webhook-counts]").await?;
                Ok(counts.filter(|c| {
                    c.contains("2 failed attempts") && delivered_count(c).is_some_and(|n| n > 0)
                }))
            })
            .await?;
            println!("webhook counts: {counts}");
            browser.screenshot("delivered").await?;
            ensure_no_page_errors(browser).await
        },
    )
    .await
}
