//! `Runtime`: one guest's state and the loop that drives its async ops.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::stream::{FuturesUnordered, Stream};

use crate::__private::panic_error;
use crate::decl::{AsyncCall, Handler, OpOutput, SyncCall};
use crate::dispatch::{DispatchTable, OpId, RegistrationError, TableEntry};
use crate::{Executor, Extension, OpError, OpState};

/// Names an entry: by dense id (an index) or by name (one hash lookup).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpRef<'a> {
    /// A dense id, from [`Runtime::op_id`].
    Id(OpId),
    /// An entry name, e.g. `"op_stat_async"`.
    Name(&'a str),
}

impl From<OpId> for OpRef<'_> {
    fn from(id: OpId) -> Self {
        Self::Id(id)
    }
}

impl<'a> From<&'a str> for OpRef<'a> {
    fn from(name: &'a str) -> Self {
        Self::Name(name)
    }
}

/// A finished async call, as the event loop yields it.
#[derive(Debug)]
pub struct Completion {
    /// The id the host gave the call in [`Runtime::submit`].
    pub promise_id: u64,
    /// The JSON result, or the error.
    pub result: Result<Vec<u8>, OpError>,
    /// The byte buffers of the call, handed back.
    pub bufs: Vec<Vec<u8>>,
}

/// A call in flight: its future, tagged with the host's promise id. No second box.
struct Pending {
    promise_id: u64,
    future: crate::OpFuture,
}

impl Future for Pending {
    type Output = Completion;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Completion> {
        let OpOutput { result, bufs } = std::task::ready!(self.future.as_mut().poll(cx));
        Poll::Ready(Completion {
            promise_id: self.promise_id,
            result,
            bufs,
        })
    }
}

/// One guest's view of the ops: its own `OpState` and resources, a shared dispatch
/// table, and the async calls in flight.
///
/// A runtime is driven on one thread (a current-thread tokio runtime or a `LocalSet`):
/// sync entries run inline, async entries return futures that this thread polls.
///
/// ```
/// use opkit::{Extension, Runtime, op};
///
/// /// Adds two numbers.
/// #[op]
/// fn op_add(a: i64, b: i64) -> i64 {
///     a + b
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let rt = Runtime::new([Extension::new("math", op_add::DECLS.iter().copied())]).unwrap();
/// assert_eq!(rt.call_sync("op_add_sync", b"[1, 2]", &mut []).unwrap(), b"3");
/// let named = rt.call_async("op_add_async", br#"{"a": 1, "b": 2}"#, Vec::new()).await;
/// assert_eq!(named.result.unwrap(), b"3");
/// # }
/// ```
pub struct Runtime {
    table: Arc<DispatchTable>,
    state: Rc<RefCell<OpState>>,
    pending: FuturesUnordered<Pending>,
    policy: Option<Box<Policy>>,
}

/// A host's rule for which calls may run: it sees the entry's metadata (its name and
/// mode, the op's declared permission, the extension) before every call, and an
/// `Err` refuses the call with that error. See [`Runtime::set_policy`].
pub type Policy = dyn Fn(&TableEntry) -> Result<(), OpError>;

impl Runtime {
    /// A runtime with its own table, built from `extensions`.
    pub fn new(extensions: impl IntoIterator<Item = Extension>) -> Result<Self, RegistrationError> {
        Ok(Self::with_table(Arc::new(DispatchTable::new(extensions)?)))
    }

    /// A runtime on a shared table, with fresh state set up by the table's extensions.
    pub fn with_table(table: Arc<DispatchTable>) -> Self {
        let mut state = OpState::default();
        table.init_state(&mut state);
        if state.executor().is_none() {
            state.set_executor(Executor::thread_default());
        }
        Self {
            table,
            state: Rc::new(RefCell::new(state)),
            pending: FuturesUnordered::new(),
            policy: None,
        }
    }

