//! Argument decoding, differential: every op's JSON arguments against a `serde_json`
//! reference decode of the same parameter types.
//!
//! The ops below cover every kind of parameter `#[op]` sorts into (plain values read by
//! a scalar reader or by serde, borrowed ones, `Option`s, a type parameter, resources
//! by rid, and the kinds that take no JSON argument: state, `OpState`, buffers), and
//! each returns the values it was given. An input is an op (the first byte) and its
//! arguments (the rest), positional or named. The reference decodes the same types
//! with `serde_json` as a derived struct would: an array of values in order, the
//! trailing `Option`s possibly left out; or an object, unknown and duplicate names
//! refused, `Option`s possibly left out.
//!
//! Property: the op is called exactly when the reference decodes, with the same values
//! (compared as JSON). Otherwise the error is a `TypeError` of that op, and an error the
//! reference blames on one parameter (a value of the wrong type or out of range, a
//! missing or repeated argument) names that parameter, with serde_json's own words for
//! a wrong value. A rid that decodes but names no resource is a `BadResource` naming
//! its parameter.
//!
//! Two differences from a plain `serde_json::from_slice` are documented behaviour, and
//! encoded here: empty arguments (JSON whitespace only) and `null` are no arguments;
//! and each argument may nest as deep as a JSON document of its own (serde_json's
//! limit), where inside an array or object it would be one level less.

