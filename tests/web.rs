//! Component tests in headless Chromium: the library's components mounted into a
//! `<div>` with a snapshot made here, and the DOM they render checked.
//!
//! Run with `make test-browser` (or `cargo test --target wasm32-unknown-unknown
//! --test web`): `.cargo/config.toml` makes wasm-bindgen-test-runner the runner, and it
//! drives Chromium through chromedriver.
#![cfg(target_arch = "wasm32")]

use std::any::Any;
use std::sync::Arc;

use leptos::mount::mount_to;
use leptos::prelude::*;
use redline::app::App;
// The app's stylesheet, so that colours are the real ones.
use redline::components::{AlertList, ModuleTable, SummaryBar};
use redline::config::AppConfig;
use redline::embed::STYLESHEET;
use redline::monitor::{DashboardSnapshot, PerformanceMonitor};
use redline::state::{AppState, Placement};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// No simulator, and one-hour ticks: the tick loop never replaces the snapshot that a
/// test puts in.
const QUIET_CONFIG: &str = r#"{
    "monitor": { "window_seconds": 3600, "tick_seconds": 3600 },
    "simulation": { "enabled": false }
}"#;

/// Modules, each with 200 requests of one latency (seconds) and every `error_every`-th
/// one failed (0: none).
const MODULES: &[(&str, f64, usize)] = &[
    ("checkout", 0.012, 0),
    ("inventory", 0.7, 0),
    ("payments", 1.6, 10),
];

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a browser document")
}

/// A fresh `<div>` in the body, with the app's stylesheet loaded once.
fn container() -> HtmlElement {
    let document = document();
    if document.get_element_by_id("redline-test-style").is_none() {
        let style = document.create_element("style").expect("a style element");
        style.set_id("redline-test-style");
        style.set_text_content(Some(STYLESHEET));
        document
            .head()
            .expect("a head")
            .append_child(&style)
            .expect("append the stylesheet");
    }
    let div = document
        .create_element("div")
        .expect("a div")
        .dyn_into::<HtmlElement>()
        .expect("an HTML element");
    // The stylesheet is scoped: its rules apply under `.redline`.
    div.set_class_name("redline");
    document
        .body()
        .expect("a body")
        .append_child(&div)
        .expect("append the container");
    div
}

/// The snapshot at `now` of a monitor that saw `MODULES` in the last whole second
/// before it (ticks are aligned to whole multiples of the tick).
fn snapshot_at(now: f64) -> DashboardSnapshot {
    let mut monitor = PerformanceMonitor::default();
    let recorded_at = now.floor() - 0.5;
    for &(module, latency_seconds, error_every) in MODULES {
        for i in 0..200 {
            let ok = error_every == 0 || i % error_every != 0;
            monitor
                .record(module, latency_seconds, ok, recorded_at)
                .expect("a valid record");
        }
    }
    monitor.tick(now);
    monitor.snapshot(now)
}

/// Mounts `view` under the app state, showing a snapshot of `MODULES`.
/// The handle is returned for the test to hold: dropping it unmounts.
fn mount_with_snapshot<V: IntoView + 'static>(
    view: impl FnOnce() -> V + 'static,
) -> (HtmlElement, Box<dyn Any>) {
    let parent = container();
    let handle = mount_to(parent.clone(), move || {
        let config = AppConfig::parse(QUIET_CONFIG, "test").expect("the test config is valid");
        let state = AppState::start(config, None, Placement::Page, RwSignal::new("light".into()));
        // The tick loop publishes only a snapshot with a new timestamp: use the
        // engine's, so that ours stays.
        let now = state.snapshot.get_untracked().timestamp;
        state.snapshot.set(Arc::new(snapshot_at(now)));
        view()
    });
    (parent, Box::new(handle))
}

/// Lets Leptos flush its effects and the browser lay out.
async fn settle(milliseconds: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .expect("a window")
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, milliseconds)
            .expect("setTimeout");
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .expect("the timeout resolves");
}

fn all(parent: &Element, selector: &str) -> Vec<Element> {
    let found = parent
        .query_selector_all(selector)
        .expect("a valid selector");
    (0..found.length())
        .filter_map(|i| found.item(i))
        .filter_map(|node| node.dyn_into::<Element>().ok())
        .collect()
}

fn text(parent: &Element, selector: &str) -> String {
    parent
        .query_selector(selector)
        .expect("a valid selector")
        .and_then(|el| el.text_content())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn row<'a>(rows: &'a [Element], module: &str) -> &'a Element {
    rows.iter()
        .find(|r| r.get_attribute("data-module").as_deref() == Some(module))
        .unwrap_or_else(|| panic!("no row for {module}"))
}

/// `rgb(r, g, b)` or `rgba(r, g, b, a)` as numbers.
fn rgb(css: &str) -> (f64, f64, f64) {
    let inner = css
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')');
    let channels: Vec<f64> = inner
        .split(',')
        .map(|c| c.trim().parse().unwrap_or(0.0))
        .collect();
    (channels[0], channels[1], channels[2])
}

