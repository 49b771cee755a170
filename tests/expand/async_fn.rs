#![deny(warnings)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use opkit::{OpError, OpState, op};

/// Sleeps, then reports how many resources are open.
#[op]
pub async fn op_sleep(ms: u64, state: Rc<RefCell<OpState>>) -> Result<usize, OpError> {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(state.borrow().resource_table.len())
}

fn main() {
    assert_eq!(op_sleep::DECLS[0].mode, opkit::OpMode::Async);
}
