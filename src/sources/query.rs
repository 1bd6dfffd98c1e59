//! The Prometheus HTTP query API (Prometheus, Thanos, Mimir, VictoriaMetrics), for
//! fleets too big to scrape from a browser: configured PromQL gives each module's rate,
//! error ratio and p50/p95/p99, which become the module's reported statistics, and the
//! monitor adds anomaly detection, alert lifecycle and the bottleneck ranking.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::config::QuerySettings;
use crate::monitor::{ModuleSource, PerformanceMonitor, ReportedMetrics, Sample};

/// One instant-query response: `{"status": "success", "data": {"resultType": "vector",
/// "result": [{"metric": {...}, "value": [time, "1.5"]}]}}`, or an error.
#[derive(Debug, Deserialize)]
struct Response {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default)]
    result: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Series {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

/// Why a response could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// Not the API's JSON.
    #[error("not a Prometheus query API response: {0}")]
    Format(String),
    /// The API answered with an error.
    #[error("the query API refused the query ({kind}): {message}")]
    Api {
        /// `errorType`, e.g. `bad_data`.
        kind: String,
        /// `error`.
        message: String,
    },
    /// A result type other than an instant vector.
    #[error("the query gave a {0}, not an instant vector; aggregate it `by` the module label")]
    NotVector(String),
}

/// Each module's value from one instant query, by the module label; series without
/// the label and values that are not finite numbers are counted in `skipped`.
pub fn parse_vector(
    text: &str,
    module_label: &str,
) -> Result<(BTreeMap<String, f64>, usize), QueryError> {
    let response: Response =
        serde_json::from_str(text).map_err(|e| QueryError::Format(e.to_string()))?;
    if response.status != "success" {
        return Err(QueryError::Api {
            kind: response
                .error_type
                .unwrap_or_else(|| response.status.clone()),
            message: response.error.unwrap_or_default(),
        });
    }
    let data = response
        .data
        .ok_or_else(|| QueryError::Format("no data".to_owned()))?;
    if data.result_type != "vector" {
        return Err(QueryError::NotVector(data.result_type));
    }
    let series: Vec<Series> =
        serde_json::from_value(data.result).map_err(|e| QueryError::Format(e.to_string()))?;
    let mut values = BTreeMap::new();
    let mut skipped = 0;
    for one in series {
        let value = one.value.1.parse::<f64>().ok().filter(|v| v.is_finite());
        match (one.metric.get(module_label), value) {
            (Some(module), Some(value)) => {
                values.insert(module.clone(), value);
            }
            _ => skipped += 1,
        }
    }
    Ok((values, skipped))
}

/// The queries of one round, in order: rate, error ratio, mean, p50, p95, p99.
const QUANTILES: [f64; 3] = [0.5, 0.95, 0.99];

/// Asks a query API for every module's statistics each round.
#[derive(Debug, Clone)]
pub struct QueryFeed {
    base: String,
    label: String,
    queries: Vec<String>,
    max_modules: usize,
    modules: std::collections::BTreeSet<String>,
}

/// What one round gave the monitor.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryReport {
    /// Modules taken.
    pub accepted: u64,
    /// What was skipped, and why.
    pub problems: Vec<String>,
}

impl QueryFeed {
    /// A feed for the configured API and PromQL.
    pub fn new(settings: &QuerySettings) -> QueryFeed {
        let label = settings.module_label.trim().to_owned();
        let fill = |query: &str| query.replace("{label}", &label);
        let mut queries = vec![
            fill(&settings.rate_query),
            fill(&settings.error_rate_query),
            fill(&settings.mean_query),
        ];
        queries.extend(
            QUANTILES
                .iter()
                .map(|q| fill(&settings.quantile_query).replace("{q}", &q.to_string())),
        );
        QueryFeed {
            base: settings.url.trim_end_matches('/').to_owned(),
            label,
            queries,
            max_modules: settings.max_modules,
            modules: Default::default(),
        }
    }

