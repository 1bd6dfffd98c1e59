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

/// `Some(f::<W>(args))` with a dense run's count width `width` (1 to 8) as the
/// constant `W`; `None` for wider runs, which take the general path.
macro_rules! with_narrow_width {
    ($width:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $width {
            1 => Some($f::<1>($($arg),*)),
            2 => Some($f::<2>($($arg),*)),
            3 => Some($f::<3>($($arg),*)),
            4 => Some($f::<4>($($arg),*)),
            5 => Some($f::<5>($($arg),*)),
            6 => Some($f::<6>($($arg),*)),
            7 => Some($f::<7>($($arg),*)),
            8 => Some($f::<8>($($arg),*)),
            _ => None,
        }
    };
}

/// Values at or below this (seconds) count as zero latency, as in DDSketch.
const MIN_VALUE_SECONDS: f64 = 1.0e-9;

/// The quantiles every window reports, in ascending order.
pub const QUANTILES: [f64; 4] = [0.50, 0.95, 0.99, 0.999];

/// Bin layout shared by every sketch of one monitor.
#[derive(Clone)]
pub struct SketchLayout {
    mapping: DdConfig,
    relative_error: f64,
    max_bins: usize,
    /// `mapping.value(key)` for keys from `first_value_key`, covering latencies from a
    /// microsecond to over a quarter of an hour: quantiles read a bin's value here
    /// instead of computing an `exp` (the same function, so the same bits).
    values: Box<[f64]>,
    first_value_key: i32,
}

/// Most entries in a layout's value table (32 KiB); at the default 1 % error the table
/// needs about 1,200.
const MAX_VALUE_TABLE: usize = 4096;

impl std::fmt::Debug for SketchLayout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SketchLayout")
            .field("mapping", &self.mapping)
            .field("relative_error", &self.relative_error)
            .field("max_bins", &self.max_bins)
            .finish_non_exhaustive()
    }
}

impl SketchLayout {
    /// `relative_error` must be in (0, 1); `max_bins` bounds each window's dense array
    /// (64 to 65,536, as the config allows: a bin's index fits in 16 bits, and the
    /// arrays grow 32 bins at a time).
    pub fn new(relative_error: f64, max_bins: usize) -> Self {
        let max_bins = max_bins.clamp(64, 1 << 16);
        let mapping = DdConfig::new(relative_error, max_bins as u32, MIN_VALUE_SECONDS);
        let first_value_key = mapping.key(1e-6);
        let entries = (i64::from(mapping.key(1e3)) - i64::from(first_value_key) + 1)
            .clamp(0, MAX_VALUE_TABLE as i64) as i32;
        Self {
            mapping,
            relative_error,
            max_bins,
            values: (0..entries)
                .map(|i| mapping.value(first_value_key + i))
                .collect(),
            first_value_key,
        }
    }

    /// The guaranteed relative error of every reported quantile (unless collapsed).
    pub fn relative_error(&self) -> f64 {
        self.relative_error
    }

    fn key(&self, latency_seconds: f64) -> i32 {
        self.mapping.key(latency_seconds)
    }

    /// The bin a latency (finite, >= 0) falls in; `None` for one that counts as zero.
    #[inline]
    pub(crate) fn bin_key(&self, latency_seconds: f64) -> Option<i32> {
        if latency_seconds <= MIN_VALUE_SECONDS {
            None
        } else {
            Some(self.key(latency_seconds))
        }
    }

    /// The latency a bin stands for (its representative value), seconds.
    pub fn value(&self, key: i32) -> f64 {
        let position = i64::from(key) - i64::from(self.first_value_key);
        usize::try_from(position)
            .ok()
            .and_then(|position| self.values.get(position))
            .copied()
            .unwrap_or_else(|| self.mapping.value(key))
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
///
/// `repr(C)` keeps what `add` touches (the open tick's counts pointer, key range and
/// totals: 32 bytes) at the front, so a module's per-record state shares one cache line
/// (`ModuleWindow` puts its own open-tick counters just before it).
#[derive(Debug, Clone)]
#[repr(C)]
pub struct WindowSketch {
    /// Counts of the open tick, by key; same length (and key range) as `window`.
    open: Box<[u32]>,
    /// First key held by `window` and `open`.
    key_offset: i32,
    /// Index range of `open` touched this tick, inclusive; empty when `lo > hi`.
    open_lo: u16,
    open_hi: u16,
    /// Zero-latency samples of the open tick.
    open_zeros: u32,
    /// Samples in the open tick, zeros included (saturating, as per-tick counts are u32).
    open_total: u32,
    /// Counts of every closed tick in the window, by key.
    window: Box<[u32]>,
    window_zeros: u64,
    window_total: u64,
    collapsed: bool,
    /// Where each of [`QUANTILES`] was last found in `window`, kept up to date as
    /// ticks are added and expire, so that the next read steps a bin or two from
    /// there instead of summing the window again.
    cursors: [Cursor; 4],
    /// False when the cursors were not kept up (a busy tick added or left across most
    /// of the window, where keeping them costs what a full read does): the next read
    /// reads the whole window and sets them again.
    cursors_valid: bool,
    /// True once a tick was added with saturating adds (the window might then hold
    /// less than its ticks' sum in some bin), until the arrays are freed. While false,
    /// no subtraction can go below zero, so the expiry subtracts plainly.
    may_saturate: bool,
}

/// A position in a window's bins and the samples in the bins below it.
#[derive(Debug, Clone, Copy, Default)]
struct Cursor {
    index: u32,
    /// Samples in `window[..index]`.
    below: u64,
}

impl WindowSketch {
    /// Bytes at the front that `add` touches.
    #[cfg(test)]
    pub(crate) const OPEN_TICK_BYTES: usize = std::mem::offset_of!(WindowSketch, window);
}

impl Default for WindowSketch {
    fn default() -> Self {
        WindowSketch {
            open: Box::default(),
            key_offset: 0,
            open_lo: u16::MAX,
            open_hi: 0,
            open_zeros: 0,
            open_total: 0,
            window: Box::default(),
            window_zeros: 0,
            window_total: 0,
            collapsed: false,
            cursors: [Cursor::default(); 4],
            cursors_valid: false,
            may_saturate: false,
        }
    }
}

/// Where a closed tick's encoding sits in a module's byte ring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickMark {
    /// Encoded bytes of the tick.
    pub bytes: u32,
    /// Zero-latency samples of the tick.
    pub zeros: u32,
    /// How the tick's bins are encoded: 0 for sparse pairs, else the bit width of each
    /// count in a dense run (see [`TickLog`]).
    pub width: u8,
}

/// The encoded closed ticks of one window, oldest first: a byte ring appended at the
/// back and consumed from the front, grown to fit (never doubled).
///
/// Each tick is kept only to subtract it when it leaves the window, in whichever of two
/// encodings is smaller:
/// - sparse, for ticks with few events: per non-empty bin, a LEB128 varint of
///   `(zigzag(key - previous_key) << 1) | has_count`, then a varint count when
///   `has_count` (a count of one, the common case, costs nothing);
/// - dense, for ticks whose events fill a run of adjacent bins (a busy module): a
///   varint of `zigzag(first_key)`, a varint of the run's length, then every bin's
///   count in `width` bits, least significant first, `width` being just enough for the
///   tick's largest count. At 1,000 events per tick that is about 0.6 bytes per bin
///   against 2 for the sparse pairs.
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
        if count > self.bytes.as_slices().0.len() {
            // The tick wraps around the ring's end: rotate in place (about once per
            // turn of the ring) rather than allocate a joined copy.
            self.bytes.make_contiguous();
        }
        read(&self.bytes.as_slices().0[..count]);
        self.bytes.drain(..count);
        if self.bytes.is_empty() && self.bytes.capacity() > 1024 {
            self.bytes.shrink_to(256);
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }

