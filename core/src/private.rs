//! What `#[op]` expansions call. Not a public API: generated code reaches it as
//! `::opkit::__private`, so an op crate depends on `opkit` alone.
//!
//! The logic shared by every op lives here rather than in each expansion, which keeps
//! the generated code per op to argument plumbing and one call of the body.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;

use futures_util::FutureExt;
use futures_util::future::select_all;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::executor::{BatchedExecutor, Executor, Job, SubmitError, Task};

pub use crate::args::{ArgError, ArgSlots, decode as decode_args, deserialize, put, skip};
pub use crate::decl::{
    AsyncCall, Handler, OpDecl, OpFuture, OpMeta, OpMode, OpOutput, ParamKindMeta, ParamMeta,
    SyncCall,
};
pub use crate::kind::{Probe, ProbeDefault};
pub use crate::scalar::{Arg, ReadScalar, ReadSerde, Scalar};
pub use crate::{ByteBuf, ErrorClass, NewResource, OpError, OpState, Resource, ResourceId};
pub use tokio_util::sync::CancellationToken as Cancel;

/// Serializes an op's result into `out`.
#[inline]
pub fn write_json<T: Serialize + ?Sized>(
    meta: &'static OpMeta,
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), OpError> {
    serde_json::to_writer(&mut *out, value).map_err(|err| {
        OpError::new(
            ErrorClass::InvalidData,
            format!("cannot serialize the result: {err}"),
        )
        .with_op(meta.name)
    })
}

/// Hands a `ByteBuf` result over as it is: moved into `out` when `out` is empty.
#[inline]
pub fn write_bytes(out: &mut Vec<u8>, bytes: ByteBuf) -> Result<(), OpError> {
    if out.is_empty() {
        *out = bytes.0;
    } else {
        out.extend_from_slice(&bytes.0);
    }
    Ok(())
}

/// Turns an op body's error into an `OpError` that names the op.
#[cold]
pub fn op_error<E: Into<OpError>>(meta: &'static OpMeta, err: E) -> OpError {
    err.into().with_op(meta.name)
}

/// Adds a returned resource to the table and writes its rid.
pub fn write_resource<T: Resource>(
    meta: &'static OpMeta,
    state: &RefCell<OpState>,
    out: &mut Vec<u8>,
    resource: NewResource<T>,
) -> Result<(), OpError> {
    let rid = borrow_state_mut(meta, state)?
        .resource_table
        .add(resource.0)
        .map_err(|err| err.with_op(meta.name))?;
    write_json(meta, out, &rid)
}

/// Runs a blocking body on its pool thread, catching a panic so that the buffers it
/// was lent still go back to the caller.
#[inline]
pub fn catch_blocking<R>(body: impl FnOnce() -> R) -> Result<R, PanicPayload> {
    catch_unwind(AssertUnwindSafe(body))
}

/// What a panic carried.
pub type PanicPayload = Box<dyn Any + Send>;

/// Runs a sync body, turning a panic into a `Panic` error.
#[inline]
pub fn catch_sync<R>(meta: &'static OpMeta, body: impl FnOnce() -> R) -> Result<R, OpError> {
    catch_blocking(body).map_err(|payload| panic_error(meta, &*payload))
}

#[cold]
pub(crate) fn panic_error(meta: &'static OpMeta, payload: &(dyn Any + Send)) -> OpError {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload");
    OpError::new(ErrorClass::Panic, format!("the op panicked: {text}")).with_op(meta.name)
}

/// The `#[state] &T` of a sync entry.
#[inline]
pub fn state_ref<'s, T: 'static>(
    meta: &'static OpMeta,
    state: &'s OpState,
) -> Result<&'s T, OpError> {
    state
        .borrow::<T>()
        .ok_or_else(|| OpState::missing::<T>().with_op(meta.name))
}

/// The `#[state] &mut T` of a sync entry.
#[inline]
pub fn state_mut<'s, T: 'static>(
    meta: &'static OpMeta,
    state: &'s mut OpState,
) -> Result<&'s mut T, OpError> {
    state
        .borrow_mut::<T>()
        .ok_or_else(|| OpState::missing::<T>().with_op(meta.name))
}

