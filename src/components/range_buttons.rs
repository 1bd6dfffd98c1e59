//! A row of time-range buttons (live, 1 h, 24 h, …), one pressed at a time.

use leptos::prelude::*;

/// Range buttons; their container is the caller's.
#[component]
pub fn RangeButtons<E, P>(
    /// The buttons' labels, in order.
    labels: Vec<&'static str>,
    /// Each button's `data-testid`: this, then its index.
    testid: &'static str,
    /// The pressed button's index.
    pressed: Signal<Option<usize>>,
    /// Whether the button of an index can be pressed.
    enabled: E,
    /// Called with the index of the button pressed.
    on_pick: P,
) -> impl IntoView
where
    E: Fn(usize) -> bool + Copy + Send + Sync + 'static,
    P: Fn(usize) + Copy + 'static,
{
    labels
        .into_iter()
        .enumerate()
        .map(|(index, label)| {
            view! {
                <button
                    type="button"
                    class="range"
                    data-testid=format!("{testid}{index}")
                    aria-pressed=move || (pressed.get() == Some(index)).to_string()
                    disabled=move || !enabled(index)
                    on:click=move |_| on_pick(index)
                >
                    {label}
                </button>
            }
        })
        .collect_view()
}
