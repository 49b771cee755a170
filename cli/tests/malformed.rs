//! Malformed input, each answered with the right error, and the server keeps serving
//! with no panic in its log.

mod common;

use common::*;
use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// What a case must be answered with.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// One error response with this code.
    Code(i64),
    /// A batch of error responses, each with this code.
    Batch(usize, i64),
    /// No content (a notification).
    Nothing,
    /// The transport refuses it (HTTP status).
    Status(u16),
}
use Expect::*;

const LIMIT: usize = 32 * 1024;

fn cases() -> Vec<(String, Vec<u8>, Expect)> {
    let mut cases: Vec<(String, Vec<u8>, Expect)> = Vec::new();
    let mut add = |name: &str, body: &[u8], expect: Expect| {
        cases.push((name.to_owned(), body.to_vec(), expect));
    };
    let req = |method: &str, params: &str| {
        format!(r#"{{"jsonrpc": "2.0", "id": 1, "method": "{method}", "params": {params}}}"#)
    };
    // Broken JSON.
    add("open brace", b"{", Code(-32700));
    add("close brace", b"}", Code(-32700));
    add("open bracket", b"[", Code(-32700));
    add(
        "truncated",
        br#"{"jsonrpc": "2.0", "method": "op_resources_sync", "id": 1"#,
        Code(-32700),
    );
    add(
        "missing comma",
        br#"{"jsonrpc": "2.0" "method": "x"}"#,
        Code(-32700),
    );
    add("single quotes", b"{'jsonrpc': '2.0'}", Code(-32700));
    add("bare word", b"nul", Code(-32700));
    add(
        "trailing comma",
        br#"{"jsonrpc": "2.0", "method": "x",}"#,
        Code(-32700),
    );
    add(
        "unclosed batch",
        br#"[{"jsonrpc": "2.0", "id": 1, "method": "op_resources_sync"}"#,
        Code(-32700),
    );
    add("unterminated string", br#""unterminated"#, Code(-32700));
    add("empty body", b"", Code(-32700));
    add("whitespace", b"  \n\t ", Code(-32700));
    add("nul byte", b"\0", Code(-32700));
    add("byte order mark", "\u{feff}{}".as_bytes(), Code(-32700));
    add("two values", br#"{} {}"#, Code(-32700));
    add(
        "bad escape",
        br#"{"jsonrpc": "2.0", "method": "\q"}"#,
        Code(-32700),
    );
    // Invalid UTF-8.
    add(
        "invalid utf-8 in a string",
        b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xff\"}",
        Code(-32700),
    );
    add("invalid utf-8 alone", b"\xc3\x28", Code(-32700));
    add("overlong utf-8", b"\xc0\xaf", Code(-32700));
    // Deep nesting.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    // A batch whose one member is not an object; the nesting costs no stack.
    add("deep array", deep.as_bytes(), Batch(1, -32600));
    let deep_params = req(
        "op_stat_sync",
        &format!("{}1{}", "[".repeat(200), "]".repeat(200)),
    );
    add("deep params", deep_params.as_bytes(), Code(-32602));
    let deep_object = format!(
        r#"{{"jsonrpc": "2.0", "id": 1, "method": "op_stat_sync", "params": {}1{}}}"#,
        r#"{"a":"#.repeat(300),
        "}".repeat(300)
    );
    add("deep object", deep_object.as_bytes(), Code(-32602));
    // Not a request object.
    add("empty batch", b"[]", Code(-32600));
    add("number", b"5", Code(-32600));
    add("string", br#""op_resources_sync""#, Code(-32600));
    add("null", b"null", Code(-32600));
    add("true", b"true", Code(-32600));
    add("empty object", b"{}", Code(-32600));
    add(
        "jsonrpc as number",
        br#"{"jsonrpc": 2.0, "method": "op_resources_sync", "id": 1}"#,
        Code(-32600),
    );
    add(
        "jsonrpc 1.0",
        br#"{"jsonrpc": "1.0", "method": "op_resources_sync", "id": 1}"#,
        Code(-32600),
    );
    add(
        "method as number",
        br#"{"jsonrpc": "2.0", "method": 1, "id": 1}"#,
        Code(-32600),
    );
    add(
        "method null",
        br#"{"jsonrpc": "2.0", "method": null, "id": 1}"#,
        Code(-32600),
    );
    add(
        "method array",
        br#"{"jsonrpc": "2.0", "method": ["a"], "id": 1}"#,
        Code(-32600),
    );
    add(
        "id object",
        br#"{"jsonrpc": "2.0", "method": "op_resources_sync", "id": {}}"#,
        Code(-32600),
    );
    add(
        "id array",
        br#"{"jsonrpc": "2.0", "method": "op_resources_sync", "id": [1]}"#,
        Code(-32600),
    );
    add(
        "id bool",
        br#"{"jsonrpc": "2.0", "method": "op_resources_sync", "id": true}"#,
        Code(-32600),
    );
    add("batch of one number", b"[1]", Batch(1, -32600));
    add("batch of three", b"[1, \"x\", null]", Batch(3, -32600));
    add("batch of empty objects", b"[{}, {}]", Batch(2, -32600));
    add(
        "request as an array",
        br#"[["2.0", "op_resources_sync", null, 1, null]]"#,
        Batch(1, -32600),
    );
    add(
        "null id is still a request",
        br#"{"jsonrpc": "2.0", "id": null, "method": "op_nope"}"#,
        Code(-32601),
    );
    let oversize = req("op_stat_sync", &format!(r#"["{}"]"#, "a".repeat(LIMIT)));
    add("over the size limit", oversize.as_bytes(), Code(-32600));
    let far_over = req("op_stat_sync", &format!(r#"["{}"]"#, "a".repeat(LIMIT * 4)));
    add("far over the size limit", far_over.as_bytes(), Status(413));
    // Unknown methods.
    add(
        "unknown method",
        req("op_nope", "[]").as_bytes(),
        Code(-32601),
    );
    add("empty method", req("", "[]").as_bytes(), Code(-32601));
    add(
        "op name without entry suffix",
        req("op_stat", "[]").as_bytes(),
        Code(-32601),
    );
    add(
        "unicode method",
        req("óp_stat_sync", "[]").as_bytes(),
        Code(-32601),
    );
    add(
        "long method",
        req(&"x".repeat(1000), "[]").as_bytes(),
        Code(-32601),
    );
    add(
        "method with a space",
        req("op_stat_sync ", "[]").as_bytes(),
        Code(-32601),
    );
    add(
        "unknown method notification",
        br#"{"jsonrpc": "2.0", "method": "op_nope"}"#,
        Nothing,
    );
    // Bad params.
    add(
        "params string",
        req("op_stat_sync", r#""a.txt""#).as_bytes(),
        Code(-32602),
    );
    add(
        "params number",
        req("op_stat_sync", "5").as_bytes(),
        Code(-32602),
    );
    add(
        "params null",
        req("op_stat_sync", "null").as_bytes(),
        Code(-32602),
    );
    add(
        "wrong type",
        req("op_stat_sync", "[1]").as_bytes(),
        Code(-32602),
    );
    add(
        "missing argument",
        req("op_stat_sync", "[]").as_bytes(),
        Code(-32602),
    );
    add(
        "too many arguments",
        req("op_stat_sync", r#"["a", "b"]"#).as_bytes(),
        Code(-32602),
    );
    add(
        "unknown name",
        req("op_stat_sync", r#"{"paht": "a"}"#).as_bytes(),
        Code(-32602),
    );
    add(
        "repeated name",
        req("op_stat_sync", r#"{"path": "a", "path": "b"}"#).as_bytes(),
        Code(-32602),
    );
    add(
        "wrong nested type",
        req("op_open_sync", r#"["a", {"read": "yes"}]"#).as_bytes(),
        Code(-32602),
    );
    add(
        "huge exponent",
        req("op_close_sync", "[1e400]").as_bytes(),
        Code(-32602),
    );
    add(
        "huge integer",
        req("op_close_sync", "[99999999999999999999]").as_bytes(),
        Code(-32602),
    );
    add(
        "negative rid",
        req("op_close_sync", "[-1]").as_bytes(),
        Code(-32602),
    );
    add(
        "rid over u32",
        req("op_close_sync", "[4294967296]").as_bytes(),
        Code(-32602),
    );
    add(
        "fractional rid",
        req("op_close_sync", "[1.5]").as_bytes(),
        Code(-32602),
    );
    let buffers = |b: &str| {
        format!(
            r#"{{"jsonrpc": "2.0", "id": 1, "method": "op_write_file_sync", "params": ["b.bin"], "buffers": {b}}}"#
        )
    };
    add("bad base64", buffers(r#"["!!!"]"#).as_bytes(), Code(-32602));
    add(
        "base64 with bad padding",
        buffers(r#"["AAA"]"#).as_bytes(),
        Code(-32602),
    );
    add(
        "buffers not an array",
        buffers(r#""AAAA""#).as_bytes(),
        Code(-32602),
    );
    add(
        "buffers of numbers",
        buffers("[1, 2]").as_bytes(),
        Code(-32602),
    );
    add("missing buffer", buffers("[]").as_bytes(), Code(-32602));
    // Op errors.
    add(
        "bad rid",
        req("op_close_sync", "[12345]").as_bytes(),
        Code(-32000),
    );
    add(
        "missing file",
        req("op_stat_sync", r#"["nope.txt"]"#).as_bytes(),
        Code(-32000),
    );
    add(
        "outside the roots",
        req("op_read_text_file_sync", r#"["/etc/passwd"]"#).as_bytes(),
        Code(-32000),
    );
    add(
        "dot-dot escape",
        req("op_read_text_file_async", r#"["../../etc/passwd"]"#).as_bytes(),
        Code(-32000),
    );
    add(
        "not text",
        req("op_read_text_file_sync", r#"["bin.dat"]"#).as_bytes(),
        Code(-32000),
    );
    cases
}

fn check(name: &str, expect: Expect, status: u16, body: &str) {
    match expect {
        Status(code) => assert_eq!(status, code, "{name}: {body}"),
        Nothing => assert_eq!((status, body), (204, ""), "{name}"),
        Code(code) => {
            assert_eq!(status, 200, "{name}: {body}");
            let reply: Value =
                serde_json::from_str(body).unwrap_or_else(|_| panic!("{name}: {body}"));
            assert_eq!(reply["jsonrpc"], "2.0", "{name}");
            assert_eq!(reply["error"]["code"], code, "{name}: {body}");
            assert!(
                reply["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty())
            );
        }
        Batch(len, code) => {
            let replies: Vec<Value> =
                serde_json::from_str(body).unwrap_or_else(|_| panic!("{name}: {body}"));
            assert_eq!(replies.len(), len, "{name}");
            for reply in replies {
                assert_eq!(reply["error"]["code"], code, "{name}: {body}");
            }
        }
    }
}

/// A server on a fresh folder (holding one non-UTF-8 file) with the small limit.
fn start() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bin.dat"), [0xff, 0xfe]).unwrap();
    let data = dir.path().to_str().unwrap();
    let limit = LIMIT.to_string();
    let server = Server::start(
        dir.path(),
        &[
            "--allow-read",
            data,
            "--allow-write",
            data,
            "--max-message-bytes",
            &limit,
        ],
    );
    (dir, server)
}

#[tokio::test]
async fn malformed_input_over_http() {
    let (_dir, server) = start();
    let cases = cases();
    assert!(cases.len() >= 50, "{} cases", cases.len());
    for (name, body, expect) in &cases {
        let (status, text) = post(&server.url, body.clone()).await;
        check(name, *expect, status, &text);
    }
    // Still serving.
    let reply = rpc(&server.url, 1, "op_resources_sync", json!([])).await;
    assert_eq!(reply["result"], json!([]));
    let log = server.stop();
    assert!(!log.contains("panicked"), "{log}");
    println!("{} malformed inputs answered", cases.len());
}

/// The same inputs on one WebSocket: one session survives them all.
#[tokio::test]
async fn malformed_input_over_one_websocket() {
    let (_dir, server) = start();
    let mut ws = ws_connect(&server).await;
    for (name, body, expect) in cases() {
        if matches!(expect, Nothing | Status(_)) {
            continue;
        }
        let message = match String::from_utf8(body.clone()) {
            Ok(text) => Message::Text(text.into()),
            Err(_) => Message::Binary(body.into()),
        };
        ws.send(message).await.unwrap();
        let reply = ws_recv(&mut ws).await;
        check(&name, expect, 200, &reply.to_string());
    }
    let reply = ws_call(&mut ws, 9, "op_resources_sync", json!([])).await;
    assert_eq!(reply["result"], json!([]));
    let log = server.stop();
    assert!(!log.contains("panicked"), "{log}");
}
