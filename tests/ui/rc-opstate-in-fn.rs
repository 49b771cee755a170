use std::cell::RefCell;
use std::rc::Rc;

use opkit::{OpState, op};

#[op]
fn op_count(state: Rc<RefCell<OpState>>) -> usize {
    state.borrow().resource_table.len()
}

fn main() {}
