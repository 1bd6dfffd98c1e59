//! The config panel: the config document, validated with clear messages, kept in
//! localStorage; the page restarts with it.

use leptos::prelude::*;

use crate::config::AppConfig;
use crate::platform;
use crate::state::{Placement, use_app};

/// localStorage key of the saved config.
pub const STORAGE_KEY: &str = "redline.config";

/// localStorage marker: the saved config was imported from a file, so its webhooks
/// wait for the user's consent.
pub const IMPORTED_KEY: &str = "redline.config.imported";

/// The settings view.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let app = use_app();
    let (origin, json) = app.config.with_value(|c| (c.origin.clone(), c.to_json()));
    let text = RwSignal::new(json);
    let message = RwSignal::new(None::<(bool, String)>);
    // Validates, then restarts with it. An imported document (like one from a link)
    // keeps its webhooks off until the user allows them.
    let apply_text = move |candidate: String, imported: bool| {
        let origin = if imported {
            "an imported file"
        } else {
            "the config panel"
        };
        let untrusted = imported || app.config.with_value(|c| c.untrusted);
        let parsed = AppConfig::parse(&candidate, origin).map(|mut config| {
            config.untrusted = untrusted;
            config
        });
        if let (Ok(config), Placement::Embedded(embedding)) = (&parsed, app.placement.get_value()) {
            // Embedded: this dashboard restarts with it; the host page's storage is not
            // touched.
            (embedding.restart)(config.clone());
            return;
        }
        match parsed {
            Ok(_) => match platform::storage_set(STORAGE_KEY, &candidate) {
                Ok(()) => {
                    if imported {
                        let _ = platform::storage_set(IMPORTED_KEY, "true");
                    }
                    message.set(Some((
                        true,
                        "Saved. Restarting with the new config…".to_owned(),
                    )));
                    platform::reload();
                }
                Err(error) => message.set(Some((false, error))),
            },
            Err(problem) => message.set(Some((false, problem.message))),
        }
    };
    let apply = move |_| apply_text(text.get(), false);
    let import = move |event: leptos::ev::Event| {
        leptos::task::spawn_local(async move {
            match platform::chosen_file_text(&event).await {
                Ok(Some(contents)) => {
                    text.set(contents.clone());
                    apply_text(contents, true);
                }
                Ok(None) => {}
                Err(error) => message.set(Some((false, error))),
            }
        });
    };
    let reset = move |_| {
        if let Placement::Embedded(embedding) = app.placement.get_value() {
            (embedding.restart)(AppConfig::defaults());
            return;
        }
        platform::storage_remove(STORAGE_KEY);
        platform::storage_remove(IMPORTED_KEY);
        platform::reload();
    };
    let minutes = RwSignal::new(10u32);
    let export_range = move |csv: bool| {
        let (extension, mime) = if csv {
            ("csv", "text/csv")
        } else {
            ("json", "application/json")
        };
        let write = move |history: &crate::state::history::History, since: f64, now: f64| {
            let contents = if csv {
                history.to_csv(since)
            } else {
                serde_json::to_string_pretty(&history.to_json(since)).unwrap_or_default()
            };
            let name = format!("redline-history-{}.{extension}", now as u64);
            if let Err(error) = platform::download(&name, mime, &contents) {
                message.set(Some((false, error)));
            }
        };
        let Some((layout, now)) = app
            .engine
            .try_with_value(|e| (e.monitor().layout().clone(), e.snapshot().timestamp))
        else {
            return;
        };
        let since = now - f64::from(minutes.get_untracked()) * 60.0;
        // Ten minutes are in memory at tick resolution; longer ranges come from the
        // stored rollups.
        if minutes.get_untracked() <= 10 {
            app.engine.with_value(|e| write(e.history(), since, now));
            return;
        }
        let Some(Some(keeper)) = app.keeper.try_get_value() else {
            message.set(Some((
                false,
                "History is not stored on this page: only the last 10 minutes can be exported."
                    .to_owned(),
            )));
            return;
        };
        leptos::task::spawn_local(async move {
            match crate::state::storage::load_all(keeper, layout, since, now).await {
                Ok(history) => write(&history, since, now),
                Err(error) => message.set(Some((false, format!("History not exported: {error}")))),
            }
        });
    };
    let add_source = move |kind: &'static str| match with_source(&text.get_untracked(), kind) {
        Ok(json) => {
            text.set(json);
            message.set(Some((
                    true,
                    format!("Added a {kind} source at the end of \"sources\": set its name and url, then apply."),
                )));
        }
        Err(error) => message.set(Some((false, error))),
    };
    let export = move |_| {
        if let Err(error) = platform::download("redline.json", "application/json", &text.get()) {
            message.set(Some((false, error)));
        }
    };
    view! {
        <section class="panel settings" aria-label="Settings">
            <div class="panel-head">
                <h2>"Config"</h2>
                <span class="hint">{format!("in force: from {origin}")}</span>
            </div>
            <p class="hint">
                "Window and tick, alert rules, the anomaly detector, the simulated modules and the fetched sources. "
                "Precedence: ?config=URL, then redline.json next to index.html, then what is saved here, then the defaults."
            </p>
            <textarea
                class="config-editor"
                data-testid="config-editor"
                spellcheck="false"
                aria-label="Config JSON"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <div class="actions add-source" role="group" aria-label="Add a source">
                <span class="hint">"Add a source:"</span>
                {SOURCE_KINDS
                    .iter()
                    .map(|kind| view! {
                        <button type="button" class="secondary" on:click=move |_| add_source(kind)>{*kind}</button>
                    })
                    .collect_view()}
            </div>
            <div class="actions">
                <button type="button" on:click=apply data-testid="config-apply">"Validate and apply"</button>
                <button type="button" on:click=export>"Export config"</button>
                <button type="button" class="secondary" on:click=reset>"Reset to defaults"</button>
                <label class="file-button">
                    "Import config…"
                    <input type="file" accept=".json,application/json" data-testid="config-import" on:change=import />
                </label>
            </div>
            <div class="actions" role="group" aria-label="Export history">
                <span class="hint">"History of the last"</span>
                <select
                    aria-label="Minutes of history"
                    on:change=move |ev| minutes.set(event_target_value(&ev).parse().unwrap_or(10))
                >
                    <option value="1">"1 minute"</option>
                    <option value="5">"5 minutes"</option>
                    <option value="10" selected>"10 minutes"</option>
                    <option value="60">"hour (stored, per minute)"</option>
                    <option value="360">"6 hours (stored, per minute)"</option>
                    <option value="1440">"24 hours (stored, per minute)"</option>
                    <option value="10080">"7 days (stored, per minute)"</option>
                </select>
                <button type="button" class="secondary" on:click=move |_| export_range(true)>"as CSV"</button>
                <button type="button" class="secondary" on:click=move |_| export_range(false)>"as JSON"</button>
            </div>
            {move || message.get().map(|(ok, text)| {
                view! {
                    <p class=if ok { "notice ok" } else { "notice error" } role="status" data-testid="config-message">
                        {text}
                    </p>
                }
            })}
        </section>
    }
}