    /// A copy of the newest `count` bytes: the encoding of the tick closed last.
    pub fn newest(&self, count: usize) -> Vec<u8> {
        let (front, back) = self.bytes.as_slices();
        let start = self.bytes.len() - count.min(self.bytes.len());
        // Copied a slice or two at a time: a tick is stored for every module every tick.
        let (front, back) = match start.checked_sub(front.len()) {
            Some(into_back) => (&[][..], &back[into_back..]),
            None => (&front[start..], back),
        };
        [front, back].concat()
    }
}

/// The width that marks bins in the Rice encoding ([`super::rice`]), the densest, which
/// stored history uses and the window never writes.
pub const RICE_WIDTH: u8 = 0x80;

/// Encodes a run of bins (counts by key from `first_key`) as `close_tick_into` encodes
/// a tick, appending to `out`; returns the encoding's width (0: sparse pairs).
pub fn encode_bins(bins: &[u32], first_key: i32, out: &mut Vec<u8>) -> u8 {
    let mut facts = OpenFacts::default();
    bins.iter().for_each(|&count| facts.learn(count));
    let mut log = TickLog::default();
    let (_, width) = encode_open(bins, first_key, &facts, &mut log);
    out.extend(log.bytes);
    width
}

/// Decodes bins encoded by [`encode_bins`] (or a closed tick's encoding with its
/// mark's width, or [`super::rice`]'s with [`RICE_WIDTH`]), calling `bin(key, count)` for each non-empty one in ascending key
/// order. Returns false, having stopped, on bytes that are not such an encoding.
pub fn decode_bins(bytes: &[u8], width: u8, mut bin: impl FnMut(i32, u32)) -> bool {
    let in_range = |key: i64| i32::try_from(key).ok();
    if width == 0 {
        let mut rest = bytes.iter().copied();
        let mut key = 0i64;
        while rest.len() > 0 {
            let Some(head) = read_varint(&mut rest) else {
                return false;
            };
            key = key.saturating_add(unzigzag(head >> 1));
            let count = if head & 1 == 1 {
                match read_varint(&mut rest).and_then(|c| u32::try_from(c).ok()) {
                    Some(count) => count,
                    None => return false,
                }
            } else {
                1
            };
            let Some(key) = in_range(key) else {
                return false;
            };
            // The window never writes a count of zero; corrupt bytes may.
            if count > 0 {
                bin(key, count);
            }
        }
        return true;
    }
    if width == RICE_WIDTH {
        return super::rice::decode(bytes, bin);
    }
    let Some((first_key, run, packed)) = dense_run(bytes, width) else {
        return false;
    };
    let mut counts = [0u32; 64];
    for first in (0..run).step_by(counts.len()) {
        let counts = &mut counts[..(run - first).min(64)];
        unpack_counts(packed, u32::from(width), first, counts);
        for (position, &count) in (first..).zip(counts.iter()) {
            if count > 0 {
                bin(first_key + position as i32, count);
            }
        }
    }
    true
}

/// The first key, length and packed counts of a dense run of `width`-bit counts;
/// `None` unless they fit the bytes and their keys fit `i32`.
fn dense_run(bytes: &[u8], width: u8) -> Option<(i32, usize, &[u8])> {
    if !(1..=32).contains(&width) {
        return None;
    }
    let mut header = bytes.iter().copied();
    let first_key = unzigzag(read_varint(&mut header)?);
    let run = usize::try_from(read_varint(&mut header)?).ok()?;
    let packed = &bytes[bytes.len() - header.len()..];
    let fits = run
        .checked_mul(usize::from(width))
        .is_some_and(|bits| bits.div_ceil(8) <= packed.len());
    i32::try_from(first_key.saturating_add(run as i64)).ok()?;
    Some((i32::try_from(first_key).ok()?, run, packed)).filter(|_| fits)
}

/// Bins as [`decode_bins`] reads them, as one run of counts by key from the first
/// non-empty one (zeros included) in `out`, replacing what it held; returns that
/// first key. `None` for bytes that do not decode, or a run longer than `max_run`.
pub fn decode_run(bytes: &[u8], width: u8, max_run: usize, out: &mut Vec<u32>) -> Option<i32> {
    out.clear();
    if width != 0 && width != RICE_WIDTH {
        // Dense: unpacked whole, without a call per bin.
        let (first_key, run, packed) =
            dense_run(bytes, width).filter(|(_, run, _)| *run <= max_run)?;
        out.resize(run, 0);
        unpack_counts(packed, u32::from(width), 0, out);
        // From the first non-empty bin to the last, as the other encodings decode.
        let end = out
            .iter()
            .rposition(|&count| count > 0)
            .map_or(0, |last| last + 1);
        out.truncate(end);
        let start = out.iter().position(|&count| count > 0).unwrap_or(0);
        out.drain(..start);
        return Some(first_key + start as i32);
    }
    let mut first_key = None;
    let mut fits = true;
    let decoded = decode_bins(bytes, width, |key, count| {
        let first = *first_key.get_or_insert(key);
        // Keys ascend in every encoding; anything else is not a run.
        let at = usize::try_from(i64::from(key) - i64::from(first)).unwrap_or(usize::MAX);
        if at >= max_run || at < out.len() {
            fits = false;
            return;
        }
        out.resize(at, 0);
        out.push(count);
    });
    (decoded && fits).then_some(first_key.unwrap_or(0))
}

/// Bins of the samples of rank `floor(q * (n - 1))` for each of [`QUANTILES`], among
/// `zeros` zero-latency samples followed by `bins` (`samples` in all, at least one):
/// `None` for a rank that falls among the zeros.
///
/// The median is sought from the bottom and the tail quantiles, in one pass, from the
/// top, where only a few percent of the samples lie. Both skip 16 bins at a time while
/// the rank lies beyond them, then step through the chunk that holds it.
///
/// Each bin found comes with the samples in the bins below it.
fn rank_bins(bins: &[u32], zeros: u64, samples: u64) -> [Option<(usize, u64)>; 4] {
    let ranks = QUANTILES.map(|q| rank(q, samples));
    // Below 2^32 samples no run of bins can overflow a u32 sum, which is cheaper.
    if samples <= u64::from(u32::MAX) {
        seek_ranks(bins, zeros, samples, ranks, |chunk| {
            u64::from(
                chunk
                    .iter()
                    .fold(0u32, |sum, &count| sum.wrapping_add(count)),
            )
        })
    } else {
        seek_ranks(bins, zeros, samples, ranks, |chunk| {
            chunk.iter().map(|&count| u64::from(count)).sum()
        })
    }
}

