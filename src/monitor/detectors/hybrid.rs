//! `Hybrid`: contextual novelty for what is unusual for the series, plus a fast shift
//! path for what is far from its recent level. The shift path is a Huber-clipped,
//! exponentially weighted mean and mean absolute deviation (a few bytes, judging
//! after `min_samples` values), so large steps alarm at once and while `context` is
//! still learning its levels; the novelty path lifts the anomaly score (what NAB
//! measures) and raises a warning when a novel value is also `confirm_z` off the
//! recent level. Alert levels come from the shift path's z-score, so an alert holds
//! while the value stays far off, not only at its first novel moment.

use serde::{Deserialize, Serialize};

use super::context::{Context, ContextSettings};
use super::{Level, Refractory, floor_spread};
use crate::monitor::alert::AlertLevel;
use crate::monitor::anomaly::{Detector, Verdict};

/// Mean absolute deviation to standard deviation, for normal data (√(π/2)).
pub(super) const MAD_TO_STD: f64 = 1.253_314_1;

/// A held shift's anomaly score is at most this: the shift path is the monitor's
/// alert path, and as evidence it ranks below novelty, so a shift alone never
/// reaches the novelty alarm (`novelty_score`, 0.7) that NAB's threshold settles on.
pub(super) const SHIFT_SCORE_CEILING: f64 = 0.5;

/// Settings of the hybrid detector.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HybridSettings {
    /// Values the shift path's mean and deviation average over (their weight is 1/this).
    pub span: usize,
    /// Values seen before judging.
    pub min_samples: usize,
    /// A value moves the shift path's mean by at most this many deviations.
    pub clip_z: f64,
    /// |z| of the shift path above this is a warning.
    pub warning_z: f64,
    /// |z| of the shift path above this is critical.
    pub critical_z: f64,
    /// A novel value (novelty at least `novelty_score`) at least this |z| off warns.
    pub confirm_z: f64,
    /// Spread floor relative to |mean|, for flat series.
    pub min_relative_std: f64,
    /// Novelty at or above this is an alarm for the anomaly score's refractory.
    pub novelty_score: f64,
    /// Values learnt before the novelty path fixes its levels.
    pub learn_samples: usize,
    /// Levels across the learnt values' 1–99 % range.
    pub levels: usize,
    /// Longest run of levels remembered.
    pub max_order: usize,
    /// Bits in the memory of seen runs.
    pub memory_bits: usize,
    /// Values after an alarm whose anomaly scores are damped.
    pub refractory: usize,
    /// Consecutive values (1 to 3) a shift must hold, on one side, to lift the
    /// anomaly score: lone spikes are the novelty path's to judge.
    pub hold: usize,
    /// A new level beside a seen one counts this share (0 to 1) of a new level in the
    /// novelty path: a step just past the known range is less news than a jump.
    pub adjacent_weight: f64,
}

impl Default for HybridSettings {
    fn default() -> Self {
        HybridSettings {
            span: 60,
            min_samples: 10,
            clip_z: 3.0,
            warning_z: 8.0,
            critical_z: 16.0,
            confirm_z: 3.0,
            min_relative_std: 0.01,
            novelty_score: 0.7,
            learn_samples: 300,
            levels: 10,
            max_order: 2,
            memory_bits: 2048,
            refractory: 75,
            hold: 3,
            adjacent_weight: 0.8,
        }
    }
}

impl HybridSettings {
    /// The novelty path's settings (its own refractory off: the hybrid keeps one).
    pub fn context(&self) -> ContextSettings {
        ContextSettings {
            learn_samples: self.learn_samples,
            levels: self.levels,
            max_order: self.max_order,
            memory_bits: self.memory_bits,
            refractory: 0,
            warning_score: self.novelty_score,
            critical_score: self.novelty_score,
        }
    }
}