fn computed(element: &Element, property: &str) -> String {
    web_sys::window()
        .expect("a window")
        .get_computed_style(element)
        .expect("getComputedStyle")
        .expect("a style")
        .get_property_value(property)
        .expect("a property")
}

#[wasm_bindgen_test]
async fn module_table_shows_a_row_per_module_with_units() {
    let (parent, _mounted) = mount_with_snapshot(|| view! { <ModuleTable /> });
    settle(0).await;
    let rows = all(
        &parent,
        "[data-testid=module-table] tr[data-testid=module-row]",
    );
    let names: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get_attribute("data-module"))
        .collect();
    assert_eq!(names.len(), MODULES.len(), "rows: {names:?}");
    for (module, _, _) in MODULES {
        assert!(
            names.iter().any(|n| n == module),
            "no row for {module}: {names:?}"
        );
    }

    let checkout = row(&rows, "checkout");
    // The sketch's relative error is 1 %.
    let p50 = text(checkout, "[data-testid=p50]");
    let p50_ms: f64 = p50
        .strip_suffix(" ms")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("p50 of 12 ms reads {p50:?}"));
    assert!((p50_ms - 12.0).abs() <= 0.13, "p50 of 12 ms reads {p50:?}");
    assert!(text(checkout, "[data-testid=rps]").ends_with(" req/s"));
    assert_eq!(text(checkout, "[data-testid=error-rate]"), "0 %");
    assert_eq!(checkout.get_attribute("data-status").as_deref(), Some("ok"));

    let payments = row(&rows, "payments");
    assert!(
        text(payments, "[data-testid=p95]").ends_with(" s"),
        "p95 of 1.6 s reads {:?}",
        text(payments, "[data-testid=p95]")
    );
    assert_eq!(text(payments, "[data-testid=error-rate]"), "10 %");
    assert_eq!(
        payments.get_attribute("data-status").as_deref(),
        Some("critical")
    );
    assert_eq!(
        row(&rows, "inventory")
            .get_attribute("data-status")
            .as_deref(),
        Some("warning")
    );
    // Worst first: the default sort is by status, descending.
    assert_eq!(names.first().map(String::as_str), Some("payments"));
}

#[wasm_bindgen_test]
async fn module_table_filters_by_name() {
    let (parent, _mounted) = mount_with_snapshot(|| view! { <ModuleTable /> });
    settle(0).await;
    let filter: HtmlInputElement = parent
        .query_selector("[data-testid=module-filter]")
        .expect("a valid selector")
        .expect("the filter input")
        .dyn_into()
        .expect("an input");
    filter.set_value("PAY");
    let input = web_sys::Event::new("input").expect("an input event");
    filter.dispatch_event(&input).expect("dispatch");
    settle(0).await;
    let rows = all(&parent, "tr[data-testid=module-row]");
    let names: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get_attribute("data-module"))
        .collect();
    assert_eq!(names, ["payments"]);
}

#[wasm_bindgen_test]
async fn alert_list_colours_alerts_by_level() {
    let (parent, _mounted) = mount_with_snapshot(|| view! { <AlertList /> });
    settle(0).await;
    let alerts = all(&parent, "[data-testid=alert-list] [data-testid=alert]");
    let described: Vec<(Option<String>, Option<String>, Option<String>)> = alerts
        .iter()
        .map(|a| {
            (
                a.get_attribute("data-module"),
                a.get_attribute("data-level"),
                a.get_attribute("data-state"),
            )
        })
        .collect();
    let find = |module: &str, level: &str| {
        alerts
            .iter()
            .find(|a| {
                a.get_attribute("data-module").as_deref() == Some(module)
                    && a.get_attribute("data-level").as_deref() == Some(level)
            })
            .unwrap_or_else(|| {
                panic!(
                    "no {level} alert for {module} in {described:?}: {}",
                    parent.inner_html()
                )
            })
    };
    let critical = find("payments", "critical");
    let warning = find("inventory", "warning");
    assert_eq!(
        critical.get_attribute("data-state").as_deref(),
        Some("firing")
    );
    for alert in &alerts {
        let state = alert.get_attribute("data-state").unwrap_or_default();
        assert!(
            ["pending", "firing", "resolved"].contains(&state.as_str()),
            "state {state:?} in {described:?}"
        );
    }

    let (r, g, b) = rgb(&computed(critical, "border-left-color"));
    assert!(
        r > 120.0 && r > 2.0 * g && r > 2.0 * b,
        "critical border is not red: rgb({r}, {g}, {b})"
    );
    let critical_colour = computed(critical, "border-left-color");
    let warning_colour = computed(warning, "border-left-color");
    assert_ne!(
        critical_colour, warning_colour,
        "critical and warning alerts look the same"
    );
    assert!(text(critical, ".level-badge").eq_ignore_ascii_case("critical"));
}

