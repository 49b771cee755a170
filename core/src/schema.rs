//! JSON Schemas of op parameters and results, as [`ParamMeta::schema`] and
//! [`OpMeta::ret_schema`] give them.
//!
//! A type that implements [`JsonSchema`](schemars::JsonSchema) gets the schema
//! `schemars` makes of it: the compiler chooses, on the concrete type where the op is
//! written, as it chooses the scalar readers (see `Probe` in `kind.rs`). Any other
//! type gets the fallback, a schema that admits every value and names the Rust type in
//! its `description`; so does a type that mentions a type parameter of a generic op,
//! unless the op's bounds say `JsonSchema`. Rids, byte buffers and
//! [`ByteBuf`](crate::ByteBuf) results have schemas of their own.
//!
//! Every schema is a self-contained [JSON Schema draft 7](DIALECT) object, the dialect
//! of OpenRPC 1.3 that MCP's tool schemas read too: subschemas are inlined (only a
//! recursive type keeps a `$ref`, into `definitions`), and there is no `$schema`
//! member, so that a schema can be put as it is inside a larger document. Arguments are
//! described as they are deserialized (a `#[serde(default)]` field is not required),
//! results as they are serialized.
//!
//! Integers travel as JSON numbers, never as strings, without fraction or exponent
//! (`1.0` is refused), and a 64-bit one keeps its full range on the wire: each integer
//! schema states its range, and a 64- or 128-bit one says in its `description` that a
//! JavaScript client loses precision past 2^53 − 1 unless it parses such numbers as
//! `BigInt`.
//!
//! [`ParamMeta::schema`]: crate::ParamMeta::schema
//! [`OpMeta::ret_schema`]: crate::OpMeta::ret_schema

use std::any::type_name;

use serde_json::{Value, json};

/// The JSON Schema dialect of every schema opkit gives: draft 7.
pub const DIALECT: &str = "http://json-schema.org/draft-07/schema#";

/// The settings of the generator behind every schema from `schemars`: draft 7,
/// subschemas inlined, no `$schema` member, and the integer ranges and notes described
/// in the [module docs](self). Arguments use them `for_deserialize`, results
/// `for_serialize`.
pub fn settings() -> schemars::generate::SchemaSettings {
    schemars::generate::SchemaSettings::draft07()
        .with(|settings| {
            settings.meta_schema = None;
            settings.inline_subschemas = true;
        })
        .with_transform(schemars::transform::RecursiveTransform(describe_integer))
}

/// The schema of an argument of type `T`, as it is deserialized.
pub fn for_argument<T: schemars::JsonSchema + ?Sized>() -> Value {
    root::<T>(settings().for_deserialize())
}

/// The schema of a result of type `T`, as it is serialized.
pub fn for_result<T: schemars::JsonSchema + ?Sized>() -> Value {
    root::<T>(settings().for_serialize())
}

fn root<T: schemars::JsonSchema + ?Sized>(settings: schemars::generate::SchemaSettings) -> Value {
    let mut schema = settings.into_generator().into_root_schema_for::<T>();
    // A named type keeps its name as the title; the made-up one of an inlined type
    // (`Nullable_uint32`, `Array_of_string`) would only mislead.
    if T::inline_schema() {
        schema.remove("title");
    }
    schema.to_value()
}

/// The schema of a type without one: any value, the Rust type named.
pub(crate) fn fallback<T: ?Sized>() -> Value {
    json!({ "description": format!("`{}` (a Rust type with no JSON Schema)", rust_type::<T>()) })
}

/// A rid of a `T` in the caller's resource table.
pub(crate) fn rid<T: ?Sized>() -> Value {
    rid_or_null::<T>(false)
}

/// A rid of a `T`, or `null`.
pub(crate) fn optional_rid<T: ?Sized>() -> Value {
    rid_or_null::<T>(true)
}

fn rid_or_null<T: ?Sized>(optional: bool) -> Value {
    let kind = if optional {
        json!(["integer", "null"])
    } else {
        json!("integer")
    };
    let or_null = if optional { ", or `null` for none" } else { "" };
    json!({
        "type": kind,
        "format": "uint32",
        "minimum": 0,
        "maximum": u32::MAX,
        "description": format!(
            "the rid of a `{}` in the caller's resource table{or_null}",
            rust_type::<T>()
        ),
    })
}

/// A `#[buffer]` parameter: bytes beside the JSON arguments, not among them.
pub(crate) fn buffer() -> Value {
    json!({
        "type": "string",
        "contentEncoding": "base64",
        "description": "bytes passed beside the JSON arguments, not among them: over \
            JSON-RPC a base64 string in the request's `buffers` array, one per buffer \
            parameter in order, handed back in the response's `buffers`",
    })
}

