#![deny(warnings)]

use opkit::op;

/// Adds two numbers.
#[op]
pub fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {
    assert_eq!(op_add(1, 2), 3);
    assert_eq!(op_add::DECLS.len(), 2);
}
