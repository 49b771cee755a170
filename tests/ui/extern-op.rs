use opkit::op;

#[op]
extern "C" fn op_add(a: i64, b: i64) -> i64 {
    a + b
}

fn main() {}
