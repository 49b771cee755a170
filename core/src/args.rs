//! Decoding an op's JSON arguments, positional or named, straight from the bytes.
//!
//! `#[op]` gives every op a struct of `Option` slots, one per JSON argument, whose
//! `fill` decodes one argument with `serde_json` at its concrete type. The array or
//! object around the arguments is walked here, once for all ops: no
//! `serde_json::Value` is built, and no serde visitor is instantiated per op, which
//! keeps the code generated per op small. Then the generated code takes each slot,
//! turning an empty one into `None` for an `Option` parameter or a "missing argument"
//! error otherwise.
//!
//! What is accepted is what `serde_json` accepts of the same types decoded as a
//! derived struct would decode them (the `args` fuzz target checks it), but for two
//! things: empty arguments and `null` are no arguments; and each argument is read as
//! a JSON document of its own, so it may nest as deep as `serde_json` lets a document
//! (127 levels), one level more than inside the array or object around it.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeOwned, IgnoredAny};

use crate::lex::{plain_str, skip_ws};
use crate::{OpError, OpMeta, ParamMeta};

/// The `Option` slots that an op's JSON arguments are decoded into: a struct that
/// `#[op]` generates per op, so that a type error in a parameter is reported at that
/// parameter's type.
pub trait ArgSlots {
    /// How many JSON arguments the op takes.
    const LEN: usize;

    /// All slots empty.
    fn empty() -> Self;

    /// Decodes the argument at `index` (below `LEN`) from the start of `json`, and
    /// returns how many bytes it took.
    fn fill(&mut self, index: usize, json: &[u8]) -> Result<usize, ArgError>;
}

/// Why one argument did not decode: serde_json's error, kept opaque to generated code.
#[derive(Debug)]
pub struct ArgError(serde_json::Error);

/// Decodes one JSON value from the start of `json`; returns it and the bytes it took.
/// Generated code calls it spanned at the parameter's type.
#[inline]
pub fn deserialize<T: DeserializeOwned>(json: &[u8]) -> Result<(T, usize), ArgError> {
    let mut stream = serde_json::Deserializer::from_slice(json).into_iter::<T>();
    match stream.next() {
        Some(Ok(value)) => Ok((value, stream.byte_offset())),
        Some(Err(err)) => Err(ArgError(err)),
        None => Err(ArgError(<serde_json::Error as serde::de::Error>::custom(
            "EOF while parsing a value",
        ))),
    }
}

/// Puts a decoded argument in its slot and passes on how many bytes it took: one arm
/// of a generated `fill`.
#[inline]
pub fn put<T>(slot: &mut Option<T>, read: Result<(T, usize), ArgError>) -> Result<usize, ArgError> {
    let (value, used) = read?;
    *slot = Some(value);
    Ok(used)
}

/// Skips one JSON value (an argument past the last parameter).
pub fn skip(json: &[u8]) -> Result<usize, ArgError> {
    deserialize::<IgnoredAny>(json).map(|(_, used)| used)
}

/// Decodes `bytes` (a JSON array or object; empty or `null` means no arguments) into
/// the slots of `meta`'s arguments.
#[inline]
pub fn decode<S: ArgSlots>(meta: &'static OpMeta, bytes: &[u8]) -> Result<S, OpError> {
    let mut slots = S::empty();
    if positional_fast(&mut slots, bytes).is_some() {
        return Ok(slots);
    }
    // Everything else, errors included, goes the general way, from empty slots.
    let mut slots = S::empty();
    scan(meta, S::LEN, bytes, &mut |index, json| {
        slots.fill(index, json)
    })?;
    Ok(slots)
}

/// The common case inline: a well-formed array with every argument, e.g. `[1, 2]`.
/// `None` sends the call down the general path, which also explains any error.
#[inline]
fn positional_fast<S: ArgSlots>(slots: &mut S, bytes: &[u8]) -> Option<()> {
    let mut pos = skip_ws(bytes, 0);
    if bytes.get(pos) != Some(&b'[') {
        return None;
    }
    pos = skip_ws(bytes, pos + 1);
    if S::LEN == 0 {
        if bytes.get(pos) != Some(&b']') {
            return None;
        }
        pos += 1;
    }
    for index in 0..S::LEN {
        let used = slots.fill(index, bytes.get(pos..)?).ok()?;
        pos = skip_ws(bytes, pos + used);
        let end = if index + 1 == S::LEN { b']' } else { b',' };
        if bytes.get(pos) != Some(&end) {
            return None;
        }
        pos = skip_ws(bytes, pos + 1);
    }
    (pos == bytes.len()).then_some(())
}

