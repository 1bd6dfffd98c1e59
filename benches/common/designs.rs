//! Three ways to keep a sliding window of latencies with p50/p95/p99/p999 per tick,
//! behind one small trait so the benches treat them alike:
//!
//! - (a) a ring of per-tick `sketches_ddsketch::DDSketch`, merged on every read;
//! - (b) redline's `WindowSketch`: live window counts plus a compact per-tick delta,
//!   expired by subtraction (src/monitor/sketch.rs);
//! - (c) one `hdrhistogram::Histogram<u32>` for the window plus one per tick, expired
//!   with `subtract`.

use std::collections::VecDeque;

use hdrhistogram::Histogram;
use redline::monitor::sketch::{QUANTILES, SketchLayout, TickLog, TickMark, WindowSketch};
use sketches_ddsketch::{Config as DdConfig, DDSketch};

/// The relative error and bin cap redline uses by default.
const RELATIVE_ERROR: f64 = 0.01;
const MAX_BINS: u32 = 2048;
const MIN_VALUE_SECONDS: f64 = 1.0e-9;

/// A sliding window of latencies, advanced one tick at a time.
pub trait WindowDesign {
    /// Short label for tables and bench ids.
    fn label(&self) -> &'static str;
    /// Adds one latency (seconds) to the open tick.
    fn add(&mut self, latency_seconds: f64);
    /// Closes the open tick (expiring the oldest one past `window_ticks`) and returns
    /// p50, p95, p99 and p999 of the window, seconds: the work each tick costs.
    fn close_tick_and_quantiles(&mut self) -> [f64; 4];
}

/// Builds design `name` ("ddsketch_ring", "redline_window" or "hdr_subtract").
pub fn build(name: &str, window_ticks: usize) -> Box<dyn WindowDesign> {
    match name {
        "ddsketch_ring" => Box::new(DdSketchRing::new(window_ticks)),
        "redline_window" => Box::new(RedlineWindow::new(window_ticks)),
        "hdr_subtract" => Box::new(HdrSubtract::new(window_ticks)),
        other => panic!("unknown design {other}"),
    }
}

/// The designs, in table order.
pub const DESIGNS: [&str; 3] = ["ddsketch_ring", "redline_window", "hdr_subtract"];

fn dd_config() -> DdConfig {
    DdConfig::new(RELATIVE_ERROR, MAX_BINS, MIN_VALUE_SECONDS)
}

/// (a) The ring DEPENDENCIES.md suggests: one DDSketch per tick, merged on read.
pub struct DdSketchRing {
    window_ticks: usize,
    ring: VecDeque<DDSketch>,
    open: DDSketch,
}

impl DdSketchRing {
    fn new(window_ticks: usize) -> Self {
        DdSketchRing {
            window_ticks,
            ring: VecDeque::with_capacity(window_ticks + 1),
            open: DDSketch::new(dd_config()),
        }
    }
}

impl WindowDesign for DdSketchRing {
    fn label(&self) -> &'static str {
        "(a) ring of 60 DDSketch, merge on read"
    }

    fn add(&mut self, latency_seconds: f64) {
        self.open.add(latency_seconds);
    }

    fn close_tick_and_quantiles(&mut self) -> [f64; 4] {
        let closed = std::mem::replace(&mut self.open, DDSketch::new(dd_config()));
        self.ring.push_back(closed);
        while self.ring.len() > self.window_ticks {
            self.ring.pop_front();
        }
        let mut merged = DDSketch::new(dd_config());
        for tick in &self.ring {
            if let Err(error) = merged.merge(tick) {
                panic!("same config everywhere: {error}");
            }
        }
        QUANTILES.map(|q| merged.quantile(q).ok().flatten().unwrap_or(0.0))
    }
}

/// (b) What redline does: `WindowSketch` plus each tick's deltas in one `TickLog`.
pub struct RedlineWindow {
    window_ticks: usize,
    layout: SketchLayout,
    sketch: WindowSketch,
    log: TickLog,
    ring: VecDeque<TickMark>,
}

impl RedlineWindow {
    fn new(window_ticks: usize) -> Self {
        RedlineWindow {
            window_ticks,
            layout: SketchLayout::new(RELATIVE_ERROR, MAX_BINS as usize),
            sketch: WindowSketch::default(),
            log: TickLog::default(),
            ring: VecDeque::with_capacity(window_ticks + 1),
        }
    }
}

impl WindowDesign for RedlineWindow {
    fn label(&self) -> &'static str {
        "(b) redline WindowSketch + per-tick deltas"
    }

    fn add(&mut self, latency_seconds: f64) {
        self.sketch.add(&self.layout, latency_seconds);
    }

    fn close_tick_and_quantiles(&mut self) -> [f64; 4] {
        let (closed, _) = self.sketch.close_tick_into(&self.layout, &mut self.log, 0);
        self.ring.push_back(closed);
        while self.ring.len() > self.window_ticks {
            if let Some(old) = self.ring.pop_front() {
                self.sketch.expire_from(&mut self.log, old);
            }
        }
        self.sketch
            .quantiles(&self.layout, f64::INFINITY)
            .values
            .map(|v| v.unwrap_or(0.0))
    }
}

/// (c) HdrHistogram: a window histogram plus per-tick histograms, expired by `subtract`.
/// Microsecond units, 1 µs to 1 h, 2 significant digits (under 1 % error).
pub struct HdrSubtract {
    window_ticks: usize,
    window: Histogram<u32>,
    ring: VecDeque<Histogram<u32>>,
    open: Histogram<u32>,
    spare: Option<Histogram<u32>>,
}

fn hdr_histogram() -> Histogram<u32> {
    match Histogram::new_with_bounds(1, 3_600_000_000, 2) {
        Ok(histogram) => histogram,
        Err(error) => panic!("constant bounds: {error:?}"),
    }
}

impl HdrSubtract {
    fn new(window_ticks: usize) -> Self {
        HdrSubtract {
            window_ticks,
            window: hdr_histogram(),
            ring: VecDeque::with_capacity(window_ticks + 1),
            open: hdr_histogram(),
            spare: None,
        }
    }
}

impl WindowDesign for HdrSubtract {
    fn label(&self) -> &'static str {
        "(c) HdrHistogram<u32> window + per-tick, subtract"
    }

    fn add(&mut self, latency_seconds: f64) {
        self.open.saturating_record((latency_seconds * 1e6) as u64);
    }

    fn close_tick_and_quantiles(&mut self) -> [f64; 4] {
        // Reuse the expired tick's histogram rather than allocating 13 KiB per tick.
        let fresh = self.spare.take().unwrap_or_else(hdr_histogram);
        let closed = std::mem::replace(&mut self.open, fresh);
        if let Err(error) = self.window.add(&closed) {
            panic!("same bounds: {error:?}");
        }
        self.ring.push_back(closed);
        while self.ring.len() > self.window_ticks {
            if let Some(mut old) = self.ring.pop_front() {
                if let Err(error) = self.window.subtract(&old) {
                    panic!("subtracting a tick that was added: {error:?}");
                }
                old.reset();
                self.spare = Some(old);
            }
        }
        let mut out = [0.0; 4];
        for (slot, micros) in out
            .iter_mut()
            .zip(self.window.value_at_quantiles(QUANTILES))
        {
            *slot = micros as f64 * 1e-6;
        }
        out
    }
}
