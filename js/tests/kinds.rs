//! Every parameter and return kind through the sync and async entries, errors,
//! panics, and many calls in flight.

mod common;

use common::{PRELUDE, run};
use opkit::{ByteBuf, ErrorClass, NewResource, OpError, Resource, extension, op};

/// Adds two numbers.
#[op]
fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

/// Joins strings with an optional separator.
#[op]
fn op_join(parts: Vec<String>, sep: Option<String>) -> String {
    parts.join(sep.as_deref().unwrap_or(","))
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Point {
    x: f64,
    y: f64,
}

/// Mirrors a point.
#[op]
fn op_mirror(p: Point) -> Point {
    Point { x: -p.x, y: -p.y }
}

/// Echoes a string.
#[op]
fn op_echo(s: String) -> String {
    s
}

/// Echoes a float, or `null` for none.
#[op]
fn op_float(x: Option<f64>) -> Option<f64> {
    x
}

/// Negates a boolean.
#[op]
fn op_not(b: bool) -> bool {
    !b
}

/// Echoes an unsigned number.
#[op]
fn op_unsigned(n: u64) -> u64 {
    n
}

/// Sums a buffer's bytes.
#[op]
fn op_sum(#[buffer] data: &[u8]) -> u64 {
    data.iter().map(|&b| u64::from(b)).sum()
}

/// Fills a buffer in place, from `start`.
#[op]
fn op_fill(start: u8, #[buffer] buf: &mut [u8]) -> usize {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = start.wrapping_add(i as u8);
    }
    buf.len()
}

/// `n` bytes counting up.
#[op]
fn op_bytes(n: u8) -> ByteBuf {
    ByteBuf((0..n).collect())
}

/// Nothing.
#[op]
fn op_nothing() {}

/// Always fails with a class and a code.
#[op]
fn op_fail(class: String) -> Result<(), OpError> {
    let class = match class.as_str() {
        "NotFound" => ErrorClass::NotFound,
        _ => ErrorClass::PermissionDenied,
    };
    Err(OpError::new(class, "no luck").with_code("ENOENT"))
}

/// Panics.
#[op]
fn op_boom() -> u32 {
    panic!("boom")
}

struct Counter(std::sync::atomic::AtomicU32);
impl Resource for Counter {}

/// A new counter.
#[op(sync)]
fn op_counter(start: u32) -> NewResource<Counter> {
    NewResource(Counter(std::sync::atomic::AtomicU32::new(start)))
}

/// Counts up and returns the count.
#[op(sync)]
fn op_tick(#[resource] counter: &Counter) -> u32 {
    counter.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1
}

extension!(
    kinds,
    ops = [
        op_add,
        op_echo,
        op_float,
        op_not,
        op_unsigned,
        op_join,
        op_mirror,
        op_sum,
        op_fill,
        op_bytes,
        op_nothing,
        op_fail,
        op_boom,
        op_counter,
        op_tick
    ]
);

fn script(body: &str) -> String {
    format!("{PRELUDE}\n{body}\nconsole.log('done');\n")
}

fn ok(body: &str) -> Vec<String> {
    let outcome = run(vec![kinds()], &script(body));
    assert_eq!(outcome.result, Ok(()), "errors: {:?}", outcome.errors);
    assert_eq!(outcome.lines.last().map(String::as_str), Some("done"));
    outcome.lines
}

