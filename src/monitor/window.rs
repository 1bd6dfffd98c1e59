//! One module's sliding window: a ring of closed ticks plus the open one, yielding
//! latency percentiles, mean, max, throughput and error rate.

use std::collections::VecDeque;

use super::metrics::{Percentile, PercentileMethod, PercentileSet, WindowStats, is_low_confidence};
use super::sketch::{QUANTILES, QuantileEstimates, SketchLayout, TickLog, TickMark, WindowSketch};

/// What one closed tick contributed, kept until it leaves the window (40 bytes).
#[derive(Debug, Clone, Copy, Default)]
struct TickSummary {
    requests: u32,
    errors: u32,
    latency_count: u32,
    latency_max_seconds: f64,
    /// Latency sum in nanoseconds: integers add and subtract without drift.
    latency_sum_nanos: u64,
    /// Where this tick's sketch bins sit in the module's byte ring.
    bins: TickMark,
}

/// The open tick's counters that every record touches. With the sketch's own open-tick
/// fields right after them (see `ModuleWindow`), they fill one cache line, so a record
/// for a module that is not in cache costs one miss here and one in the sketch's bins.
#[derive(Debug, Clone, Copy, Default)]
struct OpenTick {
    /// Failed requests recorded one at a time (per-tick counts saturate at u32, as in
    /// `TickSummary`). Requests themselves are the sketch's samples.
    errors: u32,
    latency_sum_nanos: u64,
    latency_max_seconds: f64,
    /// Time of the latest record, Unix seconds; kept when the tick closes.
    last_update: f64,
}

/// What the open tick received other than single requests: counter and histogram samples.
#[derive(Debug, Clone, Copy, Default)]
struct OpenCounts {
    requests: u64,
    errors: u64,
    latency_count: u64,
}

/// Bucket counts of a histogram-fed module.
#[derive(Debug, Clone)]
struct BucketWindow {
    /// Upper bounds in seconds, ascending, the last one `+Inf`.
    upper_bounds_seconds: Box<[f64]>,
    window: Vec<u64>,
    open: Vec<u64>,
    /// Increases of the most recent closed ticks, oldest first (at most the window).
    ticks: VecDeque<Box<[u64]>>,
}

/// Why a histogram sample was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BucketError {
    /// Bounds and counts differ in length.
    #[error("histogram has {bounds} bucket bounds but {counts} counts; send one count per bound")]
    LengthMismatch {
        /// Number of bounds sent.
        bounds: usize,
        /// Number of counts sent.
        counts: usize,
    },
    /// Bounds are not strictly ascending or contain NaN.
    #[error("histogram bucket bounds must be strictly ascending numbers ending in +Inf")]
    BadBounds,
}

/// A module's window state.
///
/// `repr(C, align(64))`: the open tick's counters, then the sketch (whose open-tick
/// fields come first), so everything `add_request` touches is in the first cache line.
#[derive(Debug, Clone, Default)]
#[repr(C, align(64))]
pub struct ModuleWindow {
    open: OpenTick,
    sketch: WindowSketch,
    counted: OpenCounts,
    ticks: VecDeque<TickSummary>,
    /// Encoded sketch bins of the closed ticks, oldest first.
    bin_bytes: TickLog,
    buckets: Option<Box<BucketWindow>>,
    first_tick: Option<i64>,
    /// Requests and errors of the closed ticks since the module was first seen.
    total_requests: u64,
    total_errors: u64,
    /// Running sums over `ticks`.
    sum: WindowSums,
    /// The most recently closed tick on its own, for detectors that judge each tick.
    last_tick: TickStats,
}

/// One closed tick's own statistics (not the window's).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TickStats {
    /// Requests in the tick.
    pub requests: u64,
    /// Errors in the tick.
    pub errors: u64,
    /// Latency samples in the tick.
    pub latency_samples: u64,
    /// Mean latency of the tick, seconds.
    pub latency_mean: f64,
    /// The tick's own p50, p95, p99 and p999 (sketch samples only).
    pub quantiles: QuantileEstimates,
}

