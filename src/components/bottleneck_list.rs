//! The bottleneck ranking: which modules cost the most time, and why.

use leptos::prelude::*;

use crate::format;
use crate::route::Route;
use crate::state::use_app;

/// Modules ranked by share of time spent, with p95 rank and the reason.
#[component]
pub fn BottleneckList() -> impl IntoView {
    let app = use_app();
    // One item per rank, updated in place: a change in the ranking changes texts, and
    // never moves or rebuilds items.
    let ranks = Memo::new(move |_| app.snapshot.with(|s| s.bottlenecks.len()));
    view! {
        <section class="panel bottleneck-panel" aria-label="Bottlenecks">
            <div class="panel-head">
                <h2>"Bottlenecks"</h2>
                <span class="hint">"by share of time spent (throughput × mean latency)"</span>
            </div>
            <ol class="bottlenecks" data-testid="bottleneck-list">
                <For each=move || 0..ranks.get() key=|rank| *rank let:rank>
                    <BottleneckRow rank=rank />
                </For>
            </ol>
        </section>
    }
}

/// This rank's entry as shown.
#[derive(Debug, Clone, PartialEq, Default)]
struct Entry {
    module: String,
    share: f64,
    reason: String,
}

#[component]
fn BottleneckRow(
    /// Position in the ranking, from 0.
    rank: usize,
) -> impl IntoView {
    let app = use_app();
    let entry = Memo::new(move |_| {
        app.snapshot.with(|s| {
            s.bottlenecks
                .get(rank)
                .map_or_else(Entry::default, |b| Entry {
                    module: b.module.clone(),
                    share: b.time_share,
                    reason: b.reason.clone(),
                })
        })
    });
    let module = Memo::new(move |_| entry.with(|e| e.module.clone()));
    let share = move || entry.with(|e| e.share);
    let reason = move || entry.with(|e| e.reason.clone());
    view! {
        <li data-testid="bottleneck" data-module=move || module.get()>
            <a href=move || module.with(|m| Route::Module(m.clone()).href()) class="bottleneck-name">
                {move || module.get()}
            </a>
            <span class="share-bar" aria-hidden="true">
                <span class="share-fill" style=move || format!("width: {:.1}%", share() * 100.0)></span>
            </span>
            <span class="share-text">{move || format::percent(share())}</span>
            <span class="bottleneck-reason">{reason}</span>
        </li>
    }
}
