//! The locals `__p0`, `__p1`, .. that both entries bind, one per parameter.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{Ident, Type};

use crate::model::{BufferKind, OpSpec, ParamKind, ResourceBy};

/// The locals that `__decode`'s tuple is bound to, one per JSON argument.
pub fn decoded_locals(spec: &OpSpec) -> Vec<Ident> {
    spec.params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind.is_argument())
        .map(|(index, _)| local(index))
        .collect()
}

/// `let [__p2, mut __p4] = take_bufs(..)?;` for the `#[buffer]` parameters.
/// The buffer parameters' locals out of the call's buffers; `mutable` binds a
/// `&mut [u8]` buffer's local `mut`, for an entry that lends it from there.
pub fn take_bufs(spec: &OpSpec, mutable: bool) -> TokenStream {
    let mut bindings = Vec::new();
    let mut names = Vec::new();
    for (index, param) in spec.params.iter().enumerate() {
        if let ParamKind::Buffer(kind) = &param.kind {
            let local = local(index);
            bindings.push(match kind {
                BufferKind::Mut if mutable => quote!(mut #local),
                BufferKind::Mut | BufferKind::Ref | BufferKind::Owned => quote!(#local),
            });
            names.push(param.name.unraw().to_string());
        }
    }
    if bindings.is_empty() {
        return quote!();
    }
    quote! {
        let [#(#bindings),*] = ::opkit::__private::take_bufs(Self::META, __c.bufs, [#(#names),*])?;
    }
}

pub fn local(index: usize) -> Ident {
    format_ident!("__p{}", index)
}

/// The lookup of a `#[resource]` parameter's rid: `Option<Arc<T>>` when it is optional.
pub fn resource_lookup(resource: &Type, optional: bool) -> TokenStream {
    if optional {
        quote_spanned!(resource.span()=> ::opkit::__private::resource_opt::<#resource>)
    } else {
        quote_spanned!(resource.span()=> ::opkit::__private::resource::<#resource>)
    }
}

/// A looked-up resource as the body takes it.
pub fn resource_arg(local: &Ident, by: ResourceBy, optional: bool) -> TokenStream {
    match (by, optional) {
        (ResourceBy::Ref, false) => quote!(&*#local),
        (ResourceBy::Ref, true) => quote!(::core::option::Option::as_deref(&#local)),
        (ResourceBy::Arc, _) => quote!(#local),
    }
}
