use opkit::op;

#[op]
fn op_sum(#[buffer] data: &[u16]) -> u64 {
    data.iter().map(|&x| u64::from(x)).sum()
}

fn main() {}
