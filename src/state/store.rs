//! Stored history, without the storage: how closed ticks are encoded as records, merged
//! into rollups, re-aggregated over a range, and how long each resolution is kept. No
//! browser calls and no clock: `platform::storage` moves the bytes, `state::storage`
//! decides when.
//!
//! A record keeps each module's counts, sums and sketch bins, not its percentiles, so
//! any range re-aggregates with the sketch's accuracy instead of averaging percentiles.

use std::cell::RefCell;

use crate::monitor::rice;
use crate::monitor::sketch::{
    RICE_WIDTH, SketchLayout, decode_bins, decode_run, encode_bins, push_varint, read_varint,
    unzigzag, zigzag,
};
use crate::monitor::window::ClosedTick;

use super::history::Point;

/// First byte of every record written. Version 2 stores each tick's bins in the smaller
/// of the window's encoding and the Rice one ([`rice`]), and the latency count as its
/// difference from the requests; version 1 records (the window's encoding as it was)
/// still read. A record of any other version is refused as corrupt.
const RECORD_VERSION: u8 = 2;
const FIRST_VERSION: u8 = 1;

/// Why a stored record was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("corrupt history record: {0}")]
pub struct CorruptRecord(&'static str);

/// One tick of every module that had data in it, as one record (module ids index the
/// stored names).
pub fn encode_tick(modules: &[(u32, ClosedTick)]) -> Vec<u8> {
    encode_tick_and(modules, |_, _, _, _| ())
}

/// [`encode_tick`], handing each module's tick to `also(id, tick, run, counts)` with
/// its bins decoded (when they are a dense run: `counts` from key `run`).
fn encode_tick_and(
    modules: &[(u32, ClosedTick)],
    mut also: impl FnMut(u32, &ClosedTick, Option<i32>, &[u32]),
) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + modules.len() * 96);
    out.push(RECORD_VERSION);
    push_varint(&mut out, modules.len() as u64);
    SCRATCH.with_borrow_mut(|scratch| {
        for (id, tick) in modules {
            let run = scratch.dense_run(tick);
            also(*id, tick, run, &scratch.counts);
            push_varint(&mut out, u64::from(*id));
            put_closed(&mut out, tick, run, scratch);
        }
    });
    out
}

/// The modules of a record written by [`encode_tick`].
pub fn decode_tick(bytes: &[u8]) -> Result<Vec<(u32, ClosedTick)>, CorruptRecord> {
    let mut reader = Reader::new(bytes)?;
    let count = reader.varint()?;
    // Each module takes at least 10 bytes: a count beyond that is corrupt, not a
    // reason to reserve memory.
    if count > bytes.len() as u64 {
        return Err(CorruptRecord("module count beyond the record"));
    }
    let mut modules = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let id = u32::try_from(reader.varint()?).map_err(|_| CorruptRecord("module id"))?;
        modules.push((id, reader.closed()?));
    }
    Ok(modules)
}

/// One module's rollup (a merged span of ticks) as one record.
pub fn encode_rollup(tick: &ClosedTick) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + tick.bins.len());
    out.push(RECORD_VERSION);
    SCRATCH.with_borrow_mut(|scratch| {
        let run = scratch.dense_run(tick);
        put_closed(&mut out, tick, run, scratch);
    });
    out
}

/// A record written by [`encode_rollup`].
pub fn decode_rollup(bytes: &[u8]) -> Result<ClosedTick, CorruptRecord> {
    Reader::new(bytes)?.closed()
}

/// Buffers reused by every record encoded and every tick merged (one thread: the page's).
#[derive(Default)]
struct Scratch {
    /// A tick's bins as one run of counts.
    counts: Vec<u32>,
    /// Their Rice encoding.
    coded: Vec<u8>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::default();
}

/// Writes one tick; `run` is the first key of its bins decoded into `scratch.counts`
/// (when they are a dense run).
fn put_closed(out: &mut Vec<u8>, tick: &ClosedTick, run: Option<i32>, scratch: &mut Scratch) {
    // Histogram-fed samples are the only difference: usually none.
    let unsampled = i64::from(tick.latency_count) - i64::from(tick.requests);
    for value in [
        u64::from(tick.requests),
        u64::from(tick.errors),
        zigzag(unsampled),
        u64::from(tick.zeros),
        tick.latency_sum_nanos,
    ] {
        push_varint(out, value);
    }
    out.extend(tick.latency_max_seconds.to_le_bytes());
    let (width, bins) = scratch.densest(tick, run);
    out.push(width);
    push_varint(out, bins.len() as u64);
    out.extend(bins);
}

