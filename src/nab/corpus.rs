//! NAB's corpus: series (`timestamp,value` CSV) and their labelled anomaly windows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One NAB data file with its windows as row ranges.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `<category>/<file>.csv`, as NAB names it.
    pub name: String,
    /// Row timestamps as written (`YYYY-MM-DD HH:MM:SS`).
    pub timestamps: Vec<String>,
    /// Row timestamps as Unix seconds (the files carry no zone; read as UTC).
    pub times_seconds: Vec<f64>,
    /// Row values.
    pub values: Vec<f64>,
    /// Anomaly windows as inclusive row ranges `(first, last)`, in order.
    pub windows: Vec<(usize, usize)>,
}

impl Series {
    /// Rows at the start that NAB does not score: min(floor(15 % of rows), 750).
    pub fn probation_rows(&self) -> usize {
        ((self.values.len() as f64 * 0.15).floor() as usize).min(750)
    }
}

/// All of NAB's series, in name order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Corpus {
    /// The series.
    pub series: Vec<Series>,
}

impl Corpus {
    /// Windows over all series.
    pub fn window_count(&self) -> usize {
        self.series.iter().map(|s| s.windows.len()).sum()
    }

    /// Rows over all series.
    pub fn row_count(&self) -> usize {
        self.series.iter().map(|s| s.values.len()).sum()
    }
}

/// Why the corpus could not be read; each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// A file or directory could not be read.
    #[error(
        "cannot read {path}: {source} (NAB's data and labels are expected at <dir>/data and <dir>/labels/combined_windows.json)"
    )]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A data row is malformed.
    #[error("{file} line {line}: {reason} (expected `YYYY-MM-DD HH:MM:SS,<number>`)")]
    Row {
        /// The file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// The labels file is not NAB's windows JSON.
    #[error("labels: {0} (expected {{\"<category>/<file>.csv\": [[start, end], ...]}})")]
    Labels(String),
    /// A window names a series or time that the data lacks.
    #[error("labels: window {start}..{end} of {file} matches no rows of the data")]
    Window {
        /// The series.
        file: String,
        /// Window start as labelled.
        start: String,
        /// Window end as labelled.
        end: String,
    },
    /// A data file has no entry in the labels.
    #[error("labels have no entry for {0}; is the directory NAB's v1.1?")]
    Unlabelled(String),
    /// The label file and the data disagree on which series exist.
    #[error("labels name {labelled} series but the data has {found}; is the directory NAB's?")]
    Mismatch {
        /// Series in the labels.
        labelled: usize,
        /// Series found.
        found: usize,
    },
}

/// Parses one NAB data file's text.
pub fn parse_series(name: &str, text: &str) -> Result<Series, CorpusError> {
    let row_error = |line: usize, reason| CorpusError::Row {
        file: name.to_owned(),
        line,
        reason,
    };
    let mut series = Series {
        name: name.to_owned(),
        timestamps: Vec::new(),
        times_seconds: Vec::new(),
        values: Vec::new(),
        windows: Vec::new(),
    };
    for (index, line) in text.lines().enumerate().skip(1) {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let (timestamp, value) = line
            .split_once(',')
            .ok_or_else(|| row_error(index + 1, "no comma"))?;
        let seconds =
            parse_timestamp(timestamp).ok_or_else(|| row_error(index + 1, "bad timestamp"))?;
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| row_error(index + 1, "bad value"))?;
        if !value.is_finite() {
            return Err(row_error(index + 1, "value not finite"));
        }
        series.timestamps.push(timestamp.to_owned());
        series.times_seconds.push(seconds);
        series.values.push(value);
    }
    Ok(series)
}

/// `YYYY-MM-DD HH:MM:SS` (optionally with fractional seconds) as Unix seconds, UTC.
pub fn parse_timestamp(text: &str) -> Option<f64> {
    let (date, time) = text.trim().split_once(' ')?;
    let mut date_parts = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    let mut time_parts = time.split(':');
    let hour: i64 = time_parts.next()?.parse().ok()?;
    let minute: i64 = time_parts.next()?.parse().ok()?;
    let second: f64 = time_parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    // Days from the civil calendar (Howard Hinnant's algorithm, public domain).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hour * 3_600 + minute * 60) as f64 + second)
}

