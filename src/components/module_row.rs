//! One row of the module table: built once, then kept current by a single effect per
//! row that writes only the cells whose text changed (a reactive node per cell cost
//! more than the writes themselves, with a few dozen rows updating every tick).

use leptos::html::{Span, Td, Tr};
use leptos::prelude::*;
use leptos::svg::Polyline;

use crate::components::sparkline::{Sparkline, polyline_points};
use crate::components::{keep_current, status_class, update_text};
use crate::format;
use crate::monitor::DashboardSnapshot;
use crate::monitor::snapshot::{ModuleSnapshot, ModuleSource};
use crate::platform::dom;
use crate::route::Route;
use crate::state::{AppState, use_app};

/// Ticks of p95 history the trend shows.
const TREND_TICKS: usize = 60;
/// The sparkline's box, in CSS pixels.
const TREND_WIDTH_PX: f32 = 72.0;
const TREND_HEIGHT_PX: f32 = 20.0;
/// The p99 cell's hint when its estimate rests on few samples.
const FEW_SAMPLES: &str = "few samples: p99 is a rough estimate";

/// One row's values as shown.
#[derive(Debug, Clone, PartialEq)]
struct RowCells {
    status: &'static str,
    simulated: bool,
    low_confidence: bool,
    p50: String,
    p95: String,
    p99: String,
    rps: String,
    error_rate: String,
    /// The sparkline's points.
    trend: String,
}

impl Default for RowCells {
    fn default() -> Self {
        RowCells {
            status: "no_data",
            simulated: false,
            low_confidence: true,
            p50: "–".to_owned(),
            p95: "–".to_owned(),
            p99: "–".to_owned(),
            rps: "–".to_owned(),
            error_rate: "–".to_owned(),
            trend: String::new(),
        }
    }
}

impl RowCells {
    /// The row of `name` as of `snapshot`, its trend from the engine's history.
    fn read(app: AppState, name: &str, snapshot: &DashboardSnapshot) -> RowCells {
        let mut cells = snapshot
            .modules
            .get(name)
            .map(RowCells::of)
            .unwrap_or_default();
        cells.trend = app
            .engine
            .try_with_value(|e| {
                let p95 = e.history().tail(name, TREND_TICKS, |p| p.p95);
                polyline_points(&p95, TREND_WIDTH_PX, TREND_HEIGHT_PX)
            })
            .unwrap_or_default();
        cells
    }

    fn of(module: &ModuleSnapshot) -> RowCells {
        let m = &module.metrics;
        RowCells {
            status: status_class(module.status),
            simulated: module.source == ModuleSource::Simulated,
            low_confidence: module.percentiles.p99.low_confidence,
            p50: latency_or_dash(module, m.latency_p50),
            p95: latency_or_dash(module, m.latency_p95),
            p99: latency_or_dash(module, m.latency_p99),
            rps: format::rate(m.requests_per_second),
            error_rate: if module.window.requests == 0 {
                "–".to_owned()
            } else {
                format::percent(m.error_rate)
            },
            trend: String::new(),
        }
    }
}

/// A latency, or a dash when the window holds no latency sample (0 ms would read as data).
fn latency_or_dash(module: &ModuleSnapshot, seconds: f64) -> String {
    if module.window.latency_samples == 0 {
        "–".to_owned()
    } else {
        format::latency(seconds)
    }
}

fn p99_class(low_confidence: bool) -> &'static str {
    if low_confidence {
        "numeric low-confidence"
    } else {
        "numeric"
    }
}

fn p99_title(low_confidence: bool) -> &'static str {
    if low_confidence { FEW_SAMPLES } else { "" }
}

/// The row's elements that a tick may change.
#[derive(Clone, Copy, Default)]
struct RowElements {
    row: NodeRef<Tr>,
    status_text: NodeRef<Span>,
    badge: NodeRef<Span>,
    p50: NodeRef<Td>,
    p95: NodeRef<Td>,
    p99: NodeRef<Td>,
    rps: NodeRef<Td>,
    error_rate: NodeRef<Td>,
    trend: NodeRef<Polyline>,
}

impl RowElements {
    /// Writes what changed between `shown` and `now`.
    fn update(&self, shown: &RowCells, now: &RowCells) {
        if shown.status != now.status
            && let Some(row) = self.row.get_untracked()
        {
            dom::set_attribute(&row, "class", now.status);
            dom::set_attribute(&row, "data-status", now.status);
            if let Some(text) = self.status_text.get_untracked() {
                dom::set_text(&text, &now.status.replace('_', " "));
            }
        }
        if shown.simulated != now.simulated
            && let Some(badge) = self.badge.get_untracked()
        {
            dom::toggle_attribute(&badge, "hidden", !now.simulated);
        }
        update_text(self.p50, &shown.p50, &now.p50);
        update_text(self.p95, &shown.p95, &now.p95);
        update_text(self.p99, &shown.p99, &now.p99);
        if shown.low_confidence != now.low_confidence
            && let Some(cell) = self.p99.get_untracked()
        {
            dom::set_attribute(&cell, "class", p99_class(now.low_confidence));
            dom::set_attribute(&cell, "title", p99_title(now.low_confidence));
        }
        update_text(self.rps, &shown.rps, &now.rps);
        update_text(self.error_rate, &shown.error_rate, &now.error_rate);
        if shown.trend != now.trend
            && let Some(line) = self.trend.get_untracked()
        {
            dom::set_attribute(&line, "points", &now.trend);
        }
    }
}

/// One module's row.
#[component]
pub fn ModuleRow(
    /// Module name.
    name: String,
) -> impl IntoView {
    let app = use_app();
    let first = app
        .snapshot
        .with_untracked(|s| RowCells::read(app, &name, s));
    let elements = RowElements::default();
    {
        let name = name.clone();
        // Each tick publishes a snapshot, and records the history the trend reads.
        keep_current(
            &first,
            move || app.snapshot.with(|s| RowCells::read(app, &name, s)),
            move |shown, now| elements.update(shown, now),
        );
    }
    let href = Route::Module(name.clone()).href();
    let label = format!("p95 trend of {name}");
    view! {
        <tr
            node_ref=elements.row
            data-testid="module-row"
            data-module=name
            data-status=first.status
            class=first.status
        >
            <td class="status-cell">
                <span class="status-dot" aria-hidden="true"></span>
                <span class="status-text" node_ref=elements.status_text>
                    {first.status.replace('_', " ")}
                </span>
                <span class="badge sim" title="simulated module" hidden=!first.simulated node_ref=elements.badge>
                    "sim"
                </span>
            </td>
            <th scope="row" class="module-name">
                <a href=href>{name.clone()}</a>
            </th>
            <td class="numeric" data-testid="p50" node_ref=elements.p50>{first.p50}</td>
            <td class="numeric" data-testid="p95" node_ref=elements.p95>{first.p95}</td>
            <td
                class=p99_class(first.low_confidence)
                data-testid="p99"
                title=p99_title(first.low_confidence)
                node_ref=elements.p99
            >
                {first.p99}
            </td>
            <td class="numeric" data-testid="rps" node_ref=elements.rps>{first.rps}</td>
            <td class="numeric" data-testid="error-rate" node_ref=elements.error_rate>{first.error_rate}</td>
            <td class="trend">
                <Sparkline line=elements.trend points=first.trend label=label />
            </td>
        </tr>
    }
}
