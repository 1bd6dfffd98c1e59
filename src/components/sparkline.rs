//! A sparkline: one series as an SVG polyline, cheap enough for hundreds of rows.

use leptos::prelude::*;
use leptos::svg::Polyline;

/// Points of a polyline fitting `values` into `width` × `height`, in whole pixels.
/// Every visible row redraws its line each tick, so the digits are written by hand:
/// `write!` costs several times more per number in wasm.
pub fn polyline_points(values: &[f32], width: f32, height: f32) -> String {
    if values.len() < 2 {
        return String::new();
    }
    let max = values.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let step = width / (values.len() - 1) as f32;
    let mut out = String::with_capacity(values.len() * 6);
    for (i, value) in values.iter().enumerate() {
        let y = height - 1.0 - (value / max).clamp(0.0, 1.0) * (height - 2.0);
        if i > 0 {
            out.push(' ');
        }
        push_pixels(&mut out, (i as f32 * step).round());
        out.push(',');
        push_pixels(&mut out, y.round());
    }
    out
}

/// Appends a whole, non-negative pixel count (the box's own coordinates).
fn push_pixels(out: &mut String, pixels: f32) {
    let mut n = pixels.max(0.0) as u32;
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[start..]
        .iter()
        .for_each(|&digit| out.push(char::from(digit)));
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
        let wide = polyline_points(&[0.0, 5.0], 1234.0, 20.0);
        assert_eq!(wide, "0,19 1234,1");
    }

    #[test]
    fn hand_written_digits_match_formatted_ones() {
        let values: Vec<f32> = (0..60).map(|i| ((i * 37) % 101) as f32 * 0.013).collect();
        let max = values.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
        let step = 72.0 / 59.0;
        let formatted: Vec<String> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let y = 19.0 - (v / max).clamp(0.0, 1.0) * 18.0;
                format!("{},{}", (i as f32 * step).round() as i32, y.round() as i32)
            })
            .collect();
        assert_eq!(polyline_points(&values, 72.0, 20.0), formatted.join(" "));
    }
}
