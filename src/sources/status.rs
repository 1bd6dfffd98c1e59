//! What every fetched source reports about itself (health, last success, counters),
//! and the backoff that spaces its retries while it fails. Pure: time comes in.

use serde::Serialize;

/// A source's health.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Health {
    /// Not yet answered.
    Connecting,
    /// The last attempt worked.
    Ok,
    /// The last attempt failed; retries back off.
    Failing {
        /// What went wrong, in words a user can act on.
        reason: String,
        /// When it started failing, Unix seconds.
        since: f64,
        /// When the next attempt is due, Unix seconds.
        retry_at: f64,
    },
    /// Switched off (no modules, or stopped by the user).
    Stopped,
}

/// A source's status and counters, shown in the sources panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceStatus {
    /// The source's name from the config.
    pub name: String,
    /// Its kind (`prometheus`, `sse`, ...).
    pub kind: &'static str,
    /// Where it reads from.
    pub target: String,
    /// Health now.
    pub health: Health,
    /// When data last arrived, Unix seconds.
    pub last_success: Option<f64>,
    /// Requests or connections attempted.
    pub attempts: u64,
    /// Attempts that failed.
    pub failures: u64,
    /// Samples or events taken into the monitor.
    pub accepted: u64,
    /// Samples or events refused, with the reasons.
    pub rejected: u64,
    /// The most recent reasons for rejections, newest last (a few).
    pub rejections: Vec<String>,
    /// Bytes received.
    pub bytes: u64,
    /// How long the last fetch took, milliseconds.
    pub last_duration_ms: Option<f64>,
    /// Seconds with no connection between a drop and the reconnect (streams).
    pub gap_seconds: f64,
    /// Events refused so far as the event parser counted them (to report only new ones).
    #[serde(skip)]
    pub rejected_events: u64,
    /// A standing remark about what this source can and cannot see (e.g. opaque probes).
    pub note: Option<String>,
}

/// Rejection reasons kept per source.
const MAX_REASONS: usize = 5;

impl SourceStatus {
    /// A new source, not yet connected.
    pub fn new(name: &str, kind: &'static str, target: &str) -> SourceStatus {
        SourceStatus {
            name: name.to_owned(),
            kind,
            target: target.to_owned(),
            health: Health::Connecting,
            last_success: None,
            attempts: 0,
            failures: 0,
            accepted: 0,
            rejected: 0,
            rejections: Vec::new(),
            bytes: 0,
            last_duration_ms: None,
            gap_seconds: 0.0,
            rejected_events: 0,
            note: None,
        }
    }

    /// Data arrived at `now`.
    pub fn succeeded(&mut self, now: f64) {
        self.health = Health::Ok;
        self.last_success = Some(now);
    }

    /// An attempt failed at `now`; the next is due at `retry_at`.
    pub fn failed(&mut self, reason: String, now: f64, retry_at: f64) {
        self.failures += 1;
        let since = match &self.health {
            Health::Failing { since, .. } => *since,
            _ => now,
        };
        self.health = Health::Failing {
            reason,
            since,
            retry_at,
        };
    }

    /// Counts `count` refused items, keeping the reason when it is new.
    pub fn reject(&mut self, count: u64, reason: impl Into<String>) {
        if count == 0 {
            return;
        }
        self.rejected += count;
        let reason = reason.into();
        if self.rejections.last() != Some(&reason) {
            if self.rejections.len() == MAX_REASONS {
                self.rejections.remove(0);
            }
            self.rejections.push(reason);
        }
    }

    /// True while failing.
    pub fn is_failing(&self) -> bool {
        matches!(self.health, Health::Failing { .. })
    }
}

/// Exponential backoff with jitter: the first retry after `base`, doubling up to `max`,
/// each delay spread by ±`jitter` so that many failing sources do not retry together.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// First delay, seconds.
    pub base: f64,
    /// Longest delay, seconds.
    pub max: f64,
    /// Spread, 0..1 of the delay.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: 1.0,
            max: 60.0,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// Seconds to wait after `failures` consecutive failures (1 = the first), given a
    /// uniform random `unit` in 0..1 (the caller's RNG: this module never seeds one).
    pub fn delay(&self, failures: u32, unit: f64) -> f64 {
        let exponent = failures.saturating_sub(1).min(30);
        let plain = (self.base * f64::from(1u32 << exponent.min(20))).min(self.max);
        let unit = if unit.is_finite() {
            unit.clamp(0.0, 1.0)
        } else {
            0.5
        };
        let spread = plain * self.jitter * (2.0 * unit - 1.0);
        (plain + spread).clamp(self.base.min(self.max) * (1.0 - self.jitter), self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap_with_bounded_jitter() {
        let backoff = Backoff::default();
        assert_eq!(backoff.delay(1, 0.5), 1.0);
        assert_eq!(backoff.delay(2, 0.5), 2.0);
        assert_eq!(backoff.delay(4, 0.5), 8.0);
        assert_eq!(backoff.delay(30, 0.5), 60.0);
        assert_eq!(backoff.delay(u32::MAX, 0.5), 60.0);
        assert!((backoff.delay(3, 0.0) - 3.2).abs() < 1e-9);
        assert!((backoff.delay(3, 1.0) - 4.8).abs() < 1e-9);
        assert_eq!(backoff.delay(3, f64::NAN), 4.0);
        assert!(backoff.delay(30, 1.0) <= 60.0);
    }

    #[test]
    fn failures_keep_their_start_and_reasons_stay_few() {
        let mut status = SourceStatus::new("api", "prometheus", "http://x/metrics");
        status.failed("HTTP 500".into(), 10.0, 11.0);
        status.failed("timed out".into(), 12.0, 14.0);
        assert_eq!(
            status.health,
            Health::Failing {
                reason: "timed out".into(),
                since: 10.0,
                retry_at: 14.0
            }
        );
        assert_eq!(status.failures, 2);
        for i in 0..10 {
            status.reject(2, format!("reason {i}"));
        }
        status.reject(0, "nothing");
        assert_eq!(status.rejected, 20);
        assert_eq!(status.rejections.len(), MAX_REASONS);
        assert_eq!(
            status.rejections.last().map(String::as_str),
            Some("reason 9")
        );
        status.succeeded(20.0);
        assert!(!status.is_failing());
        assert_eq!(status.last_success, Some(20.0));
    }
}
