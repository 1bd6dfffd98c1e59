//! A Prometheus scrape target as a stateful mapper: each page of exposition becomes
//! per-module [`Sample`]s of counter and histogram increases since the last page.
//!
//! It keeps each series' previous value, so a scrape yields increases: a counter that
//! went down (or whose `_created` changed) restarted, and its whole value is the
//! increase. Histograms become non-cumulative bucket increases with bounds in
//! seconds. A histogram must end in `+Inf`, rise monotonically and hold no NaN; one
//! that does not is rejected and counted, as is anything past the limits. Nothing
//! here panics on any page.

use std::collections::HashMap;

use foldhash::fast::FixedState;
use serde::Serialize;

use super::matcher::LabelMatcher;
use super::prometheus::{Format, Labels, Line, ParseError, SeriesSample, parse, parse_number};
use crate::monitor::Sample;

/// How series are mapped to modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleBy {
    /// The value of this label names the module (e.g. `job`, `service`, `handler`).
    Label(String),
    /// Every series belongs to this module (one module per target).
    Fixed(String),
}

/// Caps that bound one source's work and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScrapeLimits {
    /// Largest page accepted, in bytes.
    pub max_response_bytes: usize,
    /// Most series of the configured metrics read per scrape.
    pub max_series: usize,
    /// Most distinct modules this source may create.
    pub max_modules: usize,
}

impl Default for ScrapeLimits {
    fn default() -> Self {
        ScrapeLimits {
            max_response_bytes: 16 << 20,
            max_series: 50_000,
            max_modules: 1_000,
        }
    }
}

/// What to read from a target's page.
#[derive(Debug, Clone, PartialEq)]
pub struct ScrapeConfig {
    /// How series map to modules.
    pub module: ModuleBy,
    /// The request counter (`http_requests_total`; the `_total` is optional). Without
    /// it, requests come from the latency histogram's count.
    pub requests_counter: Option<String>,
    /// Series of the request counter that count errors (all must match), e.g.
    /// `code=~"5.."`. Empty: no errors are counted.
    pub error_matchers: Vec<LabelMatcher>,
    /// The latency histogram's name (`http_request_duration_seconds`).
    pub latency_histogram: Option<String>,
    /// Seconds per unit of the histogram's `le` (1 for seconds, 0.001 for ms).
    pub latency_unit_seconds: f64,
    /// After a target's first page, a series seen for the first time counts from
    /// zero (client libraries create series on first use, so a new `code="503"`
    /// series is all new errors). Off: its first value is only a baseline, as in
    /// PromQL's `rate`.
    pub new_series_from_zero: bool,
    /// Caps.
    pub limits: ScrapeLimits,
}

impl ScrapeConfig {
    /// A config mapping modules as given, reading nothing yet, with default limits.
    pub fn new(module: ModuleBy) -> Self {
        ScrapeConfig {
            module,
            requests_counter: None,
            error_matchers: Vec::new(),
            latency_histogram: None,
            latency_unit_seconds: 1.0,
            new_series_from_zero: true,
            limits: ScrapeLimits::default(),
        }
    }
}

/// Why samples were rejected, counted per reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rejects {
    /// A value (or a bucket bound) was NaN or infinite.
    pub not_finite: u64,
    /// A counter or bucket was negative.
    pub negative: u64,
    /// The series lacked the module label.
    pub missing_module_label: u64,
    /// A histogram had no `+Inf` bucket (or no buckets).
    pub missing_inf: u64,
    /// A histogram's cumulative buckets went down.
    pub non_monotonic: u64,
    /// A bucket's `le` was missing or not a number.
    pub bad_le: u64,
    /// A module's histograms used different bucket layouts in one scrape.
    pub mixed_layouts: u64,
    /// Series past `max_series`.
    pub series_cap: u64,
    /// Series of new modules past `max_modules`.
    pub module_cap: u64,
}

