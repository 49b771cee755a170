//! A host's own ops served through the library: a `#[state]` store shared by every
//! session, a cursor resource per session, over HTTP POST and WebSocket.

mod common;

use std::sync::{Arc, Mutex};

use common::{Running, ws_call};
use opkit::{NewResource, OpError, Resource, extension, op};
use opkit_server::Server;
use serde_json::{Value, json};

/// The notes every session shares.
#[derive(Clone, Default)]
struct Notes(Arc<Mutex<Vec<String>>>);

/// A position in the notes, one per session that asks.
struct Cursor(Mutex<usize>);

impl Resource for Cursor {}

/// Adds a note and returns how many there are.
#[op]
fn op_note_add(#[state] notes: &Notes, text: String) -> Result<usize, OpError> {
    let mut notes = notes.0.lock().map_err(|_| OpError::generic("poisoned"))?;
    notes.push(text);
    Ok(notes.len())
}

/// Opens a cursor at the first note.
#[op(sync)]
fn op_note_cursor() -> NewResource<Cursor> {
    NewResource(Cursor(Mutex::new(0)))
}

/// The next note under the cursor, or `null` past the last one.
#[op(sync)]
fn op_note_next(
    #[state] notes: &Notes,
    #[resource] cursor: &Cursor,
) -> Result<Option<String>, OpError> {
    let notes = notes.0.lock().map_err(|_| OpError::generic("poisoned"))?;
    let mut at = cursor.0.lock().map_err(|_| OpError::generic("poisoned"))?;
    let note = notes.get(*at).cloned();
    *at += 1;
    Ok(note)
}

/// Who is calling: set up by the host for each session from its connection.
#[derive(Clone)]
struct Caller(String);

/// The caller's address and transport, as the session was told.
#[op(sync)]
fn op_whoami(#[state] caller: &Caller) -> String {
    caller.0.clone()
}

/// The name of the thread the body runs on.
#[op]
fn op_thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_owned()
}

extension!(
    notes_ext,
    ops = [
        op_note_add,
        op_note_cursor,
        op_note_next,
        op_whoami,
        op_thread_name
    ]
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_serves_its_own_ops_over_http_and_websocket() {
    let notes = Notes::default();
    let shared = notes.clone();
    let server = Server::builder()
        .extension(notes_ext().with_state(move |state| {
            state.put(shared.clone());
        }))
        .on_session(|state, info| {
            let peer = info
                .peer
                .map_or("none".to_owned(), |peer| peer.ip().to_string());
            state.put(Caller(format!("{:?} from {peer}", info.transport)));
        })
        .build()
        .unwrap();
    let running = Running::start(server).await;

    // HTTP: a batch through both entries of one op.
    let replies = running
        .post(json!([
            {"jsonrpc": "2.0", "id": 1, "method": "op_note_add_sync", "params": ["first"]},
            {"jsonrpc": "2.0", "id": 2, "method": "op_note_add_async", "params": {"text": "second"}},
        ]))
        .await;
    let mut results: Vec<u64> = replies
        .as_array()
        .unwrap()
        .iter()
        .map(|reply| reply["result"].as_u64().unwrap())
        .collect();
    results.sort_unstable();
    assert_eq!(results, [1, 2]);
    let bad = running
        .post(json!({"jsonrpc": "2.0", "id": 3, "method": "op_note_add_sync", "params": [7]}))
        .await;
    assert_eq!(bad["error"]["data"]["class"], json!("TypeError"), "{bad}");
    let who = running
        .post(json!({"jsonrpc": "2.0", "id": 4, "method": "op_whoami_sync", "params": []}))
        .await;
    assert_eq!(who["result"], json!("Http from 127.0.0.1"), "{who}");

    // WebSocket: a session keeps its cursor between calls.
    let mut ws = running.ws().await;
    let who = ws_call(&mut ws, 9, "op_whoami_sync", json!([])).await;
    assert_eq!(who["result"], json!("WebSocket from 127.0.0.1"), "{who}");
    let rid = ws_call(&mut ws, 10, "op_note_cursor_sync", json!([])).await["result"].clone();
    let first = ws_call(&mut ws, 11, "op_note_next_sync", json!([rid])).await;
    let second = ws_call(&mut ws, 12, "op_note_next_sync", json!([rid])).await;
    let past = ws_call(&mut ws, 13, "op_note_next_sync", json!([rid])).await;
    assert_eq!(
        [&first["result"], &second["result"], &past["result"]],
        [&json!("first"), &json!("second"), &Value::Null]
    );
    assert_eq!(
        notes.0.lock().unwrap().len(),
        2,
        "the host sees what the guests added"
    );

    running.stop().await;
}

/// A session may hold `max_rids` resources: one more is `ResourceExhausted`, the
/// session goes on, and closing one makes room. Another session has its own count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_holds_at_most_max_rids_resources() {
    let limits = opkit_server::Limits {
        max_rids: 3,
        ..Default::default()
    };
    let server = Server::builder()
        .extension(notes_ext().with_state(|state| {
            state.put(Notes::default());
        }))
        .limits(limits)
        .build()
        .unwrap();
    let running = Running::start(server).await;
    let mut first = running.ws().await;
    let mut second = running.ws().await;
    let mut rids = Vec::new();
    for id in 0..3 {
        let reply = ws_call(&mut first, id, "op_note_cursor_sync", json!([])).await;
        rids.push(reply["result"].clone());
    }
    let refused = ws_call(&mut first, 3, "op_note_cursor_sync", json!([])).await;
    assert_eq!(
        refused["error"]["data"]["class"],
        json!("ResourceExhausted"),
        "{refused}"
    );
    let other = ws_call(&mut second, 4, "op_note_cursor_sync", json!([])).await;
    assert!(
        other["result"].is_u64(),
        "another session has its own count: {other}"
    );
    let closed = ws_call(&mut first, 5, "op_close_sync", json!([rids[0]])).await;
    assert_eq!(closed["result"], Value::Null, "{closed}");
    let again = ws_call(&mut first, 6, "op_note_cursor_sync", json!([])).await;
    assert!(again["result"].is_u64(), "room after a close: {again}");
    drop((first, second));
    running.stop().await;
}

