// Bounds in a `where` clause, on a type parameter and on a type made of it, and a type
// parameter used only in the return type.
#![deny(warnings)]

use std::collections::BTreeMap;
use std::fmt::Display;

use opkit::{OpError, op};
use serde::Serialize;

/// Counts the words of a text into a map keyed by `K`, parsed from each word.
#[op]
pub fn op_tally<K>(text: &str) -> Result<BTreeMap<K, usize>, OpError>
where
    K: std::str::FromStr + Ord + Send + 'static,
    K::Err: Display,
    BTreeMap<K, usize>: Serialize,
{
    let mut tally = BTreeMap::new();
    for word in text.split_whitespace() {
        let key = word
            .parse::<K>()
            .map_err(|err| OpError::type_error(format!("{word:?}: {err}")))?;
        *tally.entry(key).or_insert(0) += 1;
    }
    Ok(tally)
}

/// Answers the default value of `T`.
#[op(sync)]
pub fn op_default<T>() -> T
where
    T: Default + Serialize,
{
    T::default()
}

fn main() {
    let decls = op_tally::<u8>::DECLS.iter().chain(op_default::<Vec<u8>>::DECLS);
    let rt = opkit::Runtime::new([opkit::Extension::new("where", decls.copied())]).unwrap();
    let out = rt.call_sync("op_tally_sync", br#"["3 1 3"]"#, &mut []).unwrap();
    assert_eq!(out, br#"{"1":1,"3":2}"#);
    let err = rt.call_sync("op_tally_sync", br#"["3 x"]"#, &mut []).unwrap_err();
    assert_eq!(err.to_string(), "TypeError: op_tally: \"x\": invalid digit found in string");
    assert_eq!(rt.call_sync("op_default_sync", b"[]", &mut []).unwrap(), b"[]");
}
