//! What the fuzz targets (`fuzz/`, see `fuzz/README.md`) found, kept in the stable
//! suite: each test holds the input a target minimized, and fails without its fix.

use opkit_fs::{FsContext, FsPermissions};
use opkit_server::Server;
use serde_json::Value;

/// A server of the fs ops on a scratch root, as the `rpc` target runs them.
fn fs_server(root: &std::path::Path) -> Server {
    let ctx = FsContext::new(FsPermissions::default().allow_all(root)).with_cwd(root);
    Server::builder()
        .extension(opkit_fs::extension_with(ctx))
        .no_token()
        .build()
        .unwrap()
}

fn answer(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// `rpc` target: `"\n\v\v\v\v\v\v\v\v1\v\v\v\v\v\v\n\n"` was answered "invalid request:
/// expected an object": the handler trimmed Unicode whitespace off the message, so a
/// vertical tab or a no-break space (which JSON does not allow) was dropped and the
/// rest read as JSON, and a request behind one ran. Now it is a parse error, and
/// nothing runs.
#[tokio::test(flavor = "current_thread")]
async fn a_message_in_whitespace_that_json_does_not_allow_is_a_parse_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = fs_server(dir.path());
    let write = r#"{"jsonrpc":"2.0","method":"op_write_text_file_sync","params":["a","x"],"id":1}"#;
    for message in [
        "\n\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}1\u{b}\u{b}\u{b}\u{b}\u{b}\u{b}\n\n".to_owned(),
        format!("\u{a0}{write}"),
        format!("{write}\u{3000}"),
        format!("[{write}]\u{b}"),
    ] {
        let reply = server.answer_message(message.as_bytes()).await.unwrap();
        let reply = answer(&reply);
        assert_eq!(reply["error"]["code"], -32700, "{message:?}: {reply}");
        assert_eq!(reply["id"], Value::Null, "{message:?}");
    }
    assert!(
        !dir.path().join("a").exists(),
        "a message that is not JSON ran"
    );

    // JSON's own whitespace around a message is still no error.
    let message = format!(" \t\r\n{write} \n");
    let reply = answer(&server.answer_message(message.as_bytes()).await.unwrap());
    assert_eq!(reply["result"], Value::Null, "{reply}");
    assert_eq!(reply["id"], 1);
    assert_eq!(std::fs::read_to_string(dir.path().join("a")).unwrap(), "x");
}
