//! The executors of blocking bodies against their floors, in wall time and in CPU
//! time (user + system, every thread of the process), since workers that spin are not
//! free:
//!
//! | group | what one iteration is |
//! |---|---|
//! | `exec_stat_10k` | 10,000 `op_stat_async` in flight, against 10,000 `tokio::fs::metadata` in a `FuturesUnordered` and a sequential `std::fs::metadata` loop |
//! | `exec_stat_one` | one `op_stat_async` round trip, against one `tokio::fs::metadata` |
//! | `exec_noop_10k` | 10,000 no-op async entries in flight, against a `JoinSet` of 10,000 `spawn_blocking` no-ops |
//! | `exec_ws_batch_1k` | one JSON-RPC batch of 1,000 `op_stat_async` over WebSocket |
//!
//! Each opkit row is timed with the batched executor (`batched`, the default) and with
//! one `spawn_blocking` per call (`spawn_blocking`). The `_cpu` groups time the same
//! work with the process's CPU clock instead of the wall clock.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use opkit::{Executor, Runtime};
use opkit_benches::{joinset_noops, runtime};
use opkit_fs::{FsContext, FsPermissions};
use tokio_tungstenite::tungstenite::Message;

#[path = "support/cpu_time.rs"]
mod cpu_time;

use cpu_time::CpuTime;

const IN_FLIGHT: u64 = 10_000;
const WS_BATCH: u64 = 1_000;

/// The benches' tokio runtime: one thread, as a host thread is.
fn host() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A file to stat, in a temp root the fs ops may read.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    file: PathBuf,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let file = root.join("4k.bin");
    std::fs::write(&file, vec![7_u8; 4 << 10]).unwrap();
    Fixture {
        _dir: dir,
        root,
        file,
    }
}

fn fs_runtime(root: &Path, executor: Option<Executor>) -> Runtime {
    let ctx = FsContext::new(FsPermissions::default().allow_all(root)).with_cwd(root);
    let rt = runtime(vec![opkit_fs::extension_with(ctx)]);
    if let Some(executor) = executor {
        rt.state().borrow_mut().set_executor(executor);
    }
    rt
}

/// The two executors each opkit row is timed with.
fn executors() -> [(&'static str, Option<Executor>); 2] {
    [
        ("batched", None),
        ("spawn_blocking", Some(Executor::SpawnBlocking(None))),
    ]
}

/// Submits `IN_FLIGHT` calls of `op` with `args` and waits for every completion.
async fn in_flight(rt: &mut Runtime, op: &str, args: &[u8]) {
    let id = rt.op_id(op).unwrap();
    for promise in 0..IN_FLIGHT {
        rt.submit(promise, id, args, Vec::new());
    }
    let done = rt.run_until_idle().await;
    assert_eq!(done.len() as u64, IN_FLIGHT);
    for completion in done {
        assert!(completion.result.is_ok(), "{:?}", completion.result);
    }
}

fn stat_10k<M: Measurement>(group: &mut BenchmarkGroup<'_, M>, fixture: &Fixture) {
    let tokio = host();
    let file = &fixture.file;
    group.bench_function("floor_std_fs_loop", |b| {
        b.iter(|| {
            for _ in 0..IN_FLIGHT {
                assert_eq!(std::fs::metadata(file).unwrap().len(), 4 << 10);
            }
        })
    });
    group.bench_function("floor_tokio_fs_futures_unordered", |b| {
        b.to_async(&tokio).iter(|| async {
            let mut set: FuturesUnordered<_> =
                (0..IN_FLIGHT).map(|_| tokio::fs::metadata(file)).collect();
            let mut done = 0;
            while let Some(meta) = set.next().await {
                assert_eq!(meta.unwrap().len(), 4 << 10);
                done += 1;
            }
            assert_eq!(done, IN_FLIGHT);
        })
    });
    let args = serde_json::to_vec(&[file]).unwrap();
    for (name, executor) in executors() {
        let mut rt = fs_runtime(&fixture.root, executor);
        group.bench_function(format!("opkit_{name}"), |b| {
            b.iter(|| tokio.block_on(in_flight(&mut rt, "op_stat_async", &args)))
        });
    }
}

fn stat_one<M: Measurement>(group: &mut BenchmarkGroup<'_, M>, fixture: &Fixture) {
    let tokio = host();
    let file = &fixture.file;
    group.bench_function("floor_tokio_fs", |b| {
        b.to_async(&tokio)
            .iter(|| async { tokio::fs::metadata(file).await.unwrap().len() })
    });
    let args = serde_json::to_vec(&[file]).unwrap();
    for (name, executor) in executors() {
        let rt = fs_runtime(&fixture.root, executor);
        let stat = rt.op_id("op_stat_async").unwrap();
        group.bench_function(format!("opkit_{name}"), |b| {
            b.to_async(&tokio)
                .iter(|| async { rt.call_async(stat, &args, Vec::new()).await.result.unwrap() })
        });
    }
}

fn noop_10k<M: Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    let tokio = host();
    group.bench_function("floor_joinset", |b| {
        b.to_async(&tokio).iter(|| joinset_noops(IN_FLIGHT))
    });
    for (name, executor) in executors() {
        let mut rt = runtime(Vec::new());
        if let Some(executor) = executor {
            rt.state().borrow_mut().set_executor(executor);
        }
        group.bench_function(format!("opkit_{name}"), |b| {
            b.iter(|| tokio.block_on(in_flight(&mut rt, "op_nothing_async", b"[]")))
        });
    }
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// One opkit server with the fs ops on `root` and this executor (`None`: its
/// default), on an ephemeral loopback port of `servers`.
fn serve(servers: &tokio::runtime::Runtime, root: &Path, executor: Option<Executor>) -> SocketAddr {
    let ctx = FsContext::new(FsPermissions::default().allow_all(root)).with_cwd(root);
    let mut builder = opkit_server::Server::builder()
        .extension(opkit_fs::extension_with(ctx))
        .limits(opkit_server::Limits {
            // The whole batch in flight at once, so the executor sees all of it.
            max_concurrent: WS_BATCH as usize,
            ..opkit_server::Limits::default()
        })
        .no_token();
    if let Some(executor) = executor {
        builder = builder.executor(executor);
    }
    let server = builder.build().unwrap();
    servers.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { server.serve_listener(listener).await });
        addr
    })
}

