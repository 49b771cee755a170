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
//!
//! extension!(pub fs, parameters = [P: Check], ops = [op_stat::<P>]);
//! // expands to
//! pub fn fs<P: Check>() -> ::opkit::Extension { .. [op_stat::<P>::DECLS] .. }
//! ```
//!
//! With parameters, the items nested in the function (`Options`, the bound of the
//! closure) cannot use the function's parameters, so they declare them again.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{
    Expr, GenericParam, Generics, Ident, Path, PathArguments, Token, Type, Visibility, braced,
    bracketed,
};

use crate::errors::Errors;
use crate::model::type_string;

struct ExtensionInput {
    vis: Visibility,
    name: Ident,
    /// The generic parameters of the generated function, for the ops' parameters.
    parameters: Punctuated<GenericParam, Token![,]>,
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
        let mut parameters = None;
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
                "parameters" if parameters.is_none() => {
                    let content;
                    bracketed!(content in input);
                    parameters = Some(content.parse_terminated(GenericParam::parse, Token![,])?);
                }
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
                "parameters" | "ops" | "options" | "state" => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format_args!("duplicate `{key}` in `extension!`"),
                    ));
                }
                _ => {
                    return Err(syn::Error::new_spanned(
                        &key,
                        format_args!(
                            "unknown `extension!` key `{key}`; expected `ops = [..]`, `parameters = [P: Trait, ..]`, `options = {{ name: Type, .. }}` or `state = |state| ..`"
                        ),
                    ));
                }
            }
        }
        Ok(Self {
            vis,
            name,
            parameters: parameters.unwrap_or_default(),
            ops: ops.unwrap_or_default(),
            options,
            state,
        })
    }
}

