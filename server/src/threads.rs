//! The threads sessions run on: one session a thread at a time, threads reused.
//!
//! A session's runtime is single-threaded, and its sync entries run inline on that
//! thread. Were sessions to share threads, one session reading a large file with a
//! sync entry would stall every session beside it. So each session gets a thread of
//! its own for as long as it lives, and the kernel's scheduler shares the cores among
//! them. Threads are kept for reuse (most recently idle first) and retire after
//! sitting idle for [`KEEP_ALIVE`]. Their number is bounded by the server's
//! connection cap, since every session belongs to one connection.
//!
//! Each session future is driven with [`Handle::block_on`] of the server's tokio
//! runtime, inside a `LocalSet`, so its timers, sockets and `spawn_blocking` calls
//! use the host's runtime and its blocking pool.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::runtime::Handle;

/// How long an idle thread waits for a new session before it exits.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce() + Send>;

/// A pool of session threads.
#[derive(Clone)]
pub struct SessionThreads {
    inner: Arc<Inner>,
}

struct Inner {
    handle: Handle,
    /// The idle threads, each by its id and the sender of its job channel.
    idle: Mutex<Vec<(u64, Sender<Job>)>>,
    next_id: AtomicU64,
}

impl SessionThreads {
    /// A pool whose sessions run on `handle`'s runtime.
    pub fn new(handle: Handle) -> Self {
        Self {
            inner: Arc::new(Inner {
                handle,
                idle: Mutex::new(Vec::new()),
                next_id: AtomicU64::new(0),
            }),
        }
    }

    /// Runs the future `make` returns on a thread of its own until it completes.
    /// When no thread can be started, the session is dropped unstarted, which its
    /// transport sees as closed channels.
    pub fn spawn<F, Fut>(&self, make: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let handle = self.inner.handle.clone();
        let mut job: Job = Box::new(move || {
            let local = tokio::task::LocalSet::new();
            handle.block_on(local.run_until(make()));
        });
        loop {
            let idle = self.lock_idle().pop();
            match idle {
                Some((_, sender)) => match sender.send(job) {
                    Ok(()) => return,
                    // The thread is gone; try the next one.
                    Err(returned) => job = returned.0,
                },
                None => break,
            }
        }
        let inner = self.inner.clone();
        let spawned = std::thread::Builder::new()
            .name("opkit-session".into())
            .spawn(move || worker(inner, job));
        if let Err(err) = spawned {
            tracing::warn!("cannot start a session thread: {err}");
        }
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Sender<Job>)>> {
        lock(&self.inner.idle)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while the list was held cannot leave it inconsistent: take it as is.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn worker(inner: Arc<Inner>, first: Job) {
    run(first);
    let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
    let (sender, jobs): (Sender<Job>, Receiver<Job>) = channel();
    loop {
        lock(&inner.idle).push((id, sender.clone()));
        match jobs.recv_timeout(KEEP_ALIVE) {
            Ok(job) => run(job),
            Err(RecvTimeoutError::Timeout) => {
                let mut idle = lock(&inner.idle);
                if let Some(at) = idle.iter().position(|(other, _)| *other == id) {
                    idle.remove(at);
                    return;
                }
                drop(idle);
                // Taken off the list just now: its job is on the way.
                match jobs.recv() {
                    Ok(job) => run(job),
                    Err(_) => return,
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// A panicking session ends; its thread lives on for the next one.
fn run(job: Job) {
    if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
        tracing::error!("a session panicked; its connection is closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_run_on_threads_of_their_own_and_threads_are_reused() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let threads = SessionThreads::new(rt.handle().clone());
        // One session blocks its thread (as a sync entry would) until a second one
        // runs: that only happens if the second gets a thread of its own.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let done = done_tx.clone();
        threads.spawn(move || async move {
            let waited = ready_rx.recv_timeout(Duration::from_secs(60));
            let _ = done.send((waited.is_ok(), std::thread::current().id()));
        });
        let done = done_tx.clone();
        threads.spawn(move || async move {
            let _ = ready_tx.send(());
            let _ = done.send((true, std::thread::current().id()));
        });
        let (ok_a, first) = done_rx.recv_timeout(Duration::from_secs(90)).unwrap();
        let (ok_b, second) = done_rx.recv_timeout(Duration::from_secs(90)).unwrap();
        assert!(ok_a && ok_b, "the blocked session saw the other one run");
        assert_ne!(first, second);
        // Once both are idle, a new session takes one of those threads.
        while lock(&threads.inner.idle).len() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let done = done_tx.clone();
        threads.spawn(move || async move {
            let _ = done.send((true, std::thread::current().id()));
        });
        let (_, third) = done_rx.recv_timeout(Duration::from_secs(90)).unwrap();
        assert!(third == first || third == second);
    }
}
