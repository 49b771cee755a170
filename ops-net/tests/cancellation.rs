//! Closing a rid wakes every op pending on it with `Interrupted` and drops its future;
//! a cancel handle aborts one call; a second accept or read is `Busy`.

mod common;

use std::rc::Rc;
use std::sync::Weak;
use std::time::Duration;

use common::*;
use opkit::{ErrorClass, Runtime};
use opkit_net::TcpListenerResource;
use serde_json::{Value, json};

/// A connected pair through the ops: `(server rid, client rid)`.
async fn pair(rt: &Runtime) -> (u64, u64) {
    let listener = call(rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
    let port = port(&listener);
    let (server, client) = deadline("pair", async {
        tokio::join!(
            ok_async(rt, "op_net_accept_tcp", json!([rid(&listener)])),
            ok_async(rt, "op_net_connect_tcp", json!(["127.0.0.1", port])),
        )
    })
    .await;
    call(rt, "op_close", json!([rid(&listener)])).unwrap();
    (rid(&server), rid(&client))
}

const CLOSED: &str = "the resource was closed while the op was pending";

/// A pending accept and a pending read, each in its own task, end with `Interrupted`
/// when a third task closes their rids; the listener's port binds again at once and
/// the stream's peer sees end of stream, so neither socket outlived its rid.
#[tokio::test(flavor = "current_thread")]
async fn closing_rids_from_another_task_interrupts_accept_and_read() {
    let rt = Rc::new(runtime(loopback()));
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async {
            let listener = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
            let (l, port) = (rid(&listener), port(&listener));
            let weak: Weak<TcpListenerResource> = {
                let state = rt.state().borrow();
                let strong = state.resource_table.get(l as u32).unwrap();
                std::sync::Arc::downgrade(&strong)
            };
            let (s, c) = pair(&rt).await;

            let accept = tokio::task::spawn_local({
                let rt = rt.clone();
                async move { call_async(&rt, "op_net_accept_tcp", json!([l]), Vec::new()).await }
            });
            let read = tokio::task::spawn_local({
                let rt = rt.clone();
                async move { call_async(&rt, "op_net_read", json!([s]), vec![vec![0; 16]]).await }
            });
            let closer = tokio::task::spawn_local({
                let rt = rt.clone();
                async move {
                    // Both ops are pending by now: nothing connects or writes.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    call(&rt, "op_close", json!([l])).unwrap();
                    call(&rt, "op_close", json!([s])).unwrap();
                }
            });
            let (accepted, read, closed) =
                deadline("interrupt", async { tokio::join!(accept, read, closer) }).await;
            closed.unwrap();
            let (accepted, _) = accepted.unwrap();
            let (read, _) = read.unwrap();
            for (op, result) in [("op_net_accept_tcp", accepted), ("op_net_read", read)] {
                let err = result.unwrap_err();
                assert_eq!(err.class(), ErrorClass::Interrupted);
                assert_eq!(err.to_string(), format!("Interrupted: {op}: {CLOSED}"));
            }

            assert!(weak.upgrade().is_none(), "the listener was dropped");
            let again = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", port])).unwrap();
            assert_eq!(again["local_addr"]["port"], port);
            let (eof, _) = deadline(
                "eof",
                call_async(&rt, "op_net_read", json!([c]), vec![vec![0; 4]]),
            )
            .await;
            assert_eq!(eof.unwrap(), 0, "the closed stream's socket is gone");
            // The closed rids are gone for good.
            let err = call_async(&rt, "op_net_accept_tcp", json!([l]), Vec::new())
                .await
                .0
                .unwrap_err();
            assert_eq!(err.class(), ErrorClass::BadResource);
        })
        .await;
}

