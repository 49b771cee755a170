//! A server's policy, end to end over loopback: the real fs ops on a temp dir they
//! may read and write, and a rule that narrows what sessions may call. Refused calls
//! are JSON-RPC errors with the class and the op's name, never run, and the session
//! goes on.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Running, ws_call};
use opkit::{OpError, TableEntry};
use opkit_fs::{FsContext, FsPermissions};
use opkit_server::{Server, ServerBuilder, Transport};
use serde_json::{Value, json};

/// The fs ops on a fresh temp dir holding `kept.txt`, with read and write roots on
/// it: whatever is refused below is refused by the policy.
fn fs_server(dir: &Path) -> ServerBuilder {
    std::fs::write(dir.join("kept.txt"), "kept").unwrap();
    let perms = FsPermissions::deny_all().allow_read(dir).allow_write(dir);
    let ctx = FsContext::new(perms).with_cwd(dir);
    Server::builder().extension(opkit_fs::extension_with(ctx))
}

/// Ops that declare `fs.read` or nothing; any other is refused, naming it.
fn reads_only(entry: &TableEntry) -> Result<(), OpError> {
    match entry.decl.meta.permission {
        None | Some("fs.read") => Ok(()),
        Some(other) => Err(OpError::permission_denied(format!(
            "this session may not use {other} ops"
        ))),
    }
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// Asserts that `reply` is the policy's refusal of `op`.
fn assert_refused(reply: &Value, op: &str) {
    assert_eq!(reply["error"]["code"], json!(-32000), "{reply}");
    assert_eq!(
        reply["error"]["data"]["class"],
        json!("PermissionDenied"),
        "{reply}"
    );
    assert_eq!(reply["error"]["data"]["op"], json!(op), "{reply}");
    assert_eq!(
        reply["error"]["message"],
        json!(format!(
            "PermissionDenied: {op}: this session may not use fs.write ops"
        )),
        "{reply}"
    );
    assert!(reply.get("result").is_none(), "{reply}");
}

fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().canonicalize().unwrap();
    (tmp, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_server_answers_reads_and_refuses_writes() {
    let (_tmp, dir) = temp_dir();
    let server = fs_server(&dir).policy(|_| reads_only).build().unwrap();
    let running = Running::start(server).await;

    // HTTP: a read is answered; a write, through either entry, is refused.
    let read = running
        .post(request(1, "op_read_text_file_sync", json!(["kept.txt"])))
        .await;
    assert_eq!(read["result"], json!("kept"), "{read}");
    for entry in ["op_write_text_file_sync", "op_write_text_file_async"] {
        let refused = running
            .post(request(2, entry, json!(["new.txt", "written"])))
            .await;
        assert_refused(&refused, "op_write_text_file");
    }

    // A batch: each member is checked on its own.
    let replies = running
        .post(json!([
            request(3, "op_stat_sync", json!(["kept.txt"])),
            request(4, "op_remove_sync", json!(["kept.txt"])),
        ]))
        .await;
    let replies = replies.as_array().unwrap();
    let by_id = |id: u64| replies.iter().find(|r| r["id"] == json!(id)).unwrap();
    assert_eq!(by_id(3)["result"]["size"], json!(4), "{}", by_id(3));
    assert_refused(by_id(4), "op_remove");

    // WebSocket: refused calls leave the session open for the next.
    let mut ws = running.ws().await;
    let refused = ws_call(&mut ws, 5, "op_mkdir_async", json!(["made"])).await;
    assert_refused(&refused, "op_mkdir");
    let listed = ws_call(&mut ws, 6, "op_read_dir_async", json!(["."])).await;
    assert_eq!(listed["result"][0]["name"], json!("kept.txt"), "{listed}");
    assert_eq!(
        listed["result"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
    drop(ws);
    running.stop().await;

    assert_eq!(
        std::fs::read_to_string(dir.join("kept.txt")).unwrap(),
        "kept"
    );
    assert!(!dir.join("new.txt").exists(), "a refused write never ran");
    assert!(!dir.join("made").exists(), "a refused mkdir never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rule_is_made_per_session_from_its_connection() {
    let (_tmp, dir) = temp_dir();
    let sessions = Arc::new(AtomicUsize::new(0));
    let made = Arc::clone(&sessions);
    let server = fs_server(&dir)
        .policy(move |info| {
            made.fetch_add(1, Ordering::SeqCst);
            // WebSocket clients that showed the token may write; HTTP ones may not.
            let may_write = info.transport == Transport::WebSocket && info.authenticated;
            move |entry: &TableEntry| match may_write {
                true => Ok(()),
                false => reads_only(entry),
            }
        })
        .build()
        .unwrap();
    let running = Running::start(server).await;

    let refused = running
        .post(request(
            1,
            "op_write_text_file_sync",
            json!(["http.txt", "x"]),
        ))
        .await;
    assert_refused(&refused, "op_write_text_file");
    let read = running
        .post(request(2, "op_read_text_file_sync", json!(["kept.txt"])))
        .await;
    assert_eq!(read["result"], json!("kept"), "{read}");

    let mut ws = running.ws().await;
    let wrote = ws_call(
        &mut ws,
        3,
        "op_write_text_file_async",
        json!(["ws.txt", "from the socket"]),
    )
    .await;
    assert_eq!(wrote["result"], Value::Null, "{wrote}");
    assert!(wrote.get("error").is_none(), "{wrote}");
    let read = ws_call(&mut ws, 4, "op_read_text_file_sync", json!(["ws.txt"])).await;
    assert_eq!(read["result"], json!("from the socket"), "{read}");
    drop(ws);
    running.stop().await;

    // Two HTTP requests and one WebSocket connection: three sessions, three rules.
    assert_eq!(sessions.load(Ordering::SeqCst), 3);
    assert!(
        !dir.join("http.txt").exists(),
        "the refused write never ran"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("ws.txt")).unwrap(),
        "from the socket"
    );
}
