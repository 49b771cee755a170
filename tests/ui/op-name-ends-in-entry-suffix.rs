use opkit::op;

#[op]
fn add_sync(a: i64, b: i64) -> i64 {
    a + b
}

#[op]
fn fetch_async() {}

fn main() {}
