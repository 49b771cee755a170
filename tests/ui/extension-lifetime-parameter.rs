use opkit::{extension, op};

#[op]
fn op_ping() {}

extension!(pings, parameters = ['a], ops = [op_ping], options = { name: &'a str });

fn main() {}
