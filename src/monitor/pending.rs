//! Records validated but not yet applied to their modules: the monitor appends each
//! record here and applies them in batches, prefetching each one's module line and
//! open-tick bin a few records ahead, so that the cache misses of records spread over
//! many modules overlap instead of queueing behind one another.
//!
//! Applying a record one at a time costs a chain of dependent misses (the module's
//! line, then the bin it points to); by name, the index lookup comes first in that
//! chain, and few records fit in flight. A batch breaks the chain: the lookup only
//! appends here, and the apply loop knows its next records' addresses in advance.

use super::module::{ModuleId, ModuleMetrics};
use super::sketch::SketchLayout;

/// Records held before a batch is applied: 512 of 32 bytes is 16 KiB, which stays in
/// L1 with room for the lines being prefetched.
pub(crate) const CAPACITY: usize = 512;

/// Records between the module-line prefetch and the bin prefetch, and between the bin
/// prefetch and the record's apply: enough to cover a miss at some 15 ns per record.
const AHEAD: usize = 16;

/// One validated record (latency finite and >= 0, id a module's).
#[derive(Debug, Clone, Copy)]
struct PendingRecord {
    id: u32,
    ok: bool,
    /// The latency's bin (`SketchLayout::bin_key`), found when the record was held.
    key: Option<i32>,
    latency_seconds: f64,
    now: f64,
}

/// What a module's pending records add to its open tick's totals.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct PendingTotals {
    pub requests: u32,
    pub errors: u32,
    /// The latest `now` among them (0 when none is later).
    pub last_update: f64,
}

/// The monitor's buffer of pending records.
#[derive(Debug)]
pub(crate) struct PendingRecords {
    records: Vec<PendingRecord>,
    /// Records held before a batch is applied; 1 applies every record at once.
    capacity: usize,
}

impl Default for PendingRecords {
    fn default() -> Self {
        PendingRecords::with_capacity(CAPACITY)
    }
}

impl PendingRecords {
    /// A buffer applying every `capacity` records (at least 1: each at once).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        PendingRecords {
            records: Vec::new(),
            capacity: capacity.max(1),
        }
    }

    /// True when no record waits.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Holds a validated record; true when the buffer is full and must be applied.
    #[inline]
    pub(crate) fn push(
        &mut self,
        layout: &SketchLayout,
        id: ModuleId,
        latency_seconds: f64,
        ok: bool,
        now: f64,
    ) -> bool {
        if self.records.capacity() == 0 {
            // Allocated on first use: a monitor fed only samples never holds one.
            self.records.reserve_exact(self.capacity);
        }
        self.records.push(PendingRecord {
            id: id.0,
            ok,
            key: layout.bin_key(latency_seconds),
            latency_seconds,
            now,
        });
        self.records.len() >= self.capacity
    }

    /// Applies every held record to its module, in order, and empties the buffer.
    pub(crate) fn apply(&mut self, modules: &mut [ModuleMetrics], layout: &SketchLayout) {
        let records = &self.records;
        for (index, record) in records.iter().enumerate() {
            if let Some(ahead) = records.get(index + 2 * AHEAD)
                && let Some(module) = modules.get(ahead.id as usize)
            {
                prefetch(&module.window);
            }
            if let Some(ahead) = records.get(index + AHEAD)
                && let Some(module) = modules.get(ahead.id as usize)
                && let Some(key) = ahead.key
                && let Some(bin) = module.window.open_bin(key)
            {
                prefetch(bin);
            }
            // Every id was checked when its record was held, and modules only ever
            // go away (a refused first record) before anything is held for them.
            if let Some(module) = modules.get_mut(record.id as usize) {
                module.window.add_request_in_bin(
                    layout,
                    record.key,
                    record.latency_seconds,
                    record.ok,
                    record.now,
                );
            }
        }
        self.records.clear();
    }

    /// What the held records add to each module's open tick, by module index (empty
    /// when nothing is held), for readers that go through every module.
    pub(crate) fn totals_by_module(&self, modules: usize) -> Vec<PendingTotals> {
        if self.records.is_empty() {
            return Vec::new();
        }
        let mut totals = vec![PendingTotals::default(); modules];
        for record in &self.records {
            if let Some(slot) = totals.get_mut(record.id as usize) {
                *slot = add_record(*slot, record);
            }
        }
        totals
    }
}

fn add_record(totals: PendingTotals, record: &PendingRecord) -> PendingTotals {
    PendingTotals {
        requests: totals.requests.saturating_add(1),
        errors: totals.errors.saturating_add(u32::from(!record.ok)),
        last_update: if record.now > totals.last_update {
            record.now
        } else {
            totals.last_update
        },
    }
}

