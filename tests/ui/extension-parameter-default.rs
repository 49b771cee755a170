use opkit::{extension, op};

pub trait Unit: 'static {
    const FACTOR: f64;
}

pub struct Metre;

impl Unit for Metre {
    const FACTOR: f64 = 1.0;
}

#[op]
fn op_scale<U: Unit>(value: f64) -> f64 {
    value * U::FACTOR
}

extension!(units, parameters = [U: Unit = Metre], ops = [op_scale::<U>]);

fn main() {
    let _ = units::<Metre>();
}