    /// The round's instant-query URLs at `time` (Unix seconds).
    pub fn instant_urls(&self, time: f64) -> Vec<String> {
        self.queries
            .iter()
            .map(|query| {
                format!(
                    "{}/api/v1/query?query={}&time={time:.3}",
                    self.base,
                    encode(query)
                )
            })
            .collect()
    }

    /// Records one round's answers (in `instant_urls` order) at `now`.
    pub fn feed(
        &mut self,
        monitor: &mut PerformanceMonitor,
        bodies: &[String],
        now: f64,
    ) -> Result<QueryReport, QueryError> {
        let mut report = QueryReport::default();
        let mut columns = Vec::with_capacity(bodies.len());
        for body in bodies {
            let (values, skipped) = parse_vector(body, &self.label)?;
            if skipped > 0 {
                report.problems.push(format!(
                    "{skipped} series without a {} label or a number",
                    self.label
                ));
            }
            columns.push(values);
        }
        let column = |index: usize, module: &str| -> Option<f64> {
            columns.get(index).and_then(|c| c.get(module)).copied()
        };
        let names: std::collections::BTreeSet<&String> =
            columns.iter().flat_map(|c| c.keys()).collect();
        let mut over_cap = 0;
        for module in names {
            if !self.modules.contains(module) {
                if self.modules.len() >= self.max_modules {
                    over_cap += 1;
                    continue;
                }
                self.modules.insert(module.clone());
            }
            let metrics = ReportedMetrics {
                requests_per_second: column(0, module),
                error_rate: column(1, module).map(|r| r.clamp(0.0, 1.0)),
                latency_mean: column(2, module),
                latency_p50: column(3, module),
                latency_p95: column(4, module),
                latency_p99: column(5, module),
                ..ReportedMetrics::default()
            };
            let sample = Sample::Reported {
                module: module.clone(),
                metrics,
            };
            match monitor.observe(&sample, now) {
                Ok(id) => {
                    monitor.set_source(id, ModuleSource::Query);
                    report.accepted += 1;
                }
                Err(error) => report.problems.push(format!("{module}: {error}")),
            }
        }
        if over_cap > 0 {
            report.problems.push(format!(
                "{over_cap} modules skipped: this source may create at most {}",
                self.max_modules
            ));
        }
        Ok(report)
    }
}

/// Percent-encodes a query-string value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_errors_and_urls() {
        let (values, skipped) = parse_vector(
            r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"job":"api"},"value":[1.5,"55"]},
                {"metric":{"job":"db"},"value":[1.5,"NaN"]},
                {"metric":{},"value":[1.5,"3"]}]}}"#,
            "job",
        )
        .expect("valid");
        assert_eq!(
            values.into_iter().collect::<Vec<_>>(),
            [("api".to_owned(), 55.0)]
        );
        assert_eq!(skipped, 2);
        let error = parse_vector(
            r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
            "job",
        )
        .expect_err("an error");
        assert_eq!(
            error.to_string(),
            "the query API refused the query (bad_data): parse error"
        );
        let matrix = parse_vector(
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
            "job",
        )
        .expect_err("a matrix");
        assert!(matches!(matrix, QueryError::NotVector(_)));
        assert!(parse_vector("<html>", "job").is_err());

        let settings = QuerySettings {
            url: "http://prom:9090/".to_owned(),
            ..QuerySettings::default()
        };
        let feed = QueryFeed::new(&settings);
        let urls = feed.instant_urls(100.0);
        assert_eq!(urls.len(), 6);
        assert!(urls[0].starts_with("http://prom:9090/api/v1/query?query=sum%20by%20%28job%29"));
        assert!(urls[2].contains("duration_seconds_sum"), "{}", urls[2]);
        assert!(urls[4].contains("quantile%280.95%2C"), "{}", urls[4]);
        assert!(urls[0].ends_with("&time=100.000"));
    }

    #[test]
    fn a_round_becomes_reported_statistics() {
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
}
