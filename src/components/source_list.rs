//! The sources panel: each fetched source's health, the reason when it fails, when
//! data last arrived, and what it took and refused.

use leptos::prelude::*;

use crate::format;
use crate::sources::status::{Health, SourceStatus};
use crate::state::use_app;

/// Sources shown besides the failing ones.
const SHOWN_HEALTHY: usize = 20;

/// One row per configured source; nothing when only the simulator runs.
#[component]
pub fn SourceList() -> impl IntoView {
    let app = use_app();
    let sources = app.sources;
    let show_all = RwSignal::new(false);
    view! {
        <Show when=move || sources.with(|s| !s.is_empty())>
            <section class="panel sources" data-testid="sources" aria-label="Sources">
                <div class="panel-head">
                    <h2>"Sources"</h2>
                    <span class="hint">
                        {move || {
                            sources.with(|s| {
                                let failing = s.iter().filter(|s| s.is_failing()).count();
                                if failing == 0 {
                                    format!("{} ok", s.len())
                                } else {
                                    format!("{failing} of {} failing", s.len())
                                }
                            })
                        }}
                    </span>
                </div>
                <ul class="source-list">
                    {move || {
                        // Failing sources first, all of them: they are what needs
                        // attention. Of the rest, the first few; a fleet of scrape
                        // targets would otherwise bury the alerts below.
                        let (failing, rest): (Vec<_>, Vec<_>) =
                            sources.get().into_iter().partition(|s| s.is_failing());
                        let shown = if show_all.get() { rest.len() } else { SHOWN_HEALTHY };
                        let hidden = rest.len().saturating_sub(shown);
                        let rows = failing
                            .into_iter()
                            .chain(rest.into_iter().take(shown))
                            .map(|status| view! { <SourceRow status=status /> })
                            .collect_view();
                        view! {
                            {rows}
                            {(hidden > 0).then(|| view! {
                                <li class="source-more" data-testid="sources-more">
                                    {format!("and {hidden} more sources, none failing ")}
                                    <button type="button" class="secondary" on:click=move |_| show_all.set(true)>
                                        "show all"
                                    </button>
                                </li>
                            })}
                        }
                    }}
                </ul>
            </section>
        </Show>
    }
}

#[component]
fn SourceRow(status: SourceStatus) -> impl IntoView {
    let app = use_app();
    let (state_class, state_text) = match &status.health {
        Health::Connecting => ("connecting", "connecting…".to_owned()),
        Health::Ok => ("ok", String::new()),
        Health::Failing { reason, .. } => ("failing", format!("failing: {reason}")),
        Health::Stopped => ("stopped", "stopped".to_owned()),
    };
    let retry = match &status.health {
        Health::Failing {
            since, retry_at, ..
        } if retry_at.is_finite() => Some(format!(
            "failing since {}, next try {}",
            format::clock(*since),
            format::clock(*retry_at)
        )),
        _ => None,
    };
    let last = status.last_success;
    let ago = move || {
        let now = app.snapshot.with(|s| s.timestamp);
        last.map_or_else(
            || "never".to_owned(),
            |t| format!("{} ago", format::duration((now - t).max(0.0))),
        )
    };
    let refused_title = status.rejections.join("\n");
    let detail = [
        Some(format!("{} · {}", status.kind, status.target)),
        status
            .last_duration_ms
            .map(|ms| format!("last fetch {ms:.0} ms")),
        (status.bytes > 0).then(|| format!("{} received", format::bytes(status.bytes as f64))),
        (status.gap_seconds > 0.0).then(|| {
            format!(
                "{} disconnected in all",
                format::duration(status.gap_seconds)
            )
        }),
        retry,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <li class=format!("source {state_class}") data-testid="source-row" data-source=status.name.clone() data-state=state_class>
            <div class="source-head">
                <span class=format!("status-dot {}", dot_class(state_class))></span>
                <span class="source-name">{status.name.clone()}</span>
                <span class="badge">{status.kind}</span>
                <span class="source-last">"data " {ago}</span>
            </div>
            <Show when={
                let shown = !state_text.is_empty();
                move || shown
            }>
                <div class="source-state" data-testid="source-state">{state_text.clone()}</div>
            </Show>
            <div class="source-detail">{detail}</div>
            <div class="source-counts">
                <span data-testid="source-accepted">{status.accepted} " taken"</span>
                <span data-testid="source-refused" title=refused_title>
                    {status.rejected} " refused"
                    {status.rejections.last().cloned().map(|r| format!(" (latest: {r})"))}
                </span>
            </div>
            {status.note.clone().map(|note| view! { <div class="source-note">{note}</div> })}
        </li>
    }
}

/// The status dot's colour for a source state.
fn dot_class(state: &str) -> &'static str {
    match state {
        "ok" => "ok",
        "failing" => "critical",
        _ => "no_data",
    }
}