#![no_main]
// Ops of many parameters are the point here.
#![allow(clippy::too_many_arguments)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use libfuzzer_sys::fuzz_target;
use opkit::{ErrorClass, Extension, OpError, OpState, Resource, ResourceId, Runtime, op};
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Deserialize, Serialize)]
struct Point {
    x: i32,
    y: Option<f64>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
enum Shape {
    #[default]
    Dot,
    Circle(f64),
    Rect {
        w: u16,
        h: u16,
    },
}

#[derive(Debug, Default, Deserialize, Serialize)]
struct Pair(u8, Option<String>);

/// Kept in `OpState`.
struct Counter(u64);

/// A resource that knows its own rid.
struct Note(ResourceId);

impl Resource for Note {}

/// Integers of every width: the scalar readers' fast path.
#[op(sync)]
fn op_ints(
    a: i8,
    b: u8,
    c: i16,
    d: u16,
    e: i32,
    f: u32,
    g: i64,
    h: u64,
) -> (i8, u8, i16, u16, i32, u32, i64, u64) {
    (a, b, c, d, e, f, g, h)
}

/// Wide and pointer-sized integers.
#[op(sync)]
fn op_wide(a: i128, b: u128, c: isize, d: usize) -> (i128, u128, isize, usize) {
    (a, b, c, d)
}

/// Text, borrowed and owned; a path; a bool and a char.
#[op(sync)]
fn op_text(
    flag: bool,
    name: &str,
    owned: String,
    path: &Path,
    letter: char,
) -> (bool, String, String, PathBuf, char) {
    (flag, name.to_owned(), owned, path.to_path_buf(), letter)
}

/// Floats, read by serde.
#[op(sync)]
fn op_floats(a: f64, b: f32, c: Option<f64>) -> (f64, f32, Option<f64>) {
    (a, b, c)
}

/// Nothing but `Option`s: any of them may be left out, by position or by name.
#[op(sync)]
fn op_options(
    a: Option<u32>,
    b: Option<String>,
    c: Option<Option<bool>>,
    d: Option<Point>,
) -> (
    Option<u32>,
    Option<String>,
    Option<Option<bool>>,
    Option<Point>,
) {
    (a, b, c, d)
}

/// Structs, enums, maps and sequences.
#[op(sync)]
fn op_structs(
    point: Point,
    shapes: Vec<Shape>,
    map: BTreeMap<String, u8>,
    pair: Pair,
) -> (Point, Vec<Shape>, BTreeMap<String, u8>, Pair) {
    (point, shapes, map, pair)
}

/// Any JSON, bytes as numbers, a borrowed slice and a borrowed slice of numbers.
#[op(sync)]
fn op_any(
    value: serde_json::Value,
    #[serde] raw: Vec<u8>,
    items: &[String],
    more: Option<Vec<i16>>,
) -> (serde_json::Value, Vec<u8>, Vec<String>, Option<Vec<i16>>) {
    (value, raw, items.to_vec(), more)
}

/// Kinds that take no JSON argument between the ones that do.
#[op(sync)]
fn op_kinds(
    state: &OpState,
    #[state] counter: &Counter,
    n: u16,
    #[buffer] out: &mut [u8],
    #[buffer] input: &[u8],
    tail: Option<i64>,
) -> (u16, Option<i64>) {
    out.fill(u8::from(state.has::<Counter>()));
    let _ = (counter.0, input.len());
    (n, tail)
}

/// The state borrowed mutably.
#[op(sync)]
fn op_bump(#[state] counter: &mut Counter, by: Option<u64>) -> (Option<u64>,) {
    counter.0 = counter.0.wrapping_add(by.unwrap_or(1));
    (by,)
}

/// The whole `OpState` borrowed mutably.
#[op(sync)]
fn op_mut_state(state: &mut OpState, value: u8) -> (u8,) {
    state.put(Counter(u64::from(value)));
    (value,)
}

/// A type parameter: read by serde whatever it is.
#[op(sync)]
fn op_generic<T>(value: T, also: Option<T>) -> (T, Option<T>)
where
    T: DeserializeOwned + Serialize + Send + 'static,
{
    (value, also)
}

/// Resources by rid, required and optional.
#[op(sync)]
fn op_notes(
    #[resource] first: &Note,
    n: u8,
    #[resource] second: Option<&Note>,
) -> (ResourceId, u8, Option<ResourceId>) {
    (first.0, n, second.map(|note| note.0))
}

/// No arguments at all.
#[op(sync)]
fn op_none() -> [u8; 0] {
    []
}

/// An `async fn` op with the shared state: its arguments are decoded before the
/// future is made.
#[op]
async fn op_later(n: i32, state: Rc<RefCell<OpState>>, s: Option<String>) -> (i32, Option<String>) {
    let _ = state.borrow().resource_table.len();
    (n, s)
}

/// Seventy arguments: which were named is kept past the first 64 too.
#[op(sync)]
fn op_many(
    p00: u8,
    p01: Option<u8>,
    p02: Option<u8>,
    p03: Option<u8>,
    p04: Option<u8>,
    p05: Option<u8>,
    p06: Option<u8>,
    p07: Option<u8>,
    p08: Option<u8>,
    p09: Option<u8>,
    p10: Option<u8>,
    p11: Option<u8>,
    p12: Option<u8>,
    p13: Option<u8>,
    p14: Option<u8>,
    p15: Option<u8>,
    p16: Option<u8>,
    p17: Option<u8>,
    p18: Option<u8>,
    p19: Option<u8>,
    p20: Option<u8>,
    p21: Option<u8>,
    p22: Option<u8>,
    p23: Option<u8>,
    p24: Option<u8>,
    p25: Option<u8>,
    p26: Option<u8>,
    p27: Option<u8>,
    p28: Option<u8>,
    p29: Option<u8>,
    p30: Option<u8>,
    p31: Option<u8>,
    p32: Option<u8>,
    p33: Option<u8>,
    p34: Option<u8>,
    p35: Option<u8>,
    p36: Option<u8>,
    p37: Option<u8>,
    p38: Option<u8>,
    p39: Option<u8>,
    p40: Option<u8>,
    p41: Option<u8>,
    p42: Option<u8>,
    p43: Option<u8>,
    p44: Option<u8>,
    p45: Option<u8>,
    p46: Option<u8>,
    p47: Option<u8>,
    p48: Option<u8>,
    p49: Option<u8>,
    p50: Option<u8>,
    p51: Option<u8>,
    p52: Option<u8>,
    p53: Option<u8>,
    p54: Option<u8>,
    p55: Option<u8>,
    p56: Option<u8>,
    p57: Option<u8>,
    p58: Option<u8>,
    p59: Option<u8>,
    p60: Option<u8>,
    p61: Option<u8>,
    p62: Option<u8>,
    p63: u8,
    p64: u8,
    p65: Option<u8>,
    p66: Option<u8>,
    p67: Option<u8>,
    p68: Option<u8>,
    p69: u8,
) -> Vec<Option<u8>> {
    vec![
        Some(p00),
        p01,
        p02,
        p03,
        p04,
        p05,
        p06,
        p07,
        p08,
        p09,
        p10,
        p11,
        p12,
        p13,
        p14,
        p15,
        p16,
        p17,
        p18,
        p19,
        p20,
        p21,
        p22,
        p23,
        p24,
        p25,
        p26,
        p27,
        p28,
        p29,
        p30,
        p31,
        p32,
        p33,
        p34,
        p35,
        p36,
        p37,
        p38,
        p39,
        p40,
        p41,
        p42,
        p43,
        p44,
        p45,
        p46,
        p47,
        p48,
        p49,
        p50,
        p51,
        p52,
        p53,
        p54,
        p55,
        p56,
        p57,
        p58,
        p59,
        p60,
        p61,
        p62,
        Some(p63),
        Some(p64),
        p65,
        p66,
        p67,
        p68,
        Some(p69),
    ]
}

/// Who the reference blames for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Blame {
    /// Not one parameter: the shape of the arguments, a name that is none.
    Shape,
    /// The value of the parameter at this index did not decode.
    Value(usize),
    /// The parameter at this index was left out, and is not an `Option`.
    Missing(usize),
    /// The parameter at this index was named twice.
    Duplicate(usize),
}

