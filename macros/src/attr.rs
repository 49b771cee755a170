//! Parsing the options of `#[op(..)]`.

use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Token};

use crate::errors::Errors;

/// The options as written; each keeps its token for spans.
#[derive(Default)]
pub struct OpOptions {
    pub sync: Option<Ident>,
    pub r#async: Option<Ident>,
    pub permission: Option<LitStr>,
}

const VALID: &str = "expected `sync`, `async` or `permission = \"..\"`";

/// Parses `sync`, `async` and `permission = ".."`, separated by commas. Every problem
/// is recorded in `errors`; what parsed is kept.
pub fn parse_options(tokens: TokenStream, errors: &mut Errors) -> OpOptions {
    let mut options = OpOptions::default();
    let parser = |input: ParseStream<'_>| {
        while !input.is_empty() {
            let name = input.call(Ident::parse_any)?;
            let key = name.to_string();
            match key.as_str() {
                "sync" | "async" => {
                    let slot = if key == "sync" {
                        &mut options.sync
                    } else {
                        &mut options.r#async
                    };
                    if slot.is_some() {
                        errors.push(&name, format!("duplicate `#[op]` option `{key}`"));
                    }
                    *slot = Some(name);
                }
                "permission" => {
                    input.parse::<Token![=]>()?;
                    let value: LitStr = input.parse()?;
                    if options.permission.is_some() {
                        errors.push(&name, "duplicate `#[op]` option `permission`");
                    }
                    options.permission = Some(value);
                }
                _ => {
                    errors.push(&name, format!("unknown `#[op]` option `{key}`; {VALID}"));
                    // Skip a value so that the next option still parses.
                    if input.parse::<Option<Token![=]>>()?.is_some() {
                        input.parse::<syn::Expr>()?;
                    }
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(err) = parser.parse2(tokens) {
        errors.add(err);
    }
    if let (Some(_), Some(second)) = (&options.sync, &options.r#async) {
        errors.push(
            second,
            "`sync` and `async` together are the default; write `#[op]` for both entries",
        );
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> (OpOptions, Vec<String>) {
        let mut errors = Errors::default();
        let options = parse_options(tokens, &mut errors);
        (options, errors.messages())
    }

    #[test]
    fn accepts_every_option() {
        let (opts, errors) = parse(quote!(sync, permission = "fs.read"));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(opts.sync.is_some() && opts.r#async.is_none());
        assert_eq!(opts.permission.unwrap().value(), "fs.read");
        let (opts, errors) = parse(quote!(async));
        assert!(errors.is_empty() && opts.r#async.is_some());
    }

    #[test]
    fn reports_every_bad_option() {
        let (_, errors) = parse(quote!(fast, sync, sync, async));
        assert_eq!(
            errors,
            [
                "unknown `#[op]` option `fast`; expected `sync`, `async` or `permission = \"..\"`",
                "duplicate `#[op]` option `sync`",
                "`sync` and `async` together are the default; write `#[op]` for both entries",
            ]
        );
    }
}
