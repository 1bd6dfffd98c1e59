//! The `sources` part of the config document: which services redline reads, how often,
//! and which modules they feed. Each entry names its `kind`; every field but `url`
//! (and a probe's `targets`) has a default. Validation says what is wrong and where.

use serde::{Deserialize, Serialize};

/// Most sources in one config.
pub const MAX_SOURCES: usize = 1_000;

/// One fetched source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceSettings {
    /// A service's Prometheus `/metrics` (text 0.0.4 or OpenMetrics), scraped on an interval.
    Prometheus(ScrapeSettings),
    /// A URL answering with the original spec's `get_dashboard_data()` JSON, polled.
    Dashboard(PollSettings),
    /// Server-Sent Events carrying request events.
    Sse(StreamSettings),
    /// A WebSocket carrying request events.
    Websocket(StreamSettings),
    /// Newline-delimited JSON request events streamed over fetch.
    Ndjson(StreamSettings),
    /// Timed requests to each target URL.
    Probe(ProbeSettings),
    /// A Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics).
    PrometheusQuery(QuerySettings),
    /// The host page's own network calls (real-user monitoring through Resource Timing).
    Rum(super::rum::RumSettings),
}

/// A `/metrics` scrape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeSettings {
    /// Shown in the sources panel; unique.
    pub name: String,
    /// The `/metrics` URL.
    pub url: String,
    /// Seconds between scrapes.
    pub interval_seconds: f64,
    /// Seconds before a scrape is abandoned.
    pub timeout_seconds: f64,
    /// The response size cap, bytes.
    pub max_bytes: usize,
    /// The label whose value names the module (e.g. `handler`, `service`, `job`). Without
    /// it, the whole target is one module named `module` (or the source's name).
    pub module_label: Option<String>,
    /// The module name when there is no `module_label`.
    pub module: Option<String>,
    /// The request counter (with or without `_total`).
    pub requests_metric: String,
    /// Which requests are errors, as a label matcher on the request counter, e.g.
    /// `code=~"5.."`.
    pub errors: String,
    /// The latency histogram (seconds), without `_bucket`.
    pub latency_histogram: String,
    /// Most series read from one scrape.
    pub max_series: usize,
    /// Most modules this source may create.
    pub max_modules: usize,
}

impl Default for ScrapeSettings {
    fn default() -> Self {
        ScrapeSettings {
            name: String::new(),
            url: String::new(),
            interval_seconds: 5.0,
            timeout_seconds: 10.0,
            max_bytes: 8 << 20,
            module_label: None,
            module: None,
            requests_metric: "http_requests_total".to_owned(),
            errors: "code=~\"5..\"".to_owned(),
            latency_histogram: "http_request_duration_seconds".to_owned(),
            max_series: 50_000,
            max_modules: 1_000,
        }
    }
}

/// A polled JSON dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollSettings {
    /// Shown in the sources panel; unique.
    pub name: String,
    /// The URL of the JSON document.
    pub url: String,
    /// Seconds between polls.
    pub interval_seconds: f64,
    /// Seconds before a poll is abandoned.
    pub timeout_seconds: f64,
    /// The response size cap, bytes.
    pub max_bytes: usize,
    /// Most modules this source may create.
    pub max_modules: usize,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            name: String::new(),
            url: String::new(),
            interval_seconds: 5.0,
            timeout_seconds: 10.0,
            max_bytes: 8 << 20,
            max_modules: 1_000,
        }
    }
}

/// An event stream (SSE, WebSocket or NDJSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSettings {
    /// Shown in the sources panel; unique.
    pub name: String,
    /// The stream's URL (`ws://`/`wss://` for WebSocket).
    pub url: String,
    /// Largest message (or NDJSON line) accepted, bytes. (Modules are bounded by the
    /// monitor's `max_modules`; events for modules past it are refused and counted.)
    pub max_message_bytes: usize,
}

impl Default for StreamSettings {
    fn default() -> Self {
        StreamSettings {
            name: String::new(),
            url: String::new(),
            max_message_bytes: 1 << 20,
        }
    }
}

/// Timed probes of module URLs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProbeSettings {
    /// Shown in the sources panel; unique.
    pub name: String,
    /// Seconds between rounds of probes.
    pub interval_seconds: f64,
    /// Seconds after which a probe counts as an error (timeout).
    pub timeout_seconds: f64,
    /// The URLs to time, one module each.
    pub targets: Vec<ProbeTarget>,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        ProbeSettings {
            name: String::new(),
            interval_seconds: 5.0,
            timeout_seconds: 5.0,
            targets: Vec::new(),
        }
    }
}

