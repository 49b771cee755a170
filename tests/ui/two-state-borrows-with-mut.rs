use opkit::{OpState, op};

struct Counter(u64);

#[op(sync)]
fn op_bump(state: &mut OpState, #[state] counter: &Counter) -> u64 {
    let _ = state;
    counter.0
}

fn main() {}
