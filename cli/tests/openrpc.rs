//! The OpenRPC document: `docs/openrpc.json` is what `opkit docs --format openrpc`
//! prints (`OPKIT_BLESS=1` rewrites it), a live server's `rpc.discover` answers the
//! same, and both pass the official OpenRPC meta-schema under ajv
//! (`clients/validate-openrpc.mjs`), each example call against its params' schemas.
//! The validator needs `npm ci --prefix clients` first, as CI runs it.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, repo};
use serde_json::Value;

fn openrpc_text() -> String {
    let out = Command::new(BIN)
        .args(["docs", "--format", "openrpc"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Fails, saying what to run, when the validator's packages are not installed.
fn require_node_modules() {
    let clients = repo().join("clients");
    assert!(
        clients.join("node_modules/ajv").is_dir()
            && clients.join("node_modules/@open-rpc/meta-schema").is_dir(),
        "clients/node_modules is missing: run `npm ci --prefix clients` (Node 20) before the tests"
    );
}

/// Runs the validator on `document`; its success and what it printed.
fn validate(document: &Path) -> (bool, String) {
    require_node_modules();
    let clients = repo().join("clients");
    let out = Command::new("node")
        .arg(clients.join("validate-openrpc.mjs"))
        .arg(document)
        .output()
        .expect("node runs (Node 20 is needed for this test)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn committed_openrpc_document_is_fresh() {
    common::assert_committed_is_fresh("docs/openrpc.json", &openrpc_text(), "openrpc");
}

#[test]
fn the_document_passes_the_openrpc_meta_schema_and_a_broken_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("openrpc.json");
    std::fs::write(&good, openrpc_text()).unwrap();
    let (ok, text) = validate(&good);
    assert!(ok, "{text}");
    assert!(text.contains("valid OpenRPC 1.3.2"), "{text}");

    // The validator is no rubber stamp: a param's `required` that is no boolean, an
    // unknown member of a method, and an example that its schema refuses.
    let mut document: Value = serde_json::from_str(&openrpc_text()).unwrap();
    let stat = document["methods"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|m| m["name"] == "op_stat_sync")
        .unwrap();
    stat["params"][0]["required"] = "yes".into();
    stat["returns"] = "FsStat".into();
    stat["examples"][0]["params"][0]["value"] = 7.into();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, document.to_string()).unwrap();
    let (ok, text) = validate(&bad);
    assert!(!ok, "a broken document passed: {text}");
    assert!(text.contains("required must be boolean"), "{text}");
    assert!(text.contains(r#""additionalProperty":"returns""#), "{text}");
    assert!(text.contains("op_stat_sync: example"), "{text}");
}

/// What a live `opkit serve` answers to `rpc.discover` is the committed document, and
/// it validates too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_server_discovers_the_same_document() {
    let dir = tempfile::tempdir().unwrap();
    let server = common::Server::start(dir.path(), &[]);
    let (status, text) = common::post(
        &server.url,
        r#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    let document = &reply["result"];
    let expected: Value = serde_json::from_str(&openrpc_text()).unwrap();
    assert_eq!(document, &expected);
    let path = dir.path().join("discovered.json");
    std::fs::write(&path, document.to_string()).unwrap();
    let (ok, text) = validate(&path);
    assert!(ok, "{text}");
    // Without the token there is no document.
    let (status, _) = common::post(
        &server.base,
        r#"{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}"#,
    )
    .await;
    assert_eq!(status, 401);
    server.stop();
}

/// The README's commands, as written: `opkit` on the PATH, run from a folder that
/// has the repository's `clients/` (its `npm ci` line is what CI runs before the
/// tests, so it is not run again here).
#[test]
fn the_readme_openrpc_commands_work() {
    let readme = include_str!("../../README.md");
    let start = readme
        .find("```sh\nopkit docs --format openrpc")
        .expect("the README shows the OpenRPC commands");
    let block = &readme[start + "```sh\n".len()..];
    let block = &block[..block.find("```").unwrap()];
    require_node_modules();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(repo().join("clients"), dir.path().join("clients")).unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for line in block.lines() {
        let command = line.split(" #").next().unwrap_or_default().trim();
        if command.is_empty() || command.starts_with("npm ci") {
            continue;
        }
        let out = Command::new("sh")
            .args(["-c", command])
            .current_dir(dir.path())
            .env("PATH", &path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{command}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    assert_eq!(ran, 2, "the README's block changed: {block}");
    let written = std::fs::read_to_string(dir.path().join("openrpc.json")).unwrap();
    assert_eq!(written, openrpc_text());
}
