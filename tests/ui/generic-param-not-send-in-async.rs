use serde::de::DeserializeOwned;

use opkit::op;

// The blocking entry moves `value` to another thread: `T` must be `Send` (and
// `'static`, since the entry outlives the call that made it).
#[op]
fn op_len<T: DeserializeOwned + AsRef<str>>(value: T) -> usize {
    value.as_ref().len()
}

fn main() {}
