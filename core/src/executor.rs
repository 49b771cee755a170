//! Where the bodies of blocking ops run: [`Executor`].
//!
//! The default is a [`BatchedExecutor`]: a few workers, each itself a task of tokio's
//! blocking pool, that take bodies from one queue. The host thread pushes a body under
//! a short lock and wakes a worker only when the awake ones are fewer than the bodies
//! waiting; a worker that finds the queue empty spins for a bounded time before it
//! parks, so a burst of calls costs a wake-up or two, not one per call. Results go back through a one-shot channel each,
//! whose wakes tokio coalesces into one wake-up of the host thread.
//!
//! A body that blocks for good (a FIFO no writer opens, a hung network file system)
//! holds its worker, not the executor: a watchdog adds a worker when every worker has
//! been in one body longer than [`BatchedConfig::stuck_after`], up to
//! [`BatchedConfig::max_extra_workers`], and extra workers retire once idle.
//!
//! The alternative, [`Executor::SpawnBlocking`], is one `tokio::task::spawn_blocking`
//! per call.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// Where the bodies of blocking ops run (the async entries of plain `fn` ops).
#[derive(Clone, Debug)]
pub enum Executor {
    /// The batched executor, shared by every runtime given a clone of it.
    Batched(BatchedExecutor),
    /// One `tokio::task::spawn_blocking` per call, on this handle's runtime, or on the
    /// calling thread's runtime when `None`.
    SpawnBlocking(Option<tokio::runtime::Handle>),
}

impl Executor {
    /// The default executor of the calling thread: a [`BatchedExecutor`] shared by
    /// every runtime made on this thread while one of them lives.
    pub fn thread_default() -> Self {
        Self::Batched(BatchedExecutor::thread_default())
    }
}

/// The tuning of a [`BatchedExecutor`].
#[derive(Clone, Debug)]
pub struct BatchedConfig {
    /// How many workers run bodies (default: the available cores).
    pub workers: usize,
    /// How long a worker that found no work looks again before it parks (default 50 µs).
    pub spin: Duration,
    /// How long every worker must have been in one body before the watchdog adds a
    /// worker (default 10 ms).
    pub stuck_after: Duration,
    /// How many workers the watchdog may add (default 64).
    pub max_extra_workers: usize,
    /// How many bodies may wait in the queue; past it a call fails with
    /// `ResourceExhausted` (default 1,048,576).
    pub max_queued: usize,
    /// How long a parked worker waits for work before it retires (default 200 ms). A
    /// worker is a task of tokio's blocking pool, and dropping a tokio runtime waits for
    /// those: this bounds that wait when an executor outlives its runtime.
    pub keep_alive: Duration,
}

impl Default for BatchedConfig {
    fn default() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(2, usize::from),
            spin: Duration::from_micros(50),
            stuck_after: Duration::from_millis(10),
            max_extra_workers: 64,
            max_queued: 1 << 20,
            keep_alive: Duration::from_millis(200),
        }
    }
}

/// A body on its way to a worker.
pub(crate) trait Task: Send + Sync {
    /// Runs it, on a worker.
    fn run(&self);
    /// The executor shut down with it still queued: it will never run.
    fn abandon(&self);
}

/// A queued body: shared with the call that waits for it, so queueing it allocates
/// nothing more.
pub(crate) type Job = Arc<dyn Task>;

/// The batched executor (see the module docs). Cloning it shares it; its workers exit
/// when the last clone is dropped, and the bodies still queued then are dropped unrun.
#[derive(Clone)]
pub struct BatchedExecutor {
    owner: Arc<Owner>,
}

impl fmt::Debug for BatchedExecutor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let queue = self.owner.shared.lock();
        f.debug_struct("BatchedExecutor")
            .field("workers", &queue.workers)
            .field("queued", &queue.jobs.len())
            .finish_non_exhaustive()
    }
}

/// Shuts the workers down when the last `BatchedExecutor` goes.
struct Owner {
    shared: Arc<Shared>,
}

