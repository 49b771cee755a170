//! The real binary over HTTP, WebSocket and stdio.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use common::*;
use serde_json::{Value, json};

fn folder() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[tokio::test]
async fn http_serves_sync_async_batches_and_notifications() {
    let dir = folder();
    let data = dir.path().to_str().unwrap();
    let server = Server::start(dir.path(), &["--allow-read", data, "--allow-write", data]);
    let url = &server.url;

    let path = dir.path().join("a.txt");
    let path = path.to_str().unwrap();
    let reply = rpc(url, 1, "op_write_text_file_sync", json!([path, "hello"])).await;
    assert_eq!(reply, json!({"jsonrpc": "2.0", "id": 1, "result": null}));
    let reply = rpc(url, 2, "op_read_text_file_async", json!({"path": path})).await;
    assert_eq!(reply["result"], "hello");

    // A batch: answers in order of the requests, notifications unanswered.
    let batch = json!([
        {"jsonrpc": "2.0", "id": "s", "method": "op_stat_sync", "params": [path]},
        {"jsonrpc": "2.0", "method": "op_write_text_file_sync", "params": [path, "bye"]},
        {"jsonrpc": "2.0", "id": 7, "method": "op_resources_sync"},
    ]);
    let (status, text) = post(url, batch.to_string()).await;
    assert_eq!(status, 200);
    let replies: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(replies.len(), 2, "{text}");
    assert_eq!(replies[0]["id"], "s");
    assert_eq!(replies[0]["result"]["size"], 5);
    assert_eq!(replies[1], json!({"jsonrpc": "2.0", "id": 7, "result": []}));
    // The notification in the batch ran.
    let reply = rpc(url, 3, "op_read_text_file_sync", json!([path])).await;
    assert_eq!(reply["result"], "bye");

    // A lone notification gets no content at all.
    let note =
        json!({"jsonrpc": "2.0", "method": "op_write_text_file_sync", "params": [path, "n"]});
    assert_eq!(post(url, note.to_string()).await, (204, String::new()));
    let notes = json!([{"jsonrpc": "2.0", "method": "op_resources_sync"}]);
    assert_eq!(post(url, notes.to_string()).await, (204, String::new()));

    // Buffers travel as base64 both ways.
    let write = json!({"jsonrpc": "2.0", "id": 9, "method": "op_write_file_async",
        "params": [path], "buffers": ["AAEC/w=="]});
    let (_, text) = post(url, write.to_string()).await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["result"], Value::Null, "{text}");
    assert_eq!(reply["buffers"], json!(["AAEC/w=="]));
    assert_eq!(std::fs::read(path).unwrap(), [0, 1, 2, 255]);

    let log = server.stop();
    assert!(!log.contains("panicked"), "{log}");
    // Logged to a pipe, not a terminal: no colour codes.
    assert!(log.contains("DEBUG") || log.contains("INFO"), "{log}");
    assert!(
        !log.contains('\x1b'),
        "ANSI escapes in a log that is no terminal: {log:?}"
    );
}

#[tokio::test]
async fn every_error_code() {
    let dir = folder();
    let data = dir.path().to_str().unwrap();
    let server = Server::start(dir.path(), &["--allow-read", data]);
    let url = &server.url;
    let cases: &[(&str, i64, &str)] = &[
        ("{", -32700, "parse error"),
        (
            r#"{"jsonrpc": "2.0", "id": 1}"#,
            -32600,
            "invalid request: `method` must be a string",
        ),
        (
            r#"{"jsonrpc": "1.0", "id": 1, "method": "op_resources_sync"}"#,
            -32600,
            "invalid request",
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": "op_nope"}"#,
            -32601,
            "method not found: 'op_nope'",
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": "op_stat_sync", "params": [1]}"#,
            -32602,
            "TypeError: op_stat: invalid argument 'path' (&str): invalid type: integer `1`, expected a string",
        ),
        (
            r#"{"jsonrpc": "2.0", "id": 1, "method": "op_stat_sync", "params": ["missing.txt"]}"#,
            -32000,
            "NotFound: op_stat:",
        ),
    ];
    for (body, code, message) in cases {
        let (status, text) = post(url, body.to_string()).await;
        assert_eq!(status, 200);
        let reply: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(reply["error"]["code"], *code, "{body}: {text}");
        let got = reply["error"]["message"].as_str().unwrap();
        assert!(got.starts_with(message), "{body}: {got}");
    }
    // Op errors carry the class and the errno name.
    let body =
        r#"{"jsonrpc": "2.0", "id": 1, "method": "op_stat_sync", "params": ["missing.txt"]}"#;
    let reply: Value = serde_json::from_str(&post(url, body).await.1).unwrap();
    assert_eq!(reply["error"]["data"]["class"], "NotFound");
    assert_eq!(reply["error"]["data"]["code"], "ENOENT");
    // Outside the allowed folder: refused.
    let reply = rpc(url, 1, "op_stat_sync", json!(["/etc/hostname"])).await;
    assert_eq!(reply["error"]["data"]["class"], "PermissionDenied");
    drop(server);
}