/// One probed URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeTarget {
    /// The module it feeds.
    pub module: String,
    /// The URL to request (GET).
    pub url: String,
    /// Statuses that count as success: a range such as `200-399`, or one status.
    #[serde(default = "default_expect")]
    pub expect: String,
    /// Probe without CORS (`no-cors`): works against any server, but the response is
    /// opaque, so the status is unknown and only reachability and time are measured.
    #[serde(default)]
    pub no_cors: bool,
}

fn default_expect() -> String {
    "200-399".to_owned()
}

/// A Prometheus-compatible query API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuerySettings {
    /// Shown in the sources panel; unique.
    pub name: String,
    /// The API's base URL, e.g. `http://prometheus:9090`.
    pub url: String,
    /// Seconds between queries.
    pub interval_seconds: f64,
    /// Seconds before a query is abandoned.
    pub timeout_seconds: f64,
    /// The label that names the module in the results (`job`, `service`, ...).
    pub module_label: String,
    /// The request counter the default PromQL reads.
    pub requests_metric: String,
    /// Which requests are errors, as a label matcher, e.g. `code=~"5.."`.
    pub errors: String,
    /// The latency histogram (seconds) the default PromQL reads, without `_bucket`.
    pub latency_histogram: String,
    /// The range of `rate()`, e.g. `1m`.
    pub range: String,
    /// PromQL replacing the default for any of `rate`, `error_rate`, `mean`, `p50`,
    /// `p95` and `p99` (one series per module, by `module_label`).
    pub queries: QueryOverrides,
    /// Most modules this source may create.
    pub max_modules: usize,
}

/// PromQL given by hand instead of the defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueryOverrides {
    /// Requests per second.
    pub rate: Option<String>,
    /// Errors ÷ requests, 0..1.
    pub error_rate: Option<String>,
    /// Mean latency, seconds.
    pub mean: Option<String>,
    /// Median latency, seconds.
    pub p50: Option<String>,
    /// 95th percentile latency, seconds.
    pub p95: Option<String>,
    /// 99th percentile latency, seconds.
    pub p99: Option<String>,
}

impl Default for QuerySettings {
    fn default() -> Self {
        QuerySettings {
            name: String::new(),
            url: String::new(),
            interval_seconds: 5.0,
            timeout_seconds: 10.0,
            module_label: "job".to_owned(),
            requests_metric: "http_requests_total".to_owned(),
            errors: "code=~\"5..\"".to_owned(),
            latency_histogram: "http_request_duration_seconds".to_owned(),
            range: "1m".to_owned(),
            queries: QueryOverrides::default(),
            max_modules: 1_000,
        }
    }
}

impl QuerySettings {
    /// The PromQL of one round: the defaults for the configured names, with any
    /// given by hand in their place.
    pub fn promql(&self) -> super::PromqlSet {
        let mut set = super::PromqlSet::new(&super::PromqlInputs {
            module_label: self.module_label.trim(),
            requests_counter: self.requests_metric.trim(),
            error_selector: self.errors.trim(),
            latency_histogram: self.latency_histogram.trim(),
            range: self.range.trim(),
        });
        let given = &self.queries;
        for (slot, query) in [
            (&mut set.rate, &given.rate),
            (&mut set.error_rate, &given.error_rate),
            (&mut set.mean, &given.mean),
            (&mut set.p50, &given.p50),
            (&mut set.p95, &given.p95),
            (&mut set.p99, &given.p99),
        ] {
            if let Some(query) = query.as_ref().filter(|q| !q.trim().is_empty()) {
                slot.clone_from(query);
            }
        }
        set
    }
}

impl SourceSettings {
    /// The source's name.
    pub fn name(&self) -> &str {
        match self {
            SourceSettings::Prometheus(s) => &s.name,
            SourceSettings::Dashboard(s) => &s.name,
            SourceSettings::Sse(s) | SourceSettings::Websocket(s) | SourceSettings::Ndjson(s) => {
                &s.name
            }
            SourceSettings::Probe(s) => &s.name,
            SourceSettings::PrometheusQuery(s) => &s.name,
            SourceSettings::Rum(s) => &s.name,
        }
    }

