//! Embedding: the bundle loaded by other pages, from a sub-path and from another
//! origin; two dashboards on one page; the JS API (`record`, `snapshot`,
//! `on("alert")`, `monitorModules`); the host's styles kept apart both ways;
//! real-user monitoring of the host page's requests; and the heap across 100 mounts.

use std::path::Path;

use serde_json::{Value, json};

use crate::browser::{Browser, E2eResult, ensure, wait_until};
use crate::static_server::{DELAY_PATH, StaticServer};
use crate::{WAIT, ensure_no_page_errors, run, sub_path_root};

/// The examples' bundle location, replaced by the test's own.
const EXAMPLE_BUNDLE: &str = "/redline/";

/// An example page from `examples/embed/`, with the bundle at `bundle` instead.
fn example_page(name: &str, bundle: &str) -> E2eResult<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/embed")
        .join(name);
    let page = std::fs::read_to_string(&path)?;
    ensure(page.contains(EXAMPLE_BUNDLE), || {
        format!(
            "{} does not load the bundle from {EXAMPLE_BUNDLE}",
            path.display()
        )
    })?;
    Ok(page.replace(EXAMPLE_BUNDLE, bundle).into_bytes())
}

/// Runs `script` in the page and returns what it returns.
async fn js(browser: &Browser, script: &str) -> E2eResult<Value> {
    Ok(browser.client().execute(script, vec![]).await?)
}

/// Runs an async `script` (its last argument is the callback) and returns its result.
async fn js_async(browser: &Browser, script: &str) -> E2eResult<Value> {
    Ok(browser.client().execute_async(script, vec![]).await?)
}

/// Module names shown in the dashboard inside `host` (a selector for the host element).
async fn shadow_modules(browser: &Browser, host: &str) -> E2eResult<Vec<String>> {
    let script = format!(
        "const root = document.querySelector({host:?})?.shadowRoot;
         if (!root) return [];
         return [...root.querySelectorAll('tr[data-testid=module-row]')]
           .map(row => row.getAttribute('data-module'));"
    );
    Ok(serde_json::from_value(js(browser, &script).await?)?)
}

/// Waits for the dashboard inside `host` to list `count` modules, and returns them.
async fn wait_for_shadow_modules(
    browser: &Browser,
    host: &str,
    count: usize,
) -> E2eResult<Vec<String>> {
    wait_until(&format!("{count} modules in {host}"), WAIT, async || {
        let names = shadow_modules(browser, host).await?;
        Ok((names.len() == count).then_some(names))
    })
    .await
}

/// Waits for the page's script to set `window[flag]` to true.
async fn wait_for_flag(browser: &Browser, flag: &str) -> E2eResult<()> {
    let script = format!("return window[{flag:?}] === true;");
    wait_until(&format!("window.{flag}"), WAIT, async || {
        Ok(js(browser, &script).await?.as_bool().filter(|set| *set))
    })
    .await?;
    Ok(())
}

/// A host page whose own CSS is hostile to anything it contains.
const HOSTILE_STYLES: &str = "<style>
  body { font: 30px/3 Georgia, serif; color: rgb(0, 128, 0); letter-spacing: 4px; }
  div { padding: 30px; }
  button { background: rgb(255, 105, 180); font-size: 40px; }
  table, tr, td, th { display: inline; font-size: 40px; }
  .panel { background: rgb(0, 0, 255); }
</style>";

