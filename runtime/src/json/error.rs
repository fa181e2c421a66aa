//! [`Error`]: why a document did not decode, and where.

use std::fmt;

/// Why a JSON document did not decode into a type, with the line and column (counted in
/// bytes, from 1) where the problem was found.
///
/// One pointer wide, so that a `Result` of a small value stays small on the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    line: usize,
    column: usize,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The document ended inside a value.
    Eof,
    /// A byte that cannot stand here (`expected` says what could).
    Syntax {
        /// What the grammar allows here.
        expected: &'static str,
    },
    /// A value of another JSON type than the Rust type reads.
    InvalidType {
        /// What was found (`string`, `number`, ...).
        found: &'static str,
        /// What the type reads.
        expected: String,
    },
    /// A value of the right JSON type that the Rust type cannot hold.
    InvalidValue(String),
    /// A required field is absent.
    MissingField(&'static str),
    /// A tag that the (closed) union does not have.
    UnknownTag {
        /// The tag.
        tag: String,
        /// The tags the union has.
        expected: &'static [&'static str],
    },
    /// Objects and lists nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
    RecursionLimit,
    /// Bytes after the value.
    TrailingCharacters,
    /// The document is not UTF-8.
    InvalidUtf8,
    /// A value that could not be encoded (a union member that only exists on receipt).
    Unencodable(&'static str),
    /// A message from a serde implementation.
    Custom(String),
}

impl Error {
    /// An error at byte `offset` of `input`.
    #[cold]
    pub(crate) fn at(input: &[u8], offset: usize, kind: ErrorKind) -> Error {
        let before = &input[..offset.min(input.len())];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
        Error(Box::new(Inner { kind, line, column }))
    }

    /// An error without a position (encoding, or a value built outside a document).
    #[cold]
    pub(crate) fn new(kind: ErrorKind) -> Error {
        Error(Box::new(Inner {
            kind,
            line: 0,
            column: 0,
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The line of the problem, from 1 (0 when the error has no position).
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// The column of the problem in bytes, from 1 (0 when the error has no position).
    pub fn column(&self) -> usize {
        self.0.column
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Eof => f.write_str("EOF while parsing a value"),
            ErrorKind::Syntax { expected } => write!(f, "expected {expected}"),
            ErrorKind::InvalidType { found, expected } => {
                write!(f, "invalid type: {found}, expected {expected}")
            }
            ErrorKind::InvalidValue(message) => write!(f, "invalid value: {message}"),
            ErrorKind::MissingField(name) => write!(f, "missing field `{name}`"),
            ErrorKind::UnknownTag { tag, expected } => {
                write!(f, "unknown variant `{tag}`, expected ")?;
                match expected {
                    [] => f.write_str("none"),
                    [one] => write!(f, "`{one}`"),
                    many => {
                        for (i, t) in many.iter().enumerate() {
                            let sep = match i {
                                0 => "one of ",
                                _ => ", ",
                            };
                            write!(f, "{sep}`{t}`")?;
                        }
                        Ok(())
                    }
                }
            }
            ErrorKind::RecursionLimit => f.write_str("recursion limit exceeded"),
            ErrorKind::TrailingCharacters => f.write_str("trailing characters"),
            ErrorKind::InvalidUtf8 => f.write_str("invalid UTF-8"),
            ErrorKind::Unencodable(what) => write!(f, "cannot encode {what}"),
            ErrorKind::Custom(message) => f.write_str(message),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        if e.line == 0 {
            fmt::Display::fmt(&e.kind, f)
        } else {
            write!(f, "{} at line {} column {}", e.kind, e.line, e.column)
        }
    }
}

impl std::error::Error for Error {}

/// The shared helpers of generated code build errors through serde's error constructors, so
/// that one piece of code serves both the serde impls and this codec.
impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }

    fn missing_field(field: &'static str) -> Self {
        Error::new(ErrorKind::MissingField(field))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Error::new(ErrorKind::UnknownTag {
            tag: variant.to_owned(),
            expected,
        })
    }
}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error::new(ErrorKind::Custom(msg.to_string()))
    }
}

impl Error {
    /// The same error placed at byte `offset` of `input`, unless it already has a place.
    #[cold]
    pub(crate) fn placed(self, input: &[u8], offset: usize) -> Error {
        if self.0.line != 0 {
            return self;
        }
        Error::at(input, offset, self.0.kind)
    }
}
