//! PromQL-style label matchers (`code=~"5.."`, `code!="200"`) over a small, anchored
//! pattern language: literals, `.`, classes like `[45]` or `[0-9]`, a trailing `.*`,
//! and `|` alternatives.
//!
//! That covers how error series are picked in practice (`5..`, `4..|5..`, `5.*`,
//! `500|503`) without a regex engine in the bundle; anything else is refused with a
//! message saying what is supported.

use std::fmt;

/// How a matcher compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`: equal.
    Equal,
    /// `!=`: not equal.
    NotEqual,
    /// `=~`: the pattern matches the whole value.
    Matches,
    /// `!~`: the pattern does not match.
    NotMatches,
}

/// A label matcher such as `code=~"5.."`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelMatcher {
    /// The label name.
    pub label: String,
    /// The comparison.
    pub op: MatchOp,
    /// The value or pattern, as written.
    pub value: String,
    alternatives: Vec<Vec<Atom>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Atom {
    Literal(char),
    Any,
    Class(Vec<(char, char)>),
    /// `.*` at the end of an alternative.
    Rest,
}

/// Why a matcher was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// Not of the form `label<op>"value"`.
    #[error(
        "matcher {0:?} is not of the form label=\"v\", label!=\"v\", label=~\"pattern\" or label!~\"pattern\""
    )]
    Syntax(String),
    /// The pattern uses regex syntax this matcher does not support.
    #[error(
        "pattern {pattern:?} uses {found:?}: only literals, '.', classes like [45] or [0-9], a trailing '.*' and '|' are supported"
    )]
    Unsupported {
        /// The pattern.
        pattern: String,
        /// The unsupported part.
        found: String,
    },
}

impl LabelMatcher {
    /// Parses `label="v"`, `label!="v"`, `label=~"pattern"` or `label!~"pattern"`.
    pub fn parse(text: &str) -> Result<LabelMatcher, MatcherError> {
        let syntax = || MatcherError::Syntax(text.to_owned());
        let text = text.trim();
        let op_start = text.find(['=', '!']).ok_or_else(syntax)?;
        let label = text.get(..op_start).ok_or_else(syntax)?.trim();
        let rest = text.get(op_start..).ok_or_else(syntax)?;
        let (op, quoted) = [
            ("=~", MatchOp::Matches),
            ("!~", MatchOp::NotMatches),
            ("!=", MatchOp::NotEqual),
            ("=", MatchOp::Equal),
        ]
        .iter()
        .find_map(|(token, op)| rest.strip_prefix(token).map(|after| (*op, after)))
        .ok_or_else(syntax)?;
        let value = quoted
            .trim()
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .ok_or_else(syntax)?;
        let valid_label = label
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_label {
            return Err(syntax());
        }
        LabelMatcher::new(label, op, value)
    }

    /// Builds a matcher from its parts.
    pub fn new(label: &str, op: MatchOp, value: &str) -> Result<LabelMatcher, MatcherError> {
        let alternatives = match op {
            MatchOp::Matches | MatchOp::NotMatches => compile(value)?,
            MatchOp::Equal | MatchOp::NotEqual => Vec::new(),
        };
        Ok(LabelMatcher {
            label: label.to_owned(),
            op,
            value: value.to_owned(),
            alternatives,
        })
    }

    /// Whether a label value (absent counts as empty, as in PromQL) passes.
    pub fn matches(&self, value: Option<&str>) -> bool {
        let value = value.unwrap_or("");
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Matches => self.pattern_matches(value),
            MatchOp::NotMatches => !self.pattern_matches(value),
        }
    }

    fn pattern_matches(&self, value: &str) -> bool {
        self.alternatives
            .iter()
            .any(|atoms| alternative_matches(atoms, value))
    }
}

impl fmt::Display for LabelMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Matches => "=~",
            MatchOp::NotMatches => "!~",
        };
        write!(f, "{}{op}{:?}", self.label, self.value)
    }
}

