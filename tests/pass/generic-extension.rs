// `extension!` with `parameters = [..]`: a generic function over the ops' parameters,
// which composes with `options` and `state`, and one without options. A parameter
// written `op_x<P>` (no turbofish) is accepted too.
#![deny(warnings)]

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use opkit::{OpError, Runtime, extension, op};

pub trait Store: Send + Sync + 'static {
    fn put(&self, key: String, value: String) -> Result<usize, OpError>;
}

/// A store that keeps everything.
#[derive(Default)]
pub struct Memory(Mutex<Vec<(String, String)>>);

impl Store for Memory {
    fn put(&self, key: String, value: String) -> Result<usize, OpError> {
        let mut all = self.0.lock().map_err(|_| OpError::generic("poisoned"))?;
        all.push((key, value));
        Ok(all.len())
    }
}

/// A store that refuses everything.
pub struct ReadOnly;

impl Store for ReadOnly {
    fn put(&self, key: String, _: String) -> Result<usize, OpError> {
        Err(OpError::permission_denied(format!("{key}: read-only")))
    }
}

/// Where the ops find their store.
pub struct Shelf<S>(Arc<S>);

impl<S> Clone for Shelf<S> {
    fn clone(&self) -> Self {
        Shelf(Arc::clone(&self.0))
    }
}

/// Puts a value under a key, with at most `MAX` bytes.
#[op]
pub fn op_put<S: Store, const MAX: usize>(
    #[state] shelf: &Shelf<S>,
    key: String,
    value: String,
) -> Result<usize, OpError> {
    if value.len() > MAX {
        return Err(OpError::type_error(format!("more than {MAX} bytes")));
    }
    shelf.0.put(key, value)
}

/// The name of the store's type.
#[op(sync)]
pub fn op_store_name<S: Store>() -> String {
    std::any::type_name::<S>().rsplit("::").next().unwrap_or_default().to_owned()
}

extension!(
    pub shelf,
    parameters = [S: Store, const MAX: usize],
    ops = [op_put::<S, MAX>, op_store_name<S>],
    options = { store: Arc<S>, label: &'static str },
    state = |state, options| {
        state.put(Shelf(Arc::clone(&options.store)));
        state.put(options.label);
    }
);

// Parameters without options, and a state closure that names them.
extension!(
    shelf_of,
    parameters = [S: Store + Default],
    ops = [op_put::<S, 4>],
    state = |state| {
        state.put(Shelf(Arc::new(S::default())));
    }
);

// Parameters and options without a state setup.
extension!(bare, parameters = [S: Store], ops = [op_store_name::<S>], options = { _marker: PhantomData<S> });

fn main() {
    let memory = Arc::new(Memory::default());
    let writable = Runtime::new([shelf::<Memory, 3>(Arc::clone(&memory), "mem")]).unwrap();
    let read_only = Runtime::new([shelf::<ReadOnly, 3>(Arc::new(ReadOnly), "ro")]).unwrap();
    let args = br#"["k", "v"]"#;
    assert_eq!(writable.call_sync("op_put_sync", args, &mut []).unwrap(), b"1");
    let err = read_only.call_sync("op_put_sync", args, &mut []).unwrap_err();
    assert_eq!(err.to_string(), "PermissionDenied: op_put: k: read-only");
    let err = writable.call_sync("op_put_sync", br#"["k", "long"]"#, &mut []).unwrap_err();
    assert_eq!(err.to_string(), "TypeError: op_put: more than 3 bytes");
    assert_eq!(writable.call_sync("op_store_name_sync", b"[]", &mut []).unwrap(), br#""Memory""#);
    assert_eq!(read_only.call_sync("op_store_name_sync", b"[]", &mut []).unwrap(), br#""ReadOnly""#);
    assert_eq!(writable.state().borrow().borrow::<&str>().copied(), Some("mem"));
    assert_eq!(memory.0.lock().unwrap().len(), 1);

    let fresh = Runtime::new([shelf_of::<Memory>()]).unwrap();
    assert_eq!(fresh.call_sync("op_put_sync", br#"["a", "four"]"#, &mut []).unwrap(), b"1");
    assert_eq!(bare::<ReadOnly>(PhantomData).decls().len(), 1);
}