/// A source's running counters, for its status in the UI.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ScrapeStats {
    /// Pages read.
    pub scrapes: u64,
    /// Pages refused whole (too large, or nothing but errors).
    pub failed_scrapes: u64,
    /// Sample lines parsed.
    pub samples_parsed: u64,
    /// Samples of the configured metrics that were used.
    pub samples_used: u64,
    /// Malformed lines.
    pub parse_errors: u64,
    /// Counter or histogram restarts seen.
    pub resets: u64,
    /// Series seen twice in one page (the second is skipped).
    pub duplicates: u64,
    /// Histograms whose bucket layout changed (their baseline starts over).
    pub layout_changes: u64,
    /// Rejected samples by reason.
    pub rejected: Rejects,
}

/// Why a whole page was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScrapeError {
    /// The page is over `max_response_bytes`.
    #[error("the page is {bytes} bytes, over the {limit}-byte limit (raise max_response_bytes)")]
    TooLarge {
        /// Its size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// Not one line parsed; the first error says why.
    #[error("not Prometheus exposition: {0}")]
    Unreadable(ParseError),
}

/// What one page gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScrapeReport {
    /// Per module: a `Counts` (when requests are configured) and a `Histogram` (when
    /// latency is configured and a baseline exists).
    pub samples: Vec<Sample>,
    /// The first few malformed lines (all are counted in the stats).
    pub errors: Vec<ParseError>,
}

const REPORTED_ERRORS: usize = 5;
/// Series unseen for this many scrapes lose their baseline.
const FORGET_AFTER_SCRAPES: u64 = 8;

#[derive(Debug, Clone, Copy)]
struct CounterState {
    value: Option<f64>,
    previous: f64,
    created: Option<f64>,
    created_changed: bool,
    reset_counted: bool,
    generation: u64,
    slot: u32,
    is_error: bool,
}

impl CounterState {
    fn new(slot: u32, is_error: bool) -> Self {
        CounterState {
            value: None,
            previous: 0.0,
            created: None,
            created_changed: false,
            reset_counted: false,
            generation: 0,
            slot,
            is_error,
        }
    }
}

#[derive(Debug, Clone)]
struct HistogramState {
    bounds_seconds: Vec<f64>,
    cumulative: Vec<f64>,
    sum: f64,
    created: Option<f64>,
    generation: u64,
}

#[derive(Debug, Clone, Default)]
struct ModuleTotals {
    generation: u64,
    requests: f64,
    errors: f64,
    bounds_seconds: Vec<f64>,
    increases: Vec<u64>,
    sum_increase_seconds: f64,
    has_histogram: bool,
}

/// The histogram series being read: consecutive lines with the same labels but `le`.
#[derive(Debug, Clone, Default)]
struct Group {
    active: bool,
    key: String,
    slot: Option<u32>,
    buckets: Vec<(f64, f64)>,
    sum: Option<f64>,
    created: Option<f64>,
    bad_le: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Requests,
    RequestsCreated,
    Bucket,
    Sum,
    Count,
    HistogramCreated,
    Other,
}

#[derive(Debug, Clone, Default)]
struct Names {
    requests_total: String,
    requests_plain: String,
    requests_created: String,
    bucket: String,
    sum: String,
    count: String,
    histogram_created: String,
}

/// One scrape target's state: config, per-series baselines and stats.
#[derive(Debug, Clone)]
pub struct Scrape {
    config: ScrapeConfig,
    names: Names,
    counters: HashMap<Box<str>, CounterState, FixedState>,
    histograms: HashMap<Box<str>, HistogramState, FixedState>,
    modules: HashMap<Box<str>, u32, FixedState>,
    totals: Vec<(Box<str>, ModuleTotals)>,
    generation: u64,
    /// Pages read without being refused whole.
    pages_read: u64,
    series_this_scrape: usize,
    group: Group,
    scratch_key: String,
    scratch_increases: Vec<f64>,
    stats: ScrapeStats,
}

impl Scrape {
    /// A target with no baselines yet.
    pub fn new(config: ScrapeConfig) -> Self {
        let names = Names::for_config(&config);
        Scrape {
            config,
            names,
            counters: HashMap::default(),
            histograms: HashMap::default(),
            modules: HashMap::default(),
            totals: Vec::new(),
            generation: 0,
            pages_read: 0,
            series_this_scrape: 0,
            group: Group::default(),
            scratch_key: String::new(),
            scratch_increases: Vec::new(),
            stats: ScrapeStats::default(),
        }
    }

