//! The dispatch table's name index.
//!
//! Property: a table built from every entry opkit ships (the built-ins, `opkit-fs`,
//! `opkit-net`) and arbitrary names besides finds exactly the registered names: each
//! at its own id, and nothing else. Lookups are the registered names themselves, near
//! misses of them (a byte changed, dropped or added at either end: what the index's
//! key of length, first and last eight bytes must tell apart) and arbitrary bytes;
//! the reference is a `HashMap`. Building fails exactly when a name is registered
//! twice. No lookup panics.

#![no_main]

use std::collections::HashMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use opkit::{DispatchTable, Extension, OpDecl, RegistrationError};

#[derive(Arbitrary, Debug)]
struct Input {
    /// Names registered besides the shipped ones.
    names: Vec<String>,
    /// Whether the shipped entries are in the table too.
    shipped: bool,
    /// Looked up as they are (as UTF-8, lossily where they are not).
    lookups: Vec<Vec<u8>>,
    /// Near misses of registered names: (which name, which edit, a byte).
    edits: Vec<(u16, u8, u8)>,
}

fuzz_target!(|input: Input| {
    let names = Leaked::new(&input.names);
    let template = opkit::op_close::DECLS[0];
    let mut extensions = Vec::new();
    if input.shipped {
        extensions.push(opkit_fs::extension(opkit_fs::FsPermissions::deny_all()));
        extensions.push(opkit_net::extension(opkit_net::NetPermissions::new()));
    }
    let decls = names.iter().map(|entry| OpDecl { entry, ..template });
    extensions.push(Extension::new("fuzz", decls));

    // The reference: every entry in registration order, the built-ins first.
    let mut order: Vec<&str> = opkit::op_close::DECLS
        .iter()
        .chain(opkit::op_resources::DECLS)
        .map(|decl| decl.entry)
        .collect();
    for ext in &extensions {
        order.extend(ext.decls().iter().map(|decl| decl.entry));
    }
    let mut reference = HashMap::new();
    let mut duplicate = None;
    for (id, name) in order.iter().enumerate() {
        if reference.contains_key(name) {
            duplicate.get_or_insert(*name);
        } else {
            reference.insert(*name, id as u32);
        }
    }

    let table = match DispatchTable::new(extensions) {
        Ok(table) => {
            assert_eq!(duplicate, None, "a table with a name registered twice");
            table
        }
        Err(RegistrationError::DuplicateEntry { entry, .. }) => {
            assert_eq!(duplicate, Some(entry), "the first name registered twice");
            drop(names);
            return;
        }
        Err(err) => panic!("{err}"),
    };
    assert_eq!(table.len(), reference.len());
    look_up(&table, &reference, &order, &input);
    drop(table);
    drop(names);
});

fn look_up(table: &DispatchTable, reference: &HashMap<&str, u32>, order: &[&str], input: &Input) {
    let find = |name: &str| {
        let found = table.id(name);
        assert_eq!(found, reference.get(name).copied(), "lookup of {name:?}");
        if let Some(id) = found {
            assert_eq!(table.get(id).map(|e| e.decl.entry), Some(name));
        }
    };
    for name in order {
        find(name);
    }
    for bytes in &input.lookups {
        match std::str::from_utf8(bytes) {
            Ok(name) => find(name),
            Err(_) => find(&String::from_utf8_lossy(bytes)),
        }
    }
    for &(which, edit, byte) in &input.edits {
        let name = order[usize::from(which) % order.len()].as_bytes();
        let mut near = name.to_vec();
        match edit % 6 {
            0 if !near.is_empty() => near[usize::from(byte) % name.len()] ^= 1 << (edit % 7),
            1 => near.push(byte),
            2 => near.insert(0, byte),
            3 => {
                near.pop();
            }
            4 if !near.is_empty() => {
                near.remove(0);
            }
            _ => near.insert(usize::from(byte) % (name.len() + 1), byte),
        }
        find(&String::from_utf8_lossy(&near));
    }
}

/// Names with the `'static` lifetime an `OpDecl` needs, given back when dropped:
/// leaking them would grow the process by every name the fuzzer ever tries.
struct Leaked(Vec<*mut str>);

impl Leaked {
    fn new(names: &[String]) -> Self {
        Self(
            names
                .iter()
                .map(|name| Box::into_raw(name.clone().into_boxed_str()))
                .collect(),
        )
    }

    fn iter(&self) -> impl Iterator<Item = &'static str> + '_ {
        // SAFETY: each pointer is a live `Box<str>` until `drop`, which runs only
        // after the table and the extensions holding these names are gone.
        self.0.iter().map(|&name| unsafe { &*name })
    }
}

impl Drop for Leaked {
    fn drop(&mut self) {
        for &name in &self.0 {
            // SAFETY: made by `Box::into_raw` in `new`, dropped once, here.
            drop(unsafe { Box::from_raw(name) });
        }
    }
}