type Fill<'a> = dyn FnMut(usize, &[u8]) -> Result<usize, ArgError> + 'a;

/// Walks the array or object of arguments, handing each value to `fill`.
fn scan(
    meta: &'static OpMeta,
    len: usize,
    bytes: &[u8],
    fill: &mut Fill<'_>,
) -> Result<(), OpError> {
    let mut cursor = Cursor { bytes, pos: 0 };
    let result = match cursor.skip_ws() {
        None => Ok(()),
        Some(b'[') => positional(len, &mut cursor, fill),
        Some(b'{') => named(meta, len, &mut cursor, fill),
        Some(b'n') if bytes[cursor.pos..].starts_with(b"null") => {
            cursor.pos += 4;
            Ok(())
        }
        Some(_) => Err(Problem::NotStructured),
    };
    let result = result.and_then(|()| match cursor.skip_ws() {
        None => Ok(()),
        Some(_) => Err(Problem::Malformed("trailing characters", cursor.pos)),
    });
    result.map_err(|problem| problem.into_error(meta, len, bytes))
}

fn positional(len: usize, cursor: &mut Cursor<'_>, fill: &mut Fill<'_>) -> Result<(), Problem> {
    cursor.pos += 1;
    if cursor.skip_ws() == Some(b']') {
        cursor.pos += 1;
        return Ok(());
    }
    let mut index = 0;
    loop {
        match cursor.skip_ws() {
            None => return Err(Problem::Eof(cursor.pos)),
            Some(b']') => return Err(Problem::Malformed("a trailing comma", cursor.pos)),
            Some(_) => {}
        }
        let start = cursor.pos;
        let used = if index < len {
            fill(index, cursor.rest()).map_err(|err| Problem::Value(index, start, err.0))?
        } else {
            skip(cursor.rest()).map_err(|err| Problem::Value(index, start, err.0))?
        };
        cursor.pos += used;
        index += 1;
        match cursor.skip_ws() {
            Some(b',') => cursor.pos += 1,
            Some(b']') => {
                cursor.pos += 1;
                break;
            }
            None => return Err(Problem::Eof(cursor.pos)),
            Some(_) => return Err(Problem::Malformed("expected `,` or `]`", cursor.pos)),
        }
    }
    if index > len {
        return Err(Problem::TooMany(index));
    }
    Ok(())
}

fn named(
    meta: &OpMeta,
    len: usize,
    cursor: &mut Cursor<'_>,
    fill: &mut Fill<'_>,
) -> Result<(), Problem> {
    cursor.pos += 1;
    if cursor.skip_ws() == Some(b'}') {
        cursor.pos += 1;
        return Ok(());
    }
    let mut seen = Seen::new(len);
    loop {
        match cursor.skip_ws() {
            Some(b'"') => {}
            None => return Err(Problem::Eof(cursor.pos)),
            Some(_) => return Err(Problem::Malformed("expected an argument name", cursor.pos)),
        }
        let start = cursor.pos;
        // Names are plain strings but for the odd escape: borrowed, not allocated.
        let (name, used) = match plain_str(cursor.rest()) {
            Some((name, used)) => (Cow::Borrowed(name), used),
            None => deserialize::<String>(cursor.rest())
                .map(|(name, used)| (Cow::Owned(name), used))
                .map_err(|err| Problem::Malformed(leak_reason(&err.0), start))?,
        };
        cursor.pos += used;
        match cursor.skip_ws() {
            Some(b':') => cursor.pos += 1,
            None => return Err(Problem::Eof(cursor.pos)),
            Some(_) => return Err(Problem::Malformed("expected `:`", cursor.pos)),
        }
        let Some(index) = meta.arguments().position(|p| p.name == name) else {
            return Err(Problem::Unknown(name.into_owned()));
        };
        if !seen.insert(index) {
            return Err(Problem::Duplicate(index));
        }
        if cursor.skip_ws().is_none() {
            return Err(Problem::Eof(cursor.pos));
        }
        let start = cursor.pos;
        cursor.pos +=
            fill(index, cursor.rest()).map_err(|err| Problem::Value(index, start, err.0))?;
        match cursor.skip_ws() {
            Some(b',') => cursor.pos += 1,
            Some(b'}') => {
                cursor.pos += 1;
                return Ok(());
            }
            None => return Err(Problem::Eof(cursor.pos)),
            Some(_) => return Err(Problem::Malformed("expected `,` or `}`", cursor.pos)),
        }
    }
}

/// The arguments named so far: a bit set, on the heap only past 64 arguments.
struct Seen {
    first: u64,
    rest: Vec<bool>,
}