impl Drop for Owner {
    fn drop(&mut self) {
        let dropped = {
            let mut queue = self.shared.lock();
            queue.shutdown = true;
            std::mem::take(&mut queue.jobs)
        };
        self.shared.work.notify_all();
        self.shared.watch.notify_all();
        // Told outside the lock: a job's waker may run arbitrary code.
        for job in dropped {
            job.abandon();
        }
    }
}

struct Shared {
    config: BatchedConfig,
    /// The runtime whose blocking pool hosts the workers; `None`: the submitting
    /// thread's.
    spawner: Option<tokio::runtime::Handle>,
    queue: Mutex<Queue>,
    /// Parked workers wait here.
    work: Condvar,
    /// The watchdog waits here, so that it never takes a worker's wake-up.
    watch: Condvar,
    /// Jobs in the queue, read by spinning workers without the lock.
    queued: AtomicUsize,
    /// Jobs queued or running: a caller whose job is the only one may spin for it.
    in_flight: AtomicUsize,
    /// When a worker last started or finished a body, in µs since `epoch`: no event for
    /// `stuck_after` while every worker is busy means every worker is stuck.
    last_event: AtomicU64,
    epoch: Instant,
}

struct Queue {
    jobs: VecDeque<Job>,
    /// Live workers, extra ones included.
    workers: usize,
    /// Workers added by the watchdog, still alive.
    extra: usize,
    /// Workers running a body.
    busy: usize,
    /// Workers parked on `work`.
    parked: usize,
    /// Workers spinning: they will see a new job without a wake-up.
    spinning: usize,
    /// Parked workers notified that have not woken yet.
    waking: usize,
    /// Workers spawned that have not started yet.
    starting: usize,
    watchdog: bool,
    /// The watchdog sleeps with nothing to watch: the next body queued wakes it.
    watchdog_idle: bool,
    shutdown: bool,
}

thread_local! {
    static THREAD_DEFAULT: std::cell::RefCell<Weak<Owner>> = const {
        std::cell::RefCell::new(Weak::new())
    };
}

impl Default for BatchedExecutor {
    fn default() -> Self {
        Self::new(BatchedConfig::default())
    }
}

impl BatchedExecutor {
    /// An executor with this tuning, whose workers run in the blocking pool of the
    /// runtime that submits the first body. No worker starts before then.
    pub fn new(config: BatchedConfig) -> Self {
        Self::build(config, None)
    }

    /// An executor whose workers run in `handle`'s blocking pool, whichever thread
    /// submits: what a server whose sessions each have their own runtime shares.
    pub fn on_runtime(config: BatchedConfig, handle: tokio::runtime::Handle) -> Self {
        Self::build(config, Some(handle))
    }

    fn build(config: BatchedConfig, spawner: Option<tokio::runtime::Handle>) -> Self {
        let config = BatchedConfig {
            workers: config.workers.max(1),
            max_queued: config.max_queued.max(1),
            ..config
        };
        Self {
            owner: Arc::new(Owner {
                shared: Arc::new(Shared {
                    config,
                    spawner,
                    queue: Mutex::new(Queue {
                        jobs: VecDeque::new(),
                        workers: 0,
                        extra: 0,
                        busy: 0,
                        parked: 0,
                        spinning: 0,
                        waking: 0,
                        starting: 0,
                        watchdog: false,
                        watchdog_idle: false,
                        shutdown: false,
                    }),
                    work: Condvar::new(),
                    watch: Condvar::new(),
                    queued: AtomicUsize::new(0),
                    in_flight: AtomicUsize::new(0),
                    last_event: AtomicU64::new(0),
                    epoch: Instant::now(),
                }),
            }),
        }
    }

    /// The calling thread's shared default executor, made on first use and kept while
    /// any runtime holds it.
    pub fn thread_default() -> Self {
        THREAD_DEFAULT.with_borrow_mut(|slot| match slot.upgrade() {
            Some(owner) => Self { owner },
            None => {
                let executor = Self::default();
                *slot = Arc::downgrade(&executor.owner);
                executor
            }
        })
    }

