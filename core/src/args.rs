//! Decoding an op's JSON arguments, positional or named, straight from the bytes.
//!
//! `#[op]` gives every op a tuple of `Option` slots, one per JSON argument. A serde
//! visitor fills the slots from an array (by position) or an object (by name); no
//! `serde_json::Value` is built on the way. Then the generated code takes each slot,
//! turning an empty one into `None` for an `Option` parameter or a "missing argument"
//! error otherwise.

use std::cell::Cell;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess};

use crate::{OpError, OpMeta, ParamMeta};

/// The `Option` slots that an op's JSON arguments are decoded into: a struct that
/// `#[op]` generates per op, so that a type error in a parameter is reported at that
/// parameter's type.
pub trait ArgSlots {
    /// How many JSON arguments the op takes.
    const LEN: usize;

    /// All slots empty.
    fn empty() -> Self;

    /// Decodes the argument at `index` (below `LEN`) into its slot.
    fn fill<'de, D: de::Deserializer<'de>>(&mut self, index: usize, de: D) -> Result<(), D::Error>;
}

/// Decodes one argument; generated code calls it spanned at the parameter's type.
#[inline]
pub fn deserialize<'de, T: DeserializeOwned, D: de::Deserializer<'de>>(
    de: D,
) -> Result<T, D::Error> {
    T::deserialize(de)
}

/// Skips an argument past the last slot (never reached: `LEN` bounds the index).
#[inline]
pub fn skip<'de, D: de::Deserializer<'de>>(de: D) -> Result<(), D::Error> {
    IgnoredAny::deserialize(de).map(|_| ())
}

/// Why decoding stopped, kept beside serde's own message so that the final error can
/// name the parameter instead of a line and column.
#[derive(Clone, Copy)]
enum Failure {
    /// The value for this argument index did not decode.
    Value(usize),
    /// More positional arguments than parameters.
    TooMany(usize),
    /// An unknown or repeated name: serde's message says which.
    Name,
}

/// Decodes `bytes` (a JSON array or object; empty or `null` means no arguments) into
/// the slots of `meta`'s arguments.
pub fn decode<S: ArgSlots>(meta: &'static OpMeta, bytes: &[u8]) -> Result<S, OpError> {
    let bytes = trim(bytes);
    if bytes.is_empty() || bytes == b"null" {
        return Ok(S::empty());
    }
    let failure = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let visitor = ArgsVisitor::<S> {
        meta,
        failure: &failure,
        slots: std::marker::PhantomData,
    };
    let result = de::Deserializer::deserialize_any(&mut de, visitor).and_then(|slots| {
        de.end()?;
        Ok(slots)
    });
    result.map_err(|err| explain(meta, failure.get(), &err).with_op(meta.name))
}

fn explain(meta: &OpMeta, failure: Option<Failure>, err: &serde_json::Error) -> OpError {
    let arg = |index: usize| meta.arguments().nth(index);
    if err.is_eof() {
        return OpError::type_error(format!("malformed arguments: {err}"));
    }
    if err.is_syntax() {
        return match failure.and_then(|f| match f {
            Failure::Value(index) => arg(index),
            Failure::TooMany(_) | Failure::Name => None,
        }) {
            Some(param) => OpError::type_error(format!(
                "malformed argument '{}' ({}): {err}",
                param.name, param.ty
            )),
            None => OpError::type_error(format!("malformed arguments: {err}")),
        };
    }
    match failure {
        Some(Failure::Value(index)) => match arg(index) {
            Some(param) => OpError::type_error(format!(
                "invalid argument '{}' ({}): {}",
                param.name,
                param.ty,
                strip_position(err)
            )),
            None => OpError::type_error(strip_position(err)),
        },
        Some(Failure::TooMany(given)) => OpError::type_error(format!(
            "expected at most {} argument{}, got {given}",
            argument_count(meta),
            if argument_count(meta) == 1 { "" } else { "s" }
        )),
        Some(Failure::Name) => OpError::type_error(strip_position(err)),
        None => OpError::type_error(strip_position(err)),
    }
}

