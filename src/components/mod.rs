//! The dashboard's components, one per file.

pub mod alert_history;
pub mod alert_item;
pub mod alert_list;
pub mod bottleneck_list;
pub mod module_row;
pub mod module_table;
pub mod percentile_chart;
mod range_buttons;
pub mod source_list;
pub mod sparkline;
pub mod summary_bar;
pub mod webhook_list;

pub use alert_history::AlertHistoryList;
pub use alert_list::AlertList;
pub use bottleneck_list::BottleneckList;
pub use module_table::ModuleTable;
pub use percentile_chart::{ChartKind, MetricChart, PickedRange};
pub use range_buttons::RangeButtons;
pub use source_list::SourceList;
pub use sparkline::Sparkline;
pub use summary_bar::SummaryBar;
pub use webhook_list::WebhookList;

use crate::monitor::{AlertLevel, ModuleStatus};

/// CSS class and label of a module status.
pub fn status_class(status: ModuleStatus) -> &'static str {
    match status {
        ModuleStatus::Ok => "ok",
        ModuleStatus::Warning => "warning",
        ModuleStatus::Critical => "critical",
        ModuleStatus::NoData => "no_data",
    }
}

/// CSS class of an alert level.
pub fn level_class(level: AlertLevel) -> &'static str {
    level.name()
}

/// Rewrites `element`'s text when it changed from `shown` to `now`: the per-tick
/// update of rows and items that are built once and then written in place.
pub(crate) fn update_text<E>(element: leptos::prelude::NodeRef<E>, shown: &str, now: &str)
where
    E: leptos::tachys::html::element::ElementType,
    E::Output: wasm_bindgen::JsCast + Clone + AsRef<web_sys::Element> + 'static,
{
    use leptos::prelude::GetUntracked;
    if shown != now
        && let Some(element) = element.get_untracked()
    {
        crate::platform::dom::set_text(element.as_ref(), now);
    }
}

/// Keeps a view that was built from `first` current: reads the new values with `read`
/// whenever what it reads changes, and hands `write` the values shown and the new
/// ones, so that it touches only what changed (one effect per row or item).
pub(crate) fn keep_current<T>(
    first: &T,
    read: impl Fn() -> T + 'static,
    write: impl Fn(&T, &T) + 'static,
) where
    T: Clone + 'static,
{
    let mut drawn = Some(first.clone());
    leptos::prelude::Effect::new(move |shown: Option<T>| {
        let now = read();
        if let Some(shown) = shown.or_else(|| drawn.take()) {
            write(&shown, &now);
        }
        now
    });
}
