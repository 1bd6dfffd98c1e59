//! Classifies one timed probe of a module URL: ok or error with a reason, and the
//! duration to record (Resource Timing's when the browser gives one, else the
//! feeder's own measurement).
//!
//! An opaque response (a `no-cors` fetch) proves the URL answered and how fast, but
//! not with which status: it counts as ok and carries a note saying so, rather than a
//! guessed status. A fetch refused by CORS and a network failure look the same to a
//! page (a `TypeError`), so the reason says both.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What the probe's fetch returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeResponse {
    /// A readable response with this HTTP status.
    Status(u16),
    /// An opaque `no-cors` response: reachable, status unknown.
    Opaque,
}

/// The raw facts of one probe, as the feeder saw them.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeResult {
    /// The response, if one arrived.
    pub response: Option<ProbeResponse>,
    /// The probe was aborted at its timeout.
    pub timed_out: bool,
    /// The fetch failed without a response (its message).
    pub network_error: Option<String>,
    /// Seconds from start to end, measured by the feeder.
    pub measured_seconds: f64,
    /// Seconds from the Resource Timing entry (`responseEnd - startTime`), if any.
    pub resource_timing_seconds: Option<f64>,
}

/// The statuses that count as success, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedStatus {
    /// Lowest accepted status.
    pub min: u16,
    /// Highest accepted status.
    pub max: u16,
}

impl Default for ExpectedStatus {
    /// 200 to 399: success and redirects.
    fn default() -> Self {
        ExpectedStatus { min: 200, max: 399 }
    }
}

impl ExpectedStatus {
    /// Parses `200-299` or a single `204`.
    pub fn parse(text: &str) -> Result<ExpectedStatus, ProbeConfigError> {
        let error = || ProbeConfigError(text.to_owned());
        let (min, max) = text.split_once('-').unwrap_or((text, text));
        let min: u16 = min.trim().parse().map_err(|_| error())?;
        let max: u16 = max.trim().parse().map_err(|_| error())?;
        if !(100..=599).contains(&min) || !(min..=599).contains(&max) {
            return Err(error());
        }
        Ok(ExpectedStatus { min, max })
    }

    /// Whether `status` is within the range.
    pub fn accepts(&self, status: u16) -> bool {
        (self.min..=self.max).contains(&status)
    }
}

/// A status range that is not `NNN` or `NNN-NNN` within 100..=599.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected status {0:?} is not a status or a range like 200-299 (within 100-599)")]
pub struct ProbeConfigError(pub String);

/// Why a probe counts as an error, or a note on an ok one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeReason {
    /// The status was in the expected range.
    Ok,
    /// Reachable, but opaque (`no-cors`): the status is unknown.
    OpaqueOk,
    /// The status was outside the expected range.
    Status {
        /// The status received.
        status: u16,
        /// The range expected.
        expected: ExpectedStatus,
    },
    /// No answer before the timeout.
    Timeout,
    /// No response: a network error or a CORS refusal (a page cannot tell which).
    Network(String),
}

impl fmt::Display for ProbeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeReason::Ok => f.write_str("ok"),
            ProbeReason::OpaqueOk => f.write_str(
                "reachable (opaque no-cors response: time measured, status unknown; \
                 serve Access-Control-Allow-Origin to see it)",
            ),
            ProbeReason::Status { status, expected } => write!(
                f,
                "HTTP {status}, expected {}-{}",
                expected.min, expected.max
            ),
            ProbeReason::Timeout => f.write_str("timed out"),
            ProbeReason::Network(message) => write!(
                f,
                "no response: network error or CORS refusal (the browser does not say which): {message}"
            ),
        }
    }
}

/// Where the recorded duration came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationSource {
    /// The Resource Timing entry.
    ResourceTiming,
    /// The feeder's own clock (no entry, or a cross-origin one zeroed for lack of
    /// `Timing-Allow-Origin`).
    Measured,
}

/// The verdict on one probe: what to record, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeVerdict {
    /// Record as ok (true) or error.
    pub ok: bool,
    /// Seconds to record as the latency (finite, >= 0).
    pub latency_seconds: f64,
    /// Why.
    pub reason: ProbeReason,
    /// Where the duration came from.
    pub duration_source: DurationSource,
}