impl Scratch {
    /// Decodes a dense tick's bins into `counts`; returns their first key. Sparse
    /// pairs are left as they are: they hold few events, which Rice codes no smaller.
    fn dense_run(&mut self, tick: &ClosedTick) -> Option<i32> {
        if !(1..=32).contains(&tick.width) {
            return None;
        }
        decode_run(
            &tick.bins,
            tick.width,
            MAX_MERGED_BINS as usize,
            &mut self.counts,
        )
    }

    /// The tick's bins in the smaller of their own encoding and the Rice one of `counts`
    /// (decoded from them, from key `run`), with the width that says which.
    fn densest<'a>(&'a mut self, tick: &'a ClosedTick, run: Option<i32>) -> (u8, &'a [u8]) {
        if let Some(first_key) = run
            // Every count takes a bit at least: a run this long cannot be smaller.
            && self.counts.len() / 8 < tick.bins.len()
        {
            self.coded.clear();
            rice::encode(&self.counts, first_key, &mut self.coded);
            if self.coded.len() < tick.bins.len() {
                return (RICE_WIDTH, &self.coded);
            }
        }
        (tick.width, &tick.bins)
    }
}

/// Reads a record, refusing anything truncated or malformed.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    version: u8,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Result<Self, CorruptRecord> {
        match bytes.first() {
            Some(&version @ (FIRST_VERSION | RECORD_VERSION)) => Ok(Reader {
                bytes,
                at: 1,
                version,
            }),
            Some(_) => Err(CorruptRecord("unknown record version")),
            None => Err(CorruptRecord("empty record")),
        }
    }

    fn varint(&mut self) -> Result<u64, CorruptRecord> {
        let mut rest = self
            .bytes
            .get(self.at..)
            .unwrap_or_default()
            .iter()
            .copied();
        let value = read_varint(&mut rest).ok_or(CorruptRecord("truncated or overlong number"))?;
        self.at = self.bytes.len() - rest.len();
        Ok(value)
    }

    fn count(&mut self) -> Result<u32, CorruptRecord> {
        u32::try_from(self.varint()?).map_err(|_| CorruptRecord("count beyond 32 bits"))
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], CorruptRecord> {
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(CorruptRecord("truncated record"))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn closed(&mut self) -> Result<ClosedTick, CorruptRecord> {
        let requests = self.count()?;
        let errors = self.count()?;
        let latency_count = if self.version == FIRST_VERSION {
            self.count()?
        } else {
            let unsampled = unzigzag(self.varint()?);
            u32::try_from(i64::from(requests) + unsampled)
                .map_err(|_| CorruptRecord("latency count beyond 32 bits"))?
        };
        let zeros = self.count()?;
        let latency_sum_nanos = self.varint()?;
        let max = self.take(8)?;
        let latency_max_seconds = f64::from_le_bytes(<[u8; 8]>::try_from(max).unwrap_or_default());
        let width = self.take(1)?[0];
        if width > 32 && (width != RICE_WIDTH || self.version == FIRST_VERSION) {
            return Err(CorruptRecord("unknown bins encoding"));
        }
        let len = usize::try_from(self.varint()?).map_err(|_| CorruptRecord("bins length"))?;
        let bins = self.take(len)?.to_vec();
        if errors > requests || !latency_max_seconds.is_finite() || latency_max_seconds < 0.0 {
            return Err(CorruptRecord("inconsistent counts"));
        }
        Ok(ClosedTick {
            requests,
            errors,
            latency_count,
            latency_max_seconds,
            latency_sum_nanos,
            zeros,
            bins,
            width,
        })
    }
}

/// Ticks merged into one: a rollup while it is being built, and any range's
/// re-aggregation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    requests: u64,
    errors: u64,
    latency_count: u64,
    latency_sum_nanos: u64,
    latency_max_seconds: f64,
    zeros: u64,
    /// Counts by key from `first_key`.
    bins: Vec<u64>,
    first_key: i32,
}

/// Most bins a merge holds (keys span far less at any sane relative error).
const MAX_MERGED_BINS: i64 = 1 << 16;

impl Merged {
    /// Adds one tick (or rollup). Returns false for bins that do not decode, having
    /// added the counts.
    pub fn add(&mut self, tick: &ClosedTick) -> bool {
        SCRATCH.with_borrow_mut(|scratch| {
            let run = scratch.dense_run(tick);
            self.add_decoded(tick, run, &scratch.counts)
        })
    }

