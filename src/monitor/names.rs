//! The module name index: name -> `ModuleId` in one probe of a small table, with the
//! name itself checked against the copy each module keeps in its own first cache line.
//!
//! A `HashMap<Box<str>, ModuleId>` costs a record by name three dependent cache misses
//! beyond the module's own (the table's entry, the key's heap bytes, then the module):
//! spread over 10,000 modules, more than the record itself. Here a slot is 8 bytes (a
//! 32-bit fingerprint of the name and the id), so the table stays in cache, and the name
//! is compared in the line of the module that the record touches next anyway.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::module::ModuleId;

/// Longest name kept inline in a [`ModuleName`]; longer names live on the heap.
pub(crate) const INLINE_NAME_BYTES: usize = 62;

/// A module's name: inline when short (the common case), so that comparing it reads
/// only the 64 bytes it occupies.
#[derive(Clone)]
pub(crate) enum ModuleName {
    /// `len` bytes of UTF-8 at the front of `bytes`.
    Inline {
        len: u8,
        bytes: [u8; INLINE_NAME_BYTES],
    },
    /// A name longer than [`INLINE_NAME_BYTES`].
    Heap(Box<str>),
}

impl ModuleName {
    pub(crate) fn new(name: &str) -> Self {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_NAME_BYTES => {
                let mut bytes = [0; INLINE_NAME_BYTES];
                bytes[..name.len()].copy_from_slice(name.as_bytes());
                ModuleName::Inline { len, bytes }
            }
            _ => ModuleName::Heap(name.into()),
        }
    }

    /// The name's bytes (UTF-8, copied from a `&str`).
    #[inline]
    fn as_bytes(&self) -> &[u8] {
        match self {
            ModuleName::Inline { len, bytes } => &bytes[..usize::from(*len)],
            ModuleName::Heap(name) => name.as_bytes(),
        }
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            // The bytes were copied from a `&str` whole, so they are valid UTF-8.
            ModuleName::Inline { .. } => std::str::from_utf8(self.as_bytes()).unwrap_or_default(),
            ModuleName::Heap(name) => name,
        }
    }

    /// True when this is `name`; reads the heap only for long names.
    #[inline]
    pub(crate) fn is(&self, name: &str) -> bool {
        self.as_bytes() == name.as_bytes()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            ModuleName::Inline { .. } => 0,
            ModuleName::Heap(name) => name.len(),
        }
    }
}

impl std::fmt::Debug for ModuleName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

/// One slot: enough of the name's hash to place the slot and to skip other names
/// without touching their modules, and the module's id.
#[derive(Debug, Clone, Copy)]
struct Slot {
    fingerprint: u32,
    id: ModuleId,
}

/// Module names to ids. The names themselves are the modules' own: lookups take a
/// closure that compares a candidate module's name.
#[derive(Debug)]
pub(crate) struct NameIndex {
    table: HashTable<Slot>,
    hasher: FixedState,
}

impl Default for NameIndex {
    fn default() -> Self {
        NameIndex {
            table: HashTable::new(),
            hasher: FixedState::with_seed(0x0072_6564_6c69_6e65),
        }
    }
}

/// The table's 64-bit hash, made from the fingerprint alone so that growing the table
/// needs no name: its low bits pick the bucket, its top bits are hashbrown's tag.
#[inline]
fn table_hash(fingerprint: u32) -> u64 {
    (u64::from(fingerprint) << 32) | u64::from(fingerprint)
}

impl NameIndex {
    #[inline]
    fn fingerprint(&self, name: &str) -> u32 {
        let hash = self.hasher.hash_one(name);
        (hash ^ (hash >> 32)) as u32
    }

    /// The id of the module called `name`; `is_named(id)` says whether module `id`
    /// is called `name` (it is asked only when the fingerprints agree).
    #[inline]
    pub(crate) fn get(&self, name: &str, is_named: impl Fn(ModuleId) -> bool) -> Option<ModuleId> {
        let fingerprint = self.fingerprint(name);
        self.table
            .find(table_hash(fingerprint), |slot| {
                slot.fingerprint == fingerprint && is_named(slot.id)
            })
            .map(|slot| slot.id)
    }

    /// Adds a module whose name is not in the index yet.
    pub(crate) fn insert(&mut self, name: &str, id: ModuleId) {
        let fingerprint = self.fingerprint(name);
        self.table
            .insert_unique(table_hash(fingerprint), Slot { fingerprint, id }, |slot| {
                table_hash(slot.fingerprint)
            });
    }

