//! A sliding-window latency sketch: DDSketch's logarithmic bins, kept as one live
//! window of counts plus a compact delta per tick, so that a tick expires by subtraction.
//!
//! The bin mapping and its relative-error guarantee are `sketches-ddsketch`'s own
//! (`Config::key` / `Config::value`); quantiles use the same rank rule as
//! `DDSketch::quantile`, and [`WindowSketch::to_ddsketch`] yields a real, mergeable
//! `DDSketch` of the window. What is ours is the windowing: DDSketch cannot subtract,
//! and merging 60 per-tick sketches on every read costs too much time and memory
//! (ARCHITECTURE.md, "The latency sketch", has the measurements).

use std::collections::VecDeque;

use sketches_ddsketch::{Config as DdConfig, DDSketch};

/// Values at or below this (seconds) count as zero latency, as in DDSketch.
const MIN_VALUE_SECONDS: f64 = 1.0e-9;

/// The quantiles every window reports, in ascending order.
pub const QUANTILES: [f64; 4] = [0.50, 0.95, 0.99, 0.999];

/// Bin layout shared by every sketch of one monitor.
#[derive(Debug, Clone)]
pub struct SketchLayout {
    mapping: DdConfig,
    relative_error: f64,
    max_bins: usize,
}

impl SketchLayout {
    /// `relative_error` must be in (0, 1); `max_bins` bounds each window's dense array.
    pub fn new(relative_error: f64, max_bins: usize) -> Self {
        let max_bins = max_bins.max(16);
        Self {
            mapping: DdConfig::new(relative_error, max_bins as u32, MIN_VALUE_SECONDS),
            relative_error,
            max_bins,
        }
    }

    /// The guaranteed relative error of every reported quantile (unless collapsed).
    pub fn relative_error(&self) -> f64 {
        self.relative_error
    }

    fn key(&self, latency_seconds: f64) -> i32 {
        self.mapping.key(latency_seconds)
    }

    fn value(&self, key: i32) -> f64 {
        self.mapping.value(key)
    }
}

/// Quantile estimates of one window, with the facts needed to judge them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QuantileEstimates {
    /// Estimates for [`QUANTILES`], in seconds; `None` when the window is empty.
    pub values: [Option<f64>; 4],
    /// Number of latency samples in the window.
    pub samples: u64,
    /// True when bins were collapsed to respect `max_bins`: low quantiles may then
    /// exceed the stated relative error.
    pub collapsed: bool,
}

/// One module's (or one distribution's) latency window.
#[derive(Debug, Clone, Default)]
pub struct WindowSketch {
    /// First key held by `window` and `open`.
    key_offset: i32,
    /// Counts of every closed tick in the window, by key.
    window: Vec<u32>,
    /// Counts of the open tick, by key; same layout as `window`.
    open: Vec<u32>,
    /// Index range of `open` that was touched this tick (inclusive), if any.
    open_touched: Option<(usize, usize)>,
    /// One bit per bin of `open`, set when the bin is non-zero: closing a tick visits
    /// only those bins, with no branch per empty bin.
    open_bits: Vec<u64>,
    open_zeros: u32,
    /// Samples in the open tick, zeros included.
    open_total: u64,
    window_zeros: u64,
    window_total: u64,
    collapsed: bool,
}

/// Where a closed tick's encoding sits in a module's byte ring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickMark {
    /// Encoded bytes of the tick.
    pub bytes: u32,
    /// Zero-latency samples of the tick.
    pub zeros: u32,
}

/// The encoded closed ticks of one window, oldest first: a byte ring appended at the
/// back and consumed from the front, grown to fit (never doubled), never compacted.
///
/// Each tick is kept only to subtract it when it leaves the window. Encoding: per
/// non-empty bin, a LEB128 varint of `(zigzag(key - previous_key) << 1) | has_count`,
/// then a varint count when `has_count` (a count of one, the common case, costs nothing).
#[derive(Debug, Clone, Default)]
pub struct TickLog {
    bytes: VecDeque<u8>,
}

