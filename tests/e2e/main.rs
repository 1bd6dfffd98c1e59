//! End-to-end tests: the release bundle served by a plain static file server and
//! driven in headless Chromium through chromedriver.
//!
//! They need the release bundles, so they are `#[ignore]`d in a plain `cargo test`;
//! `make test-e2e` (part of `make test`) builds `dist/` and the `/sub/` bundle and runs
//! them with `--ignored`. `REDLINE_E2E_DIST` and `REDLINE_E2E_SUB_ROOT` point at other
//! bundles. Screenshots and chromedriver logs land in `target/e2e-artifacts/`.
#![cfg(not(target_arch = "wasm32"))]

mod browser;
mod config_io;
mod dashboard;
mod embed;
mod history;
mod notify;
mod peers;
mod sources;
mod static_server;
mod webhooks;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use browser::{Browser, E2eError, E2eResult, ensure, wait_until};
use dashboard::Dashboard;
use static_server::StaticServer;

/// The simulator's default modules.
const SIMULATED_MODULES: &[&str] = &["api_gateway", "cache", "database", "search_engine"];
/// The longest any page may take to show what a step waits for.
const WAIT: Duration = Duration::from_secs(20);
/// The whole of one test, browser start included.
const TEST_BUDGET: Duration = Duration::from_secs(90);
/// Not valid JSON: the config loader must say so on screen.
const BROKEN_CONFIG: &[u8] = b"{\"monitor\": {\"window_seconds\": 60,";

/// Starts a server for `root` (with `overlay` files) and a browser, runs `steps`, and
/// ends both; a failure carries a screenshot, the page's errors and its text.
async fn run(
    test_name: &str,
    root: &Path,
    overlay: &[(&str, &[u8])],
    steps: impl AsyncFnOnce(&Browser, &StaticServer) -> E2eResult<()>,
) -> E2eResult<()> {
    run_proxying(test_name, root, overlay, &[], steps).await
}

/// As `run`, with the server forwarding path prefixes to other loopback servers.
async fn run_proxying(
    test_name: &str,
    root: &Path,
    overlay: &[(&str, &[u8])],
    proxies: &[(&str, String)],
    steps: impl AsyncFnOnce(&Browser, &StaticServer) -> E2eResult<()>,
) -> E2eResult<()> {
    let server = StaticServer::start(root, overlay, proxies)?;
    let browser = Browser::launch(test_name).await?;
    let outcome = match tokio::time::timeout(TEST_BUDGET, steps(&browser, &server)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(E2eError(format!(
            "the test took over {} s",
            TEST_BUDGET.as_secs()
        ))),
    };
    let outcome = match outcome {
        Ok(()) => Ok(()),
        Err(E2eError(message)) => Err(E2eError(format!(
            "{message}\n{}",
            browser.failure_context().await
        ))),
    };
    browser.close().await;
    outcome
}

/// A bundle folder from `variable`, or `default` under the crate root; it must hold
/// `index_html` (a path inside it).
fn bundle(variable: &str, default: &str, index_html: &str) -> E2eResult<PathBuf> {
    let root = std::env::var_os(variable).map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join(default),
        PathBuf::from,
    );
    ensure(root.join(index_html).is_file(), || {
        format!(
            "no release bundle at {}: run `make test-e2e`, which builds dist/ and the /sub/ \
             bundle first (or set {variable})",
            root.join(index_html).display()
        )
    })?;
    Ok(root)
}

fn dist() -> E2eResult<PathBuf> {
    bundle("REDLINE_E2E_DIST", "dist", "index.html")
}

fn sub_path_root() -> E2eResult<PathBuf> {
    bundle(
        "REDLINE_E2E_SUB_ROOT",
        "target/e2e/subpath-root",
        "sub/index.html",
    )
}

/// Fails if the page recorded an uncaught error or a panic.
async fn ensure_no_page_errors(browser: &Browser) -> E2eResult<()> {
    let errors = browser.page_errors().await?;
    ensure(errors.is_empty(), || {
        format!("the page reported errors: {errors:#?}")
    })
}