/// What the reference made of some arguments: the values as JSON (`[v0,v1,..]`, what
/// each op returns), or the error and whom it blames.
type Reference = Result<Vec<u8>, (Blame, serde_json::Error)>;

macro_rules! optional {
    (opt) => {
        true
    };
    (req) => {
        false
    };
}

macro_rules! take {
    (opt, $slot:expr, $index:expr) => {
        $slot.unwrap_or_default()
    };
    (req, $slot:expr, $index:expr) => {
        match $slot {
            Some(value) => value,
            None => {
                return Err((
                    Blame::Missing($index),
                    de::Error::custom("missing argument"),
                ));
            }
        }
    };
}

/// `reference!(op_x(req a: u8, opt b: Option<String>))` defines `op_x::reference`, the
/// reference decode of those types: `req` parameters must be given, `opt` ones may be
/// left out. The types are the decoded ones (`String` for `&str`, a rid for a
/// resource); the marks are written here, by hand, so that they check what `#[op]`
/// decides by trait.
macro_rules! reference {
    ($op:ident($($mode:ident $param:ident: $ty:ty),* $(,)?)) => {
        #[allow(non_snake_case, unused_assignments, unused_variables, unused_mut, dead_code)]
        pub mod $op {
            use crate::*;

            pub const NAMES: &[&str] = &[$(stringify!($param)),*];
            const OPTIONAL: &[bool] = &[$(optional!($mode)),*];

            struct Slots {
                $($param: Option<$ty>,)*
            }

            impl Slots {
                fn empty() -> Self {
                    Slots { $($param: None,)* }
                }
            }

            struct Args<'a>(&'a Cell<Blame>);

            impl<'de> Visitor<'de> for Args<'_> {
                type Value = Slots;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an array or an object of arguments")
                }

                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Slots, A::Error> {
                    let mut slots = Slots::empty();
                    let mut index = 0;
                    let mut ended = false;
                    $(
                        if !ended {
                            match seq.next_element::<$ty>() {
                                Ok(Some(value)) => slots.$param = Some(value),
                                Ok(None) => ended = true,
                                Err(err) => {
                                    self.0.set(Blame::Value(index));
                                    return Err(err);
                                }
                            }
                        }
                        index += 1;
                    )*
                    if !ended && seq.next_element::<IgnoredAny>()?.is_some() {
                        while seq.next_element::<IgnoredAny>()?.is_some() {}
                        return Err(de::Error::custom("too many arguments"));
                    }
                    Ok(slots)
                }

                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Slots, A::Error> {
                    let mut slots = Slots::empty();
                    while let Some(key) = map.next_key::<String>()? {
                        let mut index = 0;
                        let mut found = false;
                        $(
                            if !found && key == stringify!($param) {
                                found = true;
                                if slots.$param.is_some() {
                                    // opkit stops at the name; whatever is wrong after
                                    // it (no `:`) is blamed on no one.
                                    map.next_value::<IgnoredAny>()?;
                                    self.0.set(Blame::Duplicate(index));
                                    return Err(de::Error::custom("duplicate argument"));
                                }
                                match map.next_value::<$ty>() {
                                    Ok(value) => slots.$param = Some(value),
                                    Err(err) => {
                                        self.0.set(Blame::Value(index));
                                        return Err(err);
                                    }
                                }
                            }
                            index += 1;
                        )*
                        if !found {
                            return Err(de::Error::custom("unknown argument"));
                        }
                    }
                    Ok(slots)
                }
            }

            /// `null`: no arguments; anything else: an array or an object.
            struct Nullable<'a>(&'a Cell<Blame>);

            impl<'de> Visitor<'de> for Nullable<'_> {
                type Value = Slots;

                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("arguments or null")
                }

                fn visit_none<E: de::Error>(self) -> Result<Slots, E> {
                    Ok(Slots::empty())
                }

                fn visit_some<D: Deserializer<'de>>(self, de: D) -> Result<Slots, D::Error> {
                    de.deserialize_any(Args(self.0))
                }
            }

            pub fn reference(json: &[u8]) -> Reference {
                let blame = Cell::new(Blame::Shape);
                let slots = if json.iter().all(|b| b" \t\n\r".contains(b)) {
                    Slots::empty()
                } else {
                    let mut de = serde_json::Deserializer::from_slice(json);
                    // One level for the array or object of arguments, which opkit
                    // does not count against the depth of each argument.
                    if nesting(json) <= 128 {
                        de.disable_recursion_limit();
                    }
                    let slots = de
                        .deserialize_option(Nullable(&blame))
                        .and_then(|slots| de.end().map(|()| slots));
                    slots.map_err(|err| (blame.get(), err))?
                };
                let mut out = vec![b'['];
                let mut index = 0;
                $(
                    let value: $ty = take!($mode, slots.$param, index);
                    if index > 0 {
                        out.push(b',');
                    }
                    let json = serde_json::to_vec(&value).map_err(|err| (Blame::Shape, err))?;
                    out.extend_from_slice(&json);
                    index += 1;
                )*
                out.push(b']');
                let _ = OPTIONAL;
                Ok(out)
            }
        }
    };
}