    /// [`Merged::add`] with a dense tick's bins already decoded: `counts` from key `run`.
    fn add_decoded(&mut self, tick: &ClosedTick, run: Option<i32>, counts: &[u32]) -> bool {
        self.requests += u64::from(tick.requests);
        self.errors += u64::from(tick.errors);
        self.latency_count += u64::from(tick.latency_count);
        self.latency_sum_nanos = self
            .latency_sum_nanos
            .saturating_add(tick.latency_sum_nanos);
        self.latency_max_seconds = self.latency_max_seconds.max(tick.latency_max_seconds);
        self.zeros += u64::from(tick.zeros);
        match run {
            Some(first_key) => {
                self.add_run(first_key, counts);
                true
            }
            // Not a dense run (or not bins): bin by bin, as far as they decode.
            None => decode_bins(&tick.bins, tick.width, |key, count| {
                self.add_bin(key, count)
            }),
        }
    }

    /// Adds counts by key from `first_key`: one slice added to another when the keys
    /// fit the range held, grown first if need be.
    fn add_run(&mut self, first_key: i32, counts: &[u32]) {
        let Some(last_key) = counts
            .len()
            .checked_sub(1)
            .map(|last| first_key + last as i32)
        else {
            return;
        };
        for key in [first_key, last_key] {
            self.add_bin(key, 0);
        }
        let at = i64::from(first_key) - i64::from(self.first_key);
        let held = usize::try_from(at)
            .ok()
            .and_then(|at| self.bins.get_mut(at..at + counts.len()));
        match held {
            Some(held) => {
                for (slot, &count) in held.iter_mut().zip(counts) {
                    *slot += u64::from(count);
                }
            }
            // Wider than a merge holds: what fits, bin by bin.
            None => {
                for (position, &count) in counts.iter().enumerate() {
                    self.add_bin(first_key + position as i32, count);
                }
            }
        }
    }

    // Always: the bundle is built for size, and this runs for every bin of a sparse tick.
    #[inline(always)]
    fn add_bin(&mut self, key: i32, count: u32) {
        // The usual case: the key lies in the range already held.
        let at = i64::from(key) - i64::from(self.first_key);
        if let Some(slot) = usize::try_from(at)
            .ok()
            .and_then(|at| self.bins.get_mut(at))
        {
            *slot += u64::from(count);
            return;
        }
        self.grow_for(key, count);
    }

    #[cold]
    fn grow_for(&mut self, key: i32, count: u32) {
        if self.bins.is_empty() {
            self.first_key = key;
        }
        let start = i64::from(self.first_key);
        let end = start + self.bins.len() as i64;
        let key = i64::from(key);
        if key < start {
            if end - key > MAX_MERGED_BINS {
                return;
            }
            let grow = (start - key) as usize;
            self.bins.splice(0..0, std::iter::repeat_n(0, grow));
            self.first_key = key as i32;
        } else if key >= end {
            if key - start >= MAX_MERGED_BINS {
                return;
            }
            self.bins.resize((key - start + 1) as usize, 0);
        }
        self.bins[(key - i64::from(self.first_key)) as usize] += u64::from(count);
    }

    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.requests == 0 && self.latency_count == 0
    }

    /// The merge as one stored tick (counts saturate at 32 bits).
    pub fn to_closed(&self) -> ClosedTick {
        let bins: Vec<u32> = self.bins.iter().map(|&c| saturate(c)).collect();
        let mut encoded = Vec::new();
        let width = encode_bins(&bins, self.first_key, &mut encoded);
        ClosedTick {
            requests: saturate(self.requests),
            errors: saturate(self.errors),
            latency_count: saturate(self.latency_count),
            latency_max_seconds: self.latency_max_seconds,
            latency_sum_nanos: self.latency_sum_nanos,
            zeros: saturate(self.zeros),
            bins: encoded,
            width,
        }
    }

    /// The merge as a chart point at `t`, over `seconds` of time.
    pub fn point(&self, layout: &SketchLayout, t: f64, seconds: f64) -> Point {
        let [p50, p95, p99] = [0.50, 0.95, 0.99].map(|q| self.quantile(layout, q) as f32);
        Point {
            t,
            p50,
            p95,
            p99,
            rps: (self.requests as f64 / seconds.max(f64::MIN_POSITIVE)) as f32,
            error_rate: if self.requests > 0 {
                (self.errors as f64 / self.requests as f64) as f32
            } else {
                0.0
            },
            anomaly: false,
        }
    }

    /// The sample of rank `floor(q * (n - 1))`, as the live window reads it.
    fn quantile(&self, layout: &SketchLayout, q: f64) -> f64 {
        let samples = self.zeros + self.bins.iter().sum::<u64>();
        if samples == 0 {
            return 0.0;
        }
        let rank = (q * (samples - 1) as f64) as u64;
        if rank < self.zeros {
            return 0.0;
        }
        let mut seen = self.zeros;
        for (index, &count) in self.bins.iter().enumerate() {
            seen += count;
            if seen > rank {
                let value = layout.value(self.first_key + index as i32);
                return value.min(self.latency_max_seconds.max(0.0));
            }
        }
        self.latency_max_seconds
    }
}

