//! The overview: summary, module table, bottlenecks and the active alerts.

use leptos::prelude::*;

use crate::components::{AlertList, BottleneckList, ModuleTable, SourceList, WebhookList};

/// Alerts the overview lists (worst first); the Alerts view lists them all. Each one
/// shown is updated every tick, so only as many as the panel shows without scrolling.
const OVERVIEW_ALERTS: usize = 8;

/// The landing view.
#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <div class="overview">
            <ModuleTable />
            <div class="side">
                <SourceList />
                <WebhookList />
                <AlertList limit=OVERVIEW_ALERTS />
                <BottleneckList />
            </div>
        </div>
    }
}
