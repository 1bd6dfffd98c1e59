//! The NAB scorer against NAB's published windowedGaussian result (39.65 / 20.87 /
//! 47.41 under standard / reward_low_FP / reward_low_FN), over the whole corpus at
//! `tests/data/nab` (NAB v1.1's data and labels, vendored).

use std::path::{Path, PathBuf};

use redline::monitor::detectors::ContextSettings;
use redline::monitor::{Detector, DetectorSpec};
use redline::nab::{self, Corpus, WindowedGaussian};

fn nab_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nab")
}

fn corpus() -> Corpus {
    let dir = nab_dir();
    match nab::corpus::load(&dir) {
        Ok(corpus) => corpus,
        Err(error) => panic!(
            "NAB's corpus is needed at {} (a copy of NAB v1.1's data/ and labels/): {error}",
            dir.display()
        ),
    }
}

#[test]
fn corpus_is_nab_v1_1() {
    let corpus = corpus();
    assert_eq!(corpus.series.len(), 58);
    assert_eq!(corpus.row_count(), 365_558);
    assert_eq!(corpus.window_count(), 116);
}

#[test]
fn windowed_gaussian_reproduces_nab_published_scores() {
    let corpus = corpus();
    let scores = nab::run_corpus(&corpus, &|| Box::new(WindowedGaussian::new()));
    let results = nab::score_corpus(&corpus, &scores);
    let published = [39.65, 20.87, 47.41];
    for (result, expected) in results.iter().zip(published) {
        assert!(
            (result.normalized - expected).abs() < 0.005,
            "{}: {} against NAB's {expected}",
            result.profile.name,
            result.normalized
        );
        assert_eq!(result.threshold, 1.0, "NAB's tuned threshold is 1.0");
    }
}

#[test]
fn context_detector_scores_over_60_on_nab_standard() {
    let corpus = corpus();
    let spec = DetectorSpec::Context(ContextSettings::default());
    let build = || -> Box<dyn Detector> { spec.build().expect("context is a detector") };
    let scores = nab::run_corpus(&corpus, &build);
    let standard = nab::score_corpus(&corpus, &scores)[0].normalized;
    assert!(
        standard > 39.65,
        "default detector scores {standard} on NAB standard"
    );
}

#[test]
fn the_monitors_default_detector_scores_at_least_60_on_nab_standard() {
    let corpus = corpus();
    let spec = DetectorSpec::default();
    assert_eq!(spec.kind(), "hybrid");
    let build = || -> Box<dyn Detector> { spec.build().expect("the default is a detector") };
    let scores = nab::run_corpus(&corpus, &build);
    let standard = nab::score_corpus(&corpus, &scores)[0].normalized;
    assert!(standard >= 60.0, "hybrid scores {standard} on NAB standard");
}