/// `floor(q * (samples - 1))`, as DDSketch computes it; through `i64` below 2^53
/// samples, where it is exact and the same, because unsigned conversions cost more.
#[inline]
fn rank(q: f64, samples: u64) -> u64 {
    let last = samples.saturating_sub(1);
    if last < 1 << 53 {
        (q * last as i64 as f64) as i64 as u64
    } else {
        rank_of_many(q, last)
    }
}

/// [`rank`] from 2^53 samples on, apart so that the common path does not compute it
/// too and select (unsigned conversions take a dozen instructions each).
#[cold]
#[inline(never)]
fn rank_of_many(q: f64, last: u64) -> u64 {
    (q * last as f64) as u64
}

/// [`rank_bins`] with `chunk_sum` summing [`CHUNK_BINS`] bins.
#[inline(always)]
fn seek_ranks(
    bins: &[u32],
    zeros: u64,
    samples: u64,
    ranks: [u64; 4],
    chunk_sum: impl Fn(&[u32]) -> u64,
) -> [Option<(usize, u64)>; 4] {
    let mut found = [None; 4];
    if let Some(target) = ranks[0].checked_sub(zeros) {
        let mut seen = 0u64;
        let mut start = 0;
        while let Some(chunk) = bins.get(start..start + CHUNK_BINS) {
            let total = chunk_sum(chunk);
            if seen + total > target {
                break;
            }
            seen += total;
            start += CHUNK_BINS;
        }
        for (index, &count) in bins.iter().enumerate().skip(start) {
            if seen + u64::from(count) > target {
                found[0] = Some((index, seen));
                break;
            }
            seen += u64::from(count);
        }
    }
    // From the top, the sought sample is the one with `samples - 1 - rank` above it.
    let mut above = 0u64;
    let mut end = bins.len();
    'tail: for next in (1..ranks.len()).rev() {
        let target = samples - 1 - ranks[next];
        while let Some(chunk) = end.checked_sub(CHUNK_BINS).map(|start| &bins[start..end]) {
            let total = chunk_sum(chunk);
            if above + total > target {
                break;
            }
            above += total;
            end -= CHUNK_BINS;
        }
        loop {
            let Some(index) = end.checked_sub(1) else {
                // The rest lie among the zeros.
                break 'tail;
            };
            if above + u64::from(bins[index]) > target {
                // The next (lower) rank may lie in the same bin: leave it unvisited.
                let below = (samples - zeros).saturating_sub(above + u64::from(bins[index]));
                found[next] = Some((index, below));
                break;
            }
            above += u64::from(bins[index]);
            end = index;
        }
    }
    found
}

/// Bins summed at a time while seeking a rank.
const CHUNK_BINS: usize = 16;

/// The bin holding the sample of rank `target` among `bins` (the first whose
/// cumulative count exceeds it), stepping from `from`; `None` when `from` or the
/// counts are inconsistent (no such bin, or more below `from` than there are).
fn seek_from(bins: &[u32], from: Cursor, target: u64) -> Option<Cursor> {
    let mut index = from.index as usize;
    let mut below = from.below;
    if index > bins.len() {
        return None;
    }
    while below > target {
        index = index.checked_sub(1)?;
        below = below.checked_sub(u64::from(bins[index]))?;
    }
    loop {
        let count = u64::from(*bins.get(index)?);
        if below + count > target {
            break;
        }
        below += count;
        index += 1;
    }
    Some(Cursor {
        index: index as u32,
        below,
    })
}

/// Counts the bins `added` (which start at window index `start`) that lie below each
/// cursor. Cursors are in ascending order once a read has set them, so one pass over
/// `added` sums every cursor's part. `added` sums to at most `u32::MAX` (the caller
/// adds plainly only then), so the sums need no widening.
fn advance_cursors(cursors: &mut [Cursor; 4], added: &[u32], start: usize) {
    let mut previous = 0;
    let mut running = 0u32;
    for cursor in cursors.iter_mut() {
        let cut = (cursor.index as usize)
            .saturating_sub(start)
            .min(added.len());
        if cut >= previous {
            running = added[previous..cut]
                .iter()
                .fold(running, |sum, &count| sum.wrapping_add(count));
            previous = cut;
            cursor.below += u64::from(running);
        } else {
            let part = added[..cut]
                .iter()
                .fold(0u32, |sum, &count| sum.wrapping_add(count));
            cursor.below += u64::from(part);
        }
    }
}

/// A stack buffer that hands its bytes on whenever it nears full, so the encoders write
/// without a bounds check per byte reaching the ring.
struct Staging<'a, F: FnMut(&[u8])> {
    buffer: [u8; 512],
    used: usize,
    written: u32,
    push: &'a mut F,
}

impl<'a, F: FnMut(&[u8])> Staging<'a, F> {
    fn new(push: &'a mut F) -> Self {
        Staging {
            buffer: [0; 512],
            used: 0,
            written: 0,
            push,
        }
    }

    /// Makes room for one more item (at most 24 bytes).
    #[inline]
    fn room(&mut self) {
        if self.used > self.buffer.len() - 24 {
            self.flush();
        }
    }

    fn flush(&mut self) {
        (self.push)(&self.buffer[..self.used]);
        self.written += self.used as u32;
        self.used = 0;
    }

    #[inline]
    fn varint(&mut self, value: u64) {
        self.used += put_varint(&mut self.buffer[self.used..], value);
    }

