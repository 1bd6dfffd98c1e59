//! redline: a real-time performance monitoring dashboard for many-module systems,
//! running in the browser as WebAssembly.
//!
//! [`monitor`] is the pure core: windows, percentiles, anomalies, alerts, bottlenecks
//! and the dashboard snapshot. [`sources`] holds the pure parsers that turn fetched
//! bytes (Prometheus exposition, query API responses, JSON dashboards, event
//! messages, probe results) into its events and samples. [`app`] is the Leptos dashboard built on it; [`state`]
//! holds its signals, [`components`] and [`pages`] its views, [`platform`] the browser
//! glue, and [`embed`] what other pages and Leptos apps use to embed it.

#![warn(missing_docs)]

#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub mod components;
#[cfg(feature = "app")]
pub mod config;
#[cfg(feature = "app")]
pub mod embed;
#[cfg(feature = "app")]
pub use embed::{Dashboard, MonitorScope, mount, use_monitor};
#[cfg(feature = "app")]
pub mod format;
pub mod monitor;
pub mod nab;
#[cfg(feature = "app")]
pub mod notify;
#[cfg(feature = "app")]
pub mod pages;
#[cfg(feature = "app")]
pub mod platform;
#[cfg(feature = "app")]
pub mod route;
mod sort;
pub mod sources;
#[cfg(feature = "app")]
pub mod state;
#[cfg(feature = "app")]
pub mod webhook;
