//! The dashboard's views, one per route.

mod alerts;
mod module_detail;
mod overview;
pub mod settings;

pub use alerts::AlertsPage;
pub use module_detail::ModuleDetail;
pub use overview::Overview;
pub use settings::SettingsPage;
