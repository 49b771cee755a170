use opkit::op;

struct Calculator;

impl Calculator {
    #[op]
    fn op_add(&self, a: i64, b: i64) -> i64 {
        a + b
    }
}

fn main() {}