    /// The config.
    pub fn config(&self) -> &ScrapeConfig {
        &self.config
    }

    /// Running counters since the target was created.
    pub fn stats(&self) -> &ScrapeStats {
        &self.stats
    }

    /// Modules this source has created, in the order first seen.
    pub fn modules(&self) -> impl Iterator<Item = &str> {
        self.totals.iter().map(|(name, _)| &**name)
    }

    /// Reads one page and returns each module's increases since the previous page.
    /// The first page of a series only sets its baseline.
    pub fn scrape(&mut self, text: &str, format: Format) -> Result<ScrapeReport, ScrapeError> {
        self.stats.scrapes += 1;
        let limit = self.config.limits.max_response_bytes;
        if text.len() > limit {
            self.stats.failed_scrapes += 1;
            return Err(ScrapeError::TooLarge {
                bytes: text.len(),
                limit,
            });
        }
        self.generation += 1;
        self.series_this_scrape = 0;
        let mut report = ScrapeReport::default();
        let mut parsed_lines = 0u64;
        for line in parse(text, format) {
            match line {
                Ok(Line::Sample(sample)) => {
                    parsed_lines += 1;
                    self.stats.samples_parsed += 1;
                    self.sample(&sample);
                }
                Ok(_) => parsed_lines += 1,
                Err(error) => {
                    self.stats.parse_errors += 1;
                    if report.errors.len() < REPORTED_ERRORS {
                        report.errors.push(error);
                    }
                }
            }
        }
        self.finish_group();
        if parsed_lines == 0
            && let Some(first) = report.errors.first()
        {
            self.stats.failed_scrapes += 1;
            return Err(ScrapeError::Unreadable(first.clone()));
        }
        self.emit(&mut report.samples);
        self.forget_stale_series();
        self.pages_read += 1;
        Ok(report)
    }

    fn role(&self, name: &str) -> Role {
        let names = &self.names;
        if name == names.requests_total || name == names.requests_plain {
            Role::Requests
        } else if name == names.bucket {
            Role::Bucket
        } else if name == names.sum {
            Role::Sum
        } else if name == names.count {
            Role::Count
        } else if name == names.requests_created {
            Role::RequestsCreated
        } else if name == names.histogram_created {
            Role::HistogramCreated
        } else {
            Role::Other
        }
    }

    fn sample(&mut self, sample: &SeriesSample<'_>) {
        let role = self.role(sample.name);
        if role == Role::Other {
            // Not ours; a histogram line of ours can no longer follow in this group.
            self.finish_group();
            return;
        }
        if self.series_this_scrape >= self.config.limits.max_series {
            self.stats.rejected.series_cap += 1;
            return;
        }
        match role {
            Role::Requests => {
                self.finish_group();
                self.series_this_scrape += 1;
                self.counter(sample);
            }
            Role::RequestsCreated => {
                self.finish_group();
                self.counter_created(sample);
            }
            Role::Bucket | Role::Sum | Role::Count | Role::HistogramCreated => {
                self.histogram_line(sample, role)
            }
            Role::Other => {}
        }
    }

    fn module_slot(&mut self, labels: &Labels<'_>) -> Option<u32> {
        let name = match &self.config.module {
            ModuleBy::Fixed(name) => std::borrow::Cow::Borrowed(name.as_str()),
            ModuleBy::Label(label) => match labels.get(label) {
                Some(value) if !value.is_empty() => value,
                _ => {
                    self.stats.rejected.missing_module_label += 1;
                    return None;
                }
            },
        };
        if let Some(slot) = self.modules.get(&*name) {
            return Some(*slot);
        }
        if self.totals.len() >= self.config.limits.max_modules {
            self.stats.rejected.module_cap += 1;
            return None;
        }
        let slot = u32::try_from(self.totals.len()).ok()?;
        let name: Box<str> = name.into();
        self.modules.insert(name.clone(), slot);
        self.totals.push((name, ModuleTotals::default()));
        Some(slot)
    }

