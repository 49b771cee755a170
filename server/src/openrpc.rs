//! The OpenRPC document of a dispatch table: what `rpc.discover` answers and
//! `opkit docs --format openrpc` prints, built in this one place from the ops' own
//! metadata.
//!
//! Each entry (`op_stat_sync`, `op_stat_async`) is a method. Its params are the op's
//! JSON arguments by name, with their schemas and whether they may be left out; byte
//! buffers do not travel in `params` but base64-encoded in the request's `buffers`
//! array, so they are left out of `params`, named in the description, and listed in
//! the method's `x-opkit-buffers` extension. The errors are the ones the server
//! answers an op's failure with (see `rpc.rs`): `-32602` for a `TypeError`, `-32000`
//! for every other class, the class in `data.class`.

use std::sync::OnceLock;

use opkit::{DispatchTable, ErrorClass, OpMeta, ParamKindMeta, TableEntry};
use serde_json::{Map, Value, json};

use crate::rpc::{INVALID_PARAMS, OP_ERROR};

/// The version of the OpenRPC specification the document follows.
pub const OPENRPC_VERSION: &str = "1.3.2";

/// What the document says of the API as a whole: its `info` object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiInfo {
    pub title: String,
    pub version: String,
}

impl Default for ApiInfo {
    /// `opkit`, at the version of this crate.
    fn default() -> Self {
        Self {
            title: "opkit".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The OpenRPC document of every entry of `table`, in table order.
///
/// `rpc.discover` itself is not listed: the specification reserves the `rpc.` prefix
/// for the protocol's own methods, and its reference services describe only their
/// own.
pub fn openrpc(table: &DispatchTable, info: &ApiInfo) -> Value {
    let methods: Vec<Value> = table.entries().iter().map(method).collect();
    let errors: Map<String, Value> = ErrorClass::ALL
        .iter()
        .map(|&class| (class.as_str().to_owned(), error(class)))
        .collect();
    json!({
        "openrpc": OPENRPC_VERSION,
        "info": {
            "title": info.title,
            "version": info.version,
            "description": "Ops served over JSON-RPC 2.0 by opkit-server. A method is an \
                op's entry; `params` are its arguments, by position or by name; byte \
                buffers go base64-encoded in a `buffers` array beside `params` and come \
                back, as the op left them, in the response's `buffers`. An op's error carries \
                its class in `data.class` (the errors listed), the op's name in `data.op` \
                and the OS error's name (e.g. `ENOENT`) or null in `data.code`.",
        },
        "methods": methods,
        "components": { "errors": errors },
    })
}

/// The error object of an op's failure of `class`, as the server answers it.
fn error(class: ErrorClass) -> Value {
    let code = match class {
        ErrorClass::TypeError => INVALID_PARAMS,
        _ => OP_ERROR,
    };
    json!({
        "code": code,
        "message": class.as_str(),
        "data": { "class": class.as_str() },
    })
}

fn method(entry: &TableEntry) -> Value {
    let meta = entry.decl.meta;
    let mut params = Vec::new();
    let mut buffers = Vec::new();
    for param in meta.params {
        let Some(schema) = param.schema else { continue };
        match param.kind {
            ParamKindMeta::Buffer => buffers.push(json!({
                "name": param.name,
                "index": buffers.len(),
                "schema": schema(),
            })),
            ParamKindMeta::Serde | ParamKindMeta::Resource => params.push(json!({
                "name": param.name,
                "required": !param.optional,
                "schema": schema(),
            })),
            ParamKindMeta::State | ParamKindMeta::OpState => {}
        }
    }
    let errors: Vec<Value> = ErrorClass::ALL
        .iter()
        .map(|class| json!({ "$ref": format!("#/components/errors/{}", class.as_str()) }))
        .collect();
    let example = example(meta, &params);
    let mut method = json!({
        "name": entry.decl.entry,
        "description": description(entry, &buffers),
        "paramStructure": "either",
        "params": params,
        "result": { "name": "result", "schema": (meta.ret_schema)() },
        "errors": errors,
        "examples": [example],
        "x-opkit-op": {
            "name": meta.name,
            "extension": entry.extension,
            "mode": entry.decl.mode.as_str(),
            "permission": meta.permission,
        },
    });
    if let Some(summary) = summary(meta.doc) {
        method["summary"] = summary.into();
    }
    if !buffers.is_empty() {
        method["x-opkit-buffers"] = buffers.into();
    }
    method
}

/// The doc comment's first sentence, its lines joined.
fn summary(doc: &str) -> Option<String> {
    let paragraph: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    let paragraph = paragraph.join(" ");
    let end = paragraph.find(". ").map_or(paragraph.len(), |at| at + 1);
    let sentence = paragraph[..end].trim();
    (!sentence.is_empty()).then(|| sentence.to_owned())
}

fn description(entry: &TableEntry, buffers: &[Value]) -> String {
    let meta = entry.decl.meta;
    let mut text = meta.doc.to_owned();
    let mut add = |line: String| {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&line);
    };
    add(entry_note(entry));
    if !buffers.is_empty() {
        let names: Vec<String> = buffers
            .iter()
            .filter_map(|b| b["name"].as_str())
            .map(|name| format!("`{name}`"))
            .collect();
        add(format!(
            "Byte buffers, not in `params`: {} in the request's `buffers` array, in \
             this order, each a base64 string (see `x-opkit-buffers`).",
            names.join(", ")
        ));
    }
    text
}

/// One example call: the required params, their values made from their schemas (the
/// optional ones are left out, as a caller would).
fn example(meta: &OpMeta, params: &[Value]) -> Value {
    let params: Vec<Value> = params
        .iter()
        .filter(|param| param["required"] == true)
        .map(|param| {
            json!({
                "name": param["name"],
                "value": example_value(&param["schema"], &param["schema"], 0),
            })
        })
        .collect();
    json!({ "name": format!("{} example", meta.name), "params": params })
}

/// A value `schema` accepts, as small as it can be: the first variant, the required
/// members only, empty arrays. `root` resolves `$ref`s to its `definitions`.
fn example_value(schema: &Value, root: &Value, depth: usize) -> Value {
    // A recursive type's schema refers to itself; past this depth the smallest value
    // is taken (schemars' recursive types allow null or an empty array there).
    const MAX_DEPTH: usize = 16;
    let Some(schema) = schema.as_object() else {
        return Value::Null;
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema.get("enum").and_then(|e| e.as_array()?.first()) {
        return first.clone();
    }
    if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
        let found = target
            .strip_prefix("#/")
            .map(|path| {
                path.split('/')
                    .try_fold(root, |node, key| node.get(key))
                    .unwrap_or(&Value::Null)
            })
            .unwrap_or(&Value::Null);
        return example_value(found, root, depth + 1);
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema.get(key).and_then(|v| v.as_array()?.first()) {
            return example_value(first, root, depth + 1);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(ty)) => ty.as_str(),
        // `["string", "null"]`: an optional value, given.
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => return Value::Null,
    };
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    match ty {
        "string" => match schema.get("contentEncoding").and_then(Value::as_str) {
            Some("base64") => "aGVsbG8=".into(),
            _ => "a.txt".into(),
        },
        "integer" => number("minimum").map_or(json!(0), |min| json!(min.max(0.0).ceil() as i64)),
        "number" => number("minimum").map_or(json!(0.0), |min| json!(min.max(0.0))),
        "boolean" => false.into(),
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let items = schema.get("items").unwrap_or(&Value::Null);
            (0..min)
                .map(|_| example_value(items, root, depth + 1))
                .collect::<Vec<_>>()
                .into()
        }
        "object" => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let required = schema.get("required").and_then(Value::as_array);
            let mut out = Map::new();
            for name in required.into_iter().flatten().filter_map(Value::as_str) {
                let property = properties.and_then(|p| p.get(name)).unwrap_or(&Value::Null);
                out.insert(name.to_owned(), example_value(property, root, depth + 1));
            }
            out.into()
        }
        _ => Value::Null,
    }
}

