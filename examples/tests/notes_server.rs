//! The `notes-server` binary, started as a user starts it and called as its clients
//! call it: over HTTP with the token in `Authorization: Bearer`, over WebSocket with
//! the token in the handshake's header or in `?token=`, and over `--stdio`.

use std::future::Future;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const BIN: &str = env!("CARGO_BIN_EXE_notes-server");

/// A generous bound for anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(60);

/// `what` finished within [`PATIENCE`], or the test fails naming it.
async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(PATIENCE, future)
        .await
        .unwrap_or_else(|_| panic!("{what} within {PATIENCE:?}"))
}

/// A running `notes-server --addr 127.0.0.1:0`; killed when a failing test drops it.
struct NotesServer {
    child: Child,
    /// `http://127.0.0.1:PORT/`, as printed.
    url: String,
    /// The token, as printed.
    token: String,
    /// Kept open, so that the server never writes to a closed pipe.
    _stdout: Lines<BufReader<ChildStdout>>,
}

/// Where a WebSocket client shows the token.
enum TokenIn {
    Header,
    Query,
}

type Ws = tokio_tungstenite::WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

impl NotesServer {
    /// Starts the binary and reads the address and the token from its stdout.
    async fn start() -> Self {
        let mut child = Command::new(BIN)
            .args(["--addr", "127.0.0.1:0"])
            .env_remove("OPKIT_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("notes-server starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let (mut url, mut token) = (None, None);
        while url.is_none() || token.is_none() {
            let line = within("the address and the token", stdout.next_line())
                .await
                .unwrap()
                .expect("notes-server prints its address and token");
            if let Some(found) = line.split_whitespace().find(|w| w.starts_with("http://")) {
                url = Some(found.to_owned());
            }
            if let Some(found) = line.strip_prefix("notes-server: token ") {
                token = Some(found.trim().to_owned());
            }
        }
        Self {
            child,
            url: url.unwrap(),
            token: token.unwrap(),
            _stdout: stdout,
        }
    }

    /// POSTs a JSON-RPC message with `token` (none: no `Authorization`); the status
    /// and the text of the answer.
    async fn post_as(&self, token: Option<&str>, body: &Value) -> (u16, String) {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = within("an HTTP answer", request.send())
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// POSTs a JSON-RPC message with the server's token, and parses the answer.
    async fn post(&self, body: Value) -> Value {
        let (status, text) = self.post_as(Some(&self.token), &body).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// One request over HTTP, answered.
    async fn call(&self, id: u64, method: &str, params: Value) -> Value {
        self.post(request(id, method, params)).await
    }

    /// A WebSocket session that shows the token in `token_in`.
    async fn ws(&self, token_in: TokenIn) -> Ws {
        let url = self.url.replacen("http://", "ws://", 1);
        let request = match token_in {
            TokenIn::Header => {
                let mut request = url.into_client_request().unwrap();
                let bearer = format!("Bearer {}", self.token).parse().unwrap();
                request.headers_mut().insert("authorization", bearer);
                request
            }
            TokenIn::Query => format!("{url}?token={}", self.token)
                .into_client_request()
                .unwrap(),
        };
        let (ws, _) = within("a handshake", tokio_tungstenite::connect_async(request))
            .await
            .expect("the handshake succeeds");
        ws
    }

    /// Sends SIGTERM and waits for the server to exit successfully.
    async fn stop(mut self) {
        let pid = self.child.id().expect("the server is still running");
        let pid = rustix::process::Pid::from_raw(i32::try_from(pid).unwrap()).unwrap();
        rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
        let status = within("an exit after SIGTERM", self.child.wait())
            .await
            .unwrap();
        assert!(status.success(), "{status}");
    }
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

async fn ws_send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next text message, parsed.
async fn ws_next(ws: &mut Ws) -> Value {
    loop {
        let next = within("a WebSocket reply", ws.next())
            .await
            .expect("the socket stays open")
            .expect("no WebSocket error");
        match next {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// One request over a WebSocket, answered.
async fn ws_call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    ws_send(ws, request(id, method, params)).await;
    ws_next(ws).await
}

/// The address of this end of a WebSocket, which the server sees as the peer.
fn local_addr(ws: &Ws) -> SocketAddr {
    let MaybeTlsStream::Plain(stream) = ws.get_ref() else {
        panic!("a plain TCP stream");
    };
    stream.local_addr().unwrap()
}

/// The `result` members of a batch's answers, sorted (a batch answers in any order).
fn sorted_results(replies: &Value) -> Vec<Value> {
    let mut results: Vec<Value> = replies
        .as_array()
        .expect("a batch answer")
        .iter()
        .map(|reply| reply["result"].clone())
        .collect();
    results.sort_by_key(Value::to_string);
    results
}

#[tokio::test]
async fn notes_added_over_http_are_listed_over_websocket() {
    let server = NotesServer::start().await;
    let added = server
        .post(json!([
            request(1, "op_note_add_sync", json!(["milk"])),
            request(2, "op_note_add_async", json!({"text": "eggs"})),
        ]))
        .await;
    assert_eq!(sorted_results(&added), [json!(1), json!(2)], "{added}");

    let mut ws = server.ws(TokenIn::Header).await;
    let listed = ws_call(&mut ws, 3, "op_note_list_sync", json!([])).await;
    let mut notes: Vec<&str> = listed["result"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {listed}"))
        .iter()
        .map(|note| note.as_str().unwrap())
        .collect();
    notes.sort_unstable();
    assert_eq!(notes, ["eggs", "milk"]);
    drop(ws);
    server.stop().await;
}

#[tokio::test]
async fn a_cursor_walks_the_notes_within_its_websocket_session() {
    let server = NotesServer::start().await;
    server.call(1, "op_note_add_sync", json!(["first"])).await;
    server.call(2, "op_note_add_sync", json!(["second"])).await;

    let mut ws = server.ws(TokenIn::Header).await;
    let opened = ws_call(&mut ws, 3, "op_note_cursor_sync", json!([])).await;
    let rid = opened["result"].clone();
    assert!(rid.is_u64(), "{opened}");
    let mut walked = Vec::new();
    for id in 4..7 {
        walked
            .push(ws_call(&mut ws, id, "op_note_next_sync", json!([rid])).await["result"].clone());
    }
    assert_eq!(walked, [json!("first"), json!("second"), Value::Null]);
    // Past the last note the cursor stays, and finds a note added later.
    server.call(7, "op_note_add_async", json!(["third"])).await;
    let third = ws_call(&mut ws, 8, "op_note_next_sync", json!([rid])).await;
    assert_eq!(third["result"], json!("third"), "{third}");

    // The rid is this session's: another session cannot use it.
    let mut other = server.ws(TokenIn::Header).await;
    let foreign = ws_call(&mut other, 9, "op_note_next_sync", json!([rid])).await;
    assert_eq!(
        foreign["error"]["data"]["class"], "BadResource",
        "{foreign}"
    );
    // Closed, it is gone from this one too.
    let closed = ws_call(&mut ws, 10, "op_close_sync", json!([rid])).await;
    assert_eq!(closed["result"], Value::Null, "{closed}");
    let after = ws_call(&mut ws, 11, "op_note_next_sync", json!([rid])).await;
    assert_eq!(after["error"]["data"]["class"], "BadResource", "{after}");
    drop((ws, other));
    server.stop().await;
}

#[tokio::test]
async fn whoami_reports_each_sessions_caller() {
    let server = NotesServer::start().await;
    for token_in in [TokenIn::Header, TokenIn::Query] {
        let mut ws = server.ws(token_in).await;
        let who = ws_call(&mut ws, 1, "op_whoami_sync", json!([])).await;
        assert_eq!(
            who["result"],
            json!({
                "transport": "WebSocket",
                "peer": local_addr(&ws).to_string(),
                "authenticated": true,
            })
        );
        let peer: SocketAddr = who["result"]["peer"].as_str().unwrap().parse().unwrap();
        assert_eq!(peer.ip().to_string(), "127.0.0.1");
    }
    let who = server.call(2, "op_whoami_sync", json!([])).await;
    assert_eq!(who["result"]["transport"], "Http", "{who}");
    assert_eq!(who["result"]["authenticated"], true, "{who}");
    server.stop().await;
}

/// `op_note_wait` is an `async fn` op: it answers once another session has added the
/// note it waits for, and the session answers other calls meanwhile.
#[tokio::test]
async fn a_wait_is_answered_when_another_session_adds_a_note() {
    let server = NotesServer::start().await;
    let mut ws = server.ws(TokenIn::Query).await;
    ws_send(
        &mut ws,
        request(1, "op_note_wait_async", json!([1, 60_000])),
    )
    .await;
    // No note exists until the POST below, so the list's answer comes first.
    let listed = ws_call(&mut ws, 2, "op_note_list_sync", json!([])).await;
    assert_eq!(
        listed["id"], 2,
        "the wait is answered before any note: {listed}"
    );
    assert_eq!(listed["result"], json!([]), "{listed}");

    let added = server.call(3, "op_note_add_sync", json!(["awaited"])).await;
    assert_eq!(added["result"], 1, "{added}");
    let waited = ws_next(&mut ws).await;
    assert_eq!(waited["id"], 1, "{waited}");
    assert_eq!(waited["result"], 1, "{waited}");
    drop(ws);
    server.stop().await;
}

#[tokio::test]
async fn the_user_error_type_comes_back_with_its_class() {
    let server = NotesServer::start().await;
    let empty = server.call(1, "op_note_add_sync", json!([""])).await;
    assert_eq!(empty["error"]["code"], -32000, "{empty}");
    assert_eq!(
        empty["error"]["data"],
        json!({"class": "InvalidData", "code": null, "op": "op_note_add"})
    );
    assert_eq!(
        empty["error"]["message"],
        "InvalidData: op_note_add: a note cannot be empty"
    );

    let long = server
        .call(2, "op_note_add_async", json!(["x".repeat(5000)]))
        .await;
    assert_eq!(long["error"]["data"]["class"], "InvalidData", "{long}");
    let message = long["error"]["message"].as_str().unwrap();
    assert!(message.contains("5000 bytes; at most 4096"), "{message}");

    let mut missing = request(3, "op_note_read_sync", json!([7]));
    missing["buffers"] = json!([BASE64.encode([0u8; 4])]);
    let missing = server.post(missing).await;
    assert_eq!(missing["error"]["data"]["class"], "NotFound", "{missing}");

    // No one adds a thousand notes: the wait runs out of time.
    let timed_out = server
        .call(
            4,
            "op_note_wait_async",
            json!({"count": 1000, "timeout_ms": 10}),
        )
        .await;
    assert_eq!(
        timed_out["error"]["data"]["class"], "TimedOut",
        "{timed_out}"
    );

    let listed = server.call(5, "op_note_list_sync", json!([])).await;
    assert_eq!(
        listed["result"],
        json!([]),
        "refused notes are not kept: {listed}"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_buffer_op_fills_the_buffer_it_is_given() {
    let server = NotesServer::start().await;
    server.call(1, "op_note_add_sync", json!(["hello"])).await;

    let mut read = request(2, "op_note_read_sync", json!([0]));
    read["buffers"] = json!([BASE64.encode([0u8; 8])]);
    let read = server.post(read).await;
    assert_eq!(read["result"], 5, "{read}");
    assert_eq!(read["buffers"], json!([BASE64.encode(b"hello\0\0\0")]));

    // The async entry, over a WebSocket, with a buffer smaller than the note.
    let mut ws = server.ws(TokenIn::Header).await;
    let mut read = request(3, "op_note_read_async", json!({"index": 0}));
    read["buffers"] = json!([BASE64.encode([0u8; 3])]);
    ws_send(&mut ws, read).await;
    let read = ws_next(&mut ws).await;
    assert_eq!(read["result"], 3, "{read}");
    assert_eq!(read["buffers"], json!([BASE64.encode(b"hel")]));
    drop(ws);
    server.stop().await;
}

#[tokio::test]
async fn a_request_without_the_token_is_refused() {
    let server = NotesServer::start().await;
    let add = request(1, "op_note_add_sync", json!(["sneaky"]));
    let (status, text) = server.post_as(None, &add).await;
    assert_eq!(status, 401, "{text}");
    let (status, text) = server.post_as(Some("not-the-token-at-all"), &add).await;
    assert_eq!(status, 401, "{text}");

    let url = server.url.replacen("http://", "ws://", 1);
    let refused = within("a refused handshake", tokio_tungstenite::connect_async(url)).await;
    match refused {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        Err(other) => panic!("a 401 answer, not {other}"),
        Ok(_) => panic!("a WebSocket without the token is refused"),
    }

    let listed = server.call(2, "op_note_list_sync", json!([])).await;
    assert_eq!(listed["result"], json!([]), "nothing was added: {listed}");
    server.stop().await;
}

/// SIGTERM stops the server, and it ends the sessions still open.
#[tokio::test]
async fn sigterm_stops_the_server_with_a_session_open() {
    let server = NotesServer::start().await;
    let mut ws = server.ws(TokenIn::Header).await;
    let added = ws_call(&mut ws, 1, "op_note_add_sync", json!(["kept open"])).await;
    assert_eq!(added["result"], 1, "{added}");
    server.stop().await;
    let last = within("the session's end", ws.next()).await;
    assert!(
        !matches!(last, Some(Ok(Message::Text(_)))),
        "nothing more after the exit: {last:?}"
    );
}

#[tokio::test]
async fn stdio_answers_the_lines_of_stdin_until_it_closes() {
    let mut child = Command::new(BIN)
        .arg("--stdio")
        .env_remove("OPKIT_TOKEN")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("notes-server starts");
    let mut stdin = child.stdin.take().unwrap();
    let lines = format!(
        "{}\n{}\n",
        request(1, "op_note_add_sync", json!(["from stdio"])),
        request(2, "op_whoami_sync", json!([])),
    );
    stdin.write_all(lines.as_bytes()).await.unwrap();
    drop(stdin);

    let output = within("an exit once stdin is closed", child.wait_with_output())
        .await
        .unwrap();
    assert!(output.status.success(), "{}", output.status);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut replies: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    replies.sort_by_key(|reply| reply["id"].as_u64());
    assert_eq!(
        replies,
        [
            json!({"jsonrpc": "2.0", "id": 1, "result": 1}),
            json!({"jsonrpc": "2.0", "id": 2, "result": {
                "transport": "Stdio", "peer": null, "authenticated": false,
            }}),
        ],
        "{stdout}"
    );
}