    fn add_requests(&mut self, slot: u32, requests: f64, is_error: bool) {
        if let Some(totals) = totals_for(&mut self.totals, slot, self.generation) {
            totals.requests += requests;
            if is_error {
                totals.errors += requests;
            }
        }
    }

    fn counter(&mut self, sample: &SeriesSample<'_>) {
        let value = sample.value;
        if !self.counter_value_ok(value) {
            return;
        }
        let Some(slot) = self.module_slot(&sample.labels) else {
            return;
        };
        // Touch the module even when this is only a baseline, so it shows at once.
        let _ = totals_for(&mut self.totals, slot, self.generation);
        let is_error = !self.config.error_matchers.is_empty()
            && self
                .config
                .error_matchers
                .iter()
                .all(|m| m.matches(sample.labels.get(&m.label).as_deref()));
        let generation = self.generation;
        if !self.counters.contains_key(sample.labels.raw()) {
            let fresh = CounterState::new(slot, is_error);
            self.counters.insert(sample.labels.raw().into(), fresh);
        }
        let Some(state) = self.counters.get_mut(sample.labels.raw()) else {
            return;
        };
        if state.generation == generation && state.value.is_some() {
            self.stats.duplicates += 1;
            return;
        }
        let from_zero = self.config.new_series_from_zero && self.pages_read > 0;
        let increase = match state.value {
            None if from_zero => Some(value),
            None => None,
            Some(previous) if value < previous || state.created_changed => Some(value),
            Some(previous) => Some(value - previous),
        };
        let reset =
            matches!(state.value, Some(previous) if value < previous || state.created_changed);
        state.previous = state.value.unwrap_or(value);
        state.value = Some(value);
        state.generation = generation;
        state.slot = slot;
        state.is_error = is_error;
        state.reset_counted = reset;
        state.created_changed = false;
        if reset {
            self.stats.resets += 1;
        }
        self.stats.samples_used += 1;
        if let Some(increase) = increase {
            self.add_requests(slot, increase, is_error);
        }
    }

    fn counter_value_ok(&mut self, value: f64) -> bool {
        if !value.is_finite() {
            self.stats.rejected.not_finite += 1;
            false
        } else if value < 0.0 {
            self.stats.rejected.negative += 1;
            false
        } else {
            true
        }
    }

    /// `_created` may come before or after its `_total`; a change means a restart.
    fn counter_created(&mut self, sample: &SeriesSample<'_>) {
        if !sample.value.is_finite() {
            self.stats.rejected.not_finite += 1;
            return;
        }
        let generation = self.generation;
        if !self.counters.contains_key(sample.labels.raw()) {
            // Seen before its `_total`: remember the creation time for next page.
            self.series_this_scrape += 1;
            let fresh = CounterState::new(0, false);
            self.counters.insert(sample.labels.raw().into(), fresh);
        }
        let Some(state) = self.counters.get_mut(sample.labels.raw()) else {
            return;
        };
        let changed = state.created.is_some_and(|c| c != sample.value);
        state.created = Some(sample.value);
        if !changed {
            return;
        }
        if state.generation != generation {
            state.created_changed = true;
        } else if !state.reset_counted && state.value.is_some() {
            // Its `_total` was read as a plain increase; the restart makes it all new.
            state.reset_counted = true;
            let (slot, previous, is_error) = (state.slot, state.previous, state.is_error);
            self.stats.resets += 1;
            self.add_requests(slot, previous, is_error);
        }
    }

    fn histogram_line(&mut self, sample: &SeriesSample<'_>, role: Role) {
        build_key(&sample.labels, &mut self.scratch_key);
        if !self.group.active || self.group.key != self.scratch_key {
            self.finish_group();
            self.group.active = true;
            std::mem::swap(&mut self.group.key, &mut self.scratch_key);
            self.group.slot = self.module_slot(&sample.labels);
            self.series_this_scrape += 1;
        }
        let group = &mut self.group;
        match role {
            Role::Bucket => match sample.labels.get("le").and_then(|le| parse_number(&le)) {
                Some(le) if !le.is_nan() => group.buckets.push((le, sample.value)),
                _ => group.bad_le = true,
            },
            Role::Sum => group.sum = Some(sample.value),
            Role::HistogramCreated => group.created = Some(sample.value),
            _ => {}
        }
    }