/// The byte of `json` at serde_json's one-based `line` and `column`.
fn byte_at(json: &[u8], line: usize, column: usize) -> usize {
    let line_start = match line {
        0 | 1 => 0,
        line => json
            .iter()
            .enumerate()
            .filter(|&(_, &byte)| byte == b'\n')
            .nth(line - 2)
            .map_or(json.len(), |(at, _)| at + 1),
    };
    line_start + column.saturating_sub(1)
}

/// How deep `json` nests arrays and objects, strings skipped.
fn nesting(json: &[u8]) -> usize {
    depths(json).map(|(_, depth)| depth).max().unwrap_or(0)
}

/// The byte at which `json` first opens its `depth`th level of arrays and objects.
fn deeper(json: &[u8], depth: usize) -> Option<usize> {
    depths(json).find_map(|(at, reached)| (reached == depth).then_some(at))
}

/// Each byte that opens an array or object, with the depth it opens, strings skipped.
fn depths(json: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    json.iter().enumerate().filter_map(move |(at, &byte)| {
        match (in_string, escaped, byte) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, ..) => {}
            (false, _, b'"') => in_string = true,
            (false, _, b'[' | b'{') => {
                depth += 1;
                return Some((at, depth));
            }
            (false, _, b']' | b'}') => depth = depth.saturating_sub(1),
            (false, ..) => {}
        }
        None
    })
}

