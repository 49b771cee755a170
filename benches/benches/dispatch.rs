//! Sync dispatch: JSON argument bytes to JSON result bytes, against hand-written serde.

use criterion::{Criterion, criterion_group, criterion_main};
use opkit_benches::{add_by_hand, add_via_value, runtime, scale_by_hand};
use std::hint::black_box;

const ARGS: &[u8] = b"[20, 22]";
const STRUCT_ARGS: &[u8] = br#"[{"x": 1.5, "y": -2}, 3]"#;

fn dispatch(c: &mut Criterion) {
    let rt = runtime(Vec::new());
    let id = rt.op_id("op_add_sync").unwrap();
    let mut out = Vec::with_capacity(64);
    let mut group = c.benchmark_group("sync_dispatch");
    group.bench_function("floor_hand_serde", |b| {
        b.iter(|| {
            out.clear();
            add_by_hand(black_box(ARGS), &mut out).unwrap();
        })
    });
    group.bench_function("opkit_by_id", |b| {
        b.iter(|| {
            out.clear();
            rt.call_sync_into(black_box(id), black_box(ARGS), &mut [], &mut out)
                .unwrap();
        })
    });
    group.bench_function("opkit_by_name", |b| {
        b.iter(|| {
            out.clear();
            rt.call_sync_into(black_box("op_add_sync"), black_box(ARGS), &mut [], &mut out)
                .unwrap();
        })
    });
    group.bench_function("seed_value_baseline", |b| {
        b.iter(|| {
            out.clear();
            add_via_value(black_box(ARGS), &mut out).unwrap();
        })
    });
    assert_eq!(out, b"42");
    let scale = rt.op_id("op_scale_sync").unwrap();
    group.bench_function("floor_struct_hand_serde", |b| {
        b.iter(|| {
            out.clear();
            scale_by_hand(black_box(STRUCT_ARGS), &mut out).unwrap();
        })
    });
    group.bench_function("opkit_struct_by_id", |b| {
        b.iter(|| {
            out.clear();
            rt.call_sync_into(black_box(scale), black_box(STRUCT_ARGS), &mut [], &mut out)
                .unwrap();
        })
    });
    group.finish();
    assert_eq!(out, br#"{"x":4.5,"y":-6.0}"#);
}

criterion_group!(benches, dispatch);
criterion_main!(benches);