    fn finish_group(&mut self) {
        if !self.group.active {
            return;
        }
        let mut group = std::mem::take(&mut self.group);
        self.check_and_apply(&mut group);
        // Keep the buffers for the next group.
        group.active = false;
        group.buckets.clear();
        group.sum = None;
        group.created = None;
        group.bad_le = false;
        group.slot = None;
        self.group = group;
    }

    fn check_and_apply(&mut self, group: &mut Group) {
        let Some(slot) = group.slot else { return };
        if group.buckets.is_empty() {
            // A `_created` listed apart from its buckets is not used to detect restarts
            // (a decrease still is); a `_sum` without buckets has no `+Inf`.
            if group.created.is_none() {
                self.stats.rejected.missing_inf += 1;
            }
            return;
        }
        let rejected = &mut self.stats.rejected;
        if group.bad_le {
            rejected.bad_le += 1;
            return;
        }
        crate::sort::sort_by(&mut group.buckets, |a, b| a.0.total_cmp(&b.0));
        if group.buckets.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            self.stats.duplicates += 1;
            return;
        }
        if group
            .buckets
            .last()
            .is_none_or(|(le, _)| *le != f64::INFINITY)
        {
            rejected.missing_inf += 1;
            return;
        }
        if group.buckets.iter().any(|(_, count)| !count.is_finite()) {
            rejected.not_finite += 1;
            return;
        }
        if group.buckets.iter().any(|(_, count)| *count < 0.0) {
            rejected.negative += 1;
            return;
        }
        if group.buckets.windows(2).any(|pair| pair[1].1 < pair[0].1) {
            rejected.non_monotonic += 1;
            return;
        }
        let unit = self.config.latency_unit_seconds;
        let sum = group.sum.filter(|s| s.is_finite()).unwrap_or(0.0);
        let generation = self.generation;
        if !self.histograms.contains_key(group.key.as_str()) {
            let from_zero = self.config.new_series_from_zero && self.pages_read > 0;
            let baseline = HistogramState {
                bounds_seconds: group.buckets.iter().map(|(le, _)| le * unit).collect(),
                cumulative: if from_zero {
                    vec![0.0; group.buckets.len()]
                } else {
                    group.buckets.iter().map(|(_, c)| *c).collect()
                },
                sum: if from_zero { 0.0 } else { sum },
                created: group.created,
                generation: if from_zero { 0 } else { generation },
            };
            self.histograms.insert(group.key.as_str().into(), baseline);
            if !from_zero {
                self.stats.samples_used += group.buckets.len() as u64;
                return;
            }
        }
        let Some(state) = self.histograms.get_mut(group.key.as_str()) else {
            return;
        };
        if state.generation == generation {
            self.stats.duplicates += 1;
            return;
        }
        state.generation = generation;
        let same_layout = state.bounds_seconds.len() == group.buckets.len()
            && state
                .bounds_seconds
                .iter()
                .zip(&group.buckets)
                .all(|(bound, (le, _))| *bound == le * unit);
        if !same_layout {
            self.stats.layout_changes += 1;
            state.bounds_seconds = group.buckets.iter().map(|(le, _)| le * unit).collect();
            state.cumulative = group.buckets.iter().map(|(_, c)| *c).collect();
            state.sum = sum;
            state.created = group.created;
            return;
        }
        let created_changed =
            state.created.is_some() && group.created.is_some() && state.created != group.created;
        let reset = created_changed
            || state
                .cumulative
                .iter()
                .zip(&group.buckets)
                .any(|(previous, (_, now))| now < previous);
        let increases = &mut self.scratch_increases;
        increases.clear();
        let mut below = 0.0;
        for (previous, (_, now)) in state.cumulative.iter_mut().zip(&group.buckets) {
            let cumulative_increase = if reset { *now } else { *now - *previous };
            increases.push((cumulative_increase - below).max(0.0));
            below = cumulative_increase.max(below);
            *previous = *now;
        }
        let sum_increase = if reset { sum } else { sum - state.sum }.max(0.0);
        state.sum = sum;
        state.created = group.created.or(state.created);
        if reset {
            self.stats.resets += 1;
        }
        self.stats.samples_used += group.buckets.len() as u64;
        let total_increase = below;
        let from_histogram = self.config.requests_counter.is_none();
        let bounds = &state.bounds_seconds;
        let increases = &self.scratch_increases;
        let Some(totals) = totals_for(&mut self.totals, slot, generation) else {
            return;
        };
        if !totals.has_histogram {
            totals.has_histogram = true;
            totals.bounds_seconds.clone_from(bounds);
            totals.increases.clear();
            totals.increases.resize(bounds.len(), 0);
        } else if totals.bounds_seconds != *bounds {
            self.stats.rejected.mixed_layouts += 1;
            return;
        }
        for (slot, increase) in totals.increases.iter_mut().zip(increases) {
            *slot = slot.saturating_add(to_count(*increase));
        }
        totals.sum_increase_seconds += sum_increase;
        if from_histogram {
            totals.requests += total_increase;
        }
    }

    fn emit(&mut self, out: &mut Vec<Sample>) {
        let counts_configured =
            self.config.requests_counter.is_some() || self.config.latency_histogram.is_some();
        for (name, totals) in &self.totals {
            if totals.generation != self.generation {
                continue;
            }
            if counts_configured {
                let requests = to_count(totals.requests);
                out.push(Sample::Counts {
                    module: name.to_string(),
                    requests,
                    errors: to_count(totals.errors).min(requests),
                });
            }
            if totals.has_histogram {
                out.push(Sample::Histogram {
                    module: name.to_string(),
                    upper_bounds_seconds: totals.bounds_seconds.clone(),
                    increases: totals.increases.clone(),
                    sum_increase_seconds: totals.sum_increase_seconds,
                });
            }
        }
    }

    fn forget_stale_series(&mut self) {
        let generation = self.generation;
        let keep = |seen: u64| seen + FORGET_AFTER_SCRAPES >= generation;
        if generation.is_multiple_of(FORGET_AFTER_SCRAPES)
            || self.counters.len() + self.histograms.len() > 2 * self.config.limits.max_series
        {
            self.counters.retain(|_, state| keep(state.generation));
            self.histograms.retain(|_, state| keep(state.generation));
        }
    }
}