/// The settings the judging needs, packed: six detectors per module each keep a copy.
#[derive(Debug, Clone, Copy)]
struct Lines {
    span: u32,
    min_samples: u32,
    hold: u32,
    // f32 fills the u32s' padding: no bytes added.
    adjacent_weight: f32,
    clip_z: f64,
    warning_z: f64,
    critical_z: f64,
    confirm_z: f64,
    min_relative_std: f64,
    novelty_score: f64,
}

impl Lines {
    fn new(s: &HybridSettings) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Lines {
            span: count(s.span.max(1)),
            min_samples: count(s.min_samples.max(2)),
            hold: count(s.hold.clamp(1, 3)),
            adjacent_weight: s.adjacent_weight as f32,
            clip_z: s.clip_z,
            warning_z: s.warning_z,
            critical_z: s.critical_z,
            confirm_z: s.confirm_z,
            min_relative_std: s.min_relative_std,
            novelty_score: s.novelty_score,
        }
    }
}

/// Huber-clipped exponentially weighted mean and mean absolute deviation.
#[derive(Debug, Clone, Copy, Default)]
struct Shift {
    count: usize,
    mean: f64,
    deviation: f64,
}

impl Shift {
    fn spread(&self, min_relative: f64) -> f64 {
        floor_spread(self.deviation * MAD_TO_STD, self.mean, min_relative)
    }

    /// Learns `value`; `spread` is the spread it was judged against, if it was (what
    /// `spread` would find again).
    fn update(&mut self, value: f64, settings: &Lines, spread: Option<f64>) {
        self.count += 1;
        let weight = 1.0 / self.count.min(settings.span as usize) as f64;
        let mut residual = value - self.mean;
        if self.count == 1 {
            self.mean = value;
            return;
        }
        // Plain averages while warming up; then a value pulls at most clip_z spreads.
        if self.count > settings.min_samples as usize {
            let spread = spread.unwrap_or_else(|| self.spread(settings.min_relative_std));
            let limit = settings.clip_z * spread;
            residual = residual.clamp(-limit, limit);
        }
        self.mean += weight * residual;
        self.deviation += weight * (residual.abs() - self.deviation);
    }
}

/// Contextual novelty plus a fast shift path.
#[derive(Debug, Clone)]
pub struct Hybrid {
    lines: Lines,
    shift: Shift,
    context: Context,
    refractory: Refractory,
    /// The shift path's z-scores of the last two values, newest first.
    recent_z: [f32; 2],
}

impl Hybrid {
    /// Nothing learnt yet.
    pub fn new(settings: HybridSettings) -> Self {
        Hybrid {
            shift: Shift::default(),
            context: Context::new(settings.context()),
            refractory: Refractory::new(settings.refractory),
            recent_z: [0.0; 2],
            lines: Lines::new(&settings),
        }
    }

    /// The verdict, and whether it is an alarm for the refractory, given the novelty
    /// path's raw novelty of `value` (0 before it judges).
    fn judge(&self, value: f64, novelty: f64) -> Option<(Verdict, bool)> {
        let s = &self.lines;
        if !self.judging(value) {
            return None;
        }
        let spread = self.shift.spread(s.min_relative_std);
        let z = (value - self.shift.mean) / spread;
        let mut verdict =
            Level::new(s.warning_z, s.critical_z).verdict(z, self.shift.mean, spread, {
                self.shift.count.min(s.span as usize)
            });
        let novel = novelty >= s.novelty_score;
        if verdict.level.is_none() && novel && z.abs() >= s.confirm_z {
            verdict.level = Some(AlertLevel::Warning);
        }
        // A shift counts for as long as it has held, on the same side, for `hold` values.
        let held = self.recent_z[..s.hold as usize - 1]
            .iter()
            .map(|r| f64::from(*r) * z.signum())
            .fold(z.abs(), f64::min)
            .max(0.0);
        let shift_score = SHIFT_SCORE_CEILING * held / (held + s.warning_z);
        // A held shift back to a familiar level or run is less news: half its score.
        verdict.anomaly_score = if novelty > 0.0 {
            shift_score.max(novelty)
        } else {
            0.5 * shift_score
        };
        let alarm = verdict.anomaly_score >= s.novelty_score;
        Some((self.refractory.damp(verdict), alarm))
    }

