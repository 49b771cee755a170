//! The threads connections run on: one connection a thread at a time, threads reused.
//!
//! A session's runtime is single-threaded, and its sync entries run inline on that
//! thread. Were sessions to share threads, one session reading a large file with a
//! sync entry would stall every session beside it. So each connection gets a thread
//! of its own for as long as it lives, and the kernel's scheduler shares the cores
//! among them. Threads are kept for reuse (most recently idle first) and retire after
//! sitting idle for [`KEEP_ALIVE`]. Their number is bounded by the server's
//! connection cap.
//!
//! Each thread owns a current-thread tokio runtime, with its own reactor and timers:
//! a connection's socket is registered there, so the thread that answers a request
//! is the one the kernel wakes when it arrives, with no hop through another thread.
//! The bodies of a session's blocking ops go to the executor all sessions share, whose
//! workers live in the serving runtime's blocking pool (see
//! `ServerBuilder::executor`); the thread's own pool, for `tokio::fs` and the
//! like, is kept small. Tasks a session `tokio::spawn`s run on its thread, also while
//! the thread waits for its next connection, and end when the thread retires.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// How long an idle thread waits for a new connection before it exits.
const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Threads of each thread's own blocking pool (`tokio::fs`, `lookup_host`).
const OWN_BLOCKING_THREADS: usize = 4;

type Job = Box<dyn FnOnce(&tokio::runtime::Runtime) + Send>;

/// A pool of connection threads.
#[derive(Clone, Default)]
pub struct SessionThreads {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The idle threads, each by its id and the sender of its job channel.
    idle: Mutex<Vec<(u64, UnboundedSender<Job>)>>,
    next_id: AtomicU64,
}

impl SessionThreads {
    /// Runs the future `make` returns on a thread of its own, inside a `LocalSet` of
    /// that thread's runtime, until it completes. When no thread can be started, the
    /// job is dropped unstarted, which its transport sees as closed channels.
    pub fn spawn<F, Fut>(&self, make: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let mut job: Job = Box::new(move |rt: &tokio::runtime::Runtime| {
            let local = tokio::task::LocalSet::new();
            rt.block_on(local.run_until(make()));
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

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<(u64, UnboundedSender<Job>)>> {
        lock(&self.inner.idle)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while the list was held cannot leave it inconsistent: take it as is.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn worker(inner: Arc<Inner>, first: Job) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(OWN_BLOCKING_THREADS)
        .thread_name("opkit-session-pool")
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            // The job is dropped: its connection closes.
            tracing::warn!("cannot start a session thread's runtime: {err}");
            return;
        }
    };
    run(&rt, first);
    let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
    let (sender, mut jobs): (UnboundedSender<Job>, UnboundedReceiver<Job>) = unbounded_channel();
    loop {
        lock(&inner.idle).push((id, sender.clone()));
        // Waiting inside the runtime keeps driving the tasks sessions spawned.
        let next = rt.block_on(async { tokio::time::timeout(KEEP_ALIVE, jobs.recv()).await });
        match next {
            Ok(Some(job)) => run(&rt, job),
            Ok(None) => return,
            Err(_elapsed) => {
                let mut idle = lock(&inner.idle);
                if let Some(at) = idle.iter().position(|(other, _)| *other == id) {
                    idle.remove(at);
                    return;
                }
                drop(idle);
                // Taken off the list just now: its job is on the way.
                match rt.block_on(jobs.recv()) {
                    Some(job) => run(&rt, job),
                    None => return,
                }
            }
        }
    }
}

/// A panicking job ends; its thread lives on for the next one.
fn run(rt: &tokio::runtime::Runtime, job: Job) {
    if std::panic::catch_unwind(AssertUnwindSafe(|| job(rt))).is_err() {
        tracing::error!("a session panicked; its connection is closed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_run_on_threads_of_their_own_and_threads_are_reused() {
        let threads = SessionThreads::default();
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
