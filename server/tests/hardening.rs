//! The server against abusive clients: no token, too many connections, silent and
//! slow ones, clients that read nothing, huge replies, huge batches, and sessions
//! that block their thread.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{PATIENCE, Running, ws_call, ws_next};
use futures_util::{SinkExt, StreamExt};
use opkit::{OpError, extension, op};
use opkit_server::{Limits, Server};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Adds two numbers.
#[op]
fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

/// `len` bytes of text.
#[op]
fn op_blob(len: usize) -> Result<String, OpError> {
    if len > 1 << 20 {
        return Err(OpError::type_error("len: at most 1 MiB"));
    }
    Ok("x".repeat(len))
}

/// How many `op_gauge` bodies run now, and the most that ever ran at once.
#[derive(Clone, Default)]
struct Gauge(Arc<(AtomicUsize, AtomicUsize)>);

/// Counts itself in while it runs, for a moment.
#[op]
fn op_gauge(#[state] gauge: &Gauge) {
    let (now, most) = &*gauge.0;
    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
    most.fetch_max(running, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(2));
    now.fetch_sub(1, Ordering::SeqCst);
}

/// Sessions blocked in `op_hold` until the test lets them go.
#[derive(Clone, Default)]
struct Hold(Arc<(Mutex<(usize, bool)>, std::sync::Condvar)>);

impl Hold {
    fn wait_for_holders(&self, count: usize) {
        let (lock, changed) = &*self.0;
        let guard = lock.lock().unwrap();
        let (_guard, timeout) = changed
            .wait_timeout_while(guard, PATIENCE, |(holders, _)| *holders < count)
            .unwrap();
        assert!(!timeout.timed_out(), "{count} sessions reached op_hold");
    }

    fn release(&self) {
        let (lock, changed) = &*self.0;
        lock.lock().unwrap().1 = true;
        changed.notify_all();
    }
}

/// Blocks its session's thread, as a long sync entry would, until released.
#[op(sync)]
fn op_hold(#[state] hold: &Hold) -> bool {
    let (lock, changed) = &*hold.0;
    let mut state = lock.lock().unwrap();
    state.0 += 1;
    changed.notify_all();
    let (state, _) = changed
        .wait_timeout_while(state, PATIENCE, |(_, released)| !*released)
        .unwrap();
    state.1
}

/// Whether the session's peer showed the token.
#[derive(Clone)]
struct Authenticated(bool);

#[op(sync)]
fn op_authenticated(#[state] auth: &Authenticated) -> bool {
    auth.0
}

extension!(
    abuse,
    ops = [op_add, op_blob, op_gauge, op_hold, op_authenticated]
);

fn server(limits: Limits) -> opkit_server::ServerBuilder {
    server_with(limits, Gauge::default(), Hold::default())
}

fn server_with(limits: Limits, gauge: Gauge, hold: Hold) -> opkit_server::ServerBuilder {
    Server::builder()
        .extension(abuse().with_state(move |state| {
            state.put(gauge.clone());
            state.put(hold.clone());
        }))
        .on_session(|state, info| {
            state.put(Authenticated(info.authenticated));
        })
        .limits(limits)
}

fn add(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "op_add_sync", "params": [id, 1]})
}

/// Without the token a TCP client gets 401, over HTTP and in the WebSocket
/// handshake; with it (as a Bearer header or, for WebSocket, `?token=`) it is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_clients_must_show_the_token() {
    let running = Running::start(server(Limits::default()).build().unwrap()).await;
    let token = running.token.clone().expect("a token by default");
    assert_eq!(token.len(), 64);
    let client = reqwest::Client::new();
    let post = |auth: Option<String>| {
        let mut request = client
            .post(&running.url)
            .header("content-type", "application/json")
            .body(add(1).to_string());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    let none = post(None).await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(none.headers()["www-authenticate"], "Bearer");
    let wrong = post(Some(format!("Bearer {}x", &token[..63])))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = post(Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(right.status(), 200);
    let reply: Value = serde_json::from_str(&right.text().await.unwrap()).unwrap();
    assert_eq!(reply["result"], json!(2));

    let ws_url = running.url.replacen("http://", "ws://", 1);
    let refused = tokio_tungstenite::connect_async(ws_url.clone()).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("a handshake without the token is refused: {other:?}"),
    }
    let (mut by_query, _) = tokio_tungstenite::connect_async(format!("{ws_url}?token={token}"))
        .await
        .unwrap();
    let reply = ws_call(&mut by_query, 2, "op_authenticated_sync", json!([])).await;
    assert_eq!(reply["result"], json!(true), "{reply}");
    let mut by_header = running.ws().await;
    let reply = ws_call(&mut by_header, 3, "op_add_sync", json!([2, 3])).await;
    assert_eq!(reply["result"], json!(5), "{reply}");
    drop((by_query, by_header));
    running.stop().await;

    // Turned off, the server serves anyone on the machine, and says so to the ops.
    let open = Running::start(server(Limits::default()).no_token().build().unwrap()).await;
    assert_eq!(open.token, None);
    let reply = open
        .post(json!({"jsonrpc": "2.0", "id": 4, "method": "op_authenticated_sync"}))
        .await;
    assert_eq!(reply["result"], json!(false), "{reply}");
    open.stop().await;
}

