use opkit::{OpState, op};

#[op(fast)]
fn op_reset<T>(state: &mut OpState, value: T) {
    let _ = (state, value);
}

fn main() {}
