//! `#[op]`: parse → validate → expand.
//!
//! For `#[op] fn op_x(..)` the expansion is, in outline:
//!
//! ```text
//! fn op_x(..) { .. }                      // as written, parameter attributes removed
//! struct op_x<P: Bound> { .. }            // hidden companion, type namespace only
//! impl<P: Bound> op_x<P> {                // (generics only for a generic op)
//!     pub const DECLS: &[OpDecl] = [op_x_sync, op_x_async];
//!     pub const META: &OpMeta = ..;       // names, types, kinds, doc, return type
//!     fn __decode(args) -> (A, B, ..)     // JSON arguments, shared by both entries
//!     fn __finish(ret, state, out)        // return value to JSON, shared by both
//!     fn __sync(call)                     // decode, borrow state, call op_x::<P>
//!     fn __async(call) where P: 'static   // decode, clone state, spawn_blocking
//! }
//! ```
//!
//! A companion struct (rather than a module) keeps the generated items in the scope of
//! the function, so every type in the signature resolves exactly as the user wrote it,
//! and lets a generic op be generic: `op_x::<P>::DECLS` (see [`generics`]).
//!
//! Each generated item has its module: [`meta`] (`DECLS`, `META`), [`decode`]
//! (`__decode`), [`finish`] (`__finish`), [`sync_entry`] (`__sync`) and
//! [`async_entry`] (`__async`); [`locals`] names the locals both entries bind.

mod async_entry;
mod decode;
mod finish;
mod generics;
mod locals;
mod meta;
mod sync_entry;

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::ItemFn;

use crate::attr::parse_options;
use crate::errors::Errors;
use crate::model::{Entries, OpSpec};
use crate::signature::parse_op;
use crate::validate;
use async_entry::expand_async_entry;
use decode::expand_decode;
use finish::expand_finish;
use generics::OpGenerics;
use meta::{expand_decl, expand_meta};
use sync_entry::expand_sync_entry;

/// The whole pipeline of `#[op]`.
pub fn expand_op(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                "`#[op]` applies to a function: `fn` or `async fn`",
            )
            .to_compile_error();
            return quote!(#err #item);
        }
    };
    let mut errors = Errors::default();
    let options = parse_options(attr, &mut errors);
    let spec = parse_op(func, options, &mut errors);
    validate::check(&spec, &mut errors);
    match errors.into_result() {
        Ok(()) => expand(&spec),
        Err(err) => fallback(&spec, err),
    }
}

/// On error: the errors, the function unchanged and an empty companion, so that no
/// "cannot find" error follows the real one.
fn fallback(spec: &OpSpec, err: syn::Error) -> TokenStream {
    let errors = err.to_compile_error();
    let func = &spec.func;
    if func.sig.receiver().is_some() || validate::mentions_self(&func.sig).is_some() {
        // A method or an associated function: a companion struct would be one more
        // error inside the `impl`.
        return quote!(#errors #func);
    }
    let generics = OpGenerics::unbounded(&func.sig.generics);
    let companion = companion(spec, &generics);
    let impl_attrs = impl_attrs(spec);
    let name = &spec.name;
    let (params, args) = (generics.params(), generics.args());
    quote! {
        #errors
        #func
        #companion
        #impl_attrs
        impl #params #name #args {
            pub const DECLS: &'static [::opkit::__private::OpDecl] = &[];
        }
    }
}

fn companion(spec: &OpSpec, generics: &OpGenerics) -> TokenStream {
    let vis = &spec.func.vis;
    let name = &spec.name;
    let carried = carried_attrs(spec, &["cfg", "cfg_attr", "deprecated", "allow", "expect"]);
    let (params, where_clause) = (generics.params(), generics.where_clause());
    let phantom = generics.phantom_type();
    quote! {
        #(#carried)*
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name #params #where_clause {
            _private: #phantom,
        }
    }
}

/// The function's attributes named in `names`, for the companion's items: `#[cfg]`
/// so that the companion goes where the function goes, `#[deprecated]` so that users
/// of the companion hear of it, and the lints the author allowed.
fn carried_attrs<'a>(spec: &'a OpSpec, names: &[&str]) -> Vec<&'a syn::Attribute> {
    spec.func
        .attrs
        .iter()
        .filter(|attr| names.iter().any(|name| attr.path().is_ident(name)))
        .collect()
}

/// The attributes of the companion's `impl`: its `#[cfg]`s and allowed lints, and
/// `allow(deprecated)`, since it calls the function.
fn impl_attrs(spec: &OpSpec) -> TokenStream {
    let carried = carried_attrs(spec, &["cfg", "cfg_attr", "allow", "expect"]);
    quote! {
        #(#carried)*
        #[allow(dead_code, deprecated)]
    }
}

fn expand(spec: &OpSpec) -> TokenStream {
    let func = &spec.func;
    let name = &spec.name;
    let generics = OpGenerics::of(&func.sig.generics);
    let companion = companion(spec, &generics);
    let impl_attrs = impl_attrs(spec);
    let meta = expand_meta(spec);
    let decode = expand_decode(spec, &generics);
    let finish = expand_finish(spec);
    let mut decls = Vec::new();
    let mut entries = Vec::new();
    if spec.entries.has_sync() {
        decls.push(expand_decl(
            spec,
            "sync",
            quote!(Sync),
            quote!(Sync(Self::__sync)),
        ));
        entries.push(expand_sync_entry(spec, &generics));
    }
    match spec.entries {
        Entries::SyncAndBlocking | Entries::Blocking => {
            decls.push(expand_decl(
                spec,
                "async",
                quote!(Blocking),
                async_handler(&generics),
            ));
            entries.push(expand_async_entry(spec, &generics, false));
        }
        Entries::Async => {
            decls.push(expand_decl(
                spec,
                "async",
                quote!(Async),
                async_handler(&generics),
            ));
            entries.push(expand_async_entry(spec, &generics, true));
        }
        Entries::Sync => {}
    }
    let (params, args, where_clause) =
        (generics.params(), generics.args(), generics.where_clause());
    quote! {
        #func
        #companion
        #impl_attrs
        impl #params #name #args #where_clause {
            /// The dispatch-table entries of this op.
            pub const DECLS: &'static [::opkit::__private::OpDecl] = &[#(#decls),*];
            /// What this op is: parameters, return type, doc comment.
            pub const META: &'static ::opkit::__private::OpMeta = #meta;
            #decode
            #finish
            #(#entries)*
        }
    }
}

/// The async entry as `DECLS` names it: spanned at the op's generics, where the
/// entry's `'static` bound on them is reported (see `async_entry`).
fn async_handler(generics: &OpGenerics) -> TokenStream {
    let entry = quote_spanned!(generics.span()=> Self::__async);
    quote!(Async(#entry))
}
