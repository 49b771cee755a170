// Const parameters: `op_chunks::<2>` and `op_chunks::<3>` differ only in a constant that
// no argument mentions (so the entries name it: `op_chunks::<N>(..)`).
#![deny(warnings)]

use opkit::{Extension, Runtime, op};

/// Splits a list into chunks of `N`.
#[op]
pub fn op_chunks<const N: usize>(items: &[u32]) -> Vec<Vec<u32>> {
    items.chunks(N).map(<[u32]>::to_vec).collect()
}

/// A type and a const parameter together, and a `bool` const.
#[op(sync)]
pub fn op_pad<T: Default + Clone + serde::Serialize, const LEN: usize, const LEFT: bool>(
    value: Option<u8>,
) -> (Vec<T>, bool, Option<u8>) {
    (vec![T::default(); LEN], LEFT, value)
}

fn runtime<const N: usize>() -> Runtime {
    let decls = op_chunks::<N>::DECLS.iter().chain(op_pad::<u8, N, true>::DECLS);
    Runtime::new([Extension::new("chunks", decls.copied())]).unwrap()
}

fn main() {
    let pairs = runtime::<2>();
    let triples = runtime::<3>();
    let args = b"[[1, 2, 3, 4]]";
    assert_eq!(pairs.call_sync("op_chunks_sync", args, &mut []).unwrap(), b"[[1,2],[3,4]]");
    assert_eq!(triples.call_sync("op_chunks_sync", args, &mut []).unwrap(), b"[[1,2,3],[4]]");
    assert_eq!(pairs.call_sync("op_pad_sync", b"[]", &mut []).unwrap(), b"[[0,0],true,null]");
}
