//! Dropbox's JSON, read and written without serde: the codec the clients use for every
//! request and response.
//!
//! Every generated type implements [`Json`] (from the same description of its fields that its
//! serde impls use, so both agree byte for byte). This codec is faster than
//! going through serde: keys are matched in the order encoders write them, strings are
//! scanned eight bytes at a time and borrowed until they are stored, and encoding writes
//! known keys without escaping them. Use it for Dropbox JSON you handle yourself (webhook
//! bodies, stored responses):
//!
//! ```
//! use dropbox_api_runtime::json;
//!
//! let tags: Vec<dropbox_api_runtime::Str> = json::from_str(r#"["a", "b"]"#)?;
//! assert_eq!(tags, ["a", "b"]);
//! assert_eq!(json::to_string(&tags)?, r#"["a","b"]"#);
//! # Ok::<(), json::Error>(())
//! ```
//!
//! The grammar is RFC 8259's, with `serde_json`'s limits: the same documents are accepted,
//! numbers keep every bit of 64-bit integers, and objects and lists nest at most
//! [`MAX_DEPTH`] deep. A document must be UTF-8 as a whole.

mod error;
mod impls;
mod read;
mod write;

pub use error::{Error, ErrorKind};
pub use read::{MAX_DEPTH, Reader};
pub use write::Writer;

pub(crate) use impls::{read_list, read_map, write_list, write_map};
pub(crate) use read::Entry;

/// A type with a Dropbox JSON form, read and written by this module's codec.
///
/// Implemented by every generated type (from the same description as its serde impls), by
/// the standard types they hold and by `serde_json::Value`. The reader and writer it takes
/// are driven only by this crate's generic code. (A boxed field, which breaks a recursive
/// type, is read through its struct's description, so `Box<T>` has no impl.)
pub trait Json: Sized {
    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error>;
    /// Writes the value (a value that cannot be written records an error in the writer).
    fn encode(&self, w: &mut Writer);
}

/// Decodes a document held as bytes (UTF-8 checked first).
pub fn from_slice<T: Json>(bytes: &[u8]) -> Result<T, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => from_str(text),
        Err(e) => Err(Error::at(bytes, e.valid_up_to(), ErrorKind::InvalidUtf8)),
    }
}

/// Decodes a document.
pub fn from_str<T: Json>(text: &str) -> Result<T, Error> {
    let mut r = Reader::new(text);
    match T::decode(&mut r).and_then(|v| r.end().map(|()| v)) {
        Ok(v) => Ok(v),
        // Errors made by generic code have no position yet: decoding stops where it failed.
        Err(e) => Err(e.placed(r.input(), r.position())),
    }
}

/// Encodes a value.
pub fn to_vec<T: Json>(value: &T) -> Result<Vec<u8>, Error> {
    let mut w = Writer::with_capacity(128);
    value.encode(&mut w);
    w.finish()
}

/// Encodes a value as a `String`.
pub fn to_string<T: Json>(value: &T) -> Result<String, Error> {
    let bytes = to_vec(value)?;
    // The writer writes UTF-8 only (whole `str`s and ASCII).
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidUtf8))
}
