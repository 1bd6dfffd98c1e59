//! Probe results: what one timed request to a module's URL says about it. An HTTP
//! status outside the expected range, a timeout or a network error is an error; an
//! opaque (`no-cors`) answer proves reachability and time but hides the status.

use super::config::parse_status_ranges;

/// The statuses that count as success, e.g. `200-399`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRanges(Vec<(u16, u16)>);

impl StatusRanges {
    /// Parses `200-399` or `200,204,301-302`.
    pub fn parse(text: &str) -> Result<StatusRanges, String> {
        parse_status_ranges(text).map(StatusRanges)
    }

    /// Whether `status` is expected.
    pub fn contains(&self, status: u16) -> bool {
        self.0
            .iter()
            .any(|(low, high)| (*low..=*high).contains(&status))
    }
}

/// What the browser saw of one probe.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeResult {
    /// An answer. `status` is `None` for an opaque (`no-cors`) response.
    Response {
        /// The HTTP status, when the browser shows it.
        status: Option<u16>,
        /// Milliseconds measured on the page around the fetch.
        measured_ms: f64,
        /// The browser's own Resource Timing duration, when it kept an entry.
        resource_ms: Option<f64>,
    },
    /// No answer within the timeout.
    Timeout {
        /// The timeout, milliseconds.
        after_ms: f64,
    },
    /// The request failed: unreachable, refused, or blocked by CORS (browsers do not
    /// tell these apart).
    NetworkError {
        /// The browser's message.
        message: String,
        /// Milliseconds until it failed.
        measured_ms: f64,
    },
}

/// A probe as the monitor records it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeOutcome {
    /// Seconds, as precise as the browser allows.
    pub latency_seconds: f64,
    /// Success by the expected statuses (an opaque answer counts as success).
    pub ok: bool,
    /// Why it is an error, or what is unknown about it.
    pub reason: Option<String>,
}

impl ProbeOutcome {
    /// Judges a probe against the expected statuses.
    pub fn classify(result: &ProbeResult, expected: &StatusRanges) -> ProbeOutcome {
        let seconds = |ms: f64| {
            if ms.is_finite() {
                ms.max(0.0) / 1e3
            } else {
                0.0
            }
        };
        match result {
            ProbeResult::Response {
                status,
                measured_ms,
                resource_ms,
            } => {
                // Resource Timing is the browser's own clock for the request; the
                // page's measurement also holds the time the page took to get to it.
                let ms = resource_ms.filter(|ms| *ms > 0.0).unwrap_or(*measured_ms);
                match status {
                    Some(code) if expected.contains(*code) => ProbeOutcome {
                        latency_seconds: seconds(ms),
                        ok: true,
                        reason: None,
                    },
                    Some(code) => ProbeOutcome {
                        latency_seconds: seconds(ms),
                        ok: false,
                        reason: Some(format!("HTTP {code}, not an expected status")),
                    },
                    None => ProbeOutcome {
                        latency_seconds: seconds(ms),
                        ok: true,
                        reason: None,
                    },
                }
            }
            ProbeResult::Timeout { after_ms } => ProbeOutcome {
                latency_seconds: seconds(*after_ms),
                ok: false,
                reason: Some(format!("no answer within {:.1} s", after_ms / 1e3)),
            },
            ProbeResult::NetworkError {
                message,
                measured_ms,
            } => ProbeOutcome {
                latency_seconds: seconds(*measured_ms),
                ok: false,
                reason: Some(message.clone()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_timeouts_and_network_errors() {
        let expected = StatusRanges::parse("200-399").expect("valid");
        let answer = |status, resource_ms| ProbeResult::Response {
            status,
            measured_ms: 120.0,
            resource_ms,
        };
        let ok = ProbeOutcome::classify(&answer(Some(204), Some(80.0)), &expected);
        assert_eq!((ok.ok, ok.latency_seconds), (true, 0.08));
        let failing = ProbeOutcome::classify(&answer(Some(503), None), &expected);
        assert_eq!((failing.ok, failing.latency_seconds), (false, 0.12));
        assert_eq!(
            failing.reason.as_deref(),
            Some("HTTP 503, not an expected status")
        );
        let opaque = ProbeOutcome::classify(&answer(None, Some(0.0)), &expected);
        assert_eq!((opaque.ok, opaque.latency_seconds), (true, 0.12));
        let late = ProbeOutcome::classify(&ProbeResult::Timeout { after_ms: 5000.0 }, &expected);
        assert_eq!((late.ok, late.latency_seconds), (false, 5.0));
        let refused = ProbeOutcome::classify(
            &ProbeResult::NetworkError {
                message: "blocked".into(),
                measured_ms: f64::NAN,
            },
            &expected,
        );
        assert_eq!((refused.ok, refused.latency_seconds), (false, 0.0));
        assert!(StatusRanges::parse("200,404").expect("valid").contains(404));
    }
}
