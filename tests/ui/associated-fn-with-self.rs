// An associated function that names `Self` is recognized as one and refused with
// the way out.
pub struct Counter(u32);

impl Counter {
    #[opkit::op]
    pub fn op_counter_new(start: u32) -> Self {
        Counter(start)
    }
}

fn main() {}