impl TickLog {
    /// Makes room for `additional` bytes, growing to fit: at steady state the live
    /// length holds still and the space freed at the front is reused.
    fn reserve(&mut self, additional: usize) {
        if self.bytes.capacity() - self.bytes.len() < additional {
            self.bytes.reserve_exact(additional + self.bytes.len() / 8);
        }
    }

    fn append(&mut self, encoded: &[u8]) {
        self.bytes.extend(encoded);
    }

    /// Removes the oldest `count` bytes, handing them to `read` as one slice.
    fn consume(&mut self, count: usize, read: impl FnOnce(&[u8])) {
        let count = count.min(self.bytes.len());
        let (front, back) = self.bytes.as_slices();
        if count <= front.len() {
            read(&front[..count]);
        } else {
            // The tick wraps around the ring's end: join its two halves.
            let mut joined = Vec::with_capacity(count);
            joined.extend_from_slice(front);
            joined.extend_from_slice(&back[..count - front.len()]);
            read(&joined);
        }
        self.bytes.drain(..count);
        if self.bytes.is_empty() && self.bytes.capacity() > 1024 {
            self.bytes.shrink_to(256);
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }
}

/// Where a tick's quantile ranks fall, found while its bins are walked in key order.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RankKey {
    Unset,
    Zero,
    Bin(i32),
}

struct RankWalk {
    ranks: [u64; 4],
    seen: u64,
    next: usize,
    keys: [RankKey; 4],
}

impl RankWalk {
    fn new(samples: u64, zeros: u64) -> Self {
        let mut walk = RankWalk {
            ranks: QUANTILES.map(|q| (q * samples.saturating_sub(1) as f64) as u64),
            seen: zeros,
            next: 0,
            keys: [RankKey::Unset; 4],
        };
        if samples == 0 {
            walk.next = QUANTILES.len();
        }
        while walk.next < QUANTILES.len() && walk.ranks[walk.next] < zeros {
            walk.keys[walk.next] = RankKey::Zero;
            walk.next += 1;
        }
        walk
    }

    #[inline]
    fn add(&mut self, key: i32, count: u32) {
        self.seen += u64::from(count);
        while self.next < QUANTILES.len() && self.ranks[self.next] < self.seen {
            self.keys[self.next] = RankKey::Bin(key);
            self.next += 1;
        }
    }
}

/// Decodes (key, count) pairs, in ascending key order (the reference for the fast path).
#[cfg(test)]
fn decode_pairs(bytes: impl Iterator<Item = u8>) -> impl Iterator<Item = (i32, u32)> {
    let mut bytes = bytes;
    let mut key = 0i64;
    std::iter::from_fn(move || {
        let head = read_varint(&mut bytes)?;
        key += unzigzag(head >> 1);
        let count = if head & 1 == 1 {
            read_varint(&mut bytes)? as u32
        } else {
            1
        };
        Some((key as i32, count))
    })
}

impl WindowSketch {
    /// Adds one latency sample to the open tick.
    #[inline]
    pub fn add(&mut self, layout: &SketchLayout, latency_seconds: f64) {
        self.add_n(layout, latency_seconds, 1);
    }

    /// Adds `count` samples of one latency to the open tick.
    #[inline]
    pub fn add_n(&mut self, layout: &SketchLayout, latency_seconds: f64, count: u32) {
        if count == 0 {
            return;
        }
        self.open_total += u64::from(count);
        if latency_seconds <= MIN_VALUE_SECONDS {
            self.open_zeros = self.open_zeros.saturating_add(count);
            return;
        }
        let index = self.index_for(layout, layout.key(latency_seconds));
        let slot = &mut self.open[index];
        *slot = slot.saturating_add(count);
        if let Some(word) = self.open_bits.get_mut(index >> 6) {
            *word |= 1 << (index & 63);
        }
        self.open_touched = Some(match self.open_touched {
            None => (index, index),
            Some((lo, hi)) => (lo.min(index), hi.max(index)),
        });
    }

