//! Flap control: an alert slot (one rule or detector on one module) that fires or
//! resolves more than `flap_max_transitions` times within `flap_window_seconds` is
//! held as one
//! `flapping` alert until its lifecycle underneath has made no transition for
//! `flap_settle_seconds`. A value oscillating around a threshold then notifies twice
//! (into `flapping`, and out of it as `firing` or `resolved`), not at every crossing.

use std::collections::{HashMap, VecDeque};

use foldhash::fast::FixedState;

use super::alert::{Alert, AlertEvent, AlertState, Transition};
use super::module::RuleKey;

/// Validated flap settings; `max_transitions` 0 turns flap control off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct FlapSettings {
    pub(crate) max_transitions: usize,
    pub(crate) window_seconds: f64,
    pub(crate) settle_seconds: f64,
}

/// One slot's recent transitions and, while it flaps, the lifecycle underneath.
#[derive(Debug, Default)]
struct Flap {
    /// When the slot's recent transitions happened, oldest first.
    times: VecDeque<f64>,
    flapping: bool,
    /// The alert lifecycle running underneath the held `flapping` alert.
    shadow: Option<Alert>,
    last_change: f64,
}

/// Flap state of every slot that changed state recently: (module index, slot) keys.
#[derive(Debug, Default)]
pub(crate) struct FlapBook {
    slots: HashMap<(usize, RuleKey), Flap, FixedState>,
}

impl FlapBook {
    /// Runs one evaluation of a slot (`run` is `alert::step` on a slot) through flap
    /// control. `slot` is the alert shown: while flapping, the held `flapping` alert.
    pub(crate) fn step(
        &mut self,
        settings: FlapSettings,
        id: (usize, RuleKey),
        slot: &mut Option<Alert>,
        now: f64,
        run: impl FnOnce(&mut Option<Alert>, &mut Vec<AlertEvent>),
        events: &mut Vec<AlertEvent>,
    ) {
        if settings.max_transitions == 0 {
            run(slot, events);
            return;
        }
        if let Some(flap) = self.slots.get_mut(&id).filter(|f| f.flapping) {
            flap.hold(settings, slot, now, run, events);
            return;
        }
        let before = events.len();
        run(slot, events);
        // Only what notifies counts: firing and resolving. A pending alert cancelled
        // again and again never fired, and must not become an active flapping one.
        let changed = events[before..]
            .iter()
            .any(|e| matches!(e.transition, Transition::Firing | Transition::Resolved));
        if !changed {
            return;
        }
        let flap = self.slots.entry(id).or_default();
        flap.times.push_back(now);
        flap.forget(settings, now);
        if flap.times.len() <= settings.max_transitions {
            return;
        }
        let Some(alert) = slot.as_mut() else {
            return;
        };
        // This evaluation's own transitions are folded into the one `flapping` event.
        events.truncate(before);
        flap.flapping = true;
        flap.last_change = now;
        flap.shadow = alert.is_active().then(|| alert.clone());
        alert.state = AlertState::Flapping;
        alert.ended_at = None;
        alert.clearing_since = None;
        events.push(AlertEvent {
            at: now,
            transition: Transition::Flapping,
            alert: alert.clone(),
        });
    }

    /// Forgets slots with no recent transition that are not flapping.
    pub(crate) fn prune(&mut self, settings: FlapSettings, now: f64) {
        self.slots.retain(|_, flap| {
            flap.forget(settings, now);
            flap.flapping || !flap.times.is_empty()
        });
    }
}

impl Flap {
    /// Drops transitions older than the window; keeps at most one past the limit.
    fn forget(&mut self, settings: FlapSettings, now: f64) {
        while self
            .times
            .front()
            .is_some_and(|t| now - t > settings.window_seconds)
        {
            self.times.pop_front();
        }
        while self.times.len() > settings.max_transitions + 1 {
            self.times.pop_front();
        }
    }

    /// One evaluation while flapping: the lifecycle runs underneath, silently; once it
    /// has been still for the settle time, the held alert leaves `flapping`.
    fn hold(
        &mut self,
        settings: FlapSettings,
        slot: &mut Option<Alert>,
        now: f64,
        run: impl FnOnce(&mut Option<Alert>, &mut Vec<AlertEvent>),
        events: &mut Vec<AlertEvent>,
    ) {
        let mut silent = Vec::new();
        run(&mut self.shadow, &mut silent);
        if !silent.is_empty() {
            self.last_change = now;
        }
        let Some(held) = slot.as_mut() else {
            // The held alert is gone (the slot was reset): nothing left to hold.
            self.flapping = false;
            self.shadow = None;
            return;
        };
        if let Some(shadow) = &self.shadow {
            held.evidence = shadow.evidence;
            held.level = held.level.max(shadow.level);
            held.peak_value = match held.evidence.comparison {
                super::alert::Comparison::Above => held.peak_value.max(shadow.peak_value),
                super::alert::Comparison::Below => held.peak_value.min(shadow.peak_value),
            };
        }
        if self.shadow.as_ref().is_some_and(|s| !s.is_active()) {
            self.shadow = None;
        }
        if now - self.last_change < settings.settle_seconds {
            return;
        }
        let transition = match self.shadow.take() {
            Some(shadow) if shadow.state == AlertState::Firing => {
                held.state = AlertState::Firing;
                held.level = shadow.level;
                held.firing_since.get_or_insert(now);
                Transition::Firing
            }
            // Still or again clear (a pending one underneath starts afresh next time).
            _ => {
                held.state = AlertState::Resolved;
                held.ended_at = Some(now);
                Transition::Resolved
            }
        };
        self.flapping = false;
        self.times.clear();
        events.push(AlertEvent {
            at: now,
            transition,
            alert: held.clone(),
        });
    }
}