fn argument_count(meta: &OpMeta) -> usize {
    meta.arguments().count()
}

/// serde_json ends its messages with " at line L column C", which says little to a
/// guest once the parameter is named.
fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

struct ArgsVisitor<'a, S> {
    meta: &'static OpMeta,
    failure: &'a Cell<Option<Failure>>,
    slots: std::marker::PhantomData<S>,
}

impl<'de, S: ArgSlots> de::Visitor<'de> for ArgsVisitor<'_, S> {
    type Value = S;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of positional arguments or an object of named arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<S, A::Error> {
        let mut slots = S::empty();
        let mut index = 0;
        while index < S::LEN {
            self.failure.set(Some(Failure::Value(index)));
            let seed = SlotSeed {
                slots: &mut slots,
                index,
            };
            if seq.next_element_seed(seed)?.is_none() {
                self.failure.set(None);
                return Ok(slots);
            }
            index += 1;
        }
        self.failure.set(None);
        let mut given = index;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            given += 1;
        }
        if given > S::LEN {
            self.failure.set(Some(Failure::TooMany(given)));
            return Err(de::Error::custom("too many arguments"));
        }
        Ok(slots)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<S, A::Error> {
        let mut slots = S::empty();
        let mut filled = vec![false; S::LEN];
        while let Some(index) = map.next_key_seed(KeySeed {
            meta: self.meta,
            failure: self.failure,
        })? {
            let Some(seen) = filled.get_mut(index) else {
                return Err(de::Error::custom("argument index out of range"));
            };
            if std::mem::replace(seen, true) {
                self.failure.set(Some(Failure::Name));
                let name = self.meta.arguments().nth(index).map_or("?", |p| p.name);
                return Err(de::Error::custom(format_args!(
                    "argument '{name}' is given twice"
                )));
            }
            self.failure.set(Some(Failure::Value(index)));
            map.next_value_seed(SlotSeed {
                slots: &mut slots,
                index,
            })?;
            self.failure.set(None);
        }
        Ok(slots)
    }
}

struct SlotSeed<'a, S> {
    slots: &'a mut S,
    index: usize,
}

impl<'de, S: ArgSlots> DeserializeSeed<'de> for SlotSeed<'_, S> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        self.slots.fill(self.index, de)
    }
}

/// Maps an argument name to its index, or fails naming the valid names.
struct KeySeed<'a> {
    meta: &'static OpMeta,
    failure: &'a Cell<Option<Failure>>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = usize;

    fn deserialize<D: de::Deserializer<'de>>(self, de: D) -> Result<usize, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> de::Visitor<'de> for KeySeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an argument name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<usize, E> {
        if let Some(index) = self.meta.arguments().position(|p| p.name == name) {
            return Ok(index);
        }
        self.failure.set(Some(Failure::Name));
        Err(E::custom(format_args!(
            "unknown argument '{name}'; expected {}",
            ExpectedNames(self.meta)
        )))
    }
}

struct ExpectedNames<'a>(&'a OpMeta);

impl fmt::Display for ExpectedNames<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names = self.0.arguments().map(|p| p.name).peekable();
        if names.peek().is_none() {
            return f.write_str("no arguments");
        }
        f.write_str("one of ")?;
        let mut first = true;
        for name in names {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "'{name}'")?;
        }
        Ok(())
    }
}

/// Takes a required argument's slot, or fails naming the parameter.
pub fn required<T>(slot: Option<T>, meta: &'static OpMeta, index: usize) -> Result<T, OpError> {
    slot.ok_or_else(|| missing(meta, index))
}

#[cold]
fn missing(meta: &'static OpMeta, index: usize) -> OpError {
    let text = match meta.arguments().nth(index) {
        Some(ParamMeta { name, ty, .. }) => format!("missing argument '{name}' ({ty})"),
        None => format!("missing argument {index}"),
    };
    OpError::type_error(text).with_op(meta.name)
}