impl Seen {
    fn new(len: usize) -> Self {
        Seen {
            first: 0,
            rest: vec![false; len.saturating_sub(64)],
        }
    }

    /// Marks `index` named; false if it was already.
    fn insert(&mut self, index: usize) -> bool {
        match index.checked_sub(64) {
            None => {
                let bit = 1 << index;
                let new = self.first & bit == 0;
                self.first |= bit;
                new
            }
            Some(at) => self
                .rest
                .get_mut(at)
                .is_some_and(|seen| !std::mem::replace(seen, true)),
        }
    }
}

/// The few reasons a key fails to parse, as static text.
fn leak_reason(err: &serde_json::Error) -> &'static str {
    if err.is_eof() {
        "EOF while parsing an argument name"
    } else {
        "an argument name that is not a valid JSON string"
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Skips whitespace and peeks at the next byte.
    #[inline]
    fn skip_ws(&mut self) -> Option<u8> {
        self.pos = skip_ws(self.bytes, self.pos);
        self.bytes.get(self.pos).copied()
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }
}

/// Why decoding stopped.
enum Problem {
    NotStructured,
    Eof(usize),
    Malformed(&'static str, usize),
    /// The value of the argument at this index (starting at this byte) did not decode.
    Value(usize, usize, serde_json::Error),
    TooMany(usize),
    Unknown(String),
    Duplicate(usize),
}

impl Problem {
    #[cold]
    fn into_error(self, meta: &'static OpMeta, len: usize, bytes: &[u8]) -> OpError {
        let arg = |index: usize| meta.arguments().nth(index);
        let text = match self {
            Problem::NotStructured => {
                "expected an array of positional arguments or an object of named arguments"
                    .to_owned()
            }
            Problem::Eof(at) => {
                format!("malformed arguments: EOF while parsing a value at byte {at}")
            }
            Problem::Malformed(what, at) => format!("malformed arguments: {what} at byte {at}"),
            Problem::Value(_, at, err) if err.is_eof() => {
                format!("malformed arguments: EOF while parsing a value at byte {at}")
            }
            Problem::Value(index, at, err) => match arg(index) {
                Some(ParamMeta { name, ty, .. }) if err.is_syntax() => format!(
                    "malformed argument '{name}' ({ty}): {} at byte {}",
                    strip_position(&err),
                    at + offset_in(bytes.get(at..).unwrap_or_default(), &err)
                ),
                Some(ParamMeta { name, ty, .. }) => {
                    format!("invalid argument '{name}' ({ty}): {}", strip_position(&err))
                }
                None => format!(
                    "malformed arguments: {} at byte {}",
                    strip_position(&err),
                    at + offset_in(bytes.get(at..).unwrap_or_default(), &err)
                ),
            },
            Problem::TooMany(given) => format!(
                "expected at most {len} argument{}, got {given}",
                if len == 1 { "" } else { "s" }
            ),
            Problem::Unknown(name) => {
                format!(
                    "unknown argument '{name}'; expected {}",
                    ExpectedNames(meta)
                )
            }
            Problem::Duplicate(index) => format!(
                "argument '{}' is given twice",
                arg(index).map_or("?", |p| p.name)
            ),
        };
        OpError::type_error(text).with_op(meta.name)
    }
}

/// Where in `json` serde_json's error points: its line and column count from the
/// start of `json` (the argument it read), and an argument may span lines.
fn offset_in(json: &[u8], err: &serde_json::Error) -> usize {
    let line_start = match err.line() {
        0 | 1 => 0,
        line => json
            .iter()
            .enumerate()
            .filter(|&(_, &byte)| byte == b'\n')
            .nth(line - 2)
            .map_or(json.len(), |(at, _)| at + 1),
    };
    line_start + err.column().saturating_sub(1)
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

/// The error of a required argument left out, naming the parameter.
#[cold]
pub(crate) fn missing(meta: &'static OpMeta, index: usize) -> OpError {
    let text = match meta.arguments().nth(index) {
        Some(ParamMeta { name, ty, .. }) => format!("missing argument '{name}' ({ty})"),
        None => format!("missing argument {index}"),
    };
    OpError::type_error(text).with_op(meta.name)
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn seen_marks_each_argument_once_on_either_side_of_64() {
        let mut seen = Seen::new(70);
        for index in [0, 5, 63, 64, 69] {
            assert!(seen.insert(index), "{index} first");
            assert!(!seen.insert(index), "{index} again");
        }
        assert!(seen.insert(1) && seen.insert(65));
        // Past the last argument there is nothing to mark.
        assert!(!seen.insert(70));
        assert!(!Seen::new(3).insert(64));
    }
}
