//! The app: finds the config, then shows the dashboard (or a clear error), with the
//! header, navigation, theme and export.

use leptos::prelude::*;

use crate::config::{AppConfig, ConfigProblem};
use crate::pages::settings::{IMPORTED_KEY, STORAGE_KEY};
use crate::pages::{AlertsPage, ModuleDetail, Overview, SettingsPage};
use crate::platform::{self, FetchOutcome};
use crate::route::Route;
use crate::state::{AppState, Placement, worst_firing};

/// Finds the config by the documented precedence: `?config=URL`, `redline.json`,
/// localStorage, defaults. A document that is found but broken is an error.
pub async fn load_config() -> Result<AppConfig, ConfigProblem> {
    let problem = |origin: &str, message: String| ConfigProblem {
        origin: origin.to_owned(),
        message,
    };
    if let Some(url) = platform::query_param("config") {
        return match platform::fetch_text(&url).await {
            // Anyone can craft a link: its webhooks wait for the user's consent.
            Ok(FetchOutcome::Found(text)) => AppConfig::parse(&text, &url).map(|mut config| {
                config.untrusted = true;
                config
            }),
            Ok(FetchOutcome::NotFound) => Err(problem(
                &url,
                "not found (HTTP 404); check the ?config= URL".to_owned(),
            )),
            Err(message) => Err(problem(&url, message)),
        };
    }
    match platform::fetch_text("redline.json").await {
        // A dev server answering every path with index.html has no redline.json.
        Ok(FetchOutcome::Found(text)) if !text.trim_start().starts_with('<') => {
            return AppConfig::parse(&text, "redline.json");
        }
        Ok(_) => {}
        Err(message) => return Err(problem("redline.json", message)),
    }
    if let Some(saved) = platform::storage_get(STORAGE_KEY) {
        let imported = platform::storage_get(IMPORTED_KEY).is_some();
        return AppConfig::parse(&saved, "localStorage (saved from the config panel)").map(
            |mut config| {
                config.untrusted = imported;
                config
            },
        );
    }
    Ok(AppConfig::defaults())
}

/// `?speed=N`: simulated seconds per wall second, 1 to 100.
fn speed_param() -> Option<f64> {
    platform::query_number("speed")
        .filter(|s| s.is_finite())
        .map(|s| s.clamp(1.0, 100.0))
}

/// `?modules=N`: simulate N generic modules instead of the configured ones (scale tests).
fn modules_param() -> Option<usize> {
    platform::query_param("modules")
        .and_then(|s| s.parse::<usize>().ok())
        .map(|n| n.clamp(1, 10_000))
}

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let loaded = RwSignal::new(None::<Result<AppConfig, ConfigProblem>>);
    leptos::task::spawn_local(async move {
        let result = load_config().await;
        loaded.try_set(Some(result));
    });
    let theme = RwSignal::new(
        platform::storage_get("redline.theme").unwrap_or_else(|| system_theme().to_owned()),
    );
    Effect::new(move |_| platform::set_root_attribute("data-theme", &theme.get()));
    view! {
        <div class="redline" data-theme=move || theme.get()>
            <ConfigGate loaded=loaded theme=theme placement=Placement::Page />
        </div>
    }
}

/// "dark" when the user's system asks for it, else "light".
pub fn system_theme() -> &'static str {
    if platform::prefers_dark() {
        "dark"
    } else {
        "light"
    }
}

/// The dashboard once its config is loaded: "Loading", the dashboard, or what is wrong.
#[component]
pub fn ConfigGate(
    /// The config, when it has been found (or why it could not be used).
    loaded: RwSignal<Option<Result<AppConfig, ConfigProblem>>>,
    /// "light" or "dark".
    theme: RwSignal<String>,
    /// The app's own page, or embedded in another.
    placement: Placement,
) -> impl IntoView {
    let from_page = !placement.embedded();
    let placement = StoredValue::new_local(placement);
    view! {
        {move || match loaded.get() {
            None => view! { <p class="loading" data-testid="loading">"Loading config…"</p> }.into_any(),
            Some(Ok(config)) => {
                view! { <DashboardView config=config theme=theme placement=placement.get_value() /> }
                    .into_any()
            }
            Some(Err(problem)) => {
                view! { <ConfigError problem=problem loaded=loaded from_page=from_page /> }.into_any()
            }
        }}
    }
}

/// A config that was found but is broken: what, where, and what to do.
#[component]
fn ConfigError(
    problem: ConfigProblem,
    loaded: RwSignal<Option<Result<AppConfig, ConfigProblem>>>,
    /// The app's own page (embedded dashboards do not use the page's storage).
    from_page: bool,
) -> impl IntoView {
    let from_storage = from_page && problem.origin.starts_with("localStorage");
    view! {
        <section class="error-panel" data-testid="error-panel" role="alert">
            <h2>"The config could not be used"</h2>
            <p>"From " <code>{problem.origin.clone()}</code> ":"</p>
            <pre data-testid="error-message">{problem.message.clone()}</pre>
            <p>"Fix the document and reload, or start with the defaults."</p>
            <div class="actions">
                <button type="button" on:click=move |_| loaded.set(Some(Ok(AppConfig::defaults())))>
                    "Use the defaults for this visit"
                </button>
                <Show when=move || from_storage>
                    <button
                        type="button"
                        class="secondary"
                        on:click=move |_| {
                            platform::storage_remove(STORAGE_KEY);
                            platform::reload();
                        }
                    >
                        "Forget the saved config"
                    </button>
                </Show>
            </div>
        </section>
    }
}

