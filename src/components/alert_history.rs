//! What fired over the last hour, day or week, from the alert transitions stored in
//! IndexedDB: one item per alert, with its worst level, how it ended and how long it
//! lasted, the latest start first.

use leptos::prelude::*;

use crate::components::alert_item::{AlertLive, AlertRow};
use crate::components::{RangeButtons, level_class};
use crate::format;
use crate::route::Route;
use crate::state::alert_history::AlertHistory;
use crate::state::storage::load_alert_history;
use crate::state::use_app;

/// The ranges offered: label and seconds.
const RANGES: [(&str, f64); 3] = [("1 h", 3600.0), ("24 h", 86_400.0), ("7 d", 7.0 * 86_400.0)];

/// The range loaded when the view opens (24 h).
const FIRST_RANGE: usize = 1;

/// The stored alert history, by range.
#[component]
pub fn AlertHistoryList() -> impl IntoView {
    let app = use_app();
    let picked = RwSignal::new(None::<usize>);
    let loaded = RwSignal::new(None::<AlertHistory>);
    let note = RwSignal::new(String::new());
    let stored = move || app.history.with(|h| h.state.readable());
    let pick = move |index: usize| {
        picked.set(Some(index));
        let Some(Some(keeper)) = app.keeper.try_get_value() else {
            note.set("History is not stored on this page.".to_owned());
            return;
        };
        let Some(to) = app
            .engine
            .try_with_value(|e| e.now(crate::platform::now_seconds()))
        else {
            return;
        };
        note.set("loading…".to_owned());
        leptos::task::spawn_local(async move {
            let outcome = load_alert_history(keeper, to - RANGES[index].1, to).await;
            // A later pick wins.
            if picked.get_untracked() != Some(index) {
                return;
            }
            match outcome {
                Ok((history, corrupt)) => {
                    let skipped = match corrupt {
                        0 => String::new(),
                        1 => " (1 stored transition did not read and was skipped)".to_owned(),
                        n => format!(" ({n} stored transitions did not read and were skipped)"),
                    };
                    let cleared = match history.cancelled {
                        0 => String::new(),
                        1 => "; 1 more was pending and cleared before firing".to_owned(),
                        n => format!("; {n} more were pending and cleared before firing"),
                    };
                    let fired = match history.episodes.len() {
                        1 => "1 alert fired".to_owned(),
                        n => format!("{n} alerts fired"),
                    };
                    note.set(format!(
                        "{fired} in the last {}{cleared}{skipped}.",
                        RANGES[index].0
                    ));
                    loaded.set(Some(history));
                }
                Err(error) => {
                    note.set(error);
                    loaded.set(None);
                }
            }
        });
    };
    // The day's history loads as soon as the stored history is open.
    Effect::new(move |_| {
        if stored() && picked.get_untracked().is_none() {
            pick(FIRST_RANGE);
        }
    });
    let items = move || {
        loaded.with(|history| {
            history
                .iter()
                .flat_map(|h| h.episodes.iter())
                .map(|episode| {
                    let row = AlertRow::of(&episode.alert);
                    let live = AlertLive::of(&episode.alert);
                    let level = level_class(episode.worst);
                    // An alert with no end stored may still be on (see the list above),
                    // or the page closed while it was: no length is claimed for it.
                    let (ended, lasted) = match episode.alert.ended_at {
                        Some(t) => (format!("ended {}", format::clock(t)), live.duration),
                        None => ("no end stored".to_owned(), String::new()),
                    };
                    view! {
                        <li
                            class=format!("alert {level} {}", live.state)
                            data-testid="history-alert"
                            data-level=level
                            data-state=live.state
                            data-module=row.module.clone()
                        >
                            <span class="level-badge">{level}</span>
                            <span class="state">{live.state}</span>
                            <a class="alert-module" href=Route::Module(row.module.clone()).href()>{row.module.clone()}</a>
                            <span class="alert-metric">{row.metric}</span>
                            <span class="alert-evidence">{live.evidence}</span>
                            <span class="alert-source">{row.source}</span>
                            <span class="alert-time" title="started (UTC)">{format::clock(row.started)}</span>
                            <span class="alert-duration" title="how long it lasted">{lasted}</span>
                            <span class="alert-ended">{ended}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="panel alert-panel alert-history" aria-label="Alert history" data-testid="alert-history">
            <div class="panel-head">
                <h2>"Alert history"</h2>
                <div class="range-picker" role="group" aria-label="Alert history range">
                    <RangeButtons
                        labels=RANGES.iter().map(|(label, _)| *label).collect()
                        testid="alert-history-range-"
                        pressed=picked.into()
                        enabled=move |_| stored()
                        on_pick=pick
                    />
                </div>
            </div>
            <p class="hint" data-testid="alert-history-note">
                {move || {
                    if stored() || !note.get().is_empty() {
                        note.get()
                    } else {
                        "Alert history is kept with the stored history, which is not open on this page.".to_owned()
                    }
                }}
            </p>
            <ul class="alert-list">{items}</ul>
        </section>
    }
}
