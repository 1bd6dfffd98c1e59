//! The feeders: one task per configured source, fetching or listening through
//! `platform`, parsing with `sources`, and recording into the engine's monitor.
//! Each keeps its [`SourceStatus`]; a failing source backs off on its own timer and
//! never holds up the tick or the other sources.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use gloo_timers::future::TimeoutFuture;
use leptos::prelude::*;

use crate::monitor::{ModuleSource, PerformanceMonitor};
use crate::platform::{self, net, streams};
use crate::sources::config::{
    PollSettings, ProbeSettings, QuerySettings, ScrapeSettings, SourceSettings, StreamSettings,
};
use crate::sources::status::{Backoff, SourceStatus};

use super::Engine;

/// A source's status, shared between its task and the view.
pub type SharedStatus = Rc<RefCell<SourceStatus>>;

/// Where a feeder records: the engine, and whether the dashboard is still mounted.
#[derive(Clone)]
struct Sink {
    engine: StoredValue<Engine, LocalStorage>,
    alive: Arc<AtomicBool>,
    status: SharedStatus,
}

impl Sink {
    /// Runs `feed` on the monitor at the monitor's `now`; `None` once unmounted.
    fn feed<T>(&self, feed: impl FnOnce(&mut PerformanceMonitor, f64) -> T) -> Option<T> {
        self.engine.try_update_value(|engine| {
            let now = engine.now(platform::now_seconds());
            feed(engine.monitor_mut(), now)
        })
    }

    /// Counts what a poll gave the monitor, and what it skipped and why.
    fn took(&self, accepted: u64, problems: &[String]) {
        let mut status = self.status.borrow_mut();
        status.accepted += accepted;
        for reason in problems {
            status.reject(1, reason.clone());
        }
    }

    fn alive(&self) -> bool {
        self.alive.load(Ordering::Relaxed)
    }
}

/// Starts a task for every source; they stop when `alive` turns false.
pub fn start_all(
    sources: &[SourceSettings],
    engine: StoredValue<Engine, LocalStorage>,
    alive: Arc<AtomicBool>,
) -> Vec<SharedStatus> {
    sources
        .iter()
        .map(|settings| {
            let status = Rc::new(RefCell::new(SourceStatus::new(
                settings.name(),
                settings.kind(),
                &settings.target(),
            )));
            let sink = Sink {
                engine,
                alive: Arc::clone(&alive),
                status: Rc::clone(&status),
            };
            let settings = settings.clone();
            leptos::task::spawn_local(async move {
                match settings {
                    SourceSettings::Prometheus(s) => scrape(s, sink).await,
                    SourceSettings::Dashboard(s) => dashboard(s, sink).await,
                    SourceSettings::Sse(s) => push(s, sink, PushKind::Sse).await,
                    SourceSettings::Websocket(s) => push(s, sink, PushKind::WebSocket).await,
                    SourceSettings::Ndjson(s) => ndjson(s, sink).await,
                    SourceSettings::Probe(s) => probe(s, sink).await,
                    SourceSettings::PrometheusQuery(s) => query(s, sink).await,
                    SourceSettings::Rum(s) => rum(s, sink).await,
                }
            });
            status
        })
        .collect()
}

async fn sleep_seconds(seconds: f64) {
    TimeoutFuture::new((seconds * 1000.0).clamp(0.0, 3_600_000.0) as u32).await;
}

/// Consecutive failures and the backoff they earn: every source retries this way.
#[derive(Default)]
struct Retry {
    backoff: Backoff,
    failures: u32,
}

impl Retry {
    /// A success: the next failure starts the backoff over.
    fn succeeded(&mut self) {
        self.failures = 0;
    }

    /// A failure at now: notes it in the status and returns the seconds to wait, never
    /// less than `floor`.
    fn failed(&mut self, sink: &Sink, reason: String, floor: f64) -> f64 {
        self.failures = self.failures.saturating_add(1);
        let wait = self
            .backoff
            .delay(self.failures, platform::random_unit())
            .max(floor);
        let now = platform::now_seconds();
        sink.status.borrow_mut().failed(reason, now, now + wait);
        wait
    }
}

/// Polls: one `attempt` every `interval` seconds while it works, backing off (never
/// faster than the interval) while it fails.
async fn poll<F, Fut>(interval: f64, sink: &Sink, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let mut retry = Retry::default();
    while sink.alive() {
        sink.status.borrow_mut().attempts += 1;
        let wait = match attempt().await {
            Ok(()) => {
                retry.succeeded();
                sink.status.borrow_mut().succeeded(platform::now_seconds());
                interval
            }
            Err(reason) => retry.failed(sink, reason, interval),
        };
        sleep_seconds(wait).await;
    }
}

