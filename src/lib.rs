//! redline: a real-time performance monitoring dashboard for many-module systems,
//! running in the browser as WebAssembly.
//!
//! [`monitor`] is the pure core: windows, percentiles, anomalies, alerts, bottlenecks
//! and the dashboard snapshot. Sources, the Leptos dashboard and embedding build on it.

#![warn(missing_docs)]

pub mod monitor;
