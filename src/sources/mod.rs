//! Pure parsers from bytes to monitor events and samples: Prometheus exposition and
//! its scrape state, the query API, the spec's JSON dashboards, event messages and
//! probe results.
//!
//! Nothing here does I/O, reads a clock or names web-sys: the feeders in `platform/`
//! fetch the bytes and pass `now` (Unix seconds) in. Every parser takes any input
//! without panicking; what it cannot use it counts by reason.

pub mod config;
pub mod dashboard;
pub mod events;
pub mod matcher;
pub mod ndjson;
pub mod probe;
pub mod prometheus;
pub mod query;
pub mod rum;
pub mod scrape;
pub mod status;

use crate::monitor::{ModuleSource, PerformanceMonitor, RecordError, Sample};

pub use dashboard::{Dashboard, DashboardError, DashboardTotals, parse_dashboard};
pub use events::{Event, EventFeed, EventReject, EventStats, MessageError, parse_message};
pub use matcher::{LabelMatcher, MatchOp, MatcherError};
pub use ndjson::{LineSplitter, SplitStats};
pub use probe::{ExpectedStatus, ProbeResponse, ProbeResult, ProbeVerdict, classify};
pub use prometheus::{Format, ParseError, ParseErrorKind};
pub use query::{
    PromqlInputs, PromqlSet, QueryApi, QueryData, QueryError, QueryResponse, parse_query_response,
    values_by_module,
};
pub use scrape::{ModuleBy, Scrape, ScrapeConfig, ScrapeError, ScrapeLimits, ScrapeStats};

/// What the monitor did with a batch of samples.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedReport {
    /// Samples the monitor took.
    pub accepted: u64,
    /// Samples it refused (each also counted in its snapshot's `monitor` block).
    pub refused: u64,
    /// The first refusal, for the source's status.
    pub first_error: Option<RecordError>,
}

impl FeedReport {
    fn note(&mut self, result: Result<(), RecordError>) {
        match result {
            Ok(()) => self.accepted += 1,
            Err(error) => {
                self.refused += 1;
                self.first_error.get_or_insert(error);
            }
        }
    }
}

/// Feeds samples to the monitor at `now`, labelling each module with its source.
pub fn feed_samples(
    monitor: &mut PerformanceMonitor,
    samples: &[Sample],
    source: ModuleSource,
    now: f64,
) -> FeedReport {
    let mut report = FeedReport::default();
    for sample in samples {
        let result = monitor.observe(sample, now).map(|id| {
            monitor.set_source(id, source);
        });
        report.note(result);
    }
    report
}

/// What one poll of a source that reports its own statistics (a spec dashboard, a
/// query API) gave the monitor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportedRound {
    /// Modules taken.
    pub accepted: u64,
    /// What was skipped, and why.
    pub problems: Vec<String>,
}

/// Records reported statistics for at most `max_modules` modules of one source,
/// labelling each module with the source's kind.
#[derive(Debug, Clone)]
pub struct ReportedModules {
    source: ModuleSource,
    max_modules: usize,
    modules: std::collections::BTreeSet<String>,
}

impl ReportedModules {
    /// Modules of `source`, at most `max_modules` of them.
    pub fn new(source: ModuleSource, max_modules: usize) -> ReportedModules {
        ReportedModules {
            source,
            max_modules,
            modules: Default::default(),
        }
    }

    /// The most modules this source may create.
    pub fn max_modules(&self) -> usize {
        self.max_modules
    }

    /// Records each `(module, metrics)` at `now` into `round`; modules past the cap are
    /// skipped and counted.
    pub fn record<'a>(
        &mut self,
        monitor: &mut PerformanceMonitor,
        reports: impl IntoIterator<Item = (&'a str, crate::monitor::ReportedMetrics)>,
        now: f64,
        round: &mut ReportedRound,
    ) {
        let mut over_cap = 0;
        for (module, metrics) in reports {
            if !self.modules.contains(module) {
                if self.modules.len() >= self.max_modules {
                    over_cap += 1;
                    continue;
                }
                self.modules.insert(module.to_owned());
            }
            let sample = Sample::Reported {
                module: module.to_owned(),
                metrics,
            };
            match monitor.observe(&sample, now) {
                Ok(id) => {
                    monitor.set_source(id, self.source);
                    round.accepted += 1;
                }
                Err(error) => round.problems.push(format!("{module}: {error}")),
            }
        }
        if over_cap > 0 {
            round.problems.push(format!(
                "{over_cap} modules skipped: this source may create at most {}",
                self.max_modules
            ));
        }
    }
}
