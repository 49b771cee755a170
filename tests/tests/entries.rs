//! One body, two entries: the sync and the async entry of an op agree on results and
//! errors; arguments decode positional or named; bad calls give typed errors and the
//! runtime serves the next call.

use opkit::{ErrorClass, OpError, Runtime};
use opkit_tests::{json, runtime};
use serde_json::json;

/// Calls `op` through both of its entries with the same arguments.
async fn both(rt: &Runtime, op: &str, args: &str) -> [Result<serde_json::Value, OpError>; 2] {
    let sync = rt
        .call_sync(format!("{op}_sync").as_str(), args.as_bytes(), &mut [])
        .map(|out| json(&out));
    let out = rt
        .call_async(format!("{op}_async").as_str(), args.as_bytes(), Vec::new())
        .await;
    let asynchronous = out.result.map(|out| json(&out));
    [sync, asynchronous]
}

#[tokio::test]
async fn both_entries_give_the_same_results() {
    let rt = runtime();
    let cases = [
        ("op_add", "[1, 2]", json!(3)),
        // 18 digits take the hand-written integer reader, 19 take serde_json's.
        (
            "op_add",
            "[-5, 123456789012345678]",
            json!(123456789012345673_i64),
        ),
        (
            "op_add",
            "[-5,1234567890123456789]",
            json!(1234567890123456784_i64),
        ),
        ("op_add", r#"{"a": 40, "b": 2}"#, json!(42)),
        ("op_add", r#"{"b": 2, "a": 40}"#, json!(42)),
        // A name with an escape is read by serde_json, the others where they lie.
        ("op_add", r#"{"\u0061": 40, "b": 2}"#, json!(42)),
        ("op_div", "[9, 3]", json!(3)),
        ("op_greet", r#"["ada"]"#, json!("hello, ada.")),
        ("op_greet", r#"["ada", "!"]"#, json!("hello, ada!")),
        ("op_greet", r#"["ada", null]"#, json!("hello, ada.")),
        ("op_greet", r#"{"name": "bo"}"#, json!("hello, bo.")),
        (
            "op_greet",
            r#"["\u00e9t\u00e9 \"q\""]"#,
            json!("hello, été \"q\"."),
        ),
        ("op_sum", "[[1.5, 2.5, 3]]", json!(7.0)),
        ("op_path_depth", r#"["/a/b/c"]"#, json!(4)),
        ("op_path_depth", r#"{"path": "x/y"}"#, json!(2)),
        (
            "op_translate",
            r#"[{"x": 1, "y": 2}, 10]"#,
            json!({"x": 11, "y": 2}),
        ),
        (
            "op_translate",
            r#"{"point": {"x": 1, "y": 2}, "dx": 1, "dy": -2}"#,
            json!({"x": 2, "y": 0}),
        ),
        ("op_noop", "", json!(null)),
        ("op_noop", "[]", json!(null)),
        ("op_noop", "{}", json!(null)),
        ("op_noop", " null ", json!(null)),
        ("op_label", r#"["-x"]"#, json!("label-x")),
    ];
    for (op, args, expected) in cases {
        let [sync, asynchronous] = both(&rt, op, args).await;
        assert_eq!(sync.as_ref(), Ok(&expected), "{op} {args} (sync)");
        assert_eq!(asynchronous.as_ref(), Ok(&expected), "{op} {args} (async)");
    }
}

#[tokio::test]
async fn both_entries_give_the_same_errors() {
    let rt = runtime();
    let cases = [
        (
            "op_div",
            "[1, 0]",
            ErrorClass::InvalidData,
            "op_div: division by zero",
        ),
        (
            "op_panic",
            r#"["boom"]"#,
            ErrorClass::Panic,
            "op_panic: the op panicked: boom",
        ),
        (
            "op_add",
            "[1]",
            ErrorClass::TypeError,
            "op_add: missing argument 'b' (i64)",
        ),
        (
            "op_io_fail",
            r#"["/definitely/not/here"]"#,
            ErrorClass::NotFound,
            "op_io_fail: No such file or directory (os error 2)",
        ),
    ];
    for (op, args, class, message) in cases {
        for result in both(&rt, op, args).await {
            let err = result.expect_err(op);
            assert_eq!(err.class(), class, "{op}: {err}");
            assert_eq!(err.to_string(), format!("{class}: {message}"));
            assert_eq!(err.op(), Some(op));
        }
    }
    // io errors keep their errno name.
    let [sync, _] = both(&rt, "op_io_fail", r#"["/nope"]"#).await;
    assert_eq!(sync.unwrap_err().code(), Some("ENOENT"));
}

/// Each bad call names the op, the parameter and the expected type.
#[tokio::test]
async fn argument_errors_name_the_op_and_parameter() {
    let rt = runtime();
    let cases = [
        (
            "op_add",
            r#"[1, "two"]"#,
            r#"op_add: invalid argument 'b' (i64): invalid type: string "two", expected i64"#,
        ),
        (
            "op_add",
            r#"{"a": 1, "b": 2.5}"#,
            "op_add: invalid argument 'b' (i64): invalid type: floating point `2.5`, expected i64",
        ),
        (
            "op_add",
            "[1, 2, 3]",
            "op_add: expected at most 2 arguments, got 3",
        ),
        ("op_add", "[]", "op_add: missing argument 'a' (i64)"),
        (
            "op_add",
            r#"{"a": 1}"#,
            "op_add: missing argument 'b' (i64)",
        ),
        (
            "op_add",
            r#"{"a": 1, "c": 2}"#,
            "op_add: unknown argument 'c'; expected one of 'a', 'b'",
        ),
        (
            "op_add",
            r#"{"a": 1, "a": 2}"#,
            "op_add: argument 'a' is given twice",
        ),
        (
            "op_add",
            r#"{"a": 1, "\u0061": 2}"#,
            "op_add: argument 'a' is given twice",
        ),
        (
            "op_add",
            r#"{"a": 1, "\u0063": 2}"#,
            "op_add: unknown argument 'c'; expected one of 'a', 'b'",
        ),
        (
            "op_noop",
            "[1]",
            "op_noop: expected at most 0 arguments, got 1",
        ),
        (
            "op_noop",
            r#"{"x": 1}"#,
            "op_noop: unknown argument 'x'; expected no arguments",
        ),
        (
            "op_add",
            "[1, ",
            "op_add: malformed arguments: EOF while parsing a value at byte 4",
        ),
        (
            "op_add",
            "[1, 2] x",
            "op_add: malformed arguments: trailing characters at byte 7",
        ),
        (
            "op_add",
            r#""1, 2""#,
            "op_add: expected an array of positional arguments or an object of named arguments",
        ),
        (
            "op_add",
            "[99999999999999999999, 1]",
            "op_add: invalid argument 'a' (i64): invalid type: floating point `1e+20`, expected i64",
        ),
        // Out of the parameter's range, and serde_json's reading of `-0`: integers
        // past their plain form get serde_json's own errors.
        (
            "op_translate",
            r#"[{"x": 1, "y": 2}, 2147483648]"#,
            "op_translate: invalid argument 'dx' (i32): invalid value: integer `2147483648`, expected i32",
        ),
        (
            "op_add",
            "[-0, 1]",
            "op_add: invalid argument 'a' (i64): invalid type: floating point `-0.0`, expected i64",
        ),
        (
            "op_translate",
            r#"[{"x": 1}, 2]"#,
            "op_translate: invalid argument 'point' (Point): missing field `y`",
        ),
        (
            "op_greet",
            r#"{"punct": "!"}"#,
            "op_greet: missing argument 'name' (&str)",
        ),
    ];
    for (op, args, message) in cases {
        for entry in [format!("{op}_sync"), format!("{op}_async")] {
            let err = if entry.ends_with("_sync") {
                rt.call_sync(entry.as_str(), args.as_bytes(), &mut [])
                    .expect_err(&entry)
            } else {
                rt.call_async(entry.as_str(), args.as_bytes(), Vec::new())
                    .await
                    .result
                    .expect_err(&entry)
            };
            assert_eq!(err.class(), ErrorClass::TypeError, "{entry} {args}");
            assert_eq!(
                err.to_string(),
                format!("TypeError: {message}"),
                "{entry} {args}"
            );
        }
    }
    // Invalid UTF-8 inside a string argument.
    let err = rt
        .call_sync("op_greet_sync", b"[\"\xff\"]", &mut [])
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::TypeError);
    assert!(
        err.message()
            .starts_with("malformed argument 'name' (&str): invalid unicode"),
        "{err}"
    );
    // And the runtime still serves.
    assert_eq!(
        rt.call_sync("op_add_sync", b"[2, 2]", &mut []).unwrap(),
        b"4"
    );
}

#[tokio::test]
async fn unknown_ops_and_wrong_modes_are_typed_errors() {
    let rt = runtime();
    let err = rt.call_sync("op_nope", b"[]", &mut []).unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert_eq!(err.to_string(), "NotFound: unknown op 'op_nope'");
    let err = rt.call_sync(9999_u32, b"[]", &mut []).unwrap_err();
    assert_eq!(err.to_string(), "NotFound: no op with id 9999");
    let err = rt
        .call_async("op_nope", b"[]", Vec::new())
        .await
        .result
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);

    let err = rt
        .call_sync("op_add_async", b"[1, 2]", &mut [])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TypeError: op_add: `op_add_async` is a blocking entry; call it with call_async"
    );
    let err = rt
        .call_sync("op_sleep_echo_async", b"[1, \"x\"]", &mut [])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TypeError: op_sleep_echo: `op_sleep_echo_async` is an async entry; call it with call_async"
    );
    let out = rt.call_async("op_add_sync", b"[1, 2]", vec![vec![7]]).await;
    assert_eq!(
        out.result.unwrap_err().to_string(),
        "TypeError: op_add: `op_add_sync` is a sync entry; call it with call_sync"
    );
    assert_eq!(out.bufs, vec![vec![7]], "buffers come back on an error");
    assert_eq!(
        rt.call_sync("op_add_sync", b"[1, 2]", &mut []).unwrap(),
        b"3"
    );
}

#[tokio::test]
async fn ids_and_names_reach_the_same_entry() {
    let rt = runtime();
    let id = rt.op_id("op_add_sync").unwrap();
    assert_eq!(rt.table().get(id).unwrap().decl.entry, "op_add_sync");
    let mut out = Vec::new();
    rt.call_sync_into(id, b"[20, 22]", &mut [], &mut out)
        .unwrap();
    assert_eq!(out, b"42");
    assert_eq!(
        rt.call_sync("op_add_sync", b"[20, 22]", &mut []).unwrap(),
        out
    );
}

#[tokio::test]
async fn panics_are_errors_and_the_runtime_keeps_serving() {
    let rt = runtime();
    for round in 0..3 {
        let err = rt
            .call_sync("op_panic_sync", br#"["sync"]"#, &mut [])
            .unwrap_err();
        assert_eq!(err.class(), ErrorClass::Panic);
        let err = rt
            .call_async("op_panic_async", br#"["blocking"]"#, Vec::new())
            .await
            .result
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Panic: op_panic: the op panicked: blocking"
        );
        let err = rt
            .call_async("op_async_panic_async", br#"["future"]"#, Vec::new())
            .await
            .result
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Panic: op_async_panic: the op panicked: future"
        );
        let sum = rt.call_sync("op_add_sync", format!("[{round}, 1]").as_bytes(), &mut []);
        assert_eq!(sum.unwrap(), (round + 1).to_string().as_bytes());
    }
}

#[tokio::test]
async fn state_parameters_in_each_mode() {
    let rt = runtime();
    assert_eq!(rt.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"1");
    assert_eq!(rt.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"2");
    let out = rt
        .call_async("op_count_later_async", b"[]", Vec::new())
        .await;
    assert_eq!(out.result.unwrap(), b"3");
    rt.call_sync("op_set_label_sync", br#"["new"]"#, &mut [])
        .unwrap();
    let [sync, asynchronous] = [
        rt.call_sync("op_label_sync", br#"["!"]"#, &mut []).unwrap(),
        rt.call_async("op_label_async", br#"["!"]"#, Vec::new())
            .await
            .result
            .unwrap(),
    ];
    assert_eq!(sync, br#""new!""#);
    assert_eq!(asynchronous, br#""new!""#);
    // A `#[state]` type that was never put is an error naming the type.
    rt.state().borrow_mut().take::<opkit_tests::Label>();
    let err = rt
        .call_sync("op_label_sync", br#"["!"]"#, &mut [])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Generic: op_label: no `opkit_tests::Label` in OpState; put one in the extension's state setup"
    );
}

#[tokio::test]
async fn async_fn_ops_run_on_the_host_thread() {
    let rt = runtime();
    let out = rt
        .call_async(
            "op_sleep_echo_async",
            br#"{"ms": 1, "value": "pong"}"#,
            Vec::new(),
        )
        .await;
    assert_eq!(out.result.unwrap(), br#""pong""#);
    assert!(
        rt.op_id("op_sleep_echo_sync").is_none(),
        "an async fn has no sync entry"
    );
    let entry = rt
        .table()
        .get(rt.op_id("op_sleep_echo_async").unwrap())
        .unwrap();
    assert_eq!(entry.decl.mode, opkit::OpMode::Async);
    assert_eq!(entry.extension, "fixtures");
}

#[test]
fn async_entries_without_a_tokio_runtime_fail_cleanly() {
    let rt = runtime();
    let out = futures_lite_block_on(rt.call_async("op_add_async", b"[1, 2]", Vec::new()));
    assert_eq!(
        out.result.unwrap_err().to_string(),
        "Generic: op_add: async entries need a tokio runtime on the calling thread"
    );
}

/// Polls a ready future once, without a tokio runtime.
fn futures_lite_block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the future was not ready"),
    }
}

#[test]
fn runtime_from_extensions_reports_duplicates() {
    let err = Runtime::new([opkit_tests::fixtures(), opkit_tests::fixtures()])
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "extension `fixtures` is added twice");
    let other = opkit::Extension::new("other", opkit_tests::op_add::DECLS.iter().copied());
    let err = Runtime::new([opkit_tests::fixtures(), other])
        .err()
        .unwrap();
    assert_eq!(
        err.to_string(),
        "`op_add_sync` is registered by both extension `fixtures` and extension `other`"
    );
    let twice = opkit::Extension::new(
        "twice",
        opkit_tests::op_add::DECLS
            .iter()
            .chain(opkit_tests::op_add::DECLS)
            .copied(),
    );
    let err = Runtime::new([twice]).err().unwrap();
    assert_eq!(
        err.to_string(),
        "extension `twice` registers `op_add_sync` twice"
    );
}
