//! `opkit serve` against a guest that opens all it may, and its token flags.

mod common;

use std::process::Command;

use common::{BIN, Server, post, ws_call, ws_connect};
use serde_json::{Value, json};

fn folder() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Under a descriptor limit of 200, one session opens files until it is refused
/// with `ResourceExhausted` (its own cap is far higher); the rest of the limit is
/// left for connections, so others still connect and are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guest_that_opens_all_it_may_leaves_room_for_others() {
    let dir = folder();
    std::fs::write(dir.path().join("f.txt"), "x").unwrap();
    let data = dir.path().display().to_string();
    let mut command = Command::new("sh");
    command.current_dir(dir.path()).args([
        "-c",
        r#"ulimit -n 200 && exec "$0" "$@""#,
        BIN,
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--allow-read",
        &data,
        "--max-rids",
        "100000",
        "--max-connections",
        "16",
    ]);
    let server = Server::spawn(command);
    let mut hog = ws_connect(&server).await;
    let mut opened = 0u64;
    let refusal = loop {
        let reply = ws_call(&mut hog, opened, "op_open_sync", json!(["f.txt"])).await;
        if reply.get("error").is_some() {
            break reply;
        }
        opened += 1;
        assert!(opened < 200, "the opens stop below the descriptor limit");
    };
    assert_eq!(
        refusal["error"]["data"]["class"],
        json!("ResourceExhausted"),
        "{refusal}"
    );
    let message = refusal["error"]["message"].as_str().unwrap();
    assert!(message.contains("across the host"), "{message}");
    assert!(opened > 0);

    // While the hog holds them: a new HTTP request and a new WebSocket are served.
    let (status, text) = post(
        &server.url,
        json!({"jsonrpc": "2.0", "id": 1, "method": "op_stat_sync", "params": ["f.txt"]})
            .to_string(),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let stat: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(stat["result"]["size"], json!(1), "{stat}");
    let mut other = ws_connect(&server).await;
    let reply = ws_call(&mut other, 2, "op_read_text_file_sync", json!(["f.txt"])).await;
    assert_eq!(reply["result"], json!("x"), "{reply}");

    // Closing the hog gives the descriptors back.
    drop(hog);
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        let reply = ws_call(&mut other, 3, "op_open_sync", json!(["f.txt"])).await;
        if reply["result"].is_u64() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{reply}");
        tokio::task::yield_now().await;
    }
    server.stop();
}

async fn status_of(url: &str, auth: Option<&str>) -> u16 {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"op_resources_sync"}"#);
    if let Some(token) = auth {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

/// The token comes from `OPKIT_TOKEN` or `--token`, is printed, and is required;
/// `--no-token` serves anyone.
#[tokio::test]
async fn the_token_comes_from_the_environment_or_a_flag_or_is_turned_off() {
    let dir = folder();
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("OPKIT_TOKEN", "from-the-environment-0123");
    let server = Server::spawn(command);
    assert_eq!(server.token.as_deref(), Some("from-the-environment-0123"));
    assert!(server.example.contains("Bearer from-the-environment-0123"));
    assert_eq!(status_of(&server.base, None).await, 401);
    assert_eq!(
        status_of(&server.base, Some("from-the-environment-0123")).await,
        200
    );
    server.stop();

    let server = Server::start(dir.path(), &["--token", "from-a-flag-of-mine-0123"]);
    assert_eq!(server.token.as_deref(), Some("from-a-flag-of-mine-0123"));
    assert_eq!(
        status_of(&server.base, Some("from-a-flag-of-mine-0123")).await,
        200
    );
    assert_eq!(
        status_of(&server.base, Some("from-the-environment-0123")).await,
        401
    );
    server.stop();

    // `--no-token` wins over a token in the environment.
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--no-token"])
        .env("OPKIT_TOKEN", "from-the-environment-0123");
    let server = Server::spawn(command);
    assert_eq!(server.token, None);
    assert!(!server.example.contains("Bearer"), "{}", server.example);
    assert_eq!(status_of(&server.base, None).await, 200);
    server.stop();

    // A token the server cannot check is refused at start.
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--token", "short"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("16 to 256"), "{stderr}");
}

/// A file larger than a reply may hold is refused before it is read.
#[tokio::test]
async fn a_file_too_large_for_a_reply_is_not_read() {
    let dir = folder();
    let file = std::fs::File::create(dir.path().join("big.bin")).unwrap();
    file.set_len(8 << 20).unwrap();
    let data = dir.path().display().to_string();
    let server = Server::start(
        dir.path(),
        &["--allow-read", &data, "--max-reply-bytes", "4194304"],
    );
    let reply = common::rpc(&server.url, 1, "op_read_file_sync", json!(["big.bin"])).await;
    let message = reply["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("3145728"), "{reply}");
    server.stop();
}

/// The config file shown in the README is one `opkit serve` takes as it is.
#[test]
fn the_readme_config_file_is_accepted() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```toml\naddr = ")
        .expect("the README shows a config file");
    let block = &readme[start + "```toml\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    let dir = folder();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("opkit.toml"), block).unwrap();
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .args(["serve", "--config", "opkit.toml", "--stdio"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
