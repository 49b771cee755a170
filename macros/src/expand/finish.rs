//! `__finish`: the body's return value into JSON, shared by both entries.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::model::{OpSpec, RetKind};

/// `__finish`: the body's return value into JSON; a new resource into the table.
pub fn expand_finish(spec: &OpSpec) -> TokenStream {
    let ret = &spec.ret;
    let ret_ty = ret
        .ty
        .as_ref()
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    let unwrap = ret.fallible.then(|| {
        let span = ret.error.as_ref().map_or(ret.span, Spanned::span);
        let convert = quote_spanned!(span=> ::opkit::__private::op_error(Self::META, __err));
        quote! {
            let __ret = match __ret {
                ::core::result::Result::Ok(__value) => __value,
                ::core::result::Result::Err(__err) => return ::core::result::Result::Err(#convert),
            };
        }
    });
    let write = match &ret.kind {
        RetKind::Value(ty) => {
            quote_spanned!(ty.span()=> ::opkit::__private::write_json::<#ty>(Self::META, __out, &__ret))
        }
        RetKind::Resource(ty) => quote_spanned! {ty.span()=>
            ::opkit::__private::write_resource::<#ty>(Self::META, __state, __out, __ret)
        },
        RetKind::Bytes => quote!(::opkit::__private::write_bytes(__out, __ret)),
    };
    quote! {
        fn __finish(
            __ret: #ret_ty,
            __state: &::core::cell::RefCell<::opkit::__private::OpState>,
            __out: &mut ::std::vec::Vec<u8>,
        ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
            #unwrap
            #write
        }
    }
}
