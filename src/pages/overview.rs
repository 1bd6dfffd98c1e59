//! The overview: summary, module table, bottlenecks and the active alerts.

use leptos::prelude::*;

use crate::components::{AlertList, BottleneckList, ModuleTable};

/// The landing view.
#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <div class="overview">
            <ModuleTable />
            <div class="side">
                <AlertList limit=50 />
                <BottleneckList />
            </div>
        </div>
    }
}
