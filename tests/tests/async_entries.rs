//! The async entries: blocking work leaves the host thread, resources cross into it,
//! closing a rid cancels what is pending on it, and the event loop yields batches.

use std::cell::Cell;
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Duration;

use opkit::{ErrorClass, Runtime};
use opkit_tests::{Rendezvous, json, runtime};

/// Fails the test instead of hanging it if a deadlock slipped in.
async fn deadline<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(60), future).await {
        Ok(out) => out,
        Err(_) => panic!("{what} did not finish: deadlock"),
    }
}

/// Two calls meet at a `Barrier(2)`: they can only pass it if both run at the same
/// time on two blocking threads. Then they wait for a value that the host thread sends
/// from a third future, which it can only do if the op bodies left it free.
#[tokio::test(flavor = "current_thread")]
async fn blocking_entries_leave_the_host_thread() {
    let rt = runtime();
    let (release, wait) = mpsc::channel();
    rt.state().borrow_mut().put(Rendezvous {
        barrier: Arc::new(Barrier::new(2)),
        release: Arc::new(Mutex::new(wait)),
    });
    let host_ticks = Cell::new(0_u32);
    let first = rt.call_async("op_rendezvous_async", b"[]", Vec::new());
    let second = rt.call_async("op_rendezvous_async", b"[]", Vec::new());
    let host = async {
        // Progress on the host thread while both bodies are blocked.
        for _ in 0..100 {
            host_ticks.set(host_ticks.get() + 1);
            tokio::task::yield_now().await;
        }
        release.send(7).unwrap();
        release.send(8).unwrap();
    };
    let (a, b, ()) = deadline("rendezvous", async { tokio::join!(first, second, host) }).await;
    let mut got = [json(&a.result.unwrap()), json(&b.result.unwrap())];
    got.sort_by_key(|v| v.as_u64());
    assert_eq!(got, [serde_json::json!(7), serde_json::json!(8)]);
    assert_eq!(host_ticks.get(), 100);
}