/// Classifies a probe against the expected statuses.
pub fn classify(result: &ProbeResult, expected: ExpectedStatus) -> ProbeVerdict {
    let measured = clean_seconds(result.measured_seconds);
    let (latency_seconds, duration_source) = match result.resource_timing_seconds {
        Some(seconds) if seconds.is_finite() && seconds > 0.0 => {
            (seconds, DurationSource::ResourceTiming)
        }
        _ => (measured, DurationSource::Measured),
    };
    let reason = if result.timed_out {
        ProbeReason::Timeout
    } else {
        match (result.response, &result.network_error) {
            (Some(ProbeResponse::Status(status)), _) if expected.accepts(status) => ProbeReason::Ok,
            (Some(ProbeResponse::Status(status)), _) => ProbeReason::Status { status, expected },
            (Some(ProbeResponse::Opaque), _) => ProbeReason::OpaqueOk,
            (None, Some(message)) => ProbeReason::Network(message.clone()),
            (None, None) => ProbeReason::Network("no response and no error given".into()),
        }
    };
    ProbeVerdict {
        ok: matches!(reason, ProbeReason::Ok | ProbeReason::OpaqueOk),
        latency_seconds,
        reason,
        duration_source,
    }
}

fn clean_seconds(seconds: f64) -> f64 {
    if seconds.is_finite() && seconds > 0.0 {
        seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(response: Option<ProbeResponse>) -> ProbeResult {
        ProbeResult {
            response,
            timed_out: false,
            network_error: None,
            measured_seconds: 0.2,
            resource_timing_seconds: Some(0.15),
        }
    }

    #[test]
    fn statuses_timeouts_and_network_errors() {
        let expected = ExpectedStatus::default();
        let ok = classify(&probe(Some(ProbeResponse::Status(204))), expected);
        assert!(ok.ok && ok.reason == ProbeReason::Ok);
        assert_eq!(
            (ok.latency_seconds, ok.duration_source),
            (0.15, DurationSource::ResourceTiming)
        );
        let bad = classify(&probe(Some(ProbeResponse::Status(503))), expected);
        assert!(!bad.ok);
        assert_eq!(bad.reason.to_string(), "HTTP 503, expected 200-399");
        let timeout = classify(
            &ProbeResult {
                timed_out: true,
                resource_timing_seconds: None,
                ..probe(None)
            },
            expected,
        );
        assert_eq!(
            (timeout.ok, timeout.reason, timeout.latency_seconds),
            (false, ProbeReason::Timeout, 0.2)
        );
        let refused = classify(
            &ProbeResult {
                network_error: Some("Failed to fetch".into()),
                ..probe(None)
            },
            expected,
        );
        assert!(!refused.ok && refused.reason.to_string().contains("CORS"));
    }

    #[test]
    fn opaque_is_ok_with_a_note_and_zeroed_timing_falls_back() {
        let verdict = classify(
            &ProbeResult {
                resource_timing_seconds: Some(0.0),
                ..probe(Some(ProbeResponse::Opaque))
            },
            ExpectedStatus::default(),
        );
        assert!(verdict.ok);
        assert!(verdict.reason.to_string().contains("status unknown"));
        assert_eq!(
            (verdict.latency_seconds, verdict.duration_source),
            (0.2, DurationSource::Measured)
        );
        let nan = classify(
            &ProbeResult {
                measured_seconds: f64::NAN,
                resource_timing_seconds: None,
                ..probe(None)
            },
            ExpectedStatus::default(),
        );
        assert_eq!(nan.latency_seconds, 0.0);
    }

    #[test]
    fn expected_ranges_parse() {
        assert_eq!(
            ExpectedStatus::parse("200-299"),
            Ok(ExpectedStatus { min: 200, max: 299 })
        );
        assert_eq!(
            ExpectedStatus::parse("204"),
            Ok(ExpectedStatus { min: 204, max: 204 })
        );
        for bad in ["", "2xx", "300-200", "99", "200-600"] {
            assert!(ExpectedStatus::parse(bad).is_err(), "{bad}");
        }
    }
}
