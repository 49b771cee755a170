use opkit::op;

#[op]
unsafe fn op_read_addr(addr: usize) -> u8 {
    unsafe { *(addr as *const u8) }
}

fn main() {}
