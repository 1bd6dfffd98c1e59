//! The overview: summary, module table, bottlenecks and the active alerts.

use leptos::prelude::*;

use crate::components::{AlertList, BottleneckList, ModuleTable, SourceList, WebhookList};

/// The landing view.
#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <div class="overview">
            <ModuleTable />
            <div class="side">
                <SourceList />
                <WebhookList />
                <AlertList limit=50 />
                <BottleneckList />
            </div>
        </div>
    }
}