/// One closed tick of one module as stored history keeps it: its counts, sums and
/// sketch bins, enough to replay it into a window or merge it with others.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClosedTick {
    /// Requests in the tick.
    pub requests: u32,
    /// Errors in the tick.
    pub errors: u32,
    /// Latency samples in the tick (bins, zeros, and histogram-fed ones).
    pub latency_count: u32,
    /// Largest latency, seconds.
    pub latency_max_seconds: f64,
    /// Latency sum, nanoseconds.
    pub latency_sum_nanos: u64,
    /// Zero-latency samples.
    pub zeros: u32,
    /// The bins' encoding (see [`super::sketch::encode_bins`]) and its width.
    pub bins: Vec<u8>,
    /// Width of the bins' encoding (0: sparse pairs; 1 to 32: a bit-packed run;
    /// [`super::sketch::RICE_WIDTH`]: Rice-coded, as stored history may hold them).
    pub width: u8,
}

#[derive(Debug, Clone, Copy, Default)]
struct WindowSums {
    requests: u64,
    errors: u64,
    latency_count: u64,
    latency_sum_nanos: u64,
    /// Largest latency in the window; rescanned only when the tick holding it leaves.
    latency_max_seconds: f64,
}

impl ModuleWindow {
    /// Records one finished request with its latency (validated finite and >= 0) at `now`.
    #[inline]
    pub fn add_request(&mut self, layout: &SketchLayout, latency_seconds: f64, ok: bool, now: f64) {
        let key = layout.bin_key(latency_seconds);
        self.add_request_in_bin(layout, key, latency_seconds, ok, now);
    }

    /// `add_request` with the latency's bin (`SketchLayout::bin_key`) already found.
    #[inline]
    pub(crate) fn add_request_in_bin(
        &mut self,
        layout: &SketchLayout,
        key: Option<i32>,
        latency_seconds: f64,
        ok: bool,
        now: f64,
    ) {
        self.sketch.add_bin(layout, key, 1);
        let open = &mut self.open;
        open.errors = open.errors.saturating_add(u32::from(!ok));
        open.latency_sum_nanos = open
            .latency_sum_nanos
            .saturating_add(to_nanos(latency_seconds));
        if latency_seconds > open.latency_max_seconds {
            open.latency_max_seconds = latency_seconds;
        }
        if now > open.last_update {
            open.last_update = now;
        }
    }

    /// See [`WindowSketch::open_bin`].
    #[inline]
    pub(crate) fn open_bin(&self, key: i32) -> Option<&u32> {
        self.sketch.open_bin(key)
    }

    /// Notes data arriving at `now` (records note it themselves).
    pub fn note_update(&mut self, now: f64) {
        self.open.last_update = self.open.last_update.max(now);
    }

    /// Time of the latest data (Unix seconds), 0 before any.
    pub fn last_update(&self) -> f64 {
        self.open.last_update
    }

    /// Records requests and errors that carry no latency (counter increases).
    pub fn add_counts(&mut self, requests: u64, errors: u64) {
        let errors = errors.min(requests);
        self.counted.requests = self.counted.requests.saturating_add(requests);
        self.counted.errors = self.counted.errors.saturating_add(errors);
    }

    /// Records a histogram's bucket increases (non-cumulative, one per upper bound,
    /// the last bound `+Inf`) and the increase of its sum.
    pub fn add_buckets(
        &mut self,
        upper_bounds_seconds: &[f64],
        increases: &[u64],
        sum_increase_seconds: f64,
    ) -> Result<(), BucketError> {
        if upper_bounds_seconds.len() != increases.len() {
            return Err(BucketError::LengthMismatch {
                bounds: upper_bounds_seconds.len(),
                counts: increases.len(),
            });
        }
        let ascending = upper_bounds_seconds
            .windows(2)
            .all(|pair| pair[0] < pair[1]);
        let ends_in_inf = upper_bounds_seconds.last() == Some(&f64::INFINITY);
        if !ascending || !ends_in_inf || upper_bounds_seconds.iter().any(|b| b.is_nan()) {
            return Err(BucketError::BadBounds);
        }
        let same_layout = self
            .buckets
            .as_ref()
            .is_some_and(|b| *b.upper_bounds_seconds == *upper_bounds_seconds);
        if !same_layout {
            // A new layout cannot be merged with the old one: start its window afresh.
            self.buckets = Some(Box::new(BucketWindow {
                upper_bounds_seconds: upper_bounds_seconds.into(),
                window: vec![0; increases.len()],
                open: vec![0; increases.len()],
                ticks: VecDeque::new(),
            }));
        }
        if let Some(buckets) = self.buckets.as_mut() {
            for (slot, increase) in buckets.open.iter_mut().zip(increases) {
                *slot = slot.saturating_add(*increase);
            }
        }
        let count: u64 = increases.iter().fold(0u64, |acc, c| acc.saturating_add(*c));
        self.counted.latency_count = self.counted.latency_count.saturating_add(count);
        if sum_increase_seconds.is_finite() && sum_increase_seconds >= 0.0 {
            self.open.latency_sum_nanos = self
                .open
                .latency_sum_nanos
                .saturating_add(to_nanos(sum_increase_seconds));
        }
        if let Some(highest) = increases.iter().rposition(|c| *c > 0) {
            let bound = upper_bounds_seconds[highest];
            let max = if bound.is_finite() {
                bound
            } else {
                highest
                    .checked_sub(1)
                    .map_or(0.0, |below| upper_bounds_seconds[below])
            };
            self.open.latency_max_seconds = self.open.latency_max_seconds.max(max);
        }
        Ok(())
    }

