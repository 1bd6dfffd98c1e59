//! Predictive alerts on NAB: the monitor's trend forecast (`monitor::predict::Trend`)
//! run over every NAB series against a threshold set from the series' own
//! probationary rows (their maximum plus a tenth of their range), reporting how long
//! before each crossing it was predicted and how many predictions no crossing
//! followed within the horizon.
//!
//! `cargo run --release --example nab_predict [-- --nab DIR] [MIN_ROWS HORIZON_ROWS
//! HOLD_ROWS]`: a trend needs MIN_ROWS values (default 12, an hour of NAB's 5-minute
//! rows) and keeps twice as many; HORIZON_ROWS (default 12) is the horizon in rows; a
//! prediction is raised once the forecast has crossed for HOLD_ROWS rows (default 1).
//! `--seasonal` forecasts around the daily profile a `seasonal` detector learns.

use std::path::Path;

use redline::monitor::detectors::{Seasonal, SeasonalSettings};
use redline::monitor::predict::{self, Trend};
use redline::monitor::{Comparison, Detector};
use redline::nab::{self, corpus::Series};

fn main() {
    if let Err(message) = run() {
        eprintln!("nab_predict: {message}");
        std::process::exit(1);
    }
}

/// One series' predictions against its crossings.
#[derive(Debug, Default)]
struct Outcome {
    crossings: usize,
    predicted: usize,
    lead_seconds: Vec<f64>,
    predictions: usize,
    false_predictions: usize,
}

fn run() -> Result<(), String> {
    let mut nab_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/nab");
    let mut numbers = Vec::new();
    let mut seasonal = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--seasonal" {
            seasonal = true;
        } else if arg == "--nab" {
            nab_dir = args.next().ok_or("--nab needs a directory")?.into();
        } else {
            numbers.push(arg.parse::<usize>().map_err(|e| format!("{arg}: {e}"))?);
        }
    }
    let min_rows = numbers.first().copied().unwrap_or(12).max(4);
    let horizon_rows = numbers.get(1).copied().unwrap_or(12).max(1);
    let hold_rows = numbers.get(2).copied().unwrap_or(1).max(1);
    let corpus = nab::corpus::load(&nab_dir).map_err(|e| e.to_string())?;
    let season = if seasonal {
        ", around a learnt daily profile"
    } else {
        ""
    };
    println!("min history {min_rows} rows, horizon {horizon_rows} rows, held {hold_rows}{season}");
    println!(
        "{:<60} {:>9} {:>9} {:>14} {:>11} {:>6}",
        "series", "crossings", "predicted", "median lead s", "predictions", "false"
    );
    let mut total = Outcome::default();
    for series in &corpus.series {
        let outcome = evaluate(series, (min_rows, horizon_rows, hold_rows), seasonal);
        if outcome.crossings > 0 || outcome.predictions > 0 {
            println!(
                "{:<60} {:>9} {:>9} {:>14.0} {:>11} {:>6}",
                series.name,
                outcome.crossings,
                outcome.predicted,
                median(&outcome.lead_seconds),
                outcome.predictions,
                outcome.false_predictions
            );
        }
        total.crossings += outcome.crossings;
        total.predicted += outcome.predicted;
        total.lead_seconds.extend(outcome.lead_seconds);
        total.predictions += outcome.predictions;
        total.false_predictions += outcome.false_predictions;
    }
    println!(
        "{:<60} {:>9} {:>9} {:>14.0} {:>11} {:>6}",
        "all series",
        total.crossings,
        total.predicted,
        median(&total.lead_seconds),
        total.predictions,
        total.false_predictions
    );
    Ok(())
}

fn evaluate(
    series: &Series,
    (min_rows, horizon_rows, hold_rows): (usize, usize, usize),
    seasonal: bool,
) -> Outcome {
    let probation = series.probation_rows().max(2).min(series.values.len());
    let learnt = &series.values[..probation];
    let high = learnt.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let low = learnt.iter().copied().fold(f64::INFINITY, f64::min);
    let threshold = high + 0.1 * (high - low).max(1e-9);
    let times = &series.times_seconds;
    let step = if times.len() > 1 {
        (times[times.len() - 1] - times[0]) / (times.len() - 1) as f64
    } else {
        1.0
    };
    let horizon_seconds = horizon_rows as f64 * step;
    let mut outcome = Outcome::default();
    let mut trend = Trend::new(2 * min_rows);
    // The seasonal detector learns every row, as the monitor's would.
    let mut season = seasonal.then(|| Seasonal::new(SeasonalSettings::default()));
    if let Some(season) = &mut season {
        for (now, value) in times.iter().zip(&series.values).take(probation) {
            season.observe_at(*now, *value);
        }
    }
    // Start of the prediction episode now active, if any.
    let mut predicted_since: Option<f64> = None;
    let mut above = false;
    // Consecutive rows the forecast has crossed.
    let mut held = 0;
    for row in probation..series.values.len() {
        let (now, value) = (times[row], series.values[row]);
        let breach = value > threshold;
        if breach && !above {
            outcome.crossings += 1;
            if let Some(since) = predicted_since.take() {
                outcome.predicted += 1;
                outcome.lead_seconds.push(now - since);
            }
        }
        above = breach;
        let expected = season.as_ref().and_then(|s| s.expected_at(now));
        let forecast = if !breach && predict::follows(value, threshold, Comparison::Above) {
            trend.use_residuals(expected.is_some());
            match (&season, expected) {
                (Some(season), Some(level)) => {
                    trend.push(now, value - level);
                    let profile = |t| season.expected_at(t);
                    let above = Comparison::Above;
                    trend.forecast_seasonal(threshold, above, horizon_seconds, min_rows, profile)
                }
                _ => {
                    trend.push(now, value);
                    trend.forecast(threshold, Comparison::Above, horizon_seconds, min_rows)
                }
            }
        } else {
            trend = Trend::new(2 * min_rows);
            None
        };
        held = if forecast.is_some() { held + 1 } else { 0 };
        if let Some(season) = &mut season {
            season.observe_at(now, value);
        }
        match (held >= hold_rows, predicted_since) {
            (true, None) => {
                outcome.predictions += 1;
                predicted_since = Some(now);
            }
            (false, Some(since)) if !breach => {
                // Withdrawn: false unless a crossing comes within the horizon of it.
                let crossed = (row + 1..series.values.len())
                    .take_while(|r| times[*r] <= since + horizon_seconds)
                    .any(|r| series.values[r] > threshold);
                if !crossed {
                    outcome.false_predictions += 1;
                }
                predicted_since = None;
            }
            _ => {}
        }
    }
    outcome
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
