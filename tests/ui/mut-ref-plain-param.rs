use opkit::op;

#[op]
fn op_push(list: &mut Vec<u32>, value: u32) {
    list.push(value);
}

fn main() {}
