//! Running out of file descriptors is `ResourceExhausted` with the errno name, the
//! runtime serves again once rids are closed, and no walk needs many descriptors. The only test in its binary, since it
//! lowers the process's own fd limit.

mod common;

use common::{Entry, Fixture};
use opkit::ErrorClass;
use rustix::process::{Resource, getrlimit, setrlimit};
use serde_json::json;

#[tokio::test(flavor = "current_thread")]
async fn emfile_is_resource_exhausted_and_passes() {
    let fx = Fixture::new(Entry::Sync);
    std::fs::write(fx.path("f"), "x").unwrap();
    let open_now = std::fs::read_dir("/proc/self/fd").unwrap().count() as u64;
    let limit = getrlimit(Resource::Nofile);
    let mut lowered = limit;
    lowered.current = Some(open_now + 16);
    setrlimit(Resource::Nofile, lowered).unwrap();

    let mut rids = Vec::new();
    let err = loop {
        match fx.call("op_open", json!(["f"])).await {
            Ok(rid) => rids.push(rid),
            Err(err) => break err,
        }
        assert!(rids.len() <= 64, "the lowered limit was not reached");
    };
    let read = fx.err("op_read_text_file", json!(["f"])).await;
    setrlimit(Resource::Nofile, limit).unwrap();

    for err in [&err, &read] {
        assert_eq!(err.class(), ErrorClass::ResourceExhausted, "{err}");
        assert_eq!(err.code(), Some("EMFILE"), "{err}");
        assert!(err.message().starts_with("'f': "), "names the path: {err}");
    }
    for rid in rids {
        fx.sync("op_close", json!([rid])).unwrap();
    }
    assert_eq!(fx.ok("op_read_text_file", json!(["f"])).await, json!("x"));

    // A walk by hand holds a handle or two, however deep the path: 300 levels go
    // through with 8 descriptors to spare.
    let deep = vec!["d"; 300].join("/");
    std::fs::create_dir_all(fx.path(&deep)).unwrap();
    let mut lowered = limit;
    lowered.current = Some(open_now + 8);
    setrlimit(Resource::Nofile, lowered).unwrap();
    let real = fx
        .call("op_realpath", json!([format!("{deep}/../d")]))
        .await;
    let made = fx
        .call("op_mkdir", json!([format!("{deep}/e/f"), true]))
        .await;
    setrlimit(Resource::Nofile, limit).unwrap();
    let real = real.unwrap();
    assert_eq!(real, json!(fx.path(&deep).to_str().unwrap()));
    made.unwrap();
    assert!(fx.path(&format!("{deep}/e/f")).is_dir());
}
