//! The Prometheus HTTP query API (Prometheus, Thanos, Mimir, VictoriaMetrics):
//! responses of `/api/v1/query` and `/api/v1/query_range` parsed into typed results,
//! series mapped to modules by a label, the request URLs built, and default PromQL
//! for rate, error rate and latency quantiles per service.
//!
//! Sample values arrive as strings (`"0.25"`, `"NaN"`, `"+Inf"`); a value that is not
//! a number is skipped and counted. An API error (`status: "error"`) becomes a
//! [`QueryError::Api`] carrying its `errorType` and message.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::prometheus::parse_number;

/// One instant sample of a vector result.
#[derive(Debug, Clone, PartialEq)]
pub struct InstantSample {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// Evaluation time, Unix seconds.
    pub timestamp: f64,
    /// The value (may be NaN or infinite, as PromQL gives it).
    pub value: f64,
}

/// One series of a matrix result.
#[derive(Debug, Clone, PartialEq)]
pub struct RangeSeries {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// (Unix seconds, value) points in time order.
    pub points: Vec<(f64, f64)>,
}

/// A query's result.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryData {
    /// An instant vector.
    Vector(Vec<InstantSample>),
    /// A range matrix.
    Matrix(Vec<RangeSeries>),
    /// A scalar: (Unix seconds, value).
    Scalar(f64, f64),
    /// A string: (Unix seconds, text).
    String(f64, String),
}

/// A successful response.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResponse {
    /// The result.
    pub data: QueryData,
    /// Warnings the server attached (shown in the source's status).
    pub warnings: Vec<String>,
    /// Values that were not numbers, skipped.
    pub skipped_values: u64,
}

/// Why a response gave no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The body is not JSON of the API's shape.
    #[error("query API response is not valid: {0}")]
    Json(String),
    /// The server answered `status: "error"`.
    #[error("query API error ({error_type}): {error}")]
    Api {
        /// `errorType`, e.g. `bad_data`, `timeout`, `execution`.
        error_type: String,
        /// The server's message.
        error: String,
        /// Any warnings.
        warnings: Vec<String>,
    },
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<RawData>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum RawData {
    Vector(Vec<RawSample>),
    Matrix(Vec<RawSeries>),
    Scalar((f64, String)),
    String((f64, String)),
}

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    /// Absent for a native-histogram sample (which carries `histogram` instead).
    value: Option<(f64, String)>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<(f64, String)>,
}

/// Parses a `/api/v1/query` or `/api/v1/query_range` response body.
pub fn parse_query_response(text: &str) -> Result<QueryResponse, QueryError> {
    let envelope: Envelope =
        serde_json::from_str(text).map_err(|e| QueryError::Json(e.to_string()))?;
    if envelope.status != "success" {
        return Err(QueryError::Api {
            error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
            error: envelope
                .error
                .unwrap_or_else(|| format!("status {:?} without a message", envelope.status)),
            warnings: envelope.warnings,
        });
    }
    let raw = envelope
        .data
        .ok_or_else(|| QueryError::Json("`status` is success but `data` is missing".into()))?;
    let mut skipped_values = 0u64;
    let mut number = |text: &str| {
        let value = parse_number(text);
        if value.is_none() {
            skipped_values += 1;
        }
        value
    };
    let data = match raw {
        RawData::Vector(samples) => QueryData::Vector(
            samples
                .into_iter()
                .filter_map(|sample| {
                    let (timestamp, text) = sample.value?;
                    Some(InstantSample {
                        labels: sample.metric,
                        timestamp,
                        value: number(&text)?,
                    })
                })
                .collect(),
        ),
        RawData::Matrix(series) => QueryData::Matrix(
            series
                .into_iter()
                .map(|series| RangeSeries {
                    points: series
                        .values
                        .iter()
                        .filter_map(|(t, text)| Some((*t, number(text)?)))
                        .collect(),
                    labels: series.metric,
                })
                .collect(),
        ),
        RawData::Scalar((timestamp, text)) => {
            QueryData::Scalar(timestamp, number(&text).unwrap_or(f64::NAN))
        }
        RawData::String((timestamp, text)) => QueryData::String(timestamp, text),
    };
    Ok(QueryResponse {
        data,
        warnings: envelope.warnings,
        skipped_values,
    })
}

