//! The alert list: colour-coded by level, with lifecycle state, the value against its
//! threshold (or the z-score), when it started and how long it lasted; filterable.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::components::alert_item::{AlertItem, AlertLive, AlertRow};
use crate::format;
use crate::monitor::snapshot::AlertSnapshot;
use crate::monitor::{AlertLevel, AlertState};
use crate::route::Route;
use crate::state::use_app;

/// Which alerts to show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AlertFilter {
    /// Case-insensitive text matched against module, metric and message.
    pub text: String,
    /// Lowest level shown.
    pub min_level: Option<AlertLevel>,
    /// Hide resolved alerts.
    pub active_only: bool,
    /// Only this module's alerts.
    pub module: Option<String>,
}

impl AlertFilter {
    /// The alerts the list shows: those that pass, at most `limit`.
    fn shown<'a>(
        &'a self,
        alerts: &'a [AlertSnapshot],
        limit: usize,
    ) -> impl Iterator<Item = &'a AlertSnapshot> {
        alerts.iter().filter(|a| self.accepts(a)).take(limit)
    }

    /// True when `alert` passes the filter.
    pub fn accepts(&self, alert: &AlertSnapshot) -> bool {
        let text = self.text.trim().to_ascii_lowercase();
        let text_ok = text.is_empty()
            || alert.module.to_ascii_lowercase().contains(&text)
            || alert.metric.to_ascii_lowercase().contains(&text)
            || alert.message.to_ascii_lowercase().contains(&text);
        let level_ok = self.min_level.is_none_or(|min| alert.level >= min);
        let state_ok = !self.active_only
            || matches!(
                alert.state,
                AlertState::Pending | AlertState::Firing | AlertState::Flapping
            );
        let module_ok = self.module.as_ref().is_none_or(|m| *m == alert.module);
        text_ok && level_ok && state_ok && module_ok
    }
}

/// The value against its threshold, or the z-score for anomalies, in the metric's unit.
pub fn evidence_text(alert: &AlertSnapshot) -> String {
    let unit = |value: f64| format::metric_value(&alert.metric, value);
    let value = unit(alert.value);
    let peak = if (alert.peak_value - alert.value).abs() > f64::EPSILON {
        format!(", peak {}", unit(alert.peak_value))
    } else {
        String::new()
    };
    match alert.evidence.z_score {
        Some(z) => format!(
            "{value}: z = {z:.1} against a baseline of {} ± {}{peak}",
            unit(alert.evidence.baseline_mean.unwrap_or_default()),
            unit(alert.evidence.baseline_std.unwrap_or_default())
        ),
        None if alert.evidence.breach_in_seconds.is_some() => format!(
            "{value}, trending to cross {} {} in about {:.0} min",
            alert.evidence.comparison.symbol(),
            unit(alert.threshold),
            (alert.evidence.breach_in_seconds.unwrap_or_default() / 60.0).ceil()
        ),
        None => {
            let breaching = match alert.evidence.comparison {
                crate::monitor::Comparison::Above => alert.value > alert.threshold,
                crate::monitor::Comparison::Below => alert.value < alert.threshold,
            };
            // A firing alert whose value is back inside the threshold is in its
            // hysteresis band or clear time: say so rather than look contradictory.
            let holding = if alert.state == AlertState::Flapping {
                "; flapping: crossing back and forth, held as one alert until it settles"
            } else if alert.state == AlertState::Firing && !breaching {
                "; back within the threshold, resolving once clear"
            } else {
                ""
            };
            format!(
                "{value} (threshold {} {}){peak}{holding}",
                alert.evidence.comparison.symbol(),
                unit(alert.threshold)
            )
        }
    }
}