/// The document of one server's table, made on the first `rpc.discover` and kept.
pub(crate) struct Discovery {
    info: ApiInfo,
    document: OnceLock<Vec<u8>>,
}

impl Discovery {
    pub(crate) fn new(info: ApiInfo) -> Self {
        Self {
            info,
            document: OnceLock::new(),
        }
    }

    /// The document as JSON text.
    pub(crate) fn document(&self, table: &DispatchTable) -> &[u8] {
        self.document.get_or_init(|| {
            // Serializing a `Value` cannot fail.
            serde_json::to_vec(&openrpc(table, &self.info)).unwrap_or_default()
        })
    }
}

/// What a description says of every entry besides its doc comment: its mode, op,
/// extension and permission. Shared by the OpenRPC document and the TypeScript
/// declarations, so that the two read alike.
pub fn entry_note(entry: &TableEntry) -> String {
    let meta = entry.decl.meta;
    format!(
        "The {} entry of `{}` (extension `{}`); permission: {}.",
        entry.decl.mode.as_str(),
        meta.name,
        entry.extension,
        meta.permission
            .map_or("none".to_owned(), |p| format!("`{p}`")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_values_fit_their_schemas() {
        let cases = [
            (json!({"type": "string"}), json!("a.txt")),
            (json!({"type": "integer", "minimum": 1}), json!(1)),
            (json!({"type": ["integer", "null"]}), json!(0)),
            (json!({"enum": ["b", "c"]}), json!("b")),
            (
                json!({"type": "object", "required": ["n"], "properties": {"n": {"type": "boolean"}, "o": {"type": "string"}}}),
                json!({"n": false}),
            ),
            (
                json!({"type": "array", "minItems": 2, "items": {"type": "number"}}),
                json!([0.0, 0.0]),
            ),
            (json!({}), Value::Null),
        ];
        for (schema, expected) in cases {
            assert_eq!(example_value(&schema, &schema, 0), expected, "{schema}");
        }
    }

    #[test]
    fn the_summary_is_the_first_sentence() {
        assert_eq!(
            summary("Writes the buffer. `create` makes\nthe file.\n\nMore.").as_deref(),
            Some("Writes the buffer.")
        );
        assert_eq!(
            summary("The metadata of a file,\nfollowing a final symlink.").as_deref(),
            Some("The metadata of a file, following a final symlink.")
        );
        assert_eq!(summary(""), None);
    }

    #[test]
    fn refs_resolve_against_the_root_and_recursion_stops() {
        let schema = json!({
            "$ref": "#/definitions/Tree",
            "definitions": {"Tree": {"type": "object", "required": ["next"], "properties": {"next": {"$ref": "#/definitions/Tree"}}}},
        });
        let value = example_value(&schema, &schema, 0);
        assert!(value["next"]["next"].is_object(), "{value}");
    }
}
