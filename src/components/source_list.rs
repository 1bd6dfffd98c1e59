//! The sources panel: each fetched source's health, the reason when it fails, when
//! data last arrived, and what it took and refused.

use leptos::prelude::*;

use crate::format;
use crate::sources::status::{Health, SourceStatus};
use crate::state::use_app;

/// One row per configured source; nothing when only the simulator runs.
#[component]
pub fn SourceList() -> impl IntoView {
    let app = use_app();
    let sources = app.sources;
    view! {
        <Show when=move || sources.with(|s| !s.is_empty())>
            <section class="panel sources" data-testid="sources" aria-label="Sources">
                <h2>"Sources"</h2>
                <table class="source-table">
                    <thead>
                        <tr>
                            <th scope="col">"source"</th>
                            <th scope="col">"state"</th>
                            <th scope="col">"last data"</th>
                            <th scope="col" class="num">"taken"</th>
                            <th scope="col" class="num">"refused"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || sources.get().iter().cloned().enumerate().collect::<Vec<_>>()
                            key=|(i, s)| (*i, s.clone_key())
                            children=move |(_, status)| view! { <SourceRow status=status /> }
                        />
                    </tbody>
                </table>
            </section>
        </Show>
    }
}

trait RowKey {
    fn clone_key(&self) -> String;
}

impl RowKey for SourceStatus {
    /// A row is rebuilt when anything it shows changes.
    fn clone_key(&self) -> String {
        format!(
            "{}|{:?}|{:?}|{}|{}|{:?}",
            self.name,
            self.health,
            self.last_success.map(|t| t as i64),
            self.accepted,
            self.rejected,
            self.note
        )
    }
}

#[component]
fn SourceRow(status: SourceStatus) -> impl IntoView {
    let app = use_app();
    let (state_class, state_text) = match &status.health {
        Health::Connecting => ("connecting", "connecting…".to_owned()),
        Health::Ok => ("ok", "ok".to_owned()),
        Health::Failing { reason, .. } => ("failing", format!("failing: {reason}")),
        Health::Stopped => ("stopped", "stopped".to_owned()),
    };
    let retry = match &status.health {
        Health::Failing { since, retry_at, .. } if retry_at.is_finite() => Some(format!(
            "failing since {}, next try {}",
            format::clock(*since),
            format::clock(*retry_at)
        )),
        _ => None,
    };
    let last = status.last_success;
    let ago = move || {
        let now = app.snapshot.with(|s| s.timestamp);
        last.map_or_else(|| "never".to_owned(), |t| format!("{} ago", format::duration((now - t).max(0.0))))
    };
    let refused_title = status.rejections.join("\n");
    let detail = [
        Some(format!("{} · {}", status.kind, status.target)),
        status.last_duration_ms.map(|ms| format!("last fetch {ms:.0} ms")),
        (status.bytes > 0).then(|| format!("{} received", format::bytes(status.bytes as f64))),
        (status.gap_seconds > 0.0).then(|| format!("{} disconnected in all", format::duration(status.gap_seconds))),
        retry,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <tr data-testid="source-row" data-source=status.name.clone() data-state=state_class>
            <th scope="row">
                <span class="source-name">{status.name.clone()}</span>
                <span class="source-detail">{detail}</span>
                {status.note.clone().map(|note| view! { <span class="source-note">{note}</span> })}
            </th>
            <td class=format!("source-state {state_class}") data-testid="source-state">{state_text}</td>
            <td>{ago}</td>
            <td class="num" data-testid="source-accepted">{status.accepted}</td>
            <td class="num" title=refused_title data-testid="source-refused">
                {status.rejected}
                {status.rejections.last().cloned().map(|r| view! { <span class="source-detail">{r}</span> })}
            </td>
        </tr>
    }
}