    /// Moves the open tick into the window, appending its encoding to `log` (one log
    /// per module saves an allocation per tick); the mark says how much.
    ///
    /// Also returns the closing tick's own quantiles (for detectors that judge each
    /// tick), found during the same walk over its bins.
    pub fn close_tick_into(
        &mut self,
        layout: &SketchLayout,
        log: &mut TickLog,
    ) -> (TickMark, QuantileEstimates) {
        let samples = std::mem::take(&mut self.open_total);
        let zeros = self.take_open_zeros();
        if let Some((lo, hi)) = self.open_touched {
            // Two bytes per bin is the usual encoded size; a larger tick grows the Vec.
            log.reserve((hi - lo + 1) * 2);
        }
        let mut walk = RankWalk::new(samples, u64::from(zeros));
        let bytes = self.encode_open(&mut |encoded| log.append(encoded), &mut walk);
        let estimates = QuantileEstimates {
            values: walk.keys.map(|key| match key {
                RankKey::Zero => Some(0.0),
                RankKey::Bin(key) => Some(layout.value(key)),
                RankKey::Unset => None,
            }),
            samples,
            collapsed: self.collapsed,
        };
        (TickMark { bytes, zeros }, estimates)
    }

    /// Subtracts the oldest tick of `log` (written by `close_tick_into`).
    pub fn expire_from(&mut self, log: &mut TickLog, mark: TickMark) {
        self.subtract_zeros(mark.zeros);
        log.consume(mark.bytes as usize, |encoded| {
            self.subtract_encoded(encoded);
        });
        self.release_if_empty();
    }

    fn take_open_zeros(&mut self) -> u32 {
        let zeros = std::mem::take(&mut self.open_zeros);
        self.window_zeros += u64::from(zeros);
        self.window_total += u64::from(zeros);
        zeros
    }

    fn subtract_zeros(&mut self, zeros: u32) {
        self.window_zeros = self.window_zeros.saturating_sub(u64::from(zeros));
        self.window_total = self.window_total.saturating_sub(u64::from(zeros));
    }

    /// Adds the open tick's bins to the window and encodes them, locating the tick's
    /// quantile ranks in `walk` on the way; returns the bytes written.
    fn encode_open(&mut self, push: &mut impl FnMut(&[u8]), walk: &mut RankWalk) -> u32 {
        let Some((lo, hi)) = self.open_touched.take() else {
            return 0;
        };
        // Encoded through a stack buffer so that the common case (a one-byte key
        // delta and a count of one) costs no unpredictable branch.
        let mut buffer = [0u8; 512];
        let mut used = 0usize;
        let mut written = 0u32;
        let mut added = 0u64;
        let mut previous_key = 0i64;
        let base_key = i64::from(self.key_offset);
        for word_index in (lo >> 6)..=(hi >> 6) {
            let Some(word) = self.open_bits.get_mut(word_index) else {
                break;
            };
            let mut bits = std::mem::take(word);
            while bits != 0 {
                let index = (word_index << 6) | bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let (Some(open_count), Some(window_count)) =
                    (self.open.get_mut(index), self.window.get_mut(index))
                else {
                    continue;
                };
                let count = std::mem::take(open_count);
                *window_count = window_count.saturating_add(count);
                added += u64::from(count);
                walk.add(base_key as i32 + index as i32, count);
                if used > buffer.len() - 24 {
                    push(&buffer[..used]);
                    written += used as u32;
                    used = 0;
                }
                let key = base_key + index as i64;
                let has_count = count != 1;
                used += put_varint(
                    &mut buffer[used..],
                    (zigzag(key - previous_key) << 1) | u64::from(has_count),
                );
                if count < 0x80 {
                    buffer[used] = count as u8;
                    used += usize::from(has_count);
                } else {
                    used += put_varint(&mut buffer[used..], u64::from(count));
                }
                previous_key = key;
            }
        }
        push(&buffer[..used]);
        written += used as u32;
        self.window_total += added;
        written
    }