/// Each vector sample's value by the module its `label` names. Samples without the
/// label are skipped; the count of them is returned too.
pub fn values_by_module(samples: &[InstantSample], label: &str) -> (Vec<(String, f64)>, u64) {
    let mut missing = 0;
    let values = samples
        .iter()
        .filter_map(|sample| match sample.labels.get(label) {
            Some(module) if !module.is_empty() => Some((module.clone(), sample.value)),
            _ => {
                missing += 1;
                None
            }
        })
        .collect();
    (values, missing)
}

/// Builds query API URLs against a base such as `http://prometheus:9090` (a path
/// prefix, as Thanos or Mimir use, is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryApi {
    base_url: String,
}

impl QueryApi {
    /// An API at `base_url` (a trailing `/` is dropped).
    pub fn new(base_url: &str) -> Self {
        QueryApi {
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// `/api/v1/query?query=…[&time=…]`.
    pub fn instant_url(&self, promql: &str, time_seconds: Option<f64>) -> String {
        let mut url = format!("{}/api/v1/query?query={}", self.base_url, encode(promql));
        if let Some(time) = time_seconds {
            url.push_str(&format!("&time={}", format_seconds(time)));
        }
        url
    }

    /// `/api/v1/query_range?query=…&start=…&end=…&step=…`.
    pub fn range_url(&self, promql: &str, start: f64, end: f64, step_seconds: f64) -> String {
        format!(
            "{}/api/v1/query_range?query={}&start={}&end={}&step={}",
            self.base_url,
            encode(promql),
            format_seconds(start),
            format_seconds(end),
            format_seconds(step_seconds)
        )
    }
}

/// Seconds with millisecond precision, as the API accepts them.
fn format_seconds(seconds: f64) -> String {
    let text = format!("{seconds:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Percent-encodes a query parameter (everything but RFC 3986's unreserved bytes).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3 / 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The PromQL a query source runs per tick, one result series per module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlSet {
    /// Requests per second.
    pub rate: String,
    /// Errors ÷ requests, 0..1.
    pub error_rate: String,
    /// Mean latency, seconds (for the share of time spent).
    pub mean: String,
    /// Median latency, seconds.
    pub p50: String,
    /// 95th percentile latency, seconds.
    pub p95: String,
    /// 99th percentile latency, seconds.
    pub p99: String,
}

/// What the default PromQL is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromqlInputs<'a> {
    /// The label naming the service (`job`, `service`).
    pub module_label: &'a str,
    /// The request counter, e.g. `http_requests_total`.
    pub requests_counter: &'a str,
    /// The selector of error series, e.g. `code=~"5.."`.
    pub error_selector: &'a str,
    /// The latency histogram, e.g. `http_request_duration_seconds`.
    pub latency_histogram: &'a str,
    /// The rate range, e.g. `1m`.
    pub range: &'a str,
}

impl Default for PromqlInputs<'_> {
    fn default() -> Self {
        PromqlInputs {
            module_label: "job",
            requests_counter: "http_requests_total",
            error_selector: r#"code=~"5..""#,
            latency_histogram: "http_request_duration_seconds",
            range: "1m",
        }
    }
}

impl PromqlSet {
    /// The default queries for these names.
    pub fn new(inputs: &PromqlInputs<'_>) -> Self {
        let PromqlInputs {
            module_label: by,
            requests_counter: counter,
            error_selector: errors,
            latency_histogram: histogram,
            range,
        } = inputs;
        let rate = format!("sum by ({by}) (rate({counter}[{range}]))");
        let quantile = |q: &str| {
            format!(
                "histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket[{range}])))"
            )
        };
        PromqlSet {
            error_rate: format!("sum by ({by}) (rate({counter}{{{errors}}}[{range}])) / {rate}"),
            mean: format!(
                "sum by ({by}) (rate({histogram}_sum[{range}])) / sum by ({by}) (rate({histogram}_count[{range}]))"
            ),
            rate,
            p50: quantile("0.5"),
            p95: quantile("0.95"),
            p99: quantile("0.99"),
        }
    }
}

impl PromqlSet {
    /// The queries of one round, in the order `QueryFeed::feed` reads their answers.
    fn in_order(&self) -> [&str; 6] {
        [
            &self.rate,
            &self.error_rate,
            &self.mean,
            &self.p50,
            &self.p95,
            &self.p99,
        ]
    }
}

/// One module's statistics at one past time step, from the range queries.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PastRound {
    /// The step's time, Unix seconds.
    pub t: f64,
    /// Requests per second.
    pub requests_per_second: Option<f64>,
    /// Errors ÷ requests.
    pub error_rate: Option<f64>,
    /// Mean latency, seconds.
    pub latency_mean: Option<f64>,
    /// Median latency, seconds.
    pub latency_p50: Option<f64>,
    /// 95th percentile latency, seconds.
    pub latency_p95: Option<f64>,
    /// 99th percentile latency, seconds.
    pub latency_p99: Option<f64>,
}

