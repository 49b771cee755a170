use opkit::op;

struct Counter(u64);

#[op]
fn op_read(#[resource] counter: &Counter) -> u64 {
    counter.0
}

fn main() {}
