use opkit::op;

struct Counter(u64);

#[op]
fn op_bump(#[state] counter: &mut Counter) -> u64 {
    counter.0 += 1;
    counter.0
}

fn main() {}
