//! The context and hybrid detectors as first written (each value's level and run
//! hashes found twice, by iterator chains), kept as the exact oracle that property
//! tests hold their faster paths to.

use super::context::{ContextSettings, MAX_ORDER, Tails};
use super::hybrid::{HybridSettings, MAD_TO_STD, SHIFT_SCORE_CEILING};
use super::{Level, Refractory, floor_spread};
use crate::monitor::alert::AlertLevel;
use crate::monitor::anomaly::Verdict;

fn mix(mut h: u64) -> u64 {
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// `Context` as first written.
#[derive(Debug, Clone)]
pub(crate) struct OldContext {
    settings: ContextSettings,
    learning: Option<Box<Tails>>,
    seen_values: usize,
    origin: f64,
    width: f64,
    learnt_mean: f64,
    recent: Vec<i64>,
    bits: Vec<u64>,
    refractory: Refractory,
}

impl OldContext {
    pub(crate) fn new(settings: ContextSettings) -> Self {
        OldContext {
            learning: Some(Box::new(Tails::new(settings.learn_samples.max(2)))),
            settings,
            seen_values: 0,
            origin: 0.0,
            width: 0.0,
            learnt_mean: 0.0,
            recent: Vec::new(),
            bits: Vec::new(),
            refractory: Refractory::new(settings.refractory),
        }
    }

    fn level(&self, value: f64) -> i64 {
        let scaled = ((value - self.origin) / self.width).clamp(-1e15, 1e15);
        let truncated = scaled as i64;
        truncated - i64::from((truncated as f64) > scaled)
    }

    fn run_hashes(&self, level: i64) -> impl Iterator<Item = (usize, u64)> + '_ {
        let mut hash = 0x9e37_79b9_7f4a_7c15u64;
        std::iter::once(level)
            .chain(self.recent.iter().rev().copied())
            .take(self.settings.max_order.min(MAX_ORDER))
            .enumerate()
            .map(move |(order, l)| {
                hash = mix(hash ^ (l as u64).wrapping_add(order as u64));
                (order, hash)
            })
    }

    fn bit(&self, hash: u64) -> usize {
        (hash as usize) & (self.bits.len() * 64 - 1)
    }

    fn seen(&self, hash: u64) -> bool {
        let bit = self.bit(hash);
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    pub(crate) fn raw_novelty(&self, value: f64, adjacent: f64) -> Option<f64> {
        (value.is_finite() && !self.bits.is_empty()).then(|| self.novelty(value, adjacent))
    }

    fn level_seen(&self, level: i64) -> bool {
        self.run_hashes(level)
            .next()
            .is_some_and(|(_, hash)| self.seen(hash))
    }

    fn novelty(&self, value: f64, adjacent: f64) -> f64 {
        let level = self.level(value);
        let mut score = 0.0;
        let mut total = 0.0;
        for (order, hash) in self.run_hashes(level) {
            let weight = 1.0 / (order + 1) as f64;
            total += weight;
            if self.seen(hash) {
                continue;
            }
            let beside_seen = order == 0
                && adjacent < 1.0
                && (self.level_seen(level - 1) || self.level_seen(level + 1));
            score += if beside_seen {
                weight * adjacent
            } else {
                weight
            };
        }
        if total > 0.0 { score / total } else { 0.0 }
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
        self.learnt_mean = learning.sum / learning.count.max(1) as f64;
        let words = (self.settings.memory_bits.next_power_of_two() / 64).max(1);
        self.bits = vec![0; words];
        self.recent = Vec::with_capacity(self.settings.max_order.min(MAX_ORDER));
    }

    pub(crate) fn evaluate(&self, value: f64) -> Option<Verdict> {
        if !value.is_finite() || self.bits.is_empty() {
            return None;
        }
        let novelty = self.novelty(value, 1.0);
        let level = Level::new(self.settings.warning_score, self.settings.critical_score);
        let mut verdict = level.verdict(novelty, self.learnt_mean, self.width, self.seen_values);
        verdict.anomaly_score = novelty;
        Some(self.refractory.damp(verdict))
    }

    pub(crate) fn update(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.seen_values += 1;
        if let Some(learning) = &mut self.learning {
            learning.push(value as f32);
            if self.seen_values >= self.settings.learn_samples.max(2) {
                self.fix_levels();
            }
            return;
        }
        if self.settings.refractory > 0 {
            self.refractory.step(self.evaluate(value).as_ref());
        }
        let level = self.level(value);
        let mut hashes = [0u64; MAX_ORDER];
        let mut count = 0;
        for (order, hash) in self.run_hashes(level) {
            hashes[order] = hash;
            count = order + 1;
        }
        for hash in &hashes[..count] {
            let bit = self.bit(*hash);
            self.bits[bit / 64] |= 1 << (bit % 64);
        }
        self.recent.push(level);
        if self.recent.len() >= self.settings.max_order {
            self.recent.remove(0);
        }
    }

    pub(crate) fn observe(&mut self, value: f64) -> Option<Verdict> {
        let verdict = self.evaluate(value);
        self.update(value);
        verdict
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Shift {
    count: usize,
    mean: f64,
    deviation: f64,
}

/// `Hybrid` as first written, on its settings unpacked.
#[derive(Debug, Clone)]
pub(crate) struct OldHybrid {
    settings: HybridSettings,
    shift: Shift,
    context: OldContext,
    refractory: Refractory,
    recent_z: [f32; 2],
}

impl OldHybrid {
    pub(crate) fn new(settings: HybridSettings) -> Self {
        OldHybrid {
            shift: Shift::default(),
            context: OldContext::new(settings.context()),
            refractory: Refractory::new(settings.refractory),
            recent_z: [0.0; 2],
            settings,
        }
    }

    fn span(&self) -> usize {
        u32::try_from(self.settings.span.max(1)).unwrap_or(u32::MAX) as usize
    }

    fn min_samples(&self) -> usize {
        u32::try_from(self.settings.min_samples.max(2)).unwrap_or(u32::MAX) as usize
    }

    fn spread(&self) -> f64 {
        let min_relative = self.settings.min_relative_std;
        floor_spread(
            self.shift.deviation * MAD_TO_STD,
            self.shift.mean,
            min_relative,
        )
    }

    fn judge(&self, value: f64) -> Option<(Verdict, bool)> {
        let s = &self.settings;
        if !value.is_finite() || self.shift.count < self.min_samples() {
            return None;
        }
        let spread = self.spread();
        let z = (value - self.shift.mean) / spread;
        let mut verdict =
            Level::new(s.warning_z, s.critical_z).verdict(z, self.shift.mean, spread, {
                self.shift.count.min(self.span())
            });
        let adjacent = f64::from(s.adjacent_weight as f32);
        let novelty = self.context.raw_novelty(value, adjacent).unwrap_or(0.0);
        let novel = novelty >= s.novelty_score;
        if verdict.level.is_none() && novel && z.abs() >= s.confirm_z {
            verdict.level = Some(AlertLevel::Warning);
        }
        let hold = s.hold.clamp(1, 3);
        let held = self.recent_z[..hold - 1]
            .iter()
            .map(|r| f64::from(*r) * z.signum())
            .fold(z.abs(), f64::min)
            .max(0.0);
        let shift_score = SHIFT_SCORE_CEILING * held / (held + s.warning_z);
        verdict.anomaly_score = if novelty > 0.0 {
            shift_score.max(novelty)
        } else {
            0.5 * shift_score
        };
        let alarm = verdict.anomaly_score >= s.novelty_score;
        Some((self.refractory.damp(verdict), alarm))
    }

    fn update_shift(&mut self, value: f64) {
        let (span, min_samples) = (self.span(), self.min_samples());
        let shift = &mut self.shift;
        shift.count += 1;
        let weight = 1.0 / shift.count.min(span) as f64;
        let mut residual = value - shift.mean;
        if shift.count == 1 {
            shift.mean = value;
            return;
        }
        if shift.count > min_samples {
            let s = &self.settings;
            let spread = floor_spread(shift.deviation * MAD_TO_STD, shift.mean, s.min_relative_std);
            let limit = s.clip_z * spread;
            residual = residual.clamp(-limit, limit);
        }
        shift.mean += weight * residual;
        shift.deviation += weight * (residual.abs() - shift.deviation);
    }

    pub(crate) fn evaluate(&self, value: f64) -> Option<Verdict> {
        self.judge(value).map(|(verdict, _)| verdict)
    }

    pub(crate) fn observe(&mut self, value: f64) -> Option<Verdict> {
        if !value.is_finite() {
            return None;
        }
        let judged = self.judge(value);
        self.refractory
            .step_alarm(judged.is_some_and(|(_, alarm)| alarm));
        let z = judged.map_or(0.0, |(verdict, _)| verdict.score);
        self.recent_z = [z as f32, self.recent_z[0]];
        self.context.update(value);
        self.update_shift(value);
        judged.map(|(verdict, _)| verdict)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::monitor::anomaly::Detector;
    use crate::monitor::detectors::{Context, Hybrid};

    /// Verdicts equal to the bit (NaN equal to NaN, 0 not equal to -0).
    fn bits(verdict: Option<Verdict>) -> Option<([u64; 5], usize, Option<AlertLevel>)> {
        verdict.map(|v| {
            let floats = [
                v.score,
                v.anomaly_score,
                v.baseline_mean,
                v.baseline_std,
                v.warning_bound,
            ];
            (floats.map(f64::to_bits), v.baseline_samples, v.level)
        })
    }

    /// Mostly a few levels, so that runs recur; now and then anything at all.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            12 => (0i32..12).prop_map(f64::from),
            3 => -1e3f64..1e3,
            1 => proptest::num::f64::ANY,
        ]
    }

    /// A call on a detector: 0 evaluate, 1 update, otherwise observe.
    fn calls() -> impl Strategy<Value = Vec<(u8, f64)>> {
        proptest::collection::vec((0u8..6, value()), 0..600)
    }

    fn context_settings() -> impl Strategy<Value = ContextSettings> {
        (
            2usize..40,
            0usize..20,
            0usize..20,
            prop_oneof![Just(64usize), Just(100), Just(256), Just(1 << 15)],
            0usize..8,
            0.05f64..1.0,
            0.0f64..0.5,
        )
            .prop_map(|(learn, levels, order, bits, refractory, warning, above)| {
                ContextSettings {
                    learn_samples: learn,
                    levels,
                    max_order: order,
                    memory_bits: bits,
                    refractory,
                    warning_score: warning,
                    critical_score: warning + above,
                }
            })
    }

    fn hybrid_settings() -> impl Strategy<Value = HybridSettings> {
        let shift = (
            0usize..80,
            0usize..40,
            0.1f64..5.0,
            1.0f64..10.0,
            0.0f64..5.0,
        );
        let novelty = (
            context_settings(),
            0.0f64..4.0,
            0usize..5,
            prop_oneof![Just(0.0f64), Just(1.0), 0.0f64..1.0],
            0.0f64..0.1,
        );
        (shift, novelty).prop_map(
            |(
                (span, min_samples, clip_z, warning_z, above),
                (c, confirm_z, hold, adjacent, rel),
            )| {
                HybridSettings {
                    span,
                    min_samples,
                    clip_z,
                    warning_z,
                    critical_z: warning_z + above,
                    confirm_z,
                    min_relative_std: rel,
                    novelty_score: c.warning_score,
                    learn_samples: c.learn_samples,
                    levels: c.levels,
                    max_order: c.max_order,
                    memory_bits: c.memory_bits,
                    refractory: c.refractory,
                    hold,
                    adjacent_weight: adjacent,
                }
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Every verdict of the context detector is the first-written one's, to the bit.
        #[test]
        fn context_judges_as_first_written(settings in context_settings(), calls in calls()) {
            let mut fast = Context::new(settings);
            let mut oracle = OldContext::new(settings);
            for (i, (call, value)) in calls.into_iter().enumerate() {
                let (got, expected) = match call {
                    0 => (fast.evaluate(value), oracle.evaluate(value)),
                    1 => {
                        fast.update(value);
                        oracle.update(value);
                        (fast.evaluate(value), oracle.evaluate(value))
                    }
                    _ => (fast.observe(value), oracle.observe(value)),
                };
                prop_assert_eq!(bits(got), bits(expected), "call {} on {}", i, value);
            }
        }

        /// Every verdict of the hybrid detector is the first-written one's, to the bit.
        #[test]
        fn hybrid_judges_as_first_written(settings in hybrid_settings(), calls in calls()) {
            let mut fast = Hybrid::new(settings);
            let mut oracle = OldHybrid::new(settings);
            for (i, (call, value)) in calls.into_iter().enumerate() {
                let (got, expected) = match call {
                    0 => (fast.evaluate(value), oracle.evaluate(value)),
                    1 => {
                        fast.update(value);
                        oracle.observe(value);
                        (fast.evaluate(value), oracle.evaluate(value))
                    }
                    _ => (fast.observe(value), oracle.observe(value)),
                };
                prop_assert_eq!(bits(got), bits(expected), "call {} on {}", i, value);
            }
        }
    }
}
