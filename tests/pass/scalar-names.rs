//! Argument types are read by what they are, not by how they are written: a user's
//! type imported under a scalar's name (`String`) goes through serde, and scalars under
//! other names (an alias, a full path) take the hand-written readers. Both decode, and
//! a trait of the user's in scope does not get in the way.
#![deny(warnings)]

use opkit::{Extension, Runtime, op};

mod names {
    /// Not a string: a newtype that serde reads from one.
    #[derive(serde::Deserialize)]
    pub struct Name(pub std::string::String);
}

mod shadowed {
    use super::names::Name as String;
    use opkit::op;

    /// The length of a name, taken as the user's `String`.
    #[op]
    pub fn op_name_len(name: String) -> usize {
        name.0.len()
    }
}

/// A trait of the user's with a `read` method for every type, in scope at the ops.
pub trait Peek {
    fn read(&self, _: &[u8]) {}
}
impl<T: ?Sized> Peek for T {}

type Rid = u32;

/// Scalars under an alias and full paths.
#[op]
fn op_describe(
    rid: Rid,
    text: std::string::String,
    flag: core::primitive::bool,
    count: Option<core::primitive::u8>,
) -> String {
    format!("{rid} {text} {flag} {count:?}")
}

fn main() {
    let decls = shadowed::op_name_len::DECLS.iter().chain(op_describe::DECLS);
    let ext = Extension::new("names", decls.copied());
    let Ok(rt) = Runtime::new([ext]) else {
        panic!("the ops register");
    };
    let call = |op: &str, args: &str| match rt.call_sync(op, args.as_bytes(), &mut []) {
        Ok(out) => String::from_utf8_lossy(&out).into_owned(),
        Err(err) => err.to_string(),
    };
    assert_eq!(call("op_name_len_sync", r#"["abc"]"#), "3");
    assert_eq!(
        call("op_describe_sync", r#"[7, "x", true, null]"#),
        r#""7 x true None""#
    );
    assert_eq!(
        call("op_describe_sync", r#"[7, "x\u0021", false, 255]"#),
        r#""7 x! false Some(255)""#
    );
    assert_eq!(
        call("op_describe_sync", r#"[7, "x", false, 256]"#),
        "TypeError: op_describe: invalid argument 'count' (Option<core::primitive::u8>): \
         invalid value: integer `256`, expected u8"
    );
}
