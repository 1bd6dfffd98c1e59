//! Bottleneck ranking: which modules cost the most time, by p95 and by share of the
//! total time spent (throughput × mean latency).

use serde::{Deserialize, Serialize};

use super::metrics::WindowStats;

/// One ranked module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bottleneck {
    /// Module name.
    pub module: String,
    /// 95th percentile latency, seconds.
    pub latency_p95: f64,
    /// Mean latency, seconds.
    pub latency_mean: f64,
    /// Throughput, requests per second.
    pub requests_per_second: f64,
    /// Seconds of request time per second of wall time (throughput × mean latency),
    /// i.e. the average number of requests in flight.
    pub time_spent_per_second: f64,
    /// This module's share of all modules' time spent, 0..1.
    pub time_share: f64,
    /// 1 for the slowest p95.
    pub rank_by_p95: usize,
    /// 1 for the largest share of time spent.
    pub rank_by_share: usize,
    /// Why it ranks where it does, in words.
    pub reason: String,
}

/// Ranks modules with latency data; returns the `top` by share of time spent.
pub fn rank<'a>(
    modules: impl IntoIterator<Item = (&'a str, &'a WindowStats)>,
    top: usize,
) -> Vec<Bottleneck> {
    let mut ranked: Vec<Bottleneck> = modules
        .into_iter()
        .filter(|(_, stats)| stats.latency_samples > 0)
        .map(|(module, stats)| Bottleneck {
            module: module.to_owned(),
            latency_p95: stats.percentiles.p95.value,
            latency_mean: stats.latency_mean,
            requests_per_second: stats.requests_per_second,
            time_spent_per_second: stats.requests_per_second * stats.latency_mean,
            time_share: 0.0,
            rank_by_p95: 0,
            rank_by_share: 0,
            reason: String::new(),
        })
        .collect();
    let total: f64 = ranked.iter().map(|b| b.time_spent_per_second).sum();
    ranked.sort_by(|a, b| {
        b.latency_p95
            .total_cmp(&a.latency_p95)
            .then_with(|| a.module.cmp(&b.module))
    });
    for (index, entry) in ranked.iter_mut().enumerate() {
        entry.rank_by_p95 = index + 1;
        entry.time_share = if total > 0.0 {
            entry.time_spent_per_second / total
        } else {
            0.0
        };
    }
    ranked.sort_by(|a, b| {
        b.time_spent_per_second
            .total_cmp(&a.time_spent_per_second)
            .then_with(|| a.rank_by_p95.cmp(&b.rank_by_p95))
    });
    let count = ranked.len();
    ranked.truncate(top);
    for (index, entry) in ranked.iter_mut().enumerate() {
        entry.rank_by_share = index + 1;
        entry.reason = format!(
            "{:.0} % of time spent ({:.1} req/s × {:.1} ms mean); p95 {:.1} ms, #{} of {} by p95",
            entry.time_share * 100.0,
            entry.requests_per_second,
            entry.latency_mean * 1e3,
            entry.latency_p95 * 1e3,
            entry.rank_by_p95,
            count
        );
    }
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(rps: f64, mean: f64, p95: f64) -> WindowStats {
        let mut stats = WindowStats::empty();
        stats.requests_per_second = rps;
        stats.latency_mean = mean;
        stats.percentiles.p95.value = p95;
        stats.latency_samples = 100;
        stats
    }

    #[test]
    fn share_and_p95_rank_independently() {
        let busy_fast = stats(1000.0, 0.01, 0.02);
        let idle_slow = stats(1.0, 0.5, 2.0);
        let ranked = rank([("busy", &busy_fast), ("slow", &idle_slow)], 10);
        assert_eq!(ranked[0].module, "busy");
        assert_eq!(ranked[0].rank_by_p95, 2);
        assert!((ranked[0].time_share - 10.0 / 10.5).abs() < 1e-12);
        assert_eq!(ranked[1].module, "slow");
        assert_eq!(ranked[1].rank_by_p95, 1);
        assert!(
            ranked[0].reason.contains("95 % of time spent"),
            "{}",
            ranked[0].reason
        );
    }
}