    /// Notes that the module exists as of `tick` (its first sighting starts the rate clock).
    pub fn touch(&mut self, tick: i64) {
        self.first_tick.get_or_insert(tick);
    }

    /// Closes `count` ticks: the open one, then `count - 1` empty ones (a caller that
    /// skipped ticks). Ticks older than `window_ticks` leave the window. The closed
    /// tick's own quantiles are sought only when it has `min_samples` samples.
    pub fn close_ticks(
        &mut self,
        layout: &SketchLayout,
        count: u64,
        window_ticks: usize,
        min_samples: u64,
    ) {
        if count == 0 {
            return;
        }
        let last_update = self.open.last_update;
        let open = std::mem::replace(
            &mut self.open,
            OpenTick {
                last_update,
                ..OpenTick::default()
            },
        );
        let counted = std::mem::take(&mut self.counted);
        let (bins, quantiles) =
            self.sketch
                .close_tick_into(layout, &mut self.bin_bytes, min_samples);
        let requests = quantiles.samples.saturating_add(counted.requests);
        let errors = u64::from(open.errors).saturating_add(counted.errors);
        let latency_count = quantiles.samples.saturating_add(counted.latency_count);
        self.total_requests = self.total_requests.saturating_add(requests);
        self.total_errors = self.total_errors.saturating_add(errors);
        self.last_tick = if count == 1 {
            TickStats {
                requests,
                errors,
                latency_samples: latency_count,
                latency_mean: if latency_count > 0 {
                    open.latency_sum_nanos as f64 * 1e-9 / latency_count as f64
                } else {
                    0.0
                },
                quantiles,
            }
        } else {
            // The caller skipped ticks: the last closed one was empty.
            TickStats::default()
        };
        let closed = TickSummary {
            requests: saturate_u32(requests),
            errors: saturate_u32(errors),
            latency_count: saturate_u32(latency_count),
            latency_max_seconds: open.latency_max_seconds,
            latency_sum_nanos: open.latency_sum_nanos,
            bins,
        };
        if let Some(buckets) = self.buckets.as_mut() {
            let fresh = vec![0; buckets.upper_bounds_seconds.len()];
            let increases = std::mem::replace(&mut buckets.open, fresh).into_boxed_slice();
            for (slot, increase) in buckets.window.iter_mut().zip(increases.iter()) {
                *slot = slot.saturating_add(*increase);
            }
            buckets.ticks.push_back(increases);
        }
        self.push(closed, window_ticks);
        let empties = (count - 1).min(window_ticks as u64);
        for _ in 0..empties {
            self.push(TickSummary::default(), window_ticks);
        }
    }

    fn push(&mut self, tick: TickSummary, window_ticks: usize) {
        self.sum.requests += u64::from(tick.requests);
        self.sum.errors += u64::from(tick.errors);
        self.sum.latency_count += u64::from(tick.latency_count);
        self.sum.latency_sum_nanos = self
            .sum
            .latency_sum_nanos
            .saturating_add(tick.latency_sum_nanos);
        self.sum.latency_max_seconds = self.sum.latency_max_seconds.max(tick.latency_max_seconds);
        if self.ticks.capacity() == 0 {
            // The ring's size is known: no doubling past it.
            self.ticks.reserve_exact(window_ticks + 1);
        }
        self.ticks.push_back(tick);
        let mut max_left = false;
        while self.ticks.len() > window_ticks {
            if let Some(old) = self.ticks.pop_front() {
                self.sum.requests -= u64::from(old.requests);
                self.sum.errors -= u64::from(old.errors);
                self.sum.latency_count -= u64::from(old.latency_count);
                self.sum.latency_sum_nanos = self
                    .sum
                    .latency_sum_nanos
                    .saturating_sub(old.latency_sum_nanos);
                max_left |= old.latency_max_seconds >= self.sum.latency_max_seconds;
                self.sketch.expire_from(&mut self.bin_bytes, old.bins);
            }
        }
        if max_left {
            self.sum.latency_max_seconds = self
                .ticks
                .iter()
                .map(|t| t.latency_max_seconds)
                .fold(0.0, f64::max);
        }
        if let Some(buckets) = self.buckets.as_mut() {
            while buckets.ticks.len() > window_ticks {
                if let Some(increases) = buckets.ticks.pop_front() {
                    for (slot, increase) in buckets.window.iter_mut().zip(increases.iter()) {
                        *slot = slot.saturating_sub(*increase);
                    }
                }
            }
        }
    }

