use std::rc::Rc;

use opkit::op;

#[op]
fn op_shared(text: String) -> Rc<String> {
    Rc::new(text)
}

fn main() {}
