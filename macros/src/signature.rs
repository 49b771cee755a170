//! Parsing an op's signature: each parameter classified once into a [`ParamKind`],
//! the return type checked for borrows (its kind is the compiler's to decide).

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut as _;
use syn::{
    Attribute, FnArg, GenericArgument, Ident, ItemFn, Lifetime, Pat, PathArguments, ReturnType,
    Type, TypePath, parse_quote_spanned,
};

use crate::attr::OpOptions;
use crate::errors::Errors;
use crate::model::{BufferKind, Entries, OpSpec, Param, ParamKind, ResourceBy, Ret};

/// The attributes opkit reads on a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamAttr {
    State,
    Buffer,
    Resource,
    /// Decoded from the JSON arguments: the default, written out to keep bytes as a
    /// JSON array of numbers.
    Serde,
}

impl ParamAttr {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "state" => Some(Self::State),
            "buffer" => Some(Self::Buffer),
            "resource" => Some(Self::Resource),
            "serde" => Some(Self::Serde),
            _ => None,
        }
    }
}

/// Lint attributes that may stay on a parameter; anything else is a mistake.
const PASSTHROUGH: [&str; 4] = ["allow", "warn", "deny", "expect"];

/// Builds the model of `func`, removing opkit's parameter attributes from it so that
/// it can be emitted as written. Problems go to `errors`; what could be read is kept.
pub fn parse_op(mut func: ItemFn, options: OpOptions, errors: &mut Errors) -> OpSpec {
    let is_async_fn = func.sig.asyncness.is_some();
    let entries = match (&options.sync, &options.r#async, is_async_fn) {
        (Some(sync), _, true) => {
            errors.push(
                sync,
                "`#[op(sync)]` cannot apply to an `async fn`; remove `async` from the function, or `sync` from the attribute",
            );
            Entries::Async
        }
        (_, _, true) => Entries::Async,
        (Some(_), None, false) => Entries::Sync,
        (None, Some(_), false) => Entries::Blocking,
        _ => Entries::SyncAndBlocking,
    };
    let mut params = Vec::new();
    for input in &mut func.sig.inputs {
        match input {
            FnArg::Receiver(receiver) => errors.push(
                receiver,
                "an op cannot take `self`; write a free function and pass the value as a parameter or `#[state]`",
            ),
            FnArg::Typed(typed) => {
                let attr = take_param_attr(&mut typed.attrs, errors);
                let name = match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        pat.ident.clone()
                    }
                    other => {
                        errors.push(
                            other,
                            "op parameters must be plain names; bind a name and destructure it in the body",
                        );
                        Ident::new("__invalid", other.span())
                    }
                };
                match classify(attr, &typed.ty) {
                    Ok(kind) => params.push(Param {
                        name,
                        ty: (*typed.ty).clone(),
                        kind,
                    }),
                    Err(err) => errors.add(err),
                }
            }
        }
    }
    let ret = parse_return(&func.sig.output, errors);
    OpSpec {
        name: func.sig.ident.clone(),
        doc: doc_comment(&func.attrs),
        entries,
        permission: options.permission,
        params,
        ret,
        func,
    }
}