/// What a `#[state] &T` of an async entry needs: the entry clones it. Named so that
/// a type that is not `Clone` gets an error that says why, and what to do instead.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is a `#[state]` parameter of an async entry, which clones it: it must be `Clone`",
    label = "not `Clone`; the async entry clones it so that no borrow of `OpState` is held while the body runs",
    note = "derive or implement `Clone` (wrap the value in an `Arc` to share it), or write `#[op(sync)]` to generate only the sync entry, which borrows it"
)]
pub trait AsyncState: Clone + 'static {}

impl<T: Clone + 'static> AsyncState for T {}

/// The `#[state] &T` of an async entry: a clone, so no borrow of `OpState` is held
/// while the body runs.
#[inline]
pub fn state_clone<T: AsyncState>(
    meta: &'static OpMeta,
    state: &RefCell<OpState>,
) -> Result<T, OpError> {
    state_ref::<T>(meta, &*borrow_state(meta, state)?).cloned()
}

/// A `#[resource]` parameter: the rid's resource if it is a `T`.
pub fn resource<T: Resource>(
    meta: &'static OpMeta,
    state: &RefCell<OpState>,
    param: &'static str,
    rid: ResourceId,
) -> Result<Arc<T>, OpError> {
    borrow_state(meta, state)?
        .resource_table
        .get::<T>(rid)
        .map_err(|err| {
            err.context(format_args!("argument '{param}'"))
                .with_op(meta.name)
        })
}

/// The token that closing `rid` cancels, for a `#[resource]` parameter of an async
/// entry. An unknown rid gets a fresh token, and so does a state borrowed elsewhere:
/// the lookup that follows reports either.
pub fn cancel_token(state: &RefCell<OpState>, rid: ResourceId) -> CancellationToken {
    state
        .try_borrow()
        .ok()
        .and_then(|state| state.resource_table.cancel_token(rid))
        .unwrap_or_default()
}

/// The op's `OpState`, shared: `Busy` rather than a panic when it is borrowed
/// mutably elsewhere (a host holding `rt.state().borrow_mut()` across a call, or an
/// `async fn` op holding a borrow across an await).
#[inline]
pub fn borrow_state<'s>(
    meta: &'static OpMeta,
    state: &'s RefCell<OpState>,
) -> Result<std::cell::Ref<'s, OpState>, OpError> {
    state.try_borrow().map_err(|_| state_busy(meta))
}

/// The op's `OpState`, exclusively: `Busy` rather than a panic when it is borrowed
/// elsewhere.
#[inline]
pub fn borrow_state_mut<'s>(
    meta: &'static OpMeta,
    state: &'s RefCell<OpState>,
) -> Result<std::cell::RefMut<'s, OpState>, OpError> {
    state.try_borrow_mut().map_err(|_| state_busy(meta))
}

#[cold]
#[inline(never)]
fn state_busy(meta: &'static OpMeta) -> OpError {
    OpError::new(
        ErrorClass::Busy,
        "the runtime's OpState is borrowed elsewhere: by the host across this call, or by \
         an `async fn` op across an await",
    )
    .with_op(meta.name)
}

