//! The module table: status colour, p50/p95/p99, throughput and error rate with units,
//! a p95 sparkline; sortable by any column and filtered by name.

use std::cmp::Ordering;

use leptos::prelude::*;

use crate::components::module_row::ModuleRow;
use crate::monitor::snapshot::ModuleSnapshot;
use crate::monitor::{DashboardSnapshot, ModuleStatus};
use crate::state::use_app;

/// Columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Worst status first.
    Status,
    /// Module name.
    Name,
    /// Median latency.
    P50,
    /// 95th percentile latency.
    P95,
    /// 99th percentile latency.
    P99,
    /// Throughput.
    Rps,
    /// Error rate.
    ErrorRate,
}

fn severity(status: ModuleStatus) -> u8 {
    match status {
        ModuleStatus::Critical => 3,
        ModuleStatus::Warning => 2,
        ModuleStatus::Ok => 1,
        ModuleStatus::NoData => 0,
    }
}

/// Module names in display order: filtered by `filter` (case-insensitive substring)
/// and sorted by `key`, descending when `descending`, ties by name.
pub fn ordered_names(
    snapshot: &DashboardSnapshot,
    filter: &str,
    key: SortKey,
    descending: bool,
) -> Vec<String> {
    let needle = filter.trim().to_ascii_lowercase();
    let mut rows: Vec<(&str, &ModuleSnapshot)> = snapshot
        .modules
        .iter()
        .filter(|(name, _)| needle.is_empty() || name.to_ascii_lowercase().contains(&needle))
        .collect();
    let value = |m: &ModuleSnapshot| match key {
        SortKey::P50 => m.metrics.latency_p50,
        SortKey::P95 => m.metrics.latency_p95,
        SortKey::P99 => m.metrics.latency_p99,
        SortKey::Rps => m.metrics.requests_per_second,
        SortKey::ErrorRate => m.metrics.error_rate,
        SortKey::Status => f64::from(severity(m.status)),
        SortKey::Name => 0.0,
    };
    crate::sort::sort_by(&mut rows, |(a_name, a), (b_name, b)| {
        let order = match key {
            SortKey::Name => a_name.cmp(b_name),
            _ => value(a).total_cmp(&value(b)),
        };
        let order = if descending { order.reverse() } else { order };
        match order {
            Ordering::Equal => a_name.cmp(b_name),
            other => other,
        }
    });
    rows.into_iter().map(|(name, _)| name.to_owned()).collect()
}

/// Height of one table row in CSS pixels (the stylesheet fixes it to this).
pub const ROW_HEIGHT_PX: f64 = 30.0;
/// Rows rendered beyond the visible ones, above and below, for smooth scrolling. Each
/// one costs a row update per tick, so only a few (the stylesheet skips laying out and
/// painting them while they are out of view).
const OVERSCAN_ROWS: usize = 2;

/// The rows to render for a scroll position: `(first, end)` of the visible slice.
pub fn visible_range(total: usize, scroll_top_px: f64, viewport_px: f64) -> (usize, usize) {
    let first =
        ((scroll_top_px / ROW_HEIGHT_PX).floor().max(0.0) as usize).saturating_sub(OVERSCAN_ROWS);
    let shown = (viewport_px / ROW_HEIGHT_PX).ceil().max(1.0) as usize + 2 * OVERSCAN_ROWS;
    let first = first.min(total);
    (first, (first + shown).min(total))
}

