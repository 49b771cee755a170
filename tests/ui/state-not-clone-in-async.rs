use opkit::op;

struct Config {
    verbose: bool,
}

#[op]
fn op_verbose(#[state] config: &Config) -> bool {
    config.verbose
}

fn main() {}
