//! `NameIndex`: module names to ids, with every name packed into one buffer.
//!
//! Recording by name looks the name up for every record. With each key in its own
//! allocation, spread over the heap among the modules' windows, comparing the found
//! key was a cache and TLB miss of its own; here the table holds only 4-byte ids and
//! the names lie back to back, so over 10,000 modules the whole index is a few
//! hundred kilobytes that stay cached.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::module::ModuleId;

#[derive(Debug)]
pub(super) struct NameIndex {
    ids: HashTable<u32>,
    /// Every name's bytes, in id order.
    text: Vec<u8>,
    /// Where each id's name starts and ends in `text`.
    spans: Vec<[u32; 2]>,
    hasher: FixedState,
}

impl NameIndex {
    pub(super) fn new() -> Self {
        NameIndex {
            ids: HashTable::new(),
            text: Vec::new(),
            spans: Vec::new(),
            hasher: FixedState::with_seed(0x0072_6564_6c69_6e65),
        }
    }

    fn name(&self, id: u32) -> &[u8] {
        name_in(&self.text, &self.spans, id)
    }

    pub(super) fn get(&self, name: &str) -> Option<ModuleId> {
        let hash = self.hasher.hash_one(name.as_bytes());
        self.ids
            .find(hash, |&id| self.name(id) == name.as_bytes())
            .map(|&id| ModuleId(id))
    }

    /// Adds `name` as the next id, which must be `id` (ids are dense, from 0).
    pub(super) fn push(&mut self, name: &str, id: ModuleId) {
        debug_assert_eq!(id.index(), self.spans.len());
        // Within u32: names are at most 256 bytes, and 2^24 modules (to fill 4 GiB) would
        // hold hundreds of gigabytes of windows first.
        let start = self.text.len() as u32;
        self.text.extend_from_slice(name.as_bytes());
        self.spans.push([start, self.text.len() as u32]);
        let hash = self.hasher.hash_one(name.as_bytes());
        let Self {
            ids,
            text,
            spans,
            hasher,
        } = self;
        let rehash = |&other: &u32| hasher.hash_one(name_in(text, spans, other));
        ids.insert_unique(hash, id.0, rehash);
    }

    /// Removes the last id pushed (a module created by a call whose data was refused).
    pub(super) fn pop(&mut self) {
        let Some(last) = self.spans.len().checked_sub(1) else {
            return;
        };
        let hash = self.hasher.hash_one(self.name(last as u32));
        if let Ok(entry) = self.ids.find_entry(hash, |&id| id as usize == last) {
            entry.remove();
        }
        if let Some([start, _]) = self.spans.pop() {
            self.text.truncate(start as usize);
        }
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The bytes of `id`'s name (hashed as bytes, so lookups and rehashes agree).
fn name_in<'a>(text: &'a [u8], spans: &[[u32; 2]], id: u32) -> &'a [u8] {
    let [start, end] = spans[id as usize];
    &text[start as usize..end as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_until_the_last_is_popped() {
        let mut index = NameIndex::new();
        let names = ["api", "database", "", "ünïcode", "api_gateway"];
        for (id, name) in names.iter().enumerate() {
            index.push(name, ModuleId(id as u32));
        }
        for (id, name) in names.iter().enumerate() {
            assert_eq!(index.get(name), Some(ModuleId(id as u32)), "{name}");
        }
        assert_eq!(index.get("api_"), None);
        index.pop();
        assert_eq!(index.get("api_gateway"), None);
        assert_eq!(index.get("ünïcode"), Some(ModuleId(3)));
        index.push("cache", ModuleId(4));
        assert_eq!(index.get("cache"), Some(ModuleId(4)));
        assert!(index.contains("api") && !index.contains("api_gateway"));
    }

    #[test]
    fn many_names_survive_the_table_growing() {
        let mut index = NameIndex::new();
        let names: Vec<String> = (0..5_000).map(|i| format!("module_{i}")).collect();
        for (id, name) in names.iter().enumerate() {
            index.push(name, ModuleId(id as u32));
        }
        for (id, name) in names.iter().enumerate() {
            assert_eq!(index.get(name), Some(ModuleId(id as u32)));
        }
    }
}
