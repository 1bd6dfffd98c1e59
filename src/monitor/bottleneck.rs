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

/// A module as ranked: what the orders compare, read from its statistics once.
#[derive(Clone, Copy)]
struct Row<'a> {
    spent: f64,
    name: &'a str,
    stats: &'a WindowStats,
}

/// `f64::total_cmp`'s order as an integer's, so that rows compare without branches.
fn order_key(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// Ranks modules with latency data; returns the `top` by share of time spent.
///
/// Ties (equal p95, or equal time spent and p95) go to the module given first; the
/// monitor gives them in name order, so its ties go by name.
pub fn rank<'a>(
    modules: impl IntoIterator<Item = (&'a str, &'a WindowStats)>,
    top: usize,
) -> Vec<Bottleneck> {
    let modules = modules.into_iter();
    let mut rows: Vec<Row<'a>> = Vec::with_capacity(modules.size_hint().0);
    // Each row's p95 as an order key, apart, so that counting rows ahead is one
    // plain pass over integers.
    let mut p95_keys: Vec<i64> = Vec::with_capacity(modules.size_hint().0);
    for (name, stats) in modules {
        if stats.latency_samples > 0 {
            rows.push(Row {
                spent: stats.requests_per_second * stats.latency_mean,
                name,
                stats,
            });
            p95_keys.push(order_key(stats.percentiles.p95.value));
        }
    }
    let total: f64 = rows.iter().map(|row| row.spent).sum();
    let count = rows.len();
    // The share order: more time spent first, then the p95 order (slower first, then
    // the row given first). Keys compare as tuples; a larger one ranks ahead.
    let share_key = |position: usize| {
        (
            order_key(rows[position].spent),
            p95_keys[position],
            std::cmp::Reverse(position),
        )
    };
    // The `top` positions by share, best first: most rows fall behind the last kept
    // one at a single comparison.
    let mut ranked = Vec::with_capacity(top.min(count) + 1);
    for position in 0..if top > 0 { count } else { 0 } {
        let key = share_key(position);
        if ranked.len() == top && ranked.last().is_some_and(|(last, _)| *last >= key) {
            continue;
        }
        let at = ranked.partition_point(|(kept, _)| *kept > key);
        ranked.insert(at, (key, position));
        ranked.truncate(top);
    }
    ranked
        .iter()
        .enumerate()
        .map(|(index, &(_, position))| {
            // One more than the rows ahead by p95: slower ones, and equal ones given
            // before it.
            let key = p95_keys[position];
            let before = p95_keys[..position].iter().filter(|&&k| k >= key).count();
            let after = p95_keys[position + 1..]
                .iter()
                .filter(|&&k| k > key)
                .count();
            let rank_by_p95 = 1 + before + after;
            let Row { spent, name, stats } = rows[position];
            let time_share = if total > 0.0 { spent / total } else { 0.0 };
            Bottleneck {
                module: name.to_owned(),
                latency_p95: stats.percentiles.p95.value,
                latency_mean: stats.latency_mean,
                requests_per_second: stats.requests_per_second,
                time_spent_per_second: spent,
                time_share,
                rank_by_p95,
                rank_by_share: index + 1,
                reason: format!(
                    "{:.0} % of time spent ({:.1} req/s × {} mean); p95 {}, #{} of {} by p95",
                    time_share * 100.0,
                    stats.requests_per_second,
                    seconds(stats.latency_mean),
                    seconds(stats.percentiles.p95.value),
                    rank_by_p95,
                    count
                ),
            }
        })
        .collect()
}

/// A latency in words: milliseconds below a second, seconds above.
fn seconds(value: f64) -> String {
    if value >= 1.0 {
        format!("{value:.2} s")
    } else {
        format!("{:.1} ms", value * 1e3)
    }
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

    /// The ranking by sorting every row twice, as it was first written: the oracle.
    fn rank_by_sorting(rows: &[(String, WindowStats)], top: usize) -> Vec<(String, usize)> {
        let spent = |stats: &WindowStats| stats.requests_per_second * stats.latency_mean;
        let mut rows: Vec<(&str, &WindowStats, usize)> = rows
            .iter()
            .filter(|(_, stats)| stats.latency_samples > 0)
            .map(|(name, stats)| (name.as_str(), stats, 0))
            .collect();
        rows.sort_by(|a, b| {
            let (pa, pb) = (a.1.percentiles.p95.value, b.1.percentiles.p95.value);
            pb.total_cmp(&pa).then_with(|| a.0.cmp(b.0))
        });
        for (index, row) in rows.iter_mut().enumerate() {
            row.2 = index + 1;
        }
        rows.sort_by(|a, b| spent(b.1).total_cmp(&spent(a.1)).then(a.2.cmp(&b.2)));
        rows.truncate(top);
        rows.iter()
            .map(|(name, _, p95)| ((*name).to_owned(), *p95))
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn ranks_match_sorting_every_row(
            modules in proptest::collection::vec((0u8..6, 0u8..6, 0u8..4, 0u64..3), 0..40),
            top in 0usize..12,
        ) {
            // Few distinct values, so that ties in p95 and in time spent are common.
            let rows: Vec<(String, WindowStats)> = modules
                .iter()
                .enumerate()
                .map(|(i, &(rps, mean, p95, samples))| {
                    let mut row = stats(f64::from(rps), f64::from(mean) * 0.1, f64::from(p95));
                    row.latency_samples = samples;
                    (format!("m{i:02}"), row)
                })
                .collect();
            let ranked = rank(rows.iter().map(|(name, stats)| (name.as_str(), stats)), top);
            let ranked: Vec<(String, usize)> =
                ranked.into_iter().map(|b| (b.module, b.rank_by_p95)).collect();
            proptest::prop_assert_eq!(ranked, rank_by_sorting(&rows, top));
        }
    }
}