/// Asks a query API for every module's statistics each round: rate, error ratio,
/// mean and p50/p95/p99 per module become the module's reported statistics, and the
/// monitor adds anomaly detection, the alert lifecycle and the bottleneck ranking.
#[derive(Debug, Clone)]
pub struct QueryFeed {
    api: QueryApi,
    label: String,
    queries: PromqlSet,
    modules: super::ReportedModules,
}

impl QueryFeed {
    /// A feed for the configured API and PromQL.
    pub fn new(settings: &super::config::QuerySettings) -> QueryFeed {
        QueryFeed {
            api: QueryApi::new(&settings.url),
            label: settings.module_label.trim().to_owned(),
            queries: settings.promql(),
            modules: super::ReportedModules::new(
                crate::monitor::ModuleSource::Query,
                settings.max_modules,
            ),
        }
    }

    /// The round's instant-query URLs at `time` (Unix seconds).
    pub fn instant_urls(&self, time: f64) -> Vec<String> {
        self.queries
            .in_order()
            .iter()
            .map(|query| self.api.instant_url(query, Some(time)))
            .collect()
    }

    /// The URLs that fill the window at start: each query over `[start, end]` at
    /// `step_seconds`, in `instant_urls` order.
    pub fn range_urls(&self, start: f64, end: f64, step_seconds: f64) -> Vec<String> {
        self.queries
            .in_order()
            .iter()
            .map(|query| self.api.range_url(query, start, end, step_seconds))
            .collect()
    }

    /// Each module's past statistics from the answers to `range_urls` (in that order),
    /// one row per time step, oldest first; values that were not numbers are `None`.
    pub fn history(&self, bodies: &[String]) -> Result<Vec<(String, Vec<PastRound>)>, QueryError> {
        let mut modules: BTreeMap<String, BTreeMap<u64, PastRound>> = BTreeMap::new();
        for (column, body) in bodies.iter().enumerate() {
            let response = parse_query_response(body)?;
            let QueryData::Matrix(series) = &response.data else {
                return Err(QueryError::Json(
                    "a range query gave no matrix; aggregate it `by` the module label".into(),
                ));
            };
            for one in series {
                let Some(module) = one.labels.get(&self.label) else {
                    continue;
                };
                if !modules.contains_key(module) && modules.len() >= self.modules.max_modules() {
                    continue;
                }
                let rows = modules.entry(module.clone()).or_default();
                for &(t, value) in &one.points {
                    let row = rows.entry(t.to_bits()).or_insert_with(|| PastRound {
                        t,
                        ..PastRound::default()
                    });
                    let value = (value.is_finite() && value >= 0.0).then_some(value);
                    match column {
                        0 => row.requests_per_second = value,
                        1 => row.error_rate = value.map(|r| r.min(1.0)),
                        2 => row.latency_mean = value,
                        3 => row.latency_p50 = value,
                        4 => row.latency_p95 = value,
                        _ => row.latency_p99 = value,
                    }
                }
            }
        }
        Ok(modules
            .into_iter()
            .map(|(module, rows)| {
                let mut rows: Vec<PastRound> = rows.into_values().collect();
                crate::sort::sort_by(&mut rows, |a, b| a.t.total_cmp(&b.t));
                (module, rows)
            })
            .collect())
    }