/// The source kinds the config panel offers to add.
const SOURCE_KINDS: [&str; 8] = [
    "prometheus",
    "prometheus_query",
    "dashboard",
    "sse",
    "websocket",
    "ndjson",
    "probe",
    "rum",
];

/// The config document with a template source of `kind` appended to `sources`.
fn with_source(json: &str, kind: &str) -> Result<String, String> {
    use serde_json::{Value, json};
    let mut document: Value =
        serde_json::from_str(json).map_err(|e| format!("fix the document first: {e}"))?;
    let root = document
        .as_object_mut()
        .ok_or("the config must be a JSON object")?;
    let template = match kind {
        "prometheus" => {
            json!({"kind": kind, "name": "service", "url": "http://127.0.0.1:8000/metrics",
            "module_label": "handler", "interval_seconds": 5})
        }
        "prometheus_query" => json!({"kind": kind, "name": "fleet", "url": "http://127.0.0.1:9090",
            "module_label": "job"}),
        "dashboard" => {
            json!({"kind": kind, "name": "legacy", "url": "http://127.0.0.1:8000/dashboard.json"})
        }
        "websocket" => {
            json!({"kind": kind, "name": "ws-events", "url": "ws://127.0.0.1:8000/events"})
        }
        "rum" => json!({"kind": kind, "name": "page", "path_segments": 2}),
        "probe" => json!({"kind": kind, "name": "probes", "interval_seconds": 10,
            "targets": [{"module": "home", "url": "http://127.0.0.1:8000/", "expect": "200-399"}]}),
        _ => {
            json!({"kind": kind, "name": format!("{kind}-events"), "url": "http://127.0.0.1:8000/events"})
        }
    };
    let sources = root
        .entry("sources")
        .or_insert_with(|| Value::Array(Vec::new()));
    let list = sources.as_array_mut().ok_or("\"sources\" must be a list")?;
    list.push(template);
    serde_json::to_string_pretty(&document).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_makes_a_valid_config() {
        for kind in SOURCE_KINDS {
            let json = with_source("{}", kind).expect("a template");
            let config = AppConfig::parse(&json, "test").expect(kind);
            assert_eq!(config.settings.sources.len(), 1);
            assert_eq!(config.settings.sources[0].kind(), kind);
            assert!(
                !config.simulated(),
                "a listed source turns the simulator off"
            );
        }
        assert!(with_source("[1]", "sse").is_err());
        assert!(with_source("{\"sources\": 3}", "sse").is_err());
        assert!(
            with_source("{", "sse")
                .unwrap_err()
                .starts_with("fix the document first")
        );
    }
}
