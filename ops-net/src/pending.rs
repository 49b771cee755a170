//! What a pending net op needs besides its socket: the per-call cancel handle, a
//! timeout, the `Busy` guard and the error context.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use opkit::{ErrorClass, NewResource, OpError, Resource, op};
use tokio::sync::{Mutex, MutexGuard};

/// A handle that aborts the ops it is passed to: give its rid as the `cancel`
/// argument of a pending op, then close it with `op_close`; every op pending with it
/// ends with `Interrupted`. The socket the op was using stays open. The ops take it as
/// an optional `#[resource]`, whose closing interrupts the call.
#[derive(Debug, Default)]
pub struct CancelHandle {
    _private: (),
}

impl Resource for CancelHandle {
    fn name(&self) -> std::borrow::Cow<'_, str> {
        "cancelHandle".into()
    }
}

/// Creates a cancel handle and returns its rid. Pass the rid as `cancel` to accept,
/// connect, read, write, send and receive ops; closing it (`op_close`) aborts them.
#[op(sync)]
pub fn op_net_cancel_handle() -> NewResource<CancelHandle> {
    NewResource(CancelHandle::default())
}

/// Runs `work`, ending it with `TimedOut` after `timeout_ms`; `work` is dropped then,
/// releasing its socket. (Closing the op's rids, its `cancel` handle among them, ends
/// it with `Interrupted`: the `#[resource]` parameters see to that.)
pub(crate) async fn bounded<T>(
    timeout_ms: Option<u64>,
    what: impl fmt::Display,
    work: impl Future<Output = Result<T, OpError>>,
) -> Result<T, OpError> {
    let Some(ms) = timeout_ms else {
        return work.await;
    };
    match tokio::time::timeout(Duration::from_millis(ms), work).await {
        Ok(result) => result,
        Err(_) => Err(OpError::new(
            ErrorClass::TimedOut,
            format!("{what}: timed out after {ms} ms"),
        )
        .with_code("ETIMEDOUT")),
    }
}

/// Takes `lock` for an op that must be alone on its resource (read, accept, receive),
/// refusing a second one with `Busy` instead of queueing it behind the first.
pub(crate) fn exclusive<'a>(
    lock: &'a Mutex<()>,
    what: &str,
    on: impl fmt::Display,
) -> Result<MutexGuard<'a, ()>, OpError> {
    lock.try_lock().map_err(|_| {
        OpError::new(
            ErrorClass::Busy,
            format!("{on}: another {what} is already pending on this resource"),
        )
    })
}

/// Turns an io error about `addr` into an `OpError` that keeps the class and errno
/// and names the address.
pub(crate) fn io_error<A: fmt::Display>(addr: A) -> impl FnOnce(io::Error) -> OpError {
    move |err| OpError::from(err).context(addr)
}

/// The sync binds register the new socket with the tokio reactor of the calling thread.
pub(crate) fn require_runtime() -> Result<(), OpError> {
    tokio::runtime::Handle::try_current()
        .map(drop)
        .map_err(|_| OpError::generic("net ops need a tokio runtime with IO enabled"))
}