    /// See [`WindowSketch::preload_close`]: loads what the next close reads first.
    pub(crate) fn preload_close(&self) -> u32 {
        let front = self.ticks.front().map_or(0, |tick| tick.requests);
        self.sketch.preload_close(&self.bin_bytes) ^ front
    }

    /// Statistics over the closed ticks, as of closed tick `last_tick`.
    pub fn stats(
        &mut self,
        layout: &SketchLayout,
        min_samples: u64,
        tick_seconds: f64,
        window_ticks: usize,
        last_tick: i64,
    ) -> WindowStats {
        let WindowSums {
            requests,
            errors,
            latency_count,
            latency_sum_nanos,
            latency_max_seconds: latency_max,
        } = self.sum;
        let latency_sum = latency_sum_nanos as f64 * 1e-9;
        let covered_ticks = match self.first_tick {
            Some(first) if last_tick >= first => {
                ((last_tick - first + 1) as usize).min(window_ticks)
            }
            _ => 0,
        };
        let covered_seconds = covered_ticks as f64 * tick_seconds;
        let percentiles = if self.sketch.window_count() > 0 || self.buckets.is_none() {
            self.sketch_percentiles(layout, min_samples, latency_max)
        } else {
            self.bucket_percentiles(min_samples)
        };
        WindowStats {
            latency_mean: if latency_count > 0 {
                latency_sum / latency_count as f64
            } else {
                0.0
            },
            latency_max,
            percentiles,
            requests_per_second: if covered_seconds > 0.0 {
                requests as f64 / covered_seconds
            } else {
                0.0
            },
            error_rate: if requests > 0 {
                errors as f64 / requests as f64
            } else {
                0.0
            },
            window_requests: requests,
            window_errors: errors,
            latency_samples: latency_count,
            covered_seconds,
            rate_settled: covered_ticks >= window_ticks
                || covered_seconds >= super::metrics::RATE_SETTLE_SECONDS,
            total_requests: self.total_requests,
            total_errors: self.total_errors,
        }
    }

    fn sketch_percentiles(
        &mut self,
        layout: &SketchLayout,
        min_samples: u64,
        max: f64,
    ) -> PercentileSet {
        let estimates = self.sketch.quantiles_tracked(layout, max);
        let [p50, p95, p99, p999] = std::array::from_fn(|i| Percentile {
            value: estimates.values[i].unwrap_or(0.0),
            samples: estimates.samples,
            method: PercentileMethod::Sketch,
            relative_error: Some(layout.relative_error()),
            bucket_lower: None,
            bucket_upper: None,
            low_confidence: estimates.collapsed
                || is_low_confidence(QUANTILES[i], estimates.samples, min_samples),
        });
        PercentileSet {
            p50,
            p95,
            p99,
            p999,
        }
    }

    fn bucket_percentiles(&self, min_samples: u64) -> PercentileSet {
        let Some(buckets) = self.buckets.as_ref() else {
            return PercentileSet::empty(PercentileMethod::Buckets);
        };
        let total: u64 = buckets.window.iter().sum();
        let [p50, p95, p99, p999] =
            std::array::from_fn(|i| bucket_quantile(buckets, QUANTILES[i], total, min_samples));
        PercentileSet {
            p50,
            p95,
            p99,
            p999,
        }
    }

    /// The most recently closed tick on its own.
    pub fn last_tick(&self) -> &TickStats {
        &self.last_tick
    }