mod reference {
    reference!(op_ints(req a: i8, req b: u8, req c: i16, req d: u16, req e: i32, req f: u32, req g: i64, req h: u64));
    reference!(op_wide(req a: i128, req b: u128, req c: isize, req d: usize));
    reference!(op_text(req flag: bool, req name: String, req owned: String, req path: PathBuf, req letter: char));
    reference!(op_floats(req a: f64, req b: f32, opt c: Option<f64>));
    reference!(op_options(opt a: Option<u32>, opt b: Option<String>, opt c: Option<Option<bool>>, opt d: Option<Point>));
    reference!(op_structs(req point: Point, req shapes: Vec<Shape>, req map: BTreeMap<String, u8>, req pair: Pair));
    reference!(op_any(req value: serde_json::Value, req raw: Vec<u8>, req items: Vec<String>, opt more: Option<Vec<i16>>));
    reference!(op_kinds(req n: u16, opt tail: Option<i64>));
    reference!(op_bump(opt by: Option<u64>));
    reference!(op_mut_state(req value: u8));
    reference!(op_generic(req value: i64, opt also: Option<i64>));
    reference!(op_notes(req first: ResourceId, req n: u8, opt second: Option<ResourceId>));
    reference!(op_none());
    reference!(op_later(req n: i32, opt s: Option<String>));
    reference!(op_many(
        req p00: u8,
        opt p01: Option<u8>,
        opt p02: Option<u8>,
        opt p03: Option<u8>,
        opt p04: Option<u8>,
        opt p05: Option<u8>,
        opt p06: Option<u8>,
        opt p07: Option<u8>,
        opt p08: Option<u8>,
        opt p09: Option<u8>,
        opt p10: Option<u8>,
        opt p11: Option<u8>,
        opt p12: Option<u8>,
        opt p13: Option<u8>,
        opt p14: Option<u8>,
        opt p15: Option<u8>,
        opt p16: Option<u8>,
        opt p17: Option<u8>,
        opt p18: Option<u8>,
        opt p19: Option<u8>,
        opt p20: Option<u8>,
        opt p21: Option<u8>,
        opt p22: Option<u8>,
        opt p23: Option<u8>,
        opt p24: Option<u8>,
        opt p25: Option<u8>,
        opt p26: Option<u8>,
        opt p27: Option<u8>,
        opt p28: Option<u8>,
        opt p29: Option<u8>,
        opt p30: Option<u8>,
        opt p31: Option<u8>,
        opt p32: Option<u8>,
        opt p33: Option<u8>,
        opt p34: Option<u8>,
        opt p35: Option<u8>,
        opt p36: Option<u8>,
        opt p37: Option<u8>,
        opt p38: Option<u8>,
        opt p39: Option<u8>,
        opt p40: Option<u8>,
        opt p41: Option<u8>,
        opt p42: Option<u8>,
        opt p43: Option<u8>,
        opt p44: Option<u8>,
        opt p45: Option<u8>,
        opt p46: Option<u8>,
        opt p47: Option<u8>,
        opt p48: Option<u8>,
        opt p49: Option<u8>,
        opt p50: Option<u8>,
        opt p51: Option<u8>,
        opt p52: Option<u8>,
        opt p53: Option<u8>,
        opt p54: Option<u8>,
        opt p55: Option<u8>,
        opt p56: Option<u8>,
        opt p57: Option<u8>,
        opt p58: Option<u8>,
        opt p59: Option<u8>,
        opt p60: Option<u8>,
        opt p61: Option<u8>,
        opt p62: Option<u8>,
        req p63: u8,
        req p64: u8,
        opt p65: Option<u8>,
        opt p66: Option<u8>,
        opt p67: Option<u8>,
        opt p68: Option<u8>,
        req p69: u8,
    ));
}

