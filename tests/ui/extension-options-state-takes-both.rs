use opkit::op;

#[op]
fn op_ping() {}

#[derive(Clone)]
struct Store;

// With `options`, the state setup takes the options too: `|state, options|`.
opkit::extension!(
    notes,
    ops = [op_ping],
    options = { store: Store },
    state = |state| state.put(1_u8)
);

fn main() {}
