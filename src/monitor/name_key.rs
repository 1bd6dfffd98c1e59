//! The module index's key: a name of up to 23 bytes is stored inside the key, so a
//! lookup compares bytes already in the table's cache line instead of following a
//! pointer to the heap (over 10,000 modules that pointer is a cache miss per record).
//! Longer names live on the heap as before.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// Bytes held inline.
const INLINE: usize = 23;

/// A module name as the index keeps it.
#[derive(Clone)]
pub(crate) enum NameKey {
    /// Up to `INLINE` bytes of UTF-8, and their length.
    Inline([u8; INLINE], u8),
    /// A longer name.
    Heap(Box<str>),
}

impl NameKey {
    pub(crate) fn new(name: &str) -> NameKey {
        let bytes = name.as_bytes();
        if bytes.len() <= INLINE {
            let mut inline = [0u8; INLINE];
            inline[..bytes.len()].copy_from_slice(bytes);
            NameKey::Inline(inline, bytes.len() as u8)
        } else {
            NameKey::Heap(name.into())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Built from a `&str` in `new`, so the prefix is valid UTF-8; the
            // fallback is never taken.
            NameKey::Inline(bytes, len) => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            NameKey::Heap(name) => name,
        }
    }
}

impl Borrow<str> for NameKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq for NameKey {
    fn eq(&self, other: &NameKey) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for NameKey {}

impl Hash for NameKey {
    // Hashes as the `str` it borrows as, which `HashMap::get(&str)` relies on.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl std::fmt::Debug for NameKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_str().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn short_and_long_names_find_themselves() {
        let names = [
            "",
            "db",
            "a-name-of-exactly-23-by",
            "a name of twenty-four b!",
            "ünïcødé",
        ];
        let map: HashMap<NameKey, usize> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (NameKey::new(n), i))
            .collect();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(map.get(*name), Some(&i), "{name}");
        }
        assert!(matches!(NameKey::new(names[2]), NameKey::Inline(..)));
        assert!(matches!(NameKey::new(names[3]), NameKey::Heap(..)));
        assert_eq!(map.get("d"), None);
    }
}