/// Attaches NAB's windows (`combined_windows.json` text) to parsed series.
pub fn attach_windows(series: &mut [Series], labels_json: &str) -> Result<(), CorpusError> {
    let labels: BTreeMap<String, Vec<[String; 2]>> =
        serde_json::from_str(labels_json).map_err(|e| CorpusError::Labels(e.to_string()))?;
    if labels.len() != series.len() {
        return Err(CorpusError::Mismatch {
            labelled: labels.len(),
            found: series.len(),
        });
    }
    for one in series.iter_mut() {
        let windows = labels
            .get(&one.name)
            .ok_or_else(|| CorpusError::Unlabelled(one.name.clone()))?;
        one.windows.clear();
        for [start, end] in windows {
            let trim = |t: &str| t.split('.').next().unwrap_or(t).to_owned();
            let (start, end) = (trim(start), trim(end));
            // Timestamps sort as text in this fixed format.
            let first = one.timestamps.partition_point(|t| *t < start);
            let after = one.timestamps.partition_point(|t| *t <= end);
            if first >= after {
                return Err(CorpusError::Window {
                    file: one.name.clone(),
                    start,
                    end,
                });
            }
            one.windows.push((first, after - 1));
        }
    }
    Ok(())
}

/// Reads NAB's corpus from `dir` (`dir/data/<category>/<file>.csv` and
/// `dir/labels/combined_windows.json`).
pub fn load(dir: &Path) -> Result<Corpus, CorpusError> {
    let read_dir = |path: &Path| {
        std::fs::read_dir(path).map_err(|source| CorpusError::Io {
            path: path.to_owned(),
            source,
        })
    };
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|source| CorpusError::Io {
            path: path.to_owned(),
            source,
        })
    };
    let data = dir.join("data");
    let mut names = Vec::new();
    for category in read_dir(&data)? {
        let category = category.map_err(|source| CorpusError::Io {
            path: data.clone(),
            source,
        })?;
        if !category.path().is_dir() {
            continue;
        }
        for file in read_dir(&category.path())? {
            let file = file.map_err(|source| CorpusError::Io {
                path: category.path(),
                source,
            })?;
            let path = file.path();
            if path.extension().is_some_and(|e| e == "csv") {
                let name = format!(
                    "{}/{}",
                    category.file_name().to_string_lossy(),
                    file.file_name().to_string_lossy()
                );
                names.push((name, path));
            }
        }
    }
    names.sort();
    let mut series = Vec::with_capacity(names.len());
    for (name, path) in &names {
        series.push(parse_series(name, &read(path)?)?);
    }
    let labels = read(&dir.join("labels").join("combined_windows.json"))?;
    attach_windows(&mut series, &labels)?;
    Ok(Corpus { series })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_unix_seconds() {
        assert_eq!(parse_timestamp("1970-01-01 00:00:00"), Some(0.0));
        assert_eq!(
            parse_timestamp("2014-07-01 00:30:00"),
            Some(1_404_174_600.0)
        );
        assert_eq!(parse_timestamp("2014-13-01 00:30:00"), None);
    }

    #[test]
    fn windows_become_row_ranges() {
        let text = "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n2014-01-01 00:10:00,3\n";
        let mut series = vec![parse_series("a/b.csv", text).expect("parses")];
        let labels =
            r#"{"a/b.csv": [["2014-01-01 00:05:00.000000", "2014-01-01 00:10:00.000000"]]}"#;
        attach_windows(&mut series, labels).expect("windows");
        assert_eq!(series[0].windows, vec![(1, 2)]);
        assert_eq!(series[0].values, vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn bad_rows_name_the_line() {
        let error = parse_series("a/b.csv", "timestamp,value\n2014-01-01 00:00:00,x\n")
            .expect_err("bad value");
        assert!(error.to_string().contains("line 2"), "{error}");
    }
}
