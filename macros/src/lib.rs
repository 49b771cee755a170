//! The macros of opkit. Use them through the `opkit` crate, which documents them.
//!
//! This crate only converts between `proc_macro` and `proc_macro2`; each macro is one
//! function on `proc_macro2` tokens, unit-testable outside a compiler run.

#![forbid(unsafe_code)]

mod attr;
mod errors;
mod expand;
mod extension;
#[cfg(test)]
mod kinds;
mod model;
mod signature;
#[cfg(test)]
mod snapshots;
mod validate;

use proc_macro::TokenStream;

/// Turns a function into an op. Documented, with examples, as `opkit::op`.
#[proc_macro_attribute]
pub fn op(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_op(attr.into(), item.into()).into()
}

/// Declares an extension. Documented, with examples, as `opkit::extension`.
#[proc_macro]
pub fn extension(input: TokenStream) -> TokenStream {
    extension::expand_extension(input.into()).into()
}