/// Moves the byte buffers of the `#[buffer]` parameters out of the call, or fails
/// naming the first missing one (taking none then, so the caller gets all back).
#[inline]
pub fn take_bufs<const N: usize>(
    meta: &'static OpMeta,
    bufs: &mut [Vec<u8>],
    names: [&'static str; N],
) -> Result<[Vec<u8>; N], OpError> {
    if bufs.len() < N {
        return Err(missing_buf(
            meta,
            bufs.len(),
            names[bufs.len()..].first().copied(),
            N,
        ));
    }
    Ok(std::array::from_fn(|index| {
        std::mem::take(&mut bufs[index])
    }))
}

#[cold]
fn missing_buf(meta: &'static OpMeta, given: usize, name: Option<&str>, wanted: usize) -> OpError {
    OpError::type_error(format!(
        "missing buffer '{}': expected {wanted} byte buffer{}, got {given}",
        name.unwrap_or("?"),
        if wanted == 1 { "" } else { "s" },
    ))
    .with_op(meta.name)
}

/// Hands a `#[buffer]` parameter back to the caller after the body ran.
#[inline]
pub fn put_buf(bufs: &mut [Vec<u8>], index: usize, buf: Vec<u8>) {
    if let Some(slot) = bufs.get_mut(index) {
        *slot = buf;
    }
}

/// The async entry of a plain `fn` op: runs `body` off the host thread, on the
/// runtime's [`Executor`](crate::Executor), and, back on the host thread, `finish`
/// turns its return value into JSON (adding a returned resource to the table there,
/// since the table is not `Send`). `bufs` are the call's `#[buffer]`s, lent to `body`
/// and handed back with the result.
///
/// The body is queued now, not on first poll, so the work starts when the call is
/// made even if the host polls later. Body and result are boxed so that the executor
/// and future machinery is compiled once, not once per op.
#[inline]
pub fn spawn_blocking_op<R, B, const N: usize>(
    meta: &'static OpMeta,
    state: &Rc<RefCell<OpState>>,
    cancel: Vec<CancellationToken>,
    bufs: [Vec<u8>; N],
    body: B,
    finish: Finish<R>,
) -> Result<OpFuture, OpError>
where
    R: 'static,
    B: FnOnce(&mut [Vec<u8>; N]) -> SendGuard<R> + Send + 'static,
{
    let body: BlockingBody = Box::new(move |bufs: Vec<Vec<u8>>| {
        match <[Vec<u8>; N]>::try_from(bufs) {
            Ok(mut lent) => {
                let ret = catch_blocking(|| body(&mut lent));
                (
                    ret.map(|ret| Box::new(ret) as Box<dyn Any + Send>),
                    Vec::from(lent),
                )
            }
            // The entry hands over exactly N buffers; nothing else reaches here.
            Err(bufs) => (Err(Box::new("the op got a wrong number of buffers")), bufs),
        }
    });
    let finish: BlockingFinish =
        Box::new(
            move |ret, state, out| match ret.downcast::<SendGuard<R>>() {
                Ok(ret) => finish(ret.into_inner(), state, out),
                Err(_) => {
                    Err(OpError::generic("the op's result has an unexpected type")
                        .with_op(meta.name))
                }
            },
        );
    spawn_blocking_boxed(meta, state, cancel, Vec::from(bufs), body, finish)
}

type BlockingBody = Box<
    dyn FnOnce(Vec<Vec<u8>>) -> (Result<Box<dyn Any + Send>, PanicPayload>, Vec<Vec<u8>>) + Send,
>;
type BlockingFinish =
    Box<dyn FnOnce(Box<dyn Any + Send>, &RefCell<OpState>, &mut Vec<u8>) -> Result<(), OpError>>;

/// What a body sends back: its return value (or panic) and the buffers it was lent.
type BodyOutput = (Result<Box<dyn Any + Send>, PanicPayload>, Vec<Vec<u8>>);

fn spawn_blocking_boxed(
    meta: &'static OpMeta,
    state: &Rc<RefCell<OpState>>,
    cancel: Vec<CancellationToken>,
    bufs: Vec<Vec<u8>>,
    body: BlockingBody,
    finish: BlockingFinish,
) -> Result<OpFuture, OpError> {
    let executor = state
        .try_borrow()
        .ok()
        .and_then(|state| state.executor().cloned());
    match executor {
        Some(Executor::Batched(executor)) => {
            batched(meta, state, &executor, cancel, bufs, body, finish)
        }
        Some(Executor::SpawnBlocking(handle)) => {
            one_spawn_blocking(meta, state, handle, cancel, bufs, body, finish)
        }
        None => one_spawn_blocking(meta, state, None, cancel, bufs, body, finish),
    }
}

/// One `spawn_blocking` per call.
fn one_spawn_blocking(
    meta: &'static OpMeta,
    state: &Rc<RefCell<OpState>>,
    handle: Option<tokio::runtime::Handle>,
    cancel: Vec<CancellationToken>,
    bufs: Vec<Vec<u8>>,
    body: BlockingBody,
    finish: BlockingFinish,
) -> Result<OpFuture, OpError> {
    let handle = match handle {
        Some(handle) => handle,
        None => tokio::runtime::Handle::try_current().map_err(|_| no_runtime(meta))?,
    };
    let task = handle.spawn_blocking(move || body(bufs));
    let state = state.clone();
    let future = async move {
        match task.await {
            Ok(output) => finish_blocking(meta, &state, output, finish),
            Err(err) => OpOutput {
                result: Err(match err.try_into_panic() {
                    Ok(payload) => panic_error(meta, &*payload),
                    Err(_) => interrupted(meta),
                }),
                bufs: Vec::new(),
            },
        }
    };
    Ok(cancellable(meta, cancel, Box::pin(future)))
}

/// A body queued on the batched executor. Until a worker starts it, its buffers stay
/// in its [`Slot`]: a call cancelled, or dropped with its runtime, before then takes
/// them back, and the body never runs.
fn batched(
    meta: &'static OpMeta,
    state: &Rc<RefCell<OpState>>,
    executor: &BatchedExecutor,
    cancel: Vec<CancellationToken>,
    bufs: Vec<Vec<u8>>,
    body: BlockingBody,
    finish: BlockingFinish,
) -> Result<OpFuture, OpError> {
    let slot = Arc::new(Slot {
        state: std::sync::Mutex::new(SlotState {
            queued: Some((body, bufs)),
            ..SlotState::default()
        }),
        done: std::sync::atomic::AtomicBool::new(false),
    });
    executor
        .submit(Arc::clone(&slot) as Job)
        .map_err(|err| match err {
            SubmitError::Full(max) => OpError::new(
                ErrorClass::ResourceExhausted,
                format!("the blocking executor has {max} calls queued already"),
            )
            .with_op(meta.name),
            SubmitError::NoRuntime => no_runtime(meta),
        })?;
    let state = state.clone();
    let executor = executor.clone();
    // Made now, not on first poll: a call dropped unpolled takes its buffers back too.
    let take_back = TakeBack(slot);
    let future = async move {
        let slot = &*take_back.0;
        executor.spin_alone(|| slot.is_settled());
        let finished = if cancel.is_empty() {
            Answer(slot).await
        } else {
            let closed = select_all(cancel.iter().map(|token| Box::pin(token.cancelled())));
            tokio::select! {
                biased;
                _ = closed => {
                    // Not started: it never will be, and the buffers come back.
                    let bufs = slot.take_back().unwrap_or_default();
                    return OpOutput { result: Err(interrupted(meta)), bufs };
                }
                finished = Answer(slot) => finished,
            }
        };
        match finished {
            Some(output) => finish_blocking(meta, &state, output, finish),
            // The executor was shut down with the body still queued.
            None => OpOutput {
                result: Err(interrupted(meta)),
                bufs: slot.take_back().unwrap_or_default(),
            },
        }
    };
    Ok(Box::pin(future))
}

/// One call on the batched executor: the body and its buffers until a worker starts
/// it (or the caller takes them back, and it never starts), then the body's output
/// until the host thread takes it. One allocation is the queue entry, the hand-off
/// and the answer, and waiting on it spends no tokio budget: a loop taking thousands
/// of answers at once is not sent round again after every 128.
struct Slot {
    state: std::sync::Mutex<SlotState>,
    /// `SlotState::settled`, readable without the lock by a caller that spins.
    done: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct SlotState {
    queued: Option<(BlockingBody, Vec<Vec<u8>>)>,
    output: Option<BodyOutput>,
    /// The body finished, or will never run: no output comes after this.
    settled: bool,
    waker: Option<std::task::Waker>,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        // Nothing runs under this lock but moves, so a poisoned one is consistent.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The buffers, if the body has not started; it never will then.
    fn take_back(&self) -> Option<Vec<Vec<u8>>> {
        // The body is dropped after the lock is released: its captures may do anything.
        let queued = self.lock().queued.take();
        queued.map(|(_body, bufs)| bufs)
    }

    /// Whether the output is in, read without the lock by a caller that spins.
    fn is_settled(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::Acquire)
    }

    fn settle(&self, output: Option<BodyOutput>) {
        let waker = {
            let mut slot = self.lock();
            slot.output = output;
            slot.settled = true;
            self.done.store(true, std::sync::atomic::Ordering::Release);
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Task for Slot {
    fn run(&self) {
        let queued = self.lock().queued.take();
        // Taken back by a cancelled or dropped call: it never runs.
        let Some((body, bufs)) = queued else { return };
        // The body catches its own panics; one from elsewhere still answers the call.
        let output = catch_unwind(AssertUnwindSafe(|| body(bufs)))
            .unwrap_or_else(|payload| (Err(payload), Vec::new()));
        self.settle(Some(output));
    }

    fn abandon(&self) {
        // The buffers stay for the caller to take back.
        self.settle(None);
    }
}

/// Waits for a slot's output: `None` when the body will never run.
struct Answer<'a>(&'a Slot);

impl Future for Answer<'_> {
    type Output = Option<BodyOutput>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let mut slot = self.0.lock();
        if slot.settled {
            return std::task::Poll::Ready(slot.output.take());
        }
        match &mut slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        std::task::Poll::Pending
    }
}

/// Takes the buffers back when a call's future is dropped, polled or not, so that a
/// body not yet started never starts.
struct TakeBack(Arc<Slot>);

impl Drop for TakeBack {
    fn drop(&mut self) {
        drop(self.0.take_back());
    }
}

/// What an async entry's result buffer starts with.
const RESULT_CAPACITY: usize = 256;

/// Back on the host thread: the body's return value into the call's output.
fn finish_blocking(
    meta: &'static OpMeta,
    state: &RefCell<OpState>,
    (ret, bufs): BodyOutput,
    finish: BlockingFinish,
) -> OpOutput {
    let result = match ret {
        Ok(ret) => {
            // Room for a small struct's JSON at once, instead of five reallocations of
            // a growing buffer on the way to 256 bytes (a stat's answer is about 330).
            let mut out = Vec::with_capacity(RESULT_CAPACITY);
            // Serializing the result and converting its error are user code too.
            match catch_blocking(|| finish(ret, state, &mut out)) {
                Ok(finished) => finished.map(|()| out),
                Err(payload) => Err(panic_error(meta, &*payload)),
            }
        }
        Err(payload) => Err(panic_error(meta, &*payload)),
    };
    OpOutput { result, bufs }
}

#[cold]
fn no_runtime(meta: &'static OpMeta) -> OpError {
    OpError::generic("async entries need a tokio runtime on the calling thread").with_op(meta.name)
}

/// Turns a body's return value into the JSON result: the generated `__finish` of an op.
pub type Finish<R> = fn(R, &RefCell<OpState>, &mut Vec<u8>) -> Result<(), OpError>;

/// The entry of an `async fn` op: polls the body's future on the host thread, turning
/// a panic into a `Panic` error. `lent` is where the body keeps the buffers it was
/// lent, if any, so that they go back to the caller after a panic too.
pub fn spawn_async_op<R, Fut>(
    meta: &'static OpMeta,
    state: &Rc<RefCell<OpState>>,
    cancel: Vec<CancellationToken>,
    lent: Option<LentBufs>,
    body: Fut,
    finish: Finish<R>,
) -> Result<OpFuture, OpError>
where
    R: 'static,
    Fut: Future<Output = (R, Vec<Vec<u8>>)> + 'static,
{
    let state = state.clone();
    let future = async move {
        // The body's future is dropped by the end of this statement, panicked or not,
        // which puts back what it kept.
        let caught = AssertUnwindSafe(body).catch_unwind().await;
        match caught {
            Ok((ret, bufs)) => OpOutput {
                // Serializing the result and converting its error are user code too.
                result: catch_sync(meta, || finish_output(ret, &state, finish))
                    .and_then(|result| result),
                bufs,
            },
            Err(payload) => OpOutput {
                result: Err(panic_error(meta, &*payload)),
                bufs: lent.map(|lent| lent.0.take()).unwrap_or_default(),
            },
        }
    };
    Ok(cancellable(meta, cancel, Box::pin(future)))
}

/// Where an `async fn` op's buffers go back to when its body does not finish.
#[derive(Clone, Default)]
pub struct LentBufs(Rc<Cell<Vec<Vec<u8>>>>);

impl LentBufs {
    /// Keeps the buffers for the body, which borrows them from the returned guard.
    pub fn keep<const N: usize>(&self, bufs: [Vec<u8>; N]) -> KeepBufs<N> {
        KeepBufs {
            slot: self.clone(),
            bufs,
            given_back: false,
        }
    }
}

/// The buffers of an `async fn` op while its body runs: handed back with the result, or
/// put in their `LentBufs` when the body is dropped without finishing (a panic).
pub struct KeepBufs<const N: usize> {
    slot: LentBufs,
    bufs: [Vec<u8>; N],
    given_back: bool,
}

impl<const N: usize> KeepBufs<N> {
    /// Each buffer, for the body's parameters.
    pub fn each_mut(&mut self) -> [&mut Vec<u8>; N] {
        self.bufs.each_mut()
    }

    /// The buffers, to go back with the result.
    pub fn give_back(mut self) -> Vec<Vec<u8>> {
        self.given_back = true;
        Vec::from(self.take())
    }

    fn take(&mut self) -> [Vec<u8>; N] {
        std::mem::replace(&mut self.bufs, std::array::from_fn(|_| Vec::new()))
    }
}

impl<const N: usize> Drop for KeepBufs<N> {
    fn drop(&mut self) {
        if !self.given_back {
            let bufs = Vec::from(self.take());
            self.slot.0.set(bufs);
        }
    }
}

fn finish_output<R>(
    ret: R,
    state: &RefCell<OpState>,
    finish: Finish<R>,
) -> Result<Vec<u8>, OpError> {
    let mut out = Vec::new();
    finish(ret, state, &mut out)?;
    Ok(out)
}

/// Wraps `future` so that closing any of the op's resources ends it with
/// `Interrupted`; the future is dropped then, releasing what it holds.
fn cancellable(
    meta: &'static OpMeta,
    cancel: Vec<CancellationToken>,
    future: OpFuture,
) -> OpFuture {
    if cancel.is_empty() {
        return future;
    }
    Box::pin(async move {
        let closed = select_all(cancel.iter().map(|token| Box::pin(token.cancelled())));
        tokio::select! {
            biased;
            _ = closed => OpOutput { result: Err(interrupted(meta)), bufs: Vec::new() },
            output = future => output,
        }
    })
}

#[cold]
fn interrupted(meta: &'static OpMeta) -> OpError {
    OpError::new(
        ErrorClass::Interrupted,
        "the resource was closed while the op was pending",
    )
    .with_op(meta.name)
}

/// A value that may cross into `spawn_blocking`.
///
/// The only constructor requires `T: Send`, and generated code calls it spanned at the
/// user's parameter or return type: a type that is not `Send` is reported there, once,
/// instead of at the `spawn_blocking` call inside the expansion.
///
/// It is invariant in `T`: were it covariant, a guard made for a type that is `Send`
/// only for `'static` (`unsafe impl Send for Foo<'static>`) could be shortened to a
/// `SendGuard<Foo<'a>>` and sent, though `Foo<'a>` is not `Send`.
pub struct SendGuard<T>(T, PhantomData<fn(T) -> T>);

impl<T> SendGuard<T> {
    #[inline]
    pub fn new(value: T) -> Self
    where
        T: Send,
    {
        Self(value, PhantomData)
    }

    #[inline]
    pub fn into_inner(self) -> T {
        self.0
    }
}

// SAFETY: a `SendGuard<T>` can only be made by `new`, which requires `T: Send`, and
// it is invariant in `T`, so it cannot become a guard of another type.
unsafe impl<T> Send for SendGuard<T> {}

/// An optional `#[resource]` parameter: `None` for a left-out or `null` rid, else
/// the rid's resource if it is a `T`.
pub fn resource_opt<T: Resource>(
    meta: &'static OpMeta,
    state: &RefCell<OpState>,
    param: &'static str,
    rid: Option<ResourceId>,
) -> Result<Option<Arc<T>>, OpError> {
    rid.map(|rid| resource(meta, state, param, rid)).transpose()
}

/// The token that closing an optional `#[resource]`'s rid cancels, if it was given.
pub fn cancel_token_opt(
    state: &RefCell<OpState>,
    rid: Option<ResourceId>,
) -> Option<CancellationToken> {
    rid.map(|rid| cancel_token(state, rid))
}

/// The tokens of a call's resources, the left-out optional ones skipped.
pub fn cancels<const N: usize>(tokens: [Option<CancellationToken>; N]) -> Vec<CancellationToken> {
    tokens.into_iter().flatten().collect()
}
