//! Extensions and the dispatch table built from them.

use std::fmt;
use std::sync::Arc;

use crate::{OpDecl, OpState};

/// A dense entry id: the index of the entry in its [`DispatchTable`].
pub type OpId = u32;

type StateInit = Arc<dyn Fn(&mut OpState) + Send + Sync>;

/// A named set of ops and the state they need. Usually declared with
/// [`extension!`](crate::extension); a host picks the extensions it wants.
///
/// ```
/// use opkit::{Extension, op};
///
/// /// Says hello.
/// #[op(sync)]
/// fn op_hello(greeting: &opkit::OpState) -> String {
///     greeting.borrow::<String>().cloned().unwrap_or_default()
/// }
///
/// let ext = Extension::new("hello", op_hello::DECLS.iter().copied())
///     .with_state(|state| {
///         state.put(String::from("hi"));
///     });
/// assert_eq!(ext.name(), "hello");
/// assert_eq!(ext.decls()[0].entry, "op_hello_sync");
/// ```
#[derive(Clone)]
pub struct Extension {
    name: &'static str,
    decls: Vec<OpDecl>,
    state_init: Vec<StateInit>,
}

impl Extension {
    /// An extension of the given entries, with no state setup.
    pub fn new(name: &'static str, decls: impl IntoIterator<Item = OpDecl>) -> Self {
        Self {
            name,
            decls: decls.into_iter().collect(),
            state_init: Vec::new(),
        }
    }

    /// Adds a state setup, run on the `OpState` of every runtime built with this
    /// extension.
    pub fn with_state(mut self, init: impl Fn(&mut OpState) + Send + Sync + 'static) -> Self {
        self.state_init.push(Arc::new(init));
        self
    }

    /// The extension's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its entries.
    pub fn decls(&self) -> &[OpDecl] {
        &self.decls
    }
}

impl fmt::Debug for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extension")
            .field("name", &self.name)
            .field("decls", &self.decls)
            .finish_non_exhaustive()
    }
}

/// One entry of the table.
#[derive(Debug, Clone, Copy)]
pub struct TableEntry {
    /// The entry's dense id: its index in the table.
    pub id: OpId,
    /// The entry.
    pub decl: OpDecl,
    /// The extension that registered it.
    pub extension: &'static str,
}

/// Why a set of extensions cannot make one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationError {
    /// Two extensions (or one, twice) register the same entry name.
    DuplicateEntry {
        /// The entry name.
        entry: &'static str,
        /// The extension that registered it first.
        first: &'static str,
        /// The extension that registered it again.
        second: &'static str,
    },
    /// Two extensions have the same name.
    DuplicateExtension(&'static str),
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateEntry {
                entry,
                first,
                second,
            } if first == second => {
                write!(f, "extension `{first}` registers `{entry}` twice")
            }
            Self::DuplicateEntry {
                entry,
                first,
                second,
            } => write!(
                f,
                "`{entry}` is registered by both extension `{first}` and extension `{second}`"
            ),
            Self::DuplicateExtension(name) => write!(f, "extension `{name}` is added twice"),
        }
    }
}

impl std::error::Error for RegistrationError {}

/// Every entry of a set of extensions, by dense id and by name.
///
/// A table is immutable once built and can be shared (`Arc`) by many runtimes, e.g.
/// one per server session.
pub struct DispatchTable {
    entries: Vec<TableEntry>,
    by_name: NameIndex,
    state_init: Vec<StateInit>,
}

impl DispatchTable {
    /// Builds the table, with opkit's built-in ops (`op_close`, `op_resources`) first.
    pub fn new(extensions: impl IntoIterator<Item = Extension>) -> Result<Self, RegistrationError> {
        let mut table = Self {
            entries: Vec::new(),
            by_name: NameIndex::default(),
            state_init: Vec::new(),
        };
        let mut names = Vec::new();
        for ext in std::iter::once(crate::builtin::extension()).chain(extensions) {
            if names.contains(&ext.name) {
                return Err(RegistrationError::DuplicateExtension(ext.name));
            }
            names.push(ext.name);
            for decl in ext.decls {
                table.insert(ext.name, decl)?;
            }
            table.state_init.extend(ext.state_init);
        }
        Ok(table)
    }

    fn insert(&mut self, extension: &'static str, decl: OpDecl) -> Result<(), RegistrationError> {
        let id = OpId::try_from(self.entries.len()).unwrap_or(OpId::MAX);
        if let Some(existing) = self.id(decl.entry) {
            return Err(RegistrationError::DuplicateEntry {
                entry: decl.entry,
                first: self.entries[existing as usize].extension,
                second: extension,
            });
        }
        self.entries.push(TableEntry {
            id,
            decl,
            extension,
        });
        self.by_name.rebuild(&self.entries);
        Ok(())
    }