#[test]
fn serde_params_and_results_from_both_entries() {
    ok(r#"
eq(ops.op_add_sync(1, 2), 3, "positional sync");
eq(await ops.op_add_async(40, 2), 42, "positional async");
eq(ops.op_add_sync({ a: 5, b: 6 }), 11, "named sync");
eq(await ops.op_add_async({ b: 1, a: 2 }), 3, "named async");
eq(ops.op_join_sync(["a", "b"]), "a,b", "optional left out");
eq(await ops.op_join_async(["a", "b"], "-"), "a-b", "optional given");
eq(ops.op_mirror_sync({ x: 1, y: -2 }), { x: -1, y: 2 }, "struct argument");
eq(await ops.op_mirror_async({ x: 3, y: 4 }), { x: -3, y: -4 }, "struct argument async");
eq(ops.op_nothing_sync(), null, "unit");
eq(await ops.op_nothing_async(), null, "unit async");
eq(ops.op_mirror_sync({ p: { x: 1, y: 2 } }), { x: -1, y: -2 }, "named struct argument");
eq(ops.op_join_sync({ parts: ["a", "b"], sep: "+" }), "a+b", "named array, then a string");
eq(ops.op_join_sync({ sep: "+", parts: ["c"] }), "c", "named string first, then an array");
eq(ops.op_join_sync({ parts: ["x", "y"], sep: undefined }), "x,y", "named undefined left out");
eq(ops.op_join_sync(["x", "y"], undefined), "x,y", "positional undefined");
eq(ops.op_echo_sync({ s: 'q"\n\u0001é' }), 'q"\n\u0001é', "named string escaped");
eq(ops.op_float_sync({ x: NaN }), null, "named NaN is null");
eq(ops.op_float_sync({ x: -0 }), 0, "named -0");
eq(throws(() => ops.op_add_sync({ a: 1, b: {} })).name, "TypeError", "named object for an integer");
eq(throws(() => ops.op_add_sync(1, [2])).name, "TypeError", "positional array for an integer");
"#);
}

#[test]
fn scalars_round_trip_as_json_would_carry_them() {
    ok(r#"
for (const s of ["", "plain", 'q"uo\\te', "line\nbreak\ttab\r", "\u0001\u001f", "é ☃ 😀"]) {
  eq(ops.op_echo_sync(s), s, "string sync");
  eq(await ops.op_echo_async(s), s, "string async");
}
for (const x of [0.5, -1.25, 1e300, 5e-324, 2 ** 53, -(2 ** 31) - 1, 123456789.125]) {
  eq(ops.op_float_sync(x), x, "float sync");
  eq(await ops.op_float_async(x), x, "float async");
}
eq(ops.op_float_sync(NaN), null, "NaN is null, as in JSON");
eq(ops.op_float_sync(Infinity), null, "Infinity is null, as in JSON");
eq(ops.op_float_sync(), null, "left out");
eq(ops.op_float_sync(undefined), null, "undefined");
eq(Object.is(ops.op_unsigned_sync(-0), 0), true, "-0 is 0");
eq(ops.op_unsigned_sync(2 ** 40), 2 ** 40, "large integer");
eq(ops.op_not_sync(false), true, "bool");
eq(await ops.op_not_async(true), false, "bool async");
eq(throws(() => ops.op_unsigned_sync(-1)).name, "TypeError", "negative unsigned");
eq(throws(() => ops.op_unsigned_sync(1.5)).name, "TypeError", "fractional unsigned");
eq(throws(() => ops.op_not_sync("yes")).name, "TypeError", "string for a bool");
eq(throws(() => ops.op_echo_sync(Symbol("s"))).name, "TypeError", "a symbol");
"#);
}

#[test]
fn buffers_in_and_out() {
    ok(r#"
eq(ops.op_sum_sync(new Uint8Array([1, 2, 3])), 6, "buffer in");
eq(await ops.op_sum_async(new Uint8Array([4, 5])), 9, "buffer in async");
const a = new Uint8Array(4);
eq(ops.op_fill_sync(10, a), 4, "fill returns");
eq(Array.from(a), [10, 11, 12, 13], "filled in place");
const b = new Uint8Array(3);
eq(await ops.op_fill_async(7, b), 3, "fill async returns");
eq(Array.from(b), [7, 8, 9], "filled in place async");
const c = new Uint8Array(2);
ops.op_fill_sync({ start: 1, buf: c });
eq(Array.from(c), [1, 2], "named buffer");
eq(ops.op_sum_sync(new Uint8Array([9, 1, 2, 9]).subarray(1, 3)), 3, "a view with an offset");
const parent = new Uint8Array(5);
ops.op_fill_sync(1, parent.subarray(2, 4));
eq(Array.from(parent), [0, 0, 1, 2, 0], "filled through a view");
const bytes = ops.op_bytes_sync(3);
if (!(bytes instanceof Uint8Array)) throw new Error("ByteBuf is not a Uint8Array");
eq(Array.from(bytes), [0, 1, 2], "ByteBuf result");
eq(Array.from(await ops.op_bytes_async(2)), [0, 1], "ByteBuf result async");
const e = throws(() => ops.op_sum_sync([1, 2]));
eq(e.name, "TypeError", "non-buffer class");
if (!e.message.includes("op_sum") || !e.message.includes("`data`")) throw new Error(e.message);
eq((await rejects(ops.op_sum_async("x"))).name, "TypeError", "non-buffer async");
"#);
}

#[test]
fn resources_are_rids_closed_with_op_close() {
    ok(r#"
const rid = ops.op_counter_sync(5);
eq(typeof rid, "number", "a rid");
eq(ops.op_tick_sync(rid), 6, "first tick");
eq(ops.op_tick_sync(rid), 7, "second tick");
ops.op_close_sync(rid);
eq(throws(() => ops.op_tick_sync(rid)).name, "BadResource", "closed rid");
"#);
}

#[test]
fn errors_carry_class_and_code() {
    ok(r#"
const e = throws(() => ops.op_fail_sync("NotFound"));
if (!(e instanceof Error)) throw new Error("not an Error");
eq([e.name, e.code, e.op], ["NotFound", "ENOENT", "op_fail"], "sync error");
if (!e.message.includes("no luck")) throw new Error(e.message);
const r = await rejects(ops.op_fail_async("PermissionDenied"));
eq([r.name, r.code], ["PermissionDenied", "ENOENT"], "async error");
eq(throws(() => ops.op_add_sync("x", 1)).name, "TypeError", "wrong type");
eq(throws(() => ops.op_add_sync(1, 2, 3)).name, "TypeError", "too many");
eq((await rejects(ops.op_add_async({ a: 1 }))).name, "TypeError", "missing named");
eq(throws(() => ops.op_add_sync(1n, 2)).name, "TypeError", "BigInt");
"#);
}

#[test]
fn a_panic_throws_and_the_runtime_lives_on() {
    ok(r#"
eq(throws(() => ops.op_boom_sync()).name, "Panic", "sync panic");
eq((await rejects(ops.op_boom_async())).name, "Panic", "async panic");
eq(ops.op_add_sync(1, 1), 2, "still serving");
eq(await ops.op_add_async(2, 2), 4, "still serving async");
"#);
}

#[test]
fn ten_thousand_async_calls_in_flight() {
    let lines = ok(r#"
const calls = [];
for (let i = 0; i < 10000; i++) calls.push(ops.op_add_async(i, 1));
const results = await Promise.all(calls);
let sum = 0;
for (let i = 0; i < results.length; i++) {
  if (results[i] !== i + 1) throw new Error(`call ${i}: ${results[i]}`);
  sum += results[i];
}
console.log(results.length, sum);
"#);
    assert_eq!(lines[0], "10000 50005000");
}

#[test]
fn an_uncaught_error_fails_with_its_stack() {
    let outcome = run(
        vec![kinds()],
        "function inner() { throw new Error('bad thing'); }\ninner();\n",
    );
    let Err(opkit_js::JsError::Uncaught(text)) = outcome.result else {
        panic!("{:?}", outcome.result)
    };
    assert!(text.contains("bad thing"), "{text}");
    assert!(text.contains("inner"), "no stack: {text}");
}

#[test]
fn an_unhandled_rejection_fails() {
    let outcome = run(
        vec![kinds()],
        "opkit.ops.op_fail_async('NotFound');\nawait opkit.ops.op_add_async(1, 2);\n",
    );
    let Err(opkit_js::JsError::Uncaught(text)) = outcome.result else {
        panic!("{:?}", outcome.result)
    };
    assert!(text.starts_with("NotFound"), "{text}");
}

#[test]
fn a_handled_rejection_does_not_fail() {
    let outcome = run(
        vec![kinds()],
        // Handlers attached before the job queue runs dry, whatever the order in which
        // calls complete: the op's rejection can only arrive after that.
        "const p = opkit.ops.op_fail_async('NotFound');\nawait Promise.resolve();\ntry { await p } catch (e) { console.log(e.name) }\nconst q = Promise.reject(new Error('later'));\nawait null;\nq.catch(() => console.log('handled'));\n",
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.lines, ["NotFound", "handled"]);
}

#[test]
fn console_error_goes_to_its_stream() {
    let outcome = run(
        vec![kinds()],
        "console.error('oops', 1, {a: 2}); console.log('fine');",
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.errors, [r#"oops 1 {"a":2}"#]);
    assert_eq!(outcome.lines, ["fine"]);
}

#[test]
fn a_runaway_script_is_stopped_by_its_host() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("main.js"), "for (;;) {}").expect("script");
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let result = tokio_rt.block_on(async {
        let mut js = opkit_js::JsRuntime::new([kinds()])?;
        js.allow_modules_from(dir.path())?;
        let stop = js.stop_handle();
        // Stopped before it starts: the first interrupt check ends the loop, so the
        // test does not depend on timing.
        stop.stop();
        js.run_module(dir.path().join("main.js")).await
    });
    assert_eq!(result, Err(opkit_js::JsError::Stopped));
}

#[test]
fn the_memory_limit_is_enforced() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.js"),
        "const a = []; for (let i = 0; i < 1e8; i++) a.push('x' + i);",
    )
    .expect("script");
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let result = tokio_rt.block_on(async {
        let mut js = opkit_js::JsRuntime::new([kinds()])?;
        js.allow_modules_from(dir.path())?;
        js.set_memory_limit(8 << 20);
        js.run_module(dir.path().join("main.js")).await
    });
    let Err(err) = result else {
        panic!("ran past the limit")
    };
    assert!(err.to_string().contains("out of memory"), "{err}");
}

#[test]
fn a_rejection_reason_with_hostile_getters_is_reported() {
    // Describing the reason runs its getters, which reject another promise and throw.
    let outcome = run(
        vec![kinds()],
        r#"
const reason = {
  get name() { Promise.reject(new Error("inner")); return "Outer"; },
  get message() { throw new Error("no message for you"); },
};
Promise.reject(reason);
await opkit.ops.op_add_async(1, 2);
"#,
    );
    assert!(
        matches!(outcome.result, Err(opkit_js::JsError::Uncaught(_))),
        "{:?}",
        outcome.result
    );
}

#[test]
fn a_to_json_that_calls_ops_and_throws_is_a_type_error() {
    let lines = ok(r#"
const evil = { toJSON() { ops.op_add_async(1, 2); ops.op_add_sync(1, 2); throw new Error("nope"); } };
const e = throws(() => ops.op_add_sync(evil, 1));
eq(e.name, "TypeError", "class");
if (!e.message.includes("op_add") || !e.message.includes("nope")) throw new Error(e.message);
const cyclic = {}; cyclic.self = cyclic;
eq(throws(() => ops.op_mirror_sync(cyclic)).name, "TypeError", "cyclic");
eq((await rejects(ops.op_mirror_async(cyclic))).name, "TypeError", "cyclic async");
const trap = new Proxy({}, { ownKeys() { throw new Error("keys trap"); } });
eq(throws(() => ops.op_add_sync(trap, 1)).name, "TypeError", "a throwing ownKeys trap");
eq(ops.op_add_sync(2, 3), 5, "no exception left pending");
const detached = new Uint8Array(new ArrayBuffer(4));
const e2 = throws(() => ops.op_fill_sync(1, new Proxy(detached, {})));
eq(e2.name, "TypeError", "a proxy is not a Uint8Array");
console.log("ok");
"#);
    assert_eq!(lines[0], "ok");
}

/// Signals that the script has started, so the host can stop it mid-loop.
#[op(sync)]
fn op_started(#[state] started: &Started) {
    let _ = started.0.send(());
}

#[derive(Clone)]
struct Started(std::sync::mpsc::SyncSender<()>);

#[test]
fn a_runaway_loop_is_stopped_from_another_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.js"),
        "opkit.ops.op_started_sync();\nfor (;;) {}\n",
    )
    .expect("script");
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let ext = opkit::Extension::new("started", op_started::DECLS.iter().copied()).with_state(
        move |state| {
            state.put(Started(tx.clone()));
        },
    );
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let result = tokio_rt.block_on(async {
        let mut js = opkit_js::JsRuntime::new([ext])?;
        js.allow_modules_from(dir.path())?;
        let stop = js.stop_handle();
        // Stops the loop once the script says it runs: no sleep, no race.
        let stopper = std::thread::spawn(move || {
            if rx.recv().is_ok() {
                stop.stop();
            }
        });
        let result = js.run_module(dir.path().join("main.js")).await;
        let _ = stopper.join();
        result
    });
    assert_eq!(result, Err(opkit_js::JsError::Stopped));
}

#[test]
fn eval_script_returns_the_completion_value() {
    let js = opkit_js::JsRuntime::new([kinds()]).expect("runtime");
    let got = js.eval_script(
        "let s = 0; for (let i = 0; i < 10; i++) s = opkit.ops.op_add_sync(s, i); ({ s })",
    );
    assert_eq!(got, Ok(Some(r#"{"s":45}"#.to_owned())));
    assert_eq!(js.eval_script("undefined"), Ok(None));
    let Err(opkit_js::JsError::Uncaught(text)) =
        js.eval_script("opkit.ops.op_fail_sync('NotFound')")
    else {
        panic!("no error")
    };
    assert!(text.starts_with("NotFound: op_fail: no luck"), "{text}");
}

/// Never completes.
#[op]
async fn op_never() {
    std::future::pending::<()>().await;
}

#[test]
fn a_script_waiting_on_a_call_is_stopped_from_another_thread() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("main.js"),
        "opkit.ops.op_started_sync();\nawait opkit.ops.op_never_async();\n",
    )
    .expect("script");
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let decls = op_started::DECLS.iter().chain(op_never::DECLS).copied();
    let ext = opkit::Extension::new("waits", decls).with_state(move |state| {
        state.put(Started(tx.clone()));
    });
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let path = dir.path().to_path_buf();
    // On its own thread, so that a runtime that does not wake for the stop fails the
    // test at the bound below instead of hanging it.
    std::thread::spawn(move || {
        let tokio_rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio");
        let result = tokio_rt.block_on(async {
            let mut js = opkit_js::JsRuntime::new([ext])?;
            js.allow_modules_from(&path)?;
            let stop = js.stop_handle();
            std::thread::spawn(move || {
                if rx.recv().is_ok() {
                    stop.stop();
                }
            });
            js.run_module(path.join("main.js")).await
        });
        let _ = done_tx.send(result);
    });
    let result = done_rx.recv_timeout(std::time::Duration::from_secs(120));
    assert_eq!(
        result,
        Ok(Err(opkit_js::JsError::Stopped)),
        "the script did not stop"
    );
}

/// `mib` mebibytes of zeros.
#[op]
fn op_zeros(mib: u32) -> ByteBuf {
    ByteBuf(vec![0; mib as usize * 1024 * 1024])
}

/// Large byte results count against the memory limit: a script that keeps forty of
/// 1 MiB under an 8 MiB cap fails, from the sync entry and from the async one.
#[test]
fn byte_results_count_against_the_memory_limit() {
    for entry in ["op_zeros_sync", "op_zeros_async"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let main = format!(
            "const kept = [];\nfor (let i = 0; i < 40; i++) kept.push(await opkit.ops.{entry}(1));\n\
             console.log(kept.length);\n"
        );
        std::fs::write(dir.path().join("main.js"), main).expect("script");
        let tokio_rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("tokio");
        let ext = opkit::Extension::new("zeros", op_zeros::DECLS.iter().copied());
        let result = tokio_rt.block_on(async {
            let mut js = opkit_js::JsRuntime::new([ext])?;
            js.allow_modules_from(dir.path())?;
            js.set_memory_limit(8 << 20);
            js.run_module(dir.path().join("main.js")).await
        });
        let Err(err) = result else {
            panic!("{entry}: 40 MiB kept under an 8 MiB limit")
        };
        assert!(err.to_string().contains("out of memory"), "{entry}: {err}");
    }
}

/// A classic script's async calls are settled by `run_event_loop`, then seen by the
/// next script; an unhandled rejection there is the loop's error.
#[test]
fn run_event_loop_settles_a_classic_scripts_calls() {
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    tokio_rt.block_on(async {
        let mut js = opkit_js::JsRuntime::new([kinds()]).expect("runtime");
        let started = js.eval_script(
            "globalThis.sums = []; for (let i = 0; i < 100; i++) \
             opkit.ops.op_add_async(i, 1).then((s) => sums.push(s)); sums.length",
        );
        assert_eq!(started, Ok(Some("0".to_owned())));
        assert_eq!(js.run_event_loop().await, Ok(()));
        let got = js.eval_script("sums.reduce((a, b) => a + b, 0)");
        assert_eq!(got, Ok(Some("5050".to_owned())));

        assert_eq!(
            js.eval_script("opkit.ops.op_fail_async('NotFound'); 1"),
            Ok(Some("1".to_owned()))
        );
        let Err(opkit_js::JsError::Uncaught(text)) = js.run_event_loop().await else {
            panic!("the rejection went unseen")
        };
        assert!(text.starts_with("NotFound: op_fail: no luck"), "{text}");
    });
}