    /// The most recently closed tick as history stores it, if any tick closed.
    pub fn last_closed(&self) -> Option<ClosedTick> {
        let last = self.ticks.back()?;
        Some(ClosedTick {
            requests: last.requests,
            errors: last.errors,
            latency_count: last.latency_count,
            latency_max_seconds: last.latency_max_seconds,
            latency_sum_nanos: last.latency_sum_nanos,
            zeros: last.bins.zeros,
            bins: self.bin_bytes.newest(last.bins.bytes as usize),
            width: last.bins.width,
        })
    }

    /// The open tick so far, in the stored form (to carry it into another window).
    pub fn open_tick(&self) -> ClosedTick {
        let (first_key, bins, zeros) = self.sketch.open_bins();
        let mut encoded = Vec::new();
        let width = super::sketch::encode_bins(bins, first_key, &mut encoded);
        let sampled = self.sketch.open_count();
        ClosedTick {
            requests: saturate_u32(sampled.saturating_add(self.counted.requests)),
            errors: saturate_u32(u64::from(self.open.errors).saturating_add(self.counted.errors)),
            latency_count: saturate_u32(sampled.saturating_add(self.counted.latency_count)),
            latency_max_seconds: self.open.latency_max_seconds,
            latency_sum_nanos: self.open.latency_sum_nanos,
            zeros,
            bins: encoded,
            width,
        }
    }

    /// Adds a stored tick to the open tick, as if its requests had been recorded one
    /// by one. Returns false (having added what decoded) for bins that do not decode.
    pub fn add_closed(&mut self, layout: &SketchLayout, tick: &ClosedTick) -> bool {
        let mut binned = u64::from(tick.zeros);
        self.sketch.add_bin(layout, None, tick.zeros);
        let decoded = super::sketch::decode_bins(&tick.bins, tick.width, |key, count| {
            binned += u64::from(count);
            self.sketch.add_bin(layout, Some(key), count);
        });
        let open = &mut self.open;
        open.errors = open.errors.saturating_add(tick.errors);
        open.latency_sum_nanos = open
            .latency_sum_nanos
            .saturating_add(tick.latency_sum_nanos);
        open.latency_max_seconds = open.latency_max_seconds.max(tick.latency_max_seconds);
        // What the sketch did not take came as counters or histogram buckets.
        self.counted.requests = self
            .counted
            .requests
            .saturating_add(u64::from(tick.requests).saturating_sub(binned));
        self.counted.latency_count = self
            .counted
            .latency_count
            .saturating_add(u64::from(tick.latency_count).saturating_sub(binned));
        decoded
    }

    /// Requests since the module was first seen, the open tick's included.
    pub fn total_requests(&self) -> u64 {
        self.totals_with(0, 0).0
    }

    /// `total_requests` and `total_errors` once `requests` more single records,
    /// `errors` of them failed, are in the open tick (saturating as they would).
    pub(crate) fn totals_with(&self, requests: u32, errors: u32) -> (u64, u64) {
        let sampled = u32::try_from(self.sketch.open_count()).unwrap_or(u32::MAX);
        let sampled = u64::from(sampled.saturating_add(requests));
        let failed = u64::from(self.open.errors.saturating_add(errors));
        (
            self.total_requests
                .saturating_add(sampled)
                .saturating_add(self.counted.requests),
            self.total_errors
                .saturating_add(failed)
                .saturating_add(self.counted.errors),
        )
    }

    /// Errors since the module was first seen, the open tick's included.
    pub fn total_errors(&self) -> u64 {
        self.totals_with(0, 0).1
    }

    /// Requests and errors per closed tick (oldest first), for charts.
    pub fn tick_request_counts(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.ticks
            .iter()
            .map(|t| (u64::from(t.requests), u64::from(t.errors)))
    }

    /// Heap bytes held by this window, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        let ring = self.ticks.capacity() * std::mem::size_of::<TickSummary>();
        let buckets = self.buckets.as_ref().map_or(0, |b| {
            let width = b.upper_bounds_seconds.len();
            std::mem::size_of::<BucketWindow>()
                + (width + b.window.capacity() + b.open.capacity()) * 8
                + b.ticks.capacity() * 16
                + b.ticks.len() * width * 8
        });
        ring + self.bin_bytes.heap_bytes() + self.sketch.heap_bytes() + buckets
    }
}

/// Seconds to whole nanoseconds, saturating (latencies are validated finite and >= 0).
fn to_nanos(seconds: f64) -> u64 {
    (seconds * 1e9).round() as u64
}

