//! Alert transitions sent to other systems: a generic JSON webhook, and Prometheus
//! Alertmanager's v2 API. Pure: the payloads, the retry queue and the re-send schedule;
//! `state::webhooks` does the sending.
//!
//! Each webhook has a bounded queue. A delivery that fails is retried with
//! exponential backoff and jitter; when the queue is full the oldest delivery is
//! dropped, and every drop is counted. Alertmanager forgets a firing alert that is not
//! re-sent (its `resolve_timeout`, 5 minutes by default), so firing alerts are sent
//! again every `resend_seconds`, and a resolved one is sent with its `endsAt`.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::monitor::alert::AlertSource;
use crate::monitor::{Alert, AlertEvent, AlertLevel, Transition};
use crate::sources::status::Backoff;

/// One webhook in the config's `webhooks` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookSettings {
    /// Shown in the status panel; unique.
    pub name: String,
    /// `json` (one POST per transition) or `alertmanager` (Alertmanager's v2 API).
    pub kind: WebhookKind,
    /// Where to POST: the endpoint itself for `json`; Alertmanager's base URL (its
    /// `/api/v2/alerts` is added) for `alertmanager`.
    pub url: String,
    /// The lowest level sent (`info`, `warning` or `critical`).
    pub min_level: AlertLevel,
    /// Seconds before a POST is abandoned.
    pub timeout_seconds: f64,
    /// Alertmanager: seconds between re-sends of a firing alert.
    pub resend_seconds: f64,
    /// Deliveries waiting at most; past it the oldest is dropped and counted.
    pub max_queue: usize,
    /// Attempts per delivery before it is dropped and counted.
    pub max_attempts: u32,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            name: String::new(),
            kind: WebhookKind::Json,
            url: String::new(),
            min_level: AlertLevel::Warning,
            timeout_seconds: 5.0,
            resend_seconds: 60.0,
            max_queue: 1_000,
            max_attempts: 8,
        }
    }
}

/// The receiving API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookKind {
    /// One JSON object per alert transition.
    Json,
    /// Prometheus Alertmanager's `POST /api/v2/alerts`.
    Alertmanager,
}

impl WebhookSettings {
    /// Checks the settings; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("name is missing".into());
        }
        let scheme = self
            .url
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase());
        if !(self.url.starts_with('/') || matches!(scheme.as_deref(), Some("http" | "https"))) {
            return Err(format!(
                "url {:?} must be http://, https:// or a path on this origin",
                self.url
            ));
        }
        let range = crate::monitor::config::check_between;
        range("timeout_seconds", self.timeout_seconds, 0.5, 120.0)?;
        range("resend_seconds", self.resend_seconds, 5.0, 3600.0)?;
        if !(1..=100_000).contains(&self.max_queue) {
            return Err("max_queue must be 1 to 100000".into());
        }
        if !(1..=100).contains(&self.max_attempts) {
            return Err("max_attempts must be 1 to 100".into());
        }
        Ok(())
    }

    /// The URL that receives the POSTs.
    pub fn endpoint(&self) -> String {
        match self.kind {
            WebhookKind::Json => self.url.clone(),
            WebhookKind::Alertmanager => {
                format!("{}/api/v2/alerts", self.url.trim_end_matches('/'))
            }
        }
    }
}

/// Checks a list of webhooks: each valid, names unique.
pub fn validate_webhooks(webhooks: &[WebhookSettings]) -> Result<(), String> {
    for (i, hook) in webhooks.iter().enumerate() {
        let label = format!("webhooks[{i}] ({:?})", hook.name);
        hook.check().map_err(|e| format!("{label}: {e}"))?;
        if webhooks[..i].iter().any(|other| other.name == hook.name) {
            return Err(format!("{label}: the name is used twice"));
        }
    }
    Ok(())
}

/// One POST waiting to go.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The JSON body.
    pub body: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// Not before this time (Unix seconds).
    pub due: f64,
}

/// What a webhook has done, for the status panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct WebhookCounts {
    /// Deliveries accepted by the receiver.
    pub delivered: u64,
    /// Attempts that failed (each is retried until `max_attempts`).
    pub failed_attempts: u64,
    /// Deliveries given up: the queue was full, or every attempt failed.
    pub dropped: u64,
}

/// A webhook's queue, re-send schedule and counts.
#[derive(Debug, Clone)]
pub struct WebhookQueue {
    settings: WebhookSettings,
    /// The dashboard's address for links back (`generatorURL`), without a hash.
    dashboard_url: String,
    queue: VecDeque<Delivery>,
    backoff: Backoff,
    /// Alertmanager: firing alerts by id, with when they were last sent.
    firing: BTreeMap<u64, (Alert, f64)>,
    /// Counts so far.
    pub counts: WebhookCounts,
}