#[tokio::test]
async fn websocket_sessions_own_their_rids() {
    let dir = folder();
    let data = dir.path().to_str().unwrap();
    std::fs::write(dir.path().join("f.txt"), b"0123456789").unwrap();
    let server = Server::start(dir.path(), &["--allow-read", data]);
    let path = dir.path().join("f.txt");
    let path = path.to_str().unwrap();

    let mut first = ws_connect(&server).await;
    let rid = ws_call(&mut first, 1, "op_open_async", json!([path])).await["result"].clone();
    assert!(rid.is_u64(), "{rid}");
    ws_send(
        &mut first,
        json!({"jsonrpc": "2.0", "id": 2, "method": "op_read_async", "params": [rid], "buffers": ["AAAAAA=="]}),
    )
    .await;
    let read = ws_recv(&mut first).await;
    assert_eq!(read["result"], 4);
    assert_eq!(
        read["buffers"],
        json!(["MDEyMw=="]),
        "the first four bytes, 0123"
    );

    // Another session cannot reach the rid.
    let mut second = ws_connect(&server).await;
    let denied = ws_call(&mut second, 1, "op_read_sync", json!([rid])).await;
    assert_eq!(denied["error"]["data"]["class"], "BadResource", "{denied}");
    let listed = ws_call(&mut second, 2, "op_resources_sync", json!([])).await;
    assert_eq!(listed["result"], json!([]));
    // An HTTP request is a session of its own, too.
    let reply = rpc(&server.url, 1, "op_fstat_sync", json!([rid])).await;
    assert_eq!(reply["error"]["data"]["class"], "BadResource");

    // The first session still has it; closing the connection releases it.
    let stat = ws_call(&mut first, 3, "op_fstat_sync", json!([rid])).await;
    assert_eq!(stat["result"]["size"], 10);
    drop(first);
    drop(second);
    drop(server);
}

#[tokio::test]
async fn async_replies_arrive_out_of_order_and_closing_interrupts() {
    let dir = folder();
    let server = Server::start(dir.path(), &["--allow-net", "127.0.0.1"]);
    let mut ws = ws_connect(&server).await;
    let listening = ws_call(
        &mut ws,
        1,
        "op_net_listen_tcp_sync",
        json!(["127.0.0.1", 0]),
    )
    .await;
    let rid = listening["result"]["rid"].clone();
    assert!(rid.is_u64(), "{listening}");
    // The accept stays pending; later requests are answered first.
    ws_send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": 2, "method": "op_net_accept_tcp_async", "params": [rid]}),
    )
    .await;
    let listed = ws_call(&mut ws, 3, "op_resources_sync", json!([])).await;
    assert_eq!(listed["id"], 3);
    let closed = ws_call(&mut ws, 4, "op_close_sync", json!([rid])).await;
    let interrupted = if closed["id"] == 4 {
        ws_recv(&mut ws).await
    } else {
        let pending = closed;
        assert_eq!(ws_recv(&mut ws).await["id"], 4);
        pending
    };
    assert_eq!(interrupted["id"], 2);
    assert_eq!(
        interrupted["error"]["data"]["class"], "Interrupted",
        "{interrupted}"
    );
    drop(server);
}

