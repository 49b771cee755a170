//! Reads criterion's estimates (and the compile-cost result) and writes the table of
//! medians, ratios and targets into BENCHMARKS.md, between its markers.
//!
//! `cargo run --release -p opkit-benches --bin report` after `cargo bench`.

#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Where criterion wrote its estimates, found as criterion finds it: `$CRITERION_HOME`,
/// else `$CARGO_TARGET_DIR/criterion`, else the workspace's `target/criterion`.
fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(target) => PathBuf::from(target).join("criterion"),
        None => workspace().join("target/criterion"),
    }
}

/// The median of one benchmark, in nanoseconds.
fn median(group: &str, bench: &str) -> Option<f64> {
    let path = criterion_home()
        .join(group)
        .join(bench)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}

fn time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// How a ratio is judged.
#[derive(Clone, Copy)]
enum Target {
    AtMost(f64),
    AtLeast(f64),
    Report,
}

struct Row {
    what: &'static str,
    group: &'static str,
    subject: &'static str,
    floor: &'static str,
    /// Throughput rows compare floor time / subject time.
    throughput: bool,
    target: Target,
}

const ROWS: &[Row] = &[
    Row {
        what: "sync dispatch by id, `op_add` JSON→JSON",
        group: "sync_dispatch",
        subject: "opkit_by_id",
        floor: "floor_hand_serde",
        throughput: false,
        target: Target::AtMost(1.10),
    },
    Row {
        what: "sync dispatch by id, `op_add` with named arguments vs a hand-written struct",
        group: "sync_dispatch",
        subject: "opkit_named_by_id",
        floor: "floor_named_hand_serde",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "sync dispatch by id, `op_scale(point: Point, k: f64)` (serde-decoded arguments)",
        group: "sync_dispatch",
        subject: "opkit_struct_by_id",
        floor: "floor_struct_hand_serde",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "by name vs by id",
        group: "sync_dispatch",
        subject: "opkit_by_name",
        floor: "opkit_by_id",
        throughput: false,
        target: Target::AtMost(1.10),
    },
    Row {
        what: "opkit vs the seed's `serde_json::Value` path",
        group: "sync_dispatch",
        subject: "opkit_by_id",
        floor: "seed_value_baseline",
        throughput: false,
        target: Target::AtMost(0.50),
    },
    Row {
        what: "async hop: no-op async entry vs bare `spawn_blocking`",
        group: "async_hop",
        subject: "opkit_async_entry",
        floor: "floor_spawn_blocking",
        throughput: false,
        target: Target::AtMost(1.20),
    },
    Row {
        what: "event loop, 10,000 in flight vs `JoinSet` (time per batch)",
        group: "event_loop_10k",
        subject: "opkit_submit_completions",
        floor: "floor_joinset",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "event loop, 10,000 in flight vs a `FuturesUnordered` of `spawn_blocking` handles",
        group: "event_loop_10k",
        subject: "opkit_submit_completions",
        floor: "floor_futures_unordered",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_async` vs `tokio::fs::metadata`",
        group: "fs_stat",
        subject: "opkit_op_stat_async",
        floor: "floor_tokio_fs",
        throughput: false,
        target: Target::AtMost(1.10),
    },
    Row {
        what: "`op_stat_async` vs `std::fs::metadata`",
        group: "fs_stat",
        subject: "opkit_op_stat_async",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_read_file_async` 4 KiB vs `tokio::fs::read`",
        group: "fs_read_file_4k",
        subject: "opkit_op_read_file_async",
        floor: "floor_tokio_fs",
        throughput: false,
        target: Target::AtMost(1.10),
    },
    Row {
        what: "`op_read_file_async` 4 KiB vs `std::fs::read`",
        group: "fs_read_file_4k",
        subject: "opkit_op_read_file_async",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_read_file_async` 1 MiB vs `tokio::fs::read`",
        group: "fs_read_file_1m",
        subject: "opkit_op_read_file_async",
        floor: "floor_tokio_fs",
        throughput: false,
        target: Target::AtMost(1.10),
    },
    Row {
        what: "`op_read_file_async` 1 MiB vs `std::fs::read`",
        group: "fs_read_file_1m",
        subject: "opkit_op_read_file_async",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_sync` vs `std::fs::metadata`, an absolute 4-component path",
        group: "fs_sync_stat_abs",
        subject: "opkit_op_stat_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::AtMost(1.30),
    },
    Row {
        what: "`op_stat_sync` vs `std::fs::metadata` answered as the same JSON, an absolute 4-component path",
        group: "fs_sync_stat_abs",
        subject: "opkit_op_stat_sync",
        floor: "floor_std_fs_json",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`openat2` + `statx` + `close` by hand vs `std::fs::metadata`, an absolute 4-component path",
        group: "fs_sync_stat_abs",
        subject: "floor_openat2_statx_close",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_sync` by the walk (no `openat2`) vs `std::fs::metadata`, an absolute 4-component path",
        group: "fs_sync_stat_abs",
        subject: "opkit_op_stat_sync_walk",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_sync` vs `std::fs::metadata`, a relative path",
        group: "fs_sync_stat_rel",
        subject: "opkit_op_stat_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::AtMost(1.30),
    },
    Row {
        what: "`op_stat_sync` vs `std::fs::metadata` answered as the same JSON, a relative path",
        group: "fs_sync_stat_rel",
        subject: "opkit_op_stat_sync",
        floor: "floor_std_fs_json",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`openat2` + `statx` + `close` by hand vs `std::fs::metadata`, a relative path",
        group: "fs_sync_stat_rel",
        subject: "floor_openat2_statx_close",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_sync` by the walk (no `openat2`) vs `std::fs::metadata`, a relative path",
        group: "fs_sync_stat_rel",
        subject: "opkit_op_stat_sync_walk",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_sync` vs `std::fs::metadata`, a name in the root (one `statx`)",
        group: "fs_sync_stat_top",
        subject: "opkit_op_stat_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_stat_sync` vs `std::fs::metadata` answered as the same JSON, a name in the root (one `statx`)",
        group: "fs_sync_stat_top",
        subject: "opkit_op_stat_sync",
        floor: "floor_std_fs_json",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "`op_read_file_sync` 4 KiB vs `std::fs::read`, an absolute 4-component path",
        group: "fs_sync_read_file_4k_abs",
        subject: "opkit_op_read_file_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::AtMost(1.30),
    },
    Row {
        what: "`op_read_file_sync` 4 KiB vs `std::fs::read`, a relative path",
        group: "fs_sync_read_file_4k_rel",
        subject: "opkit_op_read_file_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::AtMost(1.30),
    },
    Row {
        what: "`op_open_sync` + `op_close_sync` vs `File::open` + drop, an absolute 4-component path",
        group: "fs_sync_open_close_abs",
        subject: "opkit_op_open_close_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::AtMost(1.50),
    },
    Row {
        what: "`op_open_sync` + `op_close_sync` vs `File::open` + drop, a relative path",
        group: "fs_sync_open_close_rel",
        subject: "opkit_op_open_close_sync",
        floor: "floor_std_fs",
        throughput: false,
        target: Target::AtMost(1.50),
    },
    Row {
        what: "TCP echo 1 KiB through ops vs plain tokio (throughput)",
        group: "net_echo_1k",
        subject: "opkit_ops_echo",
        floor: "floor_tokio_echo",
        throughput: true,
        target: Target::AtLeast(0.80),
    },
    Row {
        what: "JSON-RPC `op_add_sync` over WebSocket, one request at a time: opkit / jsonrpsee (throughput, times per 100 requests)",
        group: "server_ws_sequential",
        subject: "opkit_server",
        floor: "jsonrpsee",
        throughput: true,
        target: Target::Report,
    },
    Row {
        what: "JSON-RPC `op_add_sync` over WebSocket, 64 requests in flight: opkit / jsonrpsee (throughput, times per 100 requests)",
        group: "server_ws_pipelined",
        subject: "opkit_server",
        floor: "jsonrpsee",
        throughput: true,
        target: Target::Report,
    },
    Row {
        what: "JSON-RPC `op_add_sync` over HTTP POST, one request at a time on a keep-alive connection: opkit / jsonrpsee (throughput, times per 100 requests)",
        group: "server_http_sequential",
        subject: "opkit_server",
        floor: "jsonrpsee",
        throughput: true,
        target: Target::Report,
    },
    Row {
        what: "JSON-RPC `op_add_sync` over HTTP POST, 16 concurrent keep-alive clients: opkit / jsonrpsee (throughput, times per 100 requests)",
        group: "server_http_concurrent",
        subject: "opkit_server",
        floor: "jsonrpsee",
        throughput: true,
        target: Target::Report,
    },
    Row {
        what: "10,000 `op_stat_async` in flight, batched executor, vs 10,000 `tokio::fs::metadata` in a `FuturesUnordered`",
        group: "exec_stat_10k",
        subject: "opkit_batched",
        floor: "floor_tokio_fs_futures_unordered",
        throughput: false,
        target: Target::AtMost(0.20),
    },
    Row {
        what: "10,000 `op_stat_async` in flight, batched executor, vs a sequential `std::fs::metadata` loop",
        group: "exec_stat_10k",
        subject: "opkit_batched",
        floor: "floor_std_fs_loop",
        throughput: false,
        target: Target::AtMost(2.00),
    },
    Row {
        what: "10,000 `op_stat_async` in flight, `spawn_blocking` executor, vs 10,000 `tokio::fs::metadata` in a `FuturesUnordered`",
        group: "exec_stat_10k",
        subject: "opkit_spawn_blocking",
        floor: "floor_tokio_fs_futures_unordered",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time (user + sys) of 10,000 `op_stat_async` in flight, batched executor, vs 10,000 `tokio::fs::metadata` in a `FuturesUnordered`",
        group: "exec_stat_10k_cpu",
        subject: "opkit_batched",
        floor: "floor_tokio_fs_futures_unordered",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time of 10,000 `op_stat_async` in flight, batched executor, vs a sequential `std::fs::metadata` loop",
        group: "exec_stat_10k_cpu",
        subject: "opkit_batched",
        floor: "floor_std_fs_loop",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time of 10,000 `op_stat_async` in flight, `spawn_blocking` executor, vs 10,000 `tokio::fs::metadata` in a `FuturesUnordered`",
        group: "exec_stat_10k_cpu",
        subject: "opkit_spawn_blocking",
        floor: "floor_tokio_fs_futures_unordered",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "one `op_stat_async` round trip, batched executor, vs `tokio::fs::metadata`",
        group: "exec_stat_one",
        subject: "opkit_batched",
        floor: "floor_tokio_fs",
        throughput: false,
        target: Target::AtMost(0.50),
    },
    Row {
        what: "one `op_stat_async` round trip, `spawn_blocking` executor, vs `tokio::fs::metadata`",
        group: "exec_stat_one",
        subject: "opkit_spawn_blocking",
        floor: "floor_tokio_fs",
        throughput: false,
        target: Target::AtMost(1.10),
    },
    Row {
        what: "CPU time of one `op_stat_async` round trip, batched executor, vs `tokio::fs::metadata`",
        group: "exec_stat_one_cpu",
        subject: "opkit_batched",
        floor: "floor_tokio_fs",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "10,000 no-op async entries in flight, batched executor, vs a `JoinSet` of 10,000 `spawn_blocking` no-ops",
        group: "exec_noop_10k",
        subject: "opkit_batched",
        floor: "floor_joinset",
        throughput: false,
        target: Target::AtMost(0.30),
    },
    Row {
        what: "10,000 no-op async entries in flight, `spawn_blocking` executor, vs the same `JoinSet`",
        group: "exec_noop_10k",
        subject: "opkit_spawn_blocking",
        floor: "floor_joinset",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time of 10,000 no-op async entries in flight, batched executor, vs the `JoinSet`",
        group: "exec_noop_10k_cpu",
        subject: "opkit_batched",
        floor: "floor_joinset",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time of 10,000 no-op async entries in flight, `spawn_blocking` executor, vs the `JoinSet`",
        group: "exec_noop_10k_cpu",
        subject: "opkit_spawn_blocking",
        floor: "floor_joinset",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "a JSON-RPC batch of 1,000 `op_stat_async` over WebSocket: batched vs `spawn_blocking` executor",
        group: "exec_ws_batch_1k",
        subject: "opkit_batched",
        floor: "opkit_spawn_blocking",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time (client and server in one process) of the same batch: batched vs `spawn_blocking` executor",
        group: "exec_ws_batch_1k_cpu",
        subject: "opkit_batched",
        floor: "opkit_spawn_blocking",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "JS → `op_add_sync` → JS round trip vs a plain rquickjs native function, 1,000 calls from a QuickJS loop",
        group: "js_round_trip_1k",
        subject: "opkit_op_add_sync",
        floor: "floor_native_function",
        throughput: false,
        target: Target::AtMost(1.50),
    },
    Row {
        what: "the same by name, `op_add_sync({ a: s, b: 1 })`, vs the positional call",
        group: "js_round_trip_1k",
        subject: "opkit_op_add_sync_named",
        floor: "opkit_op_add_sync",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "1,000 sequential `await op_nothing_async()` from JS vs the Rust async entry alone (batched executor)",
        group: "js_async_round_trip_1k",
        subject: "opkit_js",
        floor: "floor_rust_async_entry",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time of the same 1,000 awaits: JS vs Rust",
        group: "js_async_round_trip_1k_cpu",
        subject: "opkit_js",
        floor: "floor_rust_async_entry",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "10,000 `op_stat_async` in flight from one script (`Promise.all`) vs the same submitted from Rust",
        group: "js_stat_10k",
        subject: "opkit_js",
        floor: "floor_rust_submit",
        throughput: false,
        target: Target::Report,
    },
    Row {
        what: "CPU time of the same 10,000 stats: JS vs Rust",
        group: "js_stat_10k_cpu",
        subject: "opkit_js",
        floor: "floor_rust_submit",
        throughput: false,
        target: Target::Report,
    },
];