/// Asks for the cache line holding `value`, without waiting for it.
#[inline(always)]
fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch is only a hint: it reads nothing into the program and
        // cannot fault, and SSE is part of the x86_64 baseline.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(value).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use proptest::prelude::*;

    use crate::monitor::{
        CustomKind, ModuleId, MonitorConfig, MonitorSettings, PerformanceMonitor, Sample,
    };

    const T0: f64 = 1_700_000_000.0;
    /// Names tried: three fit under the cap of four with room for one more, and two
    /// are refused whatever the cap.
    const NAMES: [&str; 6] = ["api", "db", "cache", "queue", "", "bad\nname"];
    const LATENCIES: [f64; 9] = [
        0.0,
        1e-10,
        0.004,
        0.05,
        0.3,
        2.5,
        -1.0,
        f64::NAN,
        f64::INFINITY,
    ];

    #[derive(Debug, Clone)]
    enum Op {
        Record {
            name: usize,
            latency: usize,
            ok: bool,
        },
        RecordId {
            id: u32,
            latency: usize,
            ok: bool,
        },
        Counts {
            name: usize,
            requests: u64,
            errors: u64,
        },
        Custom {
            name: usize,
            value: f64,
        },
        Tick,
        Snapshot,
        /// Carries a module's open tick into itself, as a resume replays it.
        Replay {
            name: usize,
        },
    }

    fn op() -> impl Strategy<Value = (Op, u8)> {
        let name = 0..NAMES.len();
        let latency = 0..LATENCIES.len();
        let op = prop_oneof![
            8 => (name.clone(), latency.clone(), any::<bool>())
                .prop_map(|(name, latency, ok)| Op::Record { name, latency, ok }),
            8 => (0..6u32, latency, any::<bool>())
                .prop_map(|(id, latency, ok)| Op::RecordId { id, latency, ok }),
            1 => (name.clone(), 0..50u64, 0..60u64)
                .prop_map(|(name, requests, errors)| Op::Counts { name, requests, errors }),
            1 => (name.clone(), 0.0..10.0f64).prop_map(|(name, value)| Op::Custom { name, value }),
            2 => Just(Op::Tick),
            2 => Just(Op::Snapshot),
            1 => name.prop_map(|name| Op::Replay { name }),
        ];
        // Time moves on by 0 to 0.75 s before each step.
        (op, 0..4u8)
    }

    fn monitor(batch: usize) -> PerformanceMonitor {
        let settings = MonitorSettings {
            max_modules: 4,
            ..MonitorSettings::default()
        };
        let mut monitor = PerformanceMonitor::new(MonitorConfig::new(settings).expect("valid"));
        monitor.set_record_batch(batch);
        monitor
    }

    /// Runs `op` on `monitor`, returning everything it answers, as text.
    fn run(monitor: &mut PerformanceMonitor, op: &Op, now: f64) -> String {
        match *op {
            Op::Record { name, latency, ok } => {
                format!(
                    "{:?}",
                    monitor.record(NAMES[name], LATENCIES[latency], ok, now)
                )
            }
            Op::RecordId { id, latency, ok } => {
                format!(
                    "{:?}",
                    monitor.record_id(ModuleId(id), LATENCIES[latency], ok, now)
                )
            }
            Op::Counts {
                name,
                requests,
                errors,
            } => format!(
                "{:?}",
                monitor.record_counts(NAMES[name], requests, errors, now)
            ),
            Op::Custom { name, value } => {
                let sample = Sample::Custom {
                    module: NAMES[name].to_owned(),
                    name: "queue_depth".to_owned(),
                    kind: CustomKind::Gauge,
                    value,
                };
                format!("{:?}", monitor.observe(&sample, now))
            }
            Op::Tick => format!("{:?}", monitor.tick(now)),
            Op::Snapshot => monitor.dashboard_json(now),
            Op::Replay { name } => {
                // Through `&mut` first: what a caller holding the monitor would do.
                monitor.flush_records();
                let Some(module) = monitor.module(NAMES[name]) else {
                    return "none".to_owned();
                };
                let (source, open) = (module.source(), module.open_tick());
                format!("{:?}", monitor.replay(NAMES[name], source, &open, now))
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Batched records give exactly what applying each record at once gives: the
        /// same answers, alert events and snapshots (JSON), and the same modules.
        #[test]
        fn batched_records_match_immediate_ones(
            batch in 2..9usize,
            ops in proptest::collection::vec(op(), 1..160),
        ) {
            let mut batched = monitor(batch);
            let mut immediate = monitor(1);
            let mut now = T0;
            for (op, step) in &ops {
                now += f64::from(*step) * 0.25;
                let got = run(&mut batched, op, now);
                let want = run(&mut immediate, op, now);
                prop_assert_eq!(got, want, "{:?} at {}", op, now);
            }
            prop_assert_eq!(batched.dashboard_json(now), immediate.dashboard_json(now));
            batched.flush_records();
            for (got, want) in batched.modules().iter().zip(immediate.modules()) {
                prop_assert_eq!(got.name(), want.name());
                prop_assert_eq!(got.request_count(), want.request_count());
                prop_assert_eq!(got.error_count(), want.error_count());
                prop_assert_eq!(got.last_update(), want.last_update());
                prop_assert_eq!(got.open_tick(), want.open_tick());
            }
            prop_assert_eq!(batched.modules().len(), immediate.modules().len());
            prop_assert_eq!(batched.status(), immediate.status());
        }
    }

    /// A full buffer applies itself: nothing is held past its capacity.
    #[test]
    fn a_full_batch_is_applied() {
        let mut monitor = monitor(4);
        for _ in 0..8 {
            monitor.record("api", 0.01, true, T0).expect("valid");
        }
        let module = monitor.module("api").expect("module");
        assert_eq!(module.request_count(), 8);
    }
}