/// The dashboard for a validated config, wherever it is placed.
#[component]
pub fn DashboardView(
    /// The config in force.
    config: AppConfig,
    /// "light" or "dark".
    theme: RwSignal<String>,
    /// The app's own page, or embedded in another.
    placement: Placement,
) -> impl IntoView {
    let mut config = config;
    let embedded = placement.embedded();
    if let Some(count) = modules_param().filter(|_| !embedded) {
        let names: Vec<String> = (1..=count).map(|i| format!("service-{i:04}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        config.settings.simulation.scenario =
            crate::monitor::simulate::Scenario::for_modules(&names);
    }
    let speed = speed_param().filter(|_| !embedded);
    let state = AppState::start(config, speed, placement.clone(), theme);
    if let Placement::Embedded(embedding) = &placement {
        (embedding.started)(state);
    } else {
        let hash_change = window_event_listener(leptos::ev::hashchange, move |_| {
            let _ = state
                .route
                .try_set(Route::parse(&platform::location_hash()));
        });
        on_cleanup(move || hash_change.remove());
    }
    // Embedded, the dashboard's links change its own view, never the host's hash.
    let follow_link = move |event: leptos::ev::MouseEvent| {
        if !embedded {
            return;
        }
        if let Some(href) = platform::clicked_hash_link(&event) {
            event.prevent_default();
            state.route.set(Route::parse(&href));
        }
    };
    let export = move |_| {
        let json = state
            .snapshot
            .with(|s| serde_json::to_string_pretty(&**s).unwrap_or_default());
        let name = format!(
            "redline-{}.json",
            state.snapshot.with(|s| s.timestamp as u64)
        );
        if let Err(error) = platform::download(&name, "application/json", &json) {
            leptos::logging::warn!("export failed: {error}");
        }
    };
    let toggle_theme = move |_| {
        let next = if theme.get() == "dark" {
            "light"
        } else {
            "dark"
        };
        if !embedded {
            let _ = platform::storage_set("redline.theme", next);
        }
        theme.set(next.to_owned());
    };
    let worst = move || {
        state
            .snapshot
            .with(|s| worst_firing(s).map_or("ok", |l| l.name()))
    };
    let nav = move |route: Route, label: &'static str| {
        let current = route.clone();
        view! {
            <a href=route.href() class:active=move || {
                let now = state.route.get();
                now == current || (matches!(now, Route::Module(_)) && current == Route::Overview)
            }>{label}</a>
        }
    };
    view! {
        <div class="app" class:embedded=embedded on:click=follow_link>
        <header class="top" data-worst=worst>
            <h1 class="brand"><a href="#/">"redline"</a></h1>
            <nav aria-label="Views">
                {nav(Route::Overview, "Overview")}
                {nav(Route::Alerts, "Alerts")}
                {nav(Route::Settings, "Settings")}
            </nav>
            <div class="tools">
                <Show when=move || !embedded>
                    <NotifyButton />
                </Show>
                <button type="button" on:click=export data-testid="export">"Export JSON"</button>
                <button type="button" on:click=toggle_theme aria-label="Switch light or dark theme">
                    {move || if theme.get() == "dark" { "☀ light" } else { "☾ dark" }}
                </button>
            </div>
        </header>
        <crate::components::SummaryBar />
        <main>
            {move || match state.route.get() {
                Route::Overview => view! { <Overview /> }.into_any(),
                Route::Module(name) => view! { <ModuleDetail module=name /> }.into_any(),
                Route::Alerts => view! { <AlertsPage /> }.into_any(),
                Route::Settings => view! { <SettingsPage /> }.into_any(),
            }}
        </main>
        <footer class="foot">
            <span
                data-testid="tick-cost"
                data-median-ms=move || format!("{:.3}", state.tick_cost_ms.get())
                data-wasm-bytes=move || {
                    state.tick.track();
                    platform::wasm_memory_bytes()
                }
            >
                {move || format!("tick update {:.1} ms (median of the last 30)", state.tick_cost_ms.get())}
            </span>
        </footer>
        </div>
    }
}

/// Asks for desktop notifications, and says whether they are on.
#[component]
fn NotifyButton() -> impl IntoView {
    let state = crate::state::use_app();
    let permission = state.notifications;
    let ask = move |_| {
        platform::ask_for_notifications(move |answer| {
            let _ = permission.try_set(answer);
        })
    };
    view! {
        {move || match permission.get().as_str() {
            "granted" => view! {
                <span class="hint" data-testid="notifications" title="Grouped, at most one per interval, only while you look elsewhere">
                    "🔔 notifications on"
                </span>
            }.into_any(),
            "denied" => view! {
                <span class="hint" data-testid="notifications" title="Allow them in the browser's site settings">
                    "🔕 notifications blocked"
                </span>
            }.into_any(),
            "unsupported" => ().into_any(),
            _ => view! {
                <button type="button" class="secondary" data-testid="notifications" on:click=ask>
                    "🔔 Notify me"
                </button>
            }.into_any(),
        }}
    }
}