#[test]
fn stdio_serves_one_session() {
    let dir = folder();
    let data = dir.path().to_str().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "serve",
            "--stdio",
            "--allow-read",
            data,
            "--allow-write",
            data,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let path = dir.path().join("s.txt");
    let mut ask = |line: String| -> Value {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let mut reply = String::new();
        stdout.read_line(&mut reply).unwrap();
        serde_json::from_str(&reply).unwrap_or_else(|_| panic!("not JSON: {reply:?}"))
    };
    let write = json!({"jsonrpc": "2.0", "id": 1, "method": "op_open_async",
        "params": [path, {"write": true, "create": true}]});
    let rid = ask(write.to_string())["result"].clone();
    assert!(rid.is_u64());
    let listed = ask(json!({"jsonrpc": "2.0", "id": 2, "method": "op_resources_sync"}).to_string());
    assert_eq!(listed["result"][0]["rid"], rid);
    assert_eq!(ask("not json".into())["error"]["code"], -32700);
    let closed = ask(
        json!({"jsonrpc": "2.0", "id": 3, "method": "op_close_sync", "params": [rid]}).to_string(),
    );
    assert_eq!(closed["result"], Value::Null);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[tokio::test]
async fn the_readme_command_serves_a_working_folder_and_its_example_works() {
    let dir = folder();
    let server = Server::start(dir.path(), &[]);
    assert!(
        dir.path().join("opkit-data").is_dir(),
        "the working folder is created"
    );
    // Run the printed example with curl itself, as a person would.
    let example = server
        .example
        .strip_prefix("opkit: try")
        .unwrap()
        .trim()
        .to_owned();
    assert!(example.starts_with("curl "), "{example}");
    let output = Command::new("sh").args(["-c", &example]).output().unwrap();
    assert!(output.status.success());
    let replies: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(replies[0]["result"], Value::Null, "{replies}");
    assert_eq!(replies[1]["result"], "hello from opkit");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("opkit-data/hello.txt")).unwrap(),
        "hello from opkit"
    );
    // Outside the working folder and on the network: refused.
    let reply = rpc(
        &server.url,
        1,
        "op_read_text_file_sync",
        json!(["../escape.txt"]),
    )
    .await;
    assert_eq!(reply["error"]["data"]["class"], "PermissionDenied");
    let reply = rpc(
        &server.url,
        1,
        "op_net_connect_tcp_async",
        json!(["127.0.0.1", 9]),
    )
    .await;
    assert_eq!(reply["error"]["data"]["class"], "PermissionDenied");
    let log = server.stop();
    assert!(log.contains("serving the working folder"), "{log}");
}

