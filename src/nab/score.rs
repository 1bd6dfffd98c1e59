//! NAB's scoring: per-row rewards from the labelled windows (scaled sigmoid), the
//! corpus-wide threshold that maximises the raw score, and the normalised score
//! (null detector 0, perfect 100).
//!
//! Each row after the probationary period is a detection when its score reaches the
//! threshold. The earliest detection in a window earns `tp * S(p) / S(-1)` with
//! `p = -(last - i + 1) / len`; a window without one costs `-fn`; a detection outside
//! every window costs `fp * S(x)`, `x` its distance past the previous window's end
//! over that window's length less one (`-fp` before any window), where
//! `S(x) = 2 / (1 + e^(5x)) - 1`, and `-1` for `x > 3`.

use super::corpus::Corpus;

/// A NAB cost profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// NAB's name for it.
    pub name: &'static str,
    /// Weight of a detected window.
    pub tp_weight: f64,
    /// Cost of a missed window.
    pub fn_weight: f64,
    /// Weight of a detection outside every window.
    pub fp_weight: f64,
}

/// NAB's three profiles (`config/profiles.json`).
pub const PROFILES: [Profile; 3] = [
    Profile {
        name: "standard",
        tp_weight: 1.0,
        fn_weight: 1.0,
        fp_weight: 0.11,
    },
    Profile {
        name: "reward_low_FP_rate",
        tp_weight: 1.0,
        fn_weight: 1.0,
        fp_weight: 0.22,
    },
    Profile {
        name: "reward_low_FN_rate",
        tp_weight: 1.0,
        fn_weight: 2.0,
        fp_weight: 0.11,
    },
];

/// A detector's result under one profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProfileScore {
    /// The profile.
    pub profile: Profile,
    /// The threshold that maximised the raw score.
    pub threshold: f64,
    /// Raw score at that threshold, summed over the corpus.
    pub raw: f64,
    /// `100 * (raw - null) / (perfect - null)`.
    pub normalized: f64,
    /// Windows detected at that threshold.
    pub detected_windows: usize,
    /// Detections outside every window at that threshold.
    pub false_positives: usize,
}

/// NAB's scaled sigmoid.
pub fn scaled_sigmoid(x: f64) -> f64 {
    if x > 3.0 {
        -1.0
    } else {
        2.0 / (1.0 + (5.0 * x).exp()) - 1.0
    }
}

/// What one scored row would earn if detected (before profile weights).
#[derive(Debug, Clone, Copy)]
enum Reward {
    /// Inside window number `window` (corpus-wide): `S(p) / S(-1)`.
    Inside { window: u32, reward: f64 },
    /// Outside every window: `S(x)`, or -1 before any window.
    Outside { penalty: f64 },
}

/// Rewards of each scored row of the corpus, with the scores they go with.
fn corpus_rewards(corpus: &Corpus, scores: &[Vec<f64>]) -> Vec<(f64, Reward)> {
    let best_tp = scaled_sigmoid(-1.0);
    let mut rows = Vec::with_capacity(corpus.row_count());
    let mut window_base = 0u32;
    for (series, scores) in corpus.series.iter().zip(scores) {
        let mut next_window = 0;
        let mut previous: Option<(usize, usize)> = None;
        for (i, &score) in scores.iter().enumerate().skip(series.probation_rows()) {
            while next_window < series.windows.len() && series.windows[next_window].1 < i {
                previous = Some(series.windows[next_window]);
                next_window += 1;
            }
            let reward = match series.windows.get(next_window) {
                Some(&(first, last)) if first <= i => {
                    let length = (last - first + 1) as f64;
                    let position = -((last - i + 1) as f64) / length;
                    Reward::Inside {
                        window: window_base + next_window as u32,
                        reward: scaled_sigmoid(position) / best_tp,
                    }
                }
                _ => match previous {
                    Some((first, last)) => {
                        let width = (last - first) as f64;
                        let past = (i - last) as f64 / width;
                        Reward::Outside {
                            penalty: scaled_sigmoid(past),
                        }
                    }
                    None => Reward::Outside { penalty: -1.0 },
                },
            };
            rows.push((score, reward));
        }
        window_base += series.windows.len() as u32;
    }
    rows
}

