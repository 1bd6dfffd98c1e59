//! Per-module chart history: one point per tick (p50, p95, p99, throughput, error
//! rate, and whether an anomaly was raised), kept for a bounded number of ticks.

use std::collections::{HashMap, VecDeque};

use crate::monitor::alert::AlertSource;
use crate::monitor::{AlertEvent, PerformanceMonitor, Transition};

/// One tick of one module, as charts draw it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// Tick time, Unix seconds (simulated time when the simulator runs faster).
    pub t: f64,
    /// Median latency, seconds.
    pub p50: f32,
    /// 95th percentile latency, seconds.
    pub p95: f32,
    /// 99th percentile latency, seconds.
    pub p99: f32,
    /// Requests per second.
    pub rps: f32,
    /// Error rate, 0..1.
    pub error_rate: f32,
    /// An anomaly alert fired on this module at this tick.
    pub anomaly: bool,
}

/// Chart history of every module.
#[derive(Debug, Clone, Default)]
pub struct History {
    capacity: usize,
    modules: HashMap<String, VecDeque<Point>>,
}

impl History {
    /// History keeping the last `capacity` ticks of each module.
    pub fn new(capacity: usize) -> History {
        History {
            capacity: capacity.max(2),
            modules: HashMap::new(),
        }
    }

    /// Appends one point per module, as of the tick just closed at `t`, marking the
    /// modules where this tick's events fired an anomaly.
    pub fn record(&mut self, monitor: &PerformanceMonitor, t: f64, events: &[AlertEvent]) {
        // The modules whose anomaly fired this tick, found once (usually none) rather
        // than scanning every event for every module.
        let anomalous: Vec<&str> = events
            .iter()
            .filter(|e| {
                e.transition == Transition::Firing
                    && matches!(e.alert.source, AlertSource::Anomaly { .. })
            })
            .map(|e| e.alert.module.as_str())
            .collect();
        for module in monitor.modules() {
            let name = module.name();
            let stats = module.statistics();
            let anomaly = anomalous.contains(&name);
            let point = Point {
                t,
                p50: stats.percentiles.p50.value as f32,
                p95: stats.percentiles.p95.value as f32,
                p99: stats.percentiles.p99.value as f32,
                rps: stats.requests_per_second as f32,
                error_rate: stats.error_rate as f32,
                anomaly,
            };
            // Look up before inserting: a module name is cloned once, not every tick.
            let points = match self.modules.get_mut(name) {
                Some(points) => points,
                None => self
                    .modules
                    .entry(name.to_owned())
                    .or_insert_with(|| VecDeque::with_capacity(self.capacity)),
            };
            if points.len() == self.capacity {
                points.pop_front();
            }
            points.push_back(point);
        }
    }

    /// Puts `past` points (oldest first) before a module's own, keeping only those
    /// older than its first point and at most `capacity` in all: a source that can
    /// look back (a query API's range queries) fills the charts at start.
    pub fn backfill(&mut self, module: &str, past: &[Point]) {
        let capacity = self.capacity;
        let points = self
            .modules
            .entry(module.to_owned())
            .or_insert_with(|| VecDeque::with_capacity(capacity));
        let first = points.front().map_or(f64::INFINITY, |p| p.t);
        let room = capacity - points.len().min(capacity);
        let older: Vec<&Point> = past.iter().filter(|p| p.t < first).collect();
        for point in older.iter().rev().take(room) {
            points.push_front(**point);
        }
    }

    /// A module's points, oldest first.
    pub fn points(&self, module: &str) -> impl Iterator<Item = &Point> {
        self.modules.get(module).into_iter().flatten()
    }

    /// Every module's points from `since` on, as CSV (`timestamp,module,p50,p95,p99,
    /// requests_per_second,error_rate,anomaly`; seconds and ratios), sorted by module
    /// then time. Module names are quoted when they hold a comma, quote or newline.
    pub fn to_csv(&self, since: f64) -> String {
        let mut csv = String::from(
            "timestamp,module,latency_p50,latency_p95,latency_p99,requests_per_second,error_rate,anomaly\n",
        );
        for (name, points) in self.sorted() {
            let name = csv_field(name);
            for p in points.iter().filter(|p| p.t >= since) {
                csv.push_str(&format!(
                    "{},{name},{},{},{},{},{},{}\n",
                    p.t, p.p50, p.p95, p.p99, p.rps, p.error_rate, p.anomaly
                ));
            }
        }
        csv
    }