fn saturate_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Finds the bucket holding quantile `q`, and interpolates inside it as
/// Prometheus's `histogram_quantile` does, keeping the bounds as evidence.
fn bucket_quantile(buckets: &BucketWindow, q: f64, total: u64, min_samples: u64) -> Percentile {
    let mut percentile = Percentile::empty(PercentileMethod::Buckets);
    percentile.samples = total;
    if total == 0 {
        return percentile;
    }
    let rank = q * total as f64;
    let mut below = 0u64;
    for (index, &count) in buckets.window.iter().enumerate() {
        if count == 0 || ((below + count) as f64) < rank {
            below += count;
            continue;
        }
        let lower = if index == 0 {
            0.0
        } else {
            buckets.upper_bounds_seconds[index - 1]
        };
        let upper = buckets.upper_bounds_seconds[index];
        percentile.value = if upper.is_finite() {
            lower + (upper - lower) * ((rank - below as f64) / count as f64).clamp(0.0, 1.0)
        } else {
            lower
        };
        percentile.bucket_lower = Some(lower);
        percentile.bucket_upper = upper.is_finite().then_some(upper);
        break;
    }
    percentile.low_confidence = is_low_confidence(q, total, min_samples);
    percentile
}

#[cfg(test)]
mod tests {
    use super::*;

    const TICK: f64 = 1.0;

    fn layout() -> SketchLayout {
        SketchLayout::new(0.01, 2048)
    }

    #[test]
    fn a_record_touches_one_cache_line_of_the_window() {
        assert_eq!(std::mem::align_of::<ModuleWindow>(), 64);
        let hot = std::mem::offset_of!(ModuleWindow, sketch) + WindowSketch::OPEN_TICK_BYTES;
        assert!(hot <= 64, "{hot} bytes");
    }

    #[test]
    fn rates_cover_only_the_seconds_seen() {
        let layout = layout();
        let mut window = ModuleWindow::default();
        window.touch(0);
        for _ in 0..50 {
            window.add_request(&layout, 0.1, true, 0.5);
        }
        window.close_ticks(&layout, 1, 60, 0);
        let stats = window.stats(&layout, 10, TICK, 60, 0);
        assert_eq!(stats.requests_per_second, 50.0);
        assert_eq!(stats.covered_seconds, 1.0);
    }

    #[test]
    fn rates_settle_after_ten_seconds_or_a_full_window() {
        let layout = layout();
        let mut window = ModuleWindow::default();
        window.touch(0);
        for tick in 0..12 {
            window.add_counts(30, 0);
            window.close_ticks(&layout, 1, 60, 0);
            let stats = window.stats(&layout, 10, TICK, 60, tick);
            assert_eq!(stats.rate_settled, tick >= 9, "tick {tick}");
        }
        let short = window.stats(&layout, 10, TICK, 5, 11);
        assert!(short.rate_settled, "a 5 s window settles when full");
    }

    #[test]
    fn bucket_percentile_reports_its_bounds() {
        let layout = layout();
        let mut window = ModuleWindow::default();
        window.touch(0);
        let bounds = [0.1, 0.25, 0.5, 1.0, f64::INFINITY];
        window
            .add_buckets(&bounds, &[50, 40, 8, 2, 0], 15.0)
            .expect("valid histogram");
        window.close_ticks(&layout, 1, 60, 0);
        let stats = window.stats(&layout, 10, TICK, 60, 0);
        let p95 = stats.percentiles.p95;
        assert_eq!(p95.method, PercentileMethod::Buckets);
        assert_eq!(
            (p95.bucket_lower, p95.bucket_upper),
            (Some(0.25), Some(0.5))
        );
        assert!((p95.value - (0.25 + 0.25 * 5.0 / 8.0)).abs() < 1e-12);
        assert!((stats.latency_mean - 0.15).abs() < 1e-12);
    }

    #[test]
    fn bad_histograms_are_refused() {
        let mut window = ModuleWindow::default();
        assert!(matches!(
            window.add_buckets(&[0.1, f64::INFINITY], &[1], 0.0),
            Err(BucketError::LengthMismatch { .. })
        ));
        assert_eq!(
            window.add_buckets(&[0.5, 0.1, f64::INFINITY], &[1, 1, 1], 0.0),
            Err(BucketError::BadBounds)
        );
        assert_eq!(
            window.add_buckets(&[0.1, 0.5], &[1, 1], 0.0),
            Err(BucketError::BadBounds)
        );
    }
}
