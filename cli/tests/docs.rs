//! `docs/ops.md` is what `opkit docs --format md` prints; `OPKIT_BLESS=1` rewrites it.

mod common;

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_opkit");

fn docs(format: &str) -> String {
    let out = Command::new(BIN)
        .args(["docs", "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn committed_op_reference_is_fresh() {
    common::assert_committed_is_fresh("docs/ops.md", &docs("md"), "docs");
}

#[test]
fn json_reference_lists_every_op_with_its_entries() {
    let ops: Vec<serde_json::Value> = serde_json::from_str(&docs("json")).unwrap();
    let stat = ops
        .iter()
        .find(|op| op["name"] == "op_stat")
        .expect("op_stat is documented");
    assert_eq!(stat["extension"], "fs");
    assert_eq!(stat["permission"], "fs.read");
    assert_eq!(
        stat["entries"],
        serde_json::json!([{"name": "op_stat_sync", "mode": "sync"}, {"name": "op_stat_async", "mode": "blocking"}])
    );
    assert_eq!(
        stat["params"],
        serde_json::json!([{
            "name": "path",
            "type": "&str",
            "kind": "argument",
            "optional": false,
            "schema": {"type": "string"},
        }])
    );
    // The result's schema is `FsStat`'s, with the fields' doc comments.
    let returns = &stat["returns_schema"];
    assert_eq!(returns["title"], "FsStat");
    assert_eq!(returns["properties"]["size"]["format"], "uint64");
    assert!(
        returns["properties"]["size"]["description"]
            .as_str()
            .is_some_and(|d| d.starts_with("The size in bytes."))
    );
    assert!(stat["doc"].as_str().is_some_and(|d| !d.is_empty()));
    let close = ops.iter().find(|op| op["name"] == "op_close").unwrap();
    assert_eq!(close["params"][0]["type"], "ResourceId");
    assert_eq!(close["returns_schema"], serde_json::json!({"type": "null"}));
    // A buffer is described as the base64 string it travels as.
    let read = ops.iter().find(|op| op["name"] == "op_read").unwrap();
    assert_eq!(read["params"][1]["kind"], "buffer");
    assert_eq!(read["params"][1]["schema"]["contentEncoding"], "base64");
    // Every op has a doc comment.
    for op in &ops {
        assert!(
            op["doc"].as_str().is_some_and(|d| !d.is_empty()),
            "{} has no doc comment",
            op["name"]
        );
    }
}
