use opkit::op;

#[derive(Clone)]
struct Config(bool);

#[op]
fn op_verbose(#[state] config: Config) -> bool {
    config.0
}

fn main() {}