    /// Flushes and returns the bytes written in all.
    fn finish(mut self) -> u32 {
        self.flush();
        self.written
    }
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
        self.open_total = self.open_total.saturating_add(count);
        if latency_seconds <= MIN_VALUE_SECONDS {
            self.open_zeros = self.open_zeros.saturating_add(count);
            return;
        }
        let index = self.index_for(layout, layout.key(latency_seconds));
        let slot = &mut self.open[index];
        *slot = slot.saturating_add(count);
        // Indexes fit: the arrays never exceed `max_bins` <= 65,536.
        let index = index as u16;
        self.open_lo = self.open_lo.min(index);
        self.open_hi = self.open_hi.max(index);
    }

    /// The open tick's count of bin `key`, when the arrays hold it (for prefetching).
    #[inline]
    pub(crate) fn open_bin(&self, key: i32) -> Option<&u32> {
        let relative = i64::from(key) - i64::from(self.key_offset);
        usize::try_from(relative)
            .ok()
            .and_then(|index| self.open.get(index))
    }

    /// Adds `count` samples to the open tick's bin `key` (`None`: zero latency), as
    /// stored history replays a tick.
    #[inline]
    pub fn add_bin(&mut self, layout: &SketchLayout, key: Option<i32>, count: u32) {
        let Some(key) = key else {
            self.open_total = self.open_total.saturating_add(count);
            self.open_zeros = self.open_zeros.saturating_add(count);
            return;
        };
        if count == 0 {
            return;
        }
        self.open_total = self.open_total.saturating_add(count);
        let index = self.index_for(layout, key);
        let slot = &mut self.open[index];
        *slot = slot.saturating_add(count);
        let index = index as u16;
        self.open_lo = self.open_lo.min(index);
        self.open_hi = self.open_hi.max(index);
    }

    /// The open tick's touched run of bins (counts by key from the first key) and its
    /// zero-latency samples.
    pub fn open_bins(&self) -> (i32, &[u32], u32) {
        let (lo, hi) = (usize::from(self.open_lo), usize::from(self.open_hi));
        let touched = self.open.get(lo..hi.saturating_add(1).min(self.open.len()));
        let first_key = self.key_offset + lo.min(self.open.len()) as i32;
        (first_key, touched.unwrap_or_default(), self.open_zeros)
    }

    /// Samples in the open tick, zeros included.
    pub fn open_count(&self) -> u64 {
        u64::from(self.open_total)
    }

    /// Moves the open tick into the window, appending its encoding to `log` (one log
    /// per module saves an allocation per tick); the mark says how much.
    ///
    /// Also returns the closing tick's own quantiles (for detectors that judge each
    /// tick) when it holds at least `min_samples` samples; below that no detector
    /// trusts them (`is_low_confidence`), so they are left `None` and not sought.
    pub fn close_tick_into(
        &mut self,
        layout: &SketchLayout,
        log: &mut TickLog,
        min_samples: u64,
    ) -> (TickMark, QuantileEstimates) {
        let samples = u64::from(std::mem::take(&mut self.open_total));
        let zeros = self.take_open_zeros();
        let (lo, hi) = (
            usize::from(std::mem::replace(&mut self.open_lo, u16::MAX)),
            usize::from(std::mem::take(&mut self.open_hi)),
        );
        let touched = lo..hi.saturating_add(1).min(self.open.len());
        let first_key = self.key_offset + lo as i32;
        let mut estimates = QuantileEstimates {
            values: [None; 4],
            samples,
            collapsed: self.collapsed,
        };
        if samples > 0 && samples >= min_samples {
            let bins = self.open.get(touched.clone()).unwrap_or_default();
            estimates.values = rank_bins(bins, u64::from(zeros), samples).map(|found| {
                Some(found.map_or(0.0, |(index, _)| layout.value(first_key + index as i32)))
            });
        }
        let mut mark = TickMark {
            bytes: 0,
            zeros,
            width: 0,
        };
        if let (Some(open), Some(window)) = (
            self.open.get_mut(touched.clone()),
            self.window.get_mut(touched),
        ) {
            // `samples` bounds the counts added: below u32::MAX in all, no bin can
            // overflow, so plain adds (which vectorise) do.
            let plain = self.window_total + samples <= u64::from(u32::MAX);
            self.may_saturate |= !plain;
            // Every sample not at zero is in a bin, unless the tick's total saturated.
            let added = if samples < u64::from(u32::MAX) {
                samples - u64::from(zeros)
            } else {
                open.iter().map(|&count| u64::from(count)).sum()
            };
            debug_assert_eq!(
                added,
                open.iter().map(|&count| u64::from(count)).sum::<u64>()
            );
            let facts = add_open_into(open, window, plain);
            (mark.bytes, mark.width) = encode_open(open, first_key, &facts, log);
            // A quiet tick (sparse) moves the cursors by its few bins. A busy one
            // (dense, spanning much of the window), or one that may have saturated a
            // bin, costs as much to follow as the next full read, which sets them again.
            if self.cursors_valid && plain && mark.width == 0 {
                advance_cursors(&mut self.cursors, open, lo);
            } else {
                self.cursors_valid = false;
            }
            open.fill(0);
            self.window_total += added;
        }
        (mark, estimates)
    }

    /// Subtracts the oldest tick of `log` (written by `close_tick_into`).
    pub fn expire_from(&mut self, log: &mut TickLog, mark: TickMark) {
        self.subtract_zeros(mark.zeros);
        log.consume(mark.bytes as usize, |encoded| {
            if mark.width == 0 {
                self.subtract_sparse(encoded);
            } else {
                self.subtract_dense(encoded, u32::from(mark.width));
            }
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

    fn subtract_sparse(&mut self, bytes: &[u8]) {
        let len = self.window.len() as i64;
        if len == 0 {
            return;
        }
        let offset = i64::from(self.key_offset);
        let mut key = 0i64;
        let mut removed = 0u64;
        let cuts = self.cursors.map(|cursor| cursor.index as usize);
        let mut removed_below = [0u64; 4];
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
                for (below, cut) in removed_below.iter_mut().zip(cuts) {
                    *below += u64::from(count) * u64::from(index < cut);
                }
            }
        }
        self.window_total = self.window_total.saturating_sub(removed);
        for (cursor, below) in self.cursors.iter_mut().zip(removed_below) {
            cursor.below = cursor.below.saturating_sub(below);
        }
    }

    fn subtract_dense(&mut self, bytes: &[u8], width: u32) {
        // A busy tick's run spans much of the window: following it would cost what
        // the next full read does.
        self.cursors_valid = false;
        let window_len = self.window.len() as i64;
        let mut header = bytes.iter().copied();
        let (Some(first_key), Some(run)) = (read_varint(&mut header), read_varint(&mut header))
        else {
            return;
        };
        if window_len == 0 {
            return;
        }
        let packed = &bytes[bytes.len() - header.len()..];
        let start = unzigzag(first_key) - i64::from(self.key_offset);
        let mut removed = 0u64;
        let run = usize::try_from(run).unwrap_or(usize::MAX);
        // The usual case: the run lies inside the window (no collapse since it closed).
        let inside = usize::try_from(start)
            .ok()
            .and_then(|start| start.checked_add(run).map(|end| start..end))
            .filter(|range| range.end <= self.window.len());
        if let Some(inside) = inside.clone().filter(|_| !self.may_saturate) {
            // No bin can go below zero: the common widths subtract as they unpack.
            let window = &mut self.window[inside];
            if let Some(removed) = with_narrow_width!(width, subtract_packed(packed, window)) {
                self.window_total = self.window_total.saturating_sub(removed);
                return;
            }
        }
        let mut counts = [0u32; 64];
        for first in (0..run).step_by(counts.len()) {
            let counts = &mut counts[..(run - first).min(64)];
            unpack_counts(packed, width, first, counts);
            if let Some(inside) = &inside {
                let window = &mut self.window[inside.start + first..][..counts.len()];
                for (slot, &count) in window.iter_mut().zip(counts.iter()) {
                    *slot = slot.saturating_sub(count);
                }
            } else {
                // Keys collapsed since this tick closed live in the edge bins.
                for (position, &count) in (first..).zip(counts.iter()) {
                    let index = (start + position as i64).clamp(0, window_len - 1) as usize;
                    self.window[index] = self.window[index].saturating_sub(count);
                }
            }
            removed += counts.iter().map(|&count| u64::from(count)).sum::<u64>();
        }
        self.window_total = self.window_total.saturating_sub(removed);
    }

    fn release_if_empty(&mut self) {
        if self.window_total == 0 && self.open_lo > self.open_hi {
            self.release();
        }
    }

    /// Empties the window and the open tick, freeing their memory.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// Reads one word per cache line of what closing the open tick will read (its
    /// touched bins, the same run of the window's), so that a caller working on
    /// another sketch meanwhile has them loaded: the loads overlap that work instead
    /// of stalling the close. Returns a value only to keep the loads.
    pub(crate) fn preload_close(&self, log: &TickLog) -> u32 {
        let (lo, hi) = (usize::from(self.open_lo), usize::from(self.open_hi));
        let touched = lo..hi.saturating_add(1).min(self.open.len());
        let words = |bins: &[u32]| bins.iter().step_by(16).fold(0, |acc, &count| acc ^ count);
        let open = self.open.get(touched.clone()).map_or(0, words);
        let window = self.window.get(touched).map_or(0, words);
        let front = log.bytes.front().copied().unwrap_or(0);
        open ^ window ^ u32::from(front)
    }

    /// Samples in the window (closed ticks only).
    pub fn window_count(&self) -> u64 {
        self.window_total
    }

    /// The window's sample count and collapse flag, with no values yet.
    fn no_estimates(&self) -> QuantileEstimates {
        QuantileEstimates {
            values: [None; 4],
            samples: self.window_total,
            collapsed: self.collapsed,
        }
    }

    /// Estimates [`QUANTILES`] over the window in one pass.
    ///
    /// Ranks follow `DDSketch::quantile`: the sample of rank `floor(q * (n - 1))`.
    /// `max_seconds`, the window's exact maximum, caps the estimates.
    pub fn quantiles(&self, layout: &SketchLayout, max_seconds: f64) -> QuantileEstimates {
        if self.window_total == 0 {
            return self.no_estimates();
        }
        let found = rank_bins(&self.window, self.window_zeros, self.window_total);
        self.estimates_of(layout, max_seconds, found)
    }

    /// The estimates for the bins `rank_bins` found (`None`: among the zeros).
    fn estimates_of(
        &self,
        layout: &SketchLayout,
        max_seconds: f64,
        found: [Option<(usize, u64)>; 4],
    ) -> QuantileEstimates {
        let mut estimates = self.no_estimates();
        estimates.values = found.map(|found| {
            Some(found.map_or(0.0, |(index, _)| self.value_at(layout, index, max_seconds)))
        });
        estimates
    }

    /// The value of the window's bin `index`, capped at the window's maximum.
    fn value_at(&self, layout: &SketchLayout, index: usize, max_seconds: f64) -> f64 {
        layout
            .value(self.key_offset + index as i32)
            .min(max_seconds)
    }

    /// [`Self::quantiles`], found by stepping from where each quantile was last
    /// found: as the window slides, a quantile moves a bin or two per tick, so this
    /// reads a few bins instead of summing the window's tail and lower half. The same
    /// estimates, bit for bit.
    pub fn quantiles_tracked(
        &mut self,
        layout: &SketchLayout,
        max_seconds: f64,
    ) -> QuantileEstimates {
        let samples = self.window_total;
        let mut estimates = self.no_estimates();
        if samples == 0 {
            return estimates;
        }
        if !self.cursors_valid {
            return self.quantiles_setting_cursors(layout, max_seconds);
        }
        for (k, q) in QUANTILES.iter().enumerate() {
            let Some(target) = rank(*q, samples).checked_sub(self.window_zeros) else {
                // The rank falls among the zero-latency samples.
                estimates.values[k] = Some(0.0);
                continue;
            };
            let Some(cursor) = seek_from(&self.window, self.cursors[k], target) else {
                // Counts and cursors disagree (never expected): read the whole window.
                debug_assert!(false, "quantile cursors out of step with the window");
                return self.quantiles_setting_cursors(layout, max_seconds);
            };
            self.cursors[k] = cursor;
            estimates.values[k] = Some(self.value_at(layout, cursor.index as usize, max_seconds));
        }
        estimates
    }

    /// A full read of the window ([`Self::quantiles`], not empty) that leaves each
    /// cursor at the bin it found.
    fn quantiles_setting_cursors(
        &mut self,
        layout: &SketchLayout,
        max_seconds: f64,
    ) -> QuantileEstimates {
        let found = rank_bins(&self.window, self.window_zeros, self.window_total);
        for (cursor, found) in self.cursors.iter_mut().zip(found) {
            let (index, below) = found.unwrap_or((0, 0));
            *cursor = Cursor {
                index: index as u32,
                below,
            };
        }
        self.cursors_valid = true;
        self.estimates_of(layout, max_seconds, found)
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
        (self.window.len() + self.open.len()) * std::mem::size_of::<u32>()
    }

    /// Frees the arrays; the open tick's zero-latency samples stay.
    fn release(&mut self) {
        *self = WindowSketch {
            open_zeros: self.open_zeros,
            open_total: self.open_total,
            ..WindowSketch::default()
        };
    }

    /// Index of `key` in the dense arrays, growing (or collapsing) them as needed.
    #[inline]
    fn index_for(&mut self, layout: &SketchLayout, key: i32) -> usize {
        // `open` has the window's length and sits in the same cache line as the rest
        // of the open tick, so the check reads nothing else.
        let relative = i64::from(key) - i64::from(self.key_offset);
        if relative >= 0 && (relative as usize) < self.open.len() {
            return relative as usize;
        }
        self.resize_for(layout, key)
    }

    /// Grows (or collapses) the arrays to hold `key`. They are edited as Vecs and kept
    /// as boxed slices: exact size, and only a pointer and length in the hot line.
    #[cold]
    fn resize_for(&mut self, layout: &SketchLayout, key: i32) -> usize {
        let mut window = std::mem::take(&mut self.window).into_vec();
        let mut open = std::mem::take(&mut self.open).into_vec();
        let index = self.resize_arrays(layout, key, &mut window, &mut open);
        self.window = window.into_boxed_slice();
        self.open = open.into_boxed_slice();
        index
    }

    fn resize_arrays(
        &mut self,
        layout: &SketchLayout,
        key: i32,
        window: &mut Vec<u32>,
        open: &mut Vec<u32>,
    ) -> usize {
        const CHUNK: i32 = 32;
        if window.is_empty() {
            let start = key - CHUNK / 2;
            self.key_offset = start;
            self.cursors_valid = false;
            *window = vec![0; CHUNK as usize];
            *open = vec![0; CHUNK as usize];
            return (key - start) as usize;
        }
        let len = window.len() as i32;
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
            window.splice(0..0, std::iter::repeat_n(0, grow));
            open.splice(0..0, std::iter::repeat_n(0, grow));
            for cursor in &mut self.cursors {
                cursor.index += grow as u32;
            }
            self.key_offset = new_start;
            if self.open_lo <= self.open_hi {
                self.open_lo += grow as u16;
                self.open_hi += grow as u16;
            }
            // Grown only part of the way: the lowest bin absorbs `key`, as above.
            self.collapsed |= key < new_start;
            return (key.max(new_start) - new_start) as usize;
        }
        // key >= end: grow upward, collapsing the lowest bins if the cap requires it.
        let wanted_end = key + CHUNK;
        let new_start = self.key_offset.max(wanted_end - max_bins);
        if new_start > self.key_offset {
            self.collapse_low(new_start, window, open);
        }
        let new_len = (wanted_end - self.key_offset) as usize;
        window.resize(new_len, 0);
        open.resize(new_len, 0);
        (key - self.key_offset) as usize
    }

    /// Folds every bin below `new_start` into the bin at `new_start`.
    fn collapse_low(&mut self, new_start: i32, window: &mut Vec<u32>, open: &mut Vec<u32>) {
        let drop = ((new_start - self.key_offset) as usize).min(window.len());
        let folded_window: u32 = window.drain(..drop).sum();
        let folded_open: u32 = open.drain(..drop).sum();
        if window.is_empty() {
            window.push(0);
            open.push(0);
        }
        window[0] += folded_window;
        open[0] += folded_open;
        self.key_offset = new_start;
        self.collapsed = true;
        self.cursors_valid = false;
        if self.open_lo <= self.open_hi {
            self.open_lo = self.open_lo.saturating_sub(drop as u16);
            self.open_hi = self.open_hi.saturating_sub(drop as u16);
        }
    }
}

