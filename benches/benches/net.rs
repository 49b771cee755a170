//! TCP echo of 1 KiB messages: a server made of ops (accept, read, write) against a
//! plain tokio echo server, the same client driving both, all on one thread.

use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opkit::Runtime;
use opkit_benches::runtime;
use opkit_net::NetPermissions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::LocalSet;

const MESSAGE: usize = 1024;
const ROUND_TRIPS: u64 = 100;

/// An echo server through the ops only; returns its port.
async fn ops_echo_server(rt: Rc<Runtime>) -> u16 {
    let listen = rt
        .call_sync("op_net_listen_tcp_sync", br#"["127.0.0.1", 0]"#, &mut [])
        .unwrap();
    let listen: serde_json::Value = serde_json::from_slice(&listen).unwrap();
    let port = listen["local_addr"]["port"].as_u64().unwrap() as u16;
    let listener = listen["rid"].as_u64().unwrap();
    tokio::task::spawn_local(async move {
        let accepted = rt
            .call_async(
                "op_net_accept_tcp_async",
                format!("[{listener}]").as_bytes(),
                Vec::new(),
            )
            .await;
        let accepted: serde_json::Value =
            serde_json::from_slice(&accepted.result.unwrap()).unwrap();
        let args = format!("[{}]", accepted["rid"]);
        let read = rt.op_id("op_net_read_async").unwrap();
        let write = rt.op_id("op_net_write_async").unwrap();
        let mut buf = vec![0_u8; MESSAGE];
        loop {
            let out = rt.call_async(read, args.as_bytes(), vec![buf]).await;
            let n: usize = serde_json::from_slice(&out.result.unwrap()).unwrap();
            buf = out.bufs.into_iter().next().unwrap();
            if n == 0 {
                break;
            }
            buf.truncate(n);
            let out = rt.call_async(write, args.as_bytes(), vec![buf]).await;
            out.result.unwrap();
            buf = out.bufs.into_iter().next().unwrap();
            buf.resize(MESSAGE, 0);
        }
    });
    port
}

/// The floor: the same echo with tokio alone.
async fn tokio_echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::task::spawn_local(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buf = vec![0_u8; MESSAGE];
        loop {
            let n = stream.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            stream.write_all(&buf[..n]).await.unwrap();
        }
    });
    port
}

async fn round_trips(client: &mut TcpStream, count: u64) -> Duration {
    let message = vec![42_u8; MESSAGE];
    let mut back = vec![0_u8; MESSAGE];
    let start = Instant::now();
    for _ in 0..count {
        client.write_all(&message).await.unwrap();
        client.read_exact(&mut back).await.unwrap();
    }
    start.elapsed()
}

fn net(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let local = LocalSet::new();
    let perms = NetPermissions::new().allow("127.0.0.1").unwrap();
    let rt = Rc::new(runtime(vec![opkit_net::extension(perms)]));
    let (mut floor_client, mut ops_client) = local.block_on(&tokio, async {
        let floor_port = tokio_echo_server().await;
        let ops_port = ops_echo_server(rt.clone()).await;
        let floor = TcpStream::connect(("127.0.0.1", floor_port)).await.unwrap();
        let ops = TcpStream::connect(("127.0.0.1", ops_port)).await.unwrap();
        floor.set_nodelay(true).unwrap();
        ops.set_nodelay(true).unwrap();
        (floor, ops)
    });
    let mut group = c.benchmark_group("net_echo_1k");
    group.throughput(Throughput::Bytes(MESSAGE as u64 * ROUND_TRIPS));
    group.bench_function("floor_tokio_echo", |b| {
        b.iter_custom(|iters| {
            local.block_on(&tokio, round_trips(&mut floor_client, iters * ROUND_TRIPS))
        })
    });
    group.bench_function("opkit_ops_echo", |b| {
        b.iter_custom(|iters| {
            local.block_on(&tokio, round_trips(&mut ops_client, iters * ROUND_TRIPS))
        })
    });
    group.finish();
}

criterion_group!(benches, net);
criterion_main!(benches);