impl WebhookQueue {
    /// A queue for `settings`; links back point at `dashboard_url`.
    pub fn new(settings: WebhookSettings, dashboard_url: &str) -> WebhookQueue {
        WebhookQueue {
            settings,
            dashboard_url: dashboard_url.split('#').next().unwrap_or("").to_owned(),
            queue: VecDeque::new(),
            backoff: Backoff::default(),
            firing: BTreeMap::new(),
            counts: WebhookCounts::default(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// Deliveries waiting.
    pub fn waiting(&self) -> usize {
        self.queue.len()
    }

    /// Queues what `events` mean for this webhook at `now`.
    pub fn push_events(&mut self, events: &[AlertEvent], now: f64) {
        for event in events {
            if event.alert.level < self.settings.min_level {
                continue;
            }
            match self.settings.kind {
                WebhookKind::Json => {
                    if event.transition == Transition::Pending
                        || event.transition == Transition::Cancelled
                    {
                        continue;
                    }
                    let body = json_payload(event, &self.dashboard_url).to_string();
                    self.enqueue(body, now);
                }
                WebhookKind::Alertmanager => match event.transition {
                    Transition::Firing | Transition::LevelChanged | Transition::Flapping => {
                        self.firing
                            .insert(event.alert.id, (event.alert.clone(), now));
                        let body =
                            json!([alertmanager_alert(&event.alert, None, &self.dashboard_url)]);
                        self.enqueue(body.to_string(), now);
                    }
                    Transition::Resolved => {
                        self.firing.remove(&event.alert.id);
                        let ended = event.alert.ended_at.unwrap_or(event.at);
                        let body = json!([alertmanager_alert(
                            &event.alert,
                            Some(ended),
                            &self.dashboard_url
                        )]);
                        self.enqueue(body.to_string(), now);
                    }
                    Transition::Pending | Transition::Cancelled => {}
                },
            }
        }
    }

    /// Alertmanager: queues one re-send of every firing alert last sent
    /// `resend_seconds` ago or more.
    pub fn resend_due(&mut self, now: f64) {
        if self.settings.kind != WebhookKind::Alertmanager {
            return;
        }
        let every = self.settings.resend_seconds;
        let due: Vec<Value> = self
            .firing
            .values_mut()
            .filter(|(_, sent)| now - *sent >= every)
            .map(|(alert, sent)| {
                *sent = now;
                alertmanager_alert(alert, None, &self.dashboard_url)
            })
            .collect();
        if !due.is_empty() {
            self.enqueue(Value::Array(due).to_string(), now);
        }
    }

    fn enqueue(&mut self, body: String, now: f64) {
        if self.queue.len() >= self.settings.max_queue {
            self.queue.pop_front();
            self.counts.dropped += 1;
        }
        self.queue.push_back(Delivery {
            body,
            attempts: 0,
            due: now,
        });
    }

    /// The next delivery due at `now`, if any (it stays queued until `delivered` or
    /// `failed`).
    pub fn next_due(&self, now: f64) -> Option<&Delivery> {
        self.queue.front().filter(|d| d.due <= now)
    }

    /// The front delivery was accepted.
    pub fn delivered(&mut self) {
        if self.queue.pop_front().is_some() {
            self.counts.delivered += 1;
        }
    }

    /// The front delivery failed at `now`; `jitter` in 0..1. It is retried after a
    /// backoff, or dropped after `max_attempts`. Returns the seconds until the retry.
    pub fn failed(&mut self, now: f64, jitter: f64) -> Option<f64> {
        self.counts.failed_attempts += 1;
        let max_attempts = self.settings.max_attempts;
        let front = self.queue.front_mut()?;
        front.attempts += 1;
        if front.attempts >= max_attempts {
            self.queue.pop_front();
            self.counts.dropped += 1;
            return None;
        }
        let wait = self.backoff.delay(front.attempts, jitter);
        front.due = now + wait;
        Some(wait)
    }
}

/// The generic webhook's body: the transition and the alert (the snapshot's alert
/// fields, plus a link to the module).
pub fn json_payload(event: &AlertEvent, dashboard_url: &str) -> Value {
    json!({
        "source": "redline",
        "at": event.at,
        "transition": event.transition,
        "alert": event.alert,
        "url": module_link(dashboard_url, &event.alert.module),
    })
}

/// One alert in Alertmanager's v2 form.
pub fn alertmanager_alert(alert: &Alert, ended_at: Option<f64>, dashboard_url: &str) -> Value {
    let rule = match &alert.source {
        AlertSource::Threshold { rule } => rule.clone(),
        AlertSource::Anomaly { detector } => format!("anomaly ({detector})"),
        AlertSource::Prediction { rule } => format!("prediction ({rule})"),
    };
    let mut value = json!({
        "labels": {
            "alertname": format!("redline_{}", alert.metric),
            "module": alert.module,
            "metric": alert.metric.to_string(),
            "rule": rule,
            "severity": alert.level.name(),
            "source": "redline",
        },
        "annotations": {
            "summary": alert.message(),
            "value": format!("{}", alert.evidence.value),
            "threshold": format!("{}", alert.evidence.threshold),
        },
        "startsAt": rfc3339(alert.firing_since.unwrap_or(alert.pending_since)),
        "generatorURL": module_link(dashboard_url, &alert.module),
    });
    if let Some(ended) = ended_at {
        value["endsAt"] = Value::String(rfc3339(ended));
    }
    value
}

/// The dashboard's address of a module's view.
pub fn module_link(dashboard_url: &str, module: &str) -> String {
    format!(
        "{}{}",
        dashboard_url,
        crate::route::Route::Module(module.to_owned()).href()
    )
}

/// Unix seconds as RFC 3339 in UTC with milliseconds (`2026-11-27T15:04:05.123Z`).
pub fn rfc3339(unix_seconds: f64) -> String {
    let total_ms = (unix_seconds * 1000.0).round() as i64;
    let (days, ms_of_day) = (
        total_ms.div_euclid(86_400_000),
        total_ms.rem_euclid(86_400_000),
    );
    let (year, month, day) = civil_from_days(days);
    let seconds = ms_of_day / 1000;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        ms_of_day % 1000
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift to 0000-03-01 so that leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0.0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400.5), "2000-02-29T00:00:00.500Z");
        assert_eq!(rfc3339(1_795_791_812.879), "2026-11-27T15:03:32.879Z");
        assert_eq!(rfc3339(-1.0), "1969-12-31T23:59:59.000Z");
    }