    fn judging(&self, value: f64) -> bool {
        value.is_finite() && self.shift.count >= self.lines.min_samples as usize
    }

    fn adjacent_weight(&self) -> f64 {
        f64::from(self.lines.adjacent_weight)
    }
}

impl Detector for Hybrid {
    fn name(&self) -> &'static str {
        "hybrid"
    }

    fn evaluate(&self, value: f64) -> Option<Verdict> {
        let novelty = self.judging(value).then(|| {
            let adjacent = self.adjacent_weight();
            self.context.raw_novelty(value, adjacent).unwrap_or(0.0)
        });
        self.judge(value, novelty.unwrap_or(0.0))
            .map(|(verdict, _)| verdict)
    }

    fn update(&mut self, value: f64) {
        self.observe(value);
    }

    /// Judges once, and learns from the same judgement (`evaluate` then `update`
    /// would judge twice).
    fn observe(&mut self, value: f64) -> Option<Verdict> {
        if !value.is_finite() {
            return None;
        }
        // The novelty path learns first, judging from what it knew before.
        let adjacent = self.judging(value).then(|| self.adjacent_weight());
        let novelty = self.context.learn(value, adjacent);
        let judged = self.judge(value, novelty.unwrap_or(0.0));
        self.refractory
            .step_alarm(judged.is_some_and(|(_, alarm)| alarm));
        let z = judged.map_or(0.0, |(verdict, _)| verdict.score);
        self.recent_z = [z as f32, self.recent_z[0]];
        let spread = judged.map(|(verdict, _)| verdict.baseline_std);
        self.shift.update(value, &self.lines, spread);
        judged.map(|(verdict, _)| verdict)
    }

    fn heap_bytes(&self) -> usize {
        self.context.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wobble(i: usize) -> f64 {
        1.0 + 0.01 * ((i * 7919) % 13) as f64
    }

    #[test]
    fn a_large_step_alarms_before_the_novelty_path_has_learnt() {
        let mut detector = Hybrid::new(HybridSettings::default());
        for i in 0..30 {
            detector.observe(wobble(i));
        }
        let verdict = detector.observe(4.0).expect("judging after min_samples");
        assert_eq!(verdict.level, Some(AlertLevel::Critical), "{verdict:?}");
    }

    #[test]
    fn a_lasting_step_keeps_alarming_for_a_while_then_becomes_the_level() {
        let mut detector = Hybrid::new(HybridSettings::default());
        for i in 0..400 {
            detector.observe(wobble(i));
        }
        let verdicts: Vec<Verdict> = (0..600)
            .map(|i| detector.observe(3.0 * wobble(i)).expect("judging"))
            .collect();
        let alarms: Vec<bool> = verdicts.iter().map(|v| v.level.is_some()).collect();
        assert!(alarms[..10].iter().all(|a| *a), "holds at first");
        assert!(
            !alarms[500..].iter().any(|a| *a),
            "then it is the new level"
        );
        // The step is novel at first; once its level is familiar only the shift path
        // speaks, and a shift alone scores below the novelty alarm.
        assert!(verdicts[0].anomaly_score >= 0.7, "{:?}", verdicts[0]);
        assert!(
            verdicts[200..]
                .iter()
                .all(|v| v.anomaly_score <= SHIFT_SCORE_CEILING)
        );
    }

    #[test]
    fn memory_is_fixed() {
        let mut detector = Hybrid::new(HybridSettings::default());
        for i in 0..10_000 {
            detector.observe(wobble(i) * (1 + i % 50) as f64);
        }
        assert!(
            detector.heap_bytes() <= 2048 / 8 + 64,
            "{}",
            detector.heap_bytes()
        );
    }
}
