use opkit::op;

#[op]
fn op_add((a, b): (i64, i64)) -> i64 {
    a + b
}

fn main() {}
