use opkit::{Resource, op};

struct Counter(u64);
impl Resource for Counter {}

#[op]
fn op_bump(#[resource] counter: &mut Counter) -> u64 {
    counter.0 += 1;
    counter.0
}

fn main() {}
