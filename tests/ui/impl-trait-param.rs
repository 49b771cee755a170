use opkit::op;

#[op]
fn op_len(text: impl AsRef<str>) -> usize {
    text.as_ref().len()
}

fn main() {}
