// Ops written the way ordinary crates write them: raw identifiers, deprecated and
// `#[cfg]`-gated ops, lints allowed on the op, and a module without the prelude.
#![deny(warnings)]

/// A parameter named by a keyword: its wire name is `type`, not `r#type`.
#[opkit::op]
pub fn op_kind(r#type: String) -> String {
    r#type
}

/// A deprecated op compiles under `deny(warnings)`; its own expansion does not warn.
#[deprecated = "use op_kind"]
#[opkit::op]
pub fn op_old_kind(r#type: String) -> String {
    r#type
}

/// An op compiled out takes its companion with it.
#[cfg(any())]
#[opkit::op]
pub fn op_never() {}

/// The same with `#[cfg]` after `#[op]`, which the macro sees and carries over.
#[opkit::op]
#[cfg(any())]
pub fn op_never_either() {}

/// A lint allowed on the op applies to what the op generates too.
#[allow(clippy::too_many_arguments)]
#[opkit::op]
pub fn op_sum(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8, g: u8, h: u8) -> u32 {
    [a, b, c, d, e, f, g, h].iter().map(|&n| u32::from(n)).sum()
}

#[allow(deprecated)]
mod registered {
    opkit::extension!(pub kinds, ops = [super::op_kind, super::op_old_kind, super::op_sum]);
}

#[no_implicit_prelude]
mod bare {
    #[::opkit::op]
    pub fn op_twice(n: u32) -> u32 {
        n * 2
    }

    #[::opkit::op]
    pub async fn op_later(state: ::std::rc::Rc<::std::cell::RefCell<::opkit::OpState>>) -> u32 {
        let _ = state;
        1
    }

    ::opkit::extension!(pub bare_ext, ops = [op_twice, op_later]);
}

fn main() {
    let rt = opkit::Runtime::new([registered::kinds(), bare::bare_ext()]).unwrap();
    let named = rt.call_sync("op_kind_sync", br#"{"type": "fruit"}"#, &mut []).unwrap();
    assert_eq!(named, br#""fruit""#);
    assert_eq!(
        rt.call_sync("op_twice_sync", b"[21]", &mut []).unwrap(),
        b"42"
    );
    let meta = rt.op_id("op_kind_sync");
    assert!(meta.is_some());
}
