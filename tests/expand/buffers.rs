#![deny(warnings)]

use opkit::op;

/// Copies `src` into `dst` and returns how many bytes it copied.
#[op(async)]
pub fn op_copy(#[buffer] dst: &mut [u8], #[buffer] src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    dst[..n].copy_from_slice(&src[..n]);
    n
}

/// Fills `out` with `byte` after a yield; `log` is taken.
#[op]
pub async fn op_fill_later(#[buffer] out: &mut [u8], byte: u8, #[buffer] log: Vec<u8>) -> usize {
    std::future::ready(()).await;
    out.fill(byte);
    out.len() + log.len()
}

fn main() {
    assert_eq!(op_copy::DECLS[0].entry, "op_copy_async");
    assert_eq!(op_fill_later::DECLS[0].entry, "op_fill_later_async");
}
