//! Generic ops: `op_x::<A>` and `op_x::<B>` are two sets of entries with the same
//! names and different bodies, registered through `extension!(.., parameters = [..])`
//! and called by name; type parameters decoded from the arguments, const parameters,
//! where clauses and `async fn` ops included.

use std::marker::PhantomData;

use opkit::{ErrorClass, Extension, OpError, OpMode, Runtime, extension, op};
use opkit_tests::json;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

/// A unit of length, known to the ops only through this trait.
pub trait Unit: Send + Sync + 'static {
    const SYMBOL: &'static str;
    const METRES: f64;
}

pub struct Metre;
pub struct Foot;

impl Unit for Metre {
    const SYMBOL: &'static str = "m";
    const METRES: f64 = 1.0;
}

impl Unit for Foot {
    const SYMBOL: &'static str = "ft";
    const METRES: f64 = 0.3048;
}

/// How many decimals the host wants, kept in `OpState`; generic over the unit so that
/// each instance of the extension has its own.
pub struct Precision<U> {
    digits: usize,
    unit: PhantomData<fn() -> U>,
}

impl<U> Clone for Precision<U> {
    fn clone(&self) -> Self {
        Self {
            digits: self.digits,
            unit: PhantomData,
        }
    }
}

/// Writes a length in metres in the unit `U`.
#[op]
pub fn op_length<U: Unit>(#[state] precision: &Precision<U>, metres: f64) -> String {
    let digits = precision.digits;
    format!("{:.digits$} {}", metres / U::METRES, U::SYMBOL)
}

/// Parses a value of `T` from the arguments and answers it with its type's name: the
/// parameter is decoded as the instance's `T`.
#[op]
pub fn op_echo<T>(value: T, also: Option<T>) -> (String, Vec<T>)
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    let name = std::any::type_name::<T>().to_owned();
    (name, std::iter::once(value).chain(also).collect())
}

/// Repeats a word `N` times: a const parameter that no argument mentions.
#[op(sync)]
pub fn op_repeat<const N: usize>(word: &str) -> Result<String, OpError> {
    if word.is_empty() {
        return Err(OpError::type_error("nothing to repeat"));
    }
    Ok(word.repeat(N))
}

/// Converts after an await on the host thread.
#[op]
pub async fn op_length_later<U: Unit>(metres: f64) -> String {
    tokio::task::yield_now().await;
    format!("{} {}", metres / U::METRES, U::SYMBOL)
}

extension!(
    pub units,
    parameters = [U: Unit, const N: usize],
    ops = [op_length::<U>, op_length_later::<U>, op_repeat::<N>],
    options = { digits: usize },
    state = |state, options| {
        state.put(Precision::<U> {
            digits: options.digits,
            unit: PhantomData,
        });
    }
);

extension!(pub echo, parameters = [T: Serialize + DeserializeOwned + Send + 'static], ops = [op_echo::<T>]);

#[tokio::test]
async fn each_instance_runs_its_own_body() {
    let metric = Runtime::new([units::<Metre, 2>(1)]).unwrap();
    let imperial = Runtime::new([units::<Foot, 3>(2)]).unwrap();
    let call = |rt: &Runtime, entry: &str, args: &str| {
        json(&rt.call_sync(entry, args.as_bytes(), &mut []).unwrap())
    };
    assert_eq!(call(&metric, "op_length_sync", "[3.048]"), json!("3.0 m"));
    assert_eq!(
        call(&imperial, "op_length_sync", "[3.048]"),
        json!("10.00 ft")
    );
    assert_eq!(call(&metric, "op_repeat_sync", r#"["ab"]"#), json!("abab"));
    assert_eq!(
        call(&imperial, "op_repeat_sync", r#"["ab"]"#),
        json!("ababab")
    );
    let err = metric
        .call_sync("op_repeat_sync", br#"[""]"#, &mut [])
        .unwrap_err();
    assert_eq!(err.to_string(), "TypeError: op_repeat: nothing to repeat");

    for (rt, blocking, later) in [
        (&metric, "3.0 m", "3.048 m"),
        (&imperial, "10.00 ft", "10 ft"),
    ] {
        let out = rt.call_async("op_length_async", b"[3.048]", vec![]).await;
        assert_eq!(json(&out.result.unwrap()), json!(blocking));
        let out = rt
            .call_async("op_length_later_async", b"[3.048]", vec![])
            .await;
        assert_eq!(json(&out.result.unwrap()), json!(later));
    }
}

#[tokio::test]
async fn a_type_parameter_is_decoded_as_the_instance_type() {
    let numbers = Runtime::new([echo::<u8>()]).unwrap();
    let words = Runtime::new([echo::<String>()]).unwrap();
    let out = numbers
        .call_sync("op_echo_sync", b"[7, 8]", &mut [])
        .unwrap();
    assert_eq!(json(&out), json!(["u8", [7, 8]]));
    let out = words
        .call_async("op_echo_async", br#"{"value": "a"}"#, vec![])
        .await;
    assert_eq!(
        json(&out.result.unwrap()),
        json!(["alloc::string::String", ["a"]])
    );
    // What one instance takes, the other refuses, naming the parameter.
    let err = numbers
        .call_sync("op_echo_sync", br#"["a"]"#, &mut [])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TypeError: op_echo: invalid argument 'value' (T): invalid type: string \"a\", expected u8"
    );
    let err = numbers
        .call_sync("op_echo_sync", b"[300]", &mut [])
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::TypeError);
    assert!(words.call_sync("op_echo_sync", b"[7]", &mut []).is_err());
    // A type parameter is not an `Option` by its spelling: `value` may not be left out,
    // even in an instance where `T` is one (`also`, written `Option<T>`, may).
    let maybe = Runtime::new([echo::<Option<u8>>()]).unwrap();
    let err = maybe.call_sync("op_echo_sync", b"[]", &mut []).unwrap_err();
    assert_eq!(err.class(), ErrorClass::TypeError);
    let out = maybe.call_sync("op_echo_sync", b"[null]", &mut []).unwrap();
    assert_eq!(json(&out), json!(["core::option::Option<u8>", [null]]));
}

#[test]
fn instances_share_metadata_and_entry_names() {
    let metre = op_length::<Metre>::DECLS;
    let foot = op_length::<Foot>::DECLS;
    let entries = |decls: &[opkit::OpDecl]| {
        decls
            .iter()
            .map(|decl| (decl.entry, decl.mode))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entries(metre),
        [
            ("op_length_sync", OpMode::Sync),
            ("op_length_async", OpMode::Blocking)
        ]
    );
    assert_eq!(entries(metre), entries(foot));
    assert_eq!(op_length::<Metre>::META, op_length::<Foot>::META);
    let meta = op_length::<Metre>::META;
    assert_eq!(meta.name, "op_length");
    assert_eq!(meta.params[0].ty, "&Precision<U>");
    assert_eq!(op_repeat::<4>::DECLS.len(), 1);
    assert_eq!(
        entries(op_length_later::<Foot>::DECLS),
        [("op_length_later_async", OpMode::Async)]
    );
    // Two instances in one runtime are two ops of one name.
    let metric = Extension::new("metric", metre.iter().copied());
    let imperial = Extension::new("imperial", foot.iter().copied());
    let Err(err) = Runtime::new([metric, imperial]) else {
        panic!("two instances of one op registered together");
    };
    assert_eq!(
        err.to_string(),
        "`op_length_sync` is registered by both extension `metric` and extension `imperial`"
    );
}
