use opkit::op;

#[op]
struct Adder;

fn main() {
    let _ = Adder;
}
