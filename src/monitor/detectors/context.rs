//! `Context`: contextual novelty. Values are cut into levels (widths fixed from the
//! first values), and the detector remembers which runs of the last few levels it
//! has seen, in a fixed-size bit set. A value whose level, or whose run of recent
//! levels, has never happened before is novel; the score is the share of novel runs,
//! long and short, with novelty of short runs (a level never reached) weighing most.
//! Memory is the bit set, however long the stream.

use serde::{Deserialize, Serialize};

use super::{Level, Refractory};
use crate::monitor::anomaly::{Detector, Verdict};

/// Longest run of levels a setting may ask for.
pub const MAX_ORDER: usize = 16;

/// Settings of the contextual-novelty detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContextSettings {
    /// Values learnt before the level width is fixed and judging starts.
    pub learn_samples: usize,
    /// Levels across the learnt values' 1–99 % range.
    pub levels: usize,
    /// Longest run of levels remembered (runs of 1..=this).
    pub max_order: usize,
    /// Bits in the memory of seen runs (a power of two).
    pub memory_bits: usize,
    /// Values after an alarm (novelty at `warning_score` or more) whose scores are
    /// damped, so one episode reports once.
    pub refractory: usize,
    /// Novelty score above this is a warning.
    pub warning_score: f64,
    /// Novelty score above this is critical.
    pub critical_score: f64,
}

impl Default for ContextSettings {
    fn default() -> Self {
        ContextSettings {
            learn_samples: 300,
            levels: 10,
            max_order: 4,
            memory_bits: 1 << 15,
            refractory: 100,
            warning_score: 0.7,
            critical_score: 0.75,
        }
    }
}

/// The smallest and largest few of the values learnt: exactly what their 1 % and
/// 99 % quantiles need, in a few bytes instead of a copy of every value.
#[derive(Debug, Clone, Default)]
pub(super) struct Tails {
    keep: usize,
    /// Ascending: the smallest values.
    low: Vec<f32>,
    /// Ascending: the largest values.
    high: Vec<f32>,
    pub(super) count: usize,
    pub(super) sum: f64,
}

impl Tails {
    pub(super) fn new(samples: usize) -> Self {
        // Ranks 0.01·(n−1) and 0.99·(n−1), interpolated, reach one past the floor.
        let keep = ((0.01 * samples.saturating_sub(1) as f64).floor() as usize + 2).min(samples);
        Tails {
            keep: keep.max(1),
            ..Tails::default()
        }
    }

    pub(super) fn push(&mut self, value: f32) {
        self.count += 1;
        self.sum += f64::from(value);
        if self.low.len() < self.keep || self.low.last().is_some_and(|v| value < *v) {
            let at = self.low.partition_point(|v| *v < value);
            self.low.insert(at, value);
            self.low.truncate(self.keep);
        }
        if self.high.len() < self.keep || self.high.first().is_some_and(|v| value > *v) {
            let at = self.high.partition_point(|v| *v < value);
            self.high.insert(at, value);
            if self.high.len() > self.keep {
                self.high.remove(0);
            }
        }
    }

    /// The i-th smallest value, when it is among the tails kept.
    fn nth(&self, i: usize) -> Option<f64> {
        if i < self.low.len() {
            return Some(f64::from(self.low[i]));
        }
        let from_top = self.count.checked_sub(1 + i)?;
        let at = self.high.len().checked_sub(1 + from_top)?;
        Some(f64::from(self.high[at]))
    }

    /// The `q` quantile, interpolated as `RollingOrder::quantile` does, for q near 0 or 1.
    pub(super) fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count;
        if n == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * (n - 1) as f64;
        let low = rank.floor() as usize;
        let (a, b) = (self.nth(low)?, self.nth((low + 1).min(n - 1))?);
        Some(a + (b - a) * (rank - low as f64))
    }

    fn heap_bytes(&self) -> usize {
        (self.low.capacity() + self.high.capacity()) * std::mem::size_of::<f32>()
    }
}