fn main() {
    let mut table = String::from(
        "| comparison | opkit median | floor median | ratio | target | met |\n|---|---|---|---|---|---|\n",
    );
    for row in ROWS {
        let (Some(subject), Some(floor)) =
            (median(row.group, row.subject), median(row.group, row.floor))
        else {
            table += &format!("| {} | missing | missing | | | |\n", row.what);
            continue;
        };
        let ratio = if row.throughput {
            floor / subject
        } else {
            subject / floor
        };
        let (target, met) = match row.target {
            Target::AtMost(t) => (format!("≤ {t:.2}"), if ratio <= t { "yes" } else { "no" }),
            Target::AtLeast(t) => (format!("≥ {t:.2}"), if ratio >= t { "yes" } else { "no" }),
            Target::Report => ("report".to_owned(), "—"),
        };
        table += &format!(
            "| {} | {} | {} | {ratio:.2} | {target} | {met} |\n",
            row.what,
            time(subject),
            time(floor)
        );
    }
    let compile = std::fs::read_to_string(workspace().join("target/criterion/compile_cost.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
    match compile {
        Some(c) => {
            table += &format!(
                "| `cargo build` of 200 `#[op]` fns vs 200 plain fns | {:.2} s | {:.2} s | {:.1} | report | — |\n",
                c["ops_secs"].as_f64().unwrap_or(f64::NAN),
                c["plain_secs"].as_f64().unwrap_or(f64::NAN),
                c["ratio"].as_f64().unwrap_or(f64::NAN),
            );
            table += &format!(
                "| expanded lines per op (rustc's pretty-printer) | {:.0} | | | report | — |\n",
                c["lines_per_op"].as_f64().unwrap_or(f64::NAN)
            );
        }
        None => table += "| compile cost | missing | | | | |\n",
    }
    let path = workspace().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    const START: &str = "<!-- table:start -->\n";
    const END: &str = "<!-- table:end -->";
    let fresh = match (text.find(START), text.find(END)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{START}{table}{}", &text[..start], &text[end..])
        }
        _ => format!("{text}\n{START}{table}{END}\n"),
    };
    std::fs::write(&path, fresh).unwrap();
    print!("{table}");
}