fn saturate(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Ticks at times `t` (each `tick_seconds` long) merged into steps of `step_seconds`
/// from `from`: one point per step that had data, at the step's end.
pub fn series<'a>(
    layout: &SketchLayout,
    ticks: impl IntoIterator<Item = (f64, &'a ClosedTick)>,
    from: f64,
    step_seconds: f64,
    tick_seconds: f64,
) -> Vec<Point> {
    let step = step_seconds.max(tick_seconds).max(f64::MIN_POSITIVE);
    let mut steps: Vec<(i64, Merged, f64)> = Vec::new();
    for (t, tick) in ticks {
        // A tick at `t` covers (t - tick, t]: it belongs to the step holding its start.
        let index = ((t - tick_seconds - from) / step).floor() as i64;
        if steps.last().is_none_or(|(last, _, _)| *last != index) {
            steps.push((index, Merged::default(), 0.0));
        }
        if let Some((_, merged, covered)) = steps.last_mut() {
            merged.add(tick);
            *covered += tick_seconds;
        }
    }
    steps
        .iter()
        .filter(|(_, merged, _)| !merged.is_empty())
        .map(|(index, merged, covered)| {
            let end = from + (*index + 1) as f64 * step;
            merged.point(layout, end, covered.min(step))
        })
        .collect()
}

/// The `history` part of the config: what is stored in the browser, for how long.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HistorySettings {
    /// Keep history in IndexedDB, and resume from it on reload.
    pub enabled: bool,
    /// Hours kept at full (tick) resolution.
    pub recent_hours: f64,
    /// Seconds each rollup spans.
    pub rollup_seconds: f64,
    /// Days of rollups kept.
    pub rollup_days: f64,
    /// MiB the history may take; beyond it writes stop and the page says so.
    pub budget_mib: f64,
    /// Ticks replayed on reload, so that windows and detectors' baselines resume
    /// (at least the window).
    pub resume_ticks: u32,
}

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings {
            enabled: true,
            recent_hours: 6.0,
            rollup_seconds: 60.0,
            rollup_days: 7.0,
            budget_mib: 512.0,
            resume_ticks: 600,
        }
    }
}

impl HistorySettings {
    /// Checks the settings; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        use crate::monitor::config::check_between;
        check_between("history.recent_hours", self.recent_hours, 0.0, 168.0)?;
        check_between(
            "history.rollup_seconds",
            self.rollup_seconds,
            10.0,
            86_400.0,
        )?;
        check_between("history.rollup_days", self.rollup_days, 0.0, 366.0)?;
        check_between("history.budget_mib", self.budget_mib, 0.001, 1_000_000.0)?;
        if self.resume_ticks > 100_000 {
            return Err(format!(
                "history.resume_ticks must be at most 100000 (got {})",
                self.resume_ticks
            ));
        }
        Ok(())
    }

    /// The retention these settings ask for.
    pub fn retention(&self) -> Retention {
        Retention {
            recent_seconds: self.recent_hours * 3600.0,
            rollup_seconds: self.rollup_seconds,
            rollup_keep_seconds: self.rollup_days * 86_400.0,
            budget_bytes: self.budget_mib * 1024.0 * 1024.0,
        }
    }
}

/// How long each resolution is kept, and the space it may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retention {
    /// Seconds of full (tick) resolution.
    pub recent_seconds: f64,
    /// Seconds a rollup spans.
    pub rollup_seconds: f64,
    /// Seconds of rollups.
    pub rollup_keep_seconds: f64,
    /// Bytes the history may take.
    pub budget_bytes: f64,
}

impl Retention {
    /// Ticks older than this are deleted at `now`.
    pub fn ticks_cutoff(&self, now: f64) -> f64 {
        now - self.recent_seconds
    }

    /// Rollups older than this are deleted at `now`.
    pub fn rollups_cutoff(&self, now: f64) -> f64 {
        now - self.rollup_keep_seconds
    }

