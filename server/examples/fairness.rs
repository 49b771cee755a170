//! Fairness under load: while two sessions each read a 256 MB file with
//! `op_read_file_sync` (a sync entry, which runs inline on its session's thread),
//! how long do other sessions wait for a small call?
//!
//! ```sh
//! cargo run --release -p opkit-server --example fairness
//! ```
//!
//! Prints the latency of `op_stat_sync` from a WebSocket session and from fresh
//! HTTP requests (each a session of its own) while the two reads run: count, p50,
//! p99 and max. The issue's target is a p99 under 50 ms.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use opkit_fs::{FsContext, FsPermissions};
use opkit_server::{Limits, Server};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const FILE_BYTES: usize = 256 << 20;
const READS_EACH: usize = 3;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let pattern: Vec<u8> = (0..=255u8).cycle().take(FILE_BYTES).collect();
    std::fs::write(dir.path().join("big.bin"), &pattern)?;
    drop(pattern);
    std::fs::write(dir.path().join("small.txt"), "small")?;

    let fs = FsPermissions::deny_all().allow_read(dir.path());
    let context = FsContext::new(fs)
        .with_cwd(dir.path())
        .with_max_read(FILE_BYTES as u64);
    let limits = Limits {
        max_reply_bytes: 1 << 30,
        max_unsent_bytes: 1 << 30,
        ..Limits::default()
    };
    let server = Server::builder()
        .extension(opkit_fs::extension_with(context))
        .limits(limits)
        .no_token()
        .build()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = opkit_server::describe(listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        server
            .serve_listener_until(listener, async {
                let _ = stopped.await;
            })
            .await
    });
    let ws_url = url.replacen("http://", "ws://", 1);

    let started = Instant::now();
    // The readers' clients parse 341 MB replies: each runs on a thread of its own,
    // so that their work cannot delay the probe's client, only the server can.
    let mut readers = Vec::new();
    for _ in 0..2 {
        let ws_url = ws_url.clone();
        readers.push(std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a client runtime");
            rt.block_on(async move {
                let mut ws = connect(&ws_url).await.expect("the reader connects");
                for id in 0..READS_EACH {
                    let reply =
                        call(&mut ws, id as u64, "op_read_file_sync", json!(["big.bin"])).await;
                    let bytes = reply["result"].as_str().map_or(0, str::len);
                    assert!(bytes > FILE_BYTES, "a whole file came back: {bytes} bytes");
                }
            })
        }));
    }

    // Probe while both readers are busy.
    let mut probe = connect(&ws_url).await?;
    let http = reqwest::Client::new();
    let (mut over_ws, mut over_http) = (Vec::new(), Vec::new());
    let mut id = 1000;
    while readers.iter().any(|r| !r.is_finished()) {
        id += 1;
        let at = Instant::now();
        let reply = call(&mut probe, id, "op_stat_sync", json!(["small.txt"])).await;
        over_ws.push(at.elapsed());
        assert_eq!(reply["result"]["size"], json!(5), "{reply}");
        let at = Instant::now();
        let body =
            json!({"jsonrpc": "2.0", "id": id, "method": "op_stat_sync", "params": ["small.txt"]});
        let reply: Value = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await?
            .json()
            .await?;
        over_http.push(at.elapsed());
        assert_eq!(reply["result"]["size"], json!(5), "{reply}");
    }
    for reader in readers {
        reader.join().expect("the reader finishes");
    }
    let elapsed = started.elapsed();
    println!(
        "two sessions read {} MB each ({READS_EACH} × 256 MB) in {elapsed:.1?}",
        READS_EACH * 256
    );
    report("op_stat_sync over a WebSocket session", &mut over_ws);
    report("op_stat_sync over fresh HTTP requests", &mut over_http);
    let _ = stop.send(());
    serving.await??;
    Ok(())
}

async fn connect(url: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let config = WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    let (ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), false).await?;
    Ok(ws)
}

async fn call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::Text(request.to_string().into()))
        .await
        .expect("the request is sent");
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).expect("a JSON reply");
            }
            Some(Ok(_)) => continue,
            other => panic!("the session ended: {other:?}"),
        }
    }
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: {} calls, p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        samples.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
