//! Prometheus text exposition (format 0.0.4) and OpenMetrics text: a zero-copy line
//! parser that borrows every name, label and help text from the page.
//!
//! [`parse`] yields one [`Line`] per metadata or sample line and skips comments and
//! blank lines. A malformed line is one `Err` carrying its line number; parsing goes
//! on with the next line, so one bad line costs one series, not the whole page (the
//! caller decides whether that fails the scrape). Label sets are validated once and
//! kept as their raw text; [`Labels::get`] and [`Labels::iter`] re-read that text,
//! unescaping only values that contain a backslash.
//!
//! No crate fitted: `prometheus-parse` pulls `regex` and calls `Utc::now()` (which
//! panics on wasm32), `openmetrics-parser` is LGPL-3.0, and `prom_text_format_parser`
//! reads the 0.0.4 format only and keeps values as strings.

use std::borrow::Cow;
use std::fmt;

/// Which text format a page is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`): timestamps in ms.
    #[default]
    Prometheus,
    /// OpenMetrics text (`application/openmetrics-text`): timestamps in seconds,
    /// exemplars, and a closing `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format a `Content-Type` header announces (0.0.4 unless it says OpenMetrics).
    pub fn from_content_type(content_type: &str) -> Format {
        if content_type
            .to_ascii_lowercase()
            .contains("application/openmetrics-text")
        {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// A metric family's type, from its `# TYPE` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// A monotonic counter.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Cumulative buckets with `le`, plus `_sum` and `_count`.
    Histogram,
    /// OpenMetrics gauge histogram (`_gcount`, `_gsum`).
    GaugeHistogram,
    /// Quantiles, plus `_sum` and `_count`.
    Summary,
    /// OpenMetrics info (`_info`).
    Info,
    /// OpenMetrics state set.
    StateSet,
    /// `untyped` (0.0.4) or `unknown` (OpenMetrics).
    Unknown,
}

impl MetricType {
    fn parse(word: &str) -> Option<MetricType> {
        Some(match word {
            "counter" => MetricType::Counter,
            "gauge" => MetricType::Gauge,
            "histogram" => MetricType::Histogram,
            "gaugehistogram" => MetricType::GaugeHistogram,
            "summary" => MetricType::Summary,
            "info" => MetricType::Info,
            "stateset" => MetricType::StateSet,
            "untyped" | "unknown" => MetricType::Unknown,
            _ => return None,
        })
    }
}

/// One parsed line that carries information.
#[derive(Debug, Clone, PartialEq)]
pub enum Line<'a> {
    /// `# HELP name text` (text unescaped).
    Help {
        /// Metric family name.
        metric: &'a str,
        /// The help text.
        text: Cow<'a, str>,
    },
    /// `# TYPE name type`.
    Type {
        /// Metric family name.
        metric: &'a str,
        /// Its type.
        kind: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics).
    Unit {
        /// Metric family name.
        metric: &'a str,
        /// The unit, e.g. `seconds`.
        unit: &'a str,
    },
    /// A sample line.
    Sample(SeriesSample<'a>),
    /// `# EOF` (OpenMetrics): nothing may follow.
    Eof,
}

/// One sample: `name{labels} value [timestamp] [# exemplar]`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSample<'a> {
    /// The sample's metric name (with any `_total`, `_bucket`... suffix).
    pub name: &'a str,
    /// Its labels.
    pub labels: Labels<'a>,
    /// The series' identity as written: the name and the label braces, if any.
    pub series: &'a str,
    /// The value (may be NaN or infinite).
    pub value: f64,
    /// The timestamp in Unix seconds (0.0.4 milliseconds are converted).
    pub timestamp_seconds: Option<f64>,
    /// An OpenMetrics exemplar.
    pub exemplar: Option<Exemplar<'a>>,
}

/// An OpenMetrics exemplar: `# {labels} value [timestamp]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels (e.g. a trace id).
    pub labels: Labels<'a>,
    /// The exemplar's value.
    pub value: f64,
    /// Its timestamp in Unix seconds.
    pub timestamp_seconds: Option<f64>,
}

