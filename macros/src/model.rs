//! The model of an op that parsing builds and expansion reads.
//!
//! Every parameter is sorted once into a [`ParamKind`]; codegen matches the kinds
//! exhaustively. The original syntax nodes stay in the model for spans; [`type_string`]
//! prints a type as written, for the metadata and for messages.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Ident, ItemFn, LitStr, Type};

/// One `#[op]` function, parsed and classified.
pub struct OpSpec {
    /// The function as written, parameter attributes removed; emitted unchanged.
    pub func: ItemFn,
    pub name: Ident,
    pub doc: String,
    pub entries: Entries,
    pub permission: Option<LitStr>,
    pub params: Vec<Param>,
    pub ret: Ret,
}

/// Which entries the op has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entries {
    /// `#[op]` on a `fn`: `op_x_sync` and `op_x_async` (`spawn_blocking`).
    SyncAndBlocking,
    /// `#[op(sync)]`.
    Sync,
    /// `#[op(async)]` on a `fn`.
    Blocking,
    /// `#[op]` on an `async fn`: one entry polled on the host thread.
    Async,
}

impl Entries {
    pub fn has_sync(self) -> bool {
        matches!(self, Self::SyncAndBlocking | Self::Sync)
    }
}

pub struct Param {
    /// The binding as written, for the metadata and messages.
    pub name: Ident,
    /// The type as written.
    pub ty: Type,
    pub kind: ParamKind,
}

/// How a parameter gets its value. A closed set: see `signature::classify`.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamKind {
    /// Decoded from the JSON arguments as `decode`; `borrowed` when the body takes a
    /// reference to it (`&str` decodes a `String` and lends it). Whether it may be
    /// left out is the compiler's to say, on `decode` (`Option` and its aliases).
    Serde { decode: Type, borrowed: bool },
    /// A rid in the JSON arguments, looked up as a `T` in the resource table;
    /// `optional` for `Option<&T>` and `Option<Arc<T>>`, which take a left-out or
    /// `null` rid as `None`.
    Resource {
        resource: Type,
        by: ResourceBy,
        optional: bool,
    },
    /// A byte buffer passed beside the arguments.
    Buffer(BufferKind),
    /// `#[state] &T`: borrowed in the sync entry, cloned for an async entry.
    StateRef(Type),
    /// `#[state] &mut T`: sync only.
    StateMut(Type),
    /// `&OpState`: sync only.
    OpStateRef,
    /// `&mut OpState`: sync only.
    OpStateMut,
    /// `Rc<RefCell<OpState>>`: `async fn` only.
    OpStateRc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceBy {
    /// `#[resource] r: &T`.
    Ref,
    /// `#[resource] r: Arc<T>`.
    Arc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferKind {
    /// `#[buffer] b: &[u8]`.
    Ref,
    /// `#[buffer] b: &mut [u8]`: written by the body, handed back to the caller.
    Mut,
    /// `#[buffer] b: Vec<u8>`: moved into the body.
    Owned,
}

impl ParamKind {
    /// Whether the guest passes this parameter in the JSON arguments.
    pub fn is_argument(&self) -> bool {
        matches!(self, Self::Serde { .. } | Self::Resource { .. })
    }
}

/// What the op returns. Its kind (a `Result`, `ByteBuf`, `NewResource`, a value) is
/// not read here: the expansion asks `opkit::__private::Probe` on the concrete type,
/// so aliases and macro-made types get the kind of what they stand for.
pub struct Ret {
    /// The return type as written; `None` for `()`.
    pub ty: Option<Type>,
    pub span: Span,
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