/// A [`ByteBuf`](crate::ByteBuf) result: the bytes themselves.
pub(crate) fn bytes() -> Value {
    json!({
        "type": "string",
        "contentEncoding": "base64",
        "description": "bytes, not JSON: over JSON-RPC a base64 string",
    })
}

/// `T`'s name without module paths: `Vec<Opaque>` for `alloc::vec::Vec<app::Opaque>`.
fn rust_type<T: ?Sized>() -> String {
    let full = type_name::<T>();
    let mut out = String::with_capacity(full.len());
    let mut segment = String::new();
    for c in full.chars() {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            segment.push(c);
        } else {
            out += last_segment(&segment);
            segment.clear();
            out.push(c);
        }
    }
    out + last_segment(&segment)
}

fn last_segment(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

/// The range of an integer schema as `serde_json` reads and writes it, and a note on
/// JavaScript for the widths past 2^53.
fn describe_integer(schema: &mut schemars::Schema) {
    let Some(format) = schema.get("format").and_then(Value::as_str) else {
        return;
    };
    let format = format.to_owned();
    // The bounds, and the width of the integers past 2^53.
    let (min, max, wide): (Value, Value, Option<&str>) = match format.as_str() {
        "int32" => (i32::MIN.into(), i32::MAX.into(), None),
        "uint32" => (0.into(), u32::MAX.into(), None),
        "int64" => (i64::MIN.into(), i64::MAX.into(), Some("a signed 64-bit")),
        "uint64" => (0.into(), u64::MAX.into(), Some("an unsigned 64-bit")),
        "int" => (
            (isize::MIN as i64).into(),
            (isize::MAX as i64).into(),
            Some("a signed pointer-sized"),
        ),
        "uint" => (
            0.into(),
            (usize::MAX as u64).into(),
            Some("an unsigned pointer-sized"),
        ),
        // Their bounds do not fit a JSON number that `serde_json` can hold.
        "int128" => (Value::Null, Value::Null, Some("a signed 128-bit")),
        "uint128" => (Value::Null, Value::Null, Some("an unsigned 128-bit")),
        _ => return,
    };
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if !min.is_null() {
        object.entry("minimum").or_insert(min);
        object.entry("maximum").or_insert(max);
    }
    if let Some(width) = wide {
        let note = format!(
            "On the wire {width} integer, in full: a JSON number, never a string, with \
             no fraction or exponent. JavaScript's `number` holds integers exactly only \
             up to 2^53 − 1, so a JavaScript client parses larger ones as BigInt or \
             loses precision."
        );
        let description = match object.get("description").and_then(Value::as_str) {
            Some(own) => format!("{own} {note}"),
            None => note,
        };
        object.insert("description".into(), description.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_types_lose_their_module_paths() {
        struct Opaque;
        assert_eq!(rust_type::<Vec<Opaque>>(), "Vec<Opaque>");
        assert_eq!(
            rust_type::<std::collections::HashMap<String, (u8, [Opaque; 2])>>(),
            "HashMap<String, (u8, [Opaque; 2])>"
        );
        assert_eq!(rust_type::<&str>(), "&str");
    }

    #[test]
    fn integers_state_their_range_and_64_bits_their_precision() {
        let u64_schema = for_argument::<u64>();
        assert_eq!(u64_schema["type"], "integer");
        assert_eq!(u64_schema["minimum"], 0);
        assert_eq!(u64_schema["maximum"], u64::MAX);
        assert!(u64_schema["description"].as_str().unwrap().contains("2^53"));
        let i64_schema = for_result::<i64>();
        assert_eq!(i64_schema["minimum"], i64::MIN);
        assert_eq!(i64_schema["maximum"], i64::MAX);
        let u32_schema = for_argument::<u32>();
        assert_eq!(u32_schema["maximum"], u32::MAX);
        assert!(u32_schema.get("description").is_none());
        assert_eq!(for_argument::<u8>()["maximum"], 255);
        assert!(for_argument::<u128>()["description"].is_string());
        assert!(for_argument::<f64>().get("description").is_none());
    }

    #[test]
    fn schemas_are_draft_7_and_self_contained() {
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Inner {
            n: u8,
        }
        #[derive(schemars::JsonSchema)]
        #[allow(dead_code)]
        struct Outer {
            inner: Inner,
            pair: (u8, bool),
        }
        let schema = for_argument::<Outer>();
        assert!(schema.get("$schema").is_none());
        assert!(schema.get("definitions").is_none() && schema.get("$defs").is_none());
        assert_eq!(
            schema["properties"]["inner"]["properties"]["n"]["maximum"],
            255
        );
        // Draft 7 tuples: `items` as an array, not `prefixItems`.
        assert_eq!(schema["properties"]["pair"]["items"][1]["type"], "boolean");
    }
}
