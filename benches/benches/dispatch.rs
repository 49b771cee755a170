//! Sync dispatch: JSON argument bytes to JSON result bytes, against hand-written serde.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use opkit_benches::{add_by_hand, add_named_by_hand, add_via_value, runtime, scale_by_hand};
use std::hint::black_box;

const ARGS: &[u8] = b"[20, 22]";
const NAMED_ARGS: &[u8] = br#"{"a": 20, "b": 22}"#;
const STRUCT_ARGS: &[u8] = br#"[{"x": 1.5, "y": -2}, 3]"#;
const SCALED: &[u8] = br#"{"x":4.5,"y":-6.0}"#;

/// One call per iteration, writing into `out` (cleared first, its capacity reused),
/// after one checked call: `call` must write `expected`.
fn bench_into(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    out: &mut Vec<u8>,
    expected: &[u8],
    mut call: impl FnMut(&mut Vec<u8>),
) {
    out.clear();
    call(out);
    assert_eq!(
        String::from_utf8_lossy(out),
        String::from_utf8_lossy(expected),
        "{name}"
    );
    group.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            call(out);
        })
    });
}

fn dispatch(c: &mut Criterion) {
    let rt = runtime(Vec::new());
    let add = rt.op_id("op_add_sync").unwrap();
    let scale = rt.op_id("op_scale_sync").unwrap();
    let mut out = Vec::with_capacity(64);
    let mut group = c.benchmark_group("sync_dispatch");
    bench_into(&mut group, "floor_hand_serde", &mut out, b"42", |out| {
        add_by_hand(black_box(ARGS), out).unwrap()
    });
    bench_into(&mut group, "opkit_by_id", &mut out, b"42", |out| {
        rt.call_sync_into(black_box(add), black_box(ARGS), &mut [], out)
            .unwrap()
    });
    bench_into(&mut group, "opkit_by_name", &mut out, b"42", |out| {
        rt.call_sync_into(black_box("op_add_sync"), black_box(ARGS), &mut [], out)
            .unwrap()
    });
    bench_into(&mut group, "seed_value_baseline", &mut out, b"42", |out| {
        add_via_value(black_box(ARGS), out).unwrap()
    });
    bench_into(
        &mut group,
        "floor_named_hand_serde",
        &mut out,
        b"42",
        |out| add_named_by_hand(black_box(NAMED_ARGS), out).unwrap(),
    );
    bench_into(&mut group, "opkit_named_by_id", &mut out, b"42", |out| {
        rt.call_sync_into(black_box(add), black_box(NAMED_ARGS), &mut [], out)
            .unwrap()
    });
    bench_into(
        &mut group,
        "floor_struct_hand_serde",
        &mut out,
        SCALED,
        |out| scale_by_hand(black_box(STRUCT_ARGS), out).unwrap(),
    );
    bench_into(&mut group, "opkit_struct_by_id", &mut out, SCALED, |out| {
        rt.call_sync_into(black_box(scale), black_box(STRUCT_ARGS), &mut [], out)
            .unwrap()
    });
    group.finish();
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
