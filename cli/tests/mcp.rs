//! `opkit serve --mcp`: the ops as MCP tools over stdio, driven by the official MCP
//! Python SDK (`clients/mcp/smoke.py`, `mcp` pinned in `clients/mcp/requirements.txt`)
//! and by raw JSON-RPC lines, for what the SDK does not expose (cancellation, bad
//! input).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};

use common::{BIN, PATIENCE, repo};
use serde_json::{Value, json};

/// The agent configuration the README shows, its paths made this test's.
fn readme_config(root: &Path) -> (String, Vec<String>) {
    let readme = include_str!("../../README.md");
    let block = readme
        .split("```json\n")
        .map(|rest| rest.split("```").next().unwrap_or_default())
        .find(|block| block.contains("mcpServers"))
        .expect("the README shows an MCP configuration");
    let folder = root.to_str().expect("a UTF-8 temp path");
    let block = block
        .replace("/path/to/opkit", BIN)
        .replace("/path/to/folder", folder);
    let config: Value = serde_json::from_str(&block).expect("the README's JSON parses");
    let server = &config["mcpServers"]["opkit"];
    let args = server["args"].as_array().expect("args");
    let args = args.iter().filter_map(Value::as_str).map(str::to_owned);
    let command = server["command"].as_str().expect("command").to_owned();
    (command, args.collect())
}

#[test]
fn the_python_sdk_lists_tools_calls_sync_and_async_ops_and_reads_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("root");
    let (command, args) = readme_config(&root);
    assert_eq!(args[..2], ["serve", "--mcp"]);
    let out = Command::new("python3")
        .arg(repo().join("clients/mcp/smoke.py"))
        .arg(&root)
        .arg(command)
        .args(args)
        .output()
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the SDK client failed (is `pip install -r clients/mcp/requirements.txt` done?): {stderr}"
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("one JSON line");
    let expected = json!({
        "protocol": "2025-11-25",
        "server": "opkit",
        "tools": seen["tools"],
        "stat_description": "The metadata of a file, following a final symlink.",
        "stat_input_required": ["path"],
        "stat_output_has_result": true,
        "cwd": root.to_str(),
        "wrote_error": false,
        "size": 12,
        "is_file": true,
        "text": "hello, agent",
        "text_content": "hello, agent",
        "missing_error": true,
        "missing_meta": { "class": "NotFound", "code": "ENOENT", "op": "op_stat" },
        "missing_text": "NotFound (ENOENT): op_stat: 'no-such-file': No such file or directory (os error 2)",
    });
    assert_eq!(seen, expected);
    assert!(seen["tools"].as_u64().is_some_and(|n| n > 40), "{seen}");
    let written = std::fs::read_to_string(root.join("hello.txt")).expect("the file");
    assert_eq!(written, "hello, agent");
}

/// A server on pipes, and its answers line by line.
struct Mcp {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<Value>,
}

impl Mcp {
    fn start(root: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--mcp"])
            .arg(format!("--allow-read={}", root.display()))
            .arg(format!("--allow-write={}", root.display()))
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("opkit starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line).unwrap_or(Value::String(line));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            stdin,
            lines,
        }
    }

    fn send(&mut self, message: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{message}").expect("written");
        stdin.flush().expect("flushed");
    }

    fn next(&self) -> Value {
        self.lines
            .recv_timeout(PATIENCE)
            .expect("an answer within the bound")
    }

    /// Closes stdin and collects every answer until the server exits.
    fn finish(mut self) -> Vec<Value> {
        drop(self.stdin.take());
        let rest: Vec<Value> = self.lines.iter().collect();
        let status = self.child.wait().expect("exits");
        assert!(status.success(), "{status}");
        rest
    }
}

