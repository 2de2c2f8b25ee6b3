//! Module bytes as given: binary `.wasm`, or WAT text when the `wat` feature is on.

use std::borrow::Cow;

use crate::LoadError;

/// The binary module `bytes` hold: themselves, or their WAT text assembled.
pub(crate) fn to_binary(bytes: &[u8]) -> Result<Cow<'_, [u8]>, LoadError> {
    if bytes.starts_with(b"\0asm") || !looks_like_text(bytes) {
        return Ok(Cow::Borrowed(bytes));
    }
    assemble(bytes)
}

/// WAT starts, after whitespace and comments, with `(`.
fn looks_like_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|text| {
        let mut rest = text.trim_start();
        loop {
            if let Some(line) = rest.strip_prefix(";;") {
                rest = line.split_once('\n').map_or("", |(_, r)| r).trim_start();
            } else if let Some(block) = rest.strip_prefix("(;") {
                rest = block.split_once(";)").map_or("", |(_, r)| r).trim_start();
            } else {
                return rest.starts_with('(');
            }
        }
    })
}

#[cfg(feature = "wat")]
fn assemble(bytes: &[u8]) -> Result<Cow<'_, [u8]>, LoadError> {
    wat::parse_bytes(bytes).map_err(|err| LoadError::Text(err.to_string()))
}

#[cfg(not(feature = "wat"))]
fn assemble(_: &[u8]) -> Result<Cow<'_, [u8]>, LoadError> {
    Err(LoadError::TextUnsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_text() {
        assert!(looks_like_text(b"  ;; a comment\n (; block ;) (module)"));
        assert!(!looks_like_text(b"\0asm\x01\0\0\0"));
        assert!(!looks_like_text(b"garbage"));
    }

    #[cfg(feature = "wat")]
    #[test]
    fn assembles_text() {
        let binary = to_binary(b"(module (func (export \"f\")))").unwrap();
        assert!(binary.starts_with(b"\0asm"));
        assert!(matches!(
            to_binary(b"(module (func"),
            Err(LoadError::Text(_))
        ));
    }
}
