//! The bottleneck ranking: which modules cost the most time, and why.

use leptos::prelude::*;

use crate::format;
use crate::route::Route;
use crate::state::use_app;

/// Modules ranked by share of time spent, with p95 rank and the reason.
#[component]
pub fn BottleneckList() -> impl IntoView {
    let app = use_app();
    let rows = Memo::new(move |_| app.snapshot.with(|s| s.bottlenecks.clone()));
    view! {
        <section class="panel bottleneck-panel" aria-label="Bottlenecks">
            <div class="panel-head">
                <h2>"Bottlenecks"</h2>
                <span class="hint">"by share of time spent (throughput × mean latency)"</span>
            </div>
            <ol class="bottlenecks" data-testid="bottleneck-list">
                <For each=move || rows.get() key=|b| b.module.clone() let:b>
                    <BottleneckRow module=b.module.clone() />
                </For>
            </ol>
        </section>
    }
}

#[component]
fn BottleneckRow(module: String) -> impl IntoView {
    let app = use_app();
    // One lookup per tick: the share and the reason of this module's entry.
    let entry = {
        let module = module.clone();
        Memo::new(move |_| {
            app.snapshot.with(|s| {
                s.bottlenecks
                    .iter()
                    .find(|b| b.module == module)
                    .map_or((0.0, String::new()), |b| (b.time_share, b.reason.clone()))
            })
        })
    };
    let share = move || entry.with(|e| e.0);
    let reason = move || entry.with(|e| e.1.clone());
    view! {
        <li data-testid="bottleneck" data-module=module.clone()>
            <a href=Route::Module(module.clone()).href() class="bottleneck-name">{module.clone()}</a>
            <span class="share-bar" aria-hidden="true">
                <span class="share-fill" style=move || format!("width: {:.1}%", share() * 100.0)></span>
            </span>
            <span class="share-text">{move || format::percent(share())}</span>
            <span class="bottleneck-reason">{reason}</span>
        </li>
    }
}
