//! Every part of a call is caught, not only the body: a panic in a user's
//! `Deserialize`, `Serialize`, `Clone` (of state) or `Into<OpError>` is a `Panic`
//! error naming the op, and a state borrowed elsewhere is `Busy`, never a panic.

use std::time::Duration;

use opkit::{ErrorClass, OpError, Runtime, extension, op};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Panics when decoded.
struct Trap;

impl<'de> Deserialize<'de> for Trap {
    fn deserialize<D: Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        panic!("Trap::deserialize");
    }
}

/// Panics when encoded.
struct Bomb;

impl Serialize for Bomb {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("Bomb::serialize");
    }
}

/// An error type whose conversion panics.
struct Grenade;

impl From<Grenade> for OpError {
    fn from(_: Grenade) -> Self {
        panic!("Grenade::into");
    }
}

/// A state value whose clone panics (async entries clone their `#[state]`).
struct Brittle;

impl Clone for Brittle {
    fn clone(&self) -> Self {
        panic!("Brittle::clone");
    }
}

#[derive(Clone, Default)]
struct Counter(u32);

#[op]
fn op_take(_trap: Trap) {}

#[op]
fn op_give() -> Bomb {
    Bomb
}

#[op]
fn op_fail() -> Result<(), Grenade> {
    Err(Grenade)
}

#[op]
fn op_touch(#[state] _brittle: &Brittle) {}

#[op]
fn op_count(#[state] counter: &Counter) -> u32 {
    counter.0
}

/// Keeps a borrow of its state across an await: a bug in a user's op, which other
/// calls must survive.
#[op]
#[allow(clippy::await_holding_refcell_ref)] // the bug this test survives
async fn op_hog(state: std::rc::Rc<std::cell::RefCell<opkit::OpState>>) {
    let _held = state.borrow_mut();
    tokio::time::sleep(Duration::from_secs(3600)).await;
}

extension!(
    traps,
    ops = [op_take, op_give, op_fail, op_touch, op_count, op_hog],
    state = |state| {
        state.put(Brittle);
        state.put(Counter(7));
    }
);

fn rt() -> Runtime {
    Runtime::new([traps()]).unwrap()
}

fn assert_panic(result: Result<Vec<u8>, OpError>, op: &str, what: &str) {
    let err = result.expect_err("a panic is an error");
    assert_eq!(err.class(), ErrorClass::Panic, "{err}");
    assert_eq!(err.op(), Some(op), "{err}");
    assert!(err.to_string().contains(what), "{err}");
}

#[test]
fn a_panic_in_any_part_of_a_sync_call_is_an_error() {
    let rt = rt();
    assert_panic(
        rt.call_sync("op_take_sync", b"[null]", &mut []),
        "op_take",
        "Trap::deserialize",
    );
    assert_panic(
        rt.call_sync("op_give_sync", b"[]", &mut []),
        "op_give",
        "Bomb::serialize",
    );
    assert_panic(
        rt.call_sync("op_fail_sync", b"[]", &mut []),
        "op_fail",
        "Grenade::into",
    );
    // The runtime goes on.
    assert_eq!(rt.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"7");
}

#[tokio::test(flavor = "current_thread")]
async fn a_panic_in_any_part_of_an_async_call_is_an_error() {
    let rt = rt();
    let cases = [
        (
            "op_take_async",
            &b"[null]"[..],
            "op_take",
            "Trap::deserialize",
        ),
        ("op_give_async", b"[]", "op_give", "Bomb::serialize"),
        ("op_fail_async", b"[]", "op_fail", "Grenade::into"),
        ("op_touch_async", b"[]", "op_touch", "Brittle::clone"),
    ];
    for (entry, args, op, what) in cases {
        let output = rt.call_async(entry, args, Vec::new()).await;
        assert_panic(output.result, op, what);
    }
    let output = rt.call_async("op_count_async", b"[]", Vec::new()).await;
    assert_eq!(output.result.unwrap(), b"7");
}

#[test]
fn a_call_while_the_host_holds_the_state_is_busy() {
    let rt = rt();
    let held = rt.state().borrow_mut();
    let err = rt.call_sync("op_count_sync", b"[]", &mut []).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Busy, "{err}");
    assert_eq!(err.op(), Some("op_count"), "{err}");
    drop(held);
    assert_eq!(rt.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"7");
}

#[tokio::test(flavor = "current_thread")]
async fn calls_after_an_op_that_keeps_a_borrow_across_an_await_are_busy() {
    let rt = rt();
    let mut hog = rt.call_async("op_hog_async", b"[]", Vec::new());
    // One poll takes the borrow and parks on the sleep.
    assert!(futures_poll_once(hog.as_mut()).await.is_none());
    let err = rt.call_sync("op_count_sync", b"[]", &mut []).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Busy, "{err}");
    let output = rt.call_async("op_count_async", b"[]", Vec::new()).await;
    let err = output.result.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Busy, "{err}");
    // Dropping the hog releases the borrow.
    drop(hog);
    assert_eq!(rt.call_sync("op_count_sync", b"[]", &mut []).unwrap(), b"7");
}

/// Polls `future` once: its output if it was ready.
async fn futures_poll_once<F: std::future::Future + Unpin>(future: F) -> Option<F::Output> {
    let mut future = future;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut future).poll(cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