/// Which parameter of the reference's values (as JSON) names no resource, if one does.
type UnknownRid = fn(&[u8]) -> Option<&'static str>;

/// One op under test.
struct Case {
    entry: &'static str,
    op: &'static str,
    names: &'static [&'static str],
    reference: fn(&[u8]) -> Reference,
    /// Checks the resources of what the reference decoded: the error the call must
    /// then give instead of the values.
    resources: Option<UnknownRid>,
}

macro_rules! case {
    ($op:ident, $entry:literal) => {
        case!($op, $entry, None)
    };
    ($op:ident, $entry:literal, $resources:expr) => {
        Case {
            entry: $entry,
            op: stringify!($op),
            names: reference::$op::NAMES,
            reference: reference::$op::reference,
            resources: $resources,
        }
    };
}

/// The rids the runtime holds notes at.
const NOTES: [ResourceId; 2] = [0, 1];

/// For `op_notes`: the parameter whose rid names no note, if one does.
fn unknown_note(values: &[u8]) -> Option<&'static str> {
    let (first, _, second): (ResourceId, u8, Option<ResourceId>) =
        serde_json::from_slice(values).expect("the reference's own values");
    if !NOTES.contains(&first) {
        Some("first")
    } else if second.is_some_and(|rid| !NOTES.contains(&rid)) {
        Some("second")
    } else {
        None
    }
}

const CASES: &[Case] = &[
    case!(op_ints, "op_ints_sync"),
    case!(op_wide, "op_wide_sync"),
    case!(op_text, "op_text_sync"),
    case!(op_floats, "op_floats_sync"),
    case!(op_options, "op_options_sync"),
    case!(op_structs, "op_structs_sync"),
    case!(op_any, "op_any_sync"),
    case!(op_kinds, "op_kinds_sync"),
    case!(op_bump, "op_bump_sync"),
    case!(op_mut_state, "op_mut_state_sync"),
    case!(op_generic, "op_generic_sync"),
    case!(op_notes, "op_notes_sync", Some(unknown_note)),
    case!(op_none, "op_none_sync"),
    case!(op_later, "op_later_async"),
    case!(op_many, "op_many_sync"),
];

struct Host {
    rt: Runtime,
    tokio: tokio::runtime::Runtime,
}

fn host() -> Host {
    let decls = [
        op_ints::DECLS,
        op_wide::DECLS,
        op_text::DECLS,
        op_floats::DECLS,
        op_options::DECLS,
        op_structs::DECLS,
        op_any::DECLS,
        op_kinds::DECLS,
        op_bump::DECLS,
        op_mut_state::DECLS,
        op_generic::<i64>::DECLS,
        op_notes::DECLS,
        op_none::DECLS,
        op_later::DECLS,
        op_many::DECLS,
    ];
    let ext = Extension::new("fuzz", decls.into_iter().flatten().copied()).with_state(|state| {
        state.put(Counter(0));
    });
    let rt = Runtime::new([ext]).expect("the ops register");
    {
        let mut state = rt.state().borrow_mut();
        for rid in NOTES {
            let added = state
                .resource_table
                .add(Note(rid))
                .expect("room for two notes");
            assert_eq!(added, rid);
        }
    }
    let tokio = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio runtime");
    Host { rt, tokio }
}

thread_local! {
    static HOST: Host = host();
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, args)) = data.split_first() else {
        return;
    };
    let case = &CASES[usize::from(which) % CASES.len()];
    HOST.with(|host| check(host, case, args));
});