    /// The start of the rollup holding time `t`.
    pub fn rollup_start(&self, t: f64) -> f64 {
        (t / self.rollup_seconds).floor() * self.rollup_seconds
    }
}

/// A finished span: its start and its rollups, by module id.
pub type FinishedSpan = (f64, Vec<(u32, ClosedTick)>);

/// Builds each module's rollup from its ticks as they close, handing over the
/// finished ones when a tick crosses into the next span.
#[derive(Debug, Default)]
pub struct Rollups {
    span_start: Option<f64>,
    /// By module id (ids are dense: they index the stored names).
    open: Vec<Merged>,
}

impl Rollups {
    /// Adds the ticks closed at `t`. When `t` starts a new span, returns the finished
    /// span's start and its rollups (by module id) first.
    pub fn add(
        &mut self,
        retention: &Retention,
        t: f64,
        tick_seconds: f64,
        modules: &[(u32, ClosedTick)],
    ) -> Option<FinishedSpan> {
        let finished = self.advance(retention, t, tick_seconds);
        for (id, tick) in modules {
            self.open_for(*id).add(tick);
        }
        finished
    }

    /// [`Rollups::add`], also encoding the ticks as one record ([`encode_tick`]): each
    /// tick's bins are decoded once for both.
    pub fn add_and_encode(
        &mut self,
        retention: &Retention,
        t: f64,
        tick_seconds: f64,
        modules: &[(u32, ClosedTick)],
    ) -> (Vec<u8>, Option<FinishedSpan>) {
        let finished = self.advance(retention, t, tick_seconds);
        let record = encode_tick_and(modules, |id, tick, run, counts| {
            self.open_for(id).add_decoded(tick, run, counts);
        });
        (record, finished)
    }

    /// Moves to the span holding the tick closed at `t`, handing over the finished one.
    fn advance(
        &mut self,
        retention: &Retention,
        t: f64,
        tick_seconds: f64,
    ) -> Option<FinishedSpan> {
        let start = retention.rollup_start(t - tick_seconds);
        let finished = match self.span_start {
            Some(open_start) if open_start != start => Some((open_start, self.take())),
            _ => None,
        };
        self.span_start = Some(start);
        finished.filter(|(_, rollups)| !rollups.is_empty())
    }

    fn open_for(&mut self, id: u32) -> &mut Merged {
        let id = id as usize;
        if id >= self.open.len() {
            self.open.resize_with(id + 1, Merged::default);
        }
        &mut self.open[id]
    }

