use opkit::{OpState, op};

#[op]
fn op_reset(state: &mut OpState) {
    state.resource_table.close_all();
}

fn main() {}