    /// The tuning it runs with.
    pub fn config(&self) -> &BatchedConfig {
        &self.owner.shared.config
    }

    /// How many workers are alive now, extra ones included.
    pub fn workers(&self) -> usize {
        self.owner.shared.lock().workers
    }

    /// Queues `job`, and wakes or starts a worker when the workers already awake
    /// (spinning, just woken, starting) are fewer than the jobs waiting. Fails when the
    /// queue is full, or when no tokio runtime can host a new worker.
    pub(crate) fn submit(&self, job: Job) -> Result<(), SubmitError> {
        let shared = &self.owner.shared;
        let spawner = || match &shared.spawner {
            Some(handle) => Ok(handle.clone()),
            None => tokio::runtime::Handle::try_current().map_err(|_| SubmitError::NoRuntime),
        };
        let mut queue = shared.lock();
        if queue.jobs.len() >= shared.config.max_queued {
            return Err(SubmitError::Full(shared.config.max_queued));
        }
        let mut wake = false;
        if queue.jobs.len() >= queue.spinning + queue.waking + queue.starting {
            if queue.parked > queue.waking {
                queue.waking += 1;
                wake = true;
            } else if queue.workers < shared.config.workers {
                let handle = spawner()?;
                queue.workers += 1;
                queue.starting += 1;
                spawn_worker(&handle, shared, false);
            }
        }
        queue.jobs.push_back(job);
        shared.queued.store(queue.jobs.len(), Ordering::Release);
        shared.in_flight.fetch_add(1, Ordering::Relaxed);
        let watchdog = if queue.watchdog { None } else { spawner().ok() };
        if watchdog.is_some() {
            queue.watchdog = true;
        }
        let wake_watchdog = std::mem::take(&mut queue.watchdog_idle);
        drop(queue);
        if wake {
            shared.work.notify_one();
        }
        if wake_watchdog {
            shared.watch.notify_one();
        }
        if let Some(handle) = watchdog {
            let shared = Arc::clone(shared);
            let host = handle.clone();
            handle.spawn_blocking(move || shared.watch(&host));
        }
        Ok(())
    }
}