/// Alerts of the latest snapshot.
#[component]
pub fn AlertList(
    /// Only this module's alerts.
    #[prop(optional, into)]
    module: Option<String>,
    /// Show at most this many.
    #[prop(optional)]
    limit: Option<usize>,
) -> impl IntoView {
    let app = use_app();
    let filter = RwSignal::new(AlertFilter {
        module,
        ..AlertFilter::default()
    });
    // The shown alerts' fixed parts: this changes only when an alert comes or goes, so
    // most ticks leave the list's items alone (a change of state or level updates the
    // item in place).
    let limit = limit.unwrap_or(usize::MAX);
    let alerts = Memo::new(move |_| {
        let filter = filter.get();
        app.snapshot.with(|s| {
            filter
                .shown(&s.alerts, limit)
                .map(AlertRow::of)
                .collect::<Vec<AlertRow>>()
        })
    });
    // The parts that change while an alert lives, formatted once per tick for the
    // shown alerts, so each item looks its own up instead of scanning every alert.
    let live = Memo::new(move |_| {
        let filter = filter.get();
        app.snapshot.with(|s| {
            filter
                .shown(&s.alerts, limit)
                .map(|a| (a.id, AlertLive::of(a)))
                .collect::<HashMap<u64, AlertLive>>()
        })
    });
    // A shortened list (the overview's) says how many it leaves to the Alerts view.
    let hidden = Memo::new(move |_| {
        if limit == usize::MAX {
            return 0;
        }
        let filter = filter.get();
        app.snapshot.with(|s| {
            s.alerts
                .iter()
                .filter(|a| filter.accepts(a))
                .count()
                .saturating_sub(limit)
        })
    });
    let set_level = move |ev: leptos::ev::Event| {
        let level = match event_target_value(&ev).as_str() {
            "warning" => Some(AlertLevel::Warning),
            "critical" => Some(AlertLevel::Critical),
            _ => None,
        };
        filter.update(|f| f.min_level = level);
    };
    view! {
        <section class="panel alert-panel" aria-label="Alerts">
            <div class="panel-head">
                <h2>"Alerts"</h2>
                <div class="filters">
                    <input
                        type="search"
                        class="filter"
                        placeholder="Filter alerts"
                        aria-label="Filter alerts by module, metric or message"
                        on:input=move |ev| filter.update(|f| f.text = event_target_value(&ev))
                    />
                    <select aria-label="Lowest level shown" on:change=set_level>
                        <option value="all">"all levels"</option>
                        <option value="warning">"warning and up"</option>
                        <option value="critical">"critical only"</option>
                    </select>
                    <label class="check">
                        <input
                            type="checkbox"
                            on:change=move |ev| filter.update(|f| f.active_only = event_target_checked(&ev))
                        />
                        "active only"
                    </label>
                </div>
            </div>
            <ul class="alert-list" data-testid="alert-list">
                <For each=move || alerts.get() key=|a| a.id let:alert>
                    <AlertItem alert=alert live=live />
                </For>
            </ul>
            <Show when=move || alerts.with(Vec::is_empty)>
                <p class="empty">"No alerts. Everything within thresholds."</p>
            </Show>
            <Show when=move || { hidden.get() > 0 }>
                <p class="more">
                    <a href=Route::Alerts.href() data-testid="more-alerts">
                        {move || format!("{} more in the Alerts view", hidden.get())}
                    </a>
                </p>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::PerformanceMonitor;

    #[test]
    fn evidence_reads_in_the_metric_unit_and_explains_a_holding_alert() {
        let mut monitor = PerformanceMonitor::default();
        for i in 0..100 {
            monitor
                .record("db", 0.01, i % 10 != 0, 10.5)
                .expect("valid");
        }
        monitor.tick(11.0);
        let snapshot = monitor.snapshot(11.0);
        let mut alert = snapshot
            .alerts
            .iter()
            .find(|a| a.metric == "error_rate" && a.level == AlertLevel::Warning)
            .cloned()
            .expect("a 10 % error rate fires the 5 % warning");
        assert_eq!(evidence_text(&alert), "10 % (threshold > 5.0 %)");
        let mut flapping = alert.clone();
        flapping.state = AlertState::Flapping;
        assert_eq!(
            crate::components::alert_item::state_name(flapping.state),
            "flapping"
        );
        assert!(
            evidence_text(&flapping).contains("flapping"),
            "{}",
            evidence_text(&flapping)
        );
        assert!(AlertFilter::default().accepts(&flapping));
        alert.value = 0.048;
        assert!(
            evidence_text(&alert).contains("back within the threshold"),
            "{}",
            evidence_text(&alert)
        );
        let filter = AlertFilter {
            text: "ERROR".into(),
            min_level: Some(AlertLevel::Critical),
            ..AlertFilter::default()
        };
        assert!(
            !filter.accepts(&alert),
            "a warning is below the critical filter"
        );
        assert!(
            AlertFilter {
                text: "db".into(),
                ..AlertFilter::default()
            }
            .accepts(&alert)
        );
    }
}
