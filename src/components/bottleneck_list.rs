//! The bottleneck ranking: which modules cost the most time, and why.

use leptos::html::{A, Li, Span};
use leptos::prelude::*;

use crate::components::{keep_current, update_text};
use crate::format;
use crate::monitor::DashboardSnapshot;
use crate::platform::dom;
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
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    module: String,
    share: String,
    width: String,
    reason: String,
}

impl Entry {
    fn at(snapshot: &DashboardSnapshot, rank: usize) -> Entry {
        let (module, time_share, reason) = snapshot
            .bottlenecks
            .get(rank)
            .map_or(("", 0.0, ""), |b| (&b.module, b.time_share, &b.reason));
        Entry {
            module: module.to_owned(),
            share: format::percent(time_share),
            width: format!("width: {:.1}%", time_share * 100.0),
            reason: reason.to_owned(),
        }
    }
}

/// The entry's elements that a tick may change.
#[derive(Clone, Copy, Default)]
struct EntryElements {
    item: NodeRef<Li>,
    name: NodeRef<A>,
    fill: NodeRef<Span>,
    share: NodeRef<Span>,
    reason: NodeRef<Span>,
}

impl EntryElements {
    /// Writes what changed between `shown` and `now`.
    fn update(&self, shown: &Entry, now: &Entry) {
        if shown.module != now.module {
            if let Some(item) = self.item.get_untracked() {
                dom::set_attribute(&item, "data-module", &now.module);
            }
            if let Some(name) = self.name.get_untracked() {
                dom::set_attribute(&name, "href", &Route::Module(now.module.clone()).href());
            }
            update_text(self.name, &shown.module, &now.module);
        }
        if shown.width != now.width
            && let Some(fill) = self.fill.get_untracked()
        {
            dom::set_attribute(&fill, "style", &now.width);
        }
        update_text(self.share, &shown.share, &now.share);
        update_text(self.reason, &shown.reason, &now.reason);
    }
}

/// The entry at one rank, kept current by one effect.
#[component]
fn BottleneckRow(
    /// Position in the ranking, from 0.
    rank: usize,
) -> impl IntoView {
    let app = use_app();
    let first = app.snapshot.with_untracked(|s| Entry::at(s, rank));
    let elements = EntryElements::default();
    keep_current(
        &first,
        move || app.snapshot.with(|s| Entry::at(s, rank)),
        move |shown, now| elements.update(shown, now),
    );
    let href = Route::Module(first.module.clone()).href();
    let module = first.module.clone();
    view! {
        <li node_ref=elements.item data-testid="bottleneck" data-module=module>
            <a node_ref=elements.name href=href class="bottleneck-name">
                {first.module}
            </a>
            <span class="share-bar" aria-hidden="true">
                <span node_ref=elements.fill class="share-fill" style=first.width></span>
            </span>
            <span node_ref=elements.share class="share-text">{first.share}</span>
            <span node_ref=elements.reason class="bottleneck-reason">{first.reason}</span>
        </li>
    }
}