impl Names {
    fn for_config(config: &ScrapeConfig) -> Names {
        let mut names = Names::default();
        if let Some(counter) = &config.requests_counter {
            let base = counter.strip_suffix("_total").unwrap_or(counter);
            names.requests_total = format!("{base}_total");
            names.requests_plain = base.to_owned();
            names.requests_created = format!("{base}_created");
        }
        if let Some(histogram) = &config.latency_histogram {
            names.bucket = format!("{histogram}_bucket");
            names.sum = format!("{histogram}_sum");
            names.count = format!("{histogram}_count");
            names.histogram_created = format!("{histogram}_created");
        }
        names
    }
}

/// A module's totals for this scrape, zeroed the first time the scrape touches them.
fn totals_for(
    totals: &mut [(Box<str>, ModuleTotals)],
    slot: u32,
    generation: u64,
) -> Option<&mut ModuleTotals> {
    let (_, totals) = totals.get_mut(slot as usize)?;
    if totals.generation != generation {
        totals.generation = generation;
        totals.requests = 0.0;
        totals.errors = 0.0;
        totals.bounds_seconds.clear();
        totals.increases.clear();
        totals.sum_increase_seconds = 0.0;
        totals.has_histogram = false;
    }
    Some(totals)
}

/// The series' labels without `le`, as one string (the histogram's identity).
fn build_key(labels: &Labels<'_>, out: &mut String) {
    out.clear();
    for label in labels.iter().filter(|label| label.name != "le") {
        out.push_str(label.name);
        out.push('=');
        out.push_str(label.raw_value);
        out.push('\u{0}');
    }
}

/// A non-negative finite float to a count, rounded (counters may be floats).
fn to_count(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}
