use opkit::op;

#[op]
fn op_first<T: Clone>(items: Vec<T>) -> Option<T> {
    items.first().cloned()
}

fn main() {}