pub fn expand_extension(input: TokenStream) -> TokenStream {
    let mut input: ExtensionInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(err) => return err.to_compile_error(),
    };
    let mut errors = Errors::default();
    check_parameters(&input, &mut errors);
    // `op_x<P>` is written as `op_x::<P>` in the expansion, which is an expression.
    for op in &mut input.ops {
        for segment in &mut op.segments {
            if let PathArguments::AngleBracketed(args) = &mut segment.arguments {
                args.colon2_token.get_or_insert_with(Default::default);
            }
        }
    }
    check_duplicates(&input, &mut errors);
    let ExtensionInput {
        vis,
        name,
        parameters,
        ops,
        options,
        state,
    } = &input;
    let generics = declared(parameters);
    let parameters = &generics.params;
    let (params, args, _) = generics.split_for_impl();
    let turbofish = args.as_turbofish();
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
            #vis fn #name #params() -> ::opkit::Extension {
                #new
                    #(.with_state(#state))*
            }
        };
    };
    let names: Vec<&Ident> = options.iter().map(|field| &field.name).collect();
    let types: Vec<&Type> = options.iter().map(|field| &field.ty).collect();
    // The options' types may name the parameters; a phantom field holds those that
    // they do not.
    let phantom: Vec<TokenStream> = parameters
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(ty) => Some(ty.ident.to_token_stream()),
            GenericParam::Lifetime(param) => {
                let lifetime = &param.lifetime;
                Some(quote!(&#lifetime ()))
            }
            GenericParam::Const(_) => None,
        })
        .collect();
    let (phantom_field, phantom_value) = if phantom.is_empty() {
        (quote!(), quote!())
    } else {
        (
            quote!(__phantom: ::core::marker::PhantomData<fn() -> (#(#phantom,)*)>,),
            quote!(__phantom: ::core::marker::PhantomData,),
        )
    };
    let fields = quote!(#(#names,)* #phantom_value);
    let param_names = parameters.iter().filter_map(|param| match param {
        GenericParam::Type(ty) => Some(&ty.ident),
        GenericParam::Const(konst) => Some(&konst.ident),
        GenericParam::Lifetime(_) => None,
    });
    // With options, `state` takes them too; without a `state`, they are unused.
    let init = match state {
        Some(state) => {
            // Spanned at the closure, so that a wrong one is reported there.
            let checked = quote_spanned!(state.span()=> __init::<#(#param_names,)* _>(#state));
            let params = parameters.iter();
            quote! {
            // The closure's parameter types come from this bound, so that its body
            // may call methods on them.
            fn __init<#(#params,)* __F: ::core::ops::Fn(&mut ::opkit::OpState, &Options #args)>(
                init: __F,
            ) -> __F {
                init
            }
            let __init = #checked;
            let options = Options { #fields };
            #new.with_state(move |state| __init(state, &options))
            }
        }
        None => quote! {
            let _ = Options #turbofish { #fields };
            #new
        },
    };
    quote! {
        #errors
        #[doc = concat!("The `", #ext_name, "` extension, set up with its options.")]
        #[allow(deprecated)] // registering a deprecated op is the author's choice
        #vis fn #name #params(#(#names: #types),*) -> ::opkit::Extension {
            /// What the extension was made with, for its `state` setup.
            #[allow(dead_code)]
            struct Options #params {
                #(#names: #types,)*
                #phantom_field
            }
            #init
        }
    }
}

/// The parameters as the function declares them: without the defaults that
/// `check_parameters` refuses, so that rustc adds no error of its own about them. A
/// refused lifetime parameter stays, so that the options naming it still resolve.
fn declared(parameters: &Punctuated<GenericParam, Token![,]>) -> Generics {
    let mut params = parameters.clone();
    for param in &mut params {
        match param {
            GenericParam::Type(ty) => (ty.eq_token, ty.default) = (None, None),
            GenericParam::Const(konst) => (konst.eq_token, konst.default) = (None, None),
            GenericParam::Lifetime(_) => {}
        }
    }
    Generics {
        lt_token: Some(Default::default()),
        params,
        gt_token: Some(Default::default()),
        where_clause: None,
    }
}

/// A parameter of an extension is a type or const parameter without a default: the
/// function it becomes could not use one.
fn check_parameters(input: &ExtensionInput, errors: &mut Errors) {
    for param in &input.parameters {
        // The default as written (for the span) and as shown in the message.
        let (ident, default) = match param {
            GenericParam::Type(ty) => {
                let eq = &ty.eq_token;
                let default = ty.default.as_ref();
                (&ty.ident, default.map(|d| (quote!(#eq #d), type_string(d))))
            }
            GenericParam::Const(konst) => {
                let eq = &konst.eq_token;
                let default = konst.default.as_ref();
                let shown = |d: &Expr| d.to_token_stream().to_string();
                (&konst.ident, default.map(|d| (quote!(#eq #d), shown(d))))
            }
            GenericParam::Lifetime(param) => {
                errors.push(
                    &param.lifetime,
                    "an extension cannot have a lifetime parameter: what it registers lives as long as the runtime; take owned options",
                );
                continue;
            }
        };
        if let Some((written, shown)) = default {
            errors.push(
                written,
                format_args!(
                    "an extension parameter cannot have a default: the extension is a function, whose parameters have none; remove `= {shown}` and name `{ident}` where the extension is made: `{}::<{shown}>()`",
                    input.name
                ),
            );
        }
    }
}

/// An op listed twice, with the same parameters or not: its entries have one name.
fn check_duplicates(input: &ExtensionInput, errors: &mut Errors) {
    let mut seen: Vec<(String, String)> = Vec::new();
    for op in &input.ops {
        let text = op.to_token_stream().to_string().replace(' ', "");
        let mut bare = op.clone();
        for segment in &mut bare.segments {
            segment.arguments = PathArguments::None;
        }
        let bare = bare.to_token_stream().to_string().replace(' ', "");
        match seen.iter().find(|(_, other)| *other == bare) {
            Some((first, _)) if *first == text => errors.push(
                op,
                format_args!("`{text}` is listed twice in extension `{}`", input.name),
            ),
            Some((first, _)) => errors.push(
                op,
                format_args!(
                    "`{bare}` is listed twice in extension `{}`, as `{first}` and `{text}`; its entries have the same names whatever its parameters",
                    input.name
                ),
            ),
            None => {}
        }
        seen.push((text, bare));
    }
}