/// Sends the batch and checks that every member was answered with a stat.
async fn ws_batch(ws: &mut Ws, batch: &str) {
    ws.send(Message::text(batch)).await.unwrap();
    let reply = loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => break text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected the batch's answer, got {other:?}"),
        }
    };
    let answers: Vec<serde_json::Value> = serde_json::from_str(reply.as_str()).unwrap();
    assert_eq!(answers.len() as u64, WS_BATCH);
    for answer in &answers {
        assert_eq!(answer["result"]["size"], 4 << 10, "{answer}");
    }
}

fn ws_batch_1k<M: Measurement>(group: &mut BenchmarkGroup<'_, M>, fixture: &Fixture) {
    // The servers on two workers (the machine's cores), the client on this thread.
    let servers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = host();
    let path = serde_json::to_string(&fixture.file).unwrap();
    let batch: Vec<String> = (0..WS_BATCH)
        .map(|n| {
            format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"op_stat_async","params":[{path}]}}"#)
        })
        .collect();
    let batch = format!("[{}]", batch.join(","));
    for (name, executor) in executors() {
        let addr = serve(&servers, &fixture.root, executor);
        let mut ws = client.block_on(async {
            let url = format!("ws://{addr}/");
            let (ws, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
                .await
                .unwrap();
            ws
        });
        group.bench_function(format!("opkit_{name}"), |b| {
            b.iter(|| client.block_on(ws_batch(&mut ws, &batch)))
        });
        client.block_on(async { ws.close(None).await.unwrap() });
    }
}

/// Every group, timed with `measurement`; `suffix` tells the CPU groups apart.
fn all<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let fixture = fixture();
    let mut group = c.benchmark_group(format!("exec_stat_10k{suffix}"));
    group.sample_size(20);
    stat_10k(&mut group, &fixture);
    group.finish();

    let mut group = c.benchmark_group(format!("exec_stat_one{suffix}"));
    stat_one(&mut group, &fixture);
    group.finish();

    let mut group = c.benchmark_group(format!("exec_noop_10k{suffix}"));
    group.sample_size(20);
    noop_10k(&mut group);
    group.finish();

    let mut group = c.benchmark_group(format!("exec_ws_batch_1k{suffix}"));
    group.sample_size(20);
    ws_batch_1k(&mut group, &fixture);
    group.finish();
}

fn wall(c: &mut Criterion) {
    all(c, "");
}

fn cpu(c: &mut Criterion<CpuTime>) {
    all(c, "_cpu");
}

criterion_group!(wall_time, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(CpuTime);
    targets = cpu
}
criterion_main!(wall_time, cpu_time);
