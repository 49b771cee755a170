//! Rules that need the whole op: what may cross into an async entry, and the shape of
//! the function itself.

use syn::{GenericParam, ItemFn};

use crate::errors::Errors;
use crate::model::{Entries, OpSpec, ParamKind, type_string};

/// Checks the rules that classification alone cannot, recording every violation.
pub fn check(spec: &OpSpec, errors: &mut Errors) {
    check_function(&spec.func, errors);
    let mut mutable_state = None;
    let mut state_borrows = 0;
    for param in &spec.params {
        let ty = &param.ty;
        match &param.kind {
            ParamKind::OpStateMut | ParamKind::StateMut(_) => {
                state_borrows += 1;
                mutable_state.get_or_insert(ty);
                let what = if matches!(param.kind, ParamKind::OpStateMut) {
                    "`&mut OpState`"
                } else {
                    "`#[state] &mut T`"
                };
                match spec.entries {
                    Entries::Sync => {}
                    Entries::Async => errors.push(
                        ty,
                        format_args!(
                            "{what} cannot be held across `.await`; take `Rc<RefCell<OpState>>` and borrow it between awaits"
                        ),
                    ),
                    Entries::SyncAndBlocking | Entries::Blocking => errors.push(
                        ty,
                        format_args!(
                            "{what} cannot cross into `spawn_blocking`; use `#[op(sync)]`, or share the value as `#[state] &Arc<Mutex<T>>`"
                        ),
                    ),
                }
            }
            ParamKind::OpStateRef => {
                state_borrows += 1;
                match spec.entries {
                    Entries::Sync => {}
                    Entries::Async => errors.push(
                        ty,
                        "`&OpState` cannot be held across `.await`; take `Rc<RefCell<OpState>>`, or `#[state] &T` for one value",
                    ),
                    Entries::SyncAndBlocking | Entries::Blocking => errors.push(
                        ty,
                        "`&OpState` cannot cross into `spawn_blocking`; take `#[state] &T` for the values the op needs, or use `#[op(sync)]`",
                    ),
                }
            }
            ParamKind::StateRef(_) => state_borrows += 1,
            ParamKind::OpStateRc => {
                if spec.entries != Entries::Async {
                    errors.push(
                        ty,
                        "`Rc<RefCell<OpState>>` is for `async fn` ops; a `fn` op takes `&OpState` or `&mut OpState` with `#[op(sync)]`",
                    );
                }
            }
            ParamKind::Serde {
                decode,
                borrowed: true,
                ..
            } if spec.entries == Entries::Async => errors.push(
                ty,
                format_args!(
                    "an `async fn` op owns its arguments; take `{}` instead",
                    type_string(decode).trim_start_matches("::")
                ),
            ),
            ParamKind::Serde { .. } | ParamKind::Resource { .. } | ParamKind::Buffer(_) => {}
        }
    }
    if let Some(ty) = mutable_state
        && state_borrows > 1
    {
        errors.push(
            ty,
            "a parameter that borrows `OpState` mutably must be the only one that borrows it; take `&mut OpState` and read the other values from it",
        );
    }
}

fn check_function(func: &ItemFn, errors: &mut Errors) {
    let sig = &func.sig;
    let name = syn::ext::IdentExt::unraw(&sig.ident).to_string();
    let name = name.as_str();
    if let Some(stem) = name
        .strip_suffix("_sync")
        .or_else(|| name.strip_suffix("_async"))
    {
        errors.push(
            &sig.ident,
            format_args!(
                "an op's entries are named by adding `_sync` and `_async` to its name, so `{name}` would register `{name}_sync`; name the op `{stem}`"
            ),
        );
    }
    // Type and const parameters make the companion generic (`op_x::<P>::DECLS`); a
    // lifetime parameter has nothing to stand for: the arguments live for one call.
    for param in &sig.generics.params {
        if let GenericParam::Lifetime(param) = param {
            errors.push(
                &param.lifetime,
                format_args!(
                    "an op cannot have a lifetime parameter: its arguments are decoded for each call and live only as long as it; remove `{}` and borrow with an elided lifetime (`&str`, `Cow<'_, str>`)",
                    param.lifetime
                ),
            );
        }
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.push(
            unsafety,
            "an op cannot be `unsafe fn`: a guest cannot uphold its contract; keep the `unsafe` block inside the body",
        );
    }
    if let Some(abi) = &sig.abi {
        errors.push(abi, "an op cannot be `extern`; remove the ABI");
    }
    if let Some(variadic) = &sig.variadic {
        errors.push(variadic, "an op cannot be variadic");
    }
    if let Some(self_type) = mentions_self(sig) {
        errors.push(
            self_type,
            "an op is a free function, not an associated one: its companion struct cannot go inside an `impl`; move the function out of the `impl` and name the type instead of `Self`",
        );
    }
}

/// The first `Self` in the signature: the function is inside an `impl` (without it
/// rustc reports only that a struct cannot go there).
pub fn mentions_self(sig: &syn::Signature) -> Option<proc_macro2::Ident> {
    use syn::visit::Visit;
    struct Finder(Option<proc_macro2::Ident>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
            if ident == "Self" && self.0.is_none() {
                self.0 = Some(ident.clone());
            }
        }
    }
    let mut finder = Finder(None);
    for input in &sig.inputs {
        finder.visit_fn_arg(input);
    }
    finder.visit_return_type(&sig.output);
    finder.0
}
