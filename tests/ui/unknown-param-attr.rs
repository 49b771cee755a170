use opkit::op;

#[op]
fn op_len(#[bytes] data: &[u8]) -> usize {
    data.len()
}

fn main() {}
