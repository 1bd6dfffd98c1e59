//! One module: its numbers, its charts and its alerts; reached by `#/modules/{name}`.

use std::sync::Arc;

use leptos::prelude::*;

use crate::components::{
    AlertList, ChartKind, MetricChart, PickedRange, RangeButtons, status_class,
};
use crate::format;
use crate::route::Route;
use crate::state::storage::load_range;
use crate::state::use_app;

/// The detail view of `module`.
#[component]
pub fn ModuleDetail(
    /// Module name.
    #[prop(into)]
    module: String,
) -> impl IntoView {
    let app = use_app();
    let exists = {
        let module = module.clone();
        move || app.snapshot.with(|s| s.modules.get(&module).is_some())
    };
    let status = {
        let module = module.clone();
        Memo::new(move |_| {
            app.snapshot.with(|s| {
                s.modules
                    .get(&module)
                    .map_or("no_data", |m| status_class(m.status))
            })
        })
    };
    let line = {
        let module = module.clone();
        move || {
            app.snapshot.with(|s| {
                s.modules.get(&module).map(|m| {
                    let p = &m.percentiles;
                    format!(
                        "p50 {} · p95 {} · p99 {} · p99.9 {} · max {} · {} · {} errors · {} requests in {} · source {}",
                        format::percentile(&p.p50),
                        format::percentile(&p.p95),
                        format::percentile(&p.p99),
                        format::percentile(&p.p999),
                        format::latency(m.metrics.latency_max),
                        format::rate(m.metrics.requests_per_second),
                        format::percent(m.metrics.error_rate),
                        m.window.requests,
                        format::duration(m.window.seconds),
                        m.source.name(),
                    )
                })
            })
        }
    };
    let range = RwSignal::new(None::<Arc<PickedRange>>);
    let picked = RwSignal::new(0usize);
    let title = module.clone();
    let charts_module = module.clone();
    let alerts_module = module.clone();
    view! {
        <article class="module-detail" data-testid="module-detail" data-module=module.clone() data-status=move || status.get()>
            <nav class="crumbs"><a href=Route::Overview.href()>"← all modules"</a></nav>
            <h2><span class=move || format!("status-dot {}", status.get())></span>{title}</h2>
            <Show
                when=exists
                fallback=move || view! { <p class="empty">"No module of this name is monitored (yet)."</p> }
            >
                <p class="detail-line" data-testid="detail-line">{line.clone()}</p>
                <RangePicker module=charts_module.clone() range=range picked=picked />
                <div class="charts">
                    <MetricChart module=charts_module.clone() kind=ChartKind::Latency range=range />
                    <MetricChart module=charts_module.clone() kind=ChartKind::Throughput range=range />
                    <MetricChart module=charts_module.clone() kind=ChartKind::ErrorRate range=range />
                </div>
            </Show>
            <AlertList module=alerts_module />
        </article>
    }
}

/// The ranges offered: label and seconds (0: the live window in memory).
const RANGES: [(&str, f64); 5] = [
    ("live", 0.0),
    ("1 h", 3600.0),
    ("6 h", 6.0 * 3600.0),
    ("24 h", 86_400.0),
    ("7 d", 7.0 * 86_400.0),
];

/// Points a stored range is re-aggregated to, at most.
const RANGE_POINTS: usize = 1440;

/// Picks what the charts show: the live window, or a range of stored history (merged
/// rollups, re-aggregated with the sketch).
#[component]
fn RangePicker(
    module: String,
    range: RwSignal<Option<Arc<PickedRange>>>,
    picked: RwSignal<usize>,
) -> impl IntoView {
    let app = use_app();
    let note = RwSignal::new(String::new());
    let stored = move || app.history.with(|h| h.state.readable());
    let module = StoredValue::new(module);
    let pick = move |index: usize| {
        picked.set(index);
        let seconds = RANGES[index].1;
        if seconds == 0.0 {
            range.set(None);
            note.set(String::new());
            return;
        }
        let Some(Some(keeper)) = app.keeper.try_get_value() else {
            note.set("History is not stored on this page.".to_owned());
            return;
        };
        let Some((layout, to)) = app.engine.try_with_value(|e| {
            (
                e.monitor().layout().clone(),
                e.now(crate::platform::now_seconds()),
            )
        }) else {
            return;
        };
        note.set("loading…".to_owned());
        let module = module.get_value();
        let started = crate::platform::performance_now();
        leptos::task::spawn_local(async move {
            let from = to - seconds;
            let loaded = load_range(keeper, layout, module, from, to, RANGE_POINTS).await;
            // A later pick wins.
            if picked.get_untracked() != index {
                return;
            }
            match loaded {
                Ok(points) => {
                    let ms = crate::platform::performance_now() - started;
                    note.set(format!(
                        "{} points from stored history, loaded in {ms:.0} ms",
                        points.len()
                    ));
                    range.set(Some(Arc::new(PickedRange { from, to, points })));
                }
                Err(error) => {
                    note.set(error);
                    let points = Vec::new();
                    range.set(Some(Arc::new(PickedRange { from, to, points })));
                }
            }
        });
    };
    view! {
        <div class="range-picker" role="group" aria-label="Time range" data-testid="range-picker">
            <RangeButtons
                labels=RANGES.iter().map(|(label, _)| *label).collect()
                testid="range-"
                pressed=Signal::derive(move || Some(picked.get()))
                enabled=move |index| index == 0 || stored()
                on_pick=pick
            />
            <span class="hint" data-testid="range-note">{move || note.get()}</span>
        </div>
    }
}
