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

extension!(
    notes_ext,
    ops = [op_note_add, op_note_cursor, op_note_next, op_whoami]
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
