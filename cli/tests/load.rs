//! A bounded load test: 100 concurrent WebSocket sessions × 100 requests each.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const SESSIONS: usize = 100;
const REQUESTS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_sessions_of_hundred_requests() {
    let dir = tempfile::tempdir().unwrap();
    for session in 0..SESSIONS {
        std::fs::write(
            dir.path().join(format!("{session}.txt")),
            format!("file {session}"),
        )
        .unwrap();
    }
    let data = dir.path().to_str().unwrap().to_owned();
    let server = Server::start(dir.path(), &["--allow-read", &data]);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for session in 0..SESSIONS {
        let mut ws = ws_connect(&server).await;
        let path = dir.path().join(format!("{session}.txt"));
        tasks.push(tokio::spawn(async move {
            // Pipelined: all requests out, then every reply matched by id.
            for id in 0..REQUESTS {
                let method = if id % 2 == 0 {
                    "op_read_text_file_async"
                } else {
                    "op_read_text_file_sync"
                };
                ws_send(
                    &mut ws,
                    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": [path]}),
                )
                .await;
            }
            let mut seen = [false; REQUESTS];
            for _ in 0..REQUESTS {
                let reply = ws_recv(&mut ws).await;
                let id = reply["id"].as_u64().unwrap() as usize;
                assert_eq!(reply["result"], format!("file {session}"), "{reply}");
                assert!(
                    !std::mem::replace(&mut seen[id], true),
                    "id {id} answered twice"
                );
            }
            assert!(seen.iter().all(|s| *s));
        }));
    }
    let all = futures_util::future::join_all(tasks);
    let results = tokio::time::timeout(Duration::from_secs(300), all)
        .await
        .expect("the load test finished within its bound");
    for result in results {
        result.unwrap();
    }
    println!(
        "{SESSIONS} sessions x {REQUESTS} requests answered in {:?}",
        started.elapsed()
    );
    let log = server.stop();
    assert!(!log.contains("panicked"));
}
