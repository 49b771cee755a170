//! Load, bounded in count and time: 200 concurrent loopback clients, each doing 100
//! echo round trips, all through the ops on one runtime and one host thread.

mod common;

use std::rc::Rc;
use std::time::Instant;

use common::*;
use serde_json::json;
use tokio::task::{LocalSet, spawn_local};

const CLIENTS: usize = 200;
const ROUNDS: usize = 100;

/// The message of one round: its length varies from 1 to 300 bytes.
fn message(client: usize, round: usize) -> Vec<u8> {
    let len = 1 + (client * 31 + round * 17) % 300;
    let tag = format!("c{client}r{round}:");
    tag.bytes().cycle().take(len).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn two_hundred_clients_each_echo_one_hundred_times() {
    let rt = Rc::new(runtime(loopback()));
    let started = Instant::now();
    LocalSet::new()
        .run_until(async {
            let listener = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
            let (l, port) = (rid(&listener), port(&listener));

            // The server: accept every client, echo each one until it closes.
            let server = spawn_local({
                let rt = rt.clone();
                async move {
                    let mut echoes = Vec::new();
                    for _ in 0..CLIENTS {
                        let conn = ok_async(&rt, "op_net_accept_tcp", json!([l])).await;
                        let rt = rt.clone();
                        echoes.push(spawn_local(async move { echo(&rt, rid(&conn)).await }));
                    }
                    let mut echoed = 0;
                    for echo in echoes {
                        echoed += echo.await.unwrap();
                    }
                    echoed
                }
            });

            let clients: Vec<_> = (0..CLIENTS)
                .map(|client| {
                    let rt = rt.clone();
                    spawn_local(async move {
                        let conn =
                            ok_async(&rt, "op_net_connect_tcp", json!(["127.0.0.1", port])).await;
                        let c = rid(&conn);
                        let mut sent = 0;
                        for round in 0..ROUNDS {
                            let msg = message(client, round);
                            write(&rt, c, &msg).await;
                            assert_eq!(read_exact(&rt, c, msg.len()).await, msg);
                            sent += msg.len();
                        }
                        call(&rt, "op_close", json!([c])).unwrap();
                        sent
                    })
                })
                .collect();

            let (sent, echoed) = deadline("load", async {
                let mut sent = 0;
                for client in clients {
                    sent += client.await.unwrap();
                }
                (sent, server.await.unwrap())
            })
            .await;
            let expected: usize = (0..CLIENTS)
                .flat_map(|c| (0..ROUNDS).map(move |r| message(c, r).len()))
                .sum();
            assert_eq!(sent, expected);
            assert_eq!(echoed, expected, "the server echoed every byte it was sent");
            call(&rt, "op_close", json!([l])).unwrap();
        })
        .await;
    assert!(resources(&rt).is_empty(), "{:?}", resources(&rt));
    eprintln!(
        "{CLIENTS} clients x {ROUNDS} echo round trips: {:?}",
        started.elapsed()
    );
}

/// Echoes what arrives on `rid` until end of stream; returns how many bytes.
async fn echo(rt: &opkit::Runtime, rid: u64) -> usize {
    let mut echoed = 0;
    let mut buf = vec![0; 4096];
    loop {
        let (result, mut bufs) = call_async(rt, "op_net_read", json!([rid]), vec![buf]).await;
        buf = bufs.remove(0);
        let n = result.unwrap().as_u64().unwrap() as usize;
        if n == 0 {
            call(rt, "op_close", json!([rid])).unwrap();
            return echoed;
        }
        write(rt, rid, &buf[..n]).await;
        echoed += n;
    }
}