/// The table of every module. Only the rows in view are in the DOM, so a tick with
/// hundreds of modules updates a few dozen rows.
#[component]
pub fn ModuleTable() -> impl IntoView {
    let app = use_app();
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new((SortKey::Status, true));
    let names = Memo::new(move |_| {
        let (key, descending) = sort.get();
        let filter = filter.get();
        app.snapshot
            .with(|s| ordered_names(s, &filter, key, descending))
    });
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll = RwSignal::new((0.0f64, 900.0f64));
    // A frame or resize may arrive after the table is gone: then it does nothing.
    let measure = move || {
        if let Some(Some(element)) = scroller.try_get_untracked() {
            let now = (
                f64::from(element.scroll_top()),
                f64::from(element.client_height().max(1)),
            );
            if scroll.try_get_untracked().is_some_and(|shown| shown != now) {
                scroll.try_set(now);
            }
        }
    };
    let on_scroll = move |_| measure();
    // The visible area follows the window's height too.
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    // The scroller's real height is known once it is in the page, and changes with the
    // number of rows (it is as tall as they are, up to most of the screen): measure
    // again after either, and render what fits.
    Effect::new(move |previous: Option<(bool, usize)>| {
        let now = (scroller.get().is_some(), names.with(Vec::len));
        if now.0 && previous != Some(now) {
            request_animation_frame(measure);
        }
        now
    });
    let range = Memo::new(move |_| {
        let (top, height) = scroll.get();
        names.with(|n| visible_range(n.len(), top, height))
    });
    let visible = Memo::new(move |_| {
        let (first, end) = range.get();
        names.with(|n| n[first..end].to_vec())
    });
    let spacer = move |rows: usize| format!("height: {}px", rows as f64 * ROW_HEIGHT_PX);
    let above = move || spacer(range.get().0);
    let below = move || {
        let (_, end) = range.get();
        spacer(names.with(Vec::len) - end)
    };
    let header = move |label: &'static str, key: SortKey, numeric: bool| {
        let aria = move || match sort.get() {
            (current, true) if current == key => "descending",
            (current, false) if current == key => "ascending",
            _ => "none",
        };
        view! {
            <th scope="col" class:numeric=numeric aria-sort=aria>
                <button
                    type="button"
                    class="sort"
                    on:click=move |_| {
                        sort.update(|(current, descending)| {
                            if *current == key {
                                *descending = !*descending;
                            } else {
                                *current = key;
                                *descending = key != SortKey::Name;
                            }
                        })
                    }
                >
                    {label}
                </button>
            </th>
        }
    };
    view! {
        <section class="panel module-panel" aria-label="Modules">
            <div class="panel-head">
                <h2>"Modules"</h2>
                <input
                    type="search"
                    class="filter"
                    placeholder="Filter by name"
                    aria-label="Filter modules by name"
                    data-testid="module-filter"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
            </div>
            <div
                class="table-scroll"
                node_ref=scroller
                on:scroll=on_scroll
                style=move || {
                    // As tall as the rows, the header and a scrollbar; at most most of the screen.
                    let rows = names.with(Vec::len).max(1) + 1;
                    format!("height: min(72vh, {}px)", rows as f64 * ROW_HEIGHT_PX + 18.0)
                }
            >
                <table class="module-table" data-testid="module-table">
                    <thead>
                        <tr>
                            {header("Status", SortKey::Status, false)}
                            {header("Module", SortKey::Name, false)}
                            {header("p50", SortKey::P50, true)}
                            {header("p95", SortKey::P95, true)}
                            {header("p99", SortKey::P99, true)}
                            {header("Throughput", SortKey::Rps, true)}
                            {header("Errors", SortKey::ErrorRate, true)}
                            <th scope="col">"p95 trend"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <tr class="spacer" aria-hidden="true" style=above></tr>
                        <For each=move || visible.get() key=|name| name.clone() let:name>
                            <ModuleRow name=name />
                        </For>
                        <tr class="spacer" aria-hidden="true" style=below></tr>
                    </tbody>
                </table>
                <Show when=move || names.with(Vec::is_empty)>
                    <p class="empty">"No module matches the filter."</p>
                </Show>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::PerformanceMonitor;

    #[test]
    fn only_the_rows_in_view_render() {
        assert_eq!(visible_range(4, 0.0, 900.0), (0, 4));
        assert_eq!(visible_range(500, 0.0, 300.0), (0, 14));
        assert_eq!(visible_range(500, 3000.0, 300.0), (98, 112));
        assert_eq!(visible_range(500, 1e9, 300.0), (500, 500));
    }

    #[test]
    fn rows_filter_and_sort() {
        let mut monitor = PerformanceMonitor::default();
        for (name, latency) in [("alpha", 0.3), ("beta", 0.1), ("gamma", 0.2)] {
            for _ in 0..50 {
                monitor.record(name, latency, true, 10.5).expect("valid");
            }
        }
        monitor.tick(11.0);
        let snapshot = monitor.snapshot(11.0);
        assert_eq!(
            ordered_names(&snapshot, "", SortKey::P95, true),
            ["alpha", "gamma", "beta"]
        );
        assert_eq!(
            ordered_names(&snapshot, "", SortKey::P95, false),
            ["beta", "gamma", "alpha"]
        );
        assert_eq!(
            ordered_names(&snapshot, "A", SortKey::Name, false),
            ["alpha", "beta", "gamma"]
        );
        assert_eq!(
            ordered_names(&snapshot, "mm", SortKey::Name, false),
            ["gamma"]
        );
    }
}