fn check(host: &Host, case: &Case, args: &[u8]) {
    let called = if case.entry.ends_with("_async") {
        let output = host
            .tokio
            .block_on(host.rt.call_async(case.entry, args, Vec::new()));
        output.result
    } else {
        let mut bufs = [vec![0; 3], vec![1; 2]];
        host.rt.call_sync(case.entry, args, &mut bufs)
    };
    let text = String::from_utf8_lossy(args);
    match (case.reference)(args) {
        Ok(values) => match case.resources.and_then(|unknown| unknown(&values)) {
            None => {
                let out = called.unwrap_or_else(|err| {
                    panic!(
                        "{}: {text:?} decodes as {} but the call failed: {err}",
                        case.op,
                        String::from_utf8_lossy(&values)
                    )
                });
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&values),
                    "{}: {text:?}",
                    case.op
                );
            }
            Some(param) => {
                let err = called.expect_err("a rid that names no note");
                assert_eq!(
                    err.class(),
                    ErrorClass::BadResource,
                    "{}: {text:?}: {err}",
                    case.op
                );
                assert_eq!(err.op(), Some(case.op), "{text:?}: {err}");
                let message = err.to_string();
                assert!(
                    message.contains(&format!("'{param}'")),
                    "{text:?}: {message}"
                );
            }
        },
        Err((blame, reference)) => {
            let err = match called {
                Ok(out) => panic!(
                    "{}: {text:?} is refused by serde_json ({reference}; {blame:?}) but the op \
                     was called with {}",
                    case.op,
                    String::from_utf8_lossy(&out)
                ),
                Err(err) => err,
            };
            check_error(case, args, blame, &reference, &err);
        }
    }
}

fn check_error(
    case: &Case,
    args: &[u8],
    blame: Blame,
    reference: &serde_json::Error,
    err: &OpError,
) {
    let text = String::from_utf8_lossy(args);
    let message = err.to_string();
    assert_eq!(
        err.class(),
        ErrorClass::TypeError,
        "{}: {text:?}: {message}",
        case.op
    );
    assert_eq!(err.op(), Some(case.op), "{text:?}: {message}");
    let named = |index: usize, what: &str| {
        let name = case.names[index];
        assert!(
            message.contains(&format!("'{name}'")),
            "{}: {text:?}: serde_json blames {what} '{name}' ({reference}), opkit says {message}",
            case.op
        );
    };
    match blame {
        Blame::Shape => {}
        Blame::Value(index) if reference.is_data() => {
            named(index, "the value of");
            let words = reference.to_string();
            let words = words
                .rsplit_once(" at line ")
                .map_or(&*words, |(words, _)| words);
            assert!(
                message.contains(words),
                "{}: {text:?}: serde_json says {words:?}, opkit {message:?}",
                case.op
            );
        }
        // Malformed where serde_json says, when opkit blames the same parameter.
        Blame::Value(index)
            if reference.is_syntax()
                && message.contains(&format!("malformed argument '{}'", case.names[index])) =>
        {
            let at = byte_at(args, reference.line(), reference.column());
            if !reference
                .to_string()
                .starts_with("recursion limit exceeded")
            {
                assert!(
                    message.ends_with(&format!(" at byte {at}")),
                    "{}: {text:?}: serde_json says {reference} (byte {at}), opkit {message:?}",
                    case.op
                );
            } else if message.contains("recursion limit exceeded") {
                // The argument is a document of its own (see the top): its limit is
                // reached one level deeper than the reference's, which counts the
                // array or object of arguments too.
                let deeper = deeper(args, 129);
                assert!(
                    deeper.is_some_and(|deeper| message.ends_with(&format!(" at byte {deeper}"))),
                    "{}: {text:?}: the argument nests too deep at byte {deeper:?} \
                     (serde_json's whole document at {at}), opkit {message:?}",
                    case.op
                );
            } else {
                // opkit read on past the reference's limit, and stopped at another
                // syntax error further on.
                let opkit_at = message
                    .rsplit_once(" at byte ")
                    .and_then(|(_, at)| at.parse::<usize>().ok());
                assert!(
                    opkit_at.is_some_and(|opkit_at| opkit_at > at),
                    "{}: {text:?}: serde_json stops at the recursion limit at byte {at}, \
                     opkit {message:?}",
                    case.op
                );
            }
        }
        Blame::Value(_) => {}
        Blame::Missing(index) => named(index, "a missing"),
        Blame::Duplicate(index) => named(index, "a repeated"),
    }
}
