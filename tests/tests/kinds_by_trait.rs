//! Return kinds and optional arguments are the compiler's to decide, on the concrete
//! type: an alias, a renamed import or a macro-made type gets the kind of what it
//! stands for, and a name that merely looks like a kind gets none. A `Rid<T>` inside
//! a result adds its resource to the caller's table; an optional `#[resource]` takes a
//! left-out rid as `None` and a given one as a cancel source.

use std::cell::Cell;
use std::time::Duration;

use opkit::{
    ByteBuf as Bytes, ErrorClass, NewResource as Fresh, OpError, Resource, Rid, Runtime, extension,
    op,
};
use serde::{Serialize, Serializer};

/// A user error: serializable, and convertible into an `OpError` with a class.
#[derive(Debug, Serialize)]
struct ApiError(String);

impl From<ApiError> for OpError {
    fn from(err: ApiError) -> Self {
        OpError::not_found(err.0)
    }
}

type Fallible<T> = Result<T, ApiError>;
type Maybe<T> = Option<T>;

/// Serializable, and named like a fallible return: it is a value.
#[derive(Serialize)]
struct LookupResult {
    found: bool,
}

struct Token(u32);
impl Resource for Token {}

#[op]
fn op_find(key: String) -> Fallible<u32> {
    match key.as_str() {
        "one" => Ok(1),
        _ => Err(ApiError(format!("no key {key}"))),
    }
}

#[op]
fn op_lookup(key: String) -> LookupResult {
    LookupResult {
        found: key == "one",
    }
}

#[op]
fn op_pad(text: String, width: Maybe<u32>) -> String {
    format!("{text:>width$}", width = width.unwrap_or(0) as usize)
}

#[op]
fn op_bytes(len: u8) -> Fallible<Bytes> {
    Ok(Bytes((0..len).collect()))
}

#[op]
fn op_fresh(value: u32) -> Fresh<Token> {
    Fresh(Token(value))
}

macro_rules! made_by_macro {
    ($name:ident, $ret:ty, $body:expr) => {
        #[op]
        fn $name() -> $ret {
            $body
        }
    };
}

made_by_macro!(
    op_macro_fallible,
    Fallible<u8>,
    Err(ApiError("made".into()))
);
made_by_macro!(op_macro_bytes, Bytes, Bytes(vec![7]));

/// A result holding two new resources beside a value.
#[derive(Serialize)]
struct Pair {
    left: Rid<Token>,
    right: Rid<Token>,
    note: &'static str,
}

#[op]
fn op_pair(a: u32, b: u32) -> Pair {
    Pair {
        left: Rid::new(Token(a)),
        right: Rid::new(Token(b)),
        note: "two",
    }
}

/// A field that fails to serialize after a `Rid` was added.
struct Broken;

impl Serialize for Broken {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom("broken on purpose"))
    }
}

#[derive(Serialize)]
struct HalfDone {
    rid: Rid<Token>,
    rest: Broken,
}

#[op]
fn op_half_done() -> HalfDone {
    HalfDone {
        rid: Rid::new(Token(0)),
        rest: Broken,
    }
}

#[op]
fn op_rid_failing(fail: bool) -> Result<Pair, ApiError> {
    let pair = op_pair(1, 2);
    if fail {
        return Err(ApiError("failed after making the pair".into()));
    }
    Ok(pair)
}

thread_local! {
    static DROPPED: Cell<u32> = const { Cell::new(0) };
}

/// Counts its drops, to see a resource go.
struct Counted;
impl Resource for Counted {}
impl Drop for Counted {
    fn drop(&mut self) {
        DROPPED.set(DROPPED.get() + 1);
    }
}

#[op(sync)]
fn op_counted(fail: bool) -> Result<Rid<Counted>, ApiError> {
    let rid = Rid::new(Counted);
    if fail {
        return Err(ApiError("no".into()));
    }
    Ok(rid)
}

/// Adds two tokens, the second optional.
#[op]
fn op_sum(#[resource] a: &Token, #[resource] b: Option<&Token>) -> u32 {
    a.0 + b.map_or(0, |b| b.0)
}

