//! The generics of a generic op, as its generated items carry them.
//!
//! For `#[op] fn op_x<P: Bound, const N: usize>(..) where P: Clone` the companion is
//! `struct op_x<P: Bound, const N: usize> where P: Clone { _private: PhantomData<fn() -> (P,)> }`
//! and its items sit in `impl<P: Bound, const N: usize> op_x<P, N> where P: Clone`;
//! the entries call the body as `op_x::<P, N>(..)`, since a parameter that appears in
//! no argument (a const one, or a type used only in a `#[state]`) cannot be inferred.
//! The `fn() -> _` phantom keeps the companion `Send`, `Sync` and free of drop-check
//! whatever the parameters are. For an op that is not generic, every piece is empty
//! and the expansion is as before.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{GenericParam, Generics, Ident};

/// The parameters of the op, with their bounds, ready for the generated items.
pub struct OpGenerics {
    /// As the companion declares them: the function's, without defaults (rustc
    /// reports a default on a function itself).
    decl: Generics,
    /// The type parameters, which the phantom field names.
    types: Vec<Ident>,
}

impl OpGenerics {
    /// The generics of the function, which validation has left without lifetimes.
    pub fn of(generics: &Generics) -> Self {
        Self::new(generics.clone(), true)
    }

    /// The type and const parameters only, without bounds or a where clause: for the
    /// companion of an op that failed to expand, which must not add errors of its own
    /// (a bound naming a lifetime parameter that it does not declare).
    pub fn unbounded(generics: &Generics) -> Self {
        let mut decl = Generics::default();
        for param in &generics.params {
            match param {
                GenericParam::Type(ty) => {
                    let ident = &ty.ident;
                    decl.params.push(syn::parse_quote!(#ident));
                }
                GenericParam::Const(konst) => {
                    let (ident, ty) = (&konst.ident, &konst.ty);
                    decl.params.push(syn::parse_quote!(const #ident: #ty));
                }
                GenericParam::Lifetime(_) => {}
            }
        }
        Self::new(decl, false)
    }

    fn new(mut decl: Generics, keep_bounds: bool) -> Self {
        let mut types = Vec::new();
        for param in &mut decl.params {
            match param {
                GenericParam::Type(ty) => {
                    ty.eq_token = None;
                    ty.default = None;
                    types.push(ty.ident.clone());
                }
                GenericParam::Const(konst) => {
                    konst.eq_token = None;
                    konst.default = None;
                }
                GenericParam::Lifetime(_) => {}
            }
        }
        if !keep_bounds {
            decl.where_clause = None;
        }
        Self { decl, types }
    }

    /// `<P: Bound, const N: usize>` for a struct, an `impl` or a nested item.
    pub fn params(&self) -> TokenStream {
        let (impl_generics, _, _) = self.decl.split_for_impl();
        impl_generics.to_token_stream()
    }

    /// `<P, N>` after the name of a generic type.
    pub fn args(&self) -> TokenStream {
        let (_, ty_generics, _) = self.decl.split_for_impl();
        ty_generics.to_token_stream()
    }

    /// `::<P, N>` after the name of the function.
    pub fn turbofish(&self) -> TokenStream {
        let (_, ty_generics, _) = self.decl.split_for_impl();
        ty_generics.as_turbofish().to_token_stream()
    }

    /// `where ..`, as written.
    pub fn where_clause(&self) -> TokenStream {
        self.decl.where_clause.to_token_stream()
    }

    /// Where the parameters are written (the call site when there are none).
    pub fn span(&self) -> proc_macro2::Span {
        if self.decl.params.is_empty() {
            proc_macro2::Span::call_site()
        } else {
            syn::spanned::Spanned::span(&self.decl.params)
        }
    }

    /// The type parameters as declared, for spans.
    pub fn type_params(&self) -> &[Ident] {
        &self.types
    }

    /// The type of a field that uses every type parameter: `()` when there is none.
    pub fn phantom_type(&self) -> TokenStream {
        let types = &self.types;
        if types.is_empty() {
            quote!(())
        } else {
            quote!(::core::marker::PhantomData<fn() -> (#(#types,)*)>)
        }
    }

    /// A trailing tuple-struct field of [`Self::phantom_type`], and its value; empty
    /// when there are no type parameters.
    pub fn phantom_field(&self) -> (TokenStream, TokenStream) {
        if self.types.is_empty() {
            (quote!(), quote!())
        } else {
            let ty = self.phantom_type();
            (quote!(#ty,), quote!(::core::marker::PhantomData,))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generics(source: &str) -> Generics {
        let func: syn::ItemFn = syn::parse_str(source).unwrap();
        func.sig.generics
    }

    #[test]
    fn a_plain_op_has_no_generics() {
        let g = OpGenerics::of(&generics("fn op_x() {}"));
        for tokens in [g.params(), g.args(), g.turbofish(), g.where_clause()] {
            assert!(tokens.is_empty(), "{tokens}");
        }
        assert_eq!(g.phantom_type().to_string(), "()");
        assert!(g.phantom_field().0.is_empty());
    }

    #[test]
    fn a_generic_op_keeps_bounds_and_loses_defaults() {
        let g = OpGenerics::of(&generics(
            "fn op_x<P: Bound = X, const N: usize = 3>() where P: Clone {}",
        ));
        assert_eq!(g.params().to_string(), "< P : Bound , const N : usize >");
        assert_eq!(g.args().to_string(), "< P , N >");
        assert_eq!(g.turbofish().to_string(), ":: < P , N >");
        assert_eq!(g.where_clause().to_string(), "where P : Clone");
        assert_eq!(
            g.phantom_type().to_string(),
            ":: core :: marker :: PhantomData < fn () -> (P ,) >"
        );
    }

    #[test]
    fn the_fallback_drops_bounds_and_lifetimes() {
        let g = OpGenerics::unbounded(&generics(
            "fn op_x<'a, T: Trait<'a>, const N: usize>() where T: 'a {}",
        ));
        assert_eq!(g.params().to_string(), "< T , const N : usize >");
        assert!(g.where_clause().is_empty());
    }
}
