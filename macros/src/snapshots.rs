//! Expansion snapshots: every `#[op]` in `tests/expand/*.rs` expanded and
//! pretty-printed, compared with `tests/snapshots/*.expanded.rs`.
//!
//! `OPKIT_BLESS=1 cargo test -p opkit-macros snapshots` rewrites the snapshots; review
//! the diff before committing it. The inputs also compile, under
//! `#![deny(warnings)]`, in the trybuild pass suite of `opkit-tests`.

use std::fs;
use std::path::{Path, PathBuf};

use quote::ToTokens;
use syn::{Item, parse_quote};

use crate::expand::expand_op;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The file with each `#[op]` function replaced by its expansion.
fn expand_file(source: &str) -> String {
    let file: syn::File = syn::parse_str(source).unwrap();
    let mut items = Vec::new();
    for item in file.items {
        let Item::Fn(mut func) = item else {
            items.push(item);
            continue;
        };
        let Some(at) = func.attrs.iter().position(|a| a.path().is_ident("op")) else {
            items.push(Item::Fn(func));
            continue;
        };
        let attr = func.attrs.remove(at);
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => proc_macro2::TokenStream::new(),
        };
        let expanded = expand_op(args, func.into_token_stream());
        let expanded: syn::File = parse_quote!(#expanded);
        items.extend(expanded.items);
    }
    prettyplease::unparse(&syn::File {
        shebang: None,
        attrs: file.attrs,
        items,
    })
}

#[test]
fn expansions_match_snapshots() {
    let inputs = workspace().join("tests/expand");
    let snapshots = workspace().join("tests/snapshots");
    let bless = std::env::var_os("OPKIT_BLESS").is_some();
    let mut names: Vec<_> = fs::read_dir(&inputs)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    names.sort();
    assert!(
        names.len() >= 6,
        "expected the snapshot inputs in {inputs:?}"
    );
    let mut stale = Vec::new();
    for input in names {
        let expanded = expand_file(&fs::read_to_string(&input).unwrap());
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        let snapshot = snapshots.join(format!("{stem}.expanded.rs"));
        if bless {
            fs::write(&snapshot, &expanded).unwrap();
        } else if fs::read_to_string(&snapshot).ok().as_deref() != Some(expanded.as_str()) {
            stale.push(stem);
        }
    }
    assert!(
        stale.is_empty(),
        "expansion snapshots differ: {stale:?}; rerun with OPKIT_BLESS=1 and review the diff"
    );
}

/// The size of a one-line op's expansion, kept in view: it is what every op costs.
#[test]
fn one_line_op_expansion_stays_small() {
    let source = fs::read_to_string(workspace().join("tests/expand/one_line.rs")).unwrap();
    let before = prettyplease::unparse(&syn::parse_str(&source).unwrap())
        .lines()
        .count();
    let after = expand_file(&source).lines().count();
    let added = after - before;
    println!("one-line op: {added} pretty-printed lines added by #[op]");
    assert!(added < 160, "a one-line op expands to {added} lines");
}
