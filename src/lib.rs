//! redline: a real-time performance monitoring dashboard for many-module systems,
//! running in the browser as WebAssembly.
//!
//! [`monitor`] is the pure core: windows, percentiles, anomalies, alerts, bottlenecks
//! and the dashboard snapshot. [`app`] is the Leptos dashboard built on it; [`state`]
//! holds its signals, [`components`] and [`pages`] its views, [`platform`] the browser
//! glue.

#![warn(missing_docs)]

pub mod app;
pub mod components;
pub mod config;
pub mod format;
pub mod monitor;
pub mod pages;
pub mod platform;
pub mod route;
pub mod state;
