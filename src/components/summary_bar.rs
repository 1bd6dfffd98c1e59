//! The summary bar: modules, alerts firing by level, total throughput, source status.

use leptos::prelude::*;

use crate::format;
use crate::state::{Placement, use_app};

/// Counts at a glance.
#[component]
pub fn SummaryBar() -> impl IntoView {
    let app = use_app();
    let snapshot = app.snapshot;
    let total_rps = move || {
        snapshot.with(|s| {
            s.modules
                .values()
                .map(|m| m.metrics.requests_per_second)
                .sum::<f64>()
        })
    };
    let source = move || {
        let (simulated, speed, problems) = app
            .engine
            .with_value(|e| (e.simulated(), e.speed(), e.problems().to_vec()));
        let (fetched, failing) = app.sources.with(|sources| {
            (
                sources.len(),
                sources.iter().filter(|s| s.is_failing()).count(),
            )
        });
        let fetched = match (fetched, failing) {
            (0, _) => None,
            (n, 0) => Some(format!("{n} source{} ok", if n == 1 { "" } else { "s" })),
            (n, k) => Some(format!(
                "{k} of {n} source{} failing",
                if n == 1 { "" } else { "s" }
            )),
        };
        let simulation = if simulated && speed > 1.0 {
            Some(format!("simulated, {speed}× speed"))
        } else if simulated {
            Some("simulated".to_owned())
        } else {
            None
        };
        let status = if !problems.is_empty() {
            format!("problem: {}", problems.join("; "))
        } else {
            match (simulation, fetched) {
                (Some(a), Some(b)) => format!("{a} + {b}"),
                (Some(a), None) | (None, Some(a)) => a,
                // Embedded with neither: the host page records through the JS API.
                (None, None) if app.placement.with_value(Placement::embedded) => {
                    "the host page (record())".to_owned()
                }
                (None, None) => "no source".to_owned(),
            }
        };
        // Re-read each tick so problems show as they happen.
        snapshot.track();
        status
    };
    view! {
        <section class="summary-bar" data-testid="summary-bar" aria-label="Summary">
            <div class="stat">
                <span class="stat-value" data-testid="summary-modules">
                    {move || snapshot.with(|s| s.summary.total_modules)}
                </span>
                <span class="stat-label">"modules"</span>
            </div>
            <div class="stat critical" data-testid="summary-critical">
                <span class="stat-value">{move || snapshot.with(|s| s.summary.critical_alerts)}</span>
                <span class="stat-label">"critical"</span>
            </div>
            <div class="stat warning" data-testid="summary-warning">
                <span class="stat-value">{move || snapshot.with(|s| s.summary.warning_alerts)}</span>
                <span class="stat-label">"warning"</span>
            </div>
            <div class="stat" data-testid="summary-pending">
                <span class="stat-value">{move || snapshot.with(|s| s.summary.pending_alerts)}</span>
                <span class="stat-label">"pending"</span>
            </div>
            <div class="stat" data-testid="summary-flapping" title="also counted at their level">
                <span class="stat-value">{move || snapshot.with(|s| s.summary.flapping_alerts)}</span>
                <span class="stat-label">"flapping"</span>
            </div>
            <div class="stat" data-testid="summary-rps">
                <span class="stat-value">{move || format::rate(total_rps())}</span>
                <span class="stat-label">"total"</span>
            </div>
            <div class="stat source" data-testid="source-status">
                <span class="stat-value small">{source}</span>
                <span class="stat-label">
                    {move || format!("updated {}", format::clock(snapshot.with(|s| s.timestamp)))}
                </span>
            </div>
            <div
                class=move || format!("stat history history-{}", app.history.with(|h| h.state.name()))
                hidden=move || app.history.with(|h| h.state == crate::state::storage::HistoryState::Off)
                data-testid="history-status"
                data-state=move || app.history.with(|h| h.state.name())
                data-write-ms=move || app.history.with(|h| format!("{:.3}", h.write_ms))
                title=move || app.history.with(|h| h.message.clone())
            >
                <span class="stat-value small">{move || app.history.with(|h| h.state.name())}</span>
                <span class="stat-label">{move || app.history.with(history_line)}</span>
            </div>
            {move || {
                app.history
                    .with(|h| {
                        (!h.message.is_empty())
                            .then(|| {
                                view! {
                                    <p class="history-problem" data-testid="history-problem" role="status">
                                        {format!("History: {}", h.message)}
                                    </p>
                                }
                            })
                    })
            }}
        </section>
    }
}

/// The history chip's second line: what is stored, or why not.
fn history_line(status: &crate::state::storage::HistoryStatus) -> String {
    use crate::state::storage::HistoryState;
    match status.state {
        HistoryState::Off => "history not stored".to_owned(),
        HistoryState::Opening => "history: opening".to_owned(),
        HistoryState::Recording | HistoryState::Full | HistoryState::Standby => {
            let usage = status
                .usage_bytes
                .map(|used| {
                    format!(
                        "{} of {}",
                        format::bytes(used),
                        format::bytes(status.budget_bytes)
                    )
                })
                .unwrap_or_else(|| format!("budget {}", format::bytes(status.budget_bytes)));
            format!("history · {usage} · resumed {} ticks", status.resumed_ticks)
        }
        HistoryState::Unavailable | HistoryState::Failed => "history: live only".to_owned(),
    }
}
