//! Collecting every error of one macro call, so that all are reported at once, each
//! at its own token.

use std::fmt::Display;

use quote::ToTokens;

#[derive(Default)]
pub struct Errors {
    first: Option<syn::Error>,
}

impl Errors {
    /// An error spanning `tokens`.
    pub fn push(&mut self, tokens: impl ToTokens, message: impl Display) {
        self.add(syn::Error::new_spanned(tokens, message));
    }

    pub fn add(&mut self, error: syn::Error) {
        match &mut self.first {
            Some(first) => first.combine(error),
            None => self.first = Some(error),
        }
    }

    pub fn into_result(self) -> Result<(), syn::Error> {
        self.first.map_or(Ok(()), Err)
    }

    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.first
            .iter()
            .flat_map(|e| e.clone().into_iter())
            .map(|e| e.to_string())
            .collect()
    }
}