/// Waits until it is cancelled by closing the optional `cancel` rid.
#[op]
async fn op_wait(#[resource] cancel: Option<std::sync::Arc<Token>>) -> u32 {
    let _held = cancel;
    std::future::pending::<()>().await;
    0
}

extension!(
    kinds,
    ops = [
        op_find,
        op_lookup,
        op_pad,
        op_bytes,
        op_fresh,
        op_macro_fallible,
        op_macro_bytes,
        op_pair,
        op_half_done,
        op_rid_failing,
        op_counted,
        op_sum,
        op_wait,
    ]
);

fn runtime() -> Runtime {
    Runtime::new([kinds()]).unwrap()
}

fn sync(rt: &Runtime, entry: &str, args: &str) -> Result<String, OpError> {
    rt.call_sync(entry, args.as_bytes(), &mut [])
        .map(|out| String::from_utf8(out).unwrap())
}

fn open_rids(rt: &Runtime) -> usize {
    rt.state().borrow().resource_table.len()
}

#[test]
fn a_result_alias_answers_its_errors_as_errors() {
    let rt = runtime();
    assert_eq!(sync(&rt, "op_find_sync", r#"["one"]"#).unwrap(), "1");
    let err = sync(&rt, "op_find_sync", r#"["two"]"#).unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert_eq!(err.to_string(), "NotFound: op_find: no key two");
    let err = sync(&rt, "op_macro_fallible_sync", "[]").unwrap_err();
    assert_eq!(err.to_string(), "NotFound: op_macro_fallible: made");
}

#[tokio::test(flavor = "current_thread")]
async fn a_result_alias_fails_from_the_async_entry_too() {
    let rt = runtime();
    let out = rt.call_async("op_find_async", br#"["two"]"#, vec![]).await;
    assert_eq!(out.result.unwrap_err().class(), ErrorClass::NotFound);
}

#[test]
fn a_struct_named_like_a_result_is_a_value() {
    let rt = runtime();
    assert_eq!(
        sync(&rt, "op_lookup_sync", r#"["one"]"#).unwrap(),
        r#"{"found":true}"#
    );
}

#[test]
fn an_option_alias_may_be_left_out() {
    let rt = runtime();
    assert_eq!(sync(&rt, "op_pad_sync", r#"["ab"]"#).unwrap(), r#""ab""#);
    assert_eq!(
        sync(&rt, "op_pad_sync", r#"["ab", 4]"#).unwrap(),
        r#""  ab""#
    );
    assert!(op_pad::META.params[1].optional);
    assert!(!op_pad::META.params[0].optional);
    let err = sync(&rt, "op_pad_sync", "[]").unwrap_err();
    assert_eq!(
        err.to_string(),
        "TypeError: op_pad: missing argument 'text' (String)"
    );
}

#[test]
fn renamed_and_aliased_byte_and_resource_returns_keep_their_kind() {
    let rt = runtime();
    assert!(op_bytes::META.returns_bytes);
    assert!(op_macro_bytes::META.returns_bytes);
    assert!(!op_lookup::META.returns_bytes);
    assert_eq!(
        rt.call_sync("op_bytes_sync", b"[3]", &mut []).unwrap(),
        [0, 1, 2]
    );
    assert_eq!(
        rt.call_sync("op_macro_bytes_sync", b"[]", &mut []).unwrap(),
        [7]
    );
    let rid = sync(&rt, "op_fresh_sync", "[5]").unwrap();
    assert_eq!(open_rids(&rt), 1);
    assert_eq!(sync(&rt, "op_sum_sync", &format!("[{rid}]")).unwrap(), "5");
}

#[test]
fn rids_inside_a_result_are_added_to_the_table() {
    let rt = runtime();
    let out = sync(&rt, "op_pair_sync", "[3, 4]").unwrap();
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["note"], "two");
    let (left, right) = (
        value["left"].as_u64().unwrap(),
        value["right"].as_u64().unwrap(),
    );
    assert_ne!(left, right);
    assert_eq!(open_rids(&rt), 2);
    let sum = sync(&rt, "op_sum_sync", &format!("[{left}, {right}]")).unwrap();
    assert_eq!(sum, "7");
}

#[tokio::test(flavor = "current_thread")]
async fn rids_inside_a_result_are_added_from_the_blocking_entry() {
    let rt = runtime();
    let out = rt.call_async("op_pair_async", b"[10, 20]", vec![]).await;
    let value: serde_json::Value = serde_json::from_slice(&out.result.unwrap()).unwrap();
    let args = format!("[{}, {}]", value["left"], value["right"]);
    assert_eq!(sync(&rt, "op_sum_sync", &args).unwrap(), "30");
}

#[test]
fn a_result_that_fails_to_serialize_leaves_no_resource_behind() {
    let rt = runtime();
    let err = sync(&rt, "op_half_done_sync", "[]").unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidData);
    assert!(err.to_string().contains("broken on purpose"), "{err}");
    assert_eq!(open_rids(&rt), 0);
}

#[test]
fn a_rid_made_by_a_failing_op_is_dropped_not_added() {
    let rt = runtime();
    let before = DROPPED.get();
    let err = sync(&rt, "op_counted_sync", "[true]").unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert_eq!(DROPPED.get(), before + 1);
    assert_eq!(open_rids(&rt), 0);
    let err = sync(&rt, "op_rid_failing_sync", "[true]").unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound);
    assert_eq!(open_rids(&rt), 0);
    let rid = sync(&rt, "op_counted_sync", "[false]").unwrap();
    assert_eq!(open_rids(&rt), 1);
    assert_eq!(DROPPED.get(), before + 1);
    sync(&rt, "op_close_sync", &format!("[{rid}]")).unwrap();
    assert_eq!(DROPPED.get(), before + 2);
}

#[test]
fn a_full_table_is_resource_exhausted_and_rolls_back() {
    let rt = runtime();
    rt.state().borrow_mut().resource_table.set_limit(Some(1));
    let err = sync(&rt, "op_pair_sync", "[1, 2]").unwrap_err();
    assert_eq!(err.class(), ErrorClass::ResourceExhausted, "{err}");
    assert!(
        err.to_string().starts_with("ResourceExhausted: op_pair:"),
        "{err}"
    );
    // The first rid was added before the second failed: it is closed again.
    assert_eq!(open_rids(&rt), 0);
}

#[test]
fn a_rid_outside_an_op_result_does_not_serialize() {
    let err = serde_json::to_string(&Rid::new(Token(1))).unwrap_err();
    assert!(
        err.to_string().contains("only as part of an op's result"),
        "{err}"
    );
}

#[test]
fn an_optional_resource_may_be_left_out_or_null_but_not_wrong() {
    let rt = runtime();
    let rid = sync(&rt, "op_fresh_sync", "[2]").unwrap();
    assert_eq!(sync(&rt, "op_sum_sync", &format!("[{rid}]")).unwrap(), "2");
    assert_eq!(
        sync(&rt, "op_sum_sync", &format!("[{rid}, null]")).unwrap(),
        "2"
    );
    assert_eq!(
        sync(
            &rt,
            "op_sum_sync",
            &format!(r#"{{"a": {rid}, "b": {rid}}}"#)
        )
        .unwrap(),
        "4"
    );
    let err = sync(&rt, "op_sum_sync", &format!("[{rid}, 99]")).unwrap_err();
    assert_eq!(err.class(), ErrorClass::BadResource);
    assert!(err.to_string().contains("argument 'b'"), "{err}");
    assert!(op_sum::META.params[1].optional);
}

#[tokio::test(flavor = "current_thread")]
async fn closing_an_optional_resource_cancels_the_op() {
    let rt = runtime();
    let rid = sync(&rt, "op_fresh_sync", "[0]").unwrap();
    let call = rt.call_async("op_wait_async", format!("[{rid}]").as_bytes(), vec![]);
    let close = async {
        tokio::task::yield_now().await;
        sync(&rt, "op_close_sync", &format!("[{rid}]")).unwrap();
    };
    let (out, ()) = tokio::join!(call, close);
    assert_eq!(out.result.unwrap_err().class(), ErrorClass::Interrupted);
    // Without the rid, nothing can cancel it: it is still pending after a while.
    let pending = rt.call_async("op_wait_async", b"[]", vec![]);
    let timed = tokio::time::timeout(Duration::from_millis(50), pending).await;
    assert!(timed.is_err());
}
