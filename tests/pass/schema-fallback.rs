// Schemas are the compiler's to choose: a type without `JsonSchema` compiles and gets
// the fallback (its Rust type in the description), a type deriving it through opkit's
// re-export (no schemars dependency of its own) gets its own, as does one in a
// generic op whose bounds say `JsonSchema`; a trait of the user's with a method of
// the probe's name in scope changes nothing.
#![deny(warnings)]

use opkit::schemars::JsonSchema;
use opkit::{OpError, op};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
pub struct Opaque {
    pub n: u32,
}

/// Has a schema.
#[derive(Deserialize, Serialize, JsonSchema)]
#[schemars(crate = "opkit::schemars")]
pub struct Described {
    /// A count.
    pub n: u32,
}

pub trait Lookalike {
    fn __opkit_ret_schema(&self) -> u8 {
        0
    }
}
impl<T> Lookalike for T {}

#[op]
fn op_opaque(value: Opaque, extra: Option<Opaque>) -> Result<Opaque, OpError> {
    Ok(Opaque { n: value.n + extra.map_or(0, |e| e.n) })
}

#[op]
fn op_described(value: Described) -> Described {
    value
}

#[op(sync)]
fn op_bounded<T: DeserializeOwned + Serialize + JsonSchema>(value: T) -> T {
    value
}

fn main() {
    let arg = (op_opaque::META.params[0].schema.unwrap())();
    assert_eq!(arg["description"], "`Opaque` (a Rust type with no JSON Schema)");
    assert_eq!((op_opaque::META.ret_schema)(), arg);
    let described = (op_described::META.params[0].schema.unwrap())();
    assert_eq!(described["properties"]["n"]["description"], "A count.");
    let bounded = (op_bounded::<u32>::META.params[0].schema.unwrap())();
    assert_eq!(bounded["format"], "uint32");
    assert_eq!((op_bounded::<bool>::META.ret_schema)()["type"], "boolean");
}
