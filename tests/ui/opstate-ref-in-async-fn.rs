use opkit::{OpState, op};

#[op]
async fn op_count(state: &mut OpState) -> usize {
    state.resource_table.len()
}

fn main() {}
