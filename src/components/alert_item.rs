//! One alert of the alert list: built once, then kept current by a single effect that
//! writes only the parts that changed (level, state, evidence, duration).

use std::collections::HashMap;

use leptos::html::{Li, Span};
use leptos::prelude::*;

use crate::components::alert_list::evidence_text;
use crate::components::{keep_current, level_class, update_text};
use crate::format;
use crate::monitor::AlertState;
use crate::monitor::alert::AlertSource;
use crate::monitor::snapshot::AlertSnapshot;
use crate::platform::dom;
use crate::route::Route;

/// The parts of an alert that stay put while it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRow {
    /// The alert's id, unique for the monitor's life.
    pub id: u64,
    pub(crate) module: String,
    pub(crate) metric: String,
    pub(crate) source: &'static str,
    pub(crate) started: f64,
}

impl AlertRow {
    /// The fixed parts of `alert`.
    pub fn of(alert: &AlertSnapshot) -> AlertRow {
        AlertRow {
            id: alert.id,
            module: alert.module.clone(),
            metric: alert.metric.clone(),
            source: match &alert.source {
                AlertSource::Threshold { .. } => "threshold",
                AlertSource::Anomaly { .. } => "anomaly",
                AlertSource::Prediction { .. } => "prediction",
            },
            started: alert.timestamp,
        }
    }
}

/// The parts of an alert that change while it lives, as shown.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertLive {
    pub(crate) level: &'static str,
    pub(crate) state: &'static str,
    pub(crate) duration: String,
    pub(crate) evidence: String,
}

impl AlertLive {
    /// The changing parts of `alert`, formatted.
    pub fn of(alert: &AlertSnapshot) -> AlertLive {
        AlertLive {
            level: level_class(alert.level),
            state: state_name(alert.state),
            duration: format::duration(alert.duration_seconds),
            evidence: evidence_text(alert),
        }
    }

    fn class(&self) -> String {
        format!("alert {} {}", self.level, self.state)
    }
}

/// The lifecycle state as shown.
pub fn state_name(state: AlertState) -> &'static str {
    match state {
        AlertState::Pending => "pending",
        AlertState::Firing => "firing",
        AlertState::Resolved => "resolved",
        AlertState::Cancelled => "cancelled",
        AlertState::Flapping => "flapping",
    }
}

/// The item's elements that a tick may change.
#[derive(Clone, Copy, Default)]
struct ItemElements {
    item: NodeRef<Li>,
    level: NodeRef<Span>,
    state: NodeRef<Span>,
    evidence: NodeRef<Span>,
    duration: NodeRef<Span>,
}

impl ItemElements {
    /// Writes what changed between `shown` and `now`.
    fn update(&self, shown: &AlertLive, now: &AlertLive) {
        if (shown.level, shown.state) != (now.level, now.state)
            && let Some(item) = self.item.get_untracked()
        {
            dom::set_attribute(&item, "class", &now.class());
            dom::set_attribute(&item, "data-level", now.level);
            dom::set_attribute(&item, "data-state", now.state);
        }
        update_text(self.level, shown.level, now.level);
        update_text(self.state, shown.state, now.state);
        update_text(self.evidence, &shown.evidence, &now.evidence);
        update_text(self.duration, &shown.duration, &now.duration);
    }
}

/// One alert.
#[component]
pub fn AlertItem(
    /// The alert's fixed parts.
    alert: AlertRow,
    /// The shown alerts' changing parts, by id, as of the latest tick.
    live: Memo<HashMap<u64, AlertLive>>,
) -> impl IntoView {
    let id = alert.id;
    let read = move || live.with(|all| all.get(&id).cloned().unwrap_or_default());
    let first = live.with_untracked(|all| all.get(&id).cloned().unwrap_or_default());
    let elements = ItemElements::default();
    keep_current(&first, read, move |shown, now| elements.update(shown, now));
    let class = first.class();
    let href = Route::Module(alert.module.clone()).href();
    let module = alert.module.clone();
    view! {
        <li
            node_ref=elements.item
            class=class
            data-testid="alert"
            data-level=first.level
            data-state=first.state
            data-module=module
        >
            <span class="level-badge" node_ref=elements.level>{first.level}</span>
            <span class="state" node_ref=elements.state>{first.state}</span>
            <a class="alert-module" href=href>{alert.module}</a>
            <span class="alert-metric">{alert.metric}</span>
            <span class="alert-evidence" node_ref=elements.evidence>{first.evidence}</span>
            <span class="alert-source">{alert.source}</span>
            <span class="alert-time" title="started (UTC)">{format::clock(alert.started)}</span>
            <span class="alert-duration" title="how long it lasted" node_ref=elements.duration>
                {first.duration}
            </span>
        </li>
    }
}