    /// The id of an entry name, e.g. `"op_stat_async"`.
    #[inline]
    pub fn id(&self, entry: &str) -> Option<OpId> {
        self.by_name.find(&self.entries, entry)
    }

    /// The entry with this id.
    #[inline]
    pub fn get(&self, id: OpId) -> Option<&TableEntry> {
        self.entries.get(id as usize)
    }

    /// Every entry, in id order.
    pub fn entries(&self) -> &[TableEntry] {
        &self.entries
    }

    /// How many entries the table has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries (it always has the built-in ones).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Runs every extension's state setup on a new runtime's state.
    pub(crate) fn init_state(&self, state: &mut OpState) {
        for init in &self.state_init {
            init(state);
        }
    }
}

impl fmt::Debug for DispatchTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|e| e.decl.entry))
            .finish()
    }
}

/// Entry names to ids: open addressing on a key made of the name's length and its
/// first and last eight bytes. For names of up to 16 bytes the key *is* the name, so a
/// lookup is a few loads and compares with no string comparison; longer names are
/// compared in full. Kept at most half full.
#[derive(Default)]
struct NameIndex {
    slots: Vec<Slot>,
}

#[derive(Clone, Copy, Default)]
struct Slot {
    /// `id + 1` of the entry; 0 is empty.
    id: u32,
    key: NameKey,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct NameKey {
    len: usize,
    head: u64,
    tail: u64,
}

impl NameKey {
    #[inline]
    fn of(name: &str) -> Self {
        let bytes = name.as_bytes();
        let len = bytes.len();
        // Two fixed-size loads for the usual name of 8 bytes or more.
        if let (Some(head), Some(tail)) = (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
            return Self {
                len,
                head: u64::from_le_bytes(*head),
                tail: u64::from_le_bytes(*tail),
            };
        }
        let mut buf = [0_u8; 8];
        buf[..len].copy_from_slice(bytes);
        let word = u64::from_le_bytes(buf);
        Self {
            len,
            head: word,
            tail: word,
        }
    }

    #[inline]
    fn hash(&self) -> usize {
        let mixed = (self.head ^ self.tail.rotate_left(29) ^ self.len as u64)
            .wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> 32) as usize
    }
}

impl NameIndex {
    fn rebuild(&mut self, entries: &[TableEntry]) {
        let size = (entries.len() * 2).next_power_of_two().max(16);
        if self.slots.len() == size {
            // Still at most half full: add the newest entry only.
            if let Some(last) = entries.last() {
                self.insert(last);
            }
            return;
        }
        self.slots = vec![Slot::default(); size];
        for entry in entries {
            self.insert(entry);
        }
    }

    fn insert(&mut self, entry: &TableEntry) {
        let key = NameKey::of(entry.decl.entry);
        let mask = self.slots.len() - 1;
        let mut at = key.hash() & mask;
        while self.slots[at].id != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = Slot {
            id: entry.id + 1,
            key,
        };
    }

    #[inline]
    fn find(&self, entries: &[TableEntry], name: &str) -> Option<OpId> {
        let mask = self.slots.len().checked_sub(1)?;
        let key = NameKey::of(name);
        let mut at = key.hash() & mask;
        loop {
            let slot = self.slots.get(at)?;
            let id = slot.id.checked_sub(1)?;
            if slot.key == key && (key.len <= 16 || entries.get(id as usize)?.decl.entry == name) {
                return Some(id);
            }
            at = (at + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_every_length_are_found_and_near_misses_are_not() {
        let names: Vec<&'static str> = [
            "a",
            "op_a",
            "op_add_sync",
            "op_add_async",
            "op_0123456789abcd",
            "op_0123456789abce",
            "op_read_text_file_async",
            "op_read_text_file_sync",
            "op_x",
        ]
        .to_vec();
        let ext = Extension::new("t", Vec::new());
        let mut table = DispatchTable::new([ext]).unwrap();
        let base = table.len();
        for name in &names {
            let decl = crate::op_close::DECLS[0];
            table
                .insert(
                    "t2",
                    OpDecl {
                        entry: name,
                        ..decl
                    },
                )
                .unwrap();
        }
        for (offset, name) in names.iter().enumerate() {
            assert_eq!(table.id(name), Some((base + offset) as OpId), "{name}");
        }
        for miss in [
            "",
            "b",
            "op_add_syn",
            "op_add_synd",
            "op_0123456789abcf",
            "op_read_text_file_asynd",
        ] {
            assert_eq!(table.id(miss), None, "{miss}");
        }
    }
}
