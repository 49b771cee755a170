//! [`Rid`]: a resource inside an op's result, added to the caller's table when the
//! result is written.
//!
//! An op's result is serialized on the host thread with the runtime's `OpState` lent
//! to this module (a scoped thread-local), which is how a `Rid`'s `Serialize`, deep
//! inside a user's struct, reaches the resource table. When a later part of the result
//! fails to serialize, the resources already added are closed again: a failed call
//! leaves nothing behind.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::{Serialize, Serializer};

use crate::decl::OpMeta;
use crate::{ErrorClass, OpError, OpState, Resource, ResourceId};

scoped_tls::scoped_thread_local!(static RESULT_STATE: RefCell<OpState>);

thread_local! {
    /// What the `Rid`s of the result being written did.
    static WRITTEN: RefCell<Written> = const {
        RefCell::new(Written { added: Vec::new(), failure: None })
    };
}

/// The rids added while the current result was written, to close if it fails, and
/// why a `Rid` could not be added, to answer with its own class (a full table is
/// `ResourceExhausted`) rather than as a serialization error.
struct Written {
    added: Vec<ResourceId>,
    failure: Option<OpError>,
}

/// A resource inside an op's result. It serializes as its rid, after the resource
/// has been added to the caller's resource table, so an op can return it in a struct
/// beside other values:
///
/// ```
/// use opkit::{Extension, Resource, Rid, Runtime, op};
/// use serde::Serialize;
///
/// struct Session(String);
/// impl Resource for Session {}
///
/// #[derive(Serialize)]
/// struct Opened {
///     rid: Rid<Session>,
///     user: String,
/// }
///
/// /// Opens a session and says for whom.
/// #[op]
/// fn op_session_open(user: String) -> Opened {
///     Opened { rid: Rid::new(Session(user.clone())), user }
/// }
///
/// let rt = Runtime::new([Extension::new("s", op_session_open::DECLS.iter().copied())]).unwrap();
/// let out = rt.call_sync("op_session_open_sync", br#"["ada"]"#, &mut []).unwrap();
/// assert_eq!(out, br#"{"rid":0,"user":"ada"}"#);
/// assert_eq!(rt.state().borrow().resource_table.len(), 1);
/// ```
///
/// A `Rid` that is dropped unserialized (the op failed after making it) drops its
/// resource. Serializing one anywhere but in an op's result is an error.
pub struct Rid<T: Resource> {
    resource: Cell<Option<T>>,
    rid: Cell<Option<ResourceId>>,
}

impl<T: Resource> Rid<T> {
    /// A resource to add to the caller's table when the result is written.
    pub fn new(resource: T) -> Self {
        Self {
            resource: Cell::new(Some(resource)),
            rid: Cell::new(None),
        }
    }

    /// The rid, once the result holding this has been written.
    pub fn get(&self) -> Option<ResourceId> {
        self.rid.get()
    }
}

impl<T: Resource> fmt::Debug for Rid<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rid.get() {
            Some(rid) => write!(f, "Rid({rid})"),
            None => f.write_str("Rid(<not added>)"),
        }
    }
}

impl<T: Resource> Serialize for Rid<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(rid) = self.rid.get() {
            return serializer.serialize_u32(rid);
        }
        match self.add() {
            Ok(rid) => serializer.serialize_u32(rid),
            Err(err) => {
                let message = err.to_string();
                WRITTEN.with_borrow_mut(|written| {
                    written.failure.get_or_insert(err);
                });
                Err(serde::ser::Error::custom(message))
            }
        }
    }
}

/// A `Rid` is its rid on the wire: a `u32`, described as the rid of a `T`.
impl<T: Resource> schemars::JsonSchema for Rid<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rid".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        format!("opkit::Rid<{}>", std::any::type_name::<T>()).into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        match crate::schema::rid::<T>() {
            serde_json::Value::Object(object) => object.into(),
            _ => schemars::Schema::default(),
        }
    }
}

impl<T: Resource> Rid<T> {
    fn add(&self) -> Result<ResourceId, OpError> {
        if !RESULT_STATE.is_set() {
            return Err(OpError::new(
                ErrorClass::InvalidData,
                "a Rid is serialized only as part of an op's result",
            ));
        }
        let resource = self.resource.take().ok_or_else(|| {
            OpError::new(
                ErrorClass::InvalidData,
                "a Rid's resource was already taken",
            )
        })?;
        let rid = RESULT_STATE.with(|state| {
            let mut state = state.try_borrow_mut().map_err(|_| {
                OpError::new(
                    ErrorClass::Busy,
                    "the runtime's OpState is borrowed elsewhere while the result is written",
                )
            })?;
            state.resource_table.add(resource)
        })?;
        WRITTEN.with_borrow_mut(|written| written.added.push(rid));
        self.rid.set(Some(rid));
        Ok(rid)
    }
}

/// Serializes an op's result into `out`, lending `state` to the [`Rid`]s inside it.
/// On failure the resources they added are closed again.
#[inline]
pub(crate) fn write_result<T: Serialize + ?Sized>(
    meta: &'static OpMeta,
    state: &RefCell<OpState>,
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), OpError> {
    let result = RESULT_STATE.set(state, || crate::__private::write_json(meta, out, value));
    let (added, failure) = WRITTEN.with_borrow_mut(|written| {
        if written.added.is_empty() && written.failure.is_none() {
            (Vec::new(), None)
        } else {
            (std::mem::take(&mut written.added), written.failure.take())
        }
    });
    match result {
        Ok(()) => Ok(()),
        Err(err) => {
            close_added(state, &added);
            Err(failure.map_or(err, |failure| failure.with_op(meta.name)))
        }
    }
}

#[cold]
fn close_added(state: &RefCell<OpState>, added: &[ResourceId]) {
    if added.is_empty() {
        return;
    }
    if let Ok(mut state) = state.try_borrow_mut() {
        for rid in added {
            // A rid closed already needs nothing more.
            let _ = state.resource_table.close(*rid);
        }
    }
}