impl BatchedExecutor {
    /// Waits for `done` by spinning, for up to [`BatchedConfig::spin`], when the
    /// caller's body is the only one queued or running, and returns at once otherwise.
    /// A lone call is then answered without parking the host thread and waking it
    /// again, which costs more than a short body on a virtual machine; with other
    /// bodies in flight the host has their answers to take instead.
    pub(crate) fn spin_alone(&self, done: impl Fn() -> bool) {
        let shared = &self.owner.shared;
        if shared.in_flight.load(Ordering::Relaxed) != 1 {
            return;
        }
        let start = Instant::now();
        let mut rounds = 0u32;
        while !done() && start.elapsed() < shared.config.spin {
            rounds += 1;
            if rounds.is_multiple_of(64) {
                if shared.in_flight.load(Ordering::Relaxed) != 1 {
                    return;
                }
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// Why a body could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubmitError {
    /// The queue holds this many bodies already.
    Full(usize),
    /// There is no tokio runtime on this thread to start a worker in.
    NoRuntime,
}

fn spawn_worker(handle: &tokio::runtime::Handle, shared: &Arc<Shared>, extra: bool) {
    let shared = Arc::clone(shared);
    handle.spawn_blocking(move || shared.work_loop(extra));
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // A panic never happens under this lock (jobs run outside it), so a poisoned
        // lock still holds a consistent queue.
        self.queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now_micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn mark_event(&self) {
        self.last_event.store(self.now_micros(), Ordering::Relaxed);
    }

    /// One worker: take a job, run it, spin a little when there is none, then park.
    ///
    /// It takes one job at a time, so that every job not started stays in the queue,
    /// where the other workers, and the watchdog's, can reach it: a job taken in a
    /// batch behind one that blocks for good would wait with it.
    fn work_loop(&self, extra: bool) {
        let mut queue = self.lock();
        if !extra {
            queue.starting = queue.starting.saturating_sub(1);
        }
        loop {
            if queue.shutdown {
                break;
            }
            if let Some(job) = queue.jobs.pop_front() {
                self.queued.store(queue.jobs.len(), Ordering::Release);
                // More waiting than awake workers to take it: pass a wake-up on.
                let wake =
                    queue.jobs.len() > queue.spinning + queue.waking && queue.parked > queue.waking;
                if wake {
                    queue.waking += 1;
                }
                queue.busy += 1;
                drop(queue);
                if wake {
                    self.work.notify_one();
                }
                self.mark_event();
                // Each job catches its body's panics; this is a second line.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
                drop(job);
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                self.mark_event();
                queue = self.lock();
                queue.busy -= 1;
                continue;
            }
            // Nothing queued: look again for a while before parking.
            queue.spinning += 1;
            drop(queue);
            let found = self.spin();
            queue = self.lock();
            queue.spinning -= 1;
            if found || !queue.jobs.is_empty() || queue.shutdown {
                continue;
            }
            if extra {
                // The watchdog's workers go once there is nothing left to do.
                break;
            }
            queue.parked += 1;
            let (woken, waited) = self
                .work
                .wait_timeout(queue, self.config.keep_alive)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue = woken;
            queue.parked -= 1;
            // Whoever was notified is up (after a spurious wake-up this lets one more
            // notification through, which costs nothing).
            queue.waking = queue.waking.saturating_sub(1);
            if waited.timed_out() && queue.jobs.is_empty() {
                break;
            }
        }
        queue.workers -= 1;
        if extra {
            queue.extra -= 1;
        }
    }

    /// Spins for up to `config.spin`, true as soon as a job is queued.
    fn spin(&self) -> bool {
        let start = Instant::now();
        let mut rounds = 0u32;
        while start.elapsed() < self.config.spin {
            if self.queued.load(Ordering::Acquire) > 0 {
                return true;
            }
            rounds += 1;
            if rounds.is_multiple_of(64) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        false
    }

    /// The watchdog: while there is work, adds a worker each time every worker is busy,
    /// bodies wait, and no body has started or finished for `stuck_after`. With nothing
    /// to watch it sleeps until a body is queued, and goes after `keep_alive` of that,
    /// so a run of calls starts it once and an idle executor costs no wake-ups.
    fn watch(self: Arc<Self>, handle: &tokio::runtime::Handle) {
        let period = self.config.stuck_after.max(Duration::from_millis(1));
        let stuck = u64::try_from(period.as_micros()).unwrap_or(u64::MAX);
        let mut idle_since: Option<Instant> = None;
        let mut queue = self.lock();
        while !queue.shutdown {
            if queue.jobs.is_empty() && queue.busy == 0 {
                // Nothing to watch: sleep until the next body is queued, or go.
                let since = *idle_since.get_or_insert_with(Instant::now);
                let left = self.config.keep_alive.saturating_sub(since.elapsed());
                if left.is_zero() {
                    break;
                }
                queue.watchdog_idle = true;
                queue = self
                    .watch
                    .wait_timeout(queue, left)
                    .map(|(queue, _)| queue)
                    .unwrap_or_else(|err| err.into_inner().0);
                queue.watchdog_idle = false;
                continue;
            }
            idle_since = None;
            let quiet = self
                .now_micros()
                .saturating_sub(self.last_event.load(Ordering::Relaxed));
            if !queue.jobs.is_empty()
                && queue.busy >= queue.workers
                && quiet >= stuck
                && queue.extra < self.config.max_extra_workers
            {
                queue.workers += 1;
                queue.extra += 1;
                self.mark_event();
                spawn_worker(handle, &self, true);
            }
            queue = self
                .watch
                .wait_timeout(queue, period / 2)
                .map(|(queue, _)| queue)
                .unwrap_or_else(|err| err.into_inner().0);
        }
        queue.watchdog = false;
    }
}