fn fetch_options(timeout_seconds: f64, max_bytes: usize) -> net::FetchOptions {
    net::FetchOptions {
        timeout_ms: (timeout_seconds * 1000.0) as u32,
        max_bytes,
        ..net::FetchOptions::default()
    }
}

/// Fetches a body that must come with a 2xx status, as text.
async fn fetch_ok(
    url: &str,
    options: &net::FetchOptions,
    sink: &Sink,
) -> Result<(String, String), String> {
    let reply = net::fetch(url, options).await.map_err(|e| e.to_string())?;
    {
        let mut status = sink.status.borrow_mut();
        status.bytes += reply.body.len() as u64;
        status.last_duration_ms = Some(reply.elapsed_ms);
    }
    if !(200..300).contains(&reply.status) {
        return Err(format!("HTTP {} from {url}", reply.status));
    }
    let text = String::from_utf8(reply.body).map_err(|e| {
        format!(
            "the response is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok((text, reply.content_type))
}

async fn scrape(settings: ScrapeSettings, sink: Sink) {
    use crate::sources::{Format, ModuleBy, Scrape, ScrapeConfig, ScrapeLimits, feed_samples};
    let module = match &settings.module_label {
        Some(label) => ModuleBy::Label(label.clone()),
        None => ModuleBy::Fixed(
            settings
                .module
                .clone()
                .unwrap_or_else(|| settings.name.clone()),
        ),
    };
    let mut config = ScrapeConfig::new(module);
    config.requests_counter = Some(settings.requests_metric.clone()).filter(|m| !m.is_empty());
    config.latency_histogram = Some(settings.latency_histogram.clone()).filter(|m| !m.is_empty());
    config.limits = ScrapeLimits {
        max_response_bytes: settings.max_bytes,
        max_series: settings.max_series,
        max_modules: settings.max_modules,
    };
    if !settings.errors.trim().is_empty() {
        // The config was validated, so the matcher parses.
        match crate::sources::LabelMatcher::parse(&settings.errors) {
            Ok(matcher) => config.error_matchers = vec![matcher],
            Err(error) => {
                let now = platform::now_seconds();
                sink.status.borrow_mut().failed(
                    format!("errors selector: {error}"),
                    now,
                    f64::INFINITY,
                );
                return;
            }
        }
    }
    let scrape = RefCell::new(Scrape::new(config));
    let mut options = fetch_options(settings.timeout_seconds, settings.max_bytes);
    options.accept = Some(
        "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    );
    let url = settings.url.clone();
    poll(settings.interval_seconds, &sink.clone(), || async {
        let (text, content_type) = fetch_ok(&url, &options, &sink).await?;
        let report = scrape
            .borrow_mut()
            .scrape(&text, Format::from_content_type(&content_type))
            .map_err(|e| e.to_string())?;
        let fed = sink
            .feed(|monitor, now| {
                feed_samples(monitor, &report.samples, ModuleSource::Prometheus, now)
            })
            .unwrap_or_default();
        let mut status = sink.status.borrow_mut();
        status.accepted += fed.accepted;
        if let Some(error) = &fed.first_error {
            status.reject(fed.refused, error.to_string());
        }
        for error in report.errors.iter().take(3) {
            status.reject(1, error.to_string());
        }
        status.reject(
            report.errors.len().saturating_sub(3) as u64,
            "more parse errors",
        );
        status.note = Some(scrape_summary(scrape.borrow().stats()));
        Ok(())
    })
    .await;
}

async fn dashboard(settings: PollSettings, sink: Sink) {
    use crate::sources::dashboard::{DashboardFeed, parse_dashboard};
    let options = fetch_options(settings.timeout_seconds, settings.max_bytes);
    let feed = RefCell::new(DashboardFeed::new(settings.max_modules));
    let url = settings.url.clone();
    poll(settings.interval_seconds, &sink.clone(), || async {
        let (text, _) = fetch_ok(&url, &options, &sink).await?;
        let document = parse_dashboard(&text).map_err(|e| e.to_string())?;
        let fed = sink
            .feed(|monitor, now| feed.borrow_mut().feed(monitor, &document, now))
            .unwrap_or_default();
        sink.took(fed.accepted, &fed.problems);
        // The producer's own alerts, as it words them; redline's rules judge the same
        // metrics and raise their own.
        sink.status.borrow_mut().note = (!document.alerts.is_empty()).then(|| {
            let shown: Vec<String> = document
                .alerts
                .iter()
                .take(3)
                .map(|a| format!("{}: {}", a.level, a.message))
                .collect();
            format!(
                "the source reports {} alert(s): {}",
                document.alerts.len(),
                shown.join(" · ")
            )
        });
        Ok(())
    })
    .await;
}

/// A stream's reconnection: backoff after each drop (reset by a connection that
/// opened), and the seconds spent without a connection.
struct Reconnect {
    retry: Retry,
    dropped_at: Rc<Cell<Option<f64>>>,
}

impl Reconnect {
    fn new() -> Reconnect {
        Reconnect {
            retry: Retry::default(),
            dropped_at: Rc::new(Cell::new(None)),
        }
    }

    /// Marks the stream connected at `now`, adding the time since the drop to its gap.
    fn connected(dropped_at: &Cell<Option<f64>>, status: &mut SourceStatus) {
        let now = platform::now_seconds();
        if let Some(at) = dropped_at.take() {
            status.gap_seconds += now - at;
        }
        status.succeeded(now);
    }

    /// Records the drop and waits before the next attempt.
    async fn dropped(&mut self, sink: &Sink, reason: String, had_opened: bool) {
        self.dropped_at.set(Some(platform::now_seconds()));
        if had_opened {
            // A connection that worked resets the backoff.
            self.retry.succeeded();
        }
        let wait = self.retry.failed(sink, reason, 0.0);
        sleep_seconds(wait).await;
    }
}

/// Brings a stream's refused-event count up to date with its parser's.
fn sync_rejects(
    status: &mut SourceStatus,
    rejects: &crate::sources::events::EventRejects,
    extra: u64,
) {
    let rejected = rejects.total() + extra;
    if rejected > status.rejected_events {
        let fresh = rejected - status.rejected_events;
        status.rejected_events = rejected;
        status.reject(fresh, rejects_summary(rejects));
    }
}

#[derive(Clone, Copy)]
enum PushKind {
    Sse,
    WebSocket,
}

/// Keeps an SSE or WebSocket stream open, reconnecting with backoff, and counts the
/// seconds without a connection as the stream's gap.
async fn push(settings: StreamSettings, sink: Sink, kind: PushKind) {
    use crate::sources::EventFeed;
    let mut reconnect = Reconnect::new();
    let feed = Rc::new(RefCell::new(EventFeed::new()));
    while sink.alive() {
        sink.status.borrow_mut().attempts += 1;
        let closed: Rc<RefCell<Option<String>>> = Rc::new(RefCell::new(None));
        let opened = Rc::new(Cell::new(false));
        let on_signal = {
            let sink = sink.clone();
            let feed = Rc::clone(&feed);
            let closed = Rc::clone(&closed);
            let opened = Rc::clone(&opened);
            let dropped_at = Rc::clone(&reconnect.dropped_at);
            let max_bytes = settings.max_message_bytes;
            move |signal: streams::StreamSignal<'_>| match signal {
                streams::StreamSignal::Open => {
                    opened.set(true);
                    Reconnect::connected(&dropped_at, &mut sink.status.borrow_mut());
                }
                streams::StreamSignal::Message(text) => {
                    take_message(&sink, &feed, text, max_bytes);
                }
                streams::StreamSignal::Binary(bytes) => match std::str::from_utf8(bytes) {
                    Ok(text) => take_message(&sink, &feed, text, max_bytes),
                    Err(_) => sink
                        .status
                        .borrow_mut()
                        .reject(1, "a binary message that is not UTF-8 JSON"),
                },
                streams::StreamSignal::Closed(reason) => {
                    *closed.borrow_mut() = Some(reason);
                }
            }
        };
        let stream = match kind {
            PushKind::Sse => streams::PushStream::server_sent_events(&settings.url, on_signal),
            PushKind::WebSocket => streams::PushStream::websocket(&settings.url, on_signal),
        };
        let reason = match stream {
            Ok(stream) => {
                while sink.alive() && closed.borrow().is_none() {
                    TimeoutFuture::new(200).await;
                }
                drop(stream);
                closed
                    .borrow_mut()
                    .take()
                    .unwrap_or_else(|| "stopped".to_owned())
            }
            Err(error) => format!("could not open the stream: {error}"),
        };
        if !sink.alive() {
            return;
        }
        reconnect.dropped(&sink, reason, opened.get()).await;
    }
}

fn take_message(
    sink: &Sink,
    feed: &RefCell<crate::sources::EventFeed>,
    text: &str,
    max_bytes: usize,
) {
    let mut status = sink.status.borrow_mut();
    status.bytes += text.len() as u64;
    if text.len() > max_bytes {
        status.reject(1, format!("a message over the {max_bytes}-byte cap"));
        return;
    }
    drop(status);
    let mut feed = feed.borrow_mut();
    let result = sink.feed(|monitor, now| feed.feed(monitor, text, now));
    let mut status = sink.status.borrow_mut();
    if let Some(Err(error)) = result {
        status.reject(1, error.to_string());
    }
    status.accepted = feed.stats().recorded;
    sync_rejects(&mut status, &feed.stats().rejected, 0);
}

/// A scrape's running counters in a line.
fn scrape_summary(stats: &crate::sources::ScrapeStats) -> String {
    let mut parts = vec![format!(
        "{} scrapes, {} samples parsed, {} used",
        stats.scrapes, stats.samples_parsed, stats.samples_used
    )];
    for (count, what) in [
        (stats.parse_errors, "malformed lines"),
        (stats.resets, "counter resets"),
        (stats.duplicates, "duplicate series"),
        (stats.layout_changes, "bucket layout changes"),
        (stats.rejected.not_finite, "NaN or infinite values"),
        (stats.rejected.negative, "negative values"),
        (
            stats.rejected.missing_module_label,
            "series without the module label",
        ),
        (stats.rejected.missing_inf, "histograms without +Inf"),
        (
            stats.rejected.non_monotonic,
            "histograms whose buckets go down",
        ),
        (stats.rejected.series_cap, "series over max_series"),
        (
            stats.rejected.module_cap,
            "series of modules over max_modules",
        ),
    ] {
        if count > 0 {
            parts.push(format!("{count} {what}"));
        }
    }
    parts.join(", ")
}

/// Refused events by reason, in a line.
fn rejects_summary(rejects: &crate::sources::events::EventRejects) -> String {
    let parts: Vec<String> = [
        (rejects.not_an_object, "not objects"),
        (rejects.module, "bad module"),
        (rejects.latency, "bad latency"),
        (rejects.ok_flag, "bad ok"),
        (rejects.timestamp, "bad timestamp"),
        (rejects.operation, "bad operation"),
        (rejects.stale, "older than the window"),
        (rejects.refused, "refused by the monitor"),
    ]
    .iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, what)| format!("{count} {what}"))
    .collect();
    format!("events refused: {}", parts.join(", "))
}

/// Streams NDJSON over fetch; a stream that ends is fetched again after a backoff.
async fn ndjson(settings: StreamSettings, sink: Sink) {
    use crate::sources::{EventFeed, LineSplitter};
    let mut reconnect = Reconnect::new();
    let mut feed = EventFeed::new();
    let options = net::FetchOptions {
        timeout_ms: 0,
        max_bytes: usize::MAX,
        accept: Some("application/x-ndjson, application/json;q=0.9"),
        ..net::FetchOptions::default()
    };
    while sink.alive() {
        sink.status.borrow_mut().attempts += 1;
        let mut splitter = LineSplitter::new(settings.max_message_bytes);
        let opened = Cell::new(false);
        let outcome = net::fetch_stream(
            &settings.url,
            &options,
            |_| {
                opened.set(true);
                Reconnect::connected(&reconnect.dropped_at, &mut sink.status.borrow_mut());
            },
            |chunk| {
                if !sink.alive() {
                    return Err(net::NetError::Unavailable("the dashboard closed".into()));
                }
                sink.status.borrow_mut().bytes += chunk.len() as u64;
                sink.feed(|monitor, now| feed.feed_ndjson(&mut splitter, monitor, chunk, now));
                let mut status = sink.status.borrow_mut();
                status.accepted = feed.stats().recorded;
                sync_rejects(
                    &mut status,
                    &feed.stats().rejected,
                    splitter.stats().overflowed,
                );
                Ok(())
            },
        )
        .await;
        if !sink.alive() {
            return;
        }
        // A last line without its newline is still an event.
        sink.feed(|monitor, now| {
            splitter.finish(|line| {
                let _ = feed.feed(monitor, line, now);
            })
        });
        let reason = match outcome {
            Ok(code) if (200..300).contains(&code) => "the stream ended".to_owned(),
            Ok(code) => format!("HTTP {code} from {}", settings.url),
            Err(error) => error.to_string(),
        };
        sync_rejects(
            &mut sink.status.borrow_mut(),
            &feed.stats().rejected,
            splitter.stats().overflowed,
        );
        reconnect.dropped(&sink, reason, opened.get()).await;
    }
}

async fn probe(settings: ProbeSettings, sink: Sink) {
    use crate::sources::probe::{ProbeReason, ProbeResponse, ProbeResult};
    use crate::sources::{ExpectedStatus, classify};
    let timeout_ms = (settings.timeout_seconds * 1000.0) as u32;
    // The config was validated, so every expectation parses.
    let targets: Vec<(String, String, ExpectedStatus, bool)> = settings
        .targets
        .iter()
        .map(|t| {
            let expected = ExpectedStatus::parse(&t.expect).unwrap_or_default();
            (t.module.clone(), t.url.clone(), expected, t.no_cors)
        })
        .collect();
    poll(settings.interval_seconds, &sink.clone(), || async {
        let mut unanswered = 0;
        let mut verdicts = Vec::with_capacity(targets.len());
        for (module, url, expected, opaque) in &targets {
            let started = platform::performance_now();
            let options = net::FetchOptions {
                timeout_ms,
                max_bytes: 0,
                opaque: *opaque,
                read_body: false,
                ..net::FetchOptions::default()
            };
            let reply = net::fetch(url, &options).await;
            let measured_seconds = (platform::performance_now() - started) / 1e3;
            let result = ProbeResult {
                response: reply.as_ref().ok().map(|r| {
                    if r.opaque {
                        ProbeResponse::Opaque
                    } else {
                        ProbeResponse::Status(r.status)
                    }
                }),
                timed_out: matches!(reply, Err(net::NetError::Timeout { .. })),
                network_error: reply.as_ref().err().map(ToString::to_string),
                measured_seconds,
                resource_timing_seconds: net::resource_timing(url, started)
                    .map(|t| t.duration_ms / 1e3),
            };
            let verdict = classify(&result, *expected);
            let recorded = sink.feed(|monitor, now| {
                let id = monitor.record(module, verdict.latency_seconds, verdict.ok, now)?;
                monitor.set_source(id, ModuleSource::Probe);
                Ok::<_, crate::monitor::RecordError>(())
            });
            match recorded {
                Some(Ok(())) => sink.status.borrow_mut().accepted += 1,
                Some(Err(error)) => sink.status.borrow_mut().reject(1, error.to_string()),
                None => {}
            }
            if matches!(
                verdict.reason,
                ProbeReason::Timeout | ProbeReason::Network(_)
            ) {
                unanswered += 1;
            }
            if verdict.reason != ProbeReason::Ok {
                verdicts.push(format!("{module}: {}", verdict.reason));
            }
        }
        // Each target's latest verdict, when it is not a plain success.
        sink.status.borrow_mut().note = (!verdicts.is_empty()).then(|| verdicts.join(" · "));
        // An error status is data about the module; the source itself fails only when
        // no target answered at all.
        if !targets.is_empty() && unanswered == targets.len() {
            return Err("no target answered".to_owned());
        }
        Ok(())
    })
    .await;
}

async fn query(settings: QuerySettings, sink: Sink) {
    use crate::sources::query::QueryFeed;
    let options = fetch_options(settings.timeout_seconds, 16 << 20);
    let feed = RefCell::new(QueryFeed::new(&settings));
    let fetch_all = async |urls: Vec<String>| -> Result<Vec<String>, String> {
        let mut bodies = Vec::with_capacity(urls.len());
        for url in &urls {
            bodies.push(fetch_ok(url, &options, &sink).await?.0);
        }
        Ok(bodies)
    };
    // Fill the charts from the API's past before the first round, so the modules
    // open on their recent history instead of an empty chart.
    let span = sink.engine.try_with_value(|engine| {
        let tick = engine.monitor().config().tick_seconds;
        let end = engine.now(platform::now_seconds());
        (end - tick * super::engine::HISTORY_TICKS as f64, end, tick)
    });
    if let Some((start, end, step)) = span {
        let urls = feed.borrow().range_urls(start, end, step);
        let filled = match fetch_all(urls).await {
            Ok(bodies) => feed.borrow().history(&bodies).map_err(|e| e.to_string()),
            Err(error) => Err(error),
        };
        match filled {
            Ok(modules) => {
                sink.engine.try_update_value(|engine| {
                    for (module, rounds) in &modules {
                        let points: Vec<super::history::Point> =
                            rounds.iter().filter_map(past_point).collect();
                        engine.history_mut().backfill(module, &points);
                    }
                });
            }
            Err(error) => sink
                .status
                .borrow_mut()
                .reject(1, format!("the charts' past could not be read: {error}")),
        }
    }
    poll(settings.interval_seconds, &sink.clone(), || async {
        let urls = feed.borrow().instant_urls(platform::now_seconds());
        let bodies = fetch_all(urls).await?;
        let fed = sink
            .feed(|monitor, now| feed.borrow_mut().feed(monitor, &bodies, now))
            .unwrap_or_else(|| Ok(Default::default()))
            .map_err(|e| e.to_string())?;
        sink.took(fed.accepted, &fed.problems);
        Ok(())
    })
    .await;
}

/// A query API's past round as a chart point; a round missing any charted value (a
/// range's edge, where `rate()` has too few samples) is left out, not drawn as zero.
fn past_point(round: &crate::sources::query::PastRound) -> Option<super::history::Point> {
    Some(super::history::Point {
        t: round.t,
        p50: round.latency_p50? as f32,
        p95: round.latency_p95? as f32,
        p99: round.latency_p99? as f32,
        rps: round.requests_per_second? as f32,
        error_rate: round.error_rate? as f32,
        anomaly: false,
    })
}

/// Real-user monitoring: the host page's requests, grouped into modules, recorded as
/// the browser reports them. Runs until the dashboard stops.
async fn rum(settings: crate::sources::rum::RumSettings, sink: Sink) {
    use crate::sources::rum::{RumGrouper, RumVerdict};
    let grouper = Rc::new(RefCell::new(RumGrouper::new(
        settings,
        &platform::page_origin(),
    )));
    let unknown_status = Rc::new(Cell::new(0u64));
    let feeder = sink.clone();
    let on_entries = {
        let unknown_status = Rc::clone(&unknown_status);
        move |entries: Vec<crate::sources::rum::ResourceEntry>| {
            let mut grouper = grouper.borrow_mut();
            let mut recorded = 0;
            let mut problems = Vec::new();
            for entry in &entries {
                match grouper.classify(entry) {
                    RumVerdict::Record {
                        module,
                        latency_seconds,
                        ok,
                        ..
                    } => {
                        if ok.is_none() {
                            unknown_status.set(unknown_status.get() + 1);
                        }
                        let result = feeder.feed(|monitor, now| {
                            let id = monitor.record(
                                &module,
                                latency_seconds,
                                ok.unwrap_or(true),
                                now,
                            )?;
                            monitor.set_source(id, ModuleSource::Host);
                            Ok::<_, crate::monitor::RecordError>(())
                        });
                        match result {
                            Some(Ok(())) => recorded += 1,
                            Some(Err(error)) => problems.push(error.to_string()),
                            None => {}
                        }
                    }
                    RumVerdict::Ignored => {}
                    RumVerdict::Invalid => {
                        problems.push(format!("{}: no valid duration", entry.url));
                    }
                    RumVerdict::OverCap => {
                        problems.push(format!("{}: past max_modules", entry.url));
                    }
                }
            }
            feeder.took(recorded, &problems);
            let mut status = feeder.status.borrow_mut();
            status.succeeded(platform::now_seconds());
            status.note = rum_note(unknown_status.get(), &grouper.restricted_modules());
        }
    };
    let observer = match net::ResourceObserver::start(on_entries) {
        Ok(observer) => observer,
        Err(reason) => {
            let now = platform::now_seconds();
            sink.status.borrow_mut().failed(reason, now, f64::INFINITY);
            return;
        }
    };
    sink.status.borrow_mut().health = crate::sources::status::Health::Ok;
    while sink.alive() {
        sleep_seconds(1.0).await;
    }
    drop(observer);
}

/// What real-user monitoring could not see, in words.
fn rum_note(unknown_status: u64, restricted: &[&str]) -> Option<String> {
    let mut parts = Vec::new();
    if unknown_status > 0 {
        parts.push(format!(
            "{unknown_status} requests had a status the browser hides (cross-origin without CORS): counted, not as errors"
        ));
    }
    if !restricted.is_empty() {
        let shown: Vec<&str> = restricted.iter().take(5).copied().collect();
        let more = restricted.len().saturating_sub(shown.len());
        parts.push(format!(
            "total duration only (no Timing-Allow-Origin) for {}{}",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}
