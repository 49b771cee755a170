use opkit::op;

#[op]
fn op_trim(text: &str) -> &str {
    text.trim()
}

fn main() {}
