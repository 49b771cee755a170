use opkit::op;

#[op]
async fn op_greet(name: &str) -> String {
    format!("hello, {name}")
}

fn main() {}