/// Contextual novelty over quantised levels.
#[derive(Debug, Clone)]
pub struct Context {
    settings: ContextSettings,
    /// `Some` while learning; freed once the levels are fixed.
    learning: Option<Box<Tails>>,
    seen_values: usize,
    origin: f64,
    width: f64,
    learnt_mean: f64,
    /// The levels before the newest, as many as the longest run needs, in a ring
    /// whose oldest is at `next` once it is full (shifting them cost a memmove a value).
    recent: Vec<i64>,
    next: usize,
    bits: Vec<u64>,
    refractory: Refractory,
}

/// The hash a run of levels starts from.
const SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// Each run's weight in the novelty score, by its length less one: 1 / length.
const WEIGHTS: [f64; MAX_ORDER] = {
    let mut weights = [0.0; MAX_ORDER];
    let mut order = 0;
    while order < MAX_ORDER {
        weights[order] = 1.0 / (order + 1) as f64;
        order += 1;
    }
    weights
};

fn mix(mut h: u64) -> u64 {
    // splitmix64's finaliser.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// The hash of a run: the hash of the run one shorter, and the level before it.
fn extend(hash: u64, level: i64, order: usize) -> u64 {
    mix(hash ^ (level as u64).wrapping_add(order as u64))
}

impl Context {
    /// Nothing learnt yet.
    pub fn new(settings: ContextSettings) -> Self {
        Context {
            learning: Some(Box::new(Tails::new(settings.learn_samples.max(2)))),
            settings,
            seen_values: 0,
            origin: 0.0,
            width: 0.0,
            learnt_mean: 0.0,
            recent: Vec::new(),
            next: 0,
            bits: Vec::new(),
            refractory: Refractory::new(settings.refractory),
        }
    }

    fn level(&self, value: f64) -> i64 {
        // `floor` by truncation (exact within the clamp): on baseline x86-64 `f64::floor`
        // is a call into libm.
        let scaled = ((value - self.origin) / self.width).clamp(-1e15, 1e15);
        let truncated = scaled as i64;
        truncated - i64::from((truncated as f64) > scaled)
    }

    /// The hashes of the runs ending in `level`, order 1 first, and how many there
    /// are. `N` bounds them: the longest run's, or a smaller bound when the settings
    /// allow it. Its loops run to `N`, a constant, so that short runs' are unrolled
    /// and their hashes stay in registers.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // index loops on purpose: see below
    fn run_hashes<const N: usize>(&self, level: i64) -> ([u64; N], usize) {
        let count = self
            .settings
            .max_order
            .min(MAX_ORDER)
            .min(1 + self.recent.len())
            .min(N);
        let mut hashes = [0; N];
        let mut hash = SEED;
        let mut l = level;
        // The levels before, newest first: backwards round the ring.
        let last = self.recent.len().saturating_sub(1);
        let mut at = self.next.checked_sub(1).unwrap_or(last);
        // Index loops to the constant `N`, not iterator adaptors: their speed would
        // rest on LLVM inlining `nth`, which an unrelated edit can undo.
        for order in 0..N {
            if order == count {
                break;
            }
            if order > 0 {
                l = self.recent[at];
                at = at.checked_sub(1).unwrap_or(last);
            }
            hash = extend(hash, l, order);
            hashes[order] = hash;
        }
        (hashes, count)
    }

    fn bit(&self, hash: u64) -> usize {
        (hash as usize) & (self.bits.len() * 64 - 1)
    }

    fn seen(&self, hash: u64) -> bool {
        let bit = self.bit(hash);
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// The raw novelty of `value` (before any refractory damping), once levels are
    /// fixed, with a new level beside a seen one counting `adjacent` (0 to 1) of a
    /// new level's weight.
    pub(crate) fn raw_novelty(&self, value: f64, adjacent: f64) -> Option<f64> {
        (value.is_finite() && !self.bits.is_empty()).then(|| self.novelty(value, adjacent))
    }

    // Out of line and cold: a level never reached is rare once levels are learnt,
    // and inline its two hashes were found for every value, just in case.
    #[cold]
    #[inline(never)]
    fn beside_seen(&self, level: i64) -> bool {
        self.seen(extend(SEED, level - 1, 0)) || self.seen(extend(SEED, level + 1, 0))
    }

    fn novelty(&self, value: f64, adjacent: f64) -> f64 {
        let level = self.level(value);
        let (hashes, count) = self.run_hashes::<MAX_ORDER>(level);
        self.novelty_of(level, &hashes, count, adjacent)
    }

    /// The share of the first `count` runs (`hashes`, order 1 first) never seen,
    /// shorter runs weighing more: a level never reached is the strongest sign.
    #[inline(always)]
    fn novelty_of<const N: usize>(
        &self,
        level: i64,
        hashes: &[u64; N],
        count: usize,
        adjacent: f64,
    ) -> f64 {
        if count == 0 {
            return 0.0;
        }
        // Order 1 on its own: only a new level asks after its neighbours.
        let mut score = 0.0;
        let mut total = WEIGHTS[0];
        if !self.seen(hashes[0]) {
            // A step just past the levels seen is less news than a jump beyond them.
            score += if adjacent < 1.0 && self.beside_seen(level) {
                WEIGHTS[0] * adjacent
            } else {
                WEIGHTS[0]
            };
        }
        for order in 1..N.min(WEIGHTS.len()) {
            if order == count {
                break;
            }
            total += WEIGHTS[order];
            if !self.seen(hashes[order]) {
                score += WEIGHTS[order];
            }
        }
        score / total
    }

    /// Learns `value`. With `adjacent` (as in `raw_novelty`), also gives what
    /// `raw_novelty` gave before it was learnt; judging and learning share the
    /// value's level and run hashes, found once.
    pub(crate) fn learn(&mut self, value: f64, adjacent: Option<f64>) -> Option<f64> {
        if !value.is_finite() {
            return None;
        }
        self.seen_values += 1;
        if let Some(learning) = &mut self.learning {
            learning.push(value as f32);
            if self.seen_values >= self.settings.learn_samples.max(2) {
                self.fix_levels();
            }
            return None;
        }
        let level = self.level(value);
        // Hybrid's default longest run is 2, context's 4.
        match self.settings.max_order {
            0..=2 => self.learn_runs::<2>(level, adjacent),
            3..=4 => self.learn_runs::<4>(level, adjacent),
            _ => self.learn_runs::<MAX_ORDER>(level, adjacent),
        }
    }

    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // index loops, as in `run_hashes`
    fn learn_runs<const N: usize>(&mut self, level: i64, adjacent: Option<f64>) -> Option<f64> {
        let (hashes, count) = self.run_hashes::<N>(level);
        // Judged before any of the value's own runs is marked seen.
        let novelty = adjacent.map(|adjacent| self.novelty_of(level, &hashes, count, adjacent));
        let mask = self.bits.len() * 64 - 1;
        for order in 0..N {
            if order == count {
                break;
            }
            let bit = (hashes[order] as usize) & mask;
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
        let keep = self.settings.max_order.min(MAX_ORDER).saturating_sub(1);
        if self.recent.len() < keep {
            self.recent.push(level);
        } else if keep > 0 {
            self.recent[self.next] = level;
            self.next = if self.next + 1 == keep {
                0
            } else {
                self.next + 1
            };
        }
        novelty
    }

    /// The verdict on a raw novelty, damped by the refractory.
    fn verdict(&self, novelty: f64, samples: usize) -> Verdict {
        let level = Level::new(self.settings.warning_score, self.settings.critical_score);
        // The baseline shown is the learnt mean, give or take one level.
        let mut verdict = level.verdict(novelty, self.learnt_mean, self.width, samples);
        verdict.anomaly_score = novelty;
        self.refractory.damp(verdict)
    }

    fn fix_levels(&mut self) {
        let Some(learning) = self.learning.take() else {
            return;
        };
        let low = learning.quantile(0.01).unwrap_or(0.0);
        let high = learning.quantile(0.99).unwrap_or(1.0);
        let span = (high - low).max(1e-9 * low.abs().max(1.0));
        self.width = span / self.settings.levels.max(1) as f64;
        self.origin = low;
        // Shown as the baseline; the tails alone have no median.
        self.learnt_mean = learning.sum / learning.count.max(1) as f64;
        let words = (self.settings.memory_bits.next_power_of_two() / 64).max(1);
        self.bits = vec![0; words];
        self.recent = Vec::with_capacity(self.settings.max_order.min(MAX_ORDER));
    }
}

impl Detector for Context {
    fn name(&self) -> &'static str {
        "context"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        if !value.is_finite() || self.bits.is_empty() {
            return None;
        }
        Some(self.verdict(self.novelty(value, 1.0), self.seen_values))
    }

    fn update(&mut self, value: f64) {
        // The refractory counts alarms, so it needs the judgement too.
        let adjacent = (self.settings.refractory > 0).then_some(1.0);
        if let Some(novelty) = self.learn(value, adjacent) {
            let verdict = self.verdict(novelty, self.seen_values);
            self.refractory.step(Some(&verdict));
        }
    }

    /// Judges and learns in one pass (`evaluate` then `update` would hash twice).
    fn observe(&mut self, value: f64) -> Option<Verdict> {
        let samples = self.seen_values;
        let novelty = self.learn(value, Some(1.0))?;
        let verdict = self.verdict(novelty, samples);
        self.refractory.step(Some(&verdict));
        Some(verdict)
    }

    fn heap_bytes(&self) -> usize {
        let learning = self
            .learning
            .as_ref()
            .map_or(0, |l| std::mem::size_of::<Tails>() + l.heap_bytes());
        self.bits.capacity() * 8 + self.recent.capacity() * 8 + learning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn learnt(values: impl Iterator<Item = f64>) -> Context {
        let mut detector = Context::new(ContextSettings {
            learn_samples: 100,
            ..ContextSettings::default()
        });
        for value in values {
            detector.update(value);
        }
        detector
    }

    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        /// The level by truncation is `floor`'s, clamped, for any value.
        #[test]
        fn levels_are_floors(value in proptest::num::f64::ANY, width in 1e-9f64..1e9) {
            let mut detector = learnt((0..200).map(f64::from));
            detector.width = width;
            let scaled = (value - detector.origin) / width;
            let expected = scaled.floor().clamp(-1e15, 1e15) as i64;
            proptest::prop_assert_eq!(detector.level(value), expected);
        }
    }

    #[test]
    fn a_level_never_reached_is_wholly_novel_and_a_repeated_run_is_not() {
        // A sawtooth over 0..10: every level and every run of it recurs.
        let mut detector = learnt((0..400).map(|i| f64::from(i % 10)));
        let novel = detector.evaluate(50.0).expect("judging");
        assert_eq!(novel.anomaly_score, 1.0);
        assert!(novel.level.is_some());
        let usual = detector.observe(0.0).expect("judging");
        assert_eq!(usual.anomaly_score, 0.0, "{usual:?}");
        assert_eq!(usual.level, None);
    }

    #[test]
    fn a_new_level_beside_a_seen_one_is_less_novel_than_a_jump() {
        let detector = learnt((0..400).map(|i| f64::from(i % 10)));
        let top = (0..400).map(|i| f64::from(i % 10)).fold(0.0, f64::max);
        let beside = detector.raw_novelty(top + 1.0, 0.5).expect("judging");
        let beyond = detector.raw_novelty(top + 50.0, 0.5).expect("judging");
        assert!(beside < beyond, "{beside} against {beyond}");
        assert_eq!(beyond, 1.0);
        assert_eq!(detector.raw_novelty(top + 1.0, 1.0), Some(1.0));
    }

    proptest::proptest! {
        #[test]
        fn tails_give_the_one_and_ninety_nine_percent_quantiles_exactly(
            values in proptest::collection::vec(-1e6f32..1e6, 2..400),
        ) {
            let mut tails = Tails::new(values.len());
            let mut oracle = super::super::rolling::RollingOrder::new(values.len());
            for v in &values {
                tails.push(*v);
                oracle.push(*v);
            }
            for q in [0.0, 0.01, 0.99, 1.0] {
                proptest::prop_assert_eq!(tails.quantile(q), oracle.quantile(q), "q = {}", q);
            }
        }
    }

    #[test]
    fn memory_is_the_bit_set_whatever_the_stream() {
        let detector = learnt((0..10_000).map(f64::from));
        let bits = ContextSettings::default().memory_bits;
        assert_eq!(detector.bits.len() * 64, bits);
        assert!(
            detector.heap_bytes() <= bits / 8 + 256,
            "{}",
            detector.heap_bytes()
        );
    }
}
