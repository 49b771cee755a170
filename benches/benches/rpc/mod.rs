//! The servers, clients and shapes that `server.rs` (criterion) and
//! `server_rounds.rs` (interleaved rounds with CPU time) both time.
//!
//! Request `n` is `op_add_sync(n, 1)` with id `n`, and every answer is checked to be
//! `n + 1`, so that an error answer cannot be timed as a fast one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::future::{BoxFuture, join_all};
use futures_util::{SinkExt, StreamExt};
use jsonrpsee::server::RpcModule;
use jsonrpsee::types::ErrorObjectOwned;
use opkit_benches::op_add;
use tokio_tungstenite::tungstenite::Message;

/// Requests a pipelining WebSocket client keeps unanswered.
pub const WS_IN_FLIGHT: u64 = 64;
/// Concurrent HTTP clients, each with its own connection.
pub const HTTP_CLIENTS: u64 = 16;
/// The method both servers answer: opkit's name for `op_add`'s sync entry.
pub const METHOD: &str = "op_add_sync";

opkit::extension!(math, ops = [op_add]);

/// The servers' runtime (two workers, the machine's cores) and the client's (one
/// thread, the bench's own), with opkit-server and jsonrpsee started on the first.
pub fn start() -> (
    tokio::runtime::Runtime,
    tokio::runtime::Runtime,
    [Running; 2],
) {
    let servers_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = servers_rt.block_on(async { [serve_opkit().await, serve_jsonrpsee().await] });
    (servers_rt, client, servers)
}

/// A server on an ephemeral loopback port.
pub struct Running {
    /// The criterion id of its benchmarks.
    #[allow(dead_code)] // not by `server_rounds`
    pub name: &'static str,
    pub addr: SocketAddr,
    /// Stops it and waits until it has.
    pub stop: BoxFuture<'static, ()>,
}

pub async fn serve_opkit() -> Running {
    let server = opkit_server::Server::builder()
        .extension(math())
        .no_token()
        .build()
        .expect("the extension registers");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let shutdown = async {
            let _ = stopped.await;
        };
        server.serve_listener_until(listener, shutdown).await
    });
    Running {
        name: "opkit_server",
        addr,
        stop: Box::pin(async move {
            let _ = stop.send(());
            serving.await.unwrap().unwrap();
        }),
    }
}

pub async fn serve_jsonrpsee() -> Running {
    let mut module = RpcModule::new(());
    module
        .register_method(METHOD, |params, _, _| {
            let (a, b): (i64, i64) = params.parse()?;
            Ok::<i64, ErrorObjectOwned>(a + b)
        })
        .unwrap();
    let server = jsonrpsee::server::Server::builder()
        .build("127.0.0.1:0")
        .await
        .unwrap();
    let addr = server.local_addr().unwrap();
    let handle = server.start(module);
    Running {
        name: "jsonrpsee",
        addr,
        stop: Box::pin(async move {
            let _ = handle.stop();
            handle.stopped().await;
        }),
    }
}

/// Request `n`: `op_add_sync(n, 1)`, with id `n`.
pub fn request(n: u64) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{n},"method":"{METHOD}","params":[{n},1]}}"#)
}

#[derive(serde::Deserialize)]
struct Answer {
    id: u64,
    result: i64,
}

/// Checks that an answer is the sum its request asked for, and returns its id. An
/// error answer has no `result`, so it fails here.
pub fn check(text: &[u8]) -> u64 {
    let answer: Answer = serde_json::from_slice(text)
        .unwrap_or_else(|err| panic!("{err}: {}", String::from_utf8_lossy(text)));
    assert_eq!(answer.result, answer.id as i64 + 1, "answer {}", answer.id);
    answer.id
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_connect(addr: SocketAddr) -> Ws {
    // Nagle off, as both servers have it: pipelined small writes would otherwise
    // wait for the peer's delayed acks.
    let (ws, _) = tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/"), None, true)
        .await
        .expect("the handshake succeeds");
    ws
}

/// The next text message.
pub async fn ws_next(ws: &mut Ws) -> Vec<u8> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => return Vec::from(text.as_str()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected an answer, got {other:?}"),
        }
    }
}

pub async fn ws_sequential(ws: &mut Ws, count: u64) -> Duration {
    let start = Instant::now();
    for n in 0..count {
        ws.send(Message::text(request(n))).await.unwrap();
        assert_eq!(check(&ws_next(ws).await), n);
    }
    start.elapsed()
}

/// Keeps [`WS_IN_FLIGHT`] requests unanswered: each answer lets one more go. Answers
/// may come in any order; each is checked on its own, and all are counted.
pub async fn ws_pipelined(ws: &mut Ws, count: u64) -> Duration {
    let start = Instant::now();
    let (mut sent, mut answered) = (0, 0);
    while answered < count {
        while sent < count && sent - answered < WS_IN_FLIGHT {
            ws.feed(Message::text(request(sent))).await.unwrap();
            sent += 1;
        }
        ws.flush().await.unwrap();
        assert!(check(&ws_next(ws).await) < sent);
        answered += 1;
    }
    start.elapsed()
}

/// A keep-alive HTTP client and the URL it posts to.
pub struct Http {
    client: reqwest::Client,
    url: String,
}

pub fn http_connect(addr: SocketAddr) -> Http {
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()
        .unwrap();
    Http {
        client,
        url: format!("http://{addr}/"),
    }
}

pub async fn http_post(http: &Http, n: u64) {
    let response = http
        .client
        .post(&http.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(request(n))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200);
    assert_eq!(check(&response.bytes().await.unwrap()), n);
}

pub async fn http_sequential(http: &mut Http, count: u64) -> Duration {
    let start = Instant::now();
    for n in 0..count {
        http_post(http, n).await;
    }
    start.elapsed()
}

/// [`HTTP_CLIENTS`] loops over one client, whose pool gives each a connection.
pub async fn http_concurrent(http: &mut Http, count: u64) -> Duration {
    let http = &*http;
    let start = Instant::now();
    join_all((0..HTTP_CLIENTS).map(|first| async move {
        for n in (first..count).step_by(HTTP_CLIENTS as usize) {
            http_post(http, n).await;
        }
    }))
    .await;
    start.elapsed()
}
