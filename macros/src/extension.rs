//! `extension!`: a named list of ops and the state they need.
//!
//! ```text
//! extension!(pub fs, ops = [op_stat, op_read_file], state = |state| state.put(..));
//! // expands to
//! pub fn fs() -> ::opkit::Extension {
//!     ::opkit::Extension::new("fs", [op_stat::DECLS, op_read_file::DECLS] ..)
//!         .with_state(|state| state.put(..))
//! }
//!
//! extension!(pub notes, ops = [..], options = { store: Store },
//!     state = |state, options| state.put(options.store.clone()));
//! // expands to
//! pub fn notes(store: Store) -> ::opkit::Extension {
//!     struct Options { store: Store }
//!     let options = Options { store };
//!     ::opkit::Extension::new("notes", ..)
//!         .with_state(move |state| (|state, options| ..)(state, &options))
//! }
//! ```

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Expr, Ident, Path, Token, Type, Visibility, braced, bracketed};

use crate::errors::Errors;

struct ExtensionInput {
    vis: Visibility,
    name: Ident,
    ops: Punctuated<Path, Token![,]>,
    /// The parameters of the generated function, handed to `state`.
    options: Option<Punctuated<OptionField, Token![,]>>,
    state: Option<Expr>,
}

/// `name: Type` in `options = { .. }`.
struct OptionField {
    name: Ident,
    ty: Type,
}

impl Parse for OptionField {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty = input.parse()?;
        Ok(Self { name, ty })
    }
}

impl Parse for ExtensionInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let vis = input.parse()?;
        let name = input.parse()?;
        let mut ops = None;
        let mut options = None;
        let mut state = None;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            match key.to_string().as_str() {
                "ops" if ops.is_none() => {
                    let content;
                    bracketed!(content in input);
                    ops = Some(content.parse_terminated(Path::parse, Token![,])?);
                }
                "options" if options.is_none() => {
                    let content;
                    braced!(content in input);
                    options = Some(content.parse_terminated(OptionField::parse, Token![,])?);
                }
                "state" if state.is_none() => state = Some(input.parse()?),
                "ops" | "options" | "state" => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format_args!("duplicate `{key}` in `extension!`"),
                    ));
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format_args!(
                            "unknown `extension!` key `{key}`; expected `ops = [..]`, `options = {{ name: Type, .. }}` or `state = |state| ..`"
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            vis,
            name,
            ops: ops.unwrap_or_default(),
            options,
            state,
        })
    }
}

pub fn expand_extension(input: TokenStream) -> TokenStream {
    let input: ExtensionInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let mut errors = Errors::default();
    let mut seen: Vec<String> = Vec::new();
    for op in &input.ops {
        let text = op.to_token_stream().to_string().replace(' ', "");
        if seen.contains(&text) {
            errors.push(
                op,
                format_args!("`{text}` is listed twice in extension `{}`", input.name),
            );
        }
        seen.push(text);
    }
    let ExtensionInput {
        vis,
        name,
        ops,
        options,
        state,
    } = &input;
    let ext_name = name.to_string();
    let ops = ops.iter();
    let errors = errors.into_result().err().map(|e| e.to_compile_error());
    let new = quote! {
        let __decls: &[&[::opkit::__private::OpDecl]] = &[#(#ops::DECLS),*];
        // By full path: the extension may sit in a `#![no_implicit_prelude]` module.
        let __ops = ::core::iter::Iterator::flat_map(
            <[&[::opkit::__private::OpDecl]]>::iter(__decls),
            |__decls| ::core::iter::Iterator::copied(<[::opkit::__private::OpDecl]>::iter(__decls)),
        );
        ::opkit::Extension::new(#ext_name, __ops)
    };
    let Some(options) = options else {
        let state = state.iter();
        return quote! {
            #errors
            #[doc = concat!("The `", #ext_name, "` extension.")]
            #[allow(deprecated)] // registering a deprecated op is the author's choice
            #vis fn #name() -> ::opkit::Extension {
                #new
                    #(.with_state(#state))*
            }
        };
    };
    let names: Vec<&Ident> = options.iter().map(|field| &field.name).collect();
    let types: Vec<&Type> = options.iter().map(|field| &field.ty).collect();
    // With options, `state` takes them too; without a `state`, they are unused.
    let init = match state {
        Some(state) => {
            // Spanned at the closure, so that a wrong one is reported there.
            let checked = quote_spanned!(state.span()=> __init(#state));
            quote! {
            // The closure's parameter types come from this bound, so that its body
            // may call methods on them.
            fn __init<F: ::core::ops::Fn(&mut ::opkit::OpState, &Options)>(init: F) -> F {
                init
            }
            let __init = #checked;
            let options = Options { #(#names),* };
            #new.with_state(move |state| __init(state, &options))
            }
        }
        None => quote! {
            let _ = Options { #(#names),* };
            #new
        },
    };
    quote! {
        #errors
        #[doc = concat!("The `", #ext_name, "` extension, set up with its options.")]
        #[allow(deprecated)] // registering a deprecated op is the author's choice
        #vis fn #name(#(#names: #types),*) -> ::opkit::Extension {
            /// What the extension was made with, for its `state` setup.
            #[allow(dead_code)]
            struct Options {
                #(#names: #types),*
            }
            #init
        }
    }
}
