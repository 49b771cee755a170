use opkit::{OpState, op};

#[op]
fn op_count(state: &OpState) -> usize {
    state.resource_table.len()
}

fn main() {}