/// What one pass over the open tick's touched bins learns: the facts that size both
/// encodings (an OR of the counts has the largest one's bit width).
#[derive(Default)]
struct OpenFacts {
    any_bits: u32,
    non_empty: u32,
    ones: u32,
}

impl OpenFacts {
    #[inline]
    fn learn(&mut self, count: u32) {
        self.any_bits |= count;
        self.non_empty += u32::from(count != 0);
        self.ones += u32::from(count == 1);
    }
}

/// Adds the open tick's bins to the window's (saturating unless `plain`), learning
/// the [`OpenFacts`] in the same branch-free pass.
fn add_open_into(open: &[u32], window: &mut [u32], plain: bool) -> OpenFacts {
    let mut facts = OpenFacts::default();
    let pairs = open.iter().zip(window.iter_mut());
    if plain {
        for (&count, slot) in pairs {
            *slot += count;
            facts.learn(count);
        }
    } else {
        for (&count, slot) in pairs {
            *slot = slot.saturating_add(count);
            facts.learn(count);
        }
    }
    facts
}

/// Appends the open tick's touched run of bins (from `first_key`) to `log`, in the
/// smaller of the two encodings; returns the bytes written and the width (0: sparse).
fn encode_open(open: &[u32], first_key: i32, facts: &OpenFacts, log: &mut TickLog) -> (u32, u8) {
    if facts.any_bits == 0 {
        return (0, 0);
    }
    let width = u32::BITS - facts.any_bits.leading_zeros();
    let dense_bytes = varint_len(zigzag(i64::from(first_key)))
        + varint_len(open.len() as u64)
        + (open.len() * width as usize).div_ceil(8);
    // Sparse: a byte per bin, another per count above one, a longer first key.
    let sparse_bytes = (2 * facts.non_empty - facts.ones) as usize + 2;
    let dense = dense_bytes < sparse_bytes;
    log.reserve(if dense { dense_bytes } else { sparse_bytes + 8 });
    let mut push = |encoded: &[u8]| log.append(encoded);
    if dense {
        (encode_dense(open, first_key, width, &mut push), width as u8)
    } else {
        (encode_sparse(open, first_key, &mut push), 0)
    }
}

