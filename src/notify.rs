//! Notifications for people: which alert transitions are worth a desktop notification,
//! grouped so that a burst of alerts makes one notification and not a storm. Pure:
//! time comes in; `state` shows what `Digest::take` returns.

use serde::{Deserialize, Serialize};

use crate::monitor::{AlertEvent, AlertLevel, Transition};

/// The `notifications` part of the config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationSettings {
    /// Offer desktop notifications (each browser still asks the user once).
    pub enabled: bool,
    /// The lowest level notified.
    pub min_level: AlertLevel,
    /// Seconds between two notifications at most once; what happens in between is
    /// gathered into the next one.
    pub min_interval_seconds: f64,
    /// A short tone when a critical alert starts firing.
    pub sound: bool,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            enabled: true,
            min_level: AlertLevel::Warning,
            min_interval_seconds: 10.0,
            sound: false,
        }
    }
}

impl NotificationSettings {
    /// Checks the settings; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        crate::monitor::config::check_between(
            "notifications.min_interval_seconds",
            self.min_interval_seconds,
            1.0,
            3600.0,
        )
    }
}

/// One notification to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// The headline.
    pub title: String,
    /// Up to a few lines of detail.
    pub body: String,
    /// The worst level among its alerts.
    pub level: AlertLevel,
    /// A critical alert started firing (for the tone).
    pub critical_started: bool,
}

/// Gathers alert transitions until the next notification may go.
#[derive(Debug, Clone, Default)]
pub struct Digest {
    firing: Vec<String>,
    resolved: Vec<String>,
    worst: Option<AlertLevel>,
    critical_started: bool,
    last_shown: Option<f64>,
}

/// Lines listed in one notification's body.
const MAX_LINES: usize = 4;

impl Digest {
    /// Adds the transitions worth notifying: firing (and escalations) and resolved, at
    /// `min_level` or above.
    pub fn add(&mut self, events: &[AlertEvent], min_level: AlertLevel) {
        for event in events {
            let alert = &event.alert;
            if alert.level < min_level {
                continue;
            }
            let line = format!("{} {} ({})", alert.module, alert.metric, alert.level.name());
            match event.transition {
                Transition::Firing | Transition::LevelChanged => {
                    if alert.level == AlertLevel::Critical {
                        self.critical_started = true;
                    }
                    self.worst = self.worst.max(Some(alert.level));
                    self.firing.push(line);
                }
                // One notification when it starts flapping, none while it flaps.
                Transition::Flapping => self.firing.push(format!("{line}, flapping")),
                Transition::Resolved => self.resolved.push(line),
                Transition::Pending | Transition::Cancelled => {}
            }
        }
    }

    /// The notification due at `now`, if any: at most one per `min_interval` seconds.
    pub fn take(&mut self, now: f64, min_interval: f64) -> Option<Notice> {
        if self.firing.is_empty() && self.resolved.is_empty() {
            return None;
        }
        if self
            .last_shown
            .is_some_and(|last| now - last < min_interval)
        {
            return None;
        }
        self.last_shown = Some(now);
        let count = |n: usize, what: &str| match n {
            0 => None,
            1 => Some(format!("1 alert {what}")),
            n => Some(format!("{n} alerts {what}")),
        };
        let title = match (self.firing.as_slice(), self.resolved.as_slice()) {
            ([one], []) => format!("Firing: {one}"),
            ([], [one]) => format!("Resolved: {one}"),
            (firing, resolved) => [
                count(firing.len(), "firing"),
                count(resolved.len(), "resolved"),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", "),
        };
        let lines: Vec<String> = self
            .firing
            .iter()
            .map(|l| format!("firing: {l}"))
            .chain(self.resolved.iter().map(|l| format!("resolved: {l}")))
            .collect();
        let mut body = lines
            .iter()
            .take(MAX_LINES)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        if lines.len() > MAX_LINES {
            body.push_str(&format!("\nand {} more", lines.len() - MAX_LINES));
        }
        let notice = Notice {
            title,
            body,
            level: self.worst.unwrap_or(AlertLevel::Info),
            critical_started: self.critical_started,
        };
        *self = Digest {
            last_shown: self.last_shown,
            ..Digest::default()
        };
        Some(notice)
    }
}

/// The favicon for the worst level firing: a coloured dot, as an SVG data URL.
pub fn favicon(worst: Option<AlertLevel>) -> String {
    let colour = match worst {
        Some(AlertLevel::Critical) => "%23dc2626",
        Some(AlertLevel::Warning) => "%23d97706",
        Some(AlertLevel::Info) => "%232563eb",
        None => "%2316a34a",
    };
    format!(
        "data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'>\
         <circle cx='8' cy='8' r='7' fill='{colour}'/></svg>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::PerformanceMonitor;

    /// Transitions from a monitor whose modules go critical at once.
    fn burst(modules: usize) -> Vec<AlertEvent> {
        let mut monitor = PerformanceMonitor::default();
        for m in 0..modules {
            for _ in 0..50 {
                monitor.record(&format!("m{m}"), 3.0, true, 0.5).unwrap();
            }
        }
        monitor.tick(1.0)
    }

    #[test]
    fn a_burst_makes_one_notification_then_waits() {
        let mut digest = Digest::default();
        digest.add(&burst(6), AlertLevel::Warning);
        let notice = digest.take(100.0, 10.0).expect("one notification");
        assert!(notice.title.contains("alerts firing"), "{notice:?}");
        assert!(
            notice.body.contains("and "),
            "the body is bounded: {notice:?}"
        );
        assert_eq!(notice.level, AlertLevel::Critical);
        assert!(notice.critical_started);
        digest.add(&burst(1), AlertLevel::Warning);
        assert_eq!(digest.take(105.0, 10.0), None, "too soon: gathered");
        let next = digest.take(111.0, 10.0).expect("then the next one");
        assert!(next.title.contains("firing"));
        assert_eq!(digest.take(200.0, 10.0), None, "nothing new");
    }

    #[test]
    fn levels_below_the_minimum_are_left_out() {
        let mut digest = Digest::default();
        let events: Vec<AlertEvent> = burst(1)
            .into_iter()
            .filter(|e| e.alert.level == AlertLevel::Warning)
            .collect();
        assert!(!events.is_empty());
        digest.add(&events, AlertLevel::Critical);
        assert_eq!(digest.take(0.0, 10.0), None);
    }

    #[test]
    fn the_favicon_follows_the_worst_level() {
        assert!(favicon(Some(AlertLevel::Critical)).contains("dc2626"));
        assert!(favicon(None).contains("16a34a"));
    }
}
