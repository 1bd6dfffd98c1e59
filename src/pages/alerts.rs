//! Every alert, with filters.

use leptos::prelude::*;

use crate::components::{AlertHistoryList, AlertList};

/// The alerts view.
#[component]
pub fn AlertsPage() -> impl IntoView {
    view! {
        <AlertList />
        <AlertHistoryList />
    }
}
