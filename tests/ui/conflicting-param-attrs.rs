use opkit::op;

#[op]
fn op_len(#[buffer] #[state] data: &[u8]) -> usize {
    data.len()
}

fn main() {}
