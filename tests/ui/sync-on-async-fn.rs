use opkit::op;

#[op(sync)]
async fn op_wait(ms: u64) {
    let _ = ms;
}

fn main() {}
