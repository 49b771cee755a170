//! `extension!`: a named list of ops and the state they need.
//!
//! ```text
//! extension!(pub fs, ops = [op_stat, op_read_file], state = |state| state.put(..));
//! // expands to
//! pub fn fs() -> ::opkit::Extension {
//!     ::opkit::Extension::new("fs", [op_stat::DECLS, op_read_file::DECLS] ..)
//!         .with_state(|state| state.put(..))
//! }
//! ```

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Path, Token, Visibility, bracketed};

use crate::errors::Errors;

struct ExtensionInput {
    vis: Visibility,
    name: Ident,
    ops: Punctuated<Path, Token![,]>,
    state: Option<Expr>,
}

impl Parse for ExtensionInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let vis = input.parse()?;
        let name = input.parse()?;
        let mut ops = None;
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
                "state" if state.is_none() => state = Some(input.parse()?),
                "ops" | "state" => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format_args!("duplicate `{key}` in `extension!`"),
                    ));
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format_args!(
                            "unknown `extension!` key `{key}`; expected `ops = [..]` or `state = |state| ..`"
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            vis,
            name,
            ops: ops.unwrap_or_default(),
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
        state,
    } = &input;
    let ext_name = name.to_string();
    let ops = ops.iter();
    let state = state.iter();
    let errors = errors.into_result().err().map(|e| e.to_compile_error());
    quote! {
        #errors
        #[doc = concat!("The `", #ext_name, "` extension.")]
        #[allow(deprecated)] // registering a deprecated op is the author's choice
        #vis fn #name() -> ::opkit::Extension {
            let __decls: &[&[::opkit::__private::OpDecl]] = &[#(#ops::DECLS),*];
            // By full path: the extension may sit in a `#![no_implicit_prelude]` module.
            let __ops = ::core::iter::Iterator::flat_map(
                <[&[::opkit::__private::OpDecl]]>::iter(__decls),
                |__decls| ::core::iter::Iterator::copied(<[::opkit::__private::OpDecl]>::iter(__decls)),
            );
            ::opkit::Extension::new(#ext_name, __ops)
                #(.with_state(#state))*
        }
    }
}