/// Removes and returns the opkit attribute of a parameter, reporting unknown and
/// conflicting ones.
fn take_param_attr(attrs: &mut Vec<Attribute>, errors: &mut Errors) -> Option<ParamAttr> {
    let mut found: Option<(ParamAttr, &'static str)> = None;
    let mut kept = Vec::new();
    for attr in attrs.drain(..) {
        let name = attr
            .path()
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        if PASSTHROUGH.contains(&name.as_str()) {
            kept.push(attr);
            continue;
        }
        let Some(kind) = ParamAttr::from_name(&name) else {
            errors.push(
                attr.path(),
                format_args!(
                    "unknown parameter attribute `#[{}]`; expected `#[state]`, `#[buffer]`, `#[resource]` or `#[serde]`",
                    attr.path().to_token_stream().to_string().replace(' ', "")
                ),
            );
            continue;
        };
        if let Err(err) = attr.meta.require_path_only() {
            errors.add(err);
        }
        let label = match kind {
            ParamAttr::State => "state",
            ParamAttr::Buffer => "buffer",
            ParamAttr::Resource => "resource",
            ParamAttr::Serde => "serde",
        };
        match found {
            Some((_, first)) => errors.push(
                &attr,
                format_args!(
                    "`#[{label}]` conflicts with `#[{first}]`; a parameter has one source"
                ),
            ),
            None => found = Some((kind, label)),
        }
    }
    *attrs = kept;
    found.map(|(kind, _)| kind)
}

/// Sorts one parameter into its kind, from its attribute and its type as written.
pub fn classify(attr: Option<ParamAttr>, ty: &Type) -> syn::Result<ParamKind> {
    let ty = peel(ty);
    if let Type::ImplTrait(_) = ty {
        return Err(syn::Error::new_spanned(
            ty,
            "`impl Trait` parameters are not supported; name the type",
        ));
    }
    match attr {
        Some(ParamAttr::State) => match ty {
            Type::Reference(r) if r.mutability.is_some() => {
                Ok(ParamKind::StateMut(peel(&r.elem).clone()))
            }
            Type::Reference(r) => Ok(ParamKind::StateRef(peel(&r.elem).clone())),
            _ => Err(syn::Error::new_spanned(
                ty,
                "`#[state]` takes a reference into `OpState`: write `&T` or `&mut T`",
            )),
        },
        Some(ParamAttr::Buffer) => buffer_kind(ty).map(ParamKind::Buffer).ok_or_else(|| {
            syn::Error::new_spanned(ty, "`#[buffer]` takes `&[u8]`, `&mut [u8]` or `Vec<u8>`")
        }),
        Some(ParamAttr::Resource) => match generic_of(ty, "Option") {
            // An optional rid: the reference inside is syntax the macro must see.
            Some(inner) => resource_kind(inner, true),
            None => resource_kind(ty, false),
        },
        Some(ParamAttr::Serde) => classify_plain(ty),
        None if matches!(buffer_kind(ty), Some(BufferKind::Ref | BufferKind::Owned)) => {
            Err(syn::Error::new_spanned(
                ty,
                "bytes without `#[buffer]` would be decoded from a JSON array of numbers; mark the parameter `#[buffer]` to take one of the call's byte buffers, or `#[serde]` if a JSON array is meant",
            ))
        }
        None => classify_plain(ty),
    }
}

/// `#[resource] r: &T` or `Arc<T>`, or inside `Option<..>` when `optional`.
fn resource_kind(ty: &Type, optional: bool) -> syn::Result<ParamKind> {
    let ty = peel(ty);
    match ty {
        Type::Reference(r) if r.mutability.is_some() => Err(syn::Error::new_spanned(
            ty,
            "resources are shared, so `#[resource]` cannot be `&mut`; take `&T` and use interior mutability",
        )),
        Type::Reference(r) => Ok(ParamKind::Resource {
            resource: peel(&r.elem).clone(),
            by: ResourceBy::Ref,
            optional,
        }),
        _ => match generic_of(ty, "Arc") {
            Some(inner) => Ok(ParamKind::Resource {
                resource: inner.clone(),
                by: ResourceBy::Arc,
                optional,
            }),
            None => Err(syn::Error::new_spanned(
                ty,
                "`#[resource]` takes `&T`, `Arc<T>`, `Option<&T>` or `Option<Arc<T>>` where `T: Resource`",
            )),
        },
    }
}

fn classify_plain(ty: &Type) -> syn::Result<ParamKind> {
    let ty = peel(ty);
    if let Type::Reference(r) = ty {
        if is_named(&r.elem, "OpState") {
            return Ok(match r.mutability {
                Some(_) => ParamKind::OpStateMut,
                None => ParamKind::OpStateRef,
            });
        }
        if r.mutability.is_some() {
            return Err(syn::Error::new_spanned(
                ty,
                "a `&mut` parameter cannot be decoded from the arguments; take the value, or mark a byte buffer `#[buffer]`",
            ));
        }
        // Spanned at the type as written, so errors about it point there.
        let span = r.elem.span();
        let decode: Type = match peel(&r.elem) {
            Type::Path(p) if p.qself.is_none() && p.path.is_ident("str") => {
                parse_quote_spanned!(span=> ::std::string::String)
            }
            Type::Slice(slice) => {
                let elem = &slice.elem;
                parse_quote_spanned!(span=> ::std::vec::Vec<#elem>)
            }
            elem if is_named(elem, "Path") => parse_quote_spanned!(span=> ::std::path::PathBuf),
            elem => elem.clone(),
        };
        return Ok(ParamKind::Serde {
            decode,
            borrowed: true,
        });
    }
    if let Some(inner) = generic_of(ty, "Rc")
        && let Some(cell) = generic_of(inner, "RefCell")
        && is_named(cell, "OpState")
    {
        return Ok(ParamKind::OpStateRc);
    }
    // A value is decoded owned: `Cow<'_, str>` is decoded as `Cow<'static, str>`,
    // which the function takes for its `Cow<'a, str>`.
    let mut decode = ty.clone();
    StaticLifetimes.visit_type_mut(&mut decode);
    Ok(ParamKind::Serde {
        decode,
        borrowed: false,
    })
}

fn buffer_kind(ty: &Type) -> Option<BufferKind> {
    let is_bytes = |ty: &Type| matches!(peel(ty), Type::Slice(s) if is_named(&s.elem, "u8"));
    match peel(ty) {
        Type::Reference(r) if is_bytes(&r.elem) => Some(match r.mutability {
            Some(_) => BufferKind::Mut,
            None => BufferKind::Ref,
        }),
        _ => match generic_of(ty, "Vec") {
            Some(elem) if is_named(elem, "u8") => Some(BufferKind::Owned),
            _ => None,
        },
    }
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match peel(ty) {
        Type::Path(TypePath { qself: None, path }) => path.segments.last(),
        _ => None,
    }
}

/// Makes every lifetime in a type `'static`.
struct StaticLifetimes;

impl syn::visit_mut::VisitMut for StaticLifetimes {
    fn visit_lifetime_mut(&mut self, lifetime: &mut syn::Lifetime) {
        *lifetime = syn::Lifetime::new("'static", lifetime.span());
    }
}

/// `ty` without the invisible groups a `macro_rules!` fragment (`$t:ty`) arrives in,
/// and without parentheses: `&str` given as `$t` is still a reference to `str`.
pub fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => peel(&group.elem),
        Type::Paren(paren) => peel(&paren.elem),
        _ => ty,
    }
}

