//! The NAB scorer: runs detectors over NAB's 58 series in streaming order, prints
//! their normalised scores under NAB's three profiles (each at its optimised
//! threshold) and, with `--out`, writes each detector's per-row scores in NAB's
//! results layout (`<out>/<detector>/<category>/<file>.csv`, `timestamp,anomaly_score`).
//!
//! `cargo run --release --example nab -- [--nab DIR] [--out DIR] [DETECTOR ...]`
//!
//! A detector is `windowed_gaussian` (NAB's published baseline), a monitor detector
//! kind (`zscore`, `robust`, ...) with its default settings, or a JSON detector
//! setting as in `redline.json` (`'{"kind": "robust", "window": 120}'`). Without any,
//! every kind is run. `DIR` defaults to `tests/data/nab` (NAB v1.1's data and labels, vendored).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use redline::monitor::{Detector, DetectorSpec};
use redline::nab::{self, Corpus, WindowedGaussian};

fn main() {
    if let Err(message) = run() {
        eprintln!("nab: {message}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut nab_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/nab");
    let mut out: Option<PathBuf> = None;
    let mut detectors: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--nab" => nab_dir = args.next().ok_or("--nab needs a directory")?.into(),
            "--out" => out = Some(args.next().ok_or("--out needs a directory")?.into()),
            "--help" | "-h" => {
                println!("usage: nab [--nab DIR] [--out DIR] [DETECTOR ...]");
                return Ok(());
            }
            _ => detectors.push(arg),
        }
    }
    if detectors.is_empty() {
        detectors.push("windowed_gaussian".into());
        detectors.extend(DetectorSpec::KINDS.iter().map(|k| (*k).to_owned()));
    }
    let corpus = nab::corpus::load(&nab_dir).map_err(|e| e.to_string())?;
    println!(
        "NAB: {} series, {} rows, {} windows, from {}",
        corpus.series.len(),
        corpus.row_count(),
        corpus.window_count(),
        nab_dir.display()
    );
    println!(
        "{:<28} {:>9} {:>14} {:>14} {:>10} {:>9} {:>9}",
        "detector", "standard", "reward_low_FP", "reward_low_FN", "threshold", "TP/FP", "ns/value"
    );
    for text in &detectors {
        let (label, build) = builder(text)?;
        let started = Instant::now();
        let scores = nab::run_corpus(&corpus, &*build);
        let ns_per_value = started.elapsed().as_nanos() as f64 / corpus.row_count() as f64;
        let results = nab::score_corpus(&corpus, &scores);
        println!(
            "{:<28} {:>9.2} {:>14.2} {:>14.2} {:>10.4} {:>9} {:>9.0}",
            label,
            results[0].normalized,
            results[1].normalized,
            results[2].normalized,
            results[0].threshold,
            format!(
                "{}/{}",
                results[0].detected_windows, results[0].false_positives
            ),
            ns_per_value
        );
        if let Some(out) = &out {
            write_results(&out.join(&label), &corpus, &scores)?;
        }
    }
    Ok(())
}

type Build = Box<dyn Fn() -> Box<dyn Detector>>;

/// A detector's label and a maker of fresh instances, from a name or JSON setting.
fn builder(text: &str) -> Result<(String, Build), String> {
    if text == "windowed_gaussian" {
        return Ok((
            text.to_owned(),
            Box::new(|| Box::new(WindowedGaussian::new())),
        ));
    }
    let json = if text.trim_start().starts_with('{') {
        text.to_owned()
    } else {
        format!(r#"{{"kind": "{text}"}}"#)
    };
    let spec: DetectorSpec =
        serde_json::from_str(&json).map_err(|e| format!("detector {text}: {e}"))?;
    spec.validate()
        .map_err(|e| format!("detector {text}: {e}"))?;
    let label = spec.kind().to_owned();
    spec.build()
        .ok_or_else(|| format!("detector {text}: detection is off"))?;
    Ok((
        label,
        Box::new(move || {
            spec.build()
                .unwrap_or_else(|| unreachable!("checked above"))
        }),
    ))
}

fn write_results(dir: &Path, corpus: &Corpus, scores: &[Vec<f64>]) -> Result<(), String> {
    for (series, scores) in corpus.series.iter().zip(scores) {
        let path = dir.join(&series.name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut file = std::io::BufWriter::new(file);
        let mut write = || -> std::io::Result<()> {
            writeln!(file, "timestamp,anomaly_score")?;
            for (timestamp, score) in series.timestamps.iter().zip(scores) {
                writeln!(file, "{timestamp},{score}")?;
            }
            file.flush()
        };
        write().map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