fn alternative_matches(atoms: &[Atom], value: &str) -> bool {
    let mut chars = value.chars();
    for atom in atoms {
        let matched = match atom {
            Atom::Rest => return true,
            Atom::Literal(expected) => chars.next() == Some(*expected),
            Atom::Any => chars.next().is_some_and(|c| c != '\n'),
            Atom::Class(ranges) => chars
                .next()
                .is_some_and(|c| ranges.iter().any(|(low, high)| (*low..=*high).contains(&c))),
        };
        if !matched {
            return false;
        }
    }
    chars.next().is_none()
}

fn compile(pattern: &str) -> Result<Vec<Vec<Atom>>, MatcherError> {
    let unsupported = |found: &str| MatcherError::Unsupported {
        pattern: pattern.to_owned(),
        found: found.to_owned(),
    };
    let mut alternatives = Vec::new();
    for part in pattern.split('|') {
        let mut atoms = Vec::new();
        let mut chars = part.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '.' if chars.peek() == Some(&'*') => {
                    chars.next();
                    if chars.peek().is_some() {
                        return Err(unsupported(".* before the end"));
                    }
                    atoms.push(Atom::Rest);
                }
                '.' => atoms.push(Atom::Any),
                '[' => {
                    let mut ranges = Vec::new();
                    let mut closed = false;
                    while let Some(low) = chars.next() {
                        if low == ']' {
                            closed = true;
                            break;
                        }
                        if matches!(low, '^' | '\\' | '[') {
                            return Err(unsupported(&low.to_string()));
                        }
                        if chars.peek() == Some(&'-') {
                            chars.next();
                            match chars.next() {
                                Some(high) if high != ']' && high >= low => {
                                    ranges.push((low, high));
                                }
                                _ => return Err(unsupported("a class range")),
                            }
                        } else {
                            ranges.push((low, low));
                        }
                    }
                    if !closed || ranges.is_empty() {
                        return Err(unsupported("an unclosed or empty class"));
                    }
                    atoms.push(Atom::Class(ranges));
                }
                '*' | '+' | '?' | '(' | ')' | '{' | '}' | '\\' | '^' | '$' | ']' => {
                    return Err(unsupported(&c.to_string()));
                }
                literal => atoms.push(Atom::Literal(literal)),
            }
        }
        alternatives.push(atoms);
    }
    Ok(alternatives)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(text: &str) -> LabelMatcher {
        LabelMatcher::parse(text).expect("valid matcher")
    }

    #[test]
    fn status_classes_match_as_promql_would() {
        let five = matcher(r#"code=~"5..""#);
        assert!(five.matches(Some("500")) && five.matches(Some("503")));
        assert!(!five.matches(Some("200")) && !five.matches(Some("5000")));
        assert!(!five.matches(None));
        let either = matcher(r#"code=~"4..|5..""#);
        assert!(either.matches(Some("404")) && either.matches(Some("502")));
        let class = matcher(r#"code=~"[45][0-9][0-9]""#);
        assert!(class.matches(Some("429")) && !class.matches(Some("200")));
        let rest = matcher(r#"status=~"5.*""#);
        assert!(rest.matches(Some("5")) && rest.matches(Some("5xx")));
        assert!(matcher(r#"code!~"2..""#).matches(Some("500")));
        assert!(matcher(r#"ok="false""#).matches(Some("false")));
        assert!(matcher(r#"code != "200""#).matches(Some("201")));
    }

    #[test]
    fn unsupported_syntax_is_refused_with_what_is_supported() {
        let error = LabelMatcher::parse(r#"code=~"5\d+""#).unwrap_err();
        assert!(error.to_string().contains("only literals"), "{error}");
        assert!(LabelMatcher::parse("code").is_err());
        assert!(LabelMatcher::parse(r#"=~"5..""#).is_err());
        assert!(LabelMatcher::parse(r#"code=~"[5""#).is_err());
        assert_eq!(matcher(r#"code=~"5..""#).to_string(), r#"code=~"5..""#);
    }
}