/// Encodes `open` as sparse pairs; returns the bytes written.
fn encode_sparse(open: &[u32], first_key: i32, push: &mut impl FnMut(&[u8])) -> u32 {
    let mut out = Staging::new(push);
    let mut previous_key = 0i64;
    for (chunk_index, chunk) in open.chunks(64).enumerate() {
        // A mask of the non-empty bins, built without branches, then walked bit by bit:
        // no unpredictable branch per empty bin.
        let mut mask = chunk.iter().enumerate().fold(0u64, |mask, (bit, &count)| {
            mask | (u64::from(count != 0) << bit)
        });
        while mask != 0 {
            let bit = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let count = chunk[bit];
            let key = i64::from(first_key) + (chunk_index * 64 + bit) as i64;
            out.room();
            let has_count = count != 1;
            out.varint((zigzag(key - previous_key) << 1) | u64::from(has_count));
            if count < 0x80 {
                out.buffer[out.used] = count as u8;
                out.used += usize::from(has_count);
            } else {
                out.varint(u64::from(count));
            }
            previous_key = key;
        }
    }
    out.finish()
}

/// Encodes `open` as one dense run of `width`-bit counts; returns the bytes written.
///
/// Eight counts fill exactly `width` bytes, so each group of eight is packed in one
/// register and written whole: no carry from one count to the next.
fn encode_dense(open: &[u32], first_key: i32, width: u32, push: &mut impl FnMut(&[u8])) -> u32 {
    let mut out = Staging::new(push);
    out.varint(zigzag(i64::from(first_key)));
    out.varint(open.len() as u64);
    if with_narrow_width!(width, pack_narrow(open, &mut out)).is_some() {
        return out.finish();
    }
    if width <= 16 {
        for group in open.chunks(8) {
            let packed = group
                .iter()
                .zip((0..).step_by(width as usize))
                .fold(0u128, |packed, (&count, shift)| {
                    packed | (u128::from(count) << shift)
                });
            out.room();
            out.buffer[out.used..out.used + 16].copy_from_slice(&packed.to_le_bytes());
            out.used += (group.len() * width as usize).div_ceil(8);
        }
        return out.finish();
    }
    // Counts of 65,536 and more in one bin and tick: one count at a time.
    let (mut bits, mut held) = (0u64, 0u32);
    for &count in open {
        bits |= u64::from(count) << held;
        held += width;
        if held >= 32 {
            out.room();
            out.buffer[out.used..out.used + 4].copy_from_slice(&(bits as u32).to_le_bytes());
            out.used += 4;
            bits >>= 32;
            held -= 32;
        }
    }
    out.room();
    let tail = held.div_ceil(8) as usize;
    out.buffer[out.used..out.used + tail].copy_from_slice(&bits.to_le_bytes()[..tail]);
    out.used += tail;
    out.finish()
}

/// Packs `open` in `W`-bit counts (`W` 1 to 8), each group of eight in one register
/// with immediate shifts, written whole.
#[inline(always)]
fn pack_narrow<const W: usize>(open: &[u32], out: &mut Staging<'_, impl FnMut(&[u8])>) {
    let mut pack = |group: &[u32]| {
        let packed = group.iter().enumerate().fold(0u64, |packed, (k, &count)| {
            packed | (u64::from(count) << (k * W))
        });
        out.room();
        // All eight bytes are written; only the group's own are kept.
        out.buffer[out.used..out.used + 8].copy_from_slice(&packed.to_le_bytes());
        out.used += (group.len() * W).div_ceil(8);
    };
    let mut groups = open.chunks_exact(8);
    for group in &mut groups {
        pack(group);
    }
    pack(groups.remainder());
}

/// Eight bytes of `bytes` from `at`, little-endian, zero past the end.
#[inline]
fn read_u64_le(bytes: &[u8], at: usize) -> u64 {
    match bytes.get(at..at + 8) {
        Some(eight) => u64::from_le_bytes(<[u8; 8]>::try_from(eight).unwrap_or_default()),
        None => bytes
            .get(at..)
            .unwrap_or_default()
            .iter()
            .rev()
            .fold(0u64, |word, byte| (word << 8) | u64::from(*byte)),
    }
}

