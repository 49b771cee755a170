//! What the benchmarks share: the ops under test and a runtime with them.

#![forbid(unsafe_code)]

use opkit::{Extension, Runtime, op};

/// Adds two numbers: the op of the dispatch benchmarks.
#[op]
pub fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

/// `op_add`'s arguments by name, as a hand-written decoder would declare them.
#[derive(serde::Deserialize)]
pub struct AddArgs {
    pub a: i64,
    pub b: i64,
}

/// The floor of named arguments: hand-written serde of a struct, no dispatch.
#[inline]
pub fn add_named_by_hand(args: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let AddArgs { a, b } = serde_json::from_slice(args)?;
    serde_json::to_writer(out, &(a + b))
}

/// A point: a struct argument, which no hand-written reader takes.
#[derive(Clone, Copy, serde::Deserialize, serde::Serialize)]
pub struct Point {
    pub x: f64,
    pub y: f64,
}

/// Scales a point: the dispatch benchmark of arguments that go through serde.
#[op]
pub fn op_scale(point: Point, k: f64) -> Point {
    Point {
        x: point.x * k,
        y: point.y * k,
    }
}

/// The floor of `op_scale`: hand-written serde, no dispatch.
#[inline]
pub fn scale_by_hand(args: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let (point, k): (Point, f64) = serde_json::from_slice(args)?;
    serde_json::to_writer(out, &op_scale(point, k))
}

/// Does nothing: the op of the async-hop benchmarks.
#[op]
pub fn op_nothing() {}

/// The same sum, the way the seed did it: arguments through `serde_json::Value`.
pub fn add_via_value(args: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(args)?;
    let (a, b): (i64, i64) = serde_json::from_value(value)?;
    let result = serde_json::to_value(a + b)?;
    serde_json::to_writer(out, &result)
}

/// The floor: hand-written serde, no dispatch.
#[inline]
pub fn add_by_hand(args: &[u8], out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let (a, b): (i64, i64) = serde_json::from_slice(args)?;
    serde_json::to_writer(out, &(a + b))
}

/// The floor of many blocking calls in flight: `count` `spawn_blocking` no-ops in a
/// `JoinSet`, all awaited.
pub async fn joinset_noops(count: u64) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..count {
        set.spawn_blocking(|| ());
    }
    let mut done = 0;
    while set.join_next().await.is_some() {
        done += 1;
    }
    assert_eq!(done, count);
}

/// A runtime with the benchmark ops.
pub fn runtime(extra: Vec<Extension>) -> Runtime {
    let ext = Extension::new(
        "bench",
        op_add::DECLS
            .iter()
            .chain(op_scale::DECLS)
            .chain(op_nothing::DECLS)
            .copied(),
    );
    match Runtime::new(std::iter::once(ext).chain(extra)) {
        Ok(rt) => rt,
        Err(err) => panic!("the benchmark ops register: {err}"),
    }
}
