//! Hand-written readers for the plain forms of scalar arguments.
//!
//! Most op arguments are integers, booleans and strings: rids, lengths, offsets,
//! modes, flags, paths. Handing each of them to a `serde_json` stream deserializer
//! costs more than reading it. For a parameter whose type is one of these, `#[op]`'s
//! expansion resolves to the reader here (see [`Arg`]), which takes the plain form
//! (`42`, `-7`, `true`, `"a/b.txt"`, `null` for an `Option`). Anything else (a
//! fraction, an exponent, an escape, a number out of range, a leading zero, `-0`,
//! malformed input) is left to `serde_json`, so the result, and every error, is
//! exactly what `serde_json` would give.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::args::{ArgError, deserialize};
use crate::lex::{ends_value, plain_str};

/// An argument type with a reader for its plain JSON form.
pub trait Scalar: DeserializeOwned {
    /// Reads the plain form at the start of `json`: the value and the bytes it took,
    /// or `None` to let `serde_json` decide.
    fn read(json: &[u8]) -> Option<(Self, usize)>;
}

/// Picks the reader of an argument's type where `#[op]` expands, by autoref:
/// `(&&Arg::<T>::NEW).__opkit_read(json)` resolves to [`ReadScalar`] when `T: Scalar`, and
/// otherwise to [`ReadSerde`], whose `T: DeserializeOwned` bound sits on the method so
/// that a type that is not `Deserialize` gets a plain unmet-bound error. The choice is
/// made on the type where the op is written, whatever name or alias it has; a type
/// parameter of a generic op is read by serde (its bounds say `DeserializeOwned`, not
/// `Scalar`).
pub struct Arg<T>(PhantomData<fn() -> T>);

impl<T> Arg<T> {
    /// The one value, to call `read` on.
    pub const NEW: Self = Arg(PhantomData);
}

/// The reader of a `Scalar` type; see [`Arg`].
pub trait ReadScalar<T> {
    /// Reads the plain form by hand, anything else through `serde_json`.
    fn __opkit_read(&self, json: &[u8]) -> Result<(T, usize), ArgError>;
}

impl<T: Scalar> ReadScalar<T> for &Arg<T> {
    #[inline]
    fn __opkit_read(&self, json: &[u8]) -> Result<(T, usize), ArgError> {
        match T::read(json) {
            Some(read) => Ok(read),
            None => deserialize(json),
        }
    }
}

/// The reader of any other type, through `serde_json`; see [`Arg`].
pub trait ReadSerde<T> {
    /// Reads the value through `serde_json`.
    fn __opkit_read(&self, json: &[u8]) -> Result<(T, usize), ArgError>
    where
        T: DeserializeOwned;
}

impl<T> ReadSerde<T> for Arg<T> {
    #[inline]
    fn __opkit_read(&self, json: &[u8]) -> Result<(T, usize), ArgError>
    where
        T: DeserializeOwned,
    {
        deserialize(json)
    }
}

/// An integer without fraction or exponent, of at most 18 digits (so that it cannot
/// overflow): whether it is negative, its magnitude and its length.
#[inline]
fn read_integer(json: &[u8]) -> Option<(bool, u64, usize)> {
    let negative = json.first() == Some(&b'-');
    let start = usize::from(negative);
    let mut magnitude = 0u64;
    let mut at = start;
    while let Some(digit @ b'0'..=b'9') = json.get(at) {
        // Wrapping: past 18 digits the value is dropped anyway.
        magnitude = magnitude
            .wrapping_mul(10)
            .wrapping_add(u64::from(digit - b'0'));
        at += 1;
    }
    let digits = at - start;
    let plain = (1..=18).contains(&digits)
        // A leading zero is not JSON, and serde_json reads `-0` as a float.
        && (json[start] != b'0' || (digits == 1 && !negative))
        && ends_value(json, at);
    plain.then_some((negative, magnitude, at))
}

macro_rules! signed {
    ($($ty:ty)*) => {$(
        impl Scalar for $ty {
            #[inline]
            fn read(json: &[u8]) -> Option<(Self, usize)> {
                let (negative, magnitude, used) = read_integer(json)?;
                // At most 18 digits: the magnitude fits an i64 either way.
                let wide = magnitude as i64;
                let value = if negative { -wide } else { wide };
                Some((<$ty>::try_from(value).ok()?, used))
            }
        }
    )*};
}

macro_rules! unsigned {
    ($($ty:ty)*) => {$(
        impl Scalar for $ty {
            #[inline]
            fn read(json: &[u8]) -> Option<(Self, usize)> {
                match read_integer(json)? {
                    (false, magnitude, used) => Some((<$ty>::try_from(magnitude).ok()?, used)),
                    (true, ..) => None,
                }
            }
        }
    )*};
}

signed!(i8 i16 i32 i64 i128 isize);
unsigned!(u8 u16 u32 u64 u128 usize);

impl Scalar for bool {
    #[inline]
    fn read(json: &[u8]) -> Option<(Self, usize)> {
        let (value, used) = if json.starts_with(b"true") {
            (true, 4)
        } else if json.starts_with(b"false") {
            (false, 5)
        } else {
            return None;
        };
        ends_value(json, used).then_some((value, used))
    }
}

