//! The fetched sources: pure parsers from bytes to monitor events or samples, their
//! config, and the status each reports. No I/O here: `platform` fetches, `state` feeds.

pub mod config;
pub mod status;
