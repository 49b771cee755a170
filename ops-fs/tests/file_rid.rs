//! A file rid used from both entries at once: the async read runs on the blocking
//! pool without a borrow of `OpState`, and a second op on the same rid meanwhile is
//! refused with `Busy` (never a panic or a deadlock).

mod common;

use std::io::Write;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use common::{Entry, Fixture};
use opkit::ErrorClass;
use serde_json::json;

/// Fails the test instead of hanging it if a deadlock slipped in.
async fn deadline<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(out) => out,
        Err(_) => panic!("{what} did not finish: deadlock"),
    }
}

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut *future).poll(cx))).await
}

/// A FIFO makes the first read block until the test writes, so the second read is
/// certain to arrive while the first holds the file.
#[tokio::test(flavor = "current_thread")]
async fn a_second_op_on_a_busy_rid_is_refused_and_the_host_stays_free() {
    let fx = Fixture::new(Entry::Async);
    let fifo = fx.path("pipe");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    // Holding both ends here lets the op's open return at once and the test feed it.
    let mut writer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let rid = fx.ok("op_open", json!(["pipe"])).await;
    let args = json!([rid]).to_string();

    // Start the first read and wait until it holds the file: then every op on the rid
    // is `Busy`. The probe takes the file for an instant too, so the read may find it
    // taken and end at once with `Busy` (nothing was written yet): then it starts anew.
    let start = || {
        fx.rt
            .call_async("op_read_async", args.as_bytes(), vec![vec![0; 16]])
    };
    let (first, busy) = deadline("the first read to start", async {
        let mut first = start();
        loop {
            if let Poll::Ready(out) = poll_once(&mut first).await {
                assert_eq!(out.result.unwrap_err().class(), ErrorClass::Busy);
                first = start();
                continue;
            }
            match fx.rt.call_sync("op_fstat_sync", args.as_bytes(), &mut []) {
                Err(err) if err.class() == ErrorClass::Busy => break (first, err),
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
    })
    .await;
    assert_eq!(
        busy.to_string(),
        "Busy: op_fstat: 'pipe': another op is using this file; wait for it to finish"
    );

    // The first read is blocked in `read(2)` on another thread and holds no borrow
    // of `OpState`: the host can borrow it mutably and run other ops.
    assert!(fx.rt.state().try_borrow_mut().is_ok());
    fx.ok("op_write_text_file", json!(["other.txt", "meanwhile"]))
        .await;
    let other = fx.ok("op_open", json!(["other.txt"])).await;
    fx.sync("op_close", json!([other])).unwrap();

    let second = fx
        .rt
        .call_async("op_read_async", args.as_bytes(), vec![vec![0; 16]])
        .await;
    assert_eq!(second.result.unwrap_err().class(), ErrorClass::Busy);
    assert_eq!(second.bufs, [vec![0; 16]], "the refused buffer comes back");
    let mut sync_bufs = vec![vec![0; 16]];
    let err = fx
        .rt
        .call_sync("op_read_sync", args.as_bytes(), &mut sync_bufs)
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Busy);

    writer.write_all(b"hello").unwrap();
    let first = deadline("the first read", first).await;
    assert_eq!(first.result.unwrap(), b"5");
    assert_eq!(&first.bufs[0][..5], b"hello");

    // Free again: both entries read.
    writer.write_all(b"again!").unwrap();
    let out = fx
        .rt
        .call_async("op_read_async", args.as_bytes(), vec![vec![0; 3]])
        .await;
    assert_eq!(
        (out.result.unwrap(), &out.bufs[0][..]),
        (b"3".to_vec(), &b"aga"[..])
    );
    let mut bufs = vec![vec![0; 8]];
    let n = fx
        .rt
        .call_sync("op_read_sync", args.as_bytes(), &mut bufs)
        .unwrap();
    assert_eq!((n, &bufs[0][..3]), (b"3".to_vec(), &b"in!"[..]));
}

/// Closing a rid while an async read waits on it ends the call with `Interrupted`;
/// the file itself is released when the blocked syscall returns.
#[tokio::test(flavor = "current_thread")]
async fn closing_a_rid_interrupts_a_pending_read() {
    let fx = Fixture::new(Entry::Async);
    let fifo = fx.path("pipe");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let mut writer = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .unwrap();
    let rid = fx.ok("op_open", json!(["pipe"])).await;
    let args = json!([rid]).to_string();
    let pending = fx
        .rt
        .call_async("op_read_async", args.as_bytes(), vec![vec![0; 4]]);
    let file = fx
        .rt
        .state()
        .borrow()
        .resource_table
        .get::<opkit_fs::FsFile>(rid.as_u64().unwrap() as u32)
        .unwrap();
    fx.sync("op_close", json!([rid])).unwrap();
    let out = deadline("the interrupted read", pending).await;
    assert_eq!(out.result.unwrap_err().class(), ErrorClass::Interrupted);
    let err = fx
        .rt
        .call_sync("op_read_sync", args.as_bytes(), &mut [vec![0; 4]])
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadResource);
    // Unblock the orphaned read; then only this test holds the file.
    writer.write_all(b"x").unwrap();
    deadline("the blocking thread to let go", async {
        while std::sync::Arc::strong_count(&file) > 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    assert_eq!(file.path(), "pipe");
}