impl Scalar for String {
    #[inline]
    fn read(json: &[u8]) -> Option<(Self, usize)> {
        plain_str(json).map(|(text, used)| (text.to_owned(), used))
    }
}

impl<T: Scalar> Scalar for Option<T> {
    #[inline]
    fn read(json: &[u8]) -> Option<(Self, usize)> {
        if json.starts_with(b"null") {
            return ends_value(json, 4).then_some((None, 4));
        }
        T::read(json).map(|(value, used)| (Some(value), used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json's stream deserializer makes of `json`, as the readers must.
    fn serde<T: DeserializeOwned>(json: &[u8]) -> Option<(T, usize)> {
        deserialize::<T>(json).ok()
    }

    /// Every input a reader takes, it takes as serde_json does; and it takes the plain
    /// forms it is there for.
    fn agrees<T: Scalar + PartialEq + std::fmt::Debug>(json: &str) -> bool {
        let read = T::read(json.as_bytes());
        if let Some(read) = &read {
            assert_eq!(Some(read), serde::<T>(json.as_bytes()).as_ref(), "{json:?}");
        }
        read.is_some()
    }

    /// Every input up to a length over an alphabet: whatever a reader takes, it takes
    /// as serde_json does. Five bytes over the characters that make numbers and
    /// literals, and four over a wider set with escapes, control bytes, DEL and UTF-8.
    #[test]
    fn short_inputs_agree_with_serde_json() {
        let narrow = sweep(b"019-.e\"\\, ]truefalsn", 5);
        let wide = sweep(b"0129-+.eE\"\\, ]tfalsnru\t\x01\x7f\xc3\xa9", 4);
        // The sweeps exercise the readers, not only serde_json.
        assert!(narrow > 10_000 && wide > 10_000, "{narrow} {wide}");
    }

    /// How many times a reader took an input.
    fn sweep(alphabet: &[u8], max_len: u32) -> usize {
        let mut input = Vec::new();
        let mut read = 0;
        for len in 1..=max_len {
            for mut code in 0..alphabet.len().pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(alphabet[code % alphabet.len()]);
                    code /= alphabet.len();
                }
                read += usize::from(same::<i64>(&input))
                    + usize::from(same::<u8>(&input))
                    + usize::from(same::<i8>(&input))
                    + usize::from(same::<i128>(&input))
                    + usize::from(same::<u128>(&input))
                    + usize::from(same::<bool>(&input))
                    + usize::from(same::<String>(&input))
                    + usize::from(same::<Option<u32>>(&input));
            }
        }
        read
    }

    fn same<T: Scalar + PartialEq + std::fmt::Debug>(json: &[u8]) -> bool {
        let Some(read) = T::read(json) else {
            return false;
        };
        assert_eq!(
            Some(read),
            serde::<T>(json),
            "{:?}",
            String::from_utf8_lossy(json)
        );
        true
    }

    #[test]
    fn integers_in_their_plain_form_are_read() {
        for json in ["0", "7", "-7", "42,", "42]", "42 ", "123456789012345678"] {
            assert!(agrees::<i64>(json), "{json:?}");
        }
        for json in ["0", "255", "255}"] {
            assert!(agrees::<u8>(json), "{json:?}");
        }
        assert!(agrees::<i8>("-128"));
        assert!(agrees::<u64>("18"));
    }

    #[test]
    fn everything_else_is_left_to_serde_json() {
        let left = [
            "",
            "-",
            "-0",
            "01",
            "-01",
            "1.5",
            "1e3",
            "1E3",
            "12a",
            "\"1\"",
            "true",
            // 19 digits and more: serde_json checks the range.
            "1234567890123456789",
            "99999999999999999999",
        ];
        for json in left {
            assert!(!agrees::<i64>(json), "{json:?}");
        }
        for json in ["256", "-1"] {
            assert!(!agrees::<u8>(json), "{json:?}");
        }
        assert!(!agrees::<i8>("-129"));
    }

    #[test]
    fn booleans_strings_and_options() {
        for json in ["true", "false,", "false]"] {
            assert!(agrees::<bool>(json), "{json:?}");
        }
        for json in ["tru", "truex", "True", "1"] {
            assert!(!agrees::<bool>(json), "{json:?}");
        }
        for json in [r#""""#, r#""a/b.txt""#, r#""é"x"#, r#""a",1"#] {
            assert!(agrees::<String>(json), "{json:?}");
        }
        for json in [r#""a\"b""#, r#""a\nb""#, "\"a\tb\"", r#""open"#, "'a'"] {
            assert!(!agrees::<String>(json), "{json:?}");
        }
        assert!(String::read(b"\"\xff\"").is_none(), "not UTF-8");
        assert!(agrees::<String>("\"\u{7f}\""));
        for json in ["null", "null,", "3"] {
            assert!(agrees::<Option<u32>>(json), "{json:?}");
        }
        for json in ["nul", "nullx", "\"3\""] {
            assert!(!agrees::<Option<u32>>(json), "{json:?}");
        }
    }
}