    /// The `kind` as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceSettings::Prometheus(_) => "prometheus",
            SourceSettings::Dashboard(_) => "dashboard",
            SourceSettings::Sse(_) => "sse",
            SourceSettings::Websocket(_) => "websocket",
            SourceSettings::Ndjson(_) => "ndjson",
            SourceSettings::Probe(_) => "probe",
            SourceSettings::PrometheusQuery(_) => "prometheus_query",
            SourceSettings::Rum(_) => "rum",
        }
    }

    /// Where it reads from, for the sources panel.
    pub fn target(&self) -> String {
        match self {
            SourceSettings::Prometheus(s) => s.url.clone(),
            SourceSettings::Dashboard(s) => s.url.clone(),
            SourceSettings::Sse(s) | SourceSettings::Websocket(s) | SourceSettings::Ndjson(s) => {
                s.url.clone()
            }
            SourceSettings::Probe(s) => match s.targets.as_slice() {
                [one] => one.url.clone(),
                many => format!("{} URLs", many.len()),
            },
            SourceSettings::PrometheusQuery(s) => s.url.clone(),
            SourceSettings::Rum(s) => format!("this page's {} requests", s.initiators.join(", ")),
        }
    }

    fn check(&self) -> Result<(), String> {
        let seconds = crate::monitor::config::check_between;
        let url = |value: &str, schemes: &[&str]| {
            if value.trim().is_empty() {
                return Err("url is missing".to_owned());
            }
            let scheme = value.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
            match scheme {
                Some(s) if !schemes.contains(&s.as_str()) => Err(format!(
                    "url {value:?} must start with {}",
                    schemes
                        .iter()
                        .map(|s| format!("{s}://"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )),
                _ => Ok(()),
            }
        };
        let at_least_one = |what: &str, value: usize| {
            if value == 0 {
                Err(format!("{what} must be at least 1"))
            } else {
                Ok(())
            }
        };
        const HTTP: &[&str] = &["http", "https"];
        match self {
            SourceSettings::Prometheus(s) => {
                url(&s.url, HTTP)?;
                seconds("interval_seconds", s.interval_seconds, 0.5, 3600.0)?;
                seconds("timeout_seconds", s.timeout_seconds, 0.1, 600.0)?;
                at_least_one("max_bytes", s.max_bytes)?;
                at_least_one("max_series", s.max_series)?;
                at_least_one("max_modules", s.max_modules)?;
                if s.requests_metric.trim().is_empty() && s.latency_histogram.trim().is_empty() {
                    return Err("set requests_metric or latency_histogram".to_owned());
                }
                if s.module_label
                    .as_deref()
                    .is_some_and(|l| l.trim().is_empty())
                {
                    return Err(
                        "module_label is empty; leave it out for one module per target".to_owned(),
                    );
                }
            }
            SourceSettings::Dashboard(s) => {
                url(&s.url, HTTP)?;
                seconds("interval_seconds", s.interval_seconds, 0.5, 3600.0)?;
                seconds("timeout_seconds", s.timeout_seconds, 0.1, 600.0)?;
                at_least_one("max_bytes", s.max_bytes)?;
                at_least_one("max_modules", s.max_modules)?;
            }
            SourceSettings::Sse(s) | SourceSettings::Ndjson(s) => {
                url(&s.url, HTTP)?;
                at_least_one("max_message_bytes", s.max_message_bytes)?;
            }
            SourceSettings::Websocket(s) => {
                url(&s.url, &["ws", "wss"])?;
                at_least_one("max_message_bytes", s.max_message_bytes)?;
            }
            SourceSettings::Probe(s) => {
                seconds("interval_seconds", s.interval_seconds, 0.5, 3600.0)?;
                seconds("timeout_seconds", s.timeout_seconds, 0.1, 600.0)?;
                if s.targets.is_empty() {
                    return Err("targets is empty: list {\"module\", \"url\"} pairs".to_owned());
                }
                for (i, target) in s.targets.iter().enumerate() {
                    if target.module.trim().is_empty() {
                        return Err(format!("targets[{i}].module is empty"));
                    }
                    url(&target.url, HTTP).map_err(|e| format!("targets[{i}]: {e}"))?;
                    super::ExpectedStatus::parse(&target.expect)
                        .map_err(|e| format!("targets[{i}].expect: {e}"))?;
                }
            }
            SourceSettings::PrometheusQuery(s) => {
                url(&s.url, HTTP)?;
                seconds("interval_seconds", s.interval_seconds, 0.5, 3600.0)?;
                seconds("timeout_seconds", s.timeout_seconds, 0.1, 600.0)?;
                at_least_one("max_modules", s.max_modules)?;
                if s.module_label.trim().is_empty() {
                    return Err("module_label is empty".to_owned());
                }
                if !s.errors.trim().is_empty() {
                    super::LabelMatcher::parse(&s.errors)
                        .map_err(|e| format!("errors {:?}: {e}", s.errors))?;
                }
            }
            SourceSettings::Rum(s) => s.check()?,
        }
        Ok(())
    }
}

/// Checks a list of sources: each valid, names present and unique, not too many.
pub fn validate_sources(sources: &[SourceSettings]) -> Result<(), String> {
    if sources.len() > MAX_SOURCES {
        return Err(format!(
            "{} sources listed; at most {MAX_SOURCES} are supported",
            sources.len()
        ));
    }
    let mut names: Vec<&str> = Vec::with_capacity(sources.len());
    for (i, source) in sources.iter().enumerate() {
        let name = source.name();
        let label = if name.is_empty() {
            format!("sources[{i}] ({})", source.kind())
        } else {
            format!("sources[{i}] ({} {name:?})", source.kind())
        };
        if name.trim().is_empty() {
            return Err(format!("{label}: name is missing"));
        }
        if names.contains(&name) {
            return Err(format!("{label}: the name is used twice"));
        }
        names.push(name);
        source.check().map_err(|e| format!("{label}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Vec<SourceSettings>, String> {
        let sources: Vec<SourceSettings> = serde_json::from_str(json).map_err(|e| e.to_string())?;
        validate_sources(&sources)?;
        Ok(sources)
    }

    #[test]
    fn every_kind_parses_with_defaults() {
        let sources = parse(
            r#"[
            {"kind": "prometheus", "name": "api", "url": "http://127.0.0.1:9100/metrics", "module_label": "handler"},
            {"kind": "dashboard", "name": "legacy", "url": "/dashboard.json"},
            {"kind": "sse", "name": "events", "url": "http://127.0.0.1:9200/events"},
            {"kind": "websocket", "name": "ws", "url": "ws://127.0.0.1:9200/ws"},
            {"kind": "ndjson", "name": "nd", "url": "http://127.0.0.1:9200/ndjson"},
            {"kind": "probe", "name": "up", "targets": [{"module": "home", "url": "https://example.test/"}]},
            {"kind": "prometheus_query", "name": "fleet", "url": "http://127.0.0.1:9090"},
            {"kind": "rum"}
        ]"#,
        )
        .expect("valid");
        assert_eq!(sources.len(), 8);
        let kinds: Vec<&str> = sources.iter().map(SourceSettings::kind).collect();
        assert_eq!(
            kinds,
            [
                "prometheus",
                "dashboard",
                "sse",
                "websocket",
                "ndjson",
                "probe",
                "prometheus_query",
                "rum"
            ]
        );
        let SourceSettings::Prometheus(scrape) = &sources[0] else {
            panic!("first is a scrape");
        };
        assert_eq!(scrape.interval_seconds, 5.0);
        assert_eq!(scrape.requests_metric, "http_requests_total");
        let SourceSettings::Probe(probe) = &sources[5] else {
            panic!("sixth is a probe");
        };
        assert_eq!(probe.targets[0].expect, "200-399");
        let again: Vec<SourceSettings> =
            serde_json::from_str(&serde_json::to_string(&sources).expect("serialise"))
                .expect("round trip");
        assert_eq!(again, sources);
    }

    #[test]
    fn mistakes_say_which_source_and_what_to_fix() {
        let cases = [
            (r#"[{"kind": "prometheus", "name": "a"}]"#, "url is missing"),
            (
                r#"[{"kind": "prometheus", "name": "a", "url": "ftp://x/metrics"}]"#,
                "must start with http:// or https://",
            ),
            (
                r#"[{"kind": "websocket", "name": "a", "url": "http://x/ws"}]"#,
                "ws:// or wss://",
            ),
            (
                r#"[{"kind": "sse", "url": "http://x/e"}]"#,
                "sources[0] (sse): name is missing",
            ),
            (
                r#"[{"kind": "sse", "name": "a", "url": "http://x"}, {"kind": "ndjson", "name": "a", "url": "http://y"}]"#,
                "sources[1] (ndjson \"a\"): the name is used twice",
            ),
            (
                r#"[{"kind": "prometheus", "name": "a", "url": "http://x", "interval_seconds": 0}]"#,
                "interval_seconds must be between",
            ),
            (
                r#"[{"kind": "probe", "name": "p", "targets": []}]"#,
                "targets is empty",
            ),
            (
                r#"[{"kind": "probe", "name": "p", "targets": [{"module": "m", "url": "http://x", "expect": "299-200"}]}]"#,
                "targets[0].expect",
            ),
            (
                r#"[{"kind": "kafka", "name": "k"}]"#,
                "unknown variant `kafka`",
            ),
            (
                r#"[{"kind": "sse", "name": "a", "url": "http://x", "intervall": 3}]"#,
                "unknown field `intervall`",
            ),
        ];
        for (json, expected) in cases {
            let message = parse(json).expect_err(json);
            assert!(message.contains(expected), "{json}: {message}");
        }
    }
}