#[test]
fn a_given_token_is_checked() {
    let err = server(Limits::default())
        .token("short")
        .build()
        .err()
        .unwrap();
    assert!(err.to_string().contains("16 to 256"), "{err}");
    let built = server(Limits::default())
        .token("a-token-for-tests-0123")
        .build()
        .unwrap();
    assert_eq!(built.token(), Some("a-token-for-tests-0123"));
}

/// Past `max_connections`, a new connection is answered 503 at once; when one
/// closes, there is room again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_cap_get_503() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    let mut first = running.ws().await;
    let mut second = running.ws().await;
    // Each session has answered, so each connection holds its slot.
    assert_eq!(
        ws_call(&mut first, 1, "op_add_sync", json!([1, 1])).await["result"],
        2
    );
    assert_eq!(
        ws_call(&mut second, 2, "op_add_sync", json!([1, 2])).await["result"],
        3
    );
    let (status, text) = running.post_raw(add(3).to_string()).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("max_connections"), "{text}");
    // The sessions carry on.
    assert_eq!(
        ws_call(&mut first, 4, "op_add_sync", json!([2, 2])).await["result"],
        4
    );
    first.close(None).await.unwrap();
    // The slot comes back once the server has seen the close.
    while let Some(Ok(_)) = first.next().await {}
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, text) = running.post_raw(add(5).to_string()).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{text}");
        assert!(tokio::time::Instant::now() < deadline, "a slot came back");
        tokio::task::yield_now().await;
    }
    drop(second);
    running.stop().await;
}

/// Reads from a raw connection until the server closes it; what it sent.
async fn read_until_closed(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(PATIENCE, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return seen,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server closed the connection within {PATIENCE:?}"),
        }
    }
}

/// A connection that sends nothing, and one that sends its headers a byte at a
/// time, are both closed once `header_timeout` has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_slow_connections_are_closed() {
    let limits = Limits {
        header_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    let mut silent = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    read_until_closed(&mut silent).await;

    let mut slow = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n",
        running.addr
    );
    let dripping = async {
        for byte in request.bytes().cycle() {
            if slow.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(PATIENCE, dripping)
        .await
        .expect("the server stopped taking the slow headers");

    // Idle between two requests counts too: a keep-alive connection that goes
    // quiet after an answer is closed.
    let mut idle = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let body = add(1).to_string();
    let token = running.token.clone().unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        running.addr,
        body.len()
    );
    idle.write_all(request.as_bytes()).await.unwrap();
    let answer = String::from_utf8(read_until_closed(&mut idle).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""result":2"#), "{answer}");
    running.stop().await;
}

/// A WebSocket client that sends requests and reads none of the replies is
/// disconnected once `max_unsent_bytes` of replies wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_reads_nothing_is_disconnected() {
    let limits = Limits {
        max_reply_bytes: 64 << 10,
        max_unsent_bytes: 256 << 10,
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    // A small receive buffer keeps the kernel from reading for the client: a
    // loopback socket's buffer may otherwise grow to tens of megabytes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(64 << 10).unwrap();
    let stream = socket.connect(running.addr).await.unwrap();
    let mut request = running
        .url
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .unwrap();
    let token = running.token.clone().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    // Requests for 60 KB replies, sent until the server hangs up: reading none,
    // the client falls behind by 60 KB a request. Without the limit the server
    // would go on reading requests and queueing replies long past this bound.
    const MOST: u64 = 100_000;
    let mut sent = 0;
    while sent < MOST {
        let request =
            json!({"jsonrpc": "2.0", "id": sent, "method": "op_blob_sync", "params": [60_000]});
        let send = ws.send(Message::Text(request.to_string().into()));
        match tokio::time::timeout(PATIENCE, send).await {
            Ok(Ok(())) => sent += 1,
            Ok(Err(_)) => break,
            Err(_) => panic!("the server neither read nor dropped the connection"),
        }
    }
    assert!(
        sent < MOST,
        "the server never dropped a client that reads nothing"
    );
    // What the sockets held can still be read, then the connection ends.
    let mut replies = 0;
    loop {
        match tokio::time::timeout(PATIENCE, ws.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => replies += 1,
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(_)) | None) => break,
            Err(_) => panic!("the connection ended in time"),
        }
    }
    assert!(
        replies < sent,
        "{replies} of {sent} answered before the end"
    );
    // Everyone else is still served.
    let other = running.post(add(7)).await;
    assert_eq!(other["result"], json!(8), "{other}");
    running.stop().await;
}

