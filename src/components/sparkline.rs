//! A sparkline: one series as an SVG polyline, cheap enough for hundreds of rows.

use leptos::prelude::*;
use leptos::svg::Polyline;

/// Points of a polyline fitting `values` into `width` × `height`, in whole pixels
/// (integer formatting is several times cheaper than float formatting in wasm).
pub fn polyline_points(values: &[f32], width: f32, height: f32) -> String {
    use std::fmt::Write;
    if values.len() < 2 {
        return String::new();
    }
    let max = values.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let step = width / (values.len() - 1) as f32;
    let mut out = String::with_capacity(values.len() * 7);
    for (i, value) in values.iter().enumerate() {
        let y = height - 1.0 - (value / max).clamp(0.0, 1.0) * (height - 2.0);
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(
            out,
            "{},{}",
            (i as f32 * step).round() as i32,
            y.round() as i32
        );
    }
    out
}

/// A small trend line, 72 × 20 CSS pixels. Its owner redraws it in place through
/// `line` (a row updates all its cells in one go).
#[component]
pub fn Sparkline(
    /// The polyline, for the owner's updates.
    line: NodeRef<Polyline>,
    /// The first points, from [`polyline_points`] over a 72 × 20 box.
    points: String,
    /// Accessible label.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    view! {
        <svg class="sparkline" viewBox="0 0 72 20" width="72" height="20" role="img" aria-label=label>
            <polyline node_ref=line points=points />
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_box() {
        let points = polyline_points(&[0.0, 1.0, 2.0], 80.0, 20.0);
        assert_eq!(points, "0,19 40,10 80,1");
        assert_eq!(polyline_points(&[1.0], 80.0, 20.0), "");
    }
}
