//! Splits a byte stream that arrives in arbitrary chunks (a streamed fetch body) into
//! lines, carrying a line cut by a chunk boundary over to the next chunk.
//!
//! Whole lines inside a chunk are handed out straight from it; only a line's start
//! cut off at the chunk's end is copied. A line longer than `max_line_bytes` is
//! dropped and counted, and so is a line that is not UTF-8, so a stream that never
//! sends a newline cannot grow memory without bound.

use serde::Serialize;

/// Counters of the splitter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SplitStats {
    /// Lines handed out.
    pub lines: u64,
    /// Lines dropped for exceeding `max_line_bytes`.
    pub overflowed: u64,
    /// Lines dropped for not being UTF-8.
    pub invalid_utf8: u64,
}

/// A chunk-to-line splitter with a bounded carry-over buffer.
#[derive(Debug, Clone)]
pub struct LineSplitter {
    carry: Vec<u8>,
    max_line_bytes: usize,
    /// True while skipping the rest of an overlong line.
    skipping: bool,
    stats: SplitStats,
}

impl LineSplitter {
    /// Default longest line: 1 MiB.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;

    /// A splitter refusing lines longer than `max_line_bytes`.
    pub fn new(max_line_bytes: usize) -> Self {
        LineSplitter {
            carry: Vec::new(),
            max_line_bytes,
            skipping: false,
            stats: SplitStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> &SplitStats {
        &self.stats
    }

    /// Bytes held over from an unfinished line.
    pub fn pending_bytes(&self) -> usize {
        self.carry.len()
    }

    /// Splits one chunk, calling `on_line` with each complete line (without its
    /// `\n` or `\r\n`; blank lines are skipped).
    pub fn push(&mut self, chunk: &[u8], mut on_line: impl FnMut(&str)) {
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (line, after) = rest.split_at(end);
            rest = after.get(1..).unwrap_or(&[]);
            if self.skipping {
                self.skipping = false;
                self.carry.clear();
                continue;
            }
            if self.carry.is_empty() {
                self.emit(line, &mut on_line);
            } else if self.carry.len() + line.len() > self.max_line_bytes {
                self.stats.overflowed += 1;
                self.carry.clear();
            } else {
                let mut carry = std::mem::take(&mut self.carry);
                carry.extend_from_slice(line);
                self.emit(&carry, &mut on_line);
                carry.clear();
                self.carry = carry;
            }
        }
        if self.skipping || rest.is_empty() {
            return;
        }
        if self.carry.len() + rest.len() > self.max_line_bytes {
            self.stats.overflowed += 1;
            self.carry.clear();
            self.skipping = true;
        } else {
            self.carry.extend_from_slice(rest);
        }
    }

    /// Ends the stream: a last line without a newline is handed out.
    pub fn finish(&mut self, mut on_line: impl FnMut(&str)) {
        let carry = std::mem::take(&mut self.carry);
        if !self.skipping {
            self.emit(&carry, &mut on_line);
        }
        self.skipping = false;
    }

    fn emit(&mut self, line: &[u8], on_line: &mut impl FnMut(&str)) {
        if line.len() > self.max_line_bytes {
            self.stats.overflowed += 1;
            return;
        }
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match std::str::from_utf8(line) {
            Ok(text) => {
                self.stats.lines += 1;
                on_line(text);
            }
            Err(_) => self.stats.invalid_utf8 += 1,
        }
    }
}

impl Default for LineSplitter {
    fn default() -> Self {
        LineSplitter::new(LineSplitter::DEFAULT_MAX_LINE_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]], max: usize) -> (Vec<String>, SplitStats) {
        let mut splitter = LineSplitter::new(max);
        let mut lines = Vec::new();
        for chunk in chunks {
            splitter.push(chunk, |line| lines.push(line.to_owned()));
        }
        splitter.finish(|line| lines.push(line.to_owned()));
        (lines, splitter.stats().clone())
    }

    #[test]
    fn lines_cut_by_chunks_are_joined() {
        let (lines, _) = split(&[b"{\"a\":1}\n{\"b\"", b":2}\r\n\n{\"c", b"\":3}"], 64);
        assert_eq!(lines, vec!["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"]);
    }

    #[test]
    fn a_utf8_character_split_across_chunks_survives() {
        let text = "é\n".as_bytes();
        let (lines, stats) = split(&[&text[..1], &text[1..]], 64);
        assert_eq!(lines, vec!["é"]);
        assert_eq!(stats.invalid_utf8, 0);
    }

    #[test]
    fn overlong_lines_are_dropped_and_counted_without_growing() {
        let (lines, stats) = split(&[b"short\n0123456789", b"0123456789", b"xx\nok\n"], 8);
        assert_eq!(lines, vec!["short", "ok"]);
        assert_eq!(stats.overflowed, 1);
        let (lines, stats) = split(&[b"0123456789abc\nok"], 8);
        assert_eq!((lines, stats.overflowed), (vec!["ok".to_owned()], 1));
    }

    #[test]
    fn invalid_utf8_is_counted() {
        let (lines, stats) = split(&[b"\xff\xfe\nfine\n"], 64);
        assert_eq!(lines, vec!["fine"]);
        assert_eq!(stats.invalid_utf8, 1);
    }
}
