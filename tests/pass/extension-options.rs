// `extension!` with options: `fn notes(store: Store, limit: usize) -> Extension`, and a
// `state` setup that gets them. Two runtimes made from one host store share it.
#![deny(warnings)]

use std::sync::{Arc, Mutex};

use opkit::{OpError, op};

#[derive(Clone, Default)]
pub struct Store(Arc<Mutex<Vec<String>>>);

#[derive(Clone)]
pub struct Limit(usize);

#[op]
pub fn op_note_add(#[state] store: &Store, #[state] limit: &Limit, text: String) -> Result<usize, OpError> {
    let mut notes = store.0.lock().map_err(|_| OpError::generic("poisoned"))?;
    if notes.len() >= limit.0 {
        return Err(OpError::new(opkit::ErrorClass::ResourceExhausted, "the store is full"));
    }
    notes.push(text);
    Ok(notes.len())
}

opkit::extension!(
    pub notes,
    ops = [op_note_add],
    options = { store: Store, limit: usize },
    state = |state, options| {
        state.put(options.store.clone());
        state.put(Limit(options.limit));
    }
);

// Options without a state setup are allowed too (the function just takes them).
opkit::extension!(quiet, ops = [], options = { _unused: u8 });

fn main() {
    let store = Store::default();
    let first = opkit::Runtime::new([notes(store.clone(), 2)]).unwrap();
    let second = opkit::Runtime::new([notes(store.clone(), 2), quiet(0)]).unwrap();
    assert_eq!(first.call_sync("op_note_add_sync", br#"["a"]"#, &mut []).unwrap(), b"1");
    assert_eq!(second.call_sync("op_note_add_sync", br#"["b"]"#, &mut []).unwrap(), b"2");
    let full = second.call_sync("op_note_add_sync", br#"["c"]"#, &mut []).unwrap_err();
    assert_eq!(full.class(), opkit::ErrorClass::ResourceExhausted);
    assert_eq!(store.0.lock().unwrap().len(), 2);
}
