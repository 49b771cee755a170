//! Every parameter and result has a JSON Schema, chosen by the compiler on the concrete
//! type: `schemars`' where the type implements `JsonSchema`, a description naming the
//! Rust type where it does not; rids, buffers, `ByteBuf`, `()` and `NewResource` have
//! their own; a `Result` (or an alias of one) is described by its success value. The
//! ops of opkit-fs and opkit-net have a real schema for every parameter and result.

use std::marker::PhantomData;

use opkit::schemars::JsonSchema;
use opkit::{ByteBuf, NewResource, OpError, OpMeta, ParamMeta, Resource, Rid, op};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A point in the plane.
#[derive(Deserialize, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
struct Point {
    /// How far right.
    x: f64,
    /// How far up.
    y: f64,
    /// A label, `""` when left out.
    #[serde(default)]
    label: String,
}

/// Deserializable, with no `JsonSchema`.
#[derive(Deserialize, Serialize)]
struct Opaque(u8);

struct Note;
impl Resource for Note {}

/// A user error.
#[derive(Debug)]
struct ApiError;

impl From<ApiError> for OpError {
    fn from(_: ApiError) -> Self {
        OpError::generic("api")
    }
}

type Fallible<T> = Result<T, ApiError>;

/// A result with a resource inside.
#[derive(Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
struct Opened {
    rid: Rid<Note>,
    /// How big it is.
    size: u64,
}

#[op]
fn op_scalars(count: u32, offset: i64, name: &str, limit: Option<u32>) -> u64 {
    u64::from(count) + offset.unsigned_abs() + name.len() as u64 + u64::from(limit.unwrap_or(0))
}

#[op]
fn op_point(point: Point) -> Point {
    point
}

#[op]
fn op_opaque(value: Opaque) -> Opaque {
    value
}

#[op(sync)]
fn op_kinds(
    #[state] _config: &Config,
    #[resource] _note: &Note,
    #[resource] _other: Option<&Note>,
    #[buffer] data: &[u8],
) -> usize {
    data.len()
}

#[derive(Clone, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
struct Config;

#[op]
fn op_unit() {}

#[op]
fn op_bytes() -> ByteBuf {
    ByteBuf(Vec::new())
}

#[op]
fn op_fallible_bytes() -> Fallible<ByteBuf> {
    Ok(ByteBuf(Vec::new()))
}

#[op]
fn op_result() -> Result<Point, OpError> {
    Err(OpError::generic("no point"))
}

#[op]
fn op_alias() -> Fallible<Vec<u8>> {
    Ok(Vec::new())
}

#[op]
fn op_new_note() -> NewResource<Note> {
    NewResource(Note)
}

#[op]
fn op_maybe_note() -> Result<NewResource<Note>, OpError> {
    Ok(NewResource(Note))
}

#[op]
fn op_opened() -> Opened {
    Opened {
        rid: Rid::new(Note),
        size: 0,
    }
}

/// Nested results: only the outer `Result` is the op's error; the inner one is a value.
#[op]
fn op_nested() -> Fallible<Result<u8, String>> {
    Ok(Ok(1))
}

trait Unit: Send + Sync + 'static {}
struct Metre;
impl Unit for Metre {}

#[derive(Deserialize)]
struct Length<U>(f64, PhantomData<fn() -> U>);

/// A generic op whose parameter mentions its type parameter: it compiles, with the
/// fallback schema.
#[op]
fn op_generic<U: Unit>(length: Length<U>, scale: f64) -> f64 {
    length.0 * scale
}

fn param(meta: &OpMeta, name: &str) -> Value {
    let param: &ParamMeta = meta
        .params
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{} has no parameter {name}", meta.name));
    (param
        .schema
        .unwrap_or_else(|| panic!("{name} has no schema")))()
}

fn ret(meta: &OpMeta) -> Value {
    (meta.ret_schema)()
}

/// The schema opkit gives a type without one: a description and nothing else.
fn is_fallback(schema: &Value) -> bool {
    schema
        .as_object()
        .is_some_and(|object| object.keys().eq(["description"]))
}

#[test]
fn scalars_are_described_as_their_types() {
    let meta = op_scalars::META;
    let count = param(meta, "count");
    assert_eq!(count["type"], "integer");
    assert_eq!(count["format"], "uint32");
    assert_eq!(
        (count["minimum"].clone(), count["maximum"].clone()),
        (json!(0), json!(u32::MAX))
    );
    // A type inlined has no made-up title; a named one keeps its name.
    assert_eq!(param(meta, "name"), json!({ "type": "string" }));
    assert!(!meta.params[2].optional);
}

#[test]
fn sixty_four_bit_integers_say_how_they_travel() {
    let offset = param(op_scalars::META, "offset");
    assert_eq!(offset["format"], "int64");
    assert_eq!(offset["minimum"], json!(i64::MIN));
    assert_eq!(offset["maximum"], json!(i64::MAX));
    let note = offset["description"].as_str().unwrap();
    assert!(note.contains("JSON number, never a string"), "{note}");
    assert!(note.contains("2^53"), "{note}");
    let result = ret(op_scalars::META);
    assert_eq!(result["format"], "uint64");
    assert_eq!(result["maximum"], json!(u64::MAX));
    assert!(result["description"].as_str().unwrap().contains("BigInt"));
}