    fn subtract_encoded(&mut self, bytes: &[u8]) {
        let len = self.window.len() as i64;
        if len == 0 {
            return;
        }
        let offset = i64::from(self.key_offset);
        let mut key = 0i64;
        let mut removed = 0u64;
        let mut at = 0usize;
        while at < bytes.len() {
            // The common pair is two bytes or one: a small key delta, then a small count
            // only when it is not one. Both take a fast path without a data-dependent
            // branch; anything longer falls back to the general varint reader.
            let head = bytes[at];
            let (head, head_len) = if head < 0x80 {
                (u64::from(head), 1)
            } else {
                let mut rest = bytes[at..].iter().copied();
                let Some(value) = read_varint(&mut rest) else {
                    break;
                };
                (value, bytes.len() - at - rest.len())
            };
            at += head_len;
            key += unzigzag(head >> 1);
            let has_count = head & 1 == 1;
            let next = bytes.get(at).copied().unwrap_or(0);
            let count = if !has_count {
                1
            } else if next < 0x80 {
                at += 1;
                u32::from(next)
            } else {
                let mut rest = bytes[at..].iter().copied();
                let Some(value) = read_varint(&mut rest) else {
                    break;
                };
                at = bytes.len() - rest.len();
                value as u32
            };
            // Keys collapsed since this tick closed live in the edge bins.
            let index = (key - offset).clamp(0, len - 1) as usize;
            if let Some(slot) = self.window.get_mut(index) {
                *slot = slot.saturating_sub(count);
                removed += u64::from(count);
            }
        }
        self.window_total = self.window_total.saturating_sub(removed);
    }

    fn release_if_empty(&mut self) {
        if self.window_total == 0 && self.open_touched.is_none() {
            self.release();
        }
    }

    /// Empties the window and the open tick, freeing their memory.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Samples in the window (closed ticks only).
    pub fn window_count(&self) -> u64 {
        self.window_total
    }

    /// Estimates [`QUANTILES`] over the window in one pass.
    ///
    /// Ranks follow `DDSketch::quantile`: the sample of rank `floor(q * (n - 1))`.
    /// `max_seconds`, the window's exact maximum, caps the estimates.
    pub fn quantiles(&self, layout: &SketchLayout, max_seconds: f64) -> QuantileEstimates {
        let samples = self.window_total;
        let mut estimates = QuantileEstimates {
            values: [None; 4],
            samples,
            collapsed: self.collapsed,
        };
        if samples == 0 {
            return estimates;
        }
        let ranks = QUANTILES.map(|q| (q * (samples - 1) as f64) as u64);
        let value_at = |index: usize| {
            let value = layout.value(self.key_offset + index as i32);
            Some(value.min(max_seconds))
        };
        // The median walks up from the bottom; the tail quantiles walk down from the
        // top, where only a few percent of the samples lie: two short walks instead of
        // one over every bin.
        if ranks[0] < self.window_zeros {
            estimates.values[0] = Some(0.0);
        } else {
            let mut seen = self.window_zeros;
            for (index, &count) in self.window.iter().enumerate() {
                seen += u64::from(count);
                if ranks[0] < seen {
                    estimates.values[0] = value_at(index);
                    break;
                }
            }
        }
        let mut next = ranks.len() - 1;
        let mut above = 0u64;
        for (index, &count) in self.window.iter().enumerate().rev() {
            if count == 0 {
                continue;
            }
            above += u64::from(count);
            // Rank r lies in this bin when fewer than n - r samples sit above it.
            while next > 0 && ranks[next] >= samples - above {
                estimates.values[next] = value_at(index);
                next -= 1;
            }
            if next == 0 {
                break;
            }
        }
        // Whatever the walk did not reach lies among the zeros.
        for value in &mut estimates.values[1..=next] {
            *value = Some(0.0);
        }
        estimates
    }

    /// The window as a real `DDSketch`, for merging, storage and cross-checks.
    pub fn to_ddsketch(&self, layout: &SketchLayout) -> DDSketch {
        let mut sketch = DDSketch::new(layout.mapping);
        sketch.add_with_count(0.0, self.window_zeros);
        for (index, &count) in self.window.iter().enumerate() {
            if count > 0 {
                let value = layout.value(self.key_offset + index as i32);
                sketch.add_with_count(value, u64::from(count));
            }
        }
        sketch
    }