#[test]
fn raw_lines_initialize_ping_list_call_and_refuse_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("root");
    std::fs::write(root.join("a.txt"), "abc").expect("file");
    let mut mcp = Mcp::start(&root);

    mcp.send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"1999-01-01","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}"#);
    let init = mcp.next();
    assert_eq!(init["id"], 1);
    // An unknown revision is answered with the newest.
    assert_eq!(init["result"]["protocolVersion"], "2025-11-25");
    assert_eq!(
        init["result"]["capabilities"]["tools"]["listChanged"],
        false
    );
    mcp.send(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    mcp.send(r#"{"jsonrpc":"2.0","id":"p","method":"ping"}"#);
    assert_eq!(
        mcp.next(),
        json!({ "jsonrpc": "2.0", "id": "p", "result": {} })
    );

    mcp.send(r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#);
    let list = mcp.next();
    let tools = list["result"]["tools"].as_array().expect("tools");
    let write = tools
        .iter()
        .find(|t| t["name"] == "op_write")
        .expect("op_write");
    assert_eq!(
        write["inputSchema"]["properties"]["data"]["contentEncoding"],
        "base64"
    );
    assert!(write["outputSchema"]["properties"]["buffers"].is_object());
    for tool in tools {
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
        assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
        assert!(tool["description"].as_str().is_some_and(|d| !d.is_empty()));
    }

    // A buffer argument, in and back out: open, read into a 4-byte buffer, close.
    mcp.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"op_open","arguments":{"path":"a.txt"}}}"#);
    let opened = mcp.next();
    let rid = opened["result"]["structuredContent"]["result"].clone();
    assert!(rid.is_u64(), "{opened}");
    mcp.send(&format!(
        r#"{{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{{"name":"op_read","arguments":{{"rid":{rid},"buf":"AAAAAA=="}}}}}}"#
    ));
    let read = mcp.next();
    assert_eq!(read["result"]["structuredContent"]["result"], 3, "{read}");
    // "abc" and the fourth byte left zero.
    assert_eq!(
        read["result"]["structuredContent"]["buffers"][0],
        "YWJjAA=="
    );

    for (message, code) in [
        ("not json", -32700),
        ("[1, 2]", -32600),
        (r#"{"jsonrpc":"2.0","id":5,"method":"no/such"}"#, -32601),
        (
            r#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"op_nope"}}"#,
            -32602,
        ),
        (
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"op_stat","arguments":[1]}}"#,
            -32602,
        ),
    ] {
        mcp.send(message);
        let answer = mcp.next();
        assert_eq!(answer["error"]["code"], code, "{message}: {answer}");
    }
    // A wrong argument is the op's own error, as a tool result.
    mcp.send(r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"op_stat","arguments":{"path":7}}}"#);
    let bad = mcp.next();
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    assert_eq!(bad["result"]["_meta"]["opkit/error"]["class"], "TypeError");
    assert_eq!(mcp.finish(), Vec::<Value>::new());
}

/// A call blocked on a FIFO is cancelled: it is never answered, even once the FIFO
/// opens and the body finishes, and the server goes on answering others.
#[test]
fn a_cancelled_call_is_never_answered_and_the_server_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("root");
    let fifo = root.join("fifo");
    rustix::fs::mkfifoat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
    )
    .expect("mkfifo");
    // Held read-write by the test, so that opening the FIFO never blocks, and its
    // reader sees the end only when the test lets go.
    let pipe = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .expect("the FIFO opens");
    (&pipe).write_all(b"late").expect("written");
    std::fs::write(root.join("b.txt"), "bee").expect("file");
    let mut mcp = Mcp::start(&root);
    mcp.send(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    assert_eq!(mcp.next()["id"], 1);

    // Its body reads "late", then waits for the end of the FIFO.
    mcp.send(r#"{"jsonrpc":"2.0","id":"slow","method":"tools/call","params":{"name":"op_read_text_file","arguments":{"path":"fifo"}}}"#);
    // Until the body has taken the bytes: then it runs, blocked in read(2).
    let start = std::time::Instant::now();
    while rustix::io::ioctl_fionread(&pipe).expect("FIONREAD") > 0 {
        assert!(start.elapsed() < PATIENCE, "the call never read the FIFO");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    mcp.send(r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"slow","reason":"test"}}"#);
    mcp.send(r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#);
    assert_eq!(mcp.next()["id"], 2);
    mcp.send(r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"op_read_text_file","arguments":{"path":"b.txt"}}}"#);
    let after = mcp.next();
    assert_eq!(after["id"], 3);
    assert_eq!(after["result"]["structuredContent"]["result"], "bee");
    // The body now finishes. Its answer, were it sent, would come before the server
    // exits: it waits for every call still wanted.
    drop(pipe);
    let rest = mcp.finish();
    assert!(
        rest.iter().all(|answer| answer["id"] != "slow"),
        "the cancelled call was answered: {rest:?}"
    );
}
