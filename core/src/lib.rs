//! opkit: write a host function once as an ordinary Rust `fn`, and call it by name or
//! id, inline or on tokio's blocking pool, with JSON arguments.
//!
//! ```
//! use opkit::{Extension, Runtime, op};
//!
//! /// Greets someone.
//! #[op]
//! fn op_greet(name: &str, excited: Option<bool>) -> String {
//!     let mark = if excited.unwrap_or(false) { "!" } else { "." };
//!     format!("hello, {name}{mark}")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let rt = Runtime::new([Extension::new("greet", op_greet::DECLS.iter().copied())]).unwrap();
//! let out = rt.call_sync("op_greet_sync", br#"["ada"]"#, &mut []).unwrap();
//! assert_eq!(out, br#""hello, ada.""#);
//! let out = rt.call_async("op_greet_async", br#"{"name": "ada", "excited": true}"#, vec![]).await;
//! assert_eq!(out.result.unwrap(), br#""hello, ada!""#);
//! # }
//! ```

#![deny(missing_docs)]

// Lets `#[op]` expansions inside this crate name `::opkit` as user crates do.
extern crate self as opkit;

mod args;
mod builtin;
mod decl;
mod dispatch;
mod error;
mod executor;
mod kind;
mod lex;
mod resources;
mod rid;
mod runtime;
mod scalar;
pub mod schema;
mod state;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use builtin::{ResourceInfo, op_close, op_resources};
pub use decl::{
    AsyncCall, AsyncFn, Handler, OpDecl, OpFuture, OpMeta, OpMode, OpOutput, ParamKindMeta,
    ParamMeta, SyncCall, SyncFn,
};
pub use dispatch::{DispatchTable, Extension, OpId, RegistrationError, TableEntry};
pub use error::{ErrorClass, OpError, errno_name};
pub use executor::{BatchedConfig, BatchedExecutor, Executor};
/// Declares an extension: a named list of ops and the state they need.
///
/// `extension!(pub name, ops = [op_a, path::to::op_b], state = |state| { .. })`
/// expands to `pub fn name() -> Extension`. The state setup runs on the `OpState` of
/// every runtime built with the extension; an op listed twice is a compile error.
///
/// ```
/// use opkit::{OpState, Runtime, extension, op};
///
/// struct Greeting(String);
///
/// /// Greets with the configured greeting.
/// #[op(sync)]
/// fn op_hi(#[state] greeting: &Greeting, name: &str) -> String {
///     format!("{} {name}", greeting.0)
/// }
///
/// extension!(pub greeter, ops = [op_hi], state = |state: &mut OpState| {
///     state.put(Greeting("hi".into()));
/// });
///
/// let rt = Runtime::new([greeter()]).unwrap();
/// assert_eq!(rt.call_sync("op_hi_sync", br#"["bo"]"#, &mut []).unwrap(), br#""hi bo""#);
/// ```
///
/// | key | the function | |
/// |---|---|---|
/// | `ops = [op_a, op_b::<P>]` | registers their `DECLS` | an op twice (whatever its parameters) is an error |
/// | `state = \|state\| ..` | sets up each runtime's `OpState` | |
/// | `options = { name: Type, .. }` | takes them: `fn name(name: Type, ..)` | `state = \|state, options\| ..` gets them |
/// | `parameters = [P: Trait, const N: usize]` | is generic: `fn name<P: Trait, const N: usize>()` | for generic ops; no defaults |
///
/// With parameters, the ops, the options' types and the state setup may name them:
///
/// ```
/// use std::marker::PhantomData;
/// use opkit::{Runtime, extension, op};
///
/// trait Unit: Send + Sync + 'static {
///     const METRES: f64;
/// }
/// struct Foot;
/// impl Unit for Foot {
///     const METRES: f64 = 0.3048;
/// }
///
/// /// How many decimals the host wants in unit `U`.
/// struct Digits<U>(usize, PhantomData<fn() -> U>);
///
/// /// Converts metres to `U`.
/// #[op(sync)]
/// fn op_convert<U: Unit>(#[state] digits: &Digits<U>, metres: f64) -> String {
///     format!("{:.*}", digits.0, metres / U::METRES)
/// }
///
/// extension!(
///     pub units,
///     parameters = [U: Unit],
///     ops = [op_convert::<U>],
///     options = { digits: usize },
///     state = |state, options| {
///         state.put(Digits::<U>(options.digits, PhantomData));
///     }
/// );
///
/// let rt = Runtime::new([units::<Foot>(2)]).unwrap();
/// assert_eq!(rt.call_sync("op_convert_sync", b"[3.048]", &mut []).unwrap(), br#""10.00""#);
/// ```
pub use opkit_macros::extension;
#[doc = include_str!("op.md")]
pub use opkit_macros::op;
pub use resources::{Resource, ResourceBudget, ResourceId, ResourceTable};
pub use rid::Rid;
pub use runtime::{Completion, OpRef, Policy, Runtime};
/// `schemars` 1.x, which opkit's schemas come from: derive `JsonSchema` through it
/// without a dependency of your own, as
/// `#[derive(opkit::schemars::JsonSchema)] #[schemars(crate = "opkit::schemars")]`.
pub use schemars;
pub use state::OpState;

/// A resource an op returns: the runtime adds it to the caller's table and answers
/// with its rid.
///
/// ```
/// use opkit::{NewResource, Resource, op};
///
/// struct Counter(u64);
/// impl Resource for Counter {}
///
/// /// Makes a counter and returns its rid.
/// #[op]
/// fn op_counter_new(start: u64) -> NewResource<Counter> {
///     NewResource(Counter(start))
/// }
/// ```
#[derive(Debug)]
pub struct NewResource<T: Resource>(pub T);

/// Bytes an op returns as they are: the result of the call is these bytes, not JSON
/// (the entry's [`OpMeta::returns_bytes`] says so), and they are moved, not copied.
/// Over JSON-RPC they travel as a base64 string.
///
/// ```
/// use opkit::{ByteBuf, Extension, Runtime, op};
///
/// /// Counts up from zero.
/// #[op(sync)]
/// fn op_iota(len: u8) -> ByteBuf {
///     ByteBuf((0..len).collect())
/// }
///
/// let rt = Runtime::new([Extension::new("iota", op_iota::DECLS.iter().copied())]).unwrap();
/// assert_eq!(rt.call_sync("op_iota_sync", b"[4]", &mut []).unwrap(), [0, 1, 2, 3]);
/// assert!(op_iota::META.returns_bytes);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ByteBuf(pub Vec<u8>);

impl From<Vec<u8>> for ByteBuf {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}