#[wasm_bindgen_test]
async fn summary_bar_counts_modules_and_alerts() {
    let (parent, _mounted) = mount_with_snapshot(|| view! { <SummaryBar /> });
    settle(0).await;
    assert_eq!(
        text(
            &parent,
            "[data-testid=summary-bar] [data-testid=summary-modules]"
        ),
        MODULES.len().to_string()
    );
    let critical: u32 = text(&parent, "[data-testid=summary-critical] .stat-value")
        .parse()
        .expect("a count");
    assert!(
        critical >= 1,
        "payments' p95 of 1.6 s fires a critical alert"
    );
}

#[wasm_bindgen_test]
async fn app_mounts_with_the_simulated_modules() {
    let parent = container();
    let _mounted = mount_to(parent.clone(), App);
    // The config is fetched first (redline.json is absent: defaults), then the first
    // tick closes within a second.
    let wanted = ["api_gateway", "cache", "database", "search_engine"];
    let mut names = Vec::new();
    let mut numbers = false;
    for _ in 0..50 {
        settle(100).await;
        let rows = all(&parent, "tr[data-testid=module-row]");
        names = rows
            .iter()
            .filter_map(|r| r.get_attribute("data-module"))
            .collect();
        names.sort();
        // Numbers come with the first closed tick.
        numbers = rows.iter().all(|r| {
            text(r, "[data-testid=p50]").ends_with('s')
                && text(r, "[data-testid=rps]").ends_with(" req/s")
        });
        if names == wanted && numbers {
            break;
        }
    }
    assert_eq!(names, wanted);
    assert!(numbers, "no numbers with units within 5 s");
    assert!(
        parent
            .query_selector("[data-testid=error-panel]")
            .ok()
            .flatten()
            .is_none(),
        "error panel: {}",
        text(&parent, "[data-testid=error-panel]")
    );
}

#[path = "common/workloads.rs"]
mod workloads;

/// Milliseconds on the page's clock.
fn now_ms() -> f64 {
    redline::platform::performance_now()
}

/// The event-stream path in the browser's wasm engine, from message text to the core:
/// 200 messages of 1,000 events each (as an SSE or WebSocket source hands them over).
/// Prints events per second for the README; checks every event was recorded.
#[wasm_bindgen_test]
fn event_messages_reach_the_core_in_wasm() {
    use redline::sources::EventFeed;
    let batch = format!(
        "[{}]",
        (0..workloads::EVENTS)
            .map(workloads::event_line)
            .collect::<Vec<_>>()
            .join(",")
    );
    let mut monitor = PerformanceMonitor::default();
    let mut feed = EventFeed::new();
    let messages = 200;
    let started = now_ms();
    for _ in 0..messages {
        let _ = feed.feed(&mut monitor, &batch, workloads::T0 + 0.5);
    }
    let seconds = (now_ms() - started) / 1e3;
    let events = (messages * workloads::EVENTS) as f64;
    wasm_bindgen_test::console_log!(
        "wasm event path: {events} events in {:.1} ms = {:.2} M events/s",
        seconds * 1e3,
        events / seconds / 1e6
    );
    assert_eq!(feed.stats().recorded, events as u64);
}

/// Exposition parsing and scraping in the browser's wasm engine, on pages of 200 and
/// of 20 handlers: prints MB/s, and what 200 such targets every 5 s cost of one core.
#[wasm_bindgen_test]
fn exposition_scrapes_in_wasm() {
    use redline::sources::{Format, LabelMatcher, ModuleBy, Scrape, ScrapeConfig};
    for handlers in [200, 20] {
        let pages = [
            workloads::page_of(handlers, 0),
            workloads::page_of(handlers, 1),
        ];
        let mut config = ScrapeConfig::new(ModuleBy::Label("handler".into()));
        config.requests_counter = Some("http_requests_total".into());
        config.error_matchers = vec![LabelMatcher::parse(r#"code=~"5..""#).expect("matcher")];
        config.latency_histogram = Some("http_request_duration_seconds".into());
        let mut scrape = Scrape::new(config);
        let rounds = 40;
        let mut samples = 0;
        let started = now_ms();
        for round in 0..rounds {
            let report = scrape
                .scrape(&pages[round % 2], Format::Prometheus)
                .expect("a valid page");
            samples += report.samples.len();
        }
        let ms_per_page = (now_ms() - started) / rounds as f64;
        let megabytes = pages[0].len() as f64 / 1e6;
        wasm_bindgen_test::console_log!(
            "wasm scrape: {handlers} handlers, {:.0} KB page in {ms_per_page:.2} ms = {:.0} MB/s; \
             200 such targets every 5 s take {:.1} % of one core",
            megabytes * 1e3,
            megabytes / (ms_per_page / 1e3),
            200.0 * ms_per_page / 5_000.0 * 100.0
        );
        // Every round after the first gives each handler's counts and histogram.
        assert!(samples >= (rounds - 1) * 2 * handlers, "{samples} samples");
    }
}