    /// The same range as JSON: `{"since", "modules": {name: [{timestamp, latency_p50,
    /// ...}]}}`.
    pub fn to_json(&self, since: f64) -> serde_json::Value {
        let modules: serde_json::Map<String, serde_json::Value> = self
            .sorted()
            .into_iter()
            .map(|(name, points)| {
                let rows: Vec<serde_json::Value> = points
                    .iter()
                    .filter(|p| p.t >= since)
                    .map(|p| {
                        serde_json::json!({
                            "timestamp": p.t, "latency_p50": p.p50, "latency_p95": p.p95,
                            "latency_p99": p.p99, "requests_per_second": p.rps,
                            "error_rate": p.error_rate, "anomaly": p.anomaly,
                        })
                    })
                    .collect();
                (name.to_owned(), serde_json::Value::Array(rows))
            })
            .collect();
        serde_json::json!({ "since": since, "modules": modules })
    }

    fn sorted(&self) -> Vec<(&str, &VecDeque<Point>)> {
        let mut modules: Vec<(&str, &VecDeque<Point>)> =
            self.modules.iter().map(|(n, p)| (n.as_str(), p)).collect();
        // Names are unique: the shared stable sort gives the same order.
        crate::sort::sort_by(&mut modules, |a, b| a.0.cmp(b.0));
        modules
    }

    /// The last `count` values of one series of a module, oldest first.
    pub fn tail(&self, module: &str, count: usize, series: impl Fn(&Point) -> f32) -> Vec<f32> {
        let Some(points) = self.modules.get(module) else {
            return Vec::new();
        };
        let skip = points.len().saturating_sub(count);
        points.iter().skip(skip).map(series).collect()
    }
}

/// A CSV field, quoted when it must be.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_per_module() {
        let mut monitor = PerformanceMonitor::default();
        let mut history = History::new(3);
        for k in 0..5 {
            let now = 100.0 + f64::from(k);
            monitor
                .record("db", 0.01 * f64::from(k + 1), true, now)
                .expect("valid");
            monitor.tick(now + 1.0);
            history.record(&monitor, now + 1.0, &[]);
        }
        let times: Vec<f64> = history.points("db").map(|p| p.t).collect();
        assert_eq!(times, vec![103.0, 104.0, 105.0]);
        assert_eq!(history.tail("db", 2, |p| p.rps).len(), 2);
        assert!(history.tail("nobody", 2, |p| p.rps).is_empty());
    }

    #[test]
    fn backfill_goes_before_and_stays_bounded() {
        let point = |t: f64| Point {
            t,
            ..Point::default()
        };
        let mut history = History::new(4);
        history.backfill("api", &[point(1.0), point(2.0)]);
        let mut monitor = PerformanceMonitor::default();
        monitor.record("api", 0.1, true, 9.5).expect("valid");
        monitor.tick(10.0);
        history.record(&monitor, 10.0, &[]);
        history.backfill("api", &[point(5.0), point(6.0), point(7.0), point(12.0)]);
        let times: Vec<f64> = history.points("api").map(|p| p.t).collect();
        assert_eq!(times, vec![1.0, 2.0, 10.0]);
        let mut fresh = History::new(3);
        fresh.backfill("db", &[point(1.0), point(2.0), point(3.0), point(4.0)]);
        let times: Vec<f64> = fresh.points("db").map(|p| p.t).collect();
        assert_eq!(times, vec![2.0, 3.0, 4.0]);
    }

    #[test]
    fn a_range_exports_as_csv_and_json() {
        let mut monitor = PerformanceMonitor::default();
        let mut history = History::new(10);
        for k in 0..4 {
            let now = 100.0 + f64::from(k);
            monitor.record("db", 0.02, k != 2, now).expect("valid");
            monitor.record("a,b", 0.01, true, now).expect("valid");
            monitor.tick(now + 1.0);
            history.record(&monitor, now + 1.0, &[]);
        }
        let csv = history.to_csv(103.0);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(lines[0].starts_with("timestamp,module,latency_p50"));
        assert_eq!(
            lines.len(),
            1 + 2 * 2,
            "two ticks from 103 on, two modules: {csv}"
        );
        assert!(
            lines[1].starts_with("103,\"a,b\","),
            "quoted name: {}",
            lines[1]
        );
        let json = history.to_json(103.0);
        assert_eq!(json["modules"]["db"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["modules"]["db"][0]["timestamp"], 103.0);
    }
}
