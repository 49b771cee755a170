// `#[op]` goes on a free function: its companion is a struct beside the function,
// which an `impl` block cannot hold.
pub struct Notes;

impl Notes {
    #[opkit::op]
    pub fn op_count(text: &str) -> usize {
        text.len()
    }
}

fn main() {}
