use std::rc::Rc;

use opkit::op;

#[op(async)]
fn op_name(#[state] name: &Rc<String>) -> String {
    name.to_string()
}

fn main() {}
