//! The server's token: every TCP request shows it, as `Authorization: Bearer TOKEN`
//! or, for a browser's WebSocket (which cannot set headers), `?token=TOKEN`.

use std::fmt;
use std::sync::Arc;

use hyper::{HeaderMap, header};
use subtle::ConstantTimeEq;

/// A secret that a client shows to be served. Its `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Arc<str>);

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadToken(String);

impl fmt::Display for BadToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadToken {}

impl Token {
    /// A new random token: 32 bytes from the kernel's generator, in hex.
    pub fn generate() -> std::io::Result<Self> {
        let mut bytes = [0u8; 32];
        let mut filled = 0;
        while filled < bytes.len() {
            match rustix::rand::getrandom(
                &mut bytes[filled..],
                rustix::rand::GetRandomFlags::empty(),
            ) {
                Ok(n) => filled += n,
                Err(rustix::io::Errno::INTR) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Self(hex.into()))
    }

    /// A token given by the host: 16 to 256 characters, each a letter, a digit or one
    /// of `-._~` (so that it travels in a header and a URL as it is).
    pub fn new(secret: impl Into<String>) -> Result<Self, BadToken> {
        let secret = secret.into();
        if !(16..=256).contains(&secret.len()) {
            return Err(BadToken(format!(
                "the token has {} characters; it needs 16 to 256",
                secret.len()
            )));
        }
        if let Some(bad) = secret
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')))
        {
            return Err(BadToken(format!(
                "the token may hold letters, digits and `-._~`, not {bad:?}"
            )));
        }
        Ok(Self(secret.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a request shows this token, in its `Authorization` header or in its
    /// query. The comparison takes the same time wherever the first difference is.
    pub fn shown_in(&self, headers: &HeaderMap, query: Option<&str>) -> bool {
        let bearer = headers
            .get_all(header::AUTHORIZATION)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|value| {
                let (scheme, rest) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
            });
        let in_query = query
            .into_iter()
            .flat_map(|query| query.split('&'))
            .filter_map(|pair| pair.strip_prefix("token="));
        let mut shown = false;
        for candidate in bearer.chain(in_query) {
            shown |= bool::from(candidate.as_bytes().ct_eq(self.0.as_bytes()));
        }
        shown
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn headers(auth: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        map
    }

    #[test]
    fn a_token_is_shown_by_header_or_query_and_nothing_else() {
        let token = Token::new("s3cret-token-0123").unwrap();
        assert!(token.shown_in(&headers("Bearer s3cret-token-0123"), None));
        assert!(token.shown_in(&headers("bearer  s3cret-token-0123 "), None));
        assert!(token.shown_in(&HeaderMap::new(), Some("a=1&token=s3cret-token-0123")));
        assert!(!token.shown_in(&HeaderMap::new(), None));
        assert!(!token.shown_in(&headers("Bearer s3cret-token-012"), None));
        assert!(!token.shown_in(&headers("Bearer s3cret-token-01234"), None));
        assert!(!token.shown_in(&headers("Basic s3cret-token-0123"), None));
        assert!(!token.shown_in(&headers("s3cret-token-0123"), None));
        assert!(!token.shown_in(&HeaderMap::new(), Some("xtoken=s3cret-token-0123")));
    }

    #[test]
    fn generated_tokens_differ_and_given_ones_are_checked() {
        let a = Token::generate().unwrap();
        let b = Token::generate().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert_ne!(a, b);
        assert!(Token::new("short").is_err());
        assert!(Token::new("has a space in it ok").is_err());
        assert!(Token::new("x".repeat(257)).is_err());
        assert_eq!(format!("{a:?}"), "Token(..)");
    }
}
