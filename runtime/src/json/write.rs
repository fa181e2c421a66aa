//! [`Writer`]: compact JSON into a buffer, byte for byte what `serde_json` writes.
//!
//! Keys are the spec's field names, which never need escaping, so a key is copied between
//! quotes as it is; string values are scanned eight bytes at a time for the bytes that need an
//! escape and copied in runs.

use super::error::{Error, ErrorKind};

/// A JSON document being written. Only the generic encoders of this crate drive it.
#[derive(Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
    error: Option<Error>,
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that needs an escape: `"`, `\` or a control
/// character (exact for the lowest such byte).
#[inline]
fn escaped_bytes(word: u64) -> u64 {
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// The position of the first byte at or after `from` that needs an escape, or the length.
#[inline]
fn find_escape(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    let (chunks, tail) = rest.as_chunks::<8>();
    for (i, chunk) in chunks.iter().enumerate() {
        let found = escaped_bytes(u64::from_le_bytes(*chunk));
        if found != 0 {
            return from + i * 8 + (found.trailing_zeros() / 8) as usize;
        }
    }
    if tail.is_empty() {
        return bytes.len();
    }
    // The tail: the last word of the whole slice when there is one (the bytes it shares
    // with the word before are known clean), else byte by byte.
    if let Some(last) = rest.last_chunk::<8>() {
        let found = escaped_bytes(u64::from_le_bytes(*last));
        return if found == 0 {
            bytes.len()
        } else {
            bytes.len() - 8 + (found.trailing_zeros() / 8) as usize
        };
    }
    let at = from + chunks.len() * 8;
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map_or(bytes.len(), |i| at + i)
}

impl Writer {
    /// An empty writer.
    #[cfg(test)]
    pub(crate) fn new() -> Self {
        Writer::default()
    }

    /// An empty writer with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Writer {
            out: Vec::with_capacity(capacity),
            error: None,
        }
    }

    /// The document, or the first error met while writing it.
    pub(crate) fn finish(self) -> Result<Vec<u8>, Error> {
        match self.error {
            Some(e) => Err(e),
            None => Ok(self.out),
        }
    }

    /// Records that a value could not be written; the document will be refused.
    #[cold]
    pub(crate) fn fail(&mut self, what: &'static str) {
        if self.error.is_none() {
            self.error = Some(Error::new(ErrorKind::Unencodable(what)));
        }
    }

    /// Records an error from elsewhere (a serde implementation).
    #[cold]
    pub(crate) fn fail_with(&mut self, error: Error) {
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    /// Bytes as they are.
    #[inline]
    pub(crate) fn raw(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// One byte.
    #[inline]
    pub(crate) fn byte(&mut self, b: u8) {
        self.out.push(b);
    }

    /// `"key":`, with a `,` first unless `first`. The key is written without escaping.
    #[inline]
    pub(crate) fn key(&mut self, key: &str, first: bool) {
        let out = &mut self.out;
        out.reserve(key.len() + 4);
        if first {
            out.push(b'"');
        } else {
            out.extend_from_slice(b",\"");
        }
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }

    /// A string value, escaped: checked a word at a time, then copied in one piece.
    #[inline]
    pub(crate) fn str(&mut self, s: &str) {
        let bytes = s.as_bytes();
        let out = &mut self.out;
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        let at = find_escape(bytes, 0);
        if at == bytes.len() {
            out.extend_from_slice(bytes);
        } else {
            self.escaped(bytes, 0, at);
        }
        self.out.push(b'"');
    }

    #[cold]
    fn escaped(&mut self, bytes: &[u8], mut from: usize, mut at: usize) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        while let Some(&b) = bytes.get(at) {
            self.out.extend_from_slice(&bytes[from..at]);
            match b {
                b'"' => self.out.extend_from_slice(b"\\\""),
                b'\\' => self.out.extend_from_slice(b"\\\\"),
                b'\n' => self.out.extend_from_slice(b"\\n"),
                b'\r' => self.out.extend_from_slice(b"\\r"),
                b'\t' => self.out.extend_from_slice(b"\\t"),
                0x08 => self.out.extend_from_slice(b"\\b"),
                0x0c => self.out.extend_from_slice(b"\\f"),
                _ => self.out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ]),
            }
            from = at + 1;
            at = find_escape(bytes, from);
        }
        self.out.extend_from_slice(&bytes[from..]);
    }

    /// An unsigned integer.
    #[inline]
    pub(crate) fn unsigned(&mut self, v: u64) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// A signed integer.
    #[inline]
    pub(crate) fn signed(&mut self, v: i64) {
        self.out
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    }

    /// A floating-point number as `serde_json` writes it (`null` when not finite).
    pub(crate) fn float(&mut self, v: f64) {
        if let Err(e) = serde_json::to_writer(&mut self.out, &v) {
            self.fail_with(<Error as serde::ser::Error>::custom(e));
        }
    }

    /// A single-precision number as `serde_json` writes it.
    pub(crate) fn float32(&mut self, v: f32) {
        if let Err(e) = serde_json::to_writer(&mut self.out, &v) {
            self.fail_with(<Error as serde::ser::Error>::custom(e));
        }
    }

    /// `true` or `false`.
    #[inline]
    pub(crate) fn bool(&mut self, v: bool) {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// `null`.
    #[inline]
    pub(crate) fn null(&mut self) {
        self.out.extend_from_slice(b"null");
    }

    /// The buffer, for values written by `serde_json`.
    pub(crate) fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut samples: Vec<String> = (0u8..0x80).map(|b| format!("a{}b", b as char)).collect();
        samples.extend(
            [
                "",
                "plain ascii text that is longer than eight bytes",
                "café 日本 😀",
                "quote\" at 6",
                "\\\\\\",
                "\u{7f}\u{1f}\u{0}",
                "12345678\"12345678\n",
            ]
            .map(String::from),
        );
        for s in samples {
            let mut w = Writer::new();
            w.str(&s);
            let ours = w.finish().unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn numbers_and_keys() {
        let mut w = Writer::new();
        w.byte(b'{');
        w.key("a", true);
        w.unsigned(u64::MAX);
        w.key("b", false);
        w.signed(i64::MIN);
        w.key("c", false);
        w.float(0.1);
        w.key("d", false);
        w.float(f64::NAN);
        w.key("e", false);
        w.float32(1.5);
        w.key("f", false);
        w.bool(false);
        w.key("g", false);
        w.null();
        w.byte(b'}');
        assert_eq!(
            String::from_utf8(w.finish().unwrap()).unwrap(),
            r#"{"a":18446744073709551615,"b":-9223372036854775808,"c":0.1,"d":null,"e":1.5,"f":false,"g":null}"#
        );
    }

    #[test]
    fn the_first_failure_is_kept() {
        let mut w = Writer::new();
        w.fail("an unknown member");
        w.fail("another");
        let err = w.finish().unwrap_err();
        assert_eq!(err.to_string(), "cannot encode an unknown member");
    }
}
