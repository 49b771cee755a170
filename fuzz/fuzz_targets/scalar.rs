//! The scalar readers against `serde_json`.
//!
//! Property: for any bytes, whatever a reader of `opkit::__private::Scalar` takes,
//! `serde_json` reads the same way: the same value, and the value ends at the same
//! byte. The reference is `serde_json`'s stream deserializer (the one that reads an
//! argument when a reader declines, so a reader that took something serde_json would
//! read otherwise would change what an op sees), and, independently of where the
//! stream says the value ends, `serde_json::from_slice` of exactly the bytes the
//! reader took.
//!
//! A reader may decline anything (it is a fast path); that it takes the plain forms it
//! is there for is the unit tests' business (`core/src/scalar.rs`).

#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use opkit::__private::Scalar;
use serde::de::DeserializeOwned;

fuzz_target!(|json: &[u8]| {
    agree::<i8>(json);
    agree::<i16>(json);
    agree::<i32>(json);
    agree::<i64>(json);
    agree::<i128>(json);
    agree::<isize>(json);
    agree::<u8>(json);
    agree::<u16>(json);
    agree::<u32>(json);
    agree::<u64>(json);
    agree::<u128>(json);
    agree::<usize>(json);
    agree::<bool>(json);
    agree::<String>(json);
    agree::<Option<u8>>(json);
    agree::<Option<i64>>(json);
    agree::<Option<u128>>(json);
    agree::<Option<bool>>(json);
    agree::<Option<String>>(json);
    agree::<Option<Option<u32>>>(json);
    // A rid is a `u32`; an optional resource an `Option<u32>`.
    agree::<opkit::ResourceId>(json);
    agree::<Option<opkit::ResourceId>>(json);
});

fn agree<T: Scalar + DeserializeOwned + PartialEq + Debug>(json: &[u8]) {
    let Some((value, used)) = T::read(json) else {
        return;
    };
    let text = String::from_utf8_lossy(json);
    let mut stream = serde_json::Deserializer::from_slice(json).into_iter::<T>();
    match stream.next() {
        Some(Ok(reference)) => {
            assert_eq!(value, reference, "{}: value of {text:?}", type_name::<T>());
            assert_eq!(
                used,
                stream.byte_offset(),
                "{}: end of {text:?}",
                type_name::<T>()
            );
        }
        other => panic!(
            "{}: the reader took {text:?} as {value:?} ({used} bytes), serde_json: {other:?}",
            type_name::<T>()
        ),
    }
    // What the reader took is a JSON document of that value on its own.
    let alone: T = serde_json::from_slice(&json[..used]).unwrap_or_else(|err| {
        panic!(
            "{}: the {used} bytes taken of {text:?} are no value alone: {err}",
            type_name::<T>()
        )
    });
    assert_eq!(value, alone, "{}: {text:?} taken alone", type_name::<T>());
}

fn type_name<T>() -> &'static str {
    std::any::type_name::<T>()
}