/// The page for the two-dashboard test: the bundle from `bundle`, one dashboard fed by
/// `record()`, one `<redline-dashboard>` on the simulator, and host elements that
/// must keep the host's styles.
fn two_dashboards_page(bundle: &str) -> String {
    format!(
        r##"<!DOCTYPE html><html><head><meta charset="utf-8"><title>host page</title>
{HOSTILE_STYLES}
<script type="module">
  import {{ mount }} from "{bundle}redline-embed.js";
  window.__alerts = [];
  const ours = mount(document.querySelector("#ours"), {{
    simulation: {{ enabled: false }},
    monitor: {{ window_seconds: 10 }}
  }});
  ours.on("alert", (event) => window.__alerts.push(event));
  window.ours = ours;
  window.ready = true;
</script></head>
<body>
  <p id="host-text">The host's own text.</p>
  <div class="panel" id="host-panel">A host element with the dashboard's class name.</div>
  <button id="host-button">host button</button>
  <div id="ours"></div>
  <redline-dashboard id="simulated" config='{{"monitor": {{"window_seconds": 30}}}}'></redline-dashboard>
</body></html>"##
    )
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn two_embedded_dashboards_from_another_origin_and_a_sub_path() -> E2eResult<()> {
    let bundle_root = sub_path_root()?;
    // The bundle on its own origin, under /sub/; the host page on another.
    let bundle_host = StaticServer::start(&bundle_root, &[], &[])?;
    let bundle = bundle_host.url("/sub/");
    let page = two_dashboards_page(&bundle);
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/embed");
    let overlay: &[(&str, &[u8])] = &[("/pages/host.html", page.as_bytes())];
    run("embed-two", &examples, overlay, async |browser, server| {
        browser.client().goto(&server.url("/pages/host.html")).await?;
        wait_for_flag(browser, "ready").await?;

        // The element's dashboard shows the simulator; the mounted one shows nothing
        // until the page records.
        let simulated = wait_for_shadow_modules(browser, "#simulated", 4).await?;
        println!("<redline-dashboard> modules: {simulated:?}");
        ensure(shadow_modules(browser, "#ours").await?.is_empty(), || {
            "the record()-fed dashboard shows modules it was never given".to_owned()
        })?;

        // record(): 200 requests of 50 ms with 10 errors, and a slow module whose p95
        // crosses the critical threshold.
        js(
            browser,
            "for (let i = 0; i < 200; i++) ours.record('checkout', 0.05, i % 20 !== 0);
             for (let i = 0; i < 50; i++) ours.record('slowpoke', 2.5, true);
             return true;",
        )
        .await?;
        let snapshot = wait_until("the recorded numbers in snapshot()", WAIT, async || {
            let snapshot = js(browser, "return ours.snapshot();").await?;
            // Counted at once, in the window once the tick closes.
            let in_window = snapshot["modules"]["checkout"]["window"]["requests"].as_u64();
            Ok((in_window == Some(200)).then_some(snapshot))
        })
        .await?;
        let checkout = &snapshot["modules"]["checkout"];
        println!("checkout: {checkout:#}");
        ensure(checkout["total_errors"] == json!(10), || {
            format!("10 errors were recorded: {checkout}")
        })?;
        for key in ["timestamp", "modules", "alerts", "summary"] {
            ensure(snapshot.get(key).is_some(), || format!("snapshot has no {key:?}"))?;
        }
        for key in ["total_modules", "active_alerts", "warning_alerts"] {
            ensure(snapshot["summary"].get(key).is_some(), || {
                format!("summary has no {key:?}")
            })?;
        }
        for key in [
            "latency_mean",
            "latency_p50",
            "latency_p95",
            "latency_p99",
            "error_rate",
            "requests_per_second",
        ] {
            ensure(checkout["metrics"][key].is_number(), || {
                format!("metrics.{key} is not a number: {checkout}")
            })?;
        }
        let p50 = checkout["metrics"]["latency_p50"].as_f64().unwrap_or(0.0);
        ensure((p50 - 0.05).abs() <= 0.05 * 0.011, || {
            format!("p50 {p50} is not 0.05 within the sketch's 1 %")
        })?;
        let error_rate = checkout["metrics"]["error_rate"].as_f64().unwrap_or(0.0);
        ensure((error_rate - 0.05).abs() < 1e-9, || {
            format!("error rate {error_rate} is not 10/200")
        })?;
        ensure(snapshot["modules"].get("api_gateway").is_none(), || {
            "the simulator's modules leaked into the other dashboard".to_owned()
        })?;

        // on("alert"): the slow module's p95 fires.
        let alert = wait_until("an on(\"alert\") callback for slowpoke", WAIT, async || {
            let alerts = js(browser, "return window.__alerts;").await?;
            let firing = alerts.as_array().and_then(|all| {
                all.iter()
                    .find(|e| {
                        e["transition"] == "firing"
                            && e["alert"]["module"] == "slowpoke"
                            && e["alert"]["metric"] == "latency_p95"
                            && e["alert"]["level"] == "critical"
                    })
                    .cloned()
            });
            Ok(firing)
        })
        .await?;
        println!("alert callback: {alert:#}");
        let value = alert["alert"]["evidence"]["value"].as_f64().unwrap_or(0.0);
        ensure((value - 2.5).abs() <= 2.5 * 0.011, || {
            format!("the alert's evidence is p95 2.5 s within 1 %: {alert}")
        })?;

        // Links inside an embedded dashboard change its view, not the host's URL.
        let before = js(browser, "return [location.href, document.title];").await?;
        js(
            browser,
            "document.querySelector('#ours').shadowRoot
               .querySelector('tr[data-module=checkout] a').click(); return true;",
        )
        .await?;
        wait_until("the module view inside the dashboard", WAIT, async || {
            let shown = js(
                browser,
                "return !!document.querySelector('#ours').shadowRoot
                   .querySelector('[data-testid=chart-latency]');",
            )
            .await?;
            Ok(shown.as_bool().filter(|s| *s))
        })
        .await?;
        let after = js(browser, "return [location.href, document.title];").await?;
        ensure(before == after, || {
            format!("the host's URL or title changed: {before} -> {after}")
        })?;
        ensure(!shadow_modules(browser, "#simulated").await?.is_empty(), || {
            "the other dashboard followed the first one's route".to_owned()
        })?;

        // Host styles stay out of the dashboards, and theirs out of the host.
        let styles = js(
            browser,
            "const css = (el, p) => getComputedStyle(el).getPropertyValue(p);
             const root = document.querySelector('#simulated').shadowRoot;
             const button = root.querySelector('button');
             const cell = root.querySelector('td');
             const panel = root.querySelector('.panel');
             return {
               dashboard_button_background: css(button, 'background-color'),
               dashboard_button_font: css(button, 'font-size'),
               dashboard_cell_display: css(cell, 'display'),
               dashboard_cell_font: css(cell, 'font-size'),
               dashboard_panel_padding: css(panel, 'padding-top'),
               dashboard_letter_spacing: css(cell, 'letter-spacing'),
               host_text_colour: css(document.querySelector('#host-text'), 'color'),
               host_panel_background: css(document.querySelector('#host-panel'), 'background-color'),
               host_button_radius: css(document.querySelector('#host-button'), 'border-top-left-radius'),
               host_button_background: css(document.querySelector('#host-button'), 'background-color'),
             };",
        )
        .await?;
        println!("computed styles: {styles:#}");
        let style = |key: &str| styles[key].as_str().unwrap_or_default().to_owned();
        ensure(style("dashboard_button_background") != "rgb(255, 105, 180)", || {
            "the host's button colour reached the dashboard".to_owned()
        })?;
        ensure(style("dashboard_button_font") != "40px", || {
            "the host's button size reached the dashboard".to_owned()
        })?;
        ensure(style("dashboard_cell_display") != "inline", || {
            "the host's table rules reached the dashboard".to_owned()
        })?;
        ensure(style("dashboard_cell_font") != "40px" && style("dashboard_cell_font") != "30px", || {
            format!("the host's font size reached the dashboard: {}", style("dashboard_cell_font"))
        })?;
        ensure(style("dashboard_panel_padding") != "30px", || {
            "the host's div padding reached the dashboard".to_owned()
        })?;
        ensure(style("dashboard_letter_spacing") != "4px", || {
            "the host's inherited letter-spacing reached the dashboard".to_owned()
        })?;
        ensure(style("host_text_colour") == "rgb(0, 128, 0)", || {
            "the host's text lost its colour".to_owned()
        })?;
        ensure(style("host_panel_background") == "rgb(0, 0, 255)", || {
            "the dashboard's .panel style leaked onto the host's element".to_owned()
        })?;
        ensure(
            style("host_button_radius") == "0px"
                && style("host_button_background") == "rgb(255, 105, 180)",
            || "the dashboard's button style leaked onto the host's button".to_owned(),
        )?;
        browser.screenshot("host-page").await?;
        ensure_no_page_errors(browser).await
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn the_examples_run_from_a_sub_path() -> E2eResult<()> {
    let root = sub_path_root()?;
    let element = example_page("element.html", "/sub/")?;
    let mount = example_page("mount.html", "/sub/")?;
    let overlay: &[(&str, &[u8])] = &[
        ("/examples/element.html", &element),
        ("/examples/mount.html", &mount),
    ];
    run("embed-examples", &root, overlay, async |browser, server| {
        browser
            .client()
            .goto(&server.url("/examples/element.html"))
            .await?;
        let names = wait_for_shadow_modules(browser, "redline-dashboard", 4).await?;
        println!("element.html: {names:?}");
        browser.screenshot("element-example").await?;
        ensure_no_page_errors(browser).await?;

        browser
            .client()
            .goto(&server.url("/examples/mount.html"))
            .await?;
        // monitorModules watches for 5 s, then the page keeps both dashboards.
        let watched = wait_until("monitorModules to resolve", WAIT, async || {
            let names = js(
                browser,
                "return window.dashboards
                   ? Object.keys(window.dashboards.simulated.snapshot().modules) : null;",
            )
            .await?;
            Ok(serde_json::from_value::<Option<Vec<String>>>(names)?)
        })
        .await?;
        println!("mount.html, simulated after monitorModules: {watched:?}");
        ensure(watched.iter().any(|n| n == "payments"), || {
            format!("monitorModules did not add payments to the simulation: {watched:?}")
        })?;
        let timed = js_async(
            browser,
            "const done = arguments[arguments.length - 1];
             Promise.all([1, 2, 3].map(() => window.timed('self', location.href)))
               .then(() => done(true), (e) => done(String(e)));",
        )
        .await?;
        ensure(timed == json!(true), || format!("timed() failed: {timed}"))?;
        let recorded = wait_until("the page's own records", WAIT, async || {
            let total = js(
                browser,
                "return window.dashboards.ours.snapshot()?.modules?.self?.total_requests ?? null;",
            )
            .await?;
            Ok(total.as_u64().filter(|n| *n == 3))
        })
        .await?;
        println!("mount.html, recorded by the page: {recorded}");
        browser.screenshot("mount-example").await?;
        ensure_no_page_errors(browser).await
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn real_user_monitoring_sees_the_pages_own_requests() -> E2eResult<()> {
    let root = sub_path_root()?;
    // Another origin that sends no Timing-Allow-Origin: only total durations there.
    let elsewhere = StaticServer::start(&root, &[], &[])?;
    let cross_origin = elsewhere.url(&format!("{DELAY_PATH}20/200"));
    let page = format!(
        r##"<!DOCTYPE html><html><head><meta charset="utf-8"><title>rum</title>
<script type="module">
  import {{ mount }} from "/sub/redline-embed.js";
  window.dashboard = mount(document.querySelector("#rum"), {{
    sources: [{{ kind: "rum", name: "page",
      modules: [{{ module: "slow-api", prefix: "{DELAY_PATH}" }}] }}]
  }});
  // Wait for the dashboard to start, then call the endpoint: 30 answers of 120 ms
  // and 10 errors of 40 ms, a few at a time, and one cross-origin call.
  await new Promise((done) => setTimeout(done, 1500));
  // Bodies are read, as apps do: the browser may not report a request whose body is
  // never read (whatwg/fetch#1813).
  const call = (ms, status) =>
    fetch(`{DELAY_PATH}${{ms}}/${{status}}`).then((r) => r.text().then(() => r.status));
  for (let round = 0; round < 10; round++) {{
    await Promise.all([call(120, 200), call(120, 200), call(120, 200), call(40, 503)]);
  }}
  await fetch("{cross_origin}").then((r) => r.text());
  window.done = true;
</script></head><body><div id="rum"></div></body></html>"##
    );
    let overlay: &[(&str, &[u8])] = &[("/pages/rum.html", page.as_bytes())];
    run("embed-rum", &root, overlay, async |browser, server| {
        browser
            .client()
            .goto(&server.url("/pages/rum.html"))
            .await?;
        wait_for_flag(browser, "done").await?;
        let module = wait_until(
            "the slow-api module with all 40 requests",
            WAIT,
            async || {
                let module = js(
                    browser,
                    "return window.dashboard.snapshot()?.modules?.['slow-api'] ?? null;",
                )
                .await?;
                Ok((module["total_requests"].as_u64() == Some(40)).then_some(module))
            },
        )
        .await?;
        println!("slow-api: {module:#}");
        ensure(module["total_errors"] == json!(10), || {
            format!("10 answers were 503: {module}")
        })?;
        ensure(module["source"] == "host", || {
            format!("source: {}", module["source"])
        })?;
        // The oracle: the exact p95 of the durations the browser itself reported.
        let durations: Vec<f64> = serde_json::from_value(
            js(
                browser,
                &format!(
                    "return performance.getEntriesByType('resource')
                       .filter(e => e.name.startsWith(location.origin + '{DELAY_PATH}'))
                       .map(e => (e.responseEnd - e.startTime) / 1000);"
                ),
            )
            .await?,
        )?;
        ensure(durations.len() == 40, || {
            format!("{} resource entries for the endpoint", durations.len())
        })?;
        let mut sorted = durations.clone();
        sorted.sort_by(f64::total_cmp);
        let p95 = module["metrics"]["latency_p95"]
            .as_f64()
            .unwrap_or(f64::NAN);
        // Within the sketch's 1 % of a sample whose rank is p95's, give or take one.
        let rank = (0.95 * 39.0_f64).round() as usize;
        let (low, high) = (sorted[rank - 1] * 0.99, sorted[(rank + 1).min(39)] * 1.01);
        println!("p95 {p95} against the browser's durations' p95 range [{low}, {high}]");
        ensure(p95 >= low && p95 <= high, || {
            format!("p95 {p95} is outside [{low}, {high}] (durations {sorted:?})")
        })?;

        // The sources panel says what it saw, and what the other origin hid.
        let panel = wait_until(
            "the RUM source's note on restricted timing",
            WAIT,
            async || {
                let text = js(
                    browser,
                    "return document.querySelector('#rum').shadowRoot
                   .querySelector('[data-testid=sources]')?.innerText ?? null;",
                )
                .await?;
                Ok(text
                    .as_str()
                    .filter(|t| t.contains("total duration only"))
                    .map(str::to_owned))
            },
        )
        .await?;
        println!("sources panel: {panel}");
        // Grouped by host and the first two path segments.
        let module_name = format!(
            "{}/__test/delay",
            elsewhere.url("").trim_start_matches("http://")
        );
        ensure(panel.contains(&module_name), || {
            format!("the note does not name {module_name}: {panel}")
        })?;
        browser.screenshot("rum").await?;
        ensure_no_page_errors(browser).await
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn mounting_100_times_keeps_the_heap_bounded_and_record_is_cheap() -> E2eResult<()> {
    let root = sub_path_root()?;
    let page = r##"<!DOCTYPE html><html><head><meta charset="utf-8"><title>lifecycle</title>
<script type="module">
  import { mount, wasm } from "/sub/redline-embed.js";
  const host = document.querySelector("#host");
  const memory = () => wasm.memory.buffer.byteLength;
  const heap = () => { window.gc?.(); return performance.memory?.usedJSHeapSize ?? 0; };
  const frame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  async function cycles(count) {
    for (let i = 0; i < count; i++) {
      const dashboard = mount(host, { monitor: { window_seconds: 10 } });
      dashboard.record("lifecycle", 0.01, true);
      await frame();
      dashboard.unmount();
    }
  }
  // A first round reaches the allocator's high-water mark; a leak grows the second.
  await cycles(100);
  const before = { wasm: memory(), js: heap() };
  await cycles(100);
  await frame();
  const after = { wasm: memory(), js: heap() };
  const left = host.shadowRoot.childElementCount;

  // record() from JavaScript: 1,000,000 calls over 1,000 modules, 5 runs.
  const dashboard = mount(host, { simulation: { enabled: false } });
  const names = Array.from({ length: 1000 }, (_, i) => `service-${i}`);
  const runs = [];
  for (let run = 0; run < 5; run++) {
    const started = performance.now();
    for (let i = 0; i < 1000000; i++) {
      dashboard.record(names[i % 1000], 0.001 * (i % 97), i % 50 !== 0);
    }
    dashboard.snapshot(); // flushes the last batch
    runs.push(((performance.now() - started) * 1e6) / 1000000);
    await frame();
  }
  // A plain JS function call, for scale.
  let sink = 0;
  const plain = (a, b, c) => { sink += b; };
  const started = performance.now();
  for (let i = 0; i < 1000000; i++) plain(names[i % 1000], 0.001 * (i % 97), true);
  const plainNs = ((performance.now() - started) * 1e6) / 1000000;
  window.__sink = sink;
  const status = dashboard.status();
  window.result = { before, after, left, runs, plainNs, status };
</script></head><body><div id="host"></div></body></html>"##;
    let overlay: &[(&str, &[u8])] = &[("/pages/lifecycle.html", page.as_bytes())];
    run("embed-lifecycle", &root, overlay, async |browser, server| {
        browser.client().goto(&server.url("/pages/lifecycle.html")).await?;
        let result = wait_until("200 mounts and the record() runs", WAIT, async || {
            let result = js(browser, "return window.result ?? null;").await?;
            Ok((!result.is_null()).then_some(result))
        })
        .await?;
        println!("lifecycle: {result:#}");
        let number = |path: &[&str]| {
            path.iter()
                .fold(&result, |value, key| &value[*key])
                .as_f64()
                .unwrap_or(f64::NAN)
        };
        let wasm_growth = number(&["after", "wasm"]) - number(&["before", "wasm"]);
        let js_growth = number(&["after", "js"]) - number(&["before", "js"]);
        println!(
            "100 mount/unmount cycles after 100 others: wasm memory grew {:.0} KiB, JS heap {:.0} KiB",
            wasm_growth / 1024.0,
            js_growth / 1024.0
        );
        ensure(number(&["left"]) == 0.0, || {
            "unmount left elements in the shadow root".to_owned()
        })?;
        ensure(wasm_growth <= 256.0 * 1024.0, || {
            format!("wasm memory grew {wasm_growth} bytes over 100 mounts")
        })?;
        ensure(js_growth <= 2.0 * 1024.0 * 1024.0, || {
            format!("the JS heap grew {js_growth} bytes over 100 mounts")
        })?;
        let mut runs: Vec<f64> = serde_json::from_value(result["runs"].clone())?;
        runs.sort_by(f64::total_cmp);
        println!(
            "record() from JavaScript: median {:.1} ns per call (runs {runs:?}); a plain JS call {:.1} ns",
            runs[runs.len() / 2],
            number(&["plainNs"])
        );
        ensure(result["status"]["recorded"] == json!(5_000_000), || {
            format!("every record() was taken: {}", result["status"])
        })?;
        ensure_no_page_errors(browser).await
    })
    .await
}

#[tokio::test]
#[ignore = "end-to-end: needs the release bundles; run `make test-e2e`"]
async fn the_leptos_example_places_the_components() -> E2eResult<()> {
    let root = crate::bundle(
        "REDLINE_E2E_LEPTOS_EXAMPLE",
        "target/e2e/leptos-example",
        "index.html",
    )?;
    run("embed-leptos", &root, &[], async |browser, server| {
        browser.client().goto(&server.url("/")).await?;
        // The whole dashboard, on the simulator.
        let names = wait_until("the Dashboard component's modules", WAIT, async || {
            let names: Vec<String> = serde_json::from_value(
                js(
                    browser,
                    "return [...document.querySelectorAll('#full tr[data-testid=module-row]')]
                       .map(row => row.getAttribute('data-module'));",
                )
                .await?,
            )?;
            Ok((names.len() == 4).then_some(names))
        })
        .await?;
        println!("Dashboard component: {names:?}");
        // The scope's table shows what the app records.
        js(
            browser,
            "for (let i = 0; i < 8; i++) document.querySelector('#call').click(); return true;",
        )
        .await?;
        let row = wait_until(
            "the app's own module in the scoped table",
            WAIT,
            async || {
                let row = js(
                    browser,
                    "const row = document.querySelector('#ours tr[data-module=checkout-api]');
                 return row ? row.innerText : null;",
                )
                .await?;
                Ok(row.as_str().map(str::to_owned))
            },
        )
        .await?;
        println!("scoped table row: {row:?}");
        ensure(
            js(
                browser,
                "return document.querySelectorAll('#ours tr[data-testid=module-row]').length;",
            )
            .await?
                == json!(1),
            || "the scope shows modules it was never given".to_owned(),
        )?;
        // The page's own styles are untouched by the dashboard's (scoped) sheet.
        let font = js(
            browser,
            "return getComputedStyle(document.body).fontFamily;",
        )
        .await?;
        ensure(font.as_str().is_some_and(|f| f.contains("Georgia")), || {
            format!("the host's body font changed: {font}")
        })?;
        browser.screenshot("leptos-example").await?;
        ensure_no_page_errors(browser).await
    })
    .await
}
