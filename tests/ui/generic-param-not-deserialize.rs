use opkit::op;

// A type parameter decoded from the arguments needs `DeserializeOwned` among its bounds.
#[op(sync)]
fn op_first<T: Clone + serde::Serialize>(items: Vec<T>) -> Option<T> {
    items.first().cloned()
}

fn main() {}
