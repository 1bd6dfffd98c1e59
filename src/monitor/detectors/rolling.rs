//! `RollingOrder`: the last `capacity` values in arrival order and in sorted order, so
//! a median or any quantile of the window is one index away.

/// A bounded window kept both as a ring (to know what leaves) and sorted (quantiles).
#[derive(Debug, Clone, Default)]
pub struct RollingOrder {
    capacity: usize,
    ring: Vec<f32>,
    next: usize,
    sorted: Vec<f32>,
}

impl RollingOrder {
    /// An empty window of at most `capacity` (at least 1) values.
    pub fn new(capacity: usize) -> Self {
        RollingOrder {
            capacity: capacity.max(1),
            ..RollingOrder::default()
        }
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Whether no value is held.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Adds `value`, dropping the oldest once full. Costs one shift of the sorted array.
    pub fn push(&mut self, value: f32) {
        if self.ring.len() < self.capacity {
            if self.ring.is_empty() {
                self.ring.reserve_exact(self.capacity);
                self.sorted.reserve_exact(self.capacity);
            }
            self.ring.push(value);
        } else {
            let old = std::mem::replace(&mut self.ring[self.next], value);
            self.next = (self.next + 1) % self.capacity;
            let at = self.sorted.partition_point(|v| *v < old);
            self.sorted.remove(at);
        }
        let at = self.sorted.partition_point(|v| *v < value);
        self.sorted.insert(at, value);
    }

    /// The `q` quantile (0..=1), interpolated between order statistics.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.sorted.len();
        if n == 0 {
            return None;
        }
        let rank = q.clamp(0.0, 1.0) * (n - 1) as f64;
        let low = rank.floor() as usize;
        let high = (low + 1).min(n - 1);
        let fraction = rank - low as f64;
        let (a, b) = (f64::from(self.sorted[low]), f64::from(self.sorted[high]));
        Some(a + (b - a) * fraction)
    }

    /// The most recent `count` values' mean (newest last in the ring).
    pub fn recent_mean(&self, count: usize) -> Option<f64> {
        let n = self.ring.len();
        let count = count.min(n);
        if count == 0 {
            return None;
        }
        let newest = if n < self.capacity { n } else { self.next + n };
        let sum: f64 = (newest - count..newest)
            .map(|i| f64::from(self.ring[i % n]))
            .sum();
        Some(sum / count as f64)
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        (self.ring.capacity() + self.sorted.capacity()) * std::mem::size_of::<f32>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn quantiles_match_a_sorted_copy_of_the_last_values(
            values in proptest::collection::vec(-1e6f32..1e6, 1..200),
            capacity in 1usize..50,
        ) {
            let mut window = RollingOrder::new(capacity);
            for v in &values {
                window.push(*v);
            }
            let start = values.len().saturating_sub(capacity);
            let mut oracle = values[start..].to_vec();
            oracle.sort_by(f32::total_cmp);
            prop_assert_eq!(&window.sorted, &oracle);
            prop_assert_eq!(window.quantile(0.0), Some(f64::from(oracle[0])));
            let last = values.len() - 1;
            prop_assert_eq!(window.recent_mean(1), Some(f64::from(values[last])));
        }
    }
}
