use opkit::{extension, op};

#[op]
fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

fn add(a: i64, b: i64) -> i64 {
    a + b
}

extension!(math, ops = [op_add, add]);

fn main() {
    let _ = math();
    let _ = add(1, 2);
}