/// A validated label set, kept as the raw text between its braces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Labels<'a> {
    raw: &'a str,
}

/// One label: its name and its value as written (still escaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label<'a> {
    /// The label name.
    pub name: &'a str,
    /// The value as written between the quotes, escapes included.
    pub raw_value: &'a str,
}

impl<'a> Label<'a> {
    /// The value with `\\`, `\"` and `\n` unescaped; borrowed when it has no escapes.
    pub fn value(&self) -> Cow<'a, str> {
        unescape(self.raw_value)
    }
}

impl<'a> Labels<'a> {
    /// The text between the braces, as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// True when the sample has no labels.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The labels in the order written.
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter {
            bytes: self.raw.as_bytes(),
            text: self.raw,
            pos: 0,
        }
    }

    /// A label's unescaped value.
    pub fn get(&self, name: &str) -> Option<Cow<'a, str>> {
        self.iter()
            .find(|label| label.name == name)
            .map(|label| label.value())
    }
}

/// Iterator over a validated label set.
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        // The set was validated when parsed, so any surprise simply ends the iteration.
        let mut cursor = Cursor {
            bytes: self.bytes,
            text: self.text,
            pos: self.pos,
        };
        cursor.skip_blanks();
        if cursor.peek() == Some(b',') {
            cursor.pos += 1;
            cursor.skip_blanks();
        }
        if cursor.at_end() {
            self.pos = cursor.pos;
            return None;
        }
        let label = cursor.label().ok()?;
        self.pos = cursor.pos;
        Some(label)
    }
}

/// A malformed line: where, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

/// What is wrong with a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseErrorKind {
    /// A metric name was expected.
    #[error("expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) at column {column}")]
    MetricName {
        /// 1-based column.
        column: usize,
    },
    /// A label name was expected.
    #[error("expected a label name ([a-zA-Z_][a-zA-Z0-9_]*) at column {column}")]
    LabelName {
        /// 1-based column.
        column: usize,
    },
    /// A specific character was expected.
    #[error("expected {expected} at column {column}")]
    Expected {
        /// What was expected, e.g. `'='`.
        expected: &'static str,
        /// 1-based column.
        column: usize,
    },
    /// A label value's closing quote is missing.
    #[error("label value starting at column {column} has no closing quote")]
    UnterminatedValue {
        /// 1-based column of the opening quote.
        column: usize,
    },
    /// A label appears twice in one set.
    #[error("label {name:?} appears twice in one label set")]
    DuplicateLabel {
        /// The repeated label.
        name: String,
    },
    /// A value or timestamp is not a number.
    #[error("{what} {token:?} is not a number (use digits, NaN, +Inf or -Inf)")]
    Number {
        /// `value` or `timestamp`.
        what: &'static str,
        /// The token (truncated to 32 bytes).
        token: String,
    },
    /// A `# TYPE` names an unknown type.
    #[error(
        "unknown metric type {word:?} (use counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown or untyped)"
    )]
    UnknownType {
        /// The word found.
        word: String,
    },
    /// Something follows the line's last token.
    #[error("unexpected text {text:?} at column {column}")]
    Trailing {
        /// The text (truncated to 32 bytes).
        text: String,
        /// 1-based column.
        column: usize,
    },
    /// Lines follow OpenMetrics' `# EOF`.
    #[error("text after `# EOF`: an OpenMetrics page must end there")]
    AfterEof,
    /// An OpenMetrics page ends without `# EOF`, so it was probably cut short.
    #[error("the OpenMetrics page ends without `# EOF`: it was probably truncated")]
    MissingEof,
}

/// Parses a page, line by line.
pub fn parse(text: &str, format: Format) -> Parser<'_> {
    Parser {
        text,
        pos: 0,
        line: 0,
        format,
        eof_seen: false,
        finished: false,
        names: Vec::new(),
    }
}

