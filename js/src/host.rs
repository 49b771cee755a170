//! What the JS functions share with the event loop.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use opkit::{OpMeta, Runtime};
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
        }
    }

    pub(crate) fn next_promise_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        id
    }
}
