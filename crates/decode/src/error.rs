//! The one error type of decoding and validation.
//!
//! An [`Error`] is a byte offset, a kind (malformed: the bytes are not the binary format;
//! invalid: well-formed but ill-typed or referring to things that do not exist) and a message
//! worded so a user can act on it. Messages start with the phrase the WebAssembly spec test
//! suite uses for the same failure where there is one ("unexpected end", "type mismatch", …),
//! so the spec runner can compare them.
//!
//! The error is boxed so that `Result<T, Error>` stays one pointer wide on the hot paths of the
//! decoder and validator, and every constructor is `#[cold]` so that error paths are laid out
//! away from the code that runs.

use std::borrow::Cow;
use std::fmt;

/// Whether a module was rejected by the binary format or by validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The bytes do not follow the binary format (spec: "malformed").
    Malformed,
    /// The module decodes but breaks a validation rule (spec: "invalid").
    Invalid,
}

/// A decoding or validation error with the byte offset it was found at.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    offset: usize,
    message: Cow<'static, str>,
}

impl Error {
    /// A binary-format error at `offset` (absolute, from the start of the module).
    #[cold]
    #[inline(never)]
    pub fn malformed(offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Malformed, offset, message.into())
    }

    /// A validation error at `offset` (absolute, from the start of the module).
    #[cold]
    #[inline(never)]
    pub fn invalid(offset: usize, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Invalid, offset, message.into())
    }

    fn new(kind: ErrorKind, offset: usize, message: Cow<'static, str>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                offset,
                message,
            }),
        }
    }

    /// Malformed or invalid.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// Byte offset into the module binary where the problem was found.
    pub fn offset(&self) -> usize {
        self.inner.offset
    }

    /// The message alone, without kind and offset.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Prefixes the message with context (e.g. "in function 12"), keeping kind and offset.
    #[cold]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.inner.message = Cow::Owned(format!("{} ({context})", self.inner.message));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.inner.kind {
            ErrorKind::Malformed => "malformed module",
            ErrorKind::Invalid => "invalid module",
        };
        write!(
            f,
            "{what}: {} at byte offset {} (0x{:x})",
            self.inner.message, self.inner.offset, self.inner.offset
        )
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// Result alias used throughout the decoder and validator.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_kind_message_and_offset() {
        let e = Error::malformed(0x1f, "unexpected end");
        assert_eq!(
            e.to_string(),
            "malformed module: unexpected end at byte offset 31 (0x1f)"
        );
        let e = Error::invalid(3, "type mismatch").context("in function 2");
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(e.message(), "type mismatch (in function 2)");
    }

    #[test]
    fn error_is_pointer_sized() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }
}