/// The line iterator [`parse`] returns.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    text: &'a str,
    pos: usize,
    line: usize,
    format: Format,
    eof_seen: bool,
    finished: bool,
    /// Label names of the current set, for the duplicate check (reused).
    names: Vec<&'a str>,
}

impl<'a> Parser<'a> {
    /// The 1-based number of the line last returned.
    pub fn line_number(&self) -> usize {
        self.line
    }

    fn next_raw_line(&mut self) -> Option<&'a str> {
        let rest = self.text.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (line, advance) = match rest.as_bytes().iter().position(|b| *b == b'\n') {
            Some(end) => (rest.get(..end)?, end + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        self.line += 1;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            line: self.line,
            kind,
        }
    }

    fn parse_line(&mut self, line: &'a str) -> Result<Option<Line<'a>>, ParseErrorKind> {
        let mut cursor = Cursor::new(line);
        cursor.skip_blanks();
        match cursor.peek() {
            None => Ok(None),
            Some(b'#') => self.comment(cursor),
            Some(_) => self.sample(cursor).map(|s| Some(Line::Sample(s))),
        }
    }

    fn comment(&mut self, mut cursor: Cursor<'a>) -> Result<Option<Line<'a>>, ParseErrorKind> {
        cursor.pos += 1;
        cursor.skip_blanks();
        let keyword = cursor.word();
        // In 0.0.4, `# EOF` is only a comment.
        if keyword == "EOF" && self.format == Format::OpenMetrics && cursor.rest().trim().is_empty()
        {
            return Ok(Some(Line::Eof));
        }
        let kind = match keyword {
            "HELP" | "TYPE" | "UNIT" => keyword,
            _ => return Ok(None),
        };
        cursor.skip_blanks();
        let metric = cursor.metric_name()?;
        if kind == "HELP" {
            // One separating blank; the rest, trailing spaces included, is the text.
            if matches!(cursor.peek(), Some(b' ' | b'\t')) {
                cursor.pos += 1;
            }
            return Ok(Some(Line::Help {
                metric,
                text: unescape(cursor.rest()),
            }));
        }
        cursor.skip_blanks();
        let word = cursor.word();
        cursor.expect_end()?;
        if kind == "UNIT" {
            return Ok(Some(Line::Unit { metric, unit: word }));
        }
        match MetricType::parse(word) {
            Some(kind) => Ok(Some(Line::Type { metric, kind })),
            None => Err(ParseErrorKind::UnknownType {
                word: truncated(word),
            }),
        }
    }

    fn sample(&mut self, mut cursor: Cursor<'a>) -> Result<SeriesSample<'a>, ParseErrorKind> {
        let start = cursor.pos;
        let name = cursor.metric_name()?;
        cursor.skip_blanks();
        let labels = if cursor.peek() == Some(b'{') {
            cursor.label_set(&mut self.names)?
        } else {
            Labels::default()
        };
        let series = cursor.slice(start, cursor.pos).trim_end();
        cursor.skip_blanks();
        let value = cursor.number("value")?;
        cursor.skip_blanks();
        let mut timestamp_seconds = None;
        if cursor.peek().is_some_and(|b| b != b'#') {
            let raw = cursor.number("timestamp")?;
            timestamp_seconds = Some(match self.format {
                Format::Prometheus => raw / 1000.0,
                Format::OpenMetrics => raw,
            });
            cursor.skip_blanks();
        }
        let mut exemplar = None;
        if cursor.peek() == Some(b'#') && self.format == Format::OpenMetrics {
            cursor.pos += 1;
            cursor.skip_blanks();
            exemplar = Some(cursor.exemplar(&mut self.names)?);
        }
        cursor.expect_end()?;
        Ok(SeriesSample {
            name,
            labels,
            series,
            value,
            timestamp_seconds,
            exemplar,
        })
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Line<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            let Some(line) = self.next_raw_line() else {
                self.finished = true;
                if self.format == Format::OpenMetrics && !self.eof_seen {
                    self.line += 1;
                    return Some(Err(self.error(ParseErrorKind::MissingEof)));
                }
                return None;
            };
            if self.eof_seen {
                if line.trim().is_empty() {
                    continue;
                }
                self.finished = true;
                return Some(Err(self.error(ParseErrorKind::AfterEof)));
            }
            match self.parse_line(line) {
                Ok(None) => continue,
                Ok(Some(Line::Eof)) => {
                    self.eof_seen = true;
                    return Some(Ok(Line::Eof));
                }
                Ok(Some(parsed)) => return Some(Ok(parsed)),
                Err(kind) => return Some(Err(self.error(kind))),
            }
        }
        None
    }
}

/// A byte cursor over one line. Every delimiter it looks for is ASCII, so each
/// position it slices at is a char boundary; `slice` still checks.
#[derive(Debug, Clone)]
struct Cursor<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor {
            bytes: text.as_bytes(),
            text,
            pos: 0,
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn column(&self) -> usize {
        self.pos + 1
    }

    #[inline]
    fn slice(&self, start: usize, end: usize) -> &'a str {
        self.text.get(start..end).unwrap_or("")
    }

    fn rest(&self) -> &'a str {
        self.text.get(self.pos..).unwrap_or("")
    }

