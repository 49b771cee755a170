//! The JavaScript guest against its floors:
//!
//! | group | what one iteration is |
//! |---|---|
//! | `js_round_trip_1k` | 1,000 `opkit.ops.op_add_sync(s, 1)` from a QuickJS loop, against a plain rquickjs native function doing the same addition; and by name, `op_add_sync({ a: s, b: 1 })` |
//! | `js_async_round_trip_1k` | 1,000 `await opkit.ops.op_nothing_async()` one after the other, against 1,000 awaits of the Rust async entry alone |
//! | `js_stat_10k` | 10,000 `op_stat_async` in flight from one script (`Promise.all`), against the same 10,000 submitted from Rust |
//!
//! The async groups run their threads (the executor's workers), so they are timed in
//! wall time and, as `_cpu`, in the process's CPU time.

use std::path::Path;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use opkit::Runtime;
use opkit_benches::{op_add, runtime};
use opkit_fs::{FsContext, FsPermissions};
use opkit_js::JsRuntime;
use rquickjs::{Context, Function};

#[path = "support/cpu_time.rs"]
mod cpu_time;

use cpu_time::CpuTime;

const CALLS: usize = 1000;
const IN_FLIGHT: usize = 10_000;

fn script(f: &str) -> String {
    format!("(() => {{ let s = 0; for (let i = 0; i < {CALLS}; i++) s = {f}(s, 1); return s; }})()")
}

fn js_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("js_round_trip_1k");

    let ops = JsRuntime::new([opkit::Extension::new(
        "bench",
        op_add::DECLS.iter().copied(),
    )])
    .expect("the JS runtime starts");
    let opkit_script = script("opkit.ops.op_add_sync");
    assert_eq!(ops.eval_script(&opkit_script), Ok(Some(CALLS.to_string())));
    group.bench_function("opkit_op_add_sync", |b| {
        b.iter(|| ops.eval_script(&opkit_script))
    });
    let named_script = format!(
        "(() => {{ let s = 0; for (let i = 0; i < {CALLS}; i++) \
         s = opkit.ops.op_add_sync({{ a: s, b: 1 }}); return s; }})()"
    );
    assert_eq!(ops.eval_script(&named_script), Ok(Some(CALLS.to_string())));
    group.bench_function("opkit_op_add_sync_named", |b| {
        b.iter(|| ops.eval_script(&named_script))
    });

    let engine = rquickjs::Runtime::new().expect("engine");
    let context = Context::full(&engine).expect("context");
    let native_script = script("add");
    context.with(|ctx| {
        let add = Function::new(ctx.clone(), |a: i64, b: i64| a + b).expect("native add");
        ctx.globals().set("add", add).expect("global");
        let s: i64 = ctx.eval(native_script.as_str()).expect("runs");
        assert_eq!(s, CALLS as i64);
    });
    group.bench_function("floor_native_function", |b| {
        b.iter(|| context.with(|ctx| ctx.eval::<i64, _>(native_script.as_str())))
    });
    group.finish();
}

/// The host thread: one thread, as `opkit run`'s is.
fn host() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
}

/// Starts `source` (a classic script whose async calls stay in flight), then drives
/// them to the end; `check` (a JS expression) must then be `true`.
fn run_async(tokio: &tokio::runtime::Runtime, js: &mut JsRuntime, source: &str, check: &str) {
    // Inside the runtime: an async entry submits its call on the calling thread.
    tokio.block_on(async {
        js.eval_script(source).expect("the script starts");
        js.run_event_loop().await.expect("the calls settle");
    });
    assert_eq!(js.eval_script(check), Ok(Some("true".to_owned())));
}

fn async_round_trip<M: Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    let tokio = host();
    let rt = runtime(Vec::new());
    let id = rt.op_id("op_nothing_async").expect("op_nothing_async");
    group.bench_function("floor_rust_async_entry", |b| {
        b.iter(|| {
            tokio.block_on(async {
                for _ in 0..CALLS {
                    rt.call_async(id, b"[]", Vec::new())
                        .await
                        .result
                        .expect("no-op");
                }
            })
        })
    });
    let mut js = JsRuntime::with_runtime(runtime(Vec::new())).expect("the JS runtime starts");
    let source = format!(
        "globalThis.n = 0; (async () => {{ for (let i = 0; i < {CALLS}; i++) {{ \
         await opkit.ops.op_nothing_async(); n += 1; }} }})();"
    );
    let check = format!("n === {CALLS}");
    group.bench_function("opkit_js", |b| {
        b.iter(|| run_async(&tokio, &mut js, &source, &check))
    });
}

fn fs_runtime(root: &Path) -> Runtime {
    let ctx = FsContext::new(FsPermissions::default().allow_read(root)).with_cwd(root);
    runtime(vec![opkit_fs::extension_with(ctx)])
}

fn stat_10k<M: Measurement>(group: &mut BenchmarkGroup<'_, M>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("root");
    let file = root.join("4k.bin");
    std::fs::write(&file, vec![7_u8; 4 << 10]).expect("file");
    let tokio = host();

    let mut rt = fs_runtime(&root);
    let id = rt.op_id("op_stat_async").expect("op_stat_async");
    let args = serde_json::to_vec(&[&file]).expect("args");
    group.bench_function("floor_rust_submit", |b| {
        b.iter(|| {
            tokio.block_on(async {
                for promise in 0..IN_FLIGHT as u64 {
                    rt.submit(promise, id, &args, Vec::new());
                }
                let done = rt.run_until_idle().await;
                assert_eq!(done.len(), IN_FLIGHT);
                assert!(done.iter().all(|c| c.result.is_ok()));
            })
        })
    });

    let mut js = JsRuntime::with_runtime(fs_runtime(&root)).expect("the JS runtime starts");
    let source = format!(
        "globalThis.sizes = null; Promise.all(Array.from({{ length: {IN_FLIGHT} }}, \
         () => opkit.ops.op_stat_async({file:?}))).then((all) => {{ sizes = all; }});"
    );
    let check = format!("sizes.length === {IN_FLIGHT} && sizes.every((s) => s.size === 4096)");
    group.bench_function("opkit_js", |b| {
        b.iter(|| run_async(&tokio, &mut js, &source, &check))
    });
}

fn threaded<M: Measurement>(c: &mut Criterion<M>, suffix: &str) {
    let mut group = c.benchmark_group(format!("js_async_round_trip_1k{suffix}"));
    group.sample_size(20);
    async_round_trip(&mut group);
    group.finish();

    let mut group = c.benchmark_group(format!("js_stat_10k{suffix}"));
    group.sample_size(10);
    stat_10k(&mut group);
    group.finish();
}

fn wall(c: &mut Criterion) {
    js_round_trip(c);
    threaded(c, "");
}

fn cpu(c: &mut Criterion<CpuTime>) {
    threaded(c, "_cpu");
}

criterion_group!(wall_time, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(CpuTime);
    targets = cpu
}
criterion_main!(wall_time, cpu_time);