/// An answer over `max_reply_bytes` becomes an error naming the limit, alone and
/// inside a batch, and the session goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_over_max_reply_bytes_are_errors() {
    let limits = Limits {
        max_reply_bytes: 4096,
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    let mut ws = running.ws().await;
    let big = ws_call(&mut ws, 1, "op_blob_async", json!([10_000])).await;
    let big = &big["error"];
    assert_eq!(big["data"]["class"], json!("ResourceExhausted"), "{big}");
    assert_eq!(big["data"]["op"], json!("op_blob"), "{big}");
    let message = big["message"].as_str().unwrap();
    assert!(message.contains("max_reply_bytes = 4096"), "{message}");
    let small = ws_call(&mut ws, 2, "op_blob_sync", json!([10])).await;
    assert_eq!(small["result"], json!("x".repeat(10)), "{small}");

    // Three answers of 1.5 KB each fit alone, not together.
    let batch: Vec<Value> = (10..13)
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "op_blob_sync", "params": [1500]}))
        .collect();
    let replies = running.post(json!(batch)).await;
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 3);
    let refused: Vec<&Value> = replies
        .iter()
        .filter(|r| r.get("error").is_some())
        .collect();
    assert_eq!(refused.len(), 1, "{replies:?}");
    assert_eq!(refused[0]["id"], json!(12));
    assert!(
        refused[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the batch answers")
    );
    let text = serde_json::to_string(replies).unwrap();
    assert!(text.len() <= 4096, "{} bytes", text.len());
    running.stop().await;
}

/// `max_concurrent` counts the members of a batch: a batch of 300 async calls runs
/// at most that many bodies at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_runs_at_most_max_concurrent_calls_at_once() {
    let limits = Limits {
        max_concurrent: 3,
        ..Limits::default()
    };
    let gauge = Gauge::default();
    let running = Running::start(
        server_with(limits, gauge.clone(), Hold::default())
            .build()
            .unwrap(),
    )
    .await;
    let batch: Vec<Value> = (0..300)
        .map(|id| json!({"jsonrpc": "2.0", "id": id, "method": "op_gauge_async"}))
        .collect();
    let replies = running.post(json!(batch)).await;
    let replies = replies.as_array().unwrap();
    assert_eq!(replies.len(), 300);
    assert!(
        replies
            .iter()
            .all(|r| r["result"].is_null() && r.get("error").is_none())
    );
    let most = gauge.0.1.load(Ordering::SeqCst);
    assert!((1..=3).contains(&most), "at most 3 at once, saw {most}");
    running.stop().await;
}

