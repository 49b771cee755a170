//! `__async`: the async entry, which runs the body in `spawn_blocking` or polls the
//! future of an `async fn`.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned;

use super::generics::OpGenerics;
use super::locals::{decoded_locals, local, resource_arg, resource_lookup, take_bufs};
use crate::model::{BufferKind, OpSpec, ParamKind};

/// The async entry: everything the body needs is owned, so that it can move into
/// `spawn_blocking` (or into the future of an `async fn`).
///
/// For `spawn_blocking`, each owned value is wrapped in a `SendGuard` spanned at the
/// user's type: that is where a type that is not `Send` gets reported.
pub fn expand_async_entry(spec: &OpSpec, generics: &OpGenerics, is_async_fn: bool) -> TokenStream {
    let name = &spec.name;
    let turbofish = generics.turbofish();
    let decoded = decoded_locals(spec);
    let mut prepare = Vec::new();
    let mut cancels = Vec::new();
    let mut plain_cancels = Vec::new();
    let mut any_optional = false;
    let mut args = Vec::new();
    let mut kept_bufs = Vec::new();
    // Moves a value into the blocking closure, checking `Send` at `span`.
    let guard = |local: &Ident, ty: &dyn ToTokens, span: Span, prepare: &mut Vec<TokenStream>| {
        if is_async_fn {
            return quote!(#local);
        }
        let new = quote_spanned!(span=> ::opkit::__private::SendGuard::<#ty>::new);
        // The argument too is located at the user's type (rustc reports an unmet `Send`
        // at the argument), while it still resolves to the generated local.
        let arg = Ident::new(&local.to_string(), Span::call_site().located_at(span));
        prepare.push(quote!(let #local = #new(#arg);));
        quote!(#local.into_inner())
    };
    for (index, param) in spec.params.iter().enumerate() {
        let local = local(index);
        args.push(match &param.kind {
            ParamKind::Serde {
                decode, borrowed, ..
            } => {
                let value = guard(&local, decode, param.ty.span(), &mut prepare);
                if *borrowed { quote!(&#value) } else { value }
            }
            ParamKind::Resource {
                resource,
                by,
                optional,
            } => {
                let param_name = param.name.unraw().to_string();
                let cancel = format_ident!("__cancel{}", index);
                let lookup = resource_lookup(resource, *optional);
                let token = if *optional {
                    any_optional = true;
                    quote!(::opkit::__private::cancel_token_opt(__c.state, #local))
                } else {
                    quote!(::opkit::__private::cancel_token(__c.state, #local))
                };
                prepare.push(quote! {
                    let #cancel = #token;
                    let #local = #lookup(Self::META, __c.state, #param_name, #local)?;
                });
                cancels.push(if *optional {
                    quote!(#cancel)
                } else {
                    quote!(::core::option::Option::Some(#cancel))
                });
                plain_cancels.push(cancel);
                resource_arg(&local, *by, *optional)
            }
            // Each buffer is borrowed (a `&mut Vec<u8>`): from a `KeepBufs` in an
            // `async fn`, from the lent array in a blocking body.
            ParamKind::Buffer(kind) => {
                kept_bufs.push(local.clone());
                match kind {
                    BufferKind::Ref => quote!(&**#local),
                    BufferKind::Mut => quote!(&mut **#local),
                    BufferKind::Owned => quote!(::core::mem::take(#local)),
                }
            }
            ParamKind::StateRef(ty) => {
                let lookup = quote_spanned!(ty.span()=> ::opkit::__private::state_clone::<#ty>);
                prepare.push(quote!(let #local = #lookup(Self::META, __c.state)?;));
                let value = guard(&local, ty, ty.span(), &mut prepare);
                quote!(&#value)
            }
            ParamKind::OpStateRc => {
                prepare.push(quote!(let #local = <::std::rc::Rc<_> as ::core::clone::Clone>::clone(__c.state);));
                quote!(#local)
            }
            // Rejected by validation for ops with an async entry.
            ParamKind::StateMut(_) | ParamKind::OpStateRef | ParamKind::OpStateMut => {
                quote!(::core::unreachable!())
            }
        });
    }
    let take_bufs = take_bufs(spec, false);
    // The tokens whose firing ends the call: an optional resource left out has none.
    let cancels = if any_optional {
        quote!(::opkit::__private::cancels([#(#cancels),*]))
    } else {
        quote!(::std::vec![#(#plain_cancels),*])
    };
    let spawn = if is_async_fn && !kept_bufs.is_empty() {
        // The buffers are kept where a panicking body still gives them back.
        quote! {
            let __lent = ::opkit::__private::LentBufs::default();
            ::opkit::__private::spawn_async_op(
                Self::META,
                __c.state,
                #cancels,
                ::core::option::Option::Some(::core::clone::Clone::clone(&__lent)),
                async move {
                    let mut __keep = __lent.keep([#(#kept_bufs),*]);
                    let [#(#kept_bufs),*] = __keep.each_mut();
                    let __ret = #name #turbofish(#(#args),*).await;
                    (__ret, __keep.give_back())
                },
                Self::__finish,
            )
        }
    } else if is_async_fn {
        quote! {
            ::opkit::__private::spawn_async_op(
                Self::META,
                __c.state,
                #cancels,
                ::core::option::Option::None,
                async move {
                    let __ret = #name #turbofish(#(#args),*).await;
                    (__ret, ::std::vec::Vec::new())
                },
                Self::__finish,
            )
        }
    } else {
        let guard_ret = match &spec.ret.ty {
            Some(ty) => {
                quote_spanned!(ty.span()=> ::opkit::__private::SendGuard::<#ty>::new(__ret))
            }
            None => quote!(::opkit::__private::SendGuard::<()>::new(__ret)),
        };
        // The buffers stay with the executor until the body starts, so that a call
        // cancelled before then gets them back.
        let lent = if kept_bufs.is_empty() {
            quote!(_)
        } else {
            quote!(__lent)
        };
        let unpack = (!kept_bufs.is_empty()).then(|| quote!(let [#(#kept_bufs),*] = __lent;));
        quote! {
            ::opkit::__private::spawn_blocking_op(
                Self::META,
                __c.state,
                #cancels,
                [#(#kept_bufs),*],
                move |#lent| {
                    #unpack
                    let __ret = #name #turbofish(#(#args),*);
                    #guard_ret
                },
                Self::__finish,
            )
        }
    };
    let outlives = outlives_the_call(generics);
    quote! {
        fn __async(
            __c: ::opkit::__private::AsyncCall<'_>,
        ) -> ::core::result::Result<::opkit::__private::OpFuture, ::opkit::__private::OpError> #outlives {
            let (#(#decoded,)*) = Self::__decode(__c.args)?;
            #(#prepare)*
            #take_bufs
            #spawn
        }
    }
}

/// `where P: 'static, ..` for a generic op: the entry's future outlives the call that
/// made it. A bound of the entry rather than a check in its body, so that rustc
/// reports a parameter that is not `'static` once, where `DECLS` names the entry
/// (spanned at the op's generics), and not again at each value of the type that the
/// future holds.
fn outlives_the_call(generics: &OpGenerics) -> TokenStream {
    let params = generics.type_params();
    if params.is_empty() {
        return quote!();
    }
    quote!(where #(#params: 'static),*)
}
