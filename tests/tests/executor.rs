//! The batched executor, the default of `Runtime::new`: results of many mixed calls,
//! panics, exact cancellation before and during a body, a body blocked for good
//! beside thousands of others, and a runtime dropped with work queued.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use opkit::{
    BatchedConfig, BatchedExecutor, ErrorClass, Executor, NewResource, OpError, Resource, Runtime,
    extension, op,
};

/// A gate bodies wait at until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, changed) = &*self.0;
        let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
        while !*open {
            open = changed.wait(open).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().unwrap() = true;
        changed.notify_all();
    }
}

/// Counts the bodies that ran; its `Arc` shows what still holds the state.
#[derive(Clone, Default)]
struct Ran(Arc<AtomicUsize>);

/// Tells the test that a body has started.
#[derive(Clone)]
struct Started(tokio::sync::mpsc::UnboundedSender<()>);

struct Token;
impl Resource for Token {}

#[op(sync)]
fn op_token() -> NewResource<Token> {
    NewResource(Token)
}

#[op(async)]
fn op_hold(#[state] gate: &Gate) -> u32 {
    gate.wait();
    1
}

#[op(async)]
fn op_hold_on(#[resource] _token: &Token, #[state] gate: &Gate, #[state] started: &Started) -> u32 {
    let _ = started.0.send(());
    gate.wait();
    2
}

#[op(async)]
fn op_count_fill(
    #[resource] _token: &Token,
    #[state] ran: &Ran,
    #[buffer] out: &mut [u8],
) -> usize {
    ran.0.fetch_add(1, Ordering::SeqCst);
    out.fill(9);
    out.len()
}

#[op]
fn op_mix(a: u64, b: u64) -> u64 {
    if a.is_multiple_of(997) {
        panic!("boom {a}");
    }
    a * 3 + b
}

#[op]
fn op_checked(a: u64) -> Result<u64, OpError> {
    if a.is_multiple_of(2) {
        Ok(a / 2)
    } else {
        Err(OpError::type_error(format!("{a} is odd")))
    }
}

#[op]
fn op_fill_with(#[buffer] out: &mut [u8], byte: u8) -> usize {
    out.fill(byte);
    out.len()
}

/// Reads a FIFO: blocks in `open` until a writer comes.
#[op(async)]
fn op_read_fifo(path: String) -> Result<usize, OpError> {
    Ok(std::fs::read(path)?.len())
}

extension!(
    exec,
    ops = [
        op_token,
        op_hold,
        op_hold_on,
        op_count_fill,
        op_mix,
        op_checked,
        op_fill_with,
        op_read_fifo,
    ]
);

fn runtime_on(executor: &BatchedExecutor) -> (Runtime, Gate, Ran) {
    let rt = Runtime::new([exec()]).unwrap();
    let gate = Gate::default();
    let ran = Ran::default();
    {
        let mut state = rt.state().borrow_mut();
        state.set_executor(Executor::Batched(executor.clone()));
        state.put(gate.clone());
        state.put(ran.clone());
    }
    (rt, gate, ran)
}

/// One worker, and a watchdog that never adds one: a held body holds the executor.
fn single_worker() -> BatchedExecutor {
    BatchedExecutor::new(BatchedConfig {
        workers: 1,
        stuck_after: Duration::from_secs(3600),
        max_extra_workers: 0,
        ..BatchedConfig::default()
    })
}

/// Fails the test instead of hanging it.
async fn deadline<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(120), future).await {
        Ok(out) => out,
        Err(_) => panic!("{what} did not finish"),
    }
}

/// Waits, with a generous bound, until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    deadline(what, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
}

fn token(rt: &Runtime) -> u32 {
    let out = rt.call_sync("op_token_sync", b"[]", &mut []).unwrap();
    String::from_utf8(out).unwrap().parse().unwrap()
}

