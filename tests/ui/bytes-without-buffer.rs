use opkit::op;

#[op]
fn op_checksum(data: &[u8]) -> u32 {
    data.iter().map(|&b| u32::from(b)).sum()
}

#[op]
fn op_store(data: Vec<u8>) -> usize {
    data.len()
}

fn main() {}
