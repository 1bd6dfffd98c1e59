//! Runs a detector over one series the way NAB does: one value at a time, in order,
//! each scored before it is learnt.

use super::corpus::{Corpus, Series};
use crate::monitor::Detector;

/// `value` rounded to `digits` significant decimal digits (as `%.{digits}g` prints).
///
/// NAB's published results were written with 12 significant digits, so a score
/// within about 5e-13 of 1 became exactly 1; the scorer rounds every detector's
/// scores the same way.
pub fn round_significant(value: f64, digits: usize) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let text = format!("{value:.prec$e}", prec = digits.saturating_sub(1));
    text.parse().unwrap_or(value)
}

/// Each row's anomaly score in [0, 1] (0 while the detector warms up), rounded to
/// 12 significant digits.
pub fn run_series(detector: &mut dyn Detector, series: &Series) -> Vec<f64> {
    series
        .times_seconds
        .iter()
        .zip(&series.values)
        .map(|(&now, &value)| {
            let score = detector
                .observe_at(now, value)
                .map_or(0.0, |verdict| verdict.anomaly_score);
            round_significant(score.clamp(0.0, 1.0), 12)
        })
        .collect()
}

/// Scores of every series of the corpus, each by a fresh detector from `build`.
pub fn run_corpus(corpus: &Corpus, build: &dyn Fn() -> Box<dyn Detector>) -> Vec<Vec<f64>> {
    corpus
        .series
        .iter()
        .map(|series| run_series(build().as_mut(), series))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_like_printf_g() {
        assert_eq!(round_significant(0.999_999_999_999_6, 12), 1.0);
        assert_eq!(round_significant(0.999_999_999_998, 12), 0.999_999_999_998);
        assert_eq!(round_significant(1.234_567_890_123_4e-5, 3), 1.23e-5);
    }
}