/// The `position`th count of a dense run of `width`-bit counts (1 to 32), read
/// directly: its bits lie within the 8 bytes from the one holding its first bit.
#[inline]
fn packed_count(packed: &[u8], position: usize, width: u32) -> u32 {
    let bit = position * width as usize;
    let word = read_u64_le(packed, bit / 8);
    ((word >> (bit % 8)) & (u64::MAX >> (64 - width))) as u32
}

/// Subtracts a dense run of `W`-bit counts (`W` at most 8) from `window`, which holds
/// the run's bins and no less than any of its counts; returns their sum. With the
/// width a constant, each group of eight comes from one read and immediate shifts,
/// straight into the window (no staged copy).
#[inline(always)]
fn subtract_packed<const W: usize>(packed: &[u8], window: &mut [u32]) -> u64 {
    let mask = (1u64 << W) - 1;
    // At most 255 a bin over at most 65,536 bins: the sum fits a u32.
    let mut removed = 0u32;
    let mut subtract = |word: u64, bins: &mut [u32]| {
        for (k, slot) in bins.iter_mut().enumerate() {
            let count = ((word >> (k * W)) & mask) as u32;
            *slot = slot.wrapping_sub(count);
            removed = removed.wrapping_add(count);
        }
    };
    let mut groups = window.chunks_exact_mut(8);
    let mut at = 0;
    for bins in &mut groups {
        let word = match packed.get(at..at + 8) {
            Some(eight) => u64::from_le_bytes(<[u8; 8]>::try_from(eight).unwrap_or_default()),
            None => read_u64_le(packed, at),
        };
        subtract(word, bins);
        at += W;
    }
    subtract(read_u64_le(packed, at), groups.into_remainder());
    u64::from(removed)
}

/// Counts `first..first + out.len()` of a dense run into `out`; `first` is a
/// multiple of 8, so that up to a width of 8 each group of eight comes from one read.
fn unpack_counts(packed: &[u8], width: u32, first: usize, out: &mut [u32]) {
    if width > 8 {
        for (position, slot) in (first..).zip(out.iter_mut()) {
            *slot = packed_count(packed, position, width);
        }
        return;
    }
    let mask = u64::MAX >> (64 - width);
    let width = width as usize;
    let unpack = |group: usize, counts: &mut [u32]| {
        let word = read_u64_le(packed, group * width);
        for (k, slot) in counts.iter_mut().enumerate() {
            *slot = ((word >> (k * width)) & mask) as u32;
        }
    };
    let mut groups = out.chunks_exact_mut(8);
    let mut group = first / 8;
    for counts in &mut groups {
        unpack(group, counts);
        group += 1;
    }
    unpack(group, groups.into_remainder());
}

/// Bytes of `value` as a LEB128 varint.
fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

