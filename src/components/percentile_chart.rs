//! Charts of one module over its history, drawn with plotters-canvas: p50, p95 and p99
//! together with the threshold lines and anomaly marks, throughput, and error rate.
//! Each redraws at every tick (skipped while the page is hidden).

use std::sync::Arc;

use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

use crate::format;
use crate::monitor::{AlertLevel, Builtin, Comparison, MetricName};
use crate::platform;
use crate::state::history::Point;
use crate::state::use_app;

/// What a chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// p50, p95 and p99 latency.
    Latency,
    /// Requests per second.
    Throughput,
    /// Error rate.
    ErrorRate,
}

type Series = (&'static str, RGBColor, fn(&Point) -> f32);

impl ChartKind {
    fn id(self) -> &'static str {
        match self {
            ChartKind::Latency => "latency",
            ChartKind::Throughput => "throughput",
            ChartKind::ErrorRate => "error-rate",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ChartKind::Latency => "Latency percentiles",
            ChartKind::Throughput => "Throughput",
            ChartKind::ErrorRate => "Error rate",
        }
    }

    fn series(self) -> Vec<Series> {
        match self {
            ChartKind::Latency => vec![
                ("p50", RGBColor(0x3b, 0x82, 0xf6), |p| p.p50),
                ("p95", RGBColor(0xa8, 0x55, 0xf7), |p| p.p95),
                ("p99", RGBColor(0xec, 0x48, 0x99), |p| p.p99),
            ],
            ChartKind::Throughput => vec![("req/s", RGBColor(0x10, 0xb9, 0x81), |p| p.rps)],
            ChartKind::ErrorRate => vec![("errors", RGBColor(0xf9, 0x73, 0x16), |p| p.error_rate)],
        }
    }

    fn metrics(self) -> &'static [Builtin] {
        match self {
            ChartKind::Latency => &[
                Builtin::LatencyP50,
                Builtin::LatencyP95,
                Builtin::LatencyP99,
            ],
            ChartKind::Throughput => &[Builtin::RequestsPerSecond],
            ChartKind::ErrorRate => &[Builtin::ErrorRate],
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            ChartKind::Latency => format::latency(value),
            ChartKind::Throughput => format::rate(value),
            ChartKind::ErrorRate => format::percent(value),
        }
    }
}

/// A picked range of stored history: the points, and the span they were asked for
/// (Unix seconds), so the axis covers the whole range even where nothing was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PickedRange {
    /// Start of the range.
    pub from: f64,
    /// End of the range (the axis' zero).
    pub to: f64,
    /// The stored points within it, oldest first.
    pub points: Vec<Point>,
}

/// The span the x axis shows, and the time at its right end (its zero).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    span: f64,
    end: f64,
}

impl Axis {
    /// The live window: from the first point to the last.
    fn of_points(points: &[Point]) -> Option<Axis> {
        let (first, last) = (points.first()?, points.last()?);
        Some(Axis {
            span: (last.t - first.t).max(1.0),
            end: last.t,
        })
    }

    /// The x axis' unit, chosen by the span: its suffix and length in seconds.
    fn unit(&self) -> (&'static str, f64) {
        match self.span {
            s if s <= 180.0 => ("s", 1.0),
            s if s <= 3.0 * 3600.0 => ("m", 60.0),
            s if s <= 72.0 * 3600.0 => ("h", 3600.0),
            _ => ("d", 86_400.0),
        }
    }

    /// Where time `t` falls on the x axis: before the end, in the axis' unit.
    fn x(&self, t: f64) -> f64 {
        (t - self.end) / self.unit().1
    }

    /// The x axis label of position `x`: `-40s`, `-45m`, `-18h`, `-6d`, `-1.5h`.
    fn label(&self, x: f64) -> String {
        let tenths = (x * 10.0).round() / 10.0;
        let unit = self.unit().0;
        if tenths.fract() == 0.0 {
            format!("{tenths:.0}{unit}")
        } else {
            format!("{tenths:.1}{unit}")
        }
    }
}

/// Splits `points` where the gap between two is over three times the usual step (the
/// page was closed, or nothing was stored), so a line never bridges missing time.
fn runs(points: &[Point]) -> impl Iterator<Item = &[Point]> {
    let mut steps: Vec<f64> = points.windows(2).map(|w| w[1].t - w[0].t).collect();
    let usual = if steps.is_empty() {
        f64::INFINITY
    } else {
        let middle = steps.len() / 2;
        *steps.select_nth_unstable_by(middle, f64::total_cmp).1
    };
    points.chunk_by(move |a, b| b.t - a.t <= 3.0 * usual)
}

/// A threshold line: value, level and which series it belongs to.
#[derive(Debug, Clone, PartialEq)]
struct Threshold {
    value: f64,
    level: AlertLevel,
    label: String,
}

fn level_color(level: AlertLevel) -> RGBColor {
    match level {
        AlertLevel::Critical => RGBColor(0xdc, 0x26, 0x26),
        AlertLevel::Warning => RGBColor(0xd9, 0x77, 0x06),
        AlertLevel::Info => RGBColor(0x25, 0x63, 0xeb),
    }
}