/// Whether `ty` is a path whose last segment is `name` (`OpState`, `opkit::OpState`).
fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|seg| seg.ident == name)
}

/// The first type argument of `ty` when its last segment is `name`: `T` of `Option<T>`.
fn generic_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    type_args(ty, |ident| ident == name).and_then(|args| args.first().copied())
}

/// The type arguments of `ty`'s last segment (groups peeled), if `accept` takes its name.
pub(crate) fn type_args(ty: &Type, accept: impl Fn(&Ident) -> bool) -> Option<Vec<&Type>> {
    let seg = last_segment(ty)?;
    if !accept(&seg.ident) {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let types: Vec<&Type> = args
        .args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect();
    (!types.is_empty()).then_some(types)
}

fn parse_return(output: &ReturnType, errors: &mut Errors) -> Ret {
    let ty = match output {
        ReturnType::Default => {
            return Ret {
                ty: None,
                span: Span::call_site(),
            };
        }
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let mut lifetimes = LifetimeFinder::default();
    lifetimes.visit_type(&ty);
    if let Some(lifetime) = lifetimes.first {
        errors.push(
            lifetime,
            "the return value of an op cannot borrow; return owned data such as `String` or `Vec<T>`",
        );
    } else if lifetimes.elided_ref {
        errors.push(
            &ty,
            "the return value of an op cannot borrow; return owned data such as `String` or `Vec<T>`",
        );
    }
    if lifetimes.impl_trait {
        errors.push(
            &ty,
            "an op cannot return `impl Trait`; name the return type",
        );
    }
    Ret {
        span: ty.span(),
        ty: Some(ty),
    }
}

#[derive(Default)]
struct LifetimeFinder {
    first: Option<Lifetime>,
    elided_ref: bool,
    impl_trait: bool,
}

impl<'ast> Visit<'ast> for LifetimeFinder {
    fn visit_lifetime(&mut self, lifetime: &'ast Lifetime) {
        if lifetime.ident != "static" && self.first.is_none() {
            self.first = Some(lifetime.clone());
        }
    }

    fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
        if r.lifetime.is_none() {
            self.elided_ref = true;
        }
        syn::visit::visit_type_reference(self, r);
    }

    fn visit_type_impl_trait(&mut self, _: &'ast syn::TypeImplTrait) {
        self.impl_trait = true;
    }
}

/// The doc comment of the op, with the one leading space of each line removed.
fn doc_comment(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    lines.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn kind(attr: Option<ParamAttr>, ty: &str) -> Result<ParamKind, String> {
        let ty: Type = syn::parse_str(ty).unwrap();
        classify(attr, &ty).map_err(|e| e.to_string())
    }

    fn serde(decode: &str, borrowed: bool) -> ParamKind {
        ParamKind::Serde {
            decode: syn::parse_str(decode).unwrap(),
            borrowed,
        }
    }

    #[test]
    fn classifies_plain_parameters() {
        use ParamKind::*;
        let table: &[(&str, ParamKind)] = &[
            ("u32", serde("u32", false)),
            ("String", serde("String", false)),
            ("Option<u32>", serde("Option<u32>", false)),
            (
                "std::option::Option<String>",
                serde("std::option::Option<String>", false),
            ),
            ("&str", serde("::std::string::String", true)),
            ("&[u32]", serde("::std::vec::Vec<u32>", true)),
            ("&Path", serde("::std::path::PathBuf", true)),
            ("&std::path::Path", serde("::std::path::PathBuf", true)),
            ("&Config", serde("Config", true)),
            ("&Option<String>", serde("Option<String>", true)),
            ("&OpState", OpStateRef),
            ("&mut opkit::OpState", OpStateMut),
            ("Rc<RefCell<OpState>>", OpStateRc),
            ("std::rc::Rc<std::cell::RefCell<opkit::OpState>>", OpStateRc),
        ];
        for (ty, expected) in table {
            assert_eq!(kind(None, ty).as_ref(), Ok(expected), "{ty}");
        }
    }

    #[test]
    fn classifies_attributed_parameters() {
        use ParamKind::*;
        let t = |s: &str| syn::parse_str::<Type>(s).unwrap();
        let table: &[(ParamAttr, &str, ParamKind)] = &[
            (ParamAttr::State, "&Perms", StateRef(t("Perms"))),
            (ParamAttr::State, "&mut Counter", StateMut(t("Counter"))),
            (ParamAttr::Buffer, "&[u8]", Buffer(BufferKind::Ref)),
            (ParamAttr::Buffer, "&mut [u8]", Buffer(BufferKind::Mut)),
            (ParamAttr::Buffer, "Vec<u8>", Buffer(BufferKind::Owned)),
            (
                ParamAttr::Resource,
                "&File",
                Resource {
                    resource: t("File"),
                    by: ResourceBy::Ref,
                    optional: false,
                },
            ),
            (
                ParamAttr::Resource,
                "std::sync::Arc<File>",
                Resource {
                    resource: t("File"),
                    by: ResourceBy::Arc,
                    optional: false,
                },
            ),
            (
                ParamAttr::Resource,
                "Option<&File>",
                Resource {
                    resource: t("File"),
                    by: ResourceBy::Ref,
                    optional: true,
                },
            ),
            (
                ParamAttr::Resource,
                "Option<Arc<File>>",
                Resource {
                    resource: t("File"),
                    by: ResourceBy::Arc,
                    optional: true,
                },
            ),
        ];
        for (attr, ty, expected) in table {
            assert_eq!(kind(Some(*attr), ty).as_ref(), Ok(expected), "{ty}");
        }
    }

    #[test]
    fn rejects_unsupported_parameters() {
        let table: &[(Option<ParamAttr>, &str, &str)] = &[
            (None, "&mut String", "a `&mut` parameter cannot be decoded"),
            (
                None,
                "impl Into<String>",
                "`impl Trait` parameters are not supported",
            ),
            (
                Some(ParamAttr::State),
                "Perms",
                "`#[state]` takes a reference",
            ),
            (
                Some(ParamAttr::Buffer),
                "&[u16]",
                "`#[buffer]` takes `&[u8]`",
            ),
            (
                Some(ParamAttr::Buffer),
                "Vec<i8>",
                "`#[buffer]` takes `&[u8]`",
            ),
            (Some(ParamAttr::Resource), "&mut File", "cannot be `&mut`"),
            (
                Some(ParamAttr::Resource),
                "File",
                "`#[resource]` takes `&T`, `Arc<T>`",
            ),
        ];
        for (attr, ty, message) in table {
            let err = kind(*attr, ty).unwrap_err();
            assert!(
                err.starts_with(message) || err.contains(message),
                "{ty}: {err}"
            );
        }
    }

    fn ret(tokens: proc_macro2::TokenStream) -> (Ret, Vec<String>) {
        let output: ReturnType = syn::parse2(tokens).unwrap();
        let mut errors = Errors::default();
        let ret = parse_return(&output, &mut errors);
        (ret, errors.messages())
    }

    #[test]
    fn checks_returns_for_borrows_only() {
        let (r, e) = ret(quote!());
        assert!(e.is_empty() && r.ty.is_none());
        // The kind of a return is the compiler's to decide: every owned type passes.
        for ok in [
            quote!(-> Result<u64, MyError>),
            quote!(-> std::io::Result<NewResource<File>>),
            quote!(-> Fallible<ByteBuf>),
            quote!(-> LookupResult),
            quote!(-> &'static str),
        ] {
            let (r, e) = ret(ok.clone());
            assert!(e.is_empty() && r.ty.is_some(), "{ok}: {e:?}");
        }
        let (_, e) = ret(quote!(-> &str));
        assert_eq!(e.len(), 1);
        let (_, e) = ret(quote!(-> Cow<'a, str>));
        assert!(e[0].starts_with("the return value of an op cannot borrow"));
    }

    #[test]
    fn reads_doc_comments() {
        let func: ItemFn = syn::parse_quote! {
            /// Stats a file.
            ///
            ///  Indented.
            fn op_stat() {}
        };
        assert_eq!(doc_comment(&func.attrs), "Stats a file.\n\n Indented.");
    }
}
