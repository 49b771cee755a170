//! The table of supported parameter and return kinds: the one source for the table in
//! the `#[op]` docs (`core/src/op.md`) and the README, and for the pass test
//! `tests/pass/every-kind.rs`, which compiles every row in every entry it supports.
//!
//! The tests below feed every row through the macro in every mode, and fail when a
//! committed copy of the table or of the pass test is stale; `OPKIT_BLESS=1` rewrites
//! them.

use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;

use crate::expand::expand_op;

/// How an entry treats a parameter: `None` when the macro rejects it there.
type Cell = Option<&'static str>;

struct ParamRow {
    ty: &'static str,
    attr: &'static str,
    /// The parameter as written in an op.
    example: &'static str,
    sync: Cell,
    blocking: Cell,
    async_fn: Cell,
    notes: &'static str,
}

struct ReturnRow {
    ty: &'static str,
    /// The return type in Rust, for the ops the tests generate.
    rust: &'static str,
    /// A body that returns it.
    body: &'static str,
    answer: &'static str,
}

const PARAMS: &[ParamRow] = &[
    ParamRow {
        ty: "`T: Deserialize`",
        attr: "",
        example: "count: u32",
        sync: Some("moved"),
        blocking: Some("moved"),
        async_fn: Some("moved"),
        notes: "decoded from the JSON arguments, by position or by name",
    },
    ParamRow {
        ty: "`Option<T>`",
        attr: "",
        example: "limit: Option<u32>",
        sync: Some("moved"),
        blocking: Some("moved"),
        async_fn: Some("moved"),
        notes: "may be left out: by name, or at the end of a positional list; an alias of `Option` too",
    },
    ParamRow {
        ty: "`&str`",
        attr: "",
        example: "name: &str",
        sync: Some("lent"),
        blocking: Some("lent"),
        async_fn: None,
        notes: "decoded as `String`; an `async fn` takes `String`",
    },
    ParamRow {
        ty: "`&[T]`",
        attr: "",
        example: "items: &[u32]",
        sync: Some("lent"),
        blocking: Some("lent"),
        async_fn: None,
        notes: "decoded as `Vec<T>`",
    },
    ParamRow {
        ty: "`&Path`",
        attr: "",
        example: "path: &Path",
        sync: Some("lent"),
        blocking: Some("lent"),
        async_fn: None,
        notes: "decoded as `PathBuf`",
    },
    ParamRow {
        ty: "`&T`",
        attr: "",
        example: "point: &Point",
        sync: Some("lent"),
        blocking: Some("lent"),
        async_fn: None,
        notes: "decoded as `T`",
    },
    ParamRow {
        ty: "`&T`",
        attr: "`#[state]`",
        example: "#[state] config: &Config",
        sync: Some("borrowed"),
        blocking: Some("cloned"),
        async_fn: Some("cloned"),
        notes: "from `OpState`; async entries need `T: Clone` (and `Send` for `spawn_blocking`)",
    },
    ParamRow {
        ty: "`&mut T`",
        attr: "`#[state]`",
        example: "#[state] counter: &mut Counter",
        sync: Some("borrowed"),
        blocking: None,
        async_fn: None,
        notes: "from `OpState`; the only parameter that borrows it",
    },
    ParamRow {
        ty: "`&OpState`",
        attr: "",
        example: "state: &OpState",
        sync: Some("borrowed"),
        blocking: None,
        async_fn: None,
        notes: "the whole state, resource table included",
    },
    ParamRow {
        ty: "`&mut OpState`",
        attr: "",
        example: "state: &mut OpState",
        sync: Some("borrowed"),
        blocking: None,
        async_fn: None,
        notes: "the only parameter that borrows the state",
    },
    ParamRow {
        ty: "`Rc<RefCell<OpState>>`",
        attr: "",
        example: "state: Rc<RefCell<OpState>>",
        sync: None,
        blocking: None,
        async_fn: Some("shared"),
        notes: "borrow it between awaits, never across one",
    },
    ParamRow {
        ty: "`&[u8]`",
        attr: "`#[buffer]`",
        example: "#[buffer] data: &[u8]",
        sync: Some("lent"),
        blocking: Some("lent"),
        async_fn: Some("lent"),
        notes: "a byte buffer beside the arguments, handed back after the call",
    },
    ParamRow {
        ty: "`&mut [u8]`",
        attr: "`#[buffer]`",
        example: "#[buffer] out: &mut [u8]",
        sync: Some("lent"),
        blocking: Some("lent"),
        async_fn: Some("lent"),
        notes: "written by the body, handed back to the caller",
    },
    ParamRow {
        ty: "`Vec<u8>`",
        attr: "`#[buffer]`",
        example: "#[buffer] data: Vec<u8>",
        sync: Some("moved"),
        blocking: Some("moved"),
        async_fn: Some("moved"),
        notes: "the buffer is taken; the caller gets an empty one back",
    },
    ParamRow {
        ty: "`Vec<u8>`, `&[u8]`",
        attr: "`#[serde]`",
        example: "#[serde] data: Vec<u8>",
        sync: Some("moved"),
        blocking: Some("moved"),
        async_fn: Some("moved"),
        notes: "a JSON array of numbers; without an attribute, bytes are an error that asks for `#[buffer]` or `#[serde]`",
    },
    ParamRow {
        ty: "`&T`",
        attr: "`#[resource]`",
        example: "#[resource] note: &Note",
        sync: Some("looked up"),
        blocking: Some("looked up"),
        async_fn: Some("looked up"),
        notes: "a rid in the JSON arguments, `T: Resource`; closing the rid interrupts a pending async call",
    },
    ParamRow {
        ty: "`Arc<T>`",
        attr: "`#[resource]`",
        example: "#[resource] note: Arc<Note>",
        sync: Some("looked up"),
        blocking: Some("looked up"),
        async_fn: Some("looked up"),
        notes: "as above, the body keeps a handle",
    },
    ParamRow {
        ty: "`Option<&T>`, `Option<Arc<T>>`",
        attr: "`#[resource]`",
        example: "#[resource] cancel: Option<&Note>",
        sync: Some("looked up"),
        blocking: Some("looked up"),
        async_fn: Some("looked up"),
        notes: "a rid that may be left out or `null`; when given, closing it interrupts the call",
    },
];

