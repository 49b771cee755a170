//! Starting the real `opkit` binary and talking to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

pub const BIN: &str = env!("CARGO_BIN_EXE_opkit");

/// A generous bound for anything a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A running `opkit serve` on an ephemeral loopback port; killed on drop.
pub struct Server {
    pub child: Child,
    /// The server's URL with its token in the query (`?token=..`), which it accepts
    /// as it accepts `Authorization: Bearer ..`.
    pub url: String,
    /// The URL as printed, without a token.
    pub base: String,
    /// The token it printed; `None` with `--no-token`.
    pub token: Option<String>,
    /// The second line it printed: the example `curl` command.
    pub example: String,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    /// Starts `opkit serve --addr 127.0.0.1:0 ARGS..` in `cwd`.
    pub fn start(cwd: &Path, args: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command
            .current_dir(cwd)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(args);
        Self::spawn(command)
    }

    /// Starts a prepared `opkit serve` command (which must print as `serve` does).
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .env("RUST_LOG", "debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the opkit binary starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        let mut example = String::new();
        stdout.read_line(&mut example).unwrap();
        let mut third = String::new();
        stdout.read_line(&mut third).unwrap();
        let token = third
            .split("Bearer ")
            .nth(1)
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let base = url.clone();
        let url = match &token {
            Some(token) => format!("{base}?token={token}"),
            None => base.clone(),
        };
        let mut stderr = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
            text
        });
        Self {
            child,
            url,
            base,
            token,
            example: example.trim().to_owned(),
            stderr: Some(stderr),
        }
    }

    pub fn ws_url(&self) -> String {
        self.url.replacen("http://", "ws://", 1)
    }

    /// Stops the server with SIGTERM and returns what it logged.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = wait_timeout(&mut self.child, Duration::from_secs(20));
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// POSTs `body` and returns the status and the body.
pub async fn post(url: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

/// POSTs one JSON-RPC request and returns the parsed response.
pub async fn rpc(url: &str, id: u64, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let (status, text) = post(url, body.to_string()).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn ws_connect(server: &Server) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(server.ws_url())
        .await
        .expect("websocket");
    ws
}

pub async fn ws_send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next text message, parsed; fails the test after a generous deadline.
pub async fn ws_recv(ws: &mut Ws) -> Value {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("a reply within the deadline")
            .expect("the socket stays open")
            .expect("no websocket error");
        match next {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

/// One request over a WebSocket, answered.
pub async fn ws_call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    ws_send(
        ws,
        json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
    )
    .await;
    ws_recv(ws).await
}

/// The workspace's root folder.
pub fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Fails unless the committed file at `rel` (from the workspace root) is `fresh`;
/// with `OPKIT_BLESS` set, writes `fresh` there first. `test` names the test target
/// that rewrites it.
pub fn assert_committed_is_fresh(rel: &str, fresh: &str, test: &str) {
    let path = repo().join(rel);
    if std::env::var_os("OPKIT_BLESS").is_some() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("the folder is made");
        }
        std::fs::write(&path, fresh).expect("the file is written");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{rel} is stale; run `OPKIT_BLESS=1 cargo test -p opkit-cli --test {test}` and review the diff"
    );
}
