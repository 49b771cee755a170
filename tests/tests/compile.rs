//! The macro through rustc: every snapshot input compiles under `#![deny(warnings)]`.

#[test]
fn snapshot_inputs_compile() {
    let t = trybuild::TestCases::new();
    t.pass("expand/*.rs");
}
