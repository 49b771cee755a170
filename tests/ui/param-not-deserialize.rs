use opkit::op;

struct Point {
    x: i32,
    y: i32,
}

#[op]
fn op_norm(scale: i32, point: Point) -> i32 {
    scale * (point.x.abs() + point.y.abs())
}

fn main() {}
