//! Export and import: the config panel's document, saved to a file and imported
//! back, round-trips (validated first; a broken file changes nothing), and an
//! imported config's webhooks wait for the user's consent.

use fantoccini::Locator;

use crate::browser::{Browser, E2eResult, artifacts_dir, ensure, wait_until};
use crate::dashboard::Dashboard;
use crate::static_server::HOOK_PATH;
use crate::{WAIT, dist, ensure_no_page_errors, run};

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn an_exported_config_imports_back_and_a_broken_one_is_refused() -> E2eResult<()> {
    let root = dist()?;
    run("config-io", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/#/settings")).await?;
        let exported = editor_text(browser).await?;
        // What "Export config" downloads is this document; change it and import it.
        let mut document: serde_json::Value = serde_json::from_str(&exported)?;
        document["monitor"]["window_seconds"] = 30.into();
        document["webhooks"] =
            serde_json::json!([{ "name": "imported", "kind": "json", "url": HOOK_PATH }]);
        let dir = artifacts_dir()?;
        let broken = dir.join("config-io-broken.json");
        std::fs::write(&broken, b"{\"monitor\": {\"window_seconds\": -5}}")?;
        let good = dir.join("config-io-good.json");
        std::fs::write(&good, serde_json::to_vec_pretty(&document)?)?;

        let input = browser
            .client()
            .find(Locator::Css("[data-testid=config-import]"))
            .await?;
        input.send_keys(&broken.display().to_string()).await?;
        let refused = wait_until("the broken file's message", WAIT, async || {
            dashboard.text("[data-testid=config-message]").await
        })
        .await?;
        println!("broken import: {refused}");
        ensure(refused.contains("window"), || {
            format!("the message does not say what is wrong: {refused}")
        })?;

        let input = browser
            .client()
            .find(Locator::Css("[data-testid=config-import]"))
            .await?;
        input.send_keys(&good.display().to_string()).await?;
        // The page restarts with it, from localStorage, its webhook held.
        let held = wait_until("the imported webhook, held", WAIT, async || {
            dashboard.go_to_hash("#/").await?;
            dashboard
                .attribute("[data-testid=webhook]", "data-enabled")
                .await
        })
        .await?;
        ensure(held == "false", || {
            format!("the imported webhook is not held: {held}")
        })?;
        dashboard.go_to_hash("#/settings").await?;
        let now = editor_text(browser).await?;
        // The same document, with the webhook's defaults filled in.
        let mut in_force: serde_json::Value = serde_json::from_str(&now)?;
        let hook = in_force["webhooks"][0].take();
        ensure(
            hook["name"] == "imported" && hook["url"] == HOOK_PATH,
            || format!("the imported webhook is not in force: {hook}"),
        )?;
        in_force["webhooks"][0] = document["webhooks"][0].clone();
        ensure(
            numbers_as_floats(&in_force) == numbers_as_floats(&document),
            || format!("the imported config did not round-trip:\n{now}"),
        )?;
        ensure(
            server.requested_paths().iter().all(|p| p != HOOK_PATH),
            || "the imported webhook sent before the user allowed it".to_owned(),
        )?;
        browser.screenshot("imported").await?;
        ensure_no_page_errors(browser).await
    })
    .await
}

/// The config panel's document, once the panel shows it.
async fn editor_text(browser: &Browser) -> E2eResult<String> {
    wait_until("the config panel's document", WAIT, async || {
        let text = browser
            .client()
            .execute(
                "return document.querySelector('[data-testid=config-editor]')?.value ?? null;",
                vec![],
            )
            .await?;
        Ok(text.as_str().map(str::to_owned))
    })
    .await
}

/// `value` with every number as a float (`30` and `30.0` are the same setting).
fn numbers_as_floats(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Number(n) => n.as_f64().map_or(Value::Null, Value::from),
        Value::Array(items) => Value::Array(items.iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), numbers_as_floats(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}