    /// Records one round's answers (in `instant_urls` order) at `now`.
    pub fn feed(
        &mut self,
        monitor: &mut crate::monitor::PerformanceMonitor,
        bodies: &[String],
        now: f64,
    ) -> Result<super::ReportedRound, QueryError> {
        use crate::monitor::ReportedMetrics;
        let mut report = super::ReportedRound::default();
        let mut columns: Vec<BTreeMap<String, f64>> = Vec::with_capacity(bodies.len());
        for body in bodies {
            let response = parse_query_response(body)?;
            report
                .problems
                .extend(response.warnings.iter().map(|w| format!("warning: {w}")));
            let QueryData::Vector(samples) = &response.data else {
                return Err(QueryError::Json(
                    "a query gave no instant vector; aggregate it `by` the module label".into(),
                ));
            };
            let (values, missing) = values_by_module(samples, &self.label);
            if missing > 0 {
                report
                    .problems
                    .push(format!("{missing} series without a {} label", self.label));
            }
            // Inserted one by one rather than collected: `collect` into a BTreeMap sorts
            // first, one more copy of the standard sort in the wasm (see `crate::sort`).
            let mut column = BTreeMap::new();
            for (module, value) in values {
                if value.is_finite() && value >= 0.0 {
                    column.insert(module, value);
                }
            }
            columns.push(column);
        }
        let column = |index: usize, module: &str| -> Option<f64> {
            columns.get(index).and_then(|c| c.get(module)).copied()
        };
        let mut names = std::collections::BTreeSet::new();
        for column in &columns {
            names.extend(column.keys());
        }
        let reports = names.into_iter().map(|module| {
            let metrics = ReportedMetrics {
                requests_per_second: column(0, module),
                error_rate: column(1, module).map(|r| r.clamp(0.0, 1.0)),
                latency_mean: column(2, module),
                latency_p50: column(3, module),
                latency_p95: column(4, module),
                latency_p99: column(5, module),
                ..ReportedMetrics::default()
            };
            (module.as_str(), metrics)
        });
        self.modules.record(monitor, reports, now, &mut report);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_promql_reads_as_written_by_hand() {
        let set = PromqlSet::new(&PromqlInputs::default());
        assert_eq!(set.rate, "sum by (job) (rate(http_requests_total[1m]))");
        assert_eq!(
            set.error_rate,
            r#"sum by (job) (rate(http_requests_total{code=~"5.."}[1m])) / sum by (job) (rate(http_requests_total[1m]))"#
        );
        assert_eq!(
            set.p99,
            "histogram_quantile(0.99, sum by (job, le) (rate(http_request_duration_seconds_bucket[1m])))"
        );
    }

    #[test]
    fn urls_encode_promql_and_times() {
        let api = QueryApi::new("http://127.0.0.1:9090/prefix/");
        assert_eq!(
            api.instant_url(r#"up{job="a b"}"#, Some(1_700_000_000.5)),
            "http://127.0.0.1:9090/prefix/api/v1/query?query=up%7Bjob%3D%22a%20b%22%7D&time=1700000000.5"
        );
        assert_eq!(
            api.range_url("x", 10.0, 70.0, 15.0),
            "http://127.0.0.1:9090/prefix/api/v1/query_range?query=x&start=10&end=70&step=15"
        );
    }

    #[test]
    fn warnings_and_native_histogram_samples() {
        let text = r#"{"status":"success","warnings":["partial response"],"data":{"resultType":"vector","result":[
            {"metric":{"job":"a"},"value":[1,"+Inf"]},
            {"metric":{"job":"b"},"histogram":[1,{"count":"2"}]},
            {"metric":{"job":"c"},"value":[1,"fast"]}]}}"#;
        let response = parse_query_response(text).expect("valid");
        assert_eq!(response.warnings, vec!["partial response"]);
        assert_eq!(response.skipped_values, 1);
        let QueryData::Vector(samples) = response.data else {
            panic!()
        };
        assert_eq!(samples.len(), 1);
        assert_eq!(samples[0].value, f64::INFINITY);
    }
    #[test]
    fn a_round_becomes_reported_statistics() {
        use crate::monitor::{ModuleSource, PerformanceMonitor};
        use crate::sources::config::QuerySettings;
        let vector = |pairs: &[(&str, &str)]| {
            let result: Vec<String> = pairs
                .iter()
                .map(|(job, v)| format!(r#"{{"metric":{{"job":"{job}"}},"value":[1,"{v}"]}}"#))
                .collect();
            format!(
                r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
                result.join(",")
            )
        };
        let bodies = [
            vector(&[("api", "120"), ("db", "30")]),
            vector(&[("api", "0.01"), ("db", "0.2")]),
            vector(&[("api", "0.05"), ("db", "0.02")]),
            vector(&[("api", "0.02"), ("db", "0.01")]),
            vector(&[("api", "0.4"), ("db", "0.05")]),
            vector(&[("api", "0.9"), ("db", "0.08")]),
        ];
        let settings = QuerySettings {
            url: "http://prom:9090".to_owned(),
            max_modules: 1,
            ..QuerySettings::default()
        };
        let mut feed = QueryFeed::new(&settings);
        let mut monitor = PerformanceMonitor::default();
        let report = feed.feed(&mut monitor, &bodies, 10.5).expect("valid");
        assert_eq!(report.accepted, 1);
        assert_eq!(
            report.problems,
            ["1 modules skipped: this source may create at most 1"]
        );
        monitor.tick(11.0);
        let api = monitor.module("api").expect("api");
        assert_eq!(api.source(), ModuleSource::Query);
        let stats = api.statistics();
        assert_eq!((stats.requests_per_second, stats.error_rate), (120.0, 0.01));
        assert_eq!(
            (stats.percentiles.p95.value, stats.latency_mean),
            (0.4, 0.05)
        );
        assert!(
            stats.latency_samples > 0,
            "reported percentiles count as latency data"
        );
    }

    #[test]
    fn range_answers_become_past_rounds() {
        use crate::sources::config::QuerySettings;
        let matrix = |rows: &[(&str, &[(f64, &str)])]| {
            let result: Vec<String> = rows
                .iter()
                .map(|(job, points)| {
                    let values: Vec<String> = points
                        .iter()
                        .map(|(t, v)| format!(r#"[{t},"{v}"]"#))
                        .collect();
                    format!(
                        r#"{{"metric":{{"job":"{job}"}},"values":[{}]}}"#,
                        values.join(",")
                    )
                })
                .collect();
            format!(
                r#"{{"status":"success","data":{{"resultType":"matrix","result":[{}]}}}}"#,
                result.join(",")
            )
        };
        let bodies = [
            matrix(&[("api", &[(10.0, "100"), (11.0, "120")])]),
            matrix(&[("api", &[(10.0, "0.01"), (11.0, "NaN")])]),
            matrix(&[]),
            matrix(&[]),
            matrix(&[("api", &[(11.0, "0.4")]), ("db", &[(10.0, "0.2")])]),
            matrix(&[]),
        ];
        let settings = QuerySettings {
            url: "http://prom:9090".to_owned(),
            ..QuerySettings::default()
        };
        let feed = QueryFeed::new(&settings);
        let urls = feed.range_urls(0.0, 60.0, 1.0);
        assert!(
            urls[0].contains("/api/v1/query_range?query=")
                && urls[0].ends_with("&start=0&end=60&step=1"),
            "{}",
            urls[0]
        );
        let history = feed.history(&bodies).expect("valid");
        let (module, rows) = &history[0];
        assert_eq!(module, "api");
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].t, rows[0].requests_per_second, rows[0].error_rate),
            (10.0, Some(100.0), Some(0.01))
        );
        assert_eq!((rows[1].error_rate, rows[1].latency_p95), (None, Some(0.4)));
        assert_eq!(history[1].0, "db");
        let instant =
            r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_owned();
        assert!(feed.history(&[instant]).is_err());
    }
}