    /// Runs `policy` before every call from now on, and refuses the calls it returns
    /// an error for (the error gets the op's name). For example, a session that may
    /// only read files:
    ///
    /// ```
    /// # #[opkit::op(permission = "fs.read")] fn op_peek() {}
    /// # #[opkit::op(permission = "fs.write")] fn op_poke() {}
    /// # opkit::extension!(files, ops = [op_peek, op_poke]);
    /// let mut rt = opkit::Runtime::new([files()]).unwrap();
    /// rt.set_policy(|entry| match entry.decl.meta.permission {
    ///     None | Some("fs.read") => Ok(()),
    ///     Some(other) => Err(opkit::OpError::permission_denied(format!(
    ///         "this session may not use {other}"
    ///     ))),
    /// });
    /// assert!(rt.call_sync("op_peek_sync", b"[]", &mut []).is_ok());
    /// let refused = rt.call_sync("op_poke_sync", b"[]", &mut []).unwrap_err();
    /// assert_eq!(refused.class(), opkit::ErrorClass::PermissionDenied);
    /// ```
    pub fn set_policy(&mut self, policy: impl Fn(&TableEntry) -> Result<(), OpError> + 'static) {
        self.policy = Some(Box::new(policy));
    }

    /// The entry, if the policy lets it run.
    #[inline]
    fn allowed<'t>(&'t self, op: OpRef<'_>) -> Result<&'t TableEntry, OpError> {
        let entry = self.entry(op)?;
        if let Some(policy) = &self.policy {
            policy(entry).map_err(|err| err.with_op(entry.decl.meta.name))?;
        }
        Ok(entry)
    }

    /// The dispatch table, to share with other runtimes.
    pub fn table(&self) -> &Arc<DispatchTable> {
        &self.table
    }

    /// This runtime's state and resources.
    pub fn state(&self) -> &Rc<RefCell<OpState>> {
        &self.state
    }

    /// The id of an entry name, resolved once so that later calls are an index.
    pub fn op_id(&self, entry: &str) -> Option<OpId> {
        self.table.id(entry)
    }

    #[inline]
    fn entry(&self, op: OpRef<'_>) -> Result<&TableEntry, OpError> {
        let found = match op {
            OpRef::Id(id) => self.table.get(id),
            OpRef::Name(name) => self.table.id(name).and_then(|id| self.table.get(id)),
        };
        match found {
            Some(entry) => Ok(entry),
            None => Err(unknown_op(op)),
        }
    }

