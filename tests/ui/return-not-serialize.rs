use opkit::op;

struct Point {
    x: i32,
    y: i32,
}

#[op]
fn op_origin(offset: i32) -> Point {
    Point { x: offset, y: offset }
}

fn main() {}