pub(crate) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub(crate) fn unzigzag(value: u64) -> i64 {
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

/// Appends `value` as a LEB128 varint.
pub(crate) fn push_varint(out: &mut Vec<u8>, value: u64) {
    let mut buffer = [0u8; 10];
    let used = put_varint(&mut buffer, value);
    out.extend_from_slice(&buffer[..used]);
}

/// Reads a LEB128 varint; `None` when the bytes end first or it runs past 64 bits.
pub(crate) fn read_varint(bytes: &mut impl Iterator<Item = u8>) -> Option<u64> {
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
    fn dense_runs_pack_like_one_bit_stream_and_read_back_at_every_width() {
        for width in 1..=32u32 {
            for len in [1usize, 7, 8, 9, 61] {
                let max = u32::MAX >> (32 - width);
                let counts: Vec<u32> = (0..len as u32)
                    .map(|i| max.wrapping_sub(i.wrapping_mul(2_654_435_761)) & max)
                    .collect();
                let mut encoded = Vec::new();
                encode_dense(&counts, -7, width, &mut |bytes: &[u8]| {
                    encoded.extend_from_slice(bytes)
                });
                // The reference: every count's bits in turn, least significant first.
                let mut stream = vec![0u8; (len * width as usize).div_ceil(8)];
                for (position, &count) in counts.iter().enumerate() {
                    for bit in 0..width as usize {
                        let at = position * width as usize + bit;
                        stream[at / 8] |= (((count >> bit) & 1) as u8) << (at % 8);
                    }
                }
                let header = 1 + varint_len(len as u64);
                assert_eq!(
                    &encoded[header..],
                    &stream[..],
                    "width {width}, {len} counts"
                );
                for (position, &count) in counts.iter().enumerate() {
                    assert_eq!(packed_count(&stream, position, width), count);
                }
                for first in (0..len).step_by(8) {
                    let mut unpacked = vec![0; len - first];
                    unpack_counts(&stream, width, first, &mut unpacked);
                    assert_eq!(unpacked, counts[first..], "width {width}, from {first}");
                }
            }
        }
    }

    #[test]
    fn ranks_are_ddsketchs_at_every_magnitude() {
        let mut samples: Vec<u64> = (0..5_000).collect();
        for shift in [31, 32, 52, 53, 54, 62, 63] {
            let base = 1u64 << shift;
            samples.extend([base - 1, base, base + 1, base + 12_345]);
        }
        samples.push(u64::MAX);
        for n in samples {
            for q in QUANTILES {
                let expected = (q * n.saturating_sub(1) as f64) as u64;
                assert_eq!(rank(q, n), expected, "q = {q}, n = {n}");
            }
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
        let (mark, _) = sketch.close_tick_into(&layout, &mut log, 0);
        let encoded: Vec<u8> = log.bytes.iter().copied().collect();
        let mut decoded = Vec::new();
        assert!(decode_bins(&encoded, mark.width, |_, count| decoded.push(count)));
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
        let (mark, _) = sketch.close_tick_into(&layout, &mut log, 0);
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
        ours.close_tick_into(&layout, &mut TickLog::default(), 0);
        let estimates = ours.quantiles(&layout, f64::INFINITY);
        for (q, value) in QUANTILES.iter().zip(estimates.values) {
            assert_eq!(value, reference.quantile(*q).ok().flatten(), "q = {q}");
        }
    }

    #[test]
    fn busy_ticks_take_the_dense_encoding_and_expire_exactly() {
        let layout = layout();
        let mut sketch = WindowSketch::default();
        let mut log = TickLog::default();
        // 1,000 values over about 50 adjacent bins, one bin holding 200 more.
        for i in 0..1000u32 {
            sketch.add(&layout, 0.05 * (1.0 + f64::from(i % 80) * 0.02));
        }
        sketch.add_n(&layout, 0.06, 200);
        let (mark, _) = sketch.close_tick_into(&layout, &mut log, 0);
        assert_eq!(
            mark.width, 8,
            "dense, wide enough for 200 and more: {mark:?}"
        );
        assert!(mark.bytes < 60, "about a byte per bin: {mark:?}");
        assert_eq!(sketch.window_count(), 1_200);
        sketch.expire_from(&mut log, mark);
        assert_eq!(sketch.window_count(), 0);
    }

    proptest::proptest! {
        /// Over ticks of any size, sparse or dense, the window equals a `DDSketch` fed
        /// exactly the samples of the ticks still in it.
        #[test]
        fn the_window_is_a_ddsketch_of_its_ticks(
            ticks in proptest::collection::vec(
                (0usize..3000, 0.001..1.0f64, 0.01..2.0f64, proptest::num::u64::ANY), 1..12),
            window_ticks in 1usize..6,
        ) {
            use rand::{SeedableRng, rngs::SmallRng};
            use rand_distr::{Distribution, LogNormal};
            let layout = layout();
            let mut sketch = WindowSketch::default();
            let mut log = TickLog::default();
            let mut marks = std::collections::VecDeque::new();
            let mut kept: std::collections::VecDeque<Vec<f64>> = Default::default();
            for (count, median, sigma, seed) in ticks {
                let dist = LogNormal::new(median.ln(), sigma).expect("valid");
                let mut rng = SmallRng::seed_from_u64(seed);
                let values: Vec<f64> = (0..count).map(|_| dist.sample(&mut rng)).collect();
                for value in &values {
                    sketch.add(&layout, *value);
                }
                marks.push_back(sketch.close_tick_into(&layout, &mut log, 0).0);
                kept.push_back(values);
                while marks.len() > window_ticks {
                    if let Some(mark) = marks.pop_front() {
                        sketch.expire_from(&mut log, mark);
                    }
                    kept.pop_front();
                }
                let mut reference = DDSketch::new(DdConfig::new(0.01, 2048, MIN_VALUE_SECONDS));
                kept.iter().flatten().for_each(|value| reference.add(*value));
                proptest::prop_assert_eq!(sketch.window_count(), reference.count() as u64);
                let estimates = sketch.quantiles(&layout, f64::INFINITY);
                proptest::prop_assert_eq!(sketch.quantiles_tracked(&layout, f64::INFINITY), estimates);
                for (q, value) in QUANTILES.iter().zip(estimates.values) {
                    let expected = reference.quantile(*q).ok().flatten();
                    if reference.count() > 0 {
                        proptest::prop_assert_eq!(value, expected, "q = {}", q);
                    }
                }
            }
        }
    }

    proptest::proptest! {
        /// Tracked quantiles equal a full read of the window whatever happens between
        /// reads: zero latencies, bins grown below and above, collapses at a small
        /// `max_bins`, sparse and dense ticks, and reads skipped for several ticks.
        #[test]
        fn tracked_quantiles_equal_a_full_read(
            ticks in proptest::collection::vec(
                (proptest::collection::vec(
                    proptest::prop_oneof![proptest::strategy::Just(0.0), 1e-7..1e-3f64, 1e-3..10.0f64, 10.0..1e4f64],
                    0..400),
                 proptest::bool::ANY),
                1..30),
            max_bins in 1usize..600,
            window_ticks in 1usize..8,
        ) {
            let layout = SketchLayout::new(0.01, max_bins);
            let mut sketch = WindowSketch::default();
            let mut log = TickLog::default();
            let mut marks = std::collections::VecDeque::new();
            for (values, read) in ticks {
                for value in &values {
                    sketch.add(&layout, *value);
                }
                marks.push_back(sketch.close_tick_into(&layout, &mut log, 0).0);
                while marks.len() > window_ticks {
                    if let Some(mark) = marks.pop_front() {
                        sketch.expire_from(&mut log, mark);
                    }
                }
                if read {
                    let full = sketch.quantiles(&layout, 5.0);
                    proptest::prop_assert_eq!(sketch.quantiles_tracked(&layout, 5.0), full);
                }
            }
        }
    }

    proptest::proptest! {
        /// Subtracting a packed run as it unpacks gives what unpacking it whole and
        /// subtracting gives, with the same sum.
        #[test]
        fn packed_subtraction_equals_unpacking_first(
            width in 1u32..=8,
            raw in proptest::collection::vec((proptest::num::u32::ANY, 0u32..1000), 0..300),
        ) {
            let max = (1u32 << width) - 1;
            let counts: Vec<u32> = raw.iter().map(|(count, _)| count & max).collect();
            let start: Vec<u32> = raw.iter().map(|(count, extra)| (count & max) + extra).collect();
            let mut encoded = Vec::new();
            encode_dense(&counts, 3, width, &mut |bytes: &[u8]| encoded.extend_from_slice(bytes));
            let packed = &encoded[1 + varint_len(counts.len() as u64)..];
            let mut window = start.clone();
            let removed = with_narrow_width!(width, subtract_packed(packed, &mut window));
            let mut unpacked = vec![0; counts.len()];
            unpack_counts(packed, width, 0, &mut unpacked);
            let expected: Vec<u32> = start.iter().zip(&unpacked).map(|(a, b)| a.saturating_sub(*b)).collect();
            proptest::prop_assert_eq!(&window, &expected);
            let total: u64 = counts.iter().map(|&c| u64::from(c)).sum();
            proptest::prop_assert_eq!(removed, Some(total));
        }
    }

    proptest::proptest! {
        /// The window stays a sum of its ticks through busy (dense, narrow) ticks
        /// entering and leaving, with zeros among them: quantiles and tracked reads
        /// agree with a full read of a window rebuilt from the ticks kept.
        #[test]
        fn dense_ticks_expire_to_the_window_of_the_ticks_kept(
            ticks in proptest::collection::vec(
                (20usize..800, 0.005..0.5f64, 0.05..1.0f64, 0usize..40, proptest::num::u64::ANY),
                1..30),
            window_ticks in 1usize..10,
        ) {
            use rand::{SeedableRng, rngs::SmallRng};
            use rand_distr::{Distribution, LogNormal};
            let layout = layout();
            let mut sketch = WindowSketch::default();
            let mut log = TickLog::default();
            let mut marks = std::collections::VecDeque::new();
            let mut kept: std::collections::VecDeque<Vec<f64>> = Default::default();
            for (count, median, sigma, zeros, seed) in ticks {
                let dist = LogNormal::new(median.ln(), sigma).expect("valid");
                let mut rng = SmallRng::seed_from_u64(seed);
                let mut values: Vec<f64> = (0..count).map(|_| dist.sample(&mut rng)).collect();
                values.extend(std::iter::repeat_n(0.0, zeros));
                values.iter().for_each(|value| sketch.add(&layout, *value));
                marks.push_back(sketch.close_tick_into(&layout, &mut log, 0).0);
                kept.push_back(values);
                while marks.len() > window_ticks {
                    if let Some(mark) = marks.pop_front() {
                        sketch.expire_from(&mut log, mark);
                    }
                    kept.pop_front();
                }
                let mut rebuilt = WindowSketch::default();
                kept.iter().flatten().for_each(|value| rebuilt.add(&layout, *value));
                rebuilt.close_tick_into(&layout, &mut TickLog::default(), 0);
                let full = sketch.quantiles(&layout, 5.0);
                proptest::prop_assert_eq!(full, rebuilt.quantiles(&layout, 5.0));
                proptest::prop_assert_eq!(sketch.quantiles_tracked(&layout, 5.0), full);
            }
        }
    }

    #[test]
    fn a_wide_range_collapses_low_bins_and_says_so() {
        let layout = SketchLayout::new(0.01, 64);
        let mut sketch = WindowSketch::default();
        sketch.add(&layout, 1e-6);
        sketch.add_n(&layout, 100.0, 10);
        sketch.close_tick_into(&layout, &mut TickLog::default(), 0);
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
