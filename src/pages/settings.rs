//! The config panel: the config document, validated with clear messages, kept in
//! localStorage; the page restarts with it.

use leptos::prelude::*;

use crate::config::AppConfig;
use crate::platform;
use crate::state::use_app;

/// localStorage key of the saved config.
pub const STORAGE_KEY: &str = "redline.config";

/// The settings view.
#[component]
pub fn SettingsPage() -> impl IntoView {
    let app = use_app();
    let (origin, json) = app.config.with_value(|c| (c.origin.clone(), c.to_json()));
    let text = RwSignal::new(json);
    let message = RwSignal::new(None::<(bool, String)>);
    let apply = move |_| {
        let candidate = text.get();
        match AppConfig::parse(&candidate, "the config panel") {
            Ok(_) => match platform::storage_set(STORAGE_KEY, &candidate) {
                Ok(()) => {
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
    let reset = move |_| {
        platform::storage_remove(STORAGE_KEY);
        platform::reload();
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
                "Window and tick, alert rules, the anomaly detector and the simulated modules. "
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
            <div class="actions">
                <button type="button" on:click=apply data-testid="config-apply">"Validate and apply"</button>
                <button type="button" on:click=export>"Export config"</button>
                <button type="button" class="secondary" on:click=reset>"Reset to defaults"</button>
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
