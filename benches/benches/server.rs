//! Requests per second of one trivial op over JSON-RPC 2.0 on loopback: opkit-server
//! against a jsonrpsee server answering the same method, the same client driving
//! both, in one run.
//!
//! Each group is one shape, timed on both servers:
//!
//! | group | what the client does |
//! |---|---|
//! | `server_ws_sequential` | one request at a time on one WebSocket |
//! | `server_ws_pipelined` | [`WS_IN_FLIGHT`] requests in flight on one WebSocket |
//! | `server_http_sequential` | one POST at a time on one keep-alive connection |
//! | `server_http_concurrent` | [`HTTP_CLIENTS`] clients, each posting one at a time on a keep-alive connection of its own |
//!
//! Request `n` is `op_add_sync(n, 1)` with id `n`, and every answer is checked to be
//! `n + 1`, so that an error answer cannot be timed as a fast one.
//!
//! Both servers run on one multi-thread tokio runtime of 2 workers (the machine's
//! cores), the client on a current-thread runtime of its own on the bench's thread:
//! the client's sockets are then polled by its own thread and never take the servers'
//! workers, so each server gets the same two workers and the same client. opkit runs
//! each session on a thread of its own besides (see `server/src/threads.rs`); that is
//! its design, so it is part of what is timed.

use std::net::SocketAddr;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

mod rpc;
use rpc::*;

/// Requests per criterion iteration: times in the report are per this many.
const REQUESTS: u64 = 100;

/// Times one shape on every server, each over a connection of its own made before
/// its timing starts and closed after it.
fn bench_shape<C>(
    c: &mut Criterion,
    group: &str,
    servers: &[Running],
    mut connect: impl FnMut(SocketAddr) -> C,
    mut run: impl FnMut(&mut C, u64) -> Duration,
) {
    let mut group = c.benchmark_group(group);
    group.throughput(Throughput::Elements(REQUESTS));
    for server in servers {
        let mut connection = connect(server.addr);
        group.bench_function(server.name, |b| {
            b.iter_custom(|iters| run(&mut connection, iters * REQUESTS))
        });
    }
    group.finish();
}

fn server(c: &mut Criterion) {
    let (servers_rt, client, servers) = start();
    bench_shape(
        c,
        "server_ws_sequential",
        &servers,
        |addr| client.block_on(ws_connect(addr)),
        |ws, count| client.block_on(ws_sequential(ws, count)),
    );
    bench_shape(
        c,
        "server_ws_pipelined",
        &servers,
        |addr| client.block_on(ws_connect(addr)),
        |ws, count| client.block_on(ws_pipelined(ws, count)),
    );
    bench_shape(
        c,
        "server_http_sequential",
        &servers,
        http_connect,
        |http, count| client.block_on(http_sequential(http, count)),
    );
    bench_shape(
        c,
        "server_http_concurrent",
        &servers,
        http_connect,
        |http, count| client.block_on(http_concurrent(http, count)),
    );
    // Every client connection is closed by now, so the servers stop at once.
    for server in servers {
        servers_rt.block_on(server.stop);
    }
}

criterion_group!(benches, server);
criterion_main!(benches);
