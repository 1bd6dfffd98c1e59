//! The webhooks panel: where alerts are sent, what was delivered, retried and dropped,
//! and, for a config that came from a link, the switch that lets them go.

use leptos::prelude::*;

use crate::state::webhooks::{WebhookStatus, remember_allowed};
use crate::state::{Placement, use_app};
use crate::webhook::WebhookKind;

/// One item per configured webhook; nothing when there are none.
#[component]
pub fn WebhookList() -> impl IntoView {
    let app = use_app();
    let webhooks = app.webhooks;
    view! {
        <Show when=move || webhooks.with(|w| !w.is_empty())>
            <section class="panel sources webhooks" data-testid="webhooks" aria-label="Webhooks">
                <div class="panel-head">
                    <h2>"Webhooks"</h2>
                    <span class="hint">
                        "Receivers on another origin must allow this page by CORS, or sit behind a path of this origin."
                    </span>
                </div>
                <ul class="source-list">
                    {move || {
                        webhooks
                            .get()
                            .into_iter()
                            .enumerate()
                            .map(|(index, status)| view! { <WebhookRow index=index status=status /> })
                            .collect_view()
                    }}
                </ul>
            </section>
        </Show>
    }
}

#[component]
fn WebhookRow(index: usize, status: WebhookStatus) -> impl IntoView {
    let app = use_app();
    let allow = move |_| {
        let endpoint = app.webhook_runners.with_value(|runners| {
            runners.get(index).map(|runner| {
                runner.borrow_mut().enable();
                runner.borrow().status().endpoint
            })
        });
        if let Some(endpoint) = endpoint
            && !app.placement.with_value(Placement::embedded)
        {
            remember_allowed(&endpoint);
        }
        app.refresh_webhooks();
    };
    let kind = match status.kind {
        WebhookKind::Json => "json",
        WebhookKind::Alertmanager => "alertmanager",
    };
    let counts = status.counts;
    let class = if !status.enabled {
        "source held"
    } else if status.last_error.is_some() {
        "source failing"
    } else {
        "source ok"
    };
    view! {
        <li class=class data-testid="webhook" data-name=status.name.clone() data-enabled=status.enabled.to_string()>
            <div class="source-head">
                <span class="source-name">{status.name.clone()}</span>
                <span class="badge">{kind}</span>
            </div>
            <div class="source-detail">{format!("POST {}", status.endpoint)}</div>
            {(!status.enabled).then(|| view! {
                <div class="source-state" role="alert">
                    "Off: this config came from a link. Alerts stay here until you allow sending them to "
                    <code>{status.endpoint.clone()}</code> ". "
                    <button type="button" data-testid="webhook-allow" on:click=allow>"Allow"</button>
                </div>
            })}
            {status.last_error.clone().map(|error| view! { <div class="source-state">{error}</div> })}
            <div class="source-counts" data-testid="webhook-counts">
                <span>{format!("{} delivered", counts.delivered)}</span>
                <span>{format!("{} waiting", status.waiting)}</span>
                <span>{format!("{} failed attempts", counts.failed_attempts)}</span>
                <span>{format!("{} dropped", counts.dropped)}</span>
            </div>
        </li>
    }
}