    #[inline]
    fn skip_blanks(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Everything up to the next blank.
    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b != b' ' && b != b'\t') {
            self.pos += 1;
        }
        self.slice(start, self.pos)
    }

    fn expect_end(&mut self) -> Result<(), ParseErrorKind> {
        self.skip_blanks();
        if self.at_end() {
            Ok(())
        } else {
            Err(ParseErrorKind::Trailing {
                text: truncated(self.rest()),
                column: self.column(),
            })
        }
    }

    #[inline]
    fn identifier(&mut self, colons: bool) -> Option<&'a str> {
        let start = self.pos;
        let first = self.peek()?;
        if !(first.is_ascii_alphabetic() || first == b'_' || (colons && first == b':')) {
            return None;
        }
        self.pos += 1;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || (colons && b == b':'))
        {
            self.pos += 1;
        }
        Some(self.slice(start, self.pos))
    }

    fn metric_name(&mut self) -> Result<&'a str, ParseErrorKind> {
        let column = self.column();
        self.identifier(true)
            .ok_or(ParseErrorKind::MetricName { column })
    }

    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), ParseErrorKind> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(ParseErrorKind::Expected {
                expected,
                column: self.column(),
            })
        }
    }

    /// `name = "value"`, the cursor on the name.
    #[inline]
    fn label(&mut self) -> Result<Label<'a>, ParseErrorKind> {
        let column = self.column();
        let name = self
            .identifier(false)
            .ok_or(ParseErrorKind::LabelName { column })?;
        self.skip_blanks();
        self.expect(b'=', "'=' after the label name")?;
        self.skip_blanks();
        let quote_column = self.column();
        self.expect(b'"', "'\"' opening the label value")?;
        let start = self.pos;
        loop {
            match self.peek() {
                None => {
                    return Err(ParseErrorKind::UnterminatedValue {
                        column: quote_column,
                    });
                }
                Some(b'"') => break,
                Some(b'\\') => self.pos += 2,
                Some(_) => self.pos += 1,
            }
        }
        let raw_value = self.slice(start, self.pos);
        self.pos += 1;
        Ok(Label { name, raw_value })
    }

    /// `{a="1",b="2",}`, the cursor on `{`; checks for duplicate names.
    fn label_set(&mut self, names: &mut Vec<&'a str>) -> Result<Labels<'a>, ParseErrorKind> {
        self.pos += 1;
        let start = self.pos;
        names.clear();
        loop {
            self.skip_blanks();
            if self.peek() == Some(b'}') {
                break;
            }
            let label = self.label()?;
            if names.contains(&label.name) {
                return Err(ParseErrorKind::DuplicateLabel {
                    name: label.name.to_owned(),
                });
            }
            names.push(label.name);
            self.skip_blanks();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => {
                    return Err(ParseErrorKind::Expected {
                        expected: "',' or '}' after a label",
                        column: self.column(),
                    });
                }
            }
        }
        let raw = self.slice(start, self.pos);
        self.pos += 1;
        Ok(Labels { raw })
    }

    fn number(&mut self, what: &'static str) -> Result<f64, ParseErrorKind> {
        let token = self.word();
        parse_number(token).ok_or_else(|| ParseErrorKind::Number {
            what,
            token: truncated(token),
        })
    }

    fn exemplar(&mut self, names: &mut Vec<&'a str>) -> Result<Exemplar<'a>, ParseErrorKind> {
        if self.peek() != Some(b'{') {
            return Err(ParseErrorKind::Expected {
                expected: "'{' opening the exemplar's labels",
                column: self.column(),
            });
        }
        let labels = self.label_set(names)?;
        self.skip_blanks();
        let value = self.number("value")?;
        self.skip_blanks();
        let timestamp_seconds = if self.at_end() {
            None
        } else {
            Some(self.number("timestamp")?)
        };
        Ok(Exemplar {
            labels,
            value,
            timestamp_seconds,
        })
    }
}

