//! The JSON lexing that argument decoding and the scalar readers share: whitespace,
//! where a value may end, strings without escapes. A leaf: it imports nothing else of
//! the crate.

/// The first position at or after `pos` that is not JSON whitespace (or the end).
#[inline]
pub(crate) fn skip_ws(json: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = json.get(pos) {
        pos += 1;
    }
    pos
}

/// Whether a number or literal may end before this byte (or the end of input): the
/// rule `serde_json`'s stream deserializer applies after a value that is not
/// self-delimiting.
#[inline]
pub(crate) fn ends_value(json: &[u8], at: usize) -> bool {
    matches!(
        json.get(at),
        None | Some(b' ' | b'\n' | b'\t' | b'\r' | b'"' | b'[' | b']' | b'{' | b'}' | b',' | b':')
    )
}

/// A JSON string without escapes at the start of `json`, borrowed: its text and the
/// bytes it took, quotes included. A string is self-delimiting, so nothing is checked
/// after the closing quote (as in `serde_json`).
#[inline]
pub(crate) fn plain_str(json: &[u8]) -> Option<(&str, usize)> {
    let body = json.strip_prefix(b"\"")?;
    let end = body
        .iter()
        .position(|&b| matches!(b, b'"' | b'\\' | 0..=0x1f))?;
    if body[end] != b'"' {
        return None;
    }
    let text = std::str::from_utf8(&body[..end]).ok()?;
    Some((text, end + 2))
}
