//! A JS → op → JS round trip: `opkit.ops.op_add_sync` called from a QuickJS loop,
//! against a plain rquickjs native function doing the same addition.

use criterion::{Criterion, criterion_group, criterion_main};
use opkit_benches::op_add;
use rquickjs::{Context, Function, Runtime};

const CALLS: usize = 1000;

fn script(f: &str) -> String {
    format!("(() => {{ let s = 0; for (let i = 0; i < {CALLS}; i++) s = {f}(s, 1); return s; }})()")
}

fn js_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("js_round_trip_1k");

    let ops = opkit_js::JsRuntime::new([opkit::Extension::new(
        "bench",
        op_add::DECLS.iter().copied(),
    )])
    .expect("the JS runtime starts");
    let opkit_script = script("opkit.ops.op_add_sync");
    assert_eq!(ops.eval_script(&opkit_script), Ok(Some(CALLS.to_string())));
    group.bench_function("opkit_op_add_sync", |b| {
        b.iter(|| ops.eval_script(&opkit_script))
    });

    let engine = Runtime::new().expect("engine");
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

criterion_group!(benches, js_round_trip);
criterion_main!(benches);
