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
        let (kind, optional) = match &param.kind {
            ParamKind::Serde { decode, .. } => (quote!(Serde), probe(decode, quote!(OPTIONAL))),
            ParamKind::Resource { optional, .. } => (quote!(Resource), quote!(#optional)),
            ParamKind::Buffer(_) => (quote!(Buffer), quote!(false)),
            ParamKind::StateRef(_) | ParamKind::StateMut(_) => (quote!(State), quote!(false)),
            ParamKind::OpStateRef | ParamKind::OpStateMut | ParamKind::OpStateRc => {
                (quote!(OpState), quote!(false))
            }
        };
        quote! {
            ::opkit::__private::ParamMeta {
                name: #name,
                ty: #ty,
                kind: ::opkit::__private::ParamKindMeta::#kind,
                optional: #optional,
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
        }
    }}
}

/// A constant of `Probe` on `ty`: the compiler's answer for the concrete type (the
/// block around the whole `OpMeta` brings `ProbeDefault` into scope).
fn probe(ty: &dyn ToTokens, item: TokenStream) -> TokenStream {
    quote!(::opkit::__private::Probe::<#ty>::#item)
}
