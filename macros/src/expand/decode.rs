//! `__decode`: the JSON arguments into their owned types, shared by both entries.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;

use super::generics::OpGenerics;
use crate::model::{OpSpec, Param, ParamKind};

/// `__decode`: the JSON arguments into their owned types, shared by both entries.
/// Each slot is filled by a read spanned at the parameter's type, so a type that is not
/// `Deserialize` is reported there. The read resolves to a hand-written reader for
/// integers, booleans and strings (rids among them) and to serde for anything else.
pub fn expand_decode(spec: &OpSpec, generics: &OpGenerics) -> TokenStream {
    let mut types = Vec::new();
    let mut fills = Vec::new();
    let mut takes = Vec::new();
    for (index, param) in arguments(spec).enumerate() {
        let slot = syn::Index::from(index);
        let ty = match &param.kind {
            ParamKind::Serde { decode, .. } => decode.to_token_stream(),
            ParamKind::Resource { optional: true, .. } => {
                quote!(::core::option::Option<::opkit::__private::ResourceId>)
            }
            _ => quote!(::opkit::__private::ResourceId),
        };
        let deserialize = quote_spanned! {param.ty.span()=>
            (&&::opkit::__private::Arg::<#ty>::NEW).__opkit_read(__json)
        };
        fills.push(quote! {
            #index => ::opkit::__private::put(&mut self.#slot, #deserialize),
        });
        // A left-out argument is `None` if `Probe` says the type is optional (an
        // `Option`, under any name), and an error naming it otherwise.
        takes.push(quote! {
            ::opkit::__private::Probe::<#ty>::__opkit_take(__slots.#slot, Self::META, #index)?
        });
        types.push(ty);
    }
    let len = types.len();
    let nones = types.iter().map(|_| quote!(::core::option::Option::None));
    // A nested item cannot use the op's parameters: in a generic op `__Slots` declares
    // them again, and a phantom field holds the type parameters that no slot uses.
    let (params, args, where_clause) =
        (generics.params(), generics.args(), generics.where_clause());
    let (phantom, phantom_value) = generics.phantom_field();
    quote! {
        #[inline]
        fn __decode(
            __args: &[u8],
        ) -> ::core::result::Result<(#(#types,)*), ::opkit::__private::OpError> {
            struct __Slots #params (#(::core::option::Option<#types>,)* #phantom) #where_clause;
            impl #params ::opkit::__private::ArgSlots for __Slots #args #where_clause {
                const LEN: usize = #len;
                fn empty() -> Self {
                    __Slots(#(#nones,)* #phantom_value)
                }
                fn fill(
                    &mut self,
                    __index: usize,
                    __json: &[u8],
                ) -> ::core::result::Result<usize, ::opkit::__private::ArgError> {
                    use ::opkit::__private::{ReadScalar as _, ReadSerde as _};
                    match __index {
                        #(#fills)*
                        _ => ::opkit::__private::skip(__json),
                    }
                }
            }
            use ::opkit::__private::ProbeDefault as _;
            let __slots: __Slots #args = ::opkit::__private::decode_args(Self::META, __args)?;
            ::core::result::Result::Ok((#(#takes,)*))
        }
    }
}

fn arguments(spec: &OpSpec) -> impl Iterator<Item = &Param> {
    spec.params.iter().filter(|p| p.kind.is_argument())
}
