//! One stable sort for the bundle's few sorts outside the core.
//!
//! Each `sort_by` on its own element type (or with its own comparator) is its own
//! copy of the standard library's sort in the wasm: 4 to 6 KB apiece. Sorting
//! positions with a `dyn` comparator instead keeps one copy for every caller here.

use std::cmp::Ordering;

/// Positions `0..len` in the stable order that `compare` gives them.
fn order(len: usize, compare: &dyn Fn(usize, usize) -> Ordering) -> Vec<usize> {
    let mut positions: Vec<usize> = (0..len).collect();
    positions.sort_by(|&a, &b| compare(a, b));
    positions
}

/// Sorts `items` stably by `compare`: the same result as `slice::sort_by`.
pub(crate) fn sort_by<T>(items: &mut Vec<T>, compare: impl Fn(&T, &T) -> Ordering) {
    if items.len() < 2 {
        return;
    }
    let positions = order(items.len(), &|a, b| compare(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.drain(..).map(Some).collect();
    items.extend(positions.into_iter().filter_map(|at| slots[at].take()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same order as the standard library's stable sort, ties included.
        #[test]
        fn sort_by_matches_the_standard_stable_sort(items in proptest::collection::vec((0u8..8, any::<u32>()), 0..200)) {
            let mut expected = items.clone();
            expected.sort_by_key(|a| a.0);
            let mut sorted = items;
            sort_by(&mut sorted, |a, b| a.0.cmp(&b.0));
            prop_assert_eq!(sorted, expected);
        }
    }
}
