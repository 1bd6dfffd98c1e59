//! The dashboard's components, one per file.

pub mod alert_list;
pub mod bottleneck_list;
pub mod module_row;
pub mod module_table;
pub mod percentile_chart;
pub mod source_list;
pub mod sparkline;
pub mod summary_bar;
pub mod webhook_list;

pub use alert_list::AlertList;
pub use bottleneck_list::BottleneckList;
pub use module_table::ModuleTable;
pub use percentile_chart::{ChartKind, MetricChart};
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