/// A read and a write pending on one stream both end when it is closed, driven by
/// the event loop (`submit` + `completions`).
#[tokio::test(flavor = "current_thread")]
async fn closing_a_stream_wakes_every_op_pending_on_it() {
    let mut rt = runtime(loopback());
    let (s, _c) = pair(&rt).await;
    rt.submit(
        1,
        "op_net_read_async",
        format!("[{s}]").as_bytes(),
        vec![vec![0; 8]],
    );
    // Far more than the socket buffers hold while the peer does not read.
    rt.submit(
        2,
        "op_net_write_async",
        format!("[{s}]").as_bytes(),
        vec![vec![7; 64 << 20]],
    );
    let early = tokio::time::timeout(Duration::from_millis(100), rt.completions()).await;
    assert!(early.is_err(), "both ops are pending: {early:?}");
    call(&rt, "op_close", json!([s])).unwrap();
    let mut done = deadline("close", rt.run_until_idle()).await;
    done.sort_by_key(|c| c.promise_id);
    assert_eq!(done.len(), 2);
    for (completion, op) in done.iter().zip(["op_net_read", "op_net_write"]) {
        let err = completion.result.as_ref().unwrap_err();
        assert_eq!(err.to_string(), format!("Interrupted: {op}: {CLOSED}"));
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_second_accept_or_read_is_busy_and_the_first_carries_on() {
    let rt = runtime(loopback());
    let listener = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
    let (l, port) = (rid(&listener), port(&listener));
    let first = rt.call_async(
        "op_net_accept_tcp_async",
        format!("[{l}]").as_bytes(),
        Vec::new(),
    );
    let mut first = Box::pin(first);
    assert!(
        tokio::time::timeout(Duration::from_millis(20), &mut first)
            .await
            .is_err()
    );
    let second = call_async(&rt, "op_net_accept_tcp", json!([l]), Vec::new())
        .await
        .0;
    let err = second.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Busy);
    assert_eq!(
        err.to_string(),
        format!(
            "Busy: op_net_accept_tcp: 127.0.0.1:{port}: another accept is already pending on this resource"
        )
    );
    let (accepted, client) = deadline("accept", async {
        tokio::join!(
            first,
            ok_async(&rt, "op_net_connect_tcp", json!(["127.0.0.1", port]))
        )
    })
    .await;
    let server: Value = serde_json::from_slice(&accepted.result.unwrap()).unwrap();
    assert_eq!(server["remote_addr"], client["local_addr"]);

    let s = rid(&server);
    let mut read = Box::pin(rt.call_async(
        "op_net_read_async",
        format!("[{s}]").as_bytes(),
        vec![vec![0; 4]],
    ));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), &mut read)
            .await
            .is_err()
    );
    let busy = call_async(&rt, "op_net_read", json!([s]), vec![vec![0; 4]]).await;
    assert_eq!(busy.0.unwrap_err().class(), ErrorClass::Busy);
    assert_eq!(busy.1, vec![vec![0; 4]], "the refused buffer comes back");
    write(&rt, rid(&client), b"ping").await;
    let out = deadline("read", read).await;
    assert_eq!(out.result.unwrap(), b"4");
    assert_eq!(out.bufs, vec![b"ping".to_vec()]);
}

/// A cancel handle aborts the one accept it was given; the listener stays open and
/// accepts the next connection.
#[tokio::test(flavor = "current_thread")]
async fn a_cancel_handle_aborts_one_pending_op() {
    let mut rt = runtime(loopback());
    let listener = call(&rt, "op_net_listen_tcp", json!(["127.0.0.1", 0])).unwrap();
    let (l, port) = (rid(&listener), port(&listener));
    let handle = call(&rt, "op_net_cancel_handle", json!([])).unwrap();
    let h = handle.as_u64().unwrap();
    assert_eq!(resources(&rt), ["tcpListener", "cancelHandle"]);
    rt.submit(
        1,
        "op_net_accept_tcp_async",
        format!(r#"{{"listener": {l}, "cancel": {h}}}"#).as_bytes(),
        Vec::new(),
    );
    let (s, _c) = pair(&rt).await;
    rt.submit(
        2,
        "op_net_read_async",
        format!("[{s}, {h}]").as_bytes(),
        vec![vec![0; 4]],
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(50), rt.completions())
            .await
            .is_err()
    );
    call(&rt, "op_close", json!([h])).unwrap();
    let mut done = deadline("cancel", rt.run_until_idle()).await;
    done.sort_by_key(|c| c.promise_id);
    for (completion, op) in done.iter().zip(["op_net_accept_tcp", "op_net_read"]) {
        assert_eq!(
            completion.result.as_ref().unwrap_err().to_string(),
            format!("Interrupted: {op}: the resource was closed while the op was pending")
        );
    }
    assert_eq!(done.len(), 2);

    // The listener is still open and no longer busy.
    let (server, client) = deadline("accept again", async {
        tokio::join!(
            ok_async(&rt, "op_net_accept_tcp", json!([l])),
            ok_async(
                &rt,
                "op_net_connect_tcp",
                json!(["127.0.0.1", port, null, null])
            ),
        )
    })
    .await;
    assert_eq!(server["remote_addr"], client["local_addr"]);

    // A closed handle, or a rid that is not one, is `BadResource`.
    let err = call_async(&rt, "op_net_accept_tcp", json!([l, h]), Vec::new())
        .await
        .0
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("BadResource: op_net_accept_tcp: argument 'cancel': rid {h} is not open")
    );
    let err = call_async(&rt, "op_net_accept_tcp", json!([l, l]), Vec::new())
        .await
        .0
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "BadResource: op_net_accept_tcp: argument 'cancel': rid {l} is a tcpListener, not a CancelHandle"
        )
    );
}
