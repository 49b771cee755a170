//! The macro through rustc: every snapshot input and every documented parameter and
//! return kind (`pass/every-kind.rs`) compiles under `#![deny(warnings)]`,
//! and every misuse in `ui/` fails with the reviewed message in its `.stderr`.

#[test]
fn snapshot_inputs_compile() {
    let t = trybuild::TestCases::new();
    t.pass("expand/*.rs");
    t.pass("pass/*.rs");
}

#[test]
fn misuses_fail_with_spanned_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*.rs");
}
