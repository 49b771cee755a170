//! `#[op]`: parse → validate → expand.
//!
//! For `#[op] fn op_x(..)` the expansion is, in outline:
//!
//! ```text
//! fn op_x(..) { .. }                      // as written, parameter attributes removed
//! struct op_x { .. }                      // hidden companion, type namespace only
//! impl op_x {
//!     pub const DECLS: &[OpDecl] = [op_x_sync, op_x_async];
//!     pub const META: &OpMeta = ..;       // names, types, kinds, doc, return type
//!     fn __decode(args) -> (A, B, ..)     // JSON arguments, shared by both entries
//!     fn __finish(ret, state, out)        // return value to JSON, shared by both
//!     fn __sync(call)                     // decode, borrow state, call inline
//!     fn __async(call)                    // decode, clone state, spawn_blocking
//! }
//! ```
//!
//! A companion struct (rather than a module) keeps the generated items in the scope of
//! the function, so every type in the signature resolves exactly as the user wrote it.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, Type};

use crate::attr::parse_options;
use crate::errors::Errors;
use crate::model::{BufferKind, Entries, OpSpec, Param, ParamKind, ResourceBy, RetKind};
use crate::signature::parse_op;
use crate::validate;

/// The whole pipeline of `#[op]`.
pub fn expand_op(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let err = syn::Error::new(
                Span::call_site(),
                "`#[op]` applies to a function: `fn` or `async fn`",
            )
            .to_compile_error();
            return quote!(#err #item);
        }
    };
    let mut errors = Errors::default();
    let options = parse_options(attr, &mut errors);
    let spec = parse_op(func, options, &mut errors);
    validate::check(&spec, &mut errors);
    match errors.into_result() {
        Ok(()) => expand(&spec),
        Err(err) => fallback(&spec, err),
    }
}

/// On error: the errors, the function unchanged and an empty companion, so that no
/// "cannot find" error follows the real one.
fn fallback(spec: &OpSpec, err: syn::Error) -> TokenStream {
    let errors = err.to_compile_error();
    let func = &spec.func;
    if func.sig.receiver().is_some() {
        // A method: a companion struct would be one more error inside the `impl`.
        return quote!(#errors #func);
    }
    let companion = companion(spec);
    let name = &spec.name;
    quote! {
        #errors
        #func
        #companion
        #[allow(dead_code)]
        impl #name {
            pub const DECLS: &'static [::opkit::__private::OpDecl] = &[];
        }
    }
}

fn companion(spec: &OpSpec) -> TokenStream {
    let vis = &spec.func.vis;
    let name = &spec.name;
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types, dead_code)]
        #vis struct #name {
            _private: (),
        }
    }
}

fn expand(spec: &OpSpec) -> TokenStream {
    let func = &spec.func;
    let name = &spec.name;
    let companion = companion(spec);
    let meta = expand_meta(spec);
    let decode = expand_decode(spec);
    let finish = expand_finish(spec);
    let mut decls = Vec::new();
    let mut entries = Vec::new();
    if spec.entries.has_sync() {
        decls.push(expand_decl(
            spec,
            "sync",
            quote!(Sync),
            quote!(Sync(Self::__sync)),
        ));
        entries.push(expand_sync_entry(spec));
    }
    match spec.entries {
        Entries::SyncAndBlocking | Entries::Blocking => {
            decls.push(expand_decl(
                spec,
                "async",
                quote!(Blocking),
                quote!(Async(Self::__async)),
            ));
            entries.push(expand_async_entry(spec, false));
        }
        Entries::Async => {
            decls.push(expand_decl(
                spec,
                "async",
                quote!(Async),
                quote!(Async(Self::__async)),
            ));
            entries.push(expand_async_entry(spec, true));
        }
        Entries::Sync => {}
    }
    quote! {
        #func
        #companion
        #[allow(dead_code)]
        impl #name {
            /// The dispatch-table entries of this op.
            pub const DECLS: &'static [::opkit::__private::OpDecl] = &[#(#decls),*];
            /// What this op is: parameters, return type, doc comment.
            pub const META: &'static ::opkit::__private::OpMeta = &#meta;
            #decode
            #finish
            #(#entries)*
        }
    }
}