    /// Heap bytes held (dense arrays only; tick encodings are owned by the caller).
    pub fn heap_bytes(&self) -> usize {
        (self.window.capacity() + self.open.capacity()) * std::mem::size_of::<u32>()
            + self.open_bits.capacity() * std::mem::size_of::<u64>()
    }

    fn release(&mut self) {
        self.window = Vec::new();
        self.open = Vec::new();
        self.open_bits = Vec::new();
        self.key_offset = 0;
        self.window_zeros = 0;
        self.window_total = 0;
        self.collapsed = false;
    }

    /// Index of `key` in the dense arrays, growing (or collapsing) them as needed.
    #[inline]
    fn index_for(&mut self, layout: &SketchLayout, key: i32) -> usize {
        let relative = i64::from(key) - i64::from(self.key_offset);
        if !self.window.is_empty() && relative >= 0 && (relative as usize) < self.window.len() {
            return relative as usize;
        }
        self.grow_to(layout, key)
    }

    #[cold]
    fn grow_to(&mut self, layout: &SketchLayout, key: i32) -> usize {
        let index = self.resize_for(layout, key);
        // Bins moved: rebuild the open tick's bitmap from its counts.
        self.open_bits.clear();
        self.open_bits.resize(self.open.len().div_ceil(64), 0);
        for (i, _) in self
            .open
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
        {
            self.open_bits[i >> 6] |= 1 << (i & 63);
        }
        index
    }

    fn resize_for(&mut self, layout: &SketchLayout, key: i32) -> usize {
        const CHUNK: i32 = 32;
        if self.window.is_empty() {
            let start = key - CHUNK / 2;
            self.key_offset = start;
            self.window = vec![0; CHUNK as usize];
            self.open = vec![0; CHUNK as usize];
            return (key - start) as usize;
        }
        let len = self.window.len() as i32;
        let end = self.key_offset + len;
        let max_bins = layout.max_bins as i32;
        if key < self.key_offset {
            let new_start = (key - CHUNK).max(end - max_bins);
            if new_start >= self.key_offset {
                // Already at the cap: the lowest bin absorbs smaller values.
                self.collapsed = true;
                return 0;
            }
            let grow = (self.key_offset - new_start) as usize;
            self.window.splice(0..0, std::iter::repeat_n(0, grow));
            self.open.splice(0..0, std::iter::repeat_n(0, grow));
            self.key_offset = new_start;
            self.open_touched = self.open_touched.map(|(lo, hi)| (lo + grow, hi + grow));
            // Grown only part of the way: the lowest bin absorbs `key`, as above.
            self.collapsed |= key < new_start;
            return (key.max(new_start) - new_start) as usize;
        }
        // key >= end: grow upward, collapsing the lowest bins if the cap requires it.
        let wanted_end = key + CHUNK;
        let new_start = self.key_offset.max(wanted_end - max_bins);
        if new_start > self.key_offset {
            self.collapse_low(new_start);
        }
        let new_len = (wanted_end - self.key_offset) as usize;
        self.window.resize(new_len, 0);
        self.open.resize(new_len, 0);
        (key - self.key_offset) as usize
    }