    fn take(&mut self) -> Vec<(u32, ClosedTick)> {
        self.open
            .iter_mut()
            .enumerate()
            .filter(|(_, merged)| !merged.is_empty())
            .map(|(id, merged)| (id as u32, std::mem::take(merged).to_closed()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::PerformanceMonitor;

    /// Closed ticks of module "db" from a monitor fed `per_tick` latencies per tick.
    fn ticks(per_tick: &[&[f64]]) -> Vec<(f64, ClosedTick)> {
        let mut monitor = PerformanceMonitor::default();
        per_tick
            .iter()
            .enumerate()
            .map(|(k, latencies)| {
                let now = 1000.0 + k as f64;
                for (n, latency) in latencies.iter().enumerate() {
                    monitor
                        .record("db", *latency, n % 4 != 3, now)
                        .expect("valid");
                }
                monitor.tick(now + 1.0);
                let tick = monitor.module("db").and_then(|m| m.last_closed());
                (now + 1.0, tick.expect("a closed tick"))
            })
            .collect()
    }

    #[test]
    fn records_round_trip_and_corruption_is_refused() {
        let closed = ticks(&[&[0.01, 0.02, 0.0, 0.5, 0.5, 0.5]]);
        let tick = &closed[0].1;
        assert_eq!((tick.requests, tick.errors, tick.zeros), (6, 1, 1));
        let record = encode_tick(&[(3, tick.clone()), (9, ClosedTick::default())]);
        let decoded = decode_tick(&record).expect("decodes");
        assert_eq!(decoded[0], (3, tick.clone()));
        assert_eq!(decoded[1], (9, ClosedTick::default()));
        assert_eq!(decode_rollup(&encode_rollup(tick)), Ok(tick.clone()));
        for cut in 0..record.len() {
            assert!(decode_tick(&record[..cut]).is_err(), "truncated at {cut}");
        }
        let mut other_version = record.clone();
        other_version[0] = 7;
        assert_eq!(
            decode_tick(&other_version),
            Err(CorruptRecord("unknown record version"))
        );
        assert!(
            decode_tick(&[
                1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ])
            .is_err()
        );
    }

    /// A version 1 record (two modules: a sparse tick, and a dense one of 300 samples)
    /// and a version 1 rollup of both, as the previous release wrote them.
    const V1_TICK: [u8; 64] = [
        1, 2, 3, 6, 1, 6, 1, 128, 229, 199, 217, 5, 0, 0, 0, 0, 0, 0, 224, 63, 0, 7, 154, 7, 140,
        1, 133, 5, 3, 9, 172, 2, 75, 172, 2, 0, 128, 133, 166, 223, 38, 244, 219, 215, 129, 115,
        70, 164, 63, 5, 13, 223, 2, 15, 136, 75, 89, 101, 173, 181, 86, 92, 241, 3,
    ];
    const V1_ROLLUP: [u8; 59] = [
        1, 178, 2, 76, 178, 2, 1, 128, 234, 237, 184, 44, 0, 0, 0, 0, 0, 0, 224, 63, 0, 37, 154, 7,
        140, 1, 81, 8, 5, 28, 5, 18, 5, 18, 5, 21, 5, 18, 5, 21, 5, 21, 5, 21, 5, 21, 5, 21, 5, 24,
        5, 21, 5, 24, 5, 15, 253, 3, 3,
    ];

    #[test]
    fn version_1_records_still_read() {
        let modules = decode_tick(&V1_TICK).expect("a version 1 tick decodes");
        let (sparse, dense) = (&modules[0], &modules[1]);
        assert_eq!((sparse.0, dense.0), (3, 9));
        assert_eq!(
            (
                sparse.1.requests,
                sparse.1.errors,
                sparse.1.zeros,
                sparse.1.width
            ),
            (6, 1, 1, 0)
        );
        assert_eq!(sparse.1.latency_sum_nanos, 1_530_000_000);
        assert_eq!(sparse.1.latency_max_seconds, 0.5);
        assert_eq!((dense.1.requests, dense.1.latency_count), (300, 300));
        assert_eq!((dense.1.width, dense.1.bins.len()), (5, 13));
        let mut merged = Merged::default();
        assert!(merged.add(&sparse.1) && merged.add(&dense.1));
        let rollup = decode_rollup(&V1_ROLLUP).expect("a version 1 rollup decodes");
        assert_eq!(rollup.requests, 306);
        let mut from_rollup = Merged::default();
        assert!(from_rollup.add(&rollup));
        assert_eq!(
            merged, from_rollup,
            "the ticks merge to their stored rollup"
        );
        // Written again, they are version 2 and read back the same.
        let again = decode_tick(&encode_tick(&modules)).expect("decodes");
        for ((id, tick), (again_id, again_tick)) in modules.iter().zip(&again) {
            assert_eq!(id, again_id);
            assert_same_tick(tick, again_tick);
        }
    }

    /// The same counts, sums and bins (whatever their encoding).
    fn assert_same_tick(a: &ClosedTick, b: &ClosedTick) {
        let bins = |tick: &ClosedTick| {
            let mut bins = Vec::new();
            assert!(decode_bins(&tick.bins, tick.width, |key, count| bins.push((key, count))));
            bins
        };
        assert_eq!(bins(a), bins(b));
        let strip = |tick: &ClosedTick| ClosedTick {
            bins: Vec::new(),
            width: 0,
            ..tick.clone()
        };
        assert_eq!(strip(a), strip(b));
    }

    #[test]
    fn busy_ticks_store_their_bins_rice_coded_and_smaller() {
        let latencies: Vec<f64> = (0..1000)
            .map(|n| 0.05 * (1.0 + 0.4 * ((n * 7919) % 1000) as f64 / 1000.0).powi(3))
            .collect();
        let closed = ticks(&[&latencies]);
        let tick = &closed[0].1;
        assert!(tick.width > 0, "the window keeps it dense");
        let record = encode_tick(&[(0, tick.clone())]);
        let stored = decode_tick(&record).expect("decodes");
        assert_eq!(stored[0].1.width, RICE_WIDTH);
        assert!(
            stored[0].1.bins.len() * 10 < tick.bins.len() * 8,
            "{} against {} bytes",
            stored[0].1.bins.len(),
            tick.bins.len()
        );
        assert_same_tick(tick, &stored[0].1);
        for cut in 0..record.len() {
            assert!(decode_tick(&record[..cut]).is_err(), "truncated at {cut}");
        }
        let mut v1 = record.clone();
        v1[0] = 1;
        assert!(decode_tick(&v1).is_err(), "version 1 has no Rice bins");
    }

    proptest::proptest! {
        /// Any bins, in whichever encoding the window chose, come back from a record
        /// with the same keys and counts, and merge to the same sums.
        #[test]
        fn records_keep_every_bin_exactly(
            counts in proptest::collection::vec(
                proptest::prop_oneof![
                    6 => 0u32..8,
                    3 => 0u32..100,
                    1 => proptest::num::u32::ANY,
                ],
                0..400),
            first_key in -100_000i32..100_000,
            spread in 1i32..2_000,
            requests in proptest::num::u32::ANY,
            unsampled in -1000i64..1000,
            sum in proptest::num::u64::ANY,
        ) {
            // Every `spread`th key: wide, sparse ranges as well as dense runs.
            let mut run = vec![0u32; counts.len().saturating_sub(1) * spread as usize + 1];
            for (k, &count) in counts.iter().enumerate() {
                run[k * spread as usize] = count;
            }
            let mut bins = Vec::new();
            let width = encode_bins(if counts.is_empty() { &[] } else { &run }, first_key, &mut bins);
            let tick = ClosedTick {
                requests,
                errors: requests / 3,
                latency_count: u32::try_from(i64::from(requests) + unsampled).unwrap_or(requests),
                latency_max_seconds: 1.5,
                latency_sum_nanos: sum,
                zeros: 2,
                bins,
                width,
            };
            let stored = decode_tick(&encode_tick(&[(7, tick.clone())])).expect("decodes");
            assert_same_tick(&tick, &stored[0].1);
            let rollup = decode_rollup(&encode_rollup(&tick)).expect("decodes");
            assert_same_tick(&tick, &rollup);
            let (mut a, mut b) = (Merged::default(), Merged::default());
            proptest::prop_assert!(a.add(&tick) && b.add(&stored[0].1));
            proptest::prop_assert_eq!(a, b);
        }

        /// Arbitrary bytes after a version byte give an error or a record, never a panic.
        #[test]
        fn arbitrary_records_do_not_panic(
            version in 1u8..3,
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80),
        ) {
            let record: Vec<u8> = std::iter::once(version).chain(bytes).collect();
            if let Ok(modules) = decode_tick(&record) {
                for (_, tick) in &modules {
                    Merged::default().add(tick);
                }
            }
            let _ = decode_rollup(&record);
        }
    }

    #[test]
    fn replayed_ticks_rebuild_the_same_window() {
        let latencies: Vec<Vec<f64>> = (0..90)
            .map(|k| {
                (0..(1 + k % 7) * 20)
                    .map(|n| 0.001 * (1 + (n * 37 + k) % 400) as f64)
                    .collect()
            })
            .collect();
        let per_tick: Vec<&[f64]> = latencies.iter().map(Vec::as_slice).collect();
        let mut original = PerformanceMonitor::default();
        let mut replayed = PerformanceMonitor::default();
        for (k, tick) in per_tick.iter().enumerate() {
            let now = 1000.0 + k as f64;
            for (n, latency) in tick.iter().enumerate() {
                original
                    .record("db", *latency, n % 9 != 0, now)
                    .expect("valid");
            }
            original.tick(now + 1.0);
            let closed = original
                .module("db")
                .and_then(|m| m.last_closed())
                .expect("closed");
            let stored = decode_tick(&encode_tick(&[(0, closed)])).expect("decodes");
            replayed
                .replay(
                    "db",
                    crate::monitor::ModuleSource::Events,
                    &stored[0].1,
                    now,
                )
                .expect("replays");
            replayed.tick(now + 1.0);
        }
        let a = original.module("db").map(|m| m.statistics().clone());
        let b = replayed.module("db").map(|m| m.statistics().clone());
        let (a, b) = (a.expect("module"), b.expect("module"));
        assert_eq!(a.percentiles, b.percentiles);
        assert_eq!(a.window_requests, b.window_requests);
        assert_eq!(a.error_rate, b.error_rate);
        assert_eq!(a.latency_max, b.latency_max);
        assert!((a.latency_mean - b.latency_mean).abs() < 1e-9);
    }

    #[test]
    fn ranges_re_aggregate_with_the_sketch_not_averaged_percentiles() {
        // Nine quiet ticks then one slow burst: averaging per-tick p99s would say
        // ~0.1 s; the merged sketch's p99 over the ten ticks is the burst's 2 s.
        let quiet: Vec<f64> = vec![0.01; 100];
        let slow: Vec<f64> = vec![2.0; 50];
        let mut per_tick: Vec<&[f64]> = vec![&quiet; 9];
        per_tick.push(&slow);
        let closed = ticks(&per_tick);
        let layout = SketchLayout::new(0.01, 4096);
        let points = series(
            &layout,
            closed.iter().map(|(t, c)| (*t, c)),
            1000.0,
            10.0,
            1.0,
        );
        assert_eq!(points.len(), 1, "{points:?}");
        let point = points[0];
        assert_eq!(point.t, 1010.0);
        assert!((point.p99 - 2.0).abs() < 0.03, "p99 {}", point.p99);
        assert!((point.p50 - 0.01).abs() < 0.0002, "p50 {}", point.p50);
        assert!((point.rps - 95.0).abs() < 1e-3, "rps {}", point.rps);
        assert!(
            (point.error_rate - 0.24).abs() < 0.01,
            "errors {}",
            point.error_rate
        );
        // Two-second steps: five points, the last one slow.
        let points = series(
            &layout,
            closed.iter().map(|(t, c)| (*t, c)),
            1000.0,
            2.0,
            1.0,
        );
        assert_eq!(points.len(), 5);
        assert!(points[4].p95 > 1.9 && points[3].p99 < 0.011, "{points:?}");
    }

    #[test]
    fn rollups_close_per_span_and_merge_exactly() {
        let retention = Retention {
            recent_seconds: 30.0,
            rollup_seconds: 60.0,
            rollup_keep_seconds: 600.0,
            budget_bytes: 1e9,
        };
        // Ticks closing at 1001..=1130 (an injected clock): spans start at 960, 1020,
        // 1080; the 1020 span holds the ticks closing at 1021..=1080.
        let latencies: Vec<f64> = vec![0.03; 10];
        let per_tick: Vec<&[f64]> = vec![&latencies; 130];
        let closed = ticks(&per_tick);
        let mut rollups = Rollups::default();
        let mut finished = Vec::new();
        // The keeper's path: the record and the rollups from one decoding.
        let mut keepers = Rollups::default();
        for (t, tick) in &closed {
            let modules = [(4, tick.clone())];
            let done = rollups.add(&retention, *t, 1.0, &modules);
            let (record, also_done) = keepers.add_and_encode(&retention, *t, 1.0, &modules);
            assert_eq!(record, encode_tick(&modules));
            assert_eq!(done, also_done);
            finished.extend(done);
        }
        let starts: Vec<f64> = finished.iter().map(|(start, _)| *start).collect();
        assert_eq!(starts, vec![960.0, 1020.0]);
        let (_, span) = &finished[1];
        assert_eq!(span[0].0, 4);
        assert_eq!(span[0].1.requests, 600, "sixty ticks of ten");
        let mut merged = Merged::default();
        assert!(merged.add(&decode_rollup(&encode_rollup(&span[0].1)).expect("decodes")));
        let point = merged.point(&SketchLayout::new(0.01, 4096), 1080.0, 60.0);
        assert!(
            (point.p95 - 0.03).abs() < 0.0006 && point.rps == 10.0,
            "{point:?}"
        );
        assert_eq!(retention.ticks_cutoff(2000.0), 1970.0);
        assert_eq!(retention.rollups_cutoff(2000.0), 1400.0);
    }

    #[test]
    fn history_settings_are_checked_by_name() {
        let parse =
            |json: &str| crate::config::AppConfig::parse(json, "test").map(|c| c.settings.history);
        let defaults = parse("{}").expect("the defaults are valid");
        assert_eq!(defaults, HistorySettings::default());
        assert_eq!(defaults.retention().recent_seconds, 6.0 * 3600.0);
        let custom =
            parse(r#"{"history": {"recent_hours": 1, "budget_mib": 0.5}}"#).expect("valid");
        assert_eq!(custom.retention().budget_bytes, 0.5 * 1024.0 * 1024.0);
        for (json, field) in [
            (
                r#"{"history": {"recent_hours": -1}}"#,
                "history.recent_hours",
            ),
            (
                r#"{"history": {"rollup_seconds": 1}}"#,
                "history.rollup_seconds",
            ),
            (
                r#"{"history": {"rollup_days": 1000}}"#,
                "history.rollup_days",
            ),
            (r#"{"history": {"budget_mib": 0}}"#, "history.budget_mib"),
            (
                r#"{"history": {"resume_ticks": 1000000}}"#,
                "history.resume_ticks",
            ),
            (r#"{"history": {"keep": true}}"#, "keep"),
        ] {
            let problem = parse(json).expect_err(json);
            assert!(
                problem.message.contains(field),
                "{json}: {}",
                problem.message
            );
        }
    }
}
