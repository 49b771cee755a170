use std::borrow::Cow;

use opkit::op;

/// `'static` data may be returned: it borrows nothing.
#[op]
fn op_label(id: u32) -> Cow<'static, str> {
    Cow::Owned(id.to_string())
}

#[op]
fn op_name(name: &str) -> Option<Cow<'_, str>> {
    Some(Cow::Borrowed(name))
}

fn main() {}