/// Parses a sample value: decimal, exponent, `NaN`, `+Inf`, `-Inf` (as Go's
/// `ParseFloat`, which Prometheus uses, does). Plain integers take a fast path.
#[inline]
pub fn parse_number(token: &str) -> Option<f64> {
    let bytes = token.as_bytes();
    if !bytes.is_empty() && bytes.len() <= 15 && bytes.iter().all(u8::is_ascii_digit) {
        let whole = bytes
            .iter()
            .fold(0u64, |acc, digit| acc * 10 + u64::from(digit - b'0'));
        return Some(whole as f64);
    }
    // Rust's parser also takes "inf", "infinity" and "nan" in any case, as Go's does;
    // it refuses hex floats and `_`, which no exporter writes.
    token.parse::<f64>().ok()
}

/// Unescapes `\\`, `\"` and `\n`; any other escape is kept as written.
pub fn unescape(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\\') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Cow::Owned(out)
}

/// Escapes a label value for writing exposition (the inverse of [`unescape`]).
pub fn escape_label_value(value: &str) -> Cow<'_, str> {
    if !value.contains(['\\', '"', '\n']) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    Cow::Owned(out)
}

fn truncated(text: &str) -> String {
    let mut end = text.len().min(32);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or("").to_owned()
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(text: &str, format: Format) -> Vec<SeriesSample<'_>> {
        parse(text, format)
            .filter_map(|line| match line {
                Ok(Line::Sample(sample)) => Some(sample),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reads_metadata_labels_values_and_timestamps() {
        let page = "# HELP rq Requests\\nserved.\n# TYPE rq counter\n\
                    rq_total{code=\"200\",path=\"/a\\\"b\"} 12 1700000000000\n\
                    rq_total 3\n";
        let lines: Vec<_> = parse(page, Format::Prometheus).collect();
        assert_eq!(
            lines[0],
            Ok(Line::Help {
                metric: "rq",
                text: Cow::Owned("Requests\nserved.".into())
            })
        );
        assert_eq!(
            lines[1],
            Ok(Line::Type {
                metric: "rq",
                kind: MetricType::Counter
            })
        );
        let Ok(Line::Sample(sample)) = &lines[2] else {
            panic!("{lines:?}")
        };
        assert_eq!(sample.name, "rq_total");
        assert_eq!(sample.series, "rq_total{code=\"200\",path=\"/a\\\"b\"}");
        assert_eq!(sample.labels.get("code").as_deref(), Some("200"));
        assert_eq!(sample.labels.get("path").as_deref(), Some("/a\"b"));
        assert_eq!(sample.value, 12.0);
        assert_eq!(sample.timestamp_seconds, Some(1_700_000_000.0));
        assert_eq!(lines.len(), 4);
    }

    #[test]
    fn special_values_parse() {
        let page = "a +Inf\nb -Inf\nc NaN\nd 1.5e-3\ne -0.25\n";
        let values: Vec<f64> = samples(page, Format::Prometheus)
            .iter()
            .map(|s| s.value)
            .collect();
        assert_eq!(values[0], f64::INFINITY);
        assert_eq!(values[1], f64::NEG_INFINITY);
        assert!(values[2].is_nan());
        assert_eq!(values[3], 0.0015);
        assert_eq!(values[4], -0.25);
    }

    #[test]
    fn openmetrics_exemplars_units_and_eof() {
        let page = "# TYPE lat histogram\n# UNIT lat seconds\n\
            lat_bucket{le=\"0.1\"} 3 # {trace_id=\"abc\"} 0.05 1700000000.5\n\
            lat_bucket{le=\"+Inf\"} 4\nlat_created 1.7e9\n# EOF\n";
        let lines: Vec<_> = parse(page, Format::OpenMetrics).collect();
        assert!(lines.iter().all(Result::is_ok), "{lines:?}");
        assert_eq!(
            lines[1],
            Ok(Line::Unit {
                metric: "lat",
                unit: "seconds"
            })
        );
        let Ok(Line::Sample(sample)) = &lines[2] else {
            panic!()
        };
        let exemplar = sample.exemplar.as_ref().expect("exemplar");
        assert_eq!(exemplar.labels.get("trace_id").as_deref(), Some("abc"));
        assert_eq!(exemplar.timestamp_seconds, Some(1_700_000_000.5));
        assert_eq!(lines.last(), Some(&Ok(Line::Eof)));
    }

    #[test]
    fn openmetrics_without_eof_or_with_text_after_it_is_an_error() {
        let cut: Vec<_> = parse("a 1\n", Format::OpenMetrics).collect();
        assert_eq!(
            cut.last(),
            Some(&Err(ParseError {
                line: 2,
                kind: ParseErrorKind::MissingEof
            }))
        );
        let after: Vec<_> = parse("# EOF\na 1\n", Format::OpenMetrics).collect();
        assert!(matches!(
            after.last(),
            Some(Err(ParseError {
                line: 2,
                kind: ParseErrorKind::AfterEof
            }))
        ));
    }

    #[test]
    fn eof_ends_only_openmetrics() {
        assert_eq!(parse("# EOF\na 1\n", Format::Prometheus).count(), 1);
    }

    #[test]
    fn bad_lines_carry_their_number_and_parsing_goes_on() {
        let page = "ok 1\nbad{a=\"1\" 2\n9bad 1\nx{a=\"1\",a=\"2\"} 1\ny abc\nz 1 2 3\nfine 2\n";
        let lines: Vec<_> = parse(page, Format::Prometheus).collect();
        let errors: Vec<usize> = lines
            .iter()
            .filter_map(|l| l.as_ref().err().map(|e| e.line))
            .collect();
        assert_eq!(errors, vec![2, 3, 4, 5, 6]);
        assert_eq!(samples(page, Format::Prometheus).len(), 2);
        let message = lines[3].as_ref().unwrap_err().to_string();
        assert_eq!(
            message,
            "line 4: label \"a\" appears twice in one label set"
        );
    }

    #[test]
    fn label_values_may_hold_braces_commas_and_hashes() {
        let page = "m{a=\"}{,#\",b=\"x y\",} 1\n";
        let sample = &samples(page, Format::Prometheus)[0];
        let labels: Vec<_> = sample
            .labels
            .iter()
            .map(|l| (l.name, l.raw_value))
            .collect();
        assert_eq!(labels, vec![("a", "}{,#"), ("b", "x y")]);
    }

    #[test]
    fn unterminated_values_and_lone_backslashes_do_not_panic() {
        for page in [
            "m{a=\"\\",
            "m{a=\"x\\\"} 1",
            "m{",
            "m{a",
            "m{a=",
            "#",
            "# HELP",
            "{",
        ] {
            let _ = parse(page, Format::Prometheus).count();
            let _ = parse(page, Format::OpenMetrics).count();
        }
    }

    #[test]
    fn escape_round_trips() {
        for value in ["plain", "q\"uote", "back\\slash", "new\nline", "ünï"] {
            assert_eq!(unescape(&escape_label_value(value)), value);
        }
    }
}