    /// Folds every bin below `new_start` into the bin at `new_start`.
    fn collapse_low(&mut self, new_start: i32) {
        let drop = ((new_start - self.key_offset) as usize).min(self.window.len());
        let folded_window: u32 = self.window.drain(..drop).sum();
        let folded_open: u32 = self.open.drain(..drop).sum();
        if self.window.is_empty() {
            self.window.push(0);
            self.open.push(0);
        }
        self.window[0] += folded_window;
        self.open[0] += folded_open;
        self.key_offset = new_start;
        self.collapsed = true;
        self.open_touched = self
            .open_touched
            .map(|(lo, hi)| (lo.saturating_sub(drop), hi.saturating_sub(drop)));
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// Writes a varint at the start of `out` (at least 10 bytes long); returns its length.
fn put_varint(out: &mut [u8], mut value: u64) -> usize {
    let mut used = 0;
    while value >= 0x80 {
        out[used] = (value as u8) | 0x80;
        value >>= 7;
        used += 1;
    }
    out[used] = value as u8;
    used + 1
}

fn read_varint(bytes: &mut impl Iterator<Item = u8>) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = bytes.next()?;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> SketchLayout {
        SketchLayout::new(0.01, 2048)
    }

    #[test]
    fn varint_and_zigzag_round_trip() {
        for value in [
            0i64,
            1,
            -1,
            63,
            -64,
            300,
            -300,
            i32::MAX as i64,
            i32::MIN as i64,
        ] {
            let mut out = [0u8; 10];
            let used = put_varint(&mut out, zigzag(value));
            let decoded = read_varint(&mut out[..used].iter().copied()).map(unzigzag);
            assert_eq!(decoded, Some(value));
        }
    }

    #[test]
    fn large_counts_and_far_keys_round_trip() {
        let layout = layout();
        let mut sketch = WindowSketch::default();
        let samples = [
            (0.001, 1),
            (0.0011, 5),
            (0.05, 200),
            (2.0, 70_000),
            (300.0, 3),
        ];
        for (latency, count) in samples {
            sketch.add_n(&layout, latency, count);
        }
        let mut log = TickLog::default();
        let (mark, _) = sketch.close_tick_into(&layout, &mut log);
        let decoded: Vec<u32> = decode_pairs(log.bytes.iter().copied())
            .map(|(_, c)| c)
            .collect();
        assert_eq!(decoded, [1, 5, 200, 70_000, 3]);
        assert_eq!(sketch.window_count(), 70_209);
        sketch.expire_from(&mut log, mark);
        assert_eq!(sketch.window_count(), 0);
    }

    #[test]
    fn closed_tick_expires_to_an_empty_window() {
        let layout = layout();
        let mut sketch = WindowSketch::default();
        for i in 1..=500 {
            sketch.add(&layout, f64::from(i) * 0.001);
        }
        sketch.add(&layout, 0.0);
        let mut log = TickLog::default();
        let (mark, _) = sketch.close_tick_into(&layout, &mut log);
        assert_eq!(sketch.window_count(), 501);
        sketch.expire_from(&mut log, mark);
        assert_eq!(sketch.window_count(), 0);
        assert_eq!(sketch.heap_bytes(), 0, "an empty window frees its arrays");
    }

    #[test]
    fn quantiles_match_ddsketch_fed_the_same_values() {
        let layout = layout();
        let mut ours = WindowSketch::default();
        let mut reference = DDSketch::new(DdConfig::new(0.01, 2048, MIN_VALUE_SECONDS));
        for i in 0..2000u32 {
            let latency = 0.002 * (1.0 + f64::from(i % 97)) * (1.0 + f64::from(i % 7));
            ours.add(&layout, latency);
            reference.add(latency);
        }
        ours.close_tick_into(&layout, &mut TickLog::default());
        let estimates = ours.quantiles(&layout, f64::INFINITY);
        for (q, value) in QUANTILES.iter().zip(estimates.values) {
            assert_eq!(value, reference.quantile(*q).ok().flatten(), "q = {q}");
        }
    }

    #[test]
    fn a_wide_range_collapses_low_bins_and_says_so() {
        let layout = SketchLayout::new(0.01, 64);
        let mut sketch = WindowSketch::default();
        sketch.add(&layout, 1e-6);
        sketch.add_n(&layout, 100.0, 10);
        sketch.close_tick_into(&layout, &mut TickLog::default());
        let estimates = sketch.quantiles(&layout, 100.0);
        assert!(estimates.collapsed);
        assert_eq!(estimates.samples, 11);
        assert!(sketch.heap_bytes() <= 2 * 64 * 4 + 64);
        let top = estimates.values[3].unwrap_or_default();
        assert!(
            (top - 100.0).abs() / 100.0 <= 0.01,
            "high quantiles keep their bound"
        );
    }
}