/// One chart of one module.
#[component]
pub fn MetricChart(
    /// Module name.
    #[prop(into)]
    module: String,
    /// What to draw.
    kind: ChartKind,
    /// A picked range of stored history, drawn instead of the live window.
    #[prop(optional)]
    range: Option<RwSignal<Option<Arc<PickedRange>>>>,
) -> impl IntoView {
    let app = use_app();
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    let thresholds: Vec<Threshold> = app.config.with_value(|config| {
        config
            .monitor
            .rules
            .iter()
            .filter(|rule| rule.selects(&module))
            .filter(
                |rule| matches!(rule.metric, MetricName::Builtin(m) if kind.metrics().contains(&m)),
            )
            .map(|rule| Threshold {
                value: rule.threshold,
                level: rule.level,
                label: format!(
                    "{} {} {}",
                    rule.metric,
                    if rule.comparison == Comparison::Above {
                        ">"
                    } else {
                        "<"
                    },
                    kind.format(rule.threshold)
                ),
            })
            .collect()
    });
    let legend: Vec<(String, String)> = kind
        .series()
        .into_iter()
        .map(|(label, color, _)| {
            (
                label.to_owned(),
                format!("rgb({},{},{})", color.0, color.1, color.2),
            )
        })
        .collect();
    let threshold_legend: Vec<(String, String)> = thresholds
        .iter()
        .map(|t| {
            let c = level_color(t.level);
            (t.label.clone(), format!("rgb({},{},{})", c.0, c.1, c.2))
        })
        .collect();
    let problem = RwSignal::new(None::<String>);
    // Milliseconds the last redraw took, exposed for browser measurements.
    let draw_ms = RwSignal::new(0.0f64);
    let draw_module = module.clone();
    let count_module = module.clone();
    Effect::new(move |_| {
        // A picked range of stored history does not move with the ticks: it is drawn
        // once, when picked, not redrawn every tick.
        let picked = range.and_then(|range| range.get());
        if picked.is_none() {
            app.tick.track();
        }
        let Some(element) = canvas.get() else {
            return;
        };
        if platform::page_hidden() {
            return;
        }
        let live: Vec<Point>;
        let (points, axis): (&[Point], Option<Axis>) = match &picked {
            Some(picked) => (
                &picked.points,
                Some(Axis {
                    span: (picked.to - picked.from).max(1.0),
                    end: picked.to,
                }),
            ),
            None => {
                live = app
                    .engine
                    .with_value(|e| e.history().points(&draw_module).copied().collect());
                (&live, Axis::of_points(&live))
            }
        };
        let scale = platform::device_pixel_ratio();
        let width = f64::from(element.client_width().max(200));
        let height = f64::from(element.client_height().max(120));
        element.set_width((width * scale) as u32);
        element.set_height((height * scale) as u32);
        let dark = app.theme.with_untracked(|theme| theme == "dark");
        let started = platform::performance_now();
        let outcome = draw(element, points, axis, kind, &thresholds, scale, dark);
        draw_ms.set(platform::performance_now() - started);
        if outcome.as_ref().err() != problem.get_untracked().as_ref() {
            problem.set(outcome.err());
        }
    });
    view! {
        <figure
            class="chart"
            data-testid=format!("chart-{}", kind.id())
            data-draw-ms=move || format!("{:.3}", draw_ms.get())
            data-points=move || {
                match range.and_then(|range| range.get()) {
                    Some(picked) => picked.points.len(),
                    None => {
                        app.tick.track();
                        app.engine.with_value(|e| e.history().points(&count_module).count())
                    }
                }
            }
        >
            <figcaption>
                <span class="chart-title">{kind.title()}</span>
                {legend
                    .into_iter()
                    .map(|(label, color)| {
                        view! { <span class="legend" style=format!("--swatch: {color}")>{label}</span> }
                    })
                    .collect_view()}
                {threshold_legend
                    .into_iter()
                    .map(|(label, color)| {
                        view! { <span class="legend threshold" style=format!("--swatch: {color}")>{label}</span> }
                    })
                    .collect_view()}
                {(kind == ChartKind::Latency)
                    .then(|| view! { <span class="legend anomaly">"anomaly"</span> })}
            </figcaption>
            <canvas node_ref=canvas class="chart-canvas" role="img" aria-label=format!("{} of {module}", kind.title())></canvas>
            {move || problem.get().map(|p| view! { <p class="chart-problem">{format!("chart not drawn: {p}")}</p> })}
        </figure>
    }
}

