#![deny(warnings)]

use opkit::op;

/// What `op_scale` multiplies by.
pub trait Factor: Send + Sync + 'static {
    const BY: f64;
}

/// Ten.
pub struct Ten;

impl Factor for Ten {
    const BY: f64 = 10.0;
}

/// Scales a value by `F`, `N` times.
#[op]
pub fn op_scale<F, const N: usize>(value: f64) -> f64
where
    F: Factor,
{
    (0..N).fold(value, |value, _| value * F::BY)
}

fn main() {
    assert_eq!(op_scale::<Ten, 2>(1.5), 150.0);
    assert_eq!(op_scale::<Ten, 2>::DECLS.len(), 2);
}
