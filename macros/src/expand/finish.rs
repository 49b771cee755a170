//! `__finish`: the body's return value into JSON, shared by both entries.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned as _;

use crate::model::OpSpec;
use crate::signature::type_args;

/// `__finish`: the body's return value into the result. What kind of return it is
/// (`Result`-like, `ByteBuf`, `NewResource`, a serializable value) is chosen by
/// `Probe` on the concrete type; the calls are spanned at the return type, so an
/// error type that is not `Into<OpError>`, or a value that is not `Serialize`, is
/// reported there.
pub fn expand_finish(spec: &OpSpec) -> TokenStream {
    let ret = &spec.ret;
    let ret_ty = ret
        .ty
        .as_ref()
        .map_or_else(|| quote!(()), ToTokens::to_token_stream);
    // An error type that is not `Into<OpError>` is reported at it when it is written
    // out (`Result<T, E>`), else at the return type; a value that is not `Serialize`
    // at the return type.
    let (ok_span, write_span) = match &ret.ty {
        Some(ty) => (written_error(ty).unwrap_or(ret.span), ret.span),
        None => (ret.span, ret.span),
    };
    let ok = quote_spanned! {ok_span=>
        ::opkit::__private::Probe::<#ret_ty>::__opkit_ok(Self::META, __ret)
    };
    let write = quote_spanned! {write_span=>
        ::opkit::__private::Probe::of(&__ok).__opkit_write(Self::META, __state, __out, __ok)
    };
    quote! {
        fn __finish(
            __ret: #ret_ty,
            __state: &::core::cell::RefCell<::opkit::__private::OpState>,
            __out: &mut ::std::vec::Vec<u8>,
        ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
            use ::opkit::__private::ProbeDefault as _;
            let __ok = #ok?;
            #write
        }
    }
}

/// Where the error type is written, for a span only: the second type argument of a
/// two-argument path such as `Result<T, E>`. Whether the type is a `Result` is still
/// the compiler's to say.
fn written_error(ty: &Type) -> Option<Span> {
    match type_args(ty, |_| true)?.as_slice() {
        [_, error] => Some(error.span()),
        _ => None,
    }
}
