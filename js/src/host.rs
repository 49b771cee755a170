//! What the JS functions share with the event loop.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use opkit::{ErrorClass, OpError, OpMeta, Runtime};
use rquickjs::{Function, Persistent, TypedArray, Value};

/// A `console` line's stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsoleLevel {
    /// `console.log`, `console.info`, `console.debug`.
    Log,
    /// `console.error`, `console.warn`.
    Error,
}

/// Where `console` lines go.
pub type ConsoleSink = dyn Fn(ConsoleLevel, &str);

/// What a host adds to a `PermissionDenied` error of an op (say, the flag that would
/// allow it); `None` adds nothing.
pub type DeniedHint = dyn Fn(&OpMeta) -> Option<String>;

/// An async call in flight: how to settle its promise.
pub(crate) struct InFlight {
    pub(crate) meta: &'static OpMeta,
    pub(crate) resolve: Persistent<Function<'static>>,
    pub(crate) reject: Persistent<Function<'static>>,
    pub(crate) out_arrays: Vec<(usize, Persistent<TypedArray<'static, u8>>)>,
}

pub(crate) struct Host {
    pub(crate) ops: RefCell<Runtime>,
    pub(crate) in_flight: RefCell<HashMap<u64, InFlight>>,
    next_id: Cell<u64>,
    /// Rejected promises with no handler yet, and their reasons as text.
    pub(crate) unhandled: RefCell<Vec<(Persistent<Value<'static>>, String)>>,
    pub(crate) console: RefCell<Box<ConsoleSink>>,
    pub(crate) denied_hint: RefCell<Option<Box<DeniedHint>>>,
    /// A sync call's argument JSON and result, reused from call to call.
    pub(crate) args_scratch: Cell<Vec<u8>>,
    pub(crate) out_scratch: Cell<Vec<u8>>,
    /// Whether the engine's heap is capped ([`crate::JsRuntime::set_memory_limit`]).
    pub(crate) memory_limited: Cell<bool>,
}

impl Host {
    pub(crate) fn new(ops: Runtime) -> Self {
        Self {
            ops: RefCell::new(ops),
            in_flight: RefCell::new(HashMap::new()),
            next_id: Cell::new(0),
            unhandled: RefCell::new(Vec::new()),
            console: RefCell::new(Box::new(|level, line| match level {
                ConsoleLevel::Log => println!("{line}"),
                ConsoleLevel::Error => eprintln!("{line}"),
            })),
            denied_hint: RefCell::new(None),
            args_scratch: Cell::new(Vec::new()),
            out_scratch: Cell::new(Vec::new()),
            memory_limited: Cell::new(false),
        }
    }

    /// `err` with the host's hint when it is a refusal.
    pub(crate) fn explain(&self, meta: &OpMeta, err: OpError) -> OpError {
        if err.class() != ErrorClass::PermissionDenied {
            return err;
        }
        let Some(hint) = self
            .denied_hint
            .borrow()
            .as_ref()
            .and_then(|hint| hint(meta))
        else {
            return err;
        };
        let mut explained = OpError::new(err.class(), format!("{}; {hint}", err.message()));
        if let Some(code) = err.code() {
            explained = explained.with_code(code);
        }
        match err.op() {
            Some(op) => explained.with_op(op),
            None => explained,
        }
    }

    /// Puts a scratch buffer back, unless a large call grew it.
    pub(crate) fn keep_scratch(&self, cell: &Cell<Vec<u8>>, buf: Vec<u8>) {
        if buf.capacity() <= 64 * 1024 {
            cell.set(buf);
        }
    }

    pub(crate) fn next_promise_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }
}
