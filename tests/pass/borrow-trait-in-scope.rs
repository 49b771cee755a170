// A user's `use std::borrow::Borrow` (or `BorrowMut`) in the op's module cannot
// hijack the generated state borrow: it is called by full path.
#![deny(warnings)]
#![allow(unused_imports)]

use std::borrow::{Borrow, BorrowMut};

use opkit::op;

#[derive(Clone, Default)]
pub struct Counter(u32);

#[op]
pub fn op_read(#[state] counter: &Counter) -> u32 {
    counter.0
}

#[op(sync)]
pub fn op_bump(#[state] counter: &mut Counter) -> u32 {
    counter.0 += 1;
    counter.0
}

opkit::extension!(counting, ops = [op_read, op_bump], state = |state| {
    state.put(Counter::default());
});

fn main() {
    let rt = opkit::Runtime::new([counting()]).unwrap();
    assert_eq!(rt.call_sync("op_bump_sync", b"[]", &mut []).unwrap(), b"1");
    assert_eq!(rt.call_sync("op_read_sync", b"[]", &mut []).unwrap(), b"1");
}
