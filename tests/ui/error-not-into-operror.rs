use opkit::op;

#[derive(Debug)]
struct ParseFailure;

#[op]
fn op_parse(text: &str) -> Result<u32, ParseFailure> {
    text.parse().map_err(|_| ParseFailure)
}

fn main() {}