    /// Removes module `id`, called `name`.
    pub(crate) fn remove(&mut self, name: &str, id: ModuleId) {
        let fingerprint = self.fingerprint(name);
        let found = self.table.find_entry(table_hash(fingerprint), |slot| {
            slot.fingerprint == fingerprint && slot.id == id
        });
        if let Ok(entry) = found {
            entry.remove();
        }
    }

    /// Names indexed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An index over `names`, where module `i` is `names[i]`.
    fn index_of(names: &[String]) -> NameIndex {
        let mut index = NameIndex::default();
        for (i, name) in names.iter().enumerate() {
            index.insert(name, ModuleId(i as u32));
        }
        index
    }

    fn lookup(index: &NameIndex, names: &[String], name: &str) -> Option<ModuleId> {
        index.get(name, |id| names[id.index()] == name)
    }

    #[test]
    fn a_name_fills_one_cache_line() {
        assert_eq!(std::mem::size_of::<ModuleName>(), 64);
        assert_eq!(std::mem::size_of::<Slot>(), 8);
    }

    #[test]
    fn names_up_to_the_inline_limit_stay_inline_and_longer_ones_round_trip() {
        for len in [
            1,
            13,
            INLINE_NAME_BYTES - 1,
            INLINE_NAME_BYTES,
            INLINE_NAME_BYTES + 1,
            256,
        ] {
            // Two-byte characters, ending in one or two ASCII bytes.
            let wide = (len - 1) / 2;
            let name = "é".repeat(wide) + &"x".repeat(len - 2 * wide);
            let stored = ModuleName::new(&name);
            assert_eq!(stored.as_str(), name);
            assert!(stored.is(&name));
            let last_differs = format!("{}y", &name[..name.len() - 1]);
            assert!(!stored.is(&last_differs));
            assert!(!stored.is(&name[..name.len() - 1]));
            assert!(!stored.is(&format!("{name}x")));
            let inline = matches!(stored, ModuleName::Inline { .. });
            assert_eq!(
                inline,
                name.len() <= INLINE_NAME_BYTES,
                "{} bytes",
                name.len()
            );
            assert_eq!(stored.heap_bytes(), if inline { 0 } else { name.len() });
        }
    }

    #[test]
    fn the_table_grows_and_finds_every_name() {
        let names: Vec<String> = (0..20_000).map(|i| format!("service-{i:05}")).collect();
        let index = index_of(&names);
        assert_eq!(index.len(), names.len());
        for (i, name) in names.iter().enumerate() {
            assert_eq!(lookup(&index, &names, name), Some(ModuleId(i as u32)));
        }
        assert_eq!(lookup(&index, &names, "service-20000"), None);
        assert_eq!(lookup(&index, &names, "service-0000"), None);
    }

    #[test]
    fn equal_fingerprints_are_told_apart_by_the_names() {
        // Two slots with the fingerprint of "alpha" (a full 32-bit collision, forged):
        // only the modules' names decide.
        let mut forged = NameIndex::default();
        let fingerprint = forged.fingerprint("alpha");
        for id in [0, 1] {
            forged.table.insert_unique(
                table_hash(fingerprint),
                Slot {
                    fingerprint,
                    id: ModuleId(id),
                },
                |slot| table_hash(slot.fingerprint),
            );
        }
        let owners = ["beta".to_owned(), "alpha".to_owned()];
        assert_eq!(lookup(&forged, &owners, "alpha"), Some(ModuleId(1)));
        forged.remove("alpha", ModuleId(1));
        assert_eq!(lookup(&forged, &owners, "alpha"), None);
        assert_eq!(forged.len(), 1);
    }

    #[test]
    fn removal_forgets_only_that_module() {
        let names: Vec<String> = (0..100).map(|i| format!("db-{i}")).collect();
        let mut index = index_of(&names);
        index.remove("db-99", ModuleId(99));
        index.remove("db-7", ModuleId(99)); // not that module's name: nothing happens
        assert_eq!(lookup(&index, &names, "db-99"), None);
        assert_eq!(lookup(&index, &names, "db-7"), Some(ModuleId(7)));
        assert_eq!(index.len(), 99);
        index.insert("db-99", ModuleId(99));
        assert_eq!(lookup(&index, &names, "db-99"), Some(ModuleId(99)));
    }
}