fn draw(
    canvas: web_sys::HtmlCanvasElement,
    points: &[Point],
    axis: Option<Axis>,
    kind: ChartKind,
    thresholds: &[Threshold],
    scale: f64,
    dark: bool,
) -> Result<(), String> {
    let backend =
        CanvasBackend::with_canvas_object(canvas).ok_or("the canvas has no 2D context")?;
    let root = backend.into_drawing_area();
    let (background, foreground, grid) = if dark {
        (
            RGBColor(0x11, 0x18, 0x27),
            RGBColor(0xd1, 0xd5, 0xdb),
            RGBColor(0x37, 0x41, 0x51),
        )
    } else {
        (
            RGBColor(0xff, 0xff, 0xff),
            RGBColor(0x37, 0x41, 0x51),
            RGBColor(0xe5, 0xe7, 0xeb),
        )
    };
    root.fill(&background).map_err(|e| e.to_string())?;
    let font_size = (11.0 * scale) as u32;
    let (Some(axis), false) = (axis, points.is_empty()) else {
        let message = match axis {
            Some(_) => "nothing stored in this range",
            None => "waiting for the first tick…",
        };
        root.draw(&Text::new(
            message,
            ((10.0 * scale) as i32, (20.0 * scale) as i32),
            ("sans-serif", font_size).into_font().color(&foreground),
        ))
        .map_err(|e| e.to_string())?;
        return Ok(());
    };
    let series = kind.series();
    let data_max = points
        .iter()
        .flat_map(|p| series.iter().map(move |(_, _, read)| f64::from(read(p))))
        .fold(0.0f64, f64::max);
    // A threshold far above the data would flatten it: draw those within reach.
    let reach = if data_max > 0.0 {
        data_max * 2.5
    } else {
        f64::INFINITY
    };
    let shown: Vec<&Threshold> = thresholds.iter().filter(|t| t.value <= reach).collect();
    let y_max = shown
        .iter()
        .map(|t| t.value)
        .fold(data_max, f64::max)
        .max(match kind {
            ChartKind::Latency => 0.001,
            ChartKind::Throughput => 1.0,
            ChartKind::ErrorRate => 0.01,
        })
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin((6.0 * scale) as u32)
        .x_label_area_size((18.0 * scale) as u32)
        .y_label_area_size((58.0 * scale) as u32)
        .build_cartesian_2d(axis.x(axis.end - axis.span)..0.0, 0.0..y_max)
        .map_err(|e| e.to_string())?;
    let label_style = ("sans-serif", font_size).into_font().color(&foreground);
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(4)
        .disable_x_mesh()
        .x_label_formatter(&|v| axis.label(*v))
        .y_label_formatter(&|v| kind.format(*v))
        .label_style(label_style)
        .axis_style(grid)
        .bold_line_style(grid)
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(|e| e.to_string())?;
    let stroke = (1.5 * scale).max(1.0) as u32;
    for threshold in shown {
        let color = level_color(threshold.level);
        chart
            .draw_series(LineSeries::new(
                [
                    (axis.x(axis.end - axis.span), threshold.value),
                    (0.0, threshold.value),
                ],
                color.stroke_width(stroke),
            ))
            .map_err(|e| e.to_string())?;
    }
    // Found once for every series: the gaps are the points', not a series'.
    let runs: Vec<&[Point]> = runs(points).collect();
    for (_, color, read) in &series {
        for run in &runs {
            chart
                .draw_series(LineSeries::new(
                    run.iter().map(|p| (axis.x(p.t), f64::from(read(p)))),
                    color.stroke_width(stroke),
                ))
                .map_err(|e| e.to_string())?;
        }
    }
    if kind == ChartKind::Latency {
        let mark = level_color(AlertLevel::Critical);
        chart
            .draw_series(points.iter().filter(|p| p.anomaly).map(|p| {
                Circle::new(
                    (axis.x(p.t), f64::from(p.p95)),
                    (4.0 * scale) as u32,
                    mark.filled(),
                )
            }))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: f64) -> Point {
        Point {
            t,
            ..Point::default()
        }
    }

    #[test]
    fn the_axis_unit_follows_the_span() {
        let live = Axis {
            span: 60.0,
            end: 1000.0,
        };
        assert_eq!(live.label(live.x(960.0)), "-40s");
        let hour = Axis {
            span: 3600.0,
            end: 7200.0,
        };
        assert_eq!(hour.label(hour.x(7200.0 - 2700.0)), "-45m");
        let day = Axis {
            span: 86_400.0,
            end: 86_400.0,
        };
        assert_eq!(day.label(day.x(86_400.0 - 5400.0)), "-1.5h");
        let week = Axis {
            span: 7.0 * 86_400.0,
            end: 0.0,
        };
        assert_eq!(week.label(week.x(-6.0 * 86_400.0)), "-6d");
    }

    #[test]
    fn lines_break_at_gaps_in_what_was_stored() {
        let times = [0.0, 60.0, 120.0, 180.0, 4000.0, 4060.0, 4120.0];
        let points: Vec<Point> = times.iter().map(|&t| point(t)).collect();
        let lengths: Vec<usize> = runs(&points).map(<[Point]>::len).collect();
        assert_eq!(lengths, [4, 3]);
        assert_eq!(runs(&points[..1]).count(), 1);
        assert_eq!(runs(&[]).count(), 0);
    }
}
