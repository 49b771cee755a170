#![deny(warnings)]

use opkit::{OpState, op};

/// A counter kept in `OpState`.
pub struct Counter(pub u64);

/// Bumps the counter.
#[op(sync)]
pub fn op_bump(#[state] counter: &mut Counter, by: u64) -> u64 {
    counter.0 += by;
    counter.0
}

/// Counts the open resources.
#[op(sync)]
pub fn op_open(state: &OpState) -> usize {
    state.resource_table.len()
}

opkit::extension!(pub counters, ops = [op_bump, op_open], state = |state| {
    state.put(Counter(0));
});

fn main() {
    assert_eq!(counters().decls().len(), 2);
}