/// Sessions blocked inside sync entries hold their own threads: more of them than
/// there are cores, and others are still answered at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_blocked_in_a_sync_entry_stalls_no_other() {
    let hold = Hold::default();
    let running = Running::start(
        server_with(Limits::default(), Gauge::default(), hold.clone())
            .build()
            .unwrap(),
    )
    .await;
    const HOLDERS: usize = 4;
    let mut holders = Vec::new();
    for id in 0..HOLDERS {
        let mut ws = running.ws().await;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "op_hold_sync"});
        ws.send(Message::Text(request.to_string().into()))
            .await
            .unwrap();
        holders.push(ws);
    }
    let waiting = hold.clone();
    tokio::task::spawn_blocking(move || waiting.wait_for_holders(HOLDERS))
        .await
        .unwrap();
    // Every holder's thread is blocked; new sessions are answered anyway.
    for id in 0..8 {
        let reply = running.post(add(id)).await;
        assert_eq!(reply["result"], json!(id + 1), "{reply}");
    }
    let mut other = running.ws().await;
    assert_eq!(
        ws_call(&mut other, 99, "op_add_sync", json!([4, 5])).await["result"],
        9
    );
    hold.release();
    for ws in &mut holders {
        assert_eq!(ws_next(ws).await["result"], json!(true));
    }
    running.stop().await;
}

/// A handshake's `Origin` is still checked before the token: a page elsewhere that
/// somehow knew the token is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_origins_are_refused_even_with_the_token() {
    let running = Running::start(server(Limits::default()).build().unwrap()).await;
    let token = running.token.clone().unwrap();
    let url = format!(
        "{}?token={token}",
        running.url.replacen("http://", "ws://", 1)
    );
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("refused: {other:?}"),
    }
    running.stop().await;
}

/// An HTTP client that pipelines requests and never reads the answers is cut off
/// once its answers have waited `idle_timeout` on a full socket, and its place
/// under `max_connections` comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_client_that_reads_no_answers_loses_its_connection() {
    let limits = Limits {
        max_connections: 1,
        idle_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut hog = socket.connect(running.addr).await.unwrap();
    let token = running.token.clone().unwrap();
    let request = format!(
        "GET / HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\r\n",
        running.addr
    );
    // Requests until the server stops taking them (its answers back up) or closes.
    let flood = request.repeat(256);
    let pipelining = tokio::spawn(async move {
        while hog.write_all(flood.as_bytes()).await.is_ok() {}
        hog
    });
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, text) = running.post_raw(add(1).to_string()).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{text}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the hog still holds the only connection"
        );
        tokio::task::yield_now().await;
    }
    drop(pipelining.await.unwrap());
    running.stop().await;
}

/// A POST whose body stops coming is answered `408` once `header_timeout` has
/// passed, and its connection is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stops_coming_gets_408() {
    let limits = Limits {
        header_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    let mut stalled = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let token = running.token.clone().unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"jsonrpc\"",
        running.addr
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    let answer = String::from_utf8(read_until_closed(&mut stalled).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    running.stop().await;
}

/// A refused request closes its connection: a client without the token cannot
/// keep its place under `max_connections` by asking again and again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_closes_the_connection() {
    let running = Running::start(server(Limits::default()).build().unwrap()).await;
    let mut guest = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: 2\r\n\r\n{{}}",
        running.addr
    );
    // Two requests at once: only the first is answered before the close.
    guest.write_all(request.repeat(2).as_bytes()).await.unwrap();
    let answers = String::from_utf8(read_until_closed(&mut guest).await).unwrap();
    assert!(answers.starts_with("HTTP/1.1 401"), "{answers}");
    assert_eq!(answers.matches("HTTP/1.1 ").count(), 1, "{answers}");
    running.stop().await;
}

/// A WebSocket client that stops reading while under `max_unsent_bytes` is cut off
/// once a reply has waited `idle_timeout` on its full socket, and its place under
/// `max_connections` comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_client_that_stops_reading_loses_its_connection() {
    let limits = Limits {
        max_connections: 1,
        idle_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let running = Running::start(server(limits).build().unwrap()).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(running.addr).await.unwrap();
    let mut request = running
        .url
        .replacen("http://", "ws://", 1)
        .into_client_request()
        .unwrap();
    let token = running.token.clone().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    // Replies of 16 MiB in all, under max_unsent_bytes (32 MiB) but more than the
    // sockets hold; then nothing is read.
    for id in 0..256 {
        let request =
            json!({"jsonrpc": "2.0", "id": id, "method": "op_blob_sync", "params": [65_536]});
        ws.send(Message::Text(request.to_string().into()))
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, text) = running.post_raw(add(1).to_string()).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{text}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled WebSocket still holds the only connection"
        );
        tokio::task::yield_now().await;
    }
    drop(ws);
    running.stop().await;
}
