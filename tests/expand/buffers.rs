#![deny(warnings)]

use opkit::op;

/// Copies `src` into `dst` and returns how many bytes it copied.
#[op(async)]
pub fn op_copy(#[buffer] dst: &mut [u8], #[buffer] src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
    n
}

fn main() {
    assert_eq!(op_copy::DECLS[0].entry, "op_copy_async");
}
