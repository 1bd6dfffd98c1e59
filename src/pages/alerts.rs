//! Every alert, with filters.

use leptos::prelude::*;

use crate::components::AlertList;

/// The alerts view.
#[component]
pub fn AlertsPage() -> impl IntoView {
    view! { <AlertList /> }
}
