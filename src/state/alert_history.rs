//! What fired over a stored range: the stored alert transitions grouped into episodes,
//! one per alert from the moment its condition first held to its last transition in
//! the range. Pure, so it is tested natively.

use std::collections::HashMap;

use crate::monitor::alert::AlertSource;
use crate::monitor::snapshot::AlertSnapshot;
use crate::monitor::{AlertEvent, AlertLevel, MetricName};

/// One alert's life within a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    /// The alert as of its last transition in the range (state, end, peak, evidence).
    pub alert: AlertSnapshot,
    /// The worst level it reached.
    pub worst: AlertLevel,
    /// Transitions stored for it in the range.
    pub transitions: usize,
}

/// The stored transitions of one range, grouped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertHistory {
    /// Alerts that fired, the latest start first.
    pub episodes: Vec<Episode>,
    /// Alerts that were pending and cleared before firing.
    pub cancelled: usize,
}

/// Groups `events` (oldest first) by alert. An alert is known by module, metric, what
/// raised it (the rule or detector) and the time its condition first held: ids restart
/// with each page load, and a reload resumes an alert with the same start.
pub fn group(events: &[AlertEvent]) -> AlertHistory {
    let mut index: HashMap<(&str, &MetricName, &AlertSource, i64), usize> = HashMap::new();
    let mut groups: Vec<(&AlertEvent, AlertLevel, usize, bool)> = Vec::new();
    for event in events {
        let alert = &event.alert;
        let key = (
            alert.module.as_str(),
            &alert.metric,
            &alert.source,
            // To the millisecond: a resumed alert's start is the stored tick's time.
            (alert.pending_since * 1000.0).round() as i64,
        );
        let fired = alert.firing_since.is_some();
        match index.get(&key) {
            Some(&at) => {
                let group = &mut groups[at];
                group.0 = event;
                group.1 = group.1.max(alert.level);
                group.2 += 1;
                group.3 |= fired;
            }
            None => {
                index.insert(key, groups.len());
                groups.push((event, alert.level, 1, fired));
            }
        }
    }
    let cancelled = groups.iter().filter(|group| !group.3).count();
    let mut episodes: Vec<Episode> = groups
        .into_iter()
        .filter(|group| group.3)
        .map(|(last, worst, transitions, _)| Episode {
            alert: AlertSnapshot::new(&last.alert, last.at),
            worst,
            transitions,
        })
        .collect();
    crate::sort::sort_by(&mut episodes, |a, b| {
        b.alert.timestamp.total_cmp(&a.alert.timestamp)
    });
    AlertHistory {
        episodes,
        cancelled,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::{AlertState, PerformanceMonitor};

    /// The transitions of a monitor fed a latency spike on `database` and an error burst
    /// on `cache`, then calm: every alert raised fires and resolves.
    fn transitions() -> Vec<AlertEvent> {
        let mut monitor = PerformanceMonitor::default();
        let mut events = Vec::new();
        let start = 1_700_000_000.0;
        for second in 0..400 {
            let now = start + f64::from(second);
            let spike = (100..160).contains(&second);
            let burst = (200..260).contains(&second);
            for n in 0..40 {
                let latency = if spike { 2.5 } else { 0.05 };
                let _ = monitor.record("database", latency, true, now + 0.01 * f64::from(n));
                let _ = monitor.record("cache", 0.002, !(burst && n % 2 == 0), now);
            }
            events.extend(monitor.tick(now + 1.0));
        }
        events
    }

    #[test]
    fn each_alert_that_fired_is_one_episode_with_its_worst_level_and_end() {
        let events = transitions();
        assert!(events.len() >= 4, "{events:#?}");
        let history = group(&events);
        assert!(!history.episodes.is_empty());
        for episode in &history.episodes {
            let alert = &episode.alert;
            // Within one monitor an alert's id is its own.
            let own: Vec<&AlertEvent> = events.iter().filter(|e| e.alert.id == alert.id).collect();
            assert_eq!(episode.transitions, own.len(), "{alert:?}");
            let worst = own.iter().map(|e| e.alert.level).max();
            assert_eq!(Some(episode.worst), worst);
            assert_eq!(alert.state, AlertState::Resolved, "{alert:?}");
            assert!(alert.ended_at.is_some());
        }
        let modules: Vec<&str> = history
            .episodes
            .iter()
            .map(|e| e.alert.module.as_str())
            .collect();
        assert!(modules.contains(&"database") && modules.contains(&"cache"));
        // The latest start comes first.
        assert!(
            history
                .episodes
                .windows(2)
                .all(|w| w[0].alert.timestamp >= w[1].alert.timestamp)
        );
    }

    #[test]
    fn a_resumed_alert_is_the_same_episode_and_a_cleared_pending_one_is_counted_apart() {
        let events = transitions();
        let fired = events
            .iter()
            .find(|e| e.alert.firing_since.is_some())
            .expect("an alert fired");
        // The same alert after a reload: a new id, the same module, metric and start.
        let mut resumed = fired.clone();
        resumed.alert.id += 1000;
        resumed.at += 30.0;
        let mut pending = fired.clone();
        pending.alert.pending_since -= 5000.0;
        pending.alert.firing_since = None;
        pending.alert.state = AlertState::Cancelled;
        let mut all = events.clone();
        all.push(resumed);
        all.push(pending);
        let before = group(&events);
        let after = group(&all);
        assert_eq!(after.episodes.len(), before.episodes.len());
        assert_eq!(after.cancelled, before.cancelled + 1);
        assert_eq!(group(&[]), AlertHistory::default());
    }
}