/// Fails if the error panel is showing.
async fn ensure_no_error_panel(dashboard: &Dashboard<'_>) -> E2eResult<()> {
    let panel = dashboard.text("[data-testid=error-panel]").await?;
    ensure(panel.is_none(), || {
        format!("the error panel shows: {panel:?}")
    })
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn overview_shows_the_simulated_modules_with_units() -> E2eResult<()> {
    let root = dist()?;
    run("overview", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;
        let rows = dashboard.wait_for_modules(SIMULATED_MODULES, WAIT).await?;
        println!("module rows: {rows:#?}");

        let modules = wait_until("the summary's module count", WAIT, async || {
            let text = dashboard
                .text("[data-testid=summary-bar] [data-testid=summary-modules]")
                .await?;
            Ok(text.filter(|t| t.contains('4')))
        })
        .await?;
        println!("summary-modules: {modules:?}");
        let alert_list = dashboard.text("[data-testid=alert-list]").await?;
        ensure(alert_list.is_some(), || {
            "no [data-testid=alert-list] on the overview".to_owned()
        })?;
        ensure_no_error_panel(&dashboard).await?;
        ensure_no_page_errors(browser).await?;
        // A few ticks draw the sparklines for the picture.
        tokio::time::sleep(Duration::from_secs(3)).await;
        browser.screenshot("overview").await?;
        Ok(())
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn numbers_change_within_three_seconds() -> E2eResult<()> {
    let root = dist()?;
    run("live-numbers", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/")).await?;
        let first = dashboard.wait_for_modules(SIMULATED_MODULES, WAIT).await?;
        let first_numbers: Vec<_> = first.iter().map(|row| row.numbers()).collect();
        let started = Instant::now();
        let changed = wait_until(
            "the numbers to change",
            Duration::from_secs(3),
            async || {
                let rows = dashboard.module_rows().await?;
                let numbers: Vec<_> = rows.iter().map(|row| row.numbers()).collect();
                Ok((numbers != first_numbers).then_some(rows))
            },
        )
        .await?;
        println!(
            "numbers changed after {:.2} s: {changed:#?}",
            started.elapsed().as_secs_f64()
        );
        ensure_no_page_errors(browser).await?;
        Ok(())
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn incident_raises_a_critical_alert_in_red() -> E2eResult<()> {
    let root = dist()?;
    run("incident", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        // The database's latency spike starts 20 s into the scenario: 2 s at 10x.
        dashboard.open(&server.url("/?speed=10")).await?;
        dashboard.wait_for_modules(SIMULATED_MODULES, WAIT).await?;
        let critical = "[data-testid=alert-list] [data-testid=alert][data-level=critical]\
                        [data-state=firing]";
        let alert = wait_until(
            "a firing critical alert for the database",
            Duration::from_secs(30),
            async || {
                let alerts = dashboard.alerts().await?;
                Ok(alerts.into_iter().find(|alert| {
                    alert.level.as_deref() == Some("critical")
                        && alert.state.as_deref() == Some("firing")
                        && alert.text.contains("database")
                }))
            },
        )
        .await?;
        println!("critical alert: {alert:#?}");
        browser.screenshot("incident").await?;
        let red = dashboard
            .reddish_colours(critical)
            .await?
            .unwrap_or_default();
        println!("red-ish colours of the critical alert: {red:#?}");
        ensure(!red.is_empty(), || {
            "the firing critical alert has no red-ish colour (text, background or border)"
                .to_owned()
        })?;
        let row_status = dashboard
            .attribute(
                "tr[data-testid=module-row][data-module=database]",
                "data-status",
            )
            .await?;
        println!("database row status during the incident: {row_status:?}");
        ensure_no_page_errors(browser).await?;
        Ok(())
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn module_detail_route_opens() -> E2eResult<()> {
    let root = dist()?;
    run("module-detail", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        // At 10x, a few seconds fill the charts with half a minute, incident included.
        dashboard
            .open(&server.url("/?speed=10#/modules/database"))
            .await?;
        for module in ["database", "cache"] {
            if module != "database" {
                // A hash change, as a click on a module link makes.
                dashboard.go_to_hash(&format!("#/modules/{module}")).await?;
            }
            wait_until(
                &format!("[data-testid=module-detail][data-module={module}]"),
                WAIT,
                async || {
                    let shown = dashboard
                        .attribute("[data-testid=module-detail]", "data-module")
                        .await?;
                    Ok((shown.as_deref() == Some(module)).then_some(()))
                },
            )
            .await?;
            let text = dashboard
                .text("[data-testid=module-detail]")
                .await?
                .unwrap_or_default();
            ensure(text.contains(module), || {
                format!("the detail view for {module} does not name it: {text:?}")
            })?;
            // Let the charts fill before the picture.
            tokio::time::sleep(Duration::from_secs(3)).await;
            browser.screenshot(module).await?;
        }
        ensure_no_error_panel(&dashboard).await?;
        ensure_no_page_errors(browser).await?;
        Ok(())
    })
    .await
}

/// Waits for the error panel and checks that its message is one a user can act on.
async fn expect_config_error(dashboard: &Dashboard<'_>, source_name: &str) -> E2eResult<()> {
    let message = wait_until("[data-testid=error-panel]", WAIT, async || {
        dashboard.text("[data-testid=error-panel]").await
    })
    .await?;
    println!("error panel: {message:?}");
    let lower = message.to_lowercase();
    ensure(
        lower.contains(source_name) || lower.contains("config"),
        || format!("the error panel does not say which config failed: {message:?}"),
    )?;
    ensure(
        ["json", "expected", "eof", "line", "invalid", "parse"]
            .iter()
            .any(|word| lower.contains(word)),
        || format!("the error panel does not say what is wrong: {message:?}"),
    )?;
    ensure(!lower.contains("panicked"), || {
        format!("the error panel shows a panic, not a config error: {message:?}")
    })
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn broken_config_url_shows_a_clear_error() -> E2eResult<()> {
    let root = dist()?;
    let overlay: &[(&str, &[u8])] = &[("/broken.json", BROKEN_CONFIG)];
    run(
        "broken-config-url",
        &root,
        overlay,
        async |browser, server| {
            let dashboard = Dashboard::new(browser);
            dashboard.open(&server.url("/?config=broken.json")).await?;
            expect_config_error(&dashboard, "broken.json").await?;
            browser.screenshot("error-panel").await?;
            Ok(())
        },
    )
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn broken_redline_json_shows_a_clear_error() -> E2eResult<()> {
    let root = dist()?;
    let overlay: &[(&str, &[u8])] = &[("/redline.json", BROKEN_CONFIG)];
    run(
        "broken-redline-json",
        &root,
        overlay,
        async |browser, server| {
            let dashboard = Dashboard::new(browser);
            dashboard.open(&server.url("/")).await?;
            expect_config_error(&dashboard, "redline.json").await?;
            browser.screenshot("error-panel").await?;
            Ok(())
        },
    )
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn runs_from_a_sub_path() -> E2eResult<()> {
    let root = sub_path_root()?;
    run("sub-path", &root, &[], async |browser, server| {
        let dashboard = Dashboard::new(browser);
        dashboard.open(&server.url("/sub/")).await?;
        dashboard.wait_for_modules(SIMULATED_MODULES, WAIT).await?;
        ensure_no_page_errors(browser).await?;
        browser.screenshot("overview").await?;

        dashboard.go_to_hash("#/modules/database").await?;
        wait_until("the database detail under /sub/", WAIT, async || {
            let shown = dashboard
                .attribute("[data-testid=module-detail]", "data-module")
                .await?;
            Ok((shown.as_deref() == Some("database")).then_some(()))
        })
        .await?;

        let outside: Vec<String> = server
            .requested_paths()
            .into_iter()
            .filter(|path| !path.starts_with("/sub/") && path != "/favicon.ico")
            .collect();
        ensure(outside.is_empty(), || {
            format!("the page under /sub/ requested paths outside it: {outside:?}")
        })?;
        ensure_no_page_errors(browser).await?;
        Ok(())
    })
    .await
}
