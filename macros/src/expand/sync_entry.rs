//! `__sync`: the sync entry, which calls the body inline.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;

use super::generics::OpGenerics;
use super::locals::{decoded_locals, local, resource_arg, resource_lookup, take_bufs};
use crate::model::{BufferKind, OpSpec, ParamKind};

/// The sync entry: everything is borrowed for the length of the call.
pub fn expand_sync_entry(spec: &OpSpec, generics: &OpGenerics) -> TokenStream {
    let name = &spec.name;
    let turbofish = generics.turbofish();
    let decoded = decoded_locals(spec);
    let mut lookups = Vec::new();
    let mut state_lookups = Vec::new();
    let mut args = Vec::new();
    let mut restores = Vec::new();
    let mut state_borrow = StateBorrow::None;
    let mut buffer_index = 0usize;
    for (index, param) in spec.params.iter().enumerate() {
        let local = local(index);
        args.push(match &param.kind {
            ParamKind::Serde { borrowed, .. } => by_ref(&local, *borrowed),
            ParamKind::Resource {
                resource,
                by,
                optional,
            } => {
                let param_name = param.name.unraw().to_string();
                let lookup = resource_lookup(resource, *optional);
                lookups.push(quote! {
                    let #local = #lookup(Self::META, __c.state, #param_name, #local)?;
                });
                resource_arg(&local, *by, *optional)
            }
            ParamKind::Buffer(kind) => {
                let this = buffer_index;
                buffer_index += 1;
                match kind {
                    BufferKind::Ref => {
                        restores
                            .push(quote!(::opkit::__private::put_buf(__c.bufs, #this, #local);));
                        quote!(&#local)
                    }
                    BufferKind::Mut => {
                        restores
                            .push(quote!(::opkit::__private::put_buf(__c.bufs, #this, #local);));
                        quote!(&mut #local)
                    }
                    BufferKind::Owned => quote!(#local),
                }
            }
            ParamKind::StateRef(ty) => {
                state_borrow = state_borrow.max(StateBorrow::Shared);
                let lookup = quote_spanned!(ty.span()=> ::opkit::__private::state_ref::<#ty>);
                state_lookups.push(quote! {
                    let #local = #lookup(Self::META, &__st)?;
                });
                quote!(#local)
            }
            ParamKind::StateMut(ty) => {
                state_borrow = StateBorrow::Exclusive;
                let lookup = quote_spanned!(ty.span()=> ::opkit::__private::state_mut::<#ty>);
                state_lookups.push(quote! {
                    let #local = #lookup(Self::META, &mut __st)?;
                });
                quote!(#local)
            }
            ParamKind::OpStateRef => {
                state_borrow = state_borrow.max(StateBorrow::Shared);
                quote!(&*__st)
            }
            ParamKind::OpStateMut => {
                state_borrow = StateBorrow::Exclusive;
                quote!(&mut *__st)
            }
            // Rejected by validation for ops with a sync entry.
            ParamKind::OpStateRc => {
                quote!(<::std::rc::Rc<_> as ::core::clone::Clone>::clone(__c.state))
            }
        });
    }
    let take_bufs = take_bufs(spec, true);
    let borrow = match state_borrow {
        StateBorrow::None => quote!(),
        // By full path, through core: a borrow held elsewhere is `Busy`, and no trait
        // the user has in scope (`std::borrow::Borrow`) can take the method call.
        StateBorrow::Shared => {
            quote!(let __st = ::opkit::__private::borrow_state(Self::META, __c.state)?;)
        }
        StateBorrow::Exclusive => {
            quote!(let mut __st = ::opkit::__private::borrow_state_mut(Self::META, __c.state)?;)
        }
    };
    quote! {
        fn __sync(
            __c: &mut ::opkit::__private::SyncCall<'_>,
        ) -> ::core::result::Result<(), ::opkit::__private::OpError> {
            let (#(#decoded,)*) = Self::__decode(__c.args)?;
            #(#lookups)*
            let __ret = {
                #borrow
                #(#state_lookups)*
                #take_bufs
                let __ret = ::opkit::__private::catch_sync(Self::META, || #name #turbofish(#(#args),*));
                // Lent buffers go back to the caller even when the body panicked.
                #(#restores)*
                __ret?
            };
            Self::__finish(__ret, __c.state, __c.out)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum StateBorrow {
    None,
    Shared,
    Exclusive,
}

fn by_ref(local: &Ident, borrowed: bool) -> TokenStream {
    if borrowed {
        quote!(&#local)
    } else {
        quote!(#local)
    }
}
