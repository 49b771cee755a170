use opkit::op;

#[op]
fn op_first<'a>(words: &'a [String]) -> Option<String> {
    words.first().cloned()
}

fn main() {}