const RETURNS: &[ReturnRow] = &[
    ReturnRow {
        ty: "`()`",
        rust: "()",
        body: "",
        answer: "`null`",
    },
    ReturnRow {
        ty: "`T: Serialize`",
        rust: "Point",
        body: "Point { x: 1, y: 2 }",
        answer: "the value as JSON",
    },
    ReturnRow {
        ty: "`Result<T, E>`, `E: Into<OpError>`",
        rust: "Result<u32, OpError>",
        body: "Ok::<u32, OpError>(1)",
        answer: "the value, or the error with the op named",
    },
    ReturnRow {
        ty: "`io::Result<T>` and any other alias of `Result`",
        rust: "std::io::Result<u64>",
        body: "std::fs::metadata(\".\").map(|m| m.len())",
        answer: "as `Result`; an `io::Error` keeps its class and errno name",
    },
    ReturnRow {
        ty: "`ByteBuf`",
        rust: "ByteBuf",
        body: "ByteBuf(vec![1, 2, 3])",
        answer: "the bytes as they are, not JSON (base64 over JSON-RPC)",
    },
    ReturnRow {
        ty: "`NewResource<T>`",
        rust: "NewResource<Note>",
        body: "NewResource(Note::default())",
        answer: "the rid of the resource, added to the caller's table",
    },
    ReturnRow {
        ty: "`Result<NewResource<T>, E>`",
        rust: "Result<NewResource<Note>, OpError>",
        body: "Ok::<_, OpError>(NewResource(Note::default()))",
        answer: "the rid, or the error",
    },
    ReturnRow {
        ty: "`T: Serialize` holding `Rid<R>`s",
        rust: "Opened",
        body: "Opened { rid: Rid::new(Note::default()), name: String::new() }",
        answer: "the value, each `Rid` as the rid of its resource, added to the caller's table",
    },
];

fn cell(cell: Cell) -> &'static str {
    cell.unwrap_or("rejected at compile time")
}

/// The markdown table, as it stands between the markers.
fn render_table() -> String {
    let mut out = String::from(
        "| parameter | attribute | sync entry | async entry (`fn`) | `async fn` | notes |\n\
         |---|---|---|---|---|---|\n",
    );
    for row in PARAMS {
        out += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            row.ty,
            if row.attr.is_empty() {
                "none"
            } else {
                row.attr
            },
            cell(row.sync),
            cell(row.blocking),
            cell(row.async_fn),
            row.notes
        );
    }
    out += "\n| return type | the caller gets |\n|---|---|\n";
    for row in RETURNS {
        out += &format!("| {} | {} |\n", row.ty, row.answer);
    }
    out
}

