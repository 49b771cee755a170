use opkit::{OpState, op};

// Every mistake is reported at once, and the companion left behind is generic as the
// op is, so naming `op_reset::<u8>` adds no error of its own.
#[op(fast)]
fn op_reset<'a, T: Clone>(state: &'a mut OpState, value: T) {
    let _ = (state, value);
}

fn main() {
    let _ = op_reset::<u8>::DECLS;
}