#[test]
fn runtime_new_uses_the_batched_executor() {
    let rt = Runtime::new([exec()]).unwrap();
    assert!(matches!(
        rt.state().borrow().executor(),
        Some(Executor::Batched(_))
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn a_hundred_thousand_mixed_calls_all_answer_right() {
    let mut rt = Runtime::new([exec()]).unwrap();
    let mix = rt.op_id("op_mix_async").unwrap();
    let checked = rt.op_id("op_checked_async").unwrap();
    let fill = rt.op_id("op_fill_with_async").unwrap();
    let calls = 100_000u64;
    for n in 0..calls {
        match n % 3 {
            0 => rt.submit(n, mix, format!("[{n}, 1]").as_bytes(), Vec::new()),
            1 => rt.submit(n, checked, format!("[{n}]").as_bytes(), Vec::new()),
            _ => rt.submit(
                n,
                fill,
                format!("[{}]", n % 256).as_bytes(),
                vec![vec![0; (n % 7) as usize]],
            ),
        }
    }
    let done = deadline("100,000 calls", rt.run_until_idle()).await;
    assert_eq!(done.len() as u64, calls);
    let mut seen = HashMap::new();
    for completion in done {
        let n = completion.promise_id;
        assert!(seen.insert(n, ()).is_none(), "{n} answered twice");
        match n % 3 {
            0 if n % 997 == 0 => {
                let err = completion.result.unwrap_err();
                assert_eq!(err.class(), ErrorClass::Panic, "{n}");
                assert_eq!(
                    err.to_string(),
                    format!("Panic: op_mix: the op panicked: boom {n}")
                );
            }
            0 => assert_eq!(
                completion.result.unwrap(),
                (n * 3 + 1).to_string().as_bytes()
            ),
            1 if n % 2 == 0 => {
                assert_eq!(completion.result.unwrap(), (n / 2).to_string().as_bytes())
            }
            1 => assert_eq!(
                completion.result.unwrap_err().class(),
                ErrorClass::TypeError
            ),
            _ => {
                let len = (n % 7) as usize;
                assert_eq!(completion.result.unwrap(), len.to_string().as_bytes());
                assert_eq!(completion.bufs, vec![vec![(n % 256) as u8; len]], "{n}");
            }
        }
    }
    assert_eq!(seen.len() as u64, calls);
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_cancelled_while_queued_never_runs_and_gets_its_buffer_back() {
    let executor = single_worker();
    let (mut rt, gate, ran) = runtime_on(&executor);
    rt.submit(1, "op_hold_async", b"[]", Vec::new());
    let rid = token(&rt);
    rt.submit(
        2,
        "op_count_fill_async",
        format!("[{rid}]").as_bytes(),
        vec![vec![1, 2, 3]],
    );
    rt.call_sync("op_close_sync", format!("[{rid}]").as_bytes(), &mut [])
        .unwrap();
    let cancelled = deadline("the cancelled call", rt.completions()).await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0].promise_id, 2);
    assert_eq!(
        cancelled[0].result.as_ref().unwrap_err().class(),
        ErrorClass::Interrupted
    );
    assert_eq!(
        cancelled[0].bufs,
        vec![vec![1, 2, 3]],
        "the buffer comes back as lent"
    );
    // The worker takes the cancelled job before the next one, in order.
    gate.open();
    let again = token(&rt);
    let out = deadline(
        "a later call",
        rt.call_async(
            "op_count_fill_async",
            format!("[{again}]").as_bytes(),
            vec![vec![0; 2]],
        ),
    )
    .await;
    assert_eq!(out.result.unwrap(), b"2");
    assert_eq!(ran.0.load(Ordering::SeqCst), 1, "only the later call ran");
    let held = deadline("the held call", rt.run_until_idle()).await;
    assert_eq!(held.len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_call_cancelled_while_running_is_interrupted_at_once() {
    let rt = Runtime::new([exec()]).unwrap();
    let gate = Gate::default();
    let (tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    rt.state().borrow_mut().put(gate.clone());
    rt.state().borrow_mut().put(Started(tx));
    let rid = token(&rt);
    let call = rt.call_async(
        "op_hold_on_async",
        format!("[{rid}]").as_bytes(),
        Vec::new(),
    );
    let wait = async {
        started.recv().await.unwrap();
        rt.call_sync("op_close_sync", format!("[{rid}]").as_bytes(), &mut [])
            .unwrap();
    };
    let (done, ()) = deadline("the running call", async { tokio::join!(call, wait) }).await;
    assert_eq!(done.result.unwrap_err().class(), ErrorClass::Interrupted);
    gate.open();
}

/// Opens the FIFO when the test ends, passed or failed, so that its reader returns: a
/// tokio runtime waits for its blocking threads when it is dropped, and a reader left
/// blocked would hang the test instead of failing it. Opened for reading and writing,
/// a FIFO never blocks (fifo(7)).
struct ReleaseFifo<'a>(&'a std::path::Path);

impl Drop for ReleaseFifo<'_> {
    fn drop(&mut self) {
        let _ = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(self.0);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_body_blocked_on_a_fifo_does_not_starve_ten_thousand_others() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("never-written");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let _release = ReleaseFifo(&fifo);
    // One worker: only the watchdog's extra worker can take the others.
    let executor = BatchedExecutor::new(BatchedConfig {
        workers: 1,
        ..BatchedConfig::default()
    });
    let (mut rt, _gate, _ran) = runtime_on(&executor);
    let path = serde_json::to_string(fifo.to_str().unwrap()).unwrap();
    rt.submit(
        0,
        "op_read_fifo_async",
        format!("[{path}]").as_bytes(),
        Vec::new(),
    );
    let mix = rt.op_id("op_mix_async").unwrap();
    let others = 10_000u64;
    for n in 1..=others {
        // Never a multiple of 997: none of these panics.
        rt.submit(
            n,
            mix,
            format!("[{}, {n}]", n * 997 + 1).as_bytes(),
            Vec::new(),
        );
    }
    let mut done = 0u64;
    deadline("the others", async {
        while done < others {
            for completion in rt.completions().await {
                assert_ne!(completion.promise_id, 0, "the FIFO read is still blocked");
                let n = completion.promise_id;
                let want = (n * 997 + 1) * 3 + n;
                assert_eq!(completion.result.unwrap(), want.to_string().as_bytes());
                done += 1;
            }
        }
    })
    .await;
    // The watchdog's workers did the others, and retire once idle; the stuck one stays.
    until("the extra workers to retire", || executor.workers() == 1).await;
    // A writer releases the reader, so no thread is left behind.
    std::fs::write(&fifo, b"bye").unwrap();
    let last = deadline("the FIFO read", rt.run_until_idle()).await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].result.as_ref().unwrap(), b"3");
}

#[tokio::test(flavor = "current_thread")]
async fn a_runtime_dropped_with_work_queued_leaks_nothing() {
    let executor = single_worker();
    let (mut rt, gate, ran) = runtime_on(&executor);
    rt.submit(0, "op_hold_async", b"[]", Vec::new());
    for n in 1..=100 {
        let rid = token(&rt);
        rt.submit(
            n,
            "op_count_fill_async",
            format!("[{rid}]").as_bytes(),
            vec![vec![0; 64]],
        );
    }
    drop(rt);
    gate.open();
    // Every queued job is dropped unrun, and with it the state it cloned.
    until("the queued jobs to go", || Arc::strong_count(&ran.0) == 1).await;
    assert_eq!(ran.0.load(Ordering::SeqCst), 0, "no queued body ran");
    // The idle worker retires after its keep-alive: nothing is left running.
    until("the worker to retire", || executor.workers() == 0).await;
}