/// Scores per-row anomaly scores (`scores[k]` for `corpus.series[k]`) under each of
/// NAB's profiles, each at its own optimised threshold.
///
/// Thresholds are swept over every distinct score, highest first (a row detects at
/// `score >= threshold`); the best raw score wins, the highest threshold on a tie.
pub fn score_corpus(corpus: &Corpus, scores: &[Vec<f64>]) -> Vec<ProfileScore> {
    assert_eq!(
        corpus.series.len(),
        scores.len(),
        "one score list per series"
    );
    let mut rows = corpus_rewards(corpus, scores);
    rows.sort_by(|a, b| b.0.total_cmp(&a.0));
    let windows = corpus.window_count();
    PROFILES
        .iter()
        .map(|profile| sweep(&rows, windows, *profile))
        .collect()
}

fn sweep(rows: &[(f64, Reward)], windows: usize, profile: Profile) -> ProfileScore {
    let null = -(windows as f64) * profile.fn_weight;
    let perfect = windows as f64 * profile.tp_weight;
    let mut earned: Vec<Option<f64>> = vec![None; windows];
    let mut raw = null;
    let (mut detected, mut false_positives) = (0, 0);
    let mut best = ProfileScore {
        profile,
        threshold: f64::INFINITY,
        raw,
        normalized: 0.0,
        detected_windows: 0,
        false_positives: 0,
    };
    let mut start = 0;
    while start < rows.len() {
        let threshold = rows[start].0;
        let mut end = start;
        while end < rows.len() && rows[end].0 == threshold {
            match rows[end].1 {
                Reward::Inside { window, reward } => {
                    let reward = reward * profile.tp_weight;
                    match &mut earned[window as usize] {
                        slot @ None => {
                            raw += reward + profile.fn_weight;
                            *slot = Some(reward);
                            detected += 1;
                        }
                        Some(so_far) if reward > *so_far => {
                            raw += reward - *so_far;
                            *so_far = reward;
                        }
                        Some(_) => {}
                    }
                }
                Reward::Outside { penalty } => {
                    raw += penalty * profile.fp_weight;
                    false_positives += 1;
                }
            }
            end += 1;
        }
        if raw > best.raw {
            best = ProfileScore {
                threshold,
                raw,
                detected_windows: detected,
                false_positives,
                ..best
            };
        }
        start = end;
    }
    best.normalized = 100.0 * (best.raw - null) / (perfect - null);
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nab::Series;

    fn one_series(rows: usize, windows: Vec<(usize, usize)>) -> Corpus {
        Corpus {
            series: vec![Series {
                name: "t/t.csv".into(),
                timestamps: vec![String::new(); rows],
                times_seconds: (0..rows).map(|i| i as f64).collect(),
                values: vec![0.0; rows],
                windows,
            }],
        }
    }

    /// The raw score at one threshold, straight from the rules: the earliest detection
    /// of each window, every detection outside one.
    fn raw_at(corpus: &Corpus, scores: &[Vec<f64>], threshold: f64, profile: Profile) -> f64 {
        let mut raw = 0.0;
        for (series, scores) in corpus.series.iter().zip(scores) {
            let detected = |i: usize| i >= series.probation_rows() && scores[i] >= threshold;
            for &(first, last) in &series.windows {
                let length = (last - first + 1) as f64;
                raw += match (first..=last).find(|i| detected(*i)) {
                    Some(i) => {
                        let position = -((last - i + 1) as f64) / length;
                        profile.tp_weight * scaled_sigmoid(position) / scaled_sigmoid(-1.0)
                    }
                    None => -profile.fn_weight,
                };
            }
            for i in (0..scores.len()).filter(|i| detected(*i)) {
                if series.windows.iter().any(|(a, b)| (*a..=*b).contains(&i)) {
                    continue;
                }
                raw += match series.windows.iter().rev().find(|(_, b)| *b < i) {
                    Some((a, b)) => {
                        profile.fp_weight * scaled_sigmoid((i - b) as f64 / (b - a) as f64)
                    }
                    None => -profile.fp_weight,
                };
            }
        }
        raw
    }

    proptest::proptest! {
        #[test]
        fn the_sweep_finds_the_best_threshold_of_a_brute_force_search(
            levels in proptest::collection::vec(0u8..6, 60..120),
            starts in proptest::collection::vec(20usize..100, 1..3),
        ) {
            let rows = levels.len();
            let mut windows: Vec<(usize, usize)> = Vec::new();
            let mut sorted = starts.clone();
            sorted.sort_unstable();
            for start in sorted {
                let start = start.min(rows - 3);
                if windows.last().is_none_or(|w| w.1 + 2 < start) {
                    windows.push((start, (start + 5).min(rows - 1)));
                }
            }
            let corpus = one_series(rows, windows);
            let scores = vec![levels.iter().map(|l| f64::from(*l) / 5.0).collect::<Vec<_>>()];
            for result in score_corpus(&corpus, &scores) {
                let mut best = -(corpus.window_count() as f64) * result.profile.fn_weight;
                for threshold in [0.0, 0.2, 0.4, 0.6, 0.8, 1.0] {
                    best = best.max(raw_at(&corpus, &scores, threshold, result.profile));
                }
                proptest::prop_assert!((result.raw - best).abs() < 1e-9, "{} vs {best}", result.raw);
                if result.threshold.is_finite() {
                    let at = raw_at(&corpus, &scores, result.threshold, result.profile);
                    proptest::prop_assert!((at - result.raw).abs() < 1e-9);
                }
            }
        }
    }

    #[test]
    fn sigmoid_matches_nab_figures() {
        assert_eq!(scaled_sigmoid(0.0), 0.0);
        assert!((scaled_sigmoid(-1.0) - 0.986_614_298_151_430_3).abs() < 1e-15);
        assert_eq!(scaled_sigmoid(3.5), -1.0);
    }

    #[test]
    fn null_perfect_and_early_detection() {
        // 100 rows: 15 probationary, one window over rows 50..=59.
        let corpus = one_series(100, vec![(50, 59)]);
        let null = score_corpus(&corpus, &[vec![0.0; 100]]);
        assert!(null.iter().all(|s| s.normalized.abs() < 1e-12), "{null:?}");
        let mut first_row = vec![0.0; 100];
        first_row[50] = 1.0;
        let perfect = score_corpus(&corpus, &[first_row]);
        assert!(perfect.iter().all(|s| (s.normalized - 100.0).abs() < 1e-9));
        let mut late = vec![0.0; 100];
        late[59] = 1.0;
        let late = score_corpus(&corpus, &[late]);
        // p = -1/10: S(-0.1) / S(-1) earned instead of 1, against -1 for a miss.
        let expected = 100.0 * (1.0 + scaled_sigmoid(-0.1) / scaled_sigmoid(-1.0)) / 2.0;
        assert!((late[0].normalized - expected).abs() < 1e-9, "{late:?}");
    }

    #[test]
    fn false_positives_cost_less_just_after_a_window() {
        let corpus = one_series(100, vec![(50, 59)]);
        let mut scores = vec![0.0; 100];
        scores[50] = 1.0;
        scores[60] = 1.0;
        let near = score_corpus(&corpus, &[scores])[0].raw;
        let mut scores = vec![0.0; 100];
        scores[50] = 1.0;
        scores[20] = 1.0;
        let before = score_corpus(&corpus, &[scores])[0].raw;
        assert!((before - (1.0 - 0.11)).abs() < 1e-12, "{before}");
        assert!(near > before);
    }
}
