// A type parameter with a bound: `op_describe::<Celsius>` and `op_describe::<Kelvin>`
// are two sets of entries, each calling the body with its own type, from both entries;
// the parameter is also the type of a `#[state]` value and of a decoded argument.
#![deny(warnings)]

use std::marker::PhantomData;

use opkit::{Extension, Runtime, op};
use serde::Deserialize;

pub trait Scale: Send + Sync + 'static {
    const UNIT: &'static str;
    fn from_celsius(degrees: f64) -> f64;
}

#[derive(Deserialize)]
pub struct Celsius(f64);
#[derive(Deserialize)]
pub struct Kelvin(f64);

impl Scale for Celsius {
    const UNIT: &'static str = "°C";
    fn from_celsius(degrees: f64) -> f64 {
        degrees
    }
}

impl Scale for Kelvin {
    const UNIT: &'static str = "K";
    fn from_celsius(degrees: f64) -> f64 {
        degrees + 273.15
    }
}

/// A label kept per scale.
pub struct Label<S>(String, PhantomData<fn() -> S>);

impl<S> Clone for Label<S> {
    fn clone(&self) -> Self {
        Label(self.0.clone(), PhantomData)
    }
}

/// Shows a temperature given in degrees Celsius on the scale `S`.
#[op]
pub fn op_describe<S: Scale>(#[state] label: &Label<S>, celsius: f64) -> String {
    format!("{}: {} {}", label.0, S::from_celsius(celsius), S::UNIT)
}

/// Takes a reading already on the scale `S`: the argument decodes as `S` itself.
#[op]
pub fn op_reading<S: Scale + for<'de> Deserialize<'de>>(reading: S, offset: Option<f64>) -> bool {
    let _ = reading;
    offset.is_some()
}

fn runtime<S: Scale + for<'de> Deserialize<'de>>(label: &'static str) -> Runtime {
    let decls = op_describe::<S>::DECLS.iter().chain(op_reading::<S>::DECLS);
    let ext = Extension::new("scale", decls.copied())
        .with_state(move |state| {
        state.put(Label::<S>(label.to_owned(), PhantomData));
    });
    Runtime::new([ext]).unwrap()
}

fn main() {
    let celsius = runtime::<Celsius>("here");
    let kelvin = runtime::<Kelvin>("there");
    let out = celsius.call_sync("op_describe_sync", b"[20]", &mut []).unwrap();
    assert_eq!(out, "\"here: 20 °C\"".as_bytes());
    let out = kelvin.call_sync("op_describe_sync", b"[20]", &mut []).unwrap();
    assert_eq!(out, br#""there: 293.15 K""#);
    assert_eq!(kelvin.call_sync("op_reading_sync", b"[1.5, 2]", &mut []).unwrap(), b"true");
    let blocking = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let out = blocking.block_on(async { kelvin.call_async("op_describe_async", b"[0]", vec![]).await });
    assert_eq!(out.result.unwrap(), br#""there: 273.15 K""#);
    assert_eq!(op_describe::<Celsius>::META.params[0].ty, "&Label<S>");
}
