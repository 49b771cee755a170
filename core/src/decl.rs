//! `OpDecl`: what `#[op]` emits for each entry, and the metadata the docs are made of.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use serde_json::Value;

use crate::{OpError, OpState};

/// How an entry runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpMode {
    /// The body is called inline on the caller's thread.
    Sync,
    /// The body runs in `tokio::task::spawn_blocking`; the entry is a future.
    Blocking,
    /// The op is an `async fn`; its future is polled on the host thread.
    Async,
}

impl OpMode {
    /// `"sync"`, `"blocking"` or `"async"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sync => "sync",
            Self::Blocking => "blocking",
            Self::Async => "async",
        }
    }

    /// Whether the entry is called with `call_async` rather than `call_sync`.
    pub const fn is_async(self) -> bool {
        !matches!(self, Self::Sync)
    }
}

/// How a parameter gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKindMeta {
    /// Decoded from the call's JSON arguments.
    Serde,
    /// A rid in the JSON arguments, looked up in the resource table.
    Resource,
    /// A byte buffer passed beside the arguments.
    Buffer,
    /// A value borrowed (sync) or cloned (async) from `OpState`.
    State,
    /// `OpState` itself, or `Rc<RefCell<OpState>>`.
    OpState,
}

impl ParamKindMeta {
    /// The kind's name in the docs, e.g. `"serde"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Serde => "serde",
            Self::Resource => "resource",
            Self::Buffer => "buffer",
            Self::State => "state",
            Self::OpState => "op_state",
        }
    }

    /// Whether the guest supplies this parameter in the JSON arguments.
    pub const fn is_argument(self) -> bool {
        matches!(self, Self::Serde | Self::Resource)
    }
}

/// One parameter of an op, as written.
///
/// Two are equal when they are written alike: the schema functions are not compared,
/// since a function's address says nothing (two instances of a generic op have two).
#[derive(Debug, Clone, Copy)]
pub struct ParamMeta {
    /// The parameter's name as written.
    pub name: &'static str,
    /// The Rust type as written, e.g. `&str` or `Option<u32>`.
    pub ty: &'static str,
    /// Where the value comes from.
    pub kind: ParamKindMeta,
    /// A trailing `Option` argument that the guest may leave out.
    pub optional: bool,
    /// The JSON Schema of what the guest passes (see [`crate::schema`]): of the
    /// decoded type for an argument, a rid for a resource, base64 bytes for a buffer;
    /// `None` for the parameters the guest does not pass (`#[state]`, `OpState`).
    /// Called, it builds the schema: nothing is made before that.
    pub schema: Option<fn() -> Value>,
}

/// What an op is, shared by its entries.
///
/// Two are equal when they are written alike, as for [`ParamMeta`].
#[derive(Debug, Clone, Copy)]
pub struct OpMeta {
    /// The function's name, e.g. `op_stat`.
    pub name: &'static str,
    /// The doc comment, trimmed.
    pub doc: &'static str,
    /// Every parameter, in order.
    pub params: &'static [ParamMeta],
    /// The return type as written; `()` when there is none.
    pub ret: &'static str,
    /// The permission the op checks, as `#[op(permission = "..")]` declares it.
    pub permission: Option<&'static str>,
    /// The op returns a [`ByteBuf`](crate::ByteBuf): its result is raw bytes, not JSON.
    pub returns_bytes: bool,
    /// The JSON Schema of the result (see [`crate::schema`]): of the success value of
    /// a `Result`, a rid for a `NewResource`, base64 bytes for a `ByteBuf`, `null` for
    /// `()`. Called, it builds the schema.
    pub ret_schema: fn() -> Value,
}

impl PartialEq for ParamMeta {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            name,
            ty,
            kind,
            optional,
            schema,
        } = self;
        (name, ty, kind, optional, schema.is_some())
            == (
                &other.name,
                &other.ty,
                &other.kind,
                &other.optional,
                other.schema.is_some(),
            )
    }
}

impl Eq for ParamMeta {}

impl PartialEq for OpMeta {
    fn eq(&self, other: &Self) -> bool {
        let Self {
            name,
            doc,
            params,
            ret,
            permission,
            returns_bytes,
            ret_schema: _,
        } = self;
        (name, doc, params, ret, permission, returns_bytes)
            == (
                &other.name,
                &other.doc,
                &other.params,
                &other.ret,
                &other.permission,
                &other.returns_bytes,
            )
    }
}

impl Eq for OpMeta {}

impl OpMeta {
    /// The parameters the guest passes as JSON arguments, in order.
    pub fn arguments(&self) -> impl Iterator<Item = &'static ParamMeta> + use<> {
        self.params.iter().filter(|p| p.kind.is_argument())
    }
}

/// One callable entry of an op: `op_stat_sync` or `op_stat_async`.
#[derive(Clone, Copy)]
pub struct OpDecl {
    /// The entry's name in the dispatch table.
    pub entry: &'static str,
    /// How the entry runs.
    pub mode: OpMode,
    /// What the op is, shared by its entries.
    pub meta: &'static OpMeta,
    /// The generated function.
    pub handler: Handler,
}

impl OpDecl {
    /// The op's name, e.g. `op_stat` for the entry `op_stat_async`.
    pub const fn name(&self) -> &'static str {
        self.meta.name
    }
}

impl std::fmt::Debug for OpDecl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpDecl")
            .field("entry", &self.entry)
            .field("mode", &self.mode)
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

/// The generated function behind an entry.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Called inline with [`SyncCall`].
    Sync(SyncFn),
    /// Returns the future of the call.
    Async(AsyncFn),
}

/// A sync entry: decodes `call.args`, runs the body inline, writes JSON to `call.out`.
pub type SyncFn = fn(&mut SyncCall<'_>) -> Result<(), OpError>;

/// An async entry: decodes the arguments now (so argument errors are immediate) and
/// returns the future that runs the body.
pub type AsyncFn = fn(AsyncCall<'_>) -> Result<OpFuture, OpError>;

/// The future of an async entry. It is polled on the host thread.
pub type OpFuture = Pin<Box<dyn Future<Output = OpOutput>>>;

/// What a sync entry gets.
pub struct SyncCall<'a> {
    /// The runtime's state.
    pub state: &'a Rc<RefCell<OpState>>,
    /// The JSON arguments, an array or an object.
    pub args: &'a [u8],
    /// The byte buffers beside the arguments.
    pub bufs: &'a mut [Vec<u8>],
    /// Where the JSON result goes.
    pub out: &'a mut Vec<u8>,
}

/// What an async entry gets.
pub struct AsyncCall<'a> {
    /// The runtime's state.
    pub state: &'a Rc<RefCell<OpState>>,
    /// The JSON arguments, an array or an object.
    pub args: &'a [u8],
    /// Taken by the entry once the arguments have decoded, left alone otherwise.
    pub bufs: &'a mut Vec<Vec<u8>>,
}

/// What an async entry yields: the JSON result, and the byte buffers handed back to the
/// caller (a `#[buffer] &mut [u8]` parameter writes into one).
#[derive(Debug)]
pub struct OpOutput {
    /// The JSON result, or the error.
    pub result: Result<Vec<u8>, OpError>,
    /// The call's byte buffers.
    pub bufs: Vec<Vec<u8>>,
}