#[tokio::test(flavor = "current_thread")]
async fn resources_are_created_and_used_from_both_entries() {
    let rt = runtime();
    let rid = rt
        .call_sync("op_note_new_sync", br#"["one"]"#, &mut [])
        .unwrap();
    let rid: u32 = serde_json::from_slice(&rid).unwrap();
    let out = rt
        .call_async("op_note_new_async", br#"["two"]"#, Vec::new())
        .await;
    let rid2: u32 = serde_json::from_slice(&out.result.unwrap()).unwrap();
    assert!(rid2 > rid);

    let args = format!("[{rid}, \"+sync\"]");
    assert_eq!(
        rt.call_sync("op_note_append_sync", args.as_bytes(), &mut [])
            .unwrap(),
        b"8"
    );
    let args = format!("{{\"note\": {rid}, \"more\": \"+async\"}}");
    let out = rt
        .call_async("op_note_append_async", args.as_bytes(), Vec::new())
        .await;
    assert_eq!(out.result.unwrap(), b"14");
    let args = format!("[{rid}]");
    let sync = rt
        .call_sync("op_note_read_sync", args.as_bytes(), &mut [])
        .unwrap();
    let asynchronous = rt
        .call_async("op_note_read_async", args.as_bytes(), Vec::new())
        .await;
    assert_eq!(sync, br#""one+sync+async""#);
    assert_eq!(asynchronous.result.unwrap(), sync);

    let listed = json(&rt.call_sync("op_resources_sync", b"[]", &mut []).unwrap());
    assert_eq!(
        listed,
        serde_json::json!([{"rid": rid, "name": "Note"}, {"rid": rid2, "name": "Note"}])
    );
    let err = rt
        .call_sync("op_note_try_new_sync", br#"[""]"#, &mut [])
        .unwrap_err();
    assert_eq!(err.to_string(), "TypeError: op_note_try_new: empty note");
    let out = rt
        .call_async("op_note_try_new_async", br#"["x"]"#, Vec::new())
        .await;
    let rid3: u32 = serde_json::from_slice(&out.result.unwrap()).unwrap();
    assert_eq!(rt.state().borrow().resource_table.len(), 3);

    for rid in [rid, rid2, rid3] {
        rt.call_sync("op_close_sync", format!("[{rid}]").as_bytes(), &mut [])
            .unwrap();
    }
    assert_eq!(
        rt.call_sync("op_open_count_sync", b"[]", &mut []).unwrap(),
        b"0"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn bad_rids_are_bad_resource_errors_naming_the_parameter() {
    let rt = runtime();
    let err = rt
        .call_sync("op_note_read_sync", b"[42]", &mut [])
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadResource);
    assert_eq!(
        err.to_string(),
        "BadResource: op_note_read: argument 'note': rid 42 is not open"
    );
    let out = rt
        .call_async("op_note_read_async", b"[42]", Vec::new())
        .await;
    assert_eq!(out.result.unwrap_err().to_string(), err.to_string());
    let err = rt.call_sync("op_close_sync", b"[42]", &mut []).unwrap_err();
    assert_eq!(err.to_string(), "BadResource: op_close: rid 42 is not open");
    let err = rt
        .call_sync("op_note_read_sync", b"[-1]", &mut [])
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::TypeError);
    assert!(
        err.message().starts_with("invalid argument 'note' (&Note)"),
        "{err}"
    );
}

/// A note made through the op, and the test's own handle on it.
fn new_note(rt: &Runtime) -> (u32, Arc<opkit_tests::Note>) {
    let rid = rt
        .call_sync("op_note_new_sync", br#"["x"]"#, &mut [])
        .unwrap();
    let rid: u32 = serde_json::from_slice(&rid).unwrap();
    let note = rt.state().borrow().resource_table.get(rid).unwrap();
    (rid, note)
}

/// Closing a rid wakes the op pending on it with `Interrupted`, and the future (with
/// its hold on the resource) is dropped.
#[tokio::test(flavor = "current_thread")]
async fn closing_a_rid_interrupts_its_pending_ops() {
    let mut rt = runtime();
    let (rid, note) = new_note(&rt);
    let args = format!("[{rid}]");
    rt.submit(1, "op_note_wait_async", args.as_bytes(), Vec::new());
    rt.submit(2, "op_note_wait_async", args.as_bytes(), Vec::new());
    // Let both start waiting.
    let batch = rt.completions();
    assert!(
        tokio::time::timeout(Duration::from_millis(20), batch)
            .await
            .is_err(),
        "nothing completes before the close"
    );
    assert_eq!(
        Arc::strong_count(&note),
        4,
        "the table, two pending ops and this test"
    );
    rt.call_sync("op_close_sync", args.as_bytes(), &mut [])
        .unwrap();
    let done = deadline("close", rt.run_until_idle()).await;
    assert_eq!(done.len(), 2);
    for completion in &done {
        let err = completion.result.as_ref().unwrap_err();
        assert_eq!(err.class(), ErrorClass::Interrupted);
        assert_eq!(
            err.to_string(),
            "Interrupted: op_note_wait: the resource was closed while the op was pending"
        );
    }
    assert_eq!(
        Arc::strong_count(&note),
        1,
        "nothing else holds the closed note"
    );
    // A wait on a note that changes completes normally.
    let rid = rt
        .call_sync("op_note_new_sync", br#"["y"]"#, &mut [])
        .unwrap();
    let rid: u32 = serde_json::from_slice(&rid).unwrap();
    rt.submit(
        3,
        "op_note_wait_async",
        format!("[{rid}]").as_bytes(),
        Vec::new(),
    );
    tokio::task::yield_now().await;
    let _ = tokio::time::timeout(Duration::from_millis(5), rt.completions()).await;
    rt.call_sync(
        "op_note_append_sync",
        format!("[{rid}, \"!\"]").as_bytes(),
        &mut [],
    )
    .unwrap();
    let done = deadline("wait", rt.run_until_idle()).await;
    assert_eq!(done[0].promise_id, 3);
    assert_eq!(done[0].result.as_ref().unwrap(), br#""y!""#);
}

#[tokio::test(flavor = "current_thread")]
async fn buffers_are_lent_and_handed_back() {
    let rt = runtime();
    let mut bufs = vec![vec![0_u8; 5]];
    let out = rt.call_sync("op_fill_sync", b"[7]", &mut bufs).unwrap();
    assert_eq!(out, b"5");
    assert_eq!(bufs, vec![vec![7_u8; 5]]);
    let out = rt
        .call_async("op_fill_async", b"[9]", vec![vec![0; 3]])
        .await;
    assert_eq!(out.result.unwrap(), b"3");
    assert_eq!(out.bufs, vec![vec![9_u8; 3]]);
    let out = rt
        .call_async("op_fill_later_async", b"[4]", vec![vec![0; 2]])
        .await;
    assert_eq!(
        (out.result.unwrap(), out.bufs),
        (b"2".to_vec(), vec![vec![4; 2]])
    );

    let mut bufs = vec![vec![1, 2, 3]];
    assert_eq!(
        rt.call_sync("op_checksum_sync", b"[]", &mut bufs).unwrap(),
        b"6"
    );
    assert_eq!(
        bufs,
        vec![vec![1, 2, 3]],
        "a read-only buffer comes back unchanged"
    );
    let out = rt
        .call_async("op_checksum_async", b"", vec![vec![1, 2, 3]])
        .await;
    assert_eq!(
        (out.result.unwrap(), out.bufs),
        (b"6".to_vec(), vec![vec![1, 2, 3]])
    );

    let mut bufs = vec![b"ab".to_vec(), b"cd".to_vec()];
    let out = rt
        .call_sync("op_join_sync", br#"["-"]"#, &mut bufs)
        .unwrap();
    assert_eq!(out, br#""ab-cd""#);
    assert_eq!(
        bufs,
        vec![b"ab".to_vec(), Vec::new()],
        "an owned buffer is moved"
    );

    let mut bufs = vec![vec![0, 0]];
    let err = rt
        .call_sync("op_fill_then_panic_sync", b"[]", &mut bufs)
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Panic);
    assert_eq!(
        bufs,
        vec![vec![1, 1]],
        "a lent buffer comes back after a panic"
    );
    let out = rt
        .call_async("op_fill_then_panic_async", b"[]", vec![vec![0, 0]])
        .await;
    assert_eq!(
        out.result.map_err(|err| err.to_string()),
        Err("Panic: op_fill_then_panic: the op panicked: after filling".to_owned())
    );
    assert_eq!(
        out.bufs,
        vec![vec![1, 1]],
        "a lent buffer comes back after a panic on the blocking pool"
    );
    let out = rt
        .call_async(
            "op_fill_later_then_panic_async",
            b"[]",
            vec![vec![0, 0], vec![7]],
        )
        .await;
    assert_eq!(
        out.result.map_err(|err| err.class()),
        Err(ErrorClass::Panic)
    );
    assert_eq!(
        out.bufs,
        vec![vec![1, 1], Vec::new()],
        "an async fn gives a lent buffer back after a panic; a taken one is gone"
    );

    let err = rt
        .call_sync("op_join_sync", br#"["-"]"#, &mut [b"ab".to_vec()])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TypeError: op_join: missing buffer 'tail': expected 2 byte buffers, got 1"
    );
    let out = rt
        .call_async("op_join_async", br#"["-"]"#, vec![b"ab".to_vec()])
        .await;
    assert_eq!(out.result.unwrap_err().class(), ErrorClass::TypeError);
    assert_eq!(
        out.bufs,
        vec![b"ab".to_vec()],
        "nothing is lost on an error"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_event_loop_yields_completions_in_batches() {
    let mut rt = runtime();
    assert!(rt.completions().await.is_empty(), "nothing in flight");
    for id in 0..50_u64 {
        rt.submit(
            id,
            "op_add_async",
            format!("[{id}, 1]").as_bytes(),
            Vec::new(),
        );
    }
    rt.submit(100, "op_sleep_echo_async", br#"[1, "slow"]"#, Vec::new());
    rt.submit(101, "op_add_async", b"[1]", Vec::new());
    rt.submit(102, "op_nope", b"[]", Vec::new());
    assert_eq!(rt.pending(), 53);
    let mut seen = Vec::new();
    let mut batches = 0;
    while rt.pending() > 0 {
        let batch = deadline("batch", rt.completions()).await;
        assert!(!batch.is_empty());
        batches += 1;
        seen.extend(batch);
    }
    assert!(batches < seen.len(), "several completions arrive per batch");
    seen.sort_by_key(|c| c.promise_id);
    assert_eq!(seen.len(), 53);
    for c in &seen[..50] {
        assert_eq!(
            c.result.as_ref().unwrap(),
            (c.promise_id + 1).to_string().as_bytes()
        );
    }
    assert_eq!(seen[50].result.as_ref().unwrap(), br#""slow""#);
    assert_eq!(
        seen[51].result.as_ref().unwrap_err().class(),
        ErrorClass::TypeError
    );
    assert_eq!(
        seen[52].result.as_ref().unwrap_err().class(),
        ErrorClass::NotFound
    );
}

/// Two runtimes on one table have separate state and resources.
#[tokio::test(flavor = "current_thread")]
async fn runtimes_sharing_a_table_keep_their_own_resources() {
    let a = runtime();
    let b = Runtime::with_table(a.table().clone());
    let rid = a
        .call_sync("op_note_new_sync", br#"["mine"]"#, &mut [])
        .unwrap();
    let args = format!("[{}]", String::from_utf8(rid).unwrap());
    assert!(
        a.call_sync("op_note_read_sync", args.as_bytes(), &mut [])
            .is_ok()
    );
    let err = b
        .call_sync("op_note_read_sync", args.as_bytes(), &mut [])
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadResource);
    assert_eq!(a.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"1");
    assert_eq!(b.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"1");
}

/// Dropping a runtime closes its resources and drops its pending ops.
#[tokio::test(flavor = "current_thread")]
async fn dropping_a_runtime_releases_everything() {
    let mut rt = runtime();
    let (rid, note) = new_note(&rt);
    rt.submit(
        1,
        "op_note_wait_async",
        format!("[{rid}]").as_bytes(),
        Vec::new(),
    );
    let _ = tokio::time::timeout(Duration::from_millis(5), rt.completions()).await;
    assert_eq!(Arc::strong_count(&note), 3);
    drop(rt);
    assert_eq!(Arc::strong_count(&note), 1);
}