#[test]
fn call_runs_one_op() {
    let dir = folder();
    std::fs::write(dir.path().join("c.txt"), "called").unwrap();
    let data = dir.path().to_str().unwrap();
    let path = dir.path().join("c.txt");
    let args = json!([path]).to_string();
    let out = Command::new(BIN)
        .args([
            "call",
            "op_read_text_file_async",
            &args,
            "--allow-read",
            data,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"called\"");
    // With no flags, the working folder `serve` would serve, `./opkit-data`, and
    // nothing outside it.
    let call = |args: &[&str]| {
        Command::new(BIN)
            .current_dir(dir.path())
            .arg("call")
            .args(args)
            .output()
            .unwrap()
    };
    let out = call(&["op_write_text_file_sync", r#"["note.txt", "kept"]"#]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = call(&["op_read_text_file_sync", r#"["note.txt"]"#]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "\"kept\"");
    let kept = std::fs::read_to_string(dir.path().join("opkit-data/note.txt")).unwrap();
    assert_eq!(kept, "kept");
    let out = call(&["op_read_text_file_sync", &args]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("PermissionDenied: op_read_text_file")
    );
    let out = call(&["op_nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("NotFound: unknown op 'op_nope'"));
}

#[test]
fn ops_lists_every_entry() {
    let out = Command::new(BIN).arg("ops").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("ENTRY"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("op_stat_async") && l.contains("blocking") && l.contains("fs"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("op_net_accept_tcp_async") && l.contains("net"))
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("op_close_sync") && l.contains("core"))
    );
}

/// SIGTERM: the server stops taking requests, answers the one in flight, then exits.
#[tokio::test]
async fn shutdown_answers_requests_in_flight() {
    let dir = folder();
    let server = Server::start(dir.path(), &["--allow-net", "127.0.0.1"]);
    let mut ws = ws_connect(&server).await;
    let listening = ws_call(
        &mut ws,
        1,
        "op_net_listen_tcp_sync",
        json!(["127.0.0.1", 0]),
    )
    .await;
    let rid = listening["result"]["rid"].clone();
    let port = listening["result"]["local_addr"]["port"]
        .as_u64()
        .expect("a port") as u16;
    ws_send(
        &mut ws,
        json!({"jsonrpc": "2.0", "id": 2, "method": "op_net_accept_tcp_async", "params": [rid]}),
    )
    .await;
    // Make sure the accept is pending before the signal.
    assert_eq!(
        ws_call(&mut ws, 3, "op_resources_sync", json!([])).await["id"],
        3
    );
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Completing the accept after the signal still gets its answer.
    let _client = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let accepted = ws_recv(&mut ws).await;
    assert_eq!(accepted["id"], 2);
    assert!(accepted["result"]["rid"].is_u64(), "{accepted}");
    let log = server.stop();
    assert!(log.contains("shutting down"), "{log}");
}

/// A `ByteBuf` result travels as base64.
#[tokio::test]
async fn byte_results_travel_as_base64() {
    let dir = folder();
    std::fs::write(dir.path().join("b.bin"), [0_u8, 1, 2, 255]).unwrap();
    let data = dir.path().to_str().unwrap();
    let server = Server::start(dir.path(), &["--allow-read", data]);
    let path = dir.path().join("b.bin");
    for method in ["op_read_file_sync", "op_read_file_async"] {
        let reply = rpc(&server.url, 1, method, json!([path])).await;
        assert_eq!(reply["result"], "AAEC/w==", "{reply}");
    }
}

/// What a web page in a browser could send is refused: a foreign Origin, a
/// non-loopback Host (DNS rebinding), a POST that is not JSON.
#[tokio::test]
async fn cross_site_requests_are_refused() {
    let dir = folder();
    let server = Server::start(dir.path(), &[]);
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"op_resources_sync"}"#;
    let client = reqwest::Client::new();
    let send = |builder: reqwest::RequestBuilder| async move {
        let response = builder.body(body).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    };
    let (status, text) = send(
        client
            .post(&server.url)
            .header("content-type", "text/plain"),
    )
    .await;
    assert_eq!(status, 415, "{text}");
    let (status, _) = send(
        client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("origin", "http://evil.example"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = send(
        client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("host", "evil.example:8765"),
    )
    .await;
    assert_eq!(status, 403);
    // A loopback origin (a page served by the host itself) is fine.
    let (status, text) = send(
        client
            .post(&server.url)
            .header("content-type", "application/json; charset=utf-8")
            .header("origin", "http://localhost:3000"),
    )
    .await;
    assert_eq!(
        (status, text.as_str()),
        (200, r#"{"jsonrpc":"2.0","id":1,"result":[]}"#)
    );
    // A WebSocket from a foreign page is refused at the upgrade.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = server.ws_url().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(request).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
}

#[test]
fn stdio_answers_an_over_long_line() {
    let dir = folder();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--stdio", "--max-message-bytes", "100"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let long = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"{}"}}"#,
        "x".repeat(500)
    );
    writeln!(stdin, "{long}").unwrap();
    writeln!(
        stdin,
        r#"{{"jsonrpc":"2.0","id":2,"method":"op_resources_sync"}}"#
    )
    .unwrap();
    stdin.flush().unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let refused: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(refused["error"]["code"], -32600, "{line}");
    line.clear();
    stdout.read_line(&mut line).unwrap();
    let next: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(next["id"], 2, "the session goes on: {line}");
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn call_runs_sync_net_ops_inside_a_runtime() {
    let out = Command::new(BIN)
        .args([
            "call",
            "op_net_listen_tcp_sync",
            r#"["127.0.0.1", 0]"#,
            "--allow-net",
            "127.0.0.1",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listening: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        listening["local_addr"]["port"]
            .as_u64()
            .is_some_and(|p| p > 0),
        "{listening}"
    );
}

#[tokio::test]
async fn a_null_id_is_answered() {
    let dir = folder();
    let server = Server::start(dir.path(), &[]);
    let body = r#"{"jsonrpc":"2.0","id":null,"method":"op_resources_sync"}"#;
    assert_eq!(
        post(&server.url, body).await,
        (200, r#"{"jsonrpc":"2.0","id":null,"result":[]}"#.to_owned())
    );
}