#[test]
fn an_option_is_not_required_and_admits_null() {
    let meta = op_scalars::META;
    let limit = meta.params.iter().find(|p| p.name == "limit").unwrap();
    assert!(limit.optional);
    assert_eq!(param(meta, "limit")["type"], json!(["integer", "null"]));
}

#[test]
fn a_struct_with_json_schema_has_its_own() {
    let point = param(op_point::META, "point");
    assert_eq!(point["type"], "object");
    assert_eq!(point["title"], "Point");
    assert_eq!(point["description"], "A point in the plane.");
    assert_eq!(point["properties"]["x"]["type"], "number");
    assert_eq!(point["properties"]["x"]["description"], "How far right.");
    // An argument is described as it is read: a defaulted field may be left out.
    assert_eq!(point["required"], json!(["x", "y"]));
    // A result as it is written: every field is there.
    assert_eq!(ret(op_point::META)["required"], json!(["x", "y", "label"]));
    assert!(point.get("$schema").is_none());
}

#[test]
fn a_type_without_json_schema_compiles_and_is_named() {
    let value = param(op_opaque::META, "value");
    assert_eq!(
        value,
        json!({ "description": "`Opaque` (a Rust type with no JSON Schema)" })
    );
    assert!(is_fallback(&ret(op_opaque::META)));
    assert!(!is_fallback(&param(op_point::META, "point")));
}

#[test]
fn resources_are_rids_and_buffers_are_bytes() {
    let meta = op_kinds::META;
    let note = param(meta, "_note");
    assert_eq!(note["type"], "integer");
    assert_eq!(note["format"], "uint32");
    assert_eq!(note["maximum"], json!(u32::MAX));
    assert_eq!(
        note["description"],
        "the rid of a `Note` in the caller's resource table"
    );
    let other = param(meta, "_other");
    assert_eq!(other["type"], json!(["integer", "null"]));
    assert!(meta.params[2].optional);
    let data = param(meta, "data");
    assert_eq!(data["type"], "string");
    assert_eq!(data["contentEncoding"], "base64");
    assert!(data["description"].as_str().unwrap().contains("`buffers`"));
    // The guest does not pass a `#[state]` parameter: it has no schema, even when its
    // type has one.
    assert!(meta.params[0].schema.is_none());
}

#[test]
fn results_of_each_kind() {
    assert_eq!(ret(op_unit::META), json!({ "type": "null" }));
    for meta in [op_bytes::META, op_fallible_bytes::META] {
        let bytes = ret(meta);
        assert_eq!(bytes["type"], "string", "{}", meta.name);
        assert_eq!(bytes["contentEncoding"], "base64", "{}", meta.name);
    }
    // A `Result` is its success value, written out or through an alias.
    assert_eq!(ret(op_result::META), ret(op_point::META));
    let alias = ret(op_alias::META);
    assert_eq!(alias["type"], "array");
    assert_eq!(alias["items"]["format"], "uint8");
    for meta in [op_new_note::META, op_maybe_note::META] {
        let rid = ret(meta);
        assert_eq!(rid["type"], "integer", "{}", meta.name);
        assert_eq!(
            rid["description"],
            "the rid of a `Note` in the caller's resource table"
        );
    }
    // Only the op's own `Result` is unwrapped: an inner one is a value, as serde
    // writes it.
    let nested = ret(op_nested::META);
    assert!(nested["oneOf"].is_array(), "{nested}");
}

#[test]
fn a_rid_inside_a_result_is_a_rid() {
    let opened = ret(op_opened::META);
    assert_eq!(opened["properties"]["rid"]["format"], "uint32");
    assert_eq!(
        opened["properties"]["rid"]["description"],
        "the rid of a `Note` in the caller's resource table"
    );
    let size = opened["properties"]["size"]["description"]
        .as_str()
        .unwrap();
    assert!(
        size.starts_with("How big it is. On the wire an unsigned 64-bit"),
        "{size}"
    );
}

#[test]
fn a_generic_parameter_falls_back() {
    let meta = op_generic::<Metre>::META;
    assert!(is_fallback(&param(meta, "length")));
    assert!(
        param(meta, "length")["description"]
            .as_str()
            .unwrap()
            .contains("Length<Metre>")
    );
    assert_eq!(param(meta, "scale")["type"], "number");
}

/// Every parameter the guest passes and every result of the fs and net ops, and of the
/// ops every runtime has, has a schema of its own, none the fallback.
#[test]
fn fs_and_net_ops_have_real_schemas() {
    let fs = opkit_fs::op_decls();
    let net = opkit_net::extension(opkit_net::NetPermissions::default());
    let builtin = opkit::op_close::DECLS
        .iter()
        .chain(opkit::op_resources::DECLS);
    let decls = fs.iter().chain(net.decls()).chain(builtin);
    let mut checked = 0;
    for decl in decls {
        let meta = decl.meta;
        for p in meta.params {
            match (
                p.kind.is_argument() || p.kind == opkit::ParamKindMeta::Buffer,
                p.schema,
            ) {
                (true, Some(schema)) => {
                    let schema = schema();
                    assert!(!is_fallback(&schema), "{}({}): {schema}", meta.name, p.name);
                    checked += 1;
                }
                (true, None) => panic!("{}({}) has no schema", meta.name, p.name),
                (false, schema) => assert!(schema.is_none(), "{}({})", meta.name, p.name),
            }
        }
        let result = ret(meta);
        assert!(
            !is_fallback(&result),
            "{} -> {}: {result}",
            meta.name,
            meta.ret
        );
    }
    assert!(checked > 50, "{checked}");
}
