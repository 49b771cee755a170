//! Open files are released: 10,000 files opened and closed through the ops leave the
//! process's fd count where it was. The only test in its binary, so that no other
//! test opens fds meanwhile.

mod common;

use common::{Entry, Fixture};
use serde_json::json;

fn open_fds() -> usize {
    // The directory handle of this listing is open in both counts alike.
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[tokio::test(flavor = "current_thread")]
async fn ten_thousand_opened_and_closed_files_leave_the_fd_count_unchanged() {
    let fx = Fixture::new(Entry::Sync);
    std::fs::create_dir(fx.path("many")).unwrap();
    // Warm up what allocates fds once (the blocking pool, lazy statics).
    let (out, _) = common::call(&fx.rt, Entry::Async, "op_stat", json!(["many"]), vec![]).await;
    out.unwrap();
    let before = open_fds();

    for i in 0..10_000 {
        let entry = if i % 2 == 0 {
            Entry::Sync
        } else {
            Entry::Async
        };
        let path = format!("many/{i}");
        let args = json!([path, {"read": true, "write": true, "create_new": true}]);
        let (rid, _) = common::call(&fx.rt, entry, "op_open", args, vec![]).await;
        let rid = rid.unwrap();
        let (written, _) =
            common::call(&fx.rt, entry, "op_write", json!([rid]), vec![b"x".to_vec()]).await;
        assert_eq!(written.unwrap(), json!(1));
        fx.sync("op_close", json!([rid])).unwrap();
    }
    assert_eq!(std::fs::read_dir(fx.path("many")).unwrap().count(), 10_000);
    let after_open_close = open_fds();

    // Ops that open a file internally close it too, on success and on error.
    for i in 0..1_000 {
        let entry = if i % 2 == 0 {
            Entry::Sync
        } else {
            Entry::Async
        };
        let (text, _) = common::call(
            &fx.rt,
            entry,
            "op_read_text_file",
            json!([format!("many/{i}")]),
            vec![],
        )
        .await;
        assert_eq!(text.unwrap(), json!("x"));
        let (err, _) = common::call(
            &fx.rt,
            entry,
            "op_write_text_file",
            json!(["many", "x"]),
            vec![],
        )
        .await;
        assert!(err.is_err());
    }
    let after_whole_files = open_fds();

    // Rids left open are closed with the runtime.
    for i in 0..100 {
        fx.ok("op_open", json!([format!("many/{i}")])).await;
    }
    assert_eq!(open_fds(), before + 100);
    let Fixture { rt, root, .. } = fx;
    drop(rt);
    let after_drop = open_fds();

    println!(
        "open fds: before {before}, after 10,000 open/close {after_open_close}, \
         after 2,000 whole-file ops {after_whole_files}, after dropping a runtime with 100 open rids {after_drop}"
    );
    assert_eq!(after_open_close, before);
    assert_eq!(after_whole_files, before);
    // The runtime held the only copy of its permissions, whose root handle went too.
    assert_eq!(after_drop, before - 1);
    assert!(root.join("many/9999").is_file());
}
