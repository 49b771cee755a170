use opkit::{extension, op};

#[op]
fn op_size<T: 'static>() -> usize {
    std::mem::size_of::<T>()
}

// Both instances register `op_size_sync` and `op_size_async`.
extension!(sizes, ops = [op_size::<u8>, op_size::<u64>]);

fn main() {
    let _ = sizes();
}
