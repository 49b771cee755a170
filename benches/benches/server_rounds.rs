//! opkit-server against jsonrpsee in interleaved rounds, with the servers' CPU time.
//!
//! Criterion (`server.rs`) times one server's shape for seconds and then the other's,
//! so a shared host that slows down between the two moves the ratio. Here each round
//! runs the same requests on both servers back to back, in alternating order, and
//! the figures are totals over all rounds. (On a shared host the pace of a pass
//! can depend on its place in the round, so a ratio taken per round swings; each
//! server runs first in half the rounds, and the totals even that out.)
//!
//! The servers' CPU time per request is the process's CPU time less the client's
//! thread's (the client runs on a current-thread runtime on this thread), so it
//! counts every server thread: tokio's workers and opkit's session threads.
//!
//! `cargo bench -p opkit-benches --bench server_rounds` prints the table and writes it
//! to `target/server_rounds.md`; without `--bench` (as `cargo test --benches` runs
//! it) it does one short round, to check that everything still answers.

use std::time::Duration;

use rustix::time::{ClockId, clock_gettime};

mod rpc;
use rpc::*;

/// One shape's measurement on one server in one round.
#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    /// The server's CPU time: the process's less the client's thread's.
    server_cpu: Duration,
}

fn cpu(clock: ClockId) -> Duration {
    let now = clock_gettime(clock);
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

fn main() {
    let full = std::env::args().any(|arg| arg == "--bench");
    // Other arguments pick shapes by a word of their name (`HTTP`, `WebSocket`).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let picked =
        |name: &str| only.is_empty() || only.iter().any(|word| name.contains(word.as_str()));
    let (rounds, requests) = if full { (20, 2_000) } else { (1, 50) };
    let (servers_rt, client, servers) = start();

    let mut table = String::from(
        "| shape | throughput, opkit / jsonrpsee | time per request, opkit | jsonrpsee | server CPU per request, opkit | jsonrpsee | CPU, opkit / jsonrpsee |\n|---|---|---|---|---|---|---|\n",
    );
    let mut shape = |name: &str, run: &mut dyn FnMut(usize, u64) -> Duration| {
        if !picked(name) {
            return;
        }
        let mut samples: Vec<[Sample; 2]> = Vec::new();
        for round in 0..rounds {
            let mut pair = [Sample {
                wall: Duration::ZERO,
                server_cpu: Duration::ZERO,
            }; 2];
            let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for server in order {
                // Untimed first: a connection that the other server's turn left idle
                // answers its first requests at another pace than a busy one.
                run(server, requests / 10 + 1);
                let process = cpu(ClockId::ProcessCPUTime);
                let thread = cpu(ClockId::ThreadCPUTime);
                let wall = run(server, requests);
                let client_cpu = cpu(ClockId::ThreadCPUTime).saturating_sub(thread);
                let all_cpu = cpu(ClockId::ProcessCPUTime).saturating_sub(process);
                pair[server] = Sample {
                    wall,
                    server_cpu: all_cpu.saturating_sub(client_cpu),
                };
            }
            samples.push(pair);
        }
        // Totals over all rounds: each server ran first in half of them.
        let total = |server: usize, of: fn(&Sample) -> Duration| -> f64 {
            samples
                .iter()
                .map(|pair| of(&pair[server]).as_secs_f64())
                .sum()
        };
        let per_request = |seconds: f64| seconds * 1e6 / (rounds as u64 * requests) as f64;
        let wall = |server| per_request(total(server, |sample| sample.wall));
        let cpu = |server| per_request(total(server, |sample| sample.server_cpu));
        let (opkit_wall, jsonrpsee_wall) = (wall(0), wall(1));
        let (opkit_cpu, jsonrpsee_cpu) = (cpu(0), cpu(1));
        table.push_str(&format!(
            "| {name} | {:.2} | {opkit_wall:.1} µs | {jsonrpsee_wall:.1} µs | {opkit_cpu:.1} µs | {jsonrpsee_cpu:.1} µs | {:.2} |\n",
            jsonrpsee_wall / opkit_wall,
            opkit_cpu / jsonrpsee_cpu,
        ));
    };

    let mut ws: Vec<Ws> = if picked("WebSocket") {
        let connect = |server: &Running| client.block_on(ws_connect(server.addr));
        servers.iter().map(connect).collect()
    } else {
        Vec::new()
    };
    shape("WebSocket, one request at a time", &mut |server, count| {
        client.block_on(ws_sequential(&mut ws[server], count))
    });
    shape(
        &format!("WebSocket, {WS_IN_FLIGHT} requests in flight"),
        &mut |server, count| client.block_on(ws_pipelined(&mut ws[server], count)),
    );
    drop(ws);
    let mut http: Vec<Http> = servers.iter().map(|s| http_connect(s.addr)).collect();
    shape(
        "HTTP POST, one request at a time on a keep-alive connection",
        &mut |server, count| client.block_on(http_sequential(&mut http[server], count)),
    );
    shape(
        &format!("HTTP POST, {HTTP_CLIENTS} concurrent keep-alive clients"),
        &mut |server, count| client.block_on(http_concurrent(&mut http[server], count)),
    );
    drop(http);

    println!("{table}");
    if full {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
        let path = target.join("server_rounds.md");
        if let Err(err) = std::fs::write(&path, &table) {
            eprintln!("cannot write {}: {err}", path.display());
        }
    }
    for server in servers {
        servers_rt.block_on(server.stop);
    }
}