    /// Calls a sync entry and returns its JSON result.
    pub fn call_sync<'a>(
        &self,
        op: impl Into<OpRef<'a>>,
        args: &[u8],
        bufs: &mut [Vec<u8>],
    ) -> Result<Vec<u8>, OpError> {
        let mut out = Vec::new();
        self.call_sync_into(op, args, bufs, &mut out)?;
        Ok(out)
    }

    /// Calls a sync entry, appending its JSON result to `out` (a buffer the host
    /// reuses from call to call).
    #[inline]
    pub fn call_sync_into<'a>(
        &self,
        op: impl Into<OpRef<'a>>,
        args: &[u8],
        bufs: &mut [Vec<u8>],
        out: &mut Vec<u8>,
    ) -> Result<(), OpError> {
        let entry = self.allowed(op.into())?;
        let Handler::Sync(handler) = entry.decl.handler else {
            return Err(wrong_mode(entry, "call_async"));
        };
        // One catch around the whole call: the body has its own (so that lent
        // buffers go back), but decoding, state lookups, serializing and error
        // conversion run user code too.
        let call = &mut SyncCall {
            state: &self.state,
            args,
            bufs,
            out,
        };
        match catch_unwind(AssertUnwindSafe(|| handler(call))) {
            Ok(done) => done,
            Err(payload) => Err(panic_error(entry.decl.meta, &*payload)),
        }
    }

    /// Calls an async entry. Argument errors are known at once and come back as a
    /// ready output; otherwise the returned future runs the op.
    ///
    /// The future shares this runtime's `OpState` (an `Rc`), so it is not `Send`:
    /// `tokio::spawn(rt.call_async(..))` is refused with "cannot be sent between
    /// threads safely". Drive it on this runtime's thread instead: `.await` it in the
    /// task that owns the runtime, hand it to [`Runtime::submit`] and read
    /// [`Runtime::completions`], or `tokio::task::spawn_local` it inside a
    /// `tokio::task::LocalSet` (or on a current-thread runtime's `LocalSet`).
    ///
    /// ```
    /// # #[opkit::op] fn op_add(a: i64, b: i64) -> i64 { a + b }
    /// # opkit::extension!(math, ops = [op_add]);
    /// let rt = opkit::Runtime::new([math()]).unwrap();
    /// let local = tokio::task::LocalSet::new();
    /// let tokio_rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    /// let output = local.block_on(&tokio_rt, async {
    ///     let call = rt.call_async("op_add_async", b"[1, 2]", Vec::new());
    ///     tokio::task::spawn_local(call).await.unwrap()
    /// });
    /// assert_eq!(output.result.unwrap(), b"3");
    /// ```
    pub fn call_async<'a>(
        &self,
        op: impl Into<OpRef<'a>>,
        args: &[u8],
        mut bufs: Vec<Vec<u8>>,
    ) -> Pin<Box<dyn Future<Output = OpOutput>>> {
        let started = self.allowed(op.into()).and_then(|entry| {
            let Handler::Async(handler) = entry.decl.handler else {
                return Err(wrong_mode(entry, "call_sync"));
            };
            let call = AsyncCall {
                state: &self.state,
                args,
                bufs: &mut bufs,
            };
            // Decoding and cloning state run user code before the body starts.
            match catch_unwind(AssertUnwindSafe(|| handler(call))) {
                Ok(started) => started,
                Err(payload) => Err(panic_error(entry.decl.meta, &*payload)),
            }
        });
        match started {
            Ok(future) => future,
            Err(err) => Box::pin(std::future::ready(OpOutput {
                result: Err(err),
                bufs,
            })),
        }
    }

    /// Starts an async call whose completion [`Runtime::completions`] will yield
    /// under `promise_id`.
    pub fn submit<'a>(
        &mut self,
        promise_id: u64,
        op: impl Into<OpRef<'a>>,
        args: &[u8],
        bufs: Vec<Vec<u8>>,
    ) {
        let future = self.call_async(op, args, bufs);
        self.pending.push(Pending { promise_id, future });
    }

    /// How many submitted calls have not completed.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Polls the calls in flight and returns every completion ready now, or
    /// `Pending` when there are calls but none is ready. With nothing in flight it is
    /// ready with an empty batch.
    pub fn poll_completions(&mut self, cx: &mut Context<'_>) -> Poll<Vec<Completion>> {
        let mut batch = Vec::new();
        while let Poll::Ready(Some(done)) = Pin::new(&mut self.pending).poll_next(cx) {
            batch.push(done);
        }
        if batch.is_empty() && !self.pending.is_empty() {
            Poll::Pending
        } else {
            Poll::Ready(batch)
        }
    }

    /// Waits for the next batch of completions (empty when nothing is in flight).
    pub async fn completions(&mut self) -> Vec<Completion> {
        poll_fn(|cx| self.poll_completions(cx)).await
    }

    /// Drives every call in flight to completion and returns them in the order they
    /// completed.
    pub async fn run_until_idle(&mut self) -> Vec<Completion> {
        let mut all = Vec::new();
        while self.pending() > 0 {
            all.extend(self.completions().await);
        }
        all
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Drop the pending futures before the resources they may hold are closed.
        self.pending.clear();
        if let Ok(mut state) = self.state.try_borrow_mut() {
            state.resource_table.close_all();
        }
    }
}

#[cold]
#[inline(never)]
fn unknown_op(op: OpRef<'_>) -> OpError {
    match op {
        OpRef::Id(id) => OpError::not_found(format!("no op with id {id}")),
        OpRef::Name(name) => OpError::not_found(format!("unknown op '{name}'")),
    }
}

#[cold]
fn wrong_mode(entry: &TableEntry, use_instead: &str) -> OpError {
    let article = if entry.decl.mode == crate::OpMode::Async {
        "an"
    } else {
        "a"
    };
    OpError::type_error(format!(
        "`{}` is {article} {} entry; call it with {use_instead}",
        entry.decl.entry,
        entry.decl.mode.as_str()
    ))
    .with_op(entry.decl.meta.name)
}
