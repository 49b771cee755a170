//! `DECLS` and `META`: the op's dispatch-table entries and what it is.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt as _;

use crate::model::{OpSpec, ParamKind, type_string};

pub fn expand_decl(
    spec: &OpSpec,
    suffix: &str,
    mode: TokenStream,
    handler: TokenStream,
) -> TokenStream {
    let entry = format!("{}_{suffix}", spec.name.unraw());
    quote! {
        ::opkit::__private::OpDecl {
            entry: #entry,
            mode: ::opkit::__private::OpMode::#mode,
            meta: Self::META,
            handler: ::opkit::__private::Handler::#handler,
        }
    }
}

pub fn expand_meta(spec: &OpSpec) -> TokenStream {
    let name = spec.name.unraw().to_string();
    let doc = &spec.doc;
    let params = spec.params.iter().map(|param| {
        let name = param.name.unraw().to_string();
        let ty = type_string(&param.ty);
        let (kind, optional, schema) = match &param.kind {
            ParamKind::Serde { decode, .. } => (
                quote!(Serde),
                probe(decode, quote!(OPTIONAL)),
                some(probe(decode, quote!(ARG_SCHEMA))),
            ),
            ParamKind::Resource {
                resource, optional, ..
            } => {
                let schema = match optional {
                    true => quote!(OPTIONAL_RID_SCHEMA),
                    false => quote!(RID_SCHEMA),
                };
                (
                    quote!(Resource),
                    quote!(#optional),
                    some(probe(resource, schema)),
                )
            }
            ParamKind::Buffer(_) => (
                quote!(Buffer),
                quote!(false),
                some(probe(
                    &quote!(::opkit::__private::ByteBuf),
                    quote!(BUFFER_SCHEMA),
                )),
            ),
            ParamKind::StateRef(_) | ParamKind::StateMut(_) => (
                quote!(State),
                quote!(false),
                quote!(::core::option::Option::None),
            ),
            ParamKind::OpStateRef | ParamKind::OpStateMut | ParamKind::OpStateRc => (
                quote!(OpState),
                quote!(false),
                quote!(::core::option::Option::None),
            ),
        };
        quote! {
            ::opkit::__private::ParamMeta {
                name: #name,
                ty: #ty,
                kind: ::opkit::__private::ParamKindMeta::#kind,
                optional: #optional,
                schema: #schema,
            }
        }
    });
    let ret = spec
        .ret
        .ty
        .as_ref()
        .map_or_else(|| "()".to_owned(), type_string);
    let returns_bytes = match &spec.ret.ty {
        Some(ty) => probe(ty, quote!(RETURNS_BYTES)),
        None => quote!(false),
    };
    let ret_ty = spec
        .ret
        .ty
        .as_ref()
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    // The schema of the success value: `Probe::<Result<T, E>>` can only hand over a
    // `Probe<T>`, whose method the compiler then picks where `T` is concrete (an alias
    // of `Result` is a `Result` there). A closure, so a `fn() -> Value` once coerced.
    let ret_schema = quote! {
        || ::opkit::__private::Probe::<#ret_ty>::NEW.__opkit_ok_probe().__opkit_ret_schema()
    };
    let permission = match &spec.permission {
        Some(permission) => quote!(::core::option::Option::Some(#permission)),
        None => quote!(::core::option::Option::None),
    };
    quote! {{
        use ::opkit::__private::ProbeDefault as _;
        &::opkit::__private::OpMeta {
            name: #name,
            doc: #doc,
            params: &[#(#params),*],
            ret: #ret,
            permission: #permission,
            returns_bytes: #returns_bytes,
            ret_schema: #ret_schema,
        }
    }}
}

/// A constant of `Probe` on `ty`: the compiler's answer for the concrete type (the
/// block around the whole `OpMeta` brings `ProbeDefault` into scope).
fn probe(ty: &dyn ToTokens, item: TokenStream) -> TokenStream {
    quote!(::opkit::__private::Probe::<#ty>::#item)
}

fn some(value: TokenStream) -> TokenStream {
    quote!(::core::option::Option::Some(#value))
}