/// The pass test: every supported row as an op in each entry it supports.
fn render_pass_test() -> String {
    let mut ops = Vec::new();
    let mut out = String::from(
        "// @generated by `cargo test -p opkit-macros kinds` from macros/src/kinds.rs;\n\
         // `OPKIT_BLESS=1` rewrites it. Every supported parameter and return kind, in every\n\
         // entry it supports, compiles under `#![deny(warnings)]`.\n\
         #![deny(warnings)]\n\n\
         use std::cell::RefCell;\n\
         use std::path::Path;\n\
         use std::rc::Rc;\n\
         use std::sync::Arc;\n\n\
         use opkit::{ByteBuf, NewResource, OpError, OpState, Resource, Rid, op};\n\n\
         #[derive(Clone, serde::Serialize, serde::Deserialize)]\n\
         pub struct Point {\n    x: i32,\n    y: i32,\n}\n\n\
         #[derive(Clone)]\n\
         pub struct Config;\n\n\
         pub struct Counter;\n\n\
         #[derive(Default)]\n\
         pub struct Note;\n\n\
         impl Resource for Note {}\n\n\
         #[derive(serde::Serialize)]\n\
         pub struct Opened {\n    rid: Rid<Note>,\n    name: String,\n}\n",
    );
    for (index, row) in PARAMS.iter().enumerate() {
        let name = row.example.split(':').next().unwrap_or("x");
        let name = name.rsplit(' ').next().unwrap_or(name);
        let body = format!("{{\n    let _ = &{name};\n}}");
        let attr = match (row.sync, row.blocking) {
            (Some(_), Some(_)) => Some("#[op]"),
            (Some(_), None) => Some("#[op(sync)]"),
            (None, Some(_)) => Some("#[op(async)]"),
            (None, None) => None,
        };
        if let Some(attr) = attr {
            let op = format!("op_param_{index}");
            out += &format!("\n{attr}\npub fn {op}({}) {body}\n", row.example);
            ops.push(op);
        }
        if row.async_fn.is_some() {
            let op = format!("op_param_{index}_future");
            out += &format!("\n#[op]\npub async fn {op}({}) {body}\n", row.example);
            ops.push(op);
        }
    }
    for (index, row) in RETURNS.iter().enumerate() {
        let ty = row.rust;
        for (prefix, suffix) in [("", ""), ("async ", "_future")] {
            let op = format!("op_return_{index}{suffix}");
            out += &format!(
                "\n#[op]\npub {prefix}fn {op}() -> {ty} {{\n    {}\n}}\n",
                row.body
            );
            ops.push(op);
        }
    }
    out += &format!(
        "\nopkit::extension!(every_kind, ops = [\n    {},\n]);\n\n\
         fn main() {{\n    let rt = opkit::Runtime::new([every_kind()]);\n    assert!(rt.is_ok());\n}}\n",
        ops.join(",\n    ")
    );
    out
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const START: &str = "<!-- kinds:start -->\n";
const END: &str = "<!-- kinds:end -->";

/// `text` with the part between the markers replaced by `table`.
fn splice(text: &str, table: &str) -> Option<String> {
    let start = text.find(START)? + START.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}{table}{}", &text[..start], &text[end..]))
}

/// Compares (or with `OPKIT_BLESS`, rewrites) a generated file; returns whether it
/// was stale.
fn check(path: &Path, expected: &str) -> bool {
    let actual = fs::read_to_string(path).unwrap_or_default();
    if actual == expected {
        return false;
    }
    if std::env::var_os("OPKIT_BLESS").is_some() {
        fs::write(path, expected).unwrap();
        return false;
    }
    true
}

fn has_errors(tokens: &TokenStream) -> bool {
    tokens.to_string().contains("compile_error")
}

#[test]
fn every_row_expands_as_documented() {
    for row in PARAMS {
        let cases = [
            ("sync", "fn", row.sync),
            ("async", "fn", row.blocking),
            ("", "async fn", row.async_fn),
        ];
        for (option, func, cell) in cases {
            let attr: TokenStream = option.parse().unwrap();
            let item: TokenStream = format!("{func} op_row({}) {{}}", row.example)
                .parse()
                .unwrap();
            let expanded = expand_op(attr, item);
            assert_eq!(
                has_errors(&expanded),
                cell.is_none(),
                "`{}` in `#[op({option})] {func}`: the table says {:?}",
                row.example,
                cell
            );
        }
    }
    for row in RETURNS {
        for func in ["fn", "async fn"] {
            let item: TokenStream = format!("{func} op_row() -> {} {{ {} }}", row.rust, row.body)
                .parse()
                .unwrap();
            assert!(
                !has_errors(&expand_op(TokenStream::new(), item)),
                "-> {}",
                row.rust
            );
        }
    }
}

#[test]
fn committed_tables_and_pass_test_are_fresh() {
    let table = render_table();
    let mut stale = Vec::new();
    for doc in ["README.md", "core/src/op.md"] {
        let path = workspace().join(doc);
        let text = fs::read_to_string(&path).unwrap();
        let fresh =
            splice(&text, &table).unwrap_or_else(|| panic!("{doc} lacks the kinds markers"));
        if check(&path, &fresh) {
            stale.push(doc);
        }
    }
    if check(
        &workspace().join("tests/pass/every-kind.rs"),
        &render_pass_test(),
    ) {
        stale.push("tests/pass/every-kind.rs");
    }
    assert!(
        stale.is_empty(),
        "{stale:?} are stale; run `OPKIT_BLESS=1 cargo test -p opkit-macros kinds` and review the diff"
    );
}