fn expand_decl(
    spec: &OpSpec,
    suffix: &str,
    mode: TokenStream,
    handler: TokenStream,
) -> TokenStream {
    let entry = format!("{}_{suffix}", spec.name);
    quote! {
        ::opkit::__private::OpDecl {
            entry: #entry,
            mode: ::opkit::__private::OpMode::#mode,
            meta: Self::META,
            handler: ::opkit::__private::Handler::#handler,
        }
    }
}

fn expand_meta(spec: &OpSpec) -> TokenStream {
    let name = spec.name.to_string();
    let doc = &spec.doc;
    let params = spec.params.iter().map(|param| {
        let name = param.name.to_string();
        let ty = type_string(&param.ty);
        let (kind, optional) = match &param.kind {
            ParamKind::Serde { optional, .. } => (quote!(Serde), *optional),
            ParamKind::Resource { .. } => (quote!(Resource), false),
            ParamKind::Buffer(_) => (quote!(Buffer), false),
            ParamKind::StateRef(_) | ParamKind::StateMut(_) => (quote!(State), false),
            ParamKind::OpStateRef | ParamKind::OpStateMut | ParamKind::OpStateRc => {
                (quote!(OpState), false)
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
    let returns_bytes = spec.ret.kind == RetKind::Bytes;
    let permission = match &spec.permission {
        Some(permission) => quote!(::core::option::Option::Some(#permission)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::opkit::__private::OpMeta {
            name: #name,
            doc: #doc,
            params: &[#(#params),*],
            ret: #ret,
            permission: #permission,
            returns_bytes: #returns_bytes,
        }
    }
}

/// `__decode`: the JSON arguments into their owned types, shared by both entries.
/// Each slot is filled by a read spanned at the parameter's type, so a type that is not
/// `Deserialize` is reported there. The read resolves to a hand-written reader for
/// integers, booleans and strings (rids among them) and to serde for anything else.
fn expand_decode(spec: &OpSpec) -> TokenStream {
    let mut types = Vec::new();
    let mut fills = Vec::new();
    let mut takes = Vec::new();
    for (index, param) in arguments(spec).enumerate() {
        let slot = syn::Index::from(index);
        let (ty, optional) = match &param.kind {
            ParamKind::Serde {
                decode, optional, ..
            } => (decode.to_token_stream(), *optional),
            _ => (quote!(::opkit::__private::ResourceId), false),
        };
        let deserialize = quote_spanned! {param.ty.span()=>
            (&&::opkit::__private::Arg::<#ty>::NEW).__opkit_read(__json)
        };
        fills.push(quote! {
            #index => ::opkit::__private::put(&mut self.#slot, #deserialize),
        });
        types.push(ty);
        takes.push(if optional {
            quote!(::core::option::Option::flatten(__slots.#slot))
        } else {
            quote!(::opkit::__private::required(__slots.#slot, Self::META, #index)?)
        });
    }
    let len = types.len();
    let nones = types.iter().map(|_| quote!(::core::option::Option::None));
    quote! {
        #[inline]
        fn __decode(
            __args: &[u8],
        ) -> ::core::result::Result<(#(#types,)*), ::opkit::__private::OpError> {
            struct __Slots(#(::core::option::Option<#types>,)*);
            impl ::opkit::__private::ArgSlots for __Slots {
                const LEN: usize = #len;
                fn empty() -> Self {
                    __Slots(#(#nones,)*)
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
            let __slots: __Slots = ::opkit::__private::decode_args(Self::META, __args)?;
            ::core::result::Result::Ok((#(#takes,)*))
        }
    }
}

/// `__finish`: the body's return value into JSON; a new resource into the table.
fn expand_finish(spec: &OpSpec) -> TokenStream {
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

/// The sync entry: everything is borrowed for the length of the call.
fn expand_sync_entry(spec: &OpSpec) -> TokenStream {
    let name = &spec.name;
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
            ParamKind::Resource { resource, by } => {
                let param_name = param.name.to_string();
                let lookup = quote_spanned! {resource.span()=>
                    ::opkit::__private::resource::<#resource>
                };
                lookups.push(quote! {
                    let #local = #lookup(Self::META, __c.state, #param_name, #local)?;
                });
                match by {
                    ResourceBy::Ref => quote!(&*#local),
                    ResourceBy::Arc => quote!(#local),
                }
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
            ParamKind::OpStateRc => quote!(::std::rc::Rc::clone(__c.state)),
        });
    }
    let take_bufs = take_bufs(spec, true);
    let borrow = match state_borrow {
        StateBorrow::None => quote!(),
        StateBorrow::Shared => quote!(let __st = __c.state.borrow();),
        StateBorrow::Exclusive => quote!(let mut __st = __c.state.borrow_mut();),
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
                let __ret = ::opkit::__private::catch_sync(Self::META, || #name(#(#args),*));
                // Lent buffers go back to the caller even when the body panicked.
                #(#restores)*
                __ret?
            };
            Self::__finish(__ret, __c.state, __c.out)
        }
    }
}

/// The async entry: everything the body needs is owned, so that it can move into
/// `spawn_blocking` (or into the future of an `async fn`).
///
/// For `spawn_blocking`, each owned value is wrapped in a `SendGuard` spanned at the
/// user's type: that is where a type that is not `Send` gets reported.
fn expand_async_entry(spec: &OpSpec, is_async_fn: bool) -> TokenStream {
    let name = &spec.name;
    let decoded = decoded_locals(spec);
    let mut prepare = Vec::new();
    let mut cancels = Vec::new();
    let mut args = Vec::new();
    let mut returned_bufs = Vec::new();
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
            ParamKind::Resource { resource, by } => {
                let param_name = param.name.to_string();
                let cancel = format_ident!("__cancel{}", index);
                let lookup = quote_spanned! {resource.span()=>
                    ::opkit::__private::resource::<#resource>
                };
                prepare.push(quote! {
                    let #cancel = ::opkit::__private::cancel_token(__c.state, #local);
                    let #local = #lookup(Self::META, __c.state, #param_name, #local)?;
                });
                cancels.push(cancel);
                match by {
                    ResourceBy::Ref => quote!(&*#local),
                    ResourceBy::Arc => quote!(#local),
                }
            }
            // An `async fn` borrows each buffer (a `&mut Vec<u8>`) from a `KeepBufs`.
            ParamKind::Buffer(kind) if is_async_fn => {
                kept_bufs.push(local.clone());
                match kind {
                    BufferKind::Ref => quote!(&**#local),
                    BufferKind::Mut => quote!(&mut **#local),
                    BufferKind::Owned => quote!(::core::mem::take(#local)),
                }
            }
            ParamKind::Buffer(kind) => match kind {
                BufferKind::Ref => {
                    returned_bufs.push(quote!(#local));
                    quote!(&#local)
                }
                BufferKind::Mut => {
                    returned_bufs.push(quote!(#local));
                    quote!(&mut #local)
                }
                BufferKind::Owned => {
                    returned_bufs.push(quote!(::std::vec::Vec::new()));
                    quote!(#local)
                }
            },
            ParamKind::StateRef(ty) => {
                let lookup = quote_spanned!(ty.span()=> ::opkit::__private::state_clone::<#ty>);
                prepare.push(quote!(let #local = #lookup(Self::META, __c.state)?;));
                let value = guard(&local, ty, ty.span(), &mut prepare);
                quote!(&#value)
            }
            ParamKind::OpStateRc => {
                prepare.push(quote!(let #local = ::std::rc::Rc::clone(__c.state);));
                quote!(#local)
            }
            // Rejected by validation for ops with an async entry.
            ParamKind::StateMut(_) | ParamKind::OpStateRef | ParamKind::OpStateMut => {
                quote!(::core::unreachable!())
            }
        });
    }
    let take_bufs = take_bufs(spec, !is_async_fn);
    let spawn = if is_async_fn && !kept_bufs.is_empty() {
        // The buffers are kept where a panicking body still gives them back.
        quote! {
            let __lent = ::opkit::__private::LentBufs::default();
            ::opkit::__private::spawn_async_op(
                Self::META,
                __c.state,
                ::std::vec![#(#cancels),*],
                ::core::option::Option::Some(::core::clone::Clone::clone(&__lent)),
                async move {
                    let mut __keep = __lent.keep([#(#kept_bufs),*]);
                    let [#(#kept_bufs),*] = __keep.each_mut();
                    let __ret = #name(#(#args),*).await;
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
                ::std::vec![#(#cancels),*],
                ::core::option::Option::None,
                async move {
                    let __ret = #name(#(#args),*).await;
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
        quote! {
            ::opkit::__private::spawn_blocking_op(
                Self::META,
                __c.state,
                ::std::vec![#(#cancels),*],
                move || {
                    let __ret = ::opkit::__private::catch_blocking(|| {
                        let __ret = #name(#(#args),*);
                        #guard_ret
                    });
                    (__ret, ::std::vec![#(#returned_bufs),*])
                },
                Self::__finish,
            )
        }
    };
    quote! {
        fn __async(
            __c: ::opkit::__private::AsyncCall<'_>,
        ) -> ::core::result::Result<::opkit::__private::OpFuture, ::opkit::__private::OpError> {
            let (#(#decoded,)*) = Self::__decode(__c.args)?;
            #(#prepare)*
            #take_bufs
            #spawn
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum StateBorrow {
    None,
    Shared,
    Exclusive,
}

fn arguments(spec: &OpSpec) -> impl Iterator<Item = &Param> {
    spec.params.iter().filter(|p| p.kind.is_argument())
}

/// The locals that `__decode`'s tuple is bound to, one per JSON argument.
fn decoded_locals(spec: &OpSpec) -> Vec<Ident> {
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
fn take_bufs(spec: &OpSpec, mutable: bool) -> TokenStream {
    let mut bindings = Vec::new();
    let mut names = Vec::new();
    for (index, param) in spec.params.iter().enumerate() {
        if let ParamKind::Buffer(kind) = &param.kind {
            let local = local(index);
            bindings.push(match kind {
                BufferKind::Mut if mutable => quote!(mut #local),
                BufferKind::Mut | BufferKind::Ref | BufferKind::Owned => quote!(#local),
            });
            names.push(param.name.to_string());
        }
    }
    if bindings.is_empty() {
        return quote!();
    }
    quote! {
        let [#(#bindings),*] = ::opkit::__private::take_bufs(Self::META, __c.bufs, [#(#names),*])?;
    }
}

fn local(index: usize) -> Ident {
    format_ident!("__p{}", index)
}

fn by_ref(local: &Ident, borrowed: bool) -> TokenStream {
    if borrowed {
        quote!(&#local)
    } else {
        quote!(#local)
    }
}

/// A type as a person writes it: `&str`, `Option<Vec<u8>>`, `&mut [u8]`.
pub fn type_string(ty: &Type) -> String {
    let raw = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let prev = out.chars().last();
            let next = chars.peek().copied();
            let glue_prev = matches!(prev, Some('&' | '<' | ':' | '(' | '[' | '\''));
            let glue_next = matches!(next, Some('<' | '>' | ':' | ',' | ')' | ']' | ';'));
            if glue_prev || glue_next {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_read_as_written() {
        for (source, expected) in [
            ("&str", "&str"),
            ("& mut [u8]", "&mut [u8]"),
            ("Option < Vec < u8 > >", "Option<Vec<u8>>"),
            ("std :: path :: PathBuf", "std::path::PathBuf"),
            ("Result<(), MyError>", "Result<(), MyError>"),
            ("[u8; 4]", "[u8; 4]"),
            ("Rc<RefCell<OpState>>", "Rc<RefCell<OpState>>"),
            ("&'static str", "&'static str"),
        ] {
            let ty: Type = syn::parse_str(source).unwrap();
            assert_eq!(type_string(&ty), expected, "{source}");
        }
    }
}