    #[test]
    fn settings_are_checked() {
        let ok = WebhookSettings {
            name: "am".into(),
            kind: WebhookKind::Alertmanager,
            url: "http://127.0.0.1:9093".into(),
            ..WebhookSettings::default()
        };
        assert!(validate_webhooks(std::slice::from_ref(&ok)).is_ok());
        assert_eq!(ok.endpoint(), "http://127.0.0.1:9093/api/v2/alerts");
        let bad = WebhookSettings {
            url: "ftp://x".into(),
            ..ok.clone()
        };
        assert!(validate_webhooks(&[bad]).unwrap_err().contains("url"));
        assert!(
            validate_webhooks(&[ok.clone(), ok])
                .unwrap_err()
                .contains("twice")
        );
    }

    fn queue(max_queue: usize, max_attempts: u32) -> WebhookQueue {
        WebhookQueue::new(
            WebhookSettings {
                name: "hook".into(),
                url: "/hook".into(),
                max_queue,
                max_attempts,
                ..WebhookSettings::default()
            },
            "http://127.0.0.1:8080/#/alerts",
        )
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let mut q = queue(2, 3);
        for i in 0..3 {
            q.enqueue(format!("{i}"), 0.0);
        }
        assert_eq!(q.waiting(), 2);
        assert_eq!(q.counts.dropped, 1);
        assert_eq!(q.next_due(0.0).unwrap().body, "1");
    }

    #[test]
    fn failures_back_off_then_drop_after_the_last_attempt() {
        let mut q = queue(10, 3);
        q.enqueue("x".into(), 100.0);
        let first = q.failed(100.0, 0.5).expect("retried");
        assert!(first > 0.0);
        assert!(q.next_due(100.0).is_none(), "not due before the backoff");
        assert!(q.next_due(100.0 + first).is_some());
        let second = q.failed(100.0 + first, 0.5).expect("retried again");
        assert!(second >= first, "the backoff grows: {first} then {second}");
        assert_eq!(q.failed(200.0, 0.5), None, "the third attempt was the last");
        assert_eq!(q.waiting(), 0);
        assert_eq!(q.counts.dropped, 1);
        assert_eq!(q.counts.failed_attempts, 3);
        q.enqueue("y".into(), 300.0);
        q.delivered();
        assert_eq!(q.counts.delivered, 1);
    }

    #[test]
    fn module_links_open_the_module_view() {
        assert_eq!(
            module_link("http://127.0.0.1:8080/", "data base"),
            "http://127.0.0.1:8080/#/modules/data%20base"
        );
    }
}