/// Sessions run on threads of their own, each with its own tokio runtime; the
/// bodies of their async entries still run on the host runtime's blocking pool, one
/// pool for all, not on a pool per session thread.
#[test]
fn async_entries_run_on_the_host_runtimes_blocking_pool() {
    let host = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("the-host-runtime")
        .enable_all()
        .build()
        .unwrap();
    host.block_on(async {
        let server = Server::builder().extension(notes_ext()).build().unwrap();
        let running = Running::start(server).await;
        let mut ws = running.ws().await;
        let sync = ws_call(&mut ws, 1, "op_thread_name_sync", json!([])).await;
        assert_eq!(sync["result"], json!("opkit-session"), "{sync}");
        let blocking = ws_call(&mut ws, 2, "op_thread_name_async", json!([])).await;
        assert_eq!(blocking["result"], json!("the-host-runtime"), "{blocking}");
        let over_http = running
            .post(
                json!({"jsonrpc": "2.0", "id": 3, "method": "op_thread_name_async", "params": []}),
            )
            .await;
        assert_eq!(
            over_http["result"],
            json!("the-host-runtime"),
            "{over_http}"
        );
        drop(ws);
        running.stop().await;
    });
}

#[test]
fn only_loopback_addresses_are_served() {
    let server = Server::builder().extension(notes_ext()).build().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(async {
            let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await?;
            server.serve_listener(listener).await
        })
        .unwrap_err();
    assert!(err.to_string().contains("loopback addresses only"), "{err}");
}

/// What is not a JSON-RPC POST or a WebSocket handshake gets a plain answer that
/// says what to do, and a handshake that is not version 13 gets `426`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_requests_get_plain_answers() {
    let server = Server::builder().extension(notes_ext()).build().unwrap();
    let running = Running::start(server).await;
    let token = running.token.clone().unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://{}", running.addr);
    let send = |request: reqwest::RequestBuilder| {
        let token = token.clone();
        async move {
            let response = request.bearer_auth(token).send().await.unwrap();
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            (status, headers, response.text().await.unwrap())
        }
    };

    let (status, _, text) = send(client.get(format!("{base}/"))).await;
    assert_eq!(status, 200);
    assert!(text.contains("POST a JSON-RPC 2.0 message here"), "{text}");
    let elsewhere = client
        .post(format!("{base}/elsewhere"))
        .header("content-type", "application/json");
    let (status, _, _) = send(elsewhere).await;
    assert_eq!(status, 404);
    let (status, headers, _) = send(client.put(format!("{base}/"))).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET, HEAD, POST");
    // A WebSocket handshake of `version`, with these `Sec-WebSocket-Key`s.
    let handshake = |version: &str, keys: &[&str]| {
        let mut request = client
            .get(format!("{base}/"))
            .header("connection", "keep-alive, Upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", version);
        for key in keys {
            request = request.header("sec-websocket-key", *key);
        }
        request
    };
    let good_key = "dGhlIHNhbXBsZSBub25jZQ==";
    let (status, headers, _) = send(handshake("8", &[good_key])).await;
    assert_eq!(status, 426);
    assert_eq!(headers["sec-websocket-version"], "13");
    let (status, _, _) = send(handshake("13", &[])).await;
    assert_eq!(status, 400);
    let (status, _, text) = send(handshake("13", &["c2hvcnQ="])).await;
    assert_eq!(status, 400);
    assert!(text.contains("16 bytes"), "{text}");
    let (status, _, text) = send(handshake("13", &[good_key, good_key])).await;
    assert_eq!(status, 400);
    assert!(text.contains("one Sec-WebSocket-Key"), "{text}");
    running.stop().await;
}
