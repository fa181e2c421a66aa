//! The JSON writer: how route arguments (request bodies and `Dropbox-API-Arg` headers) become
//! bytes.
//!
//! [`to_vec`] and [`to_string`] write any `Serialize` value exactly as `serde_json`'s compact
//! writer does, byte for byte (the same integer and float formatting, through `itoa` and
//! `zmij`, the same escapes, the same `null` for a non-finite float, the same map keys), so
//! the choice of writer is invisible on the wire; the tests below compare the two on every
//! kind of value and property tests on arbitrary strings.
//!
//! It exists for speed (issue 16, BENCHMARKS.md "Wire speed"): a JSON writer spends most of
//! its time deciding which bytes of a string need an escape, and `serde_json` looks up every
//! byte in a table, then copies. This writer first checks the whole string eight bytes at a
//! time (a word-wide test for `"`, `\` and the control characters) and copies a clean string,
//! nearly every string of a route argument, in one piece; it writes into a `Vec<u8>` with no `io::Write` layer in
//! between. Decoding stays with `serde_json`.
//!
//! ```
//! use dropbox_api_runtime::json;
//!
//! let arg = serde_json::json!({"path": "/Photos/\"2026\"", "limit": 100});
//! assert_eq!(json::to_string(&arg).unwrap(), serde_json::to_string(&arg).unwrap());
//! assert_eq!(json::to_string(&arg).unwrap(), r#"{"limit":100,"path":"/Photos/\"2026\""}"#);
//! ```

use std::fmt::Display;

use serde::Serialize;
use serde::ser::{self, Impossible};

/// A value that could not be encoded: a `Serialize` impl reported an error, or a map key was
/// not a string, a number, a bool or a char (JSON object keys are strings).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EncodeError(String);

impl ser::Error for EncodeError {
    fn custom<T: Display>(msg: T) -> Self {
        EncodeError(msg.to_string())
    }
}

fn key_must_be_a_string() -> EncodeError {
    EncodeError("key must be a string".into())
}

/// Encodes a value as a compact JSON document.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(128);
    value.serialize(Writer { out: &mut out })?;
    Ok(out)
}

/// Encodes a value as a compact JSON document in a `String`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, EncodeError> {
    let bytes = to_vec(value)?;
    // The writer copies only whole `&str`s and ASCII, so this never fails; checking costs a
    // pass over the bytes and keeps the crate free of `unsafe`.
    String::from_utf8(bytes).map_err(|_| EncodeError("the writer produced invalid UTF-8".into()))
}

// ----- strings ------------------------------------------------------------------------------

/// Bytes that JSON strings must escape: `"`, `\` and the control characters below 0x20.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of a byte of `w` is set where that byte is below 0x20, `"` or `\\`; the
/// result is zero exactly when no byte of `w` needs an escape. (A borrow can set a flag above
/// a byte that needs an escape, never without one.)
#[inline]
fn escape_flags(w: u64) -> u64 {
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let quote = w ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGHS
}

/// Whether any byte of `bytes` needs an escape: eight bytes at a time, the last few padded
/// with a byte that needs none, and no branch per word.
#[inline]
fn needs_escape(bytes: &[u8]) -> bool {
    let mut flags = 0;
    let mut words = bytes.chunks_exact(8);
    for c in &mut words {
        flags |= escape_flags(u64::from_le_bytes([
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
        ]));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut w = ONES * u64::from(b'a');
        for (i, &b) in rest.iter().enumerate() {
            let shift = 8 * i;
            w = (w & !(0xff << shift)) | (u64::from(b) << shift);
        }
        flags |= escape_flags(w);
    }
    flags != 0
}

/// Writes `s` as a JSON string, quotes included.
#[inline]
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    if needs_escape(bytes) {
        write_escaped(out, bytes);
    } else {
        out.reserve(bytes.len() + 2);
        out.push(b'"');
        out.extend_from_slice(bytes);
        out.push(b'"');
    }
}

/// Writes a string that needs at least one escape: clean runs are copied whole.
#[cold]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() + 8);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if NEEDS_ESCAPE[usize::from(b)] {
            out.extend_from_slice(&bytes[start..i]);
            write_escape(out, b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The escape of one byte that needs one (the short forms where JSON has them).
#[cold]
fn write_escape(out: &mut Vec<u8>, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(b >> 4)],
            HEX[usize::from(b & 0xf)],
        ]),
    }
}

// ----- numbers ------------------------------------------------------------------------------

#[inline]
fn write_int<I: itoa::Integer>(out: &mut Vec<u8>, v: I) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// A finite float the way serde_json writes it; `null` otherwise, as serde_json does.
#[inline]
fn write_float<F: zmij::Float>(out: &mut Vec<u8>, v: F, finite: bool) {
    if finite {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

// ----- values -------------------------------------------------------------------------------

/// Writes one value into `out`.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

/// An array or object being written: a comma goes before every element but the first, and
/// `close` after the last (`]`, `}`, or `]}` / `}}` for an enum variant's content).
struct Compound<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
    close: &'static [u8],
}

impl<'a> Compound<'a> {
    fn open(out: &'a mut Vec<u8>, open: &[u8], close: &'static [u8]) -> Self {
        out.extend_from_slice(open);
        Compound {
            out,
            first: true,
            close,
        }
    }

    /// Opens `{"variant":` followed by `open`.
    fn variant(out: &'a mut Vec<u8>, variant: &str, open: &[u8], close: &'static [u8]) -> Self {
        out.push(b'{');
        write_str(out, variant);
        out.push(b':');
        Compound::open(out, open, close)
    }

    #[inline]
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.out.push(b',');
        }
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.comma();
        value.serialize(Writer { out: self.out })
    }

    #[inline]
    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), EncodeError> {
        self.comma();
        write_str(self.out, key);
        self.out.push(b':');
        value.serialize(Writer { out: self.out })
    }

    #[inline]
    fn close(self) -> Result<(), EncodeError> {
        self.out.extend_from_slice(self.close);
        Ok(())
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    #[inline]
    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    #[inline]
    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        write_int(self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        write_float(self.out, v, v.is_finite());
        Ok(())
    }

    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        write_float(self.out, v, v.is_finite());
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        write_str(self.out, v);
        Ok(())
    }

    /// An array of numbers, as serde_json writes bytes.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), EncodeError> {
        let mut seq = Compound::open(self.out, b"[", b"]");
        for b in v {
            seq.comma();
            write_int(seq.out, *b);
        }
        seq.close()
    }

    #[inline]
    fn serialize_none(self) -> Result<(), EncodeError> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), EncodeError> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        write_str(self.out, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        let mut object = Compound::open(self.out, b"{", b"}");
        object.field(variant, value)?;
        object.close()
    }

    #[inline]
    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::open(self.out, b"[", b"]"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::variant(self.out, variant, b"[", b"]}"))
    }

    #[inline]
    fn serialize_map(self, _len: Option<usize>) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::open(self.out, b"{", b"}"))
    }

    #[inline]
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::open(self.out, b"{", b"}"))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Compound<'a>, EncodeError> {
        Ok(Compound::variant(self.out, variant, b"{", b"}}"))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }

    #[inline]
    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

impl ser::SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.element(value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    #[inline]
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), EncodeError> {
        self.comma();
        key.serialize(KeyWriter { out: self.out })
    }

    #[inline]
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), EncodeError> {
        self.out.push(b':');
        value.serialize(Writer { out: self.out })
    }

    #[inline]
    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    #[inline]
    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = EncodeError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), EncodeError> {
        self.close()
    }
}

// ----- map keys -----------------------------------------------------------------------------

/// Writes a map key: strings as they are; numbers, bools and chars quoted (as serde_json
/// does); anything else is an error.
struct KeyWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl KeyWriter<'_> {
    fn quoted(self, text: &[u8]) -> Result<(), EncodeError> {
        self.out.push(b'"');
        self.out.extend_from_slice(text);
        self.out.push(b'"');
        Ok(())
    }

    fn int<I: itoa::Integer>(self, v: I) -> Result<(), EncodeError> {
        self.quoted(itoa::Buffer::new().format(v).as_bytes())
    }

    fn float<F: zmij::Float>(self, v: F, finite: bool) -> Result<(), EncodeError> {
        if !finite {
            return Err(EncodeError(
                "float key must be finite (got NaN or +/-inf)".into(),
            ));
        }
        self.quoted(zmij::Buffer::new().format_finite(v).as_bytes())
    }
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = EncodeError;
    type SerializeSeq = Impossible<(), EncodeError>;
    type SerializeTuple = Impossible<(), EncodeError>;
    type SerializeTupleStruct = Impossible<(), EncodeError>;
    type SerializeTupleVariant = Impossible<(), EncodeError>;
    type SerializeMap = Impossible<(), EncodeError>;
    type SerializeStruct = Impossible<(), EncodeError>;
    type SerializeStructVariant = Impossible<(), EncodeError>;

    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), EncodeError> {
        write_str(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), EncodeError> {
        write_str(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_bool(self, v: bool) -> Result<(), EncodeError> {
        self.quoted(if v { b"true" } else { b"false" })
    }

    fn serialize_i8(self, v: i8) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), EncodeError> {
        self.int(v)
    }

    fn serialize_f32(self, v: f32) -> Result<(), EncodeError> {
        self.float(v, v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result<(), EncodeError> {
        self.float(v, v.is_finite())
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<(), EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_none(self) -> Result<(), EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EncodeError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), EncodeError> {
        write_str(self.out, variant);
        Ok(())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), EncodeError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, EncodeError> {
        Err(key_must_be_a_string())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, EncodeError> {
        Err(key_must_be_a_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// Our bytes and serde_json's for the same value.
    #[track_caller]
    fn same<T: Serialize + ?Sized>(value: &T) {
        let ours = to_vec(value).expect("ours encodes");
        let theirs = serde_json::to_vec(value).expect("serde_json encodes");
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs)
        );
    }

    #[test]
    fn escapes_match_serde_json_at_every_position() {
        // Every byte that needs an escape, at every offset within and across 8-byte words.
        let specials: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain(['"', '\\', '\u{7f}', 'é', '€', '😀'])
            .collect();
        for c in specials {
            for before in 0..17 {
                for after in [0, 1, 7, 8, 9] {
                    let s = format!("{}{c}{}", "a".repeat(before), "b".repeat(after));
                    same(&s);
                }
            }
        }
        same("");
        same("\"\"\"\"\"\"\"\"\"\\\\\\\\\\\\\\\\");
        same("\u{0}\u{1f}\u{20}\u{21}\u{5b}\u{5d}\u{60}\u{7e}");
    }

    #[test]
    fn numbers_match_serde_json() {
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, 1_000_000_007] {
            same(&v);
        }
        for v in [0u64, u64::MAX, 9_007_199_254_740_993] {
            same(&v);
        }
        same(&i128::MIN);
        same(&u128::MAX);
        same(&(
            -7i8,
            200u8,
            -30_000i16,
            60_000u16,
            -2_000_000_000i32,
            4_000_000_000u32,
        ));
        for v in [
            0.0f64,
            -0.0,
            1.5,
            0.1,
            1e21,
            1e-7,
            13590.871818230633,
            -2.562783450982836e299,
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            same(&v);
        }
        for v in [0.0f32, 1.1, f32::MAX, f32::NAN, f32::INFINITY] {
            same(&v);
        }
    }

    #[test]
    fn values_of_every_shape_match_serde_json() {
        same(&json!({
            "a": [1, 2.5, "x", null, true, false, {"b": []}, {}],
            "c\"d": {"e": [[], [[]]]},
            "": "",
        }));
        same(&Some(3));
        same(&None::<u8>);
        same(&());
        same(&'x');
        same(&'"');
        same(&vec![(1, "a"), (2, "b")]);
        same(&Bytes(&[0u8, 1, 255]));
        let mut map = BTreeMap::new();
        map.insert(3u32, "three");
        map.insert(10u32, "ten");
        same(&map);
        let mut keys = BTreeMap::new();
        keys.insert('k', 1);
        same(&keys);
        let mut bools = BTreeMap::new();
        bools.insert(true, 1);
        same(&bools);

        #[derive(Serialize)]
        enum E {
            Unit,
            New(u8),
            Tuple(u8, &'static str),
            Struct { a: u8, b: Option<u8> },
        }
        #[derive(Serialize)]
        struct Unit;
        #[derive(Serialize)]
        struct New(&'static str);
        #[derive(Serialize)]
        struct Tuple(u8, u8);
        same(&[
            E::Unit,
            E::New(1),
            E::Tuple(2, "t"),
            E::Struct { a: 3, b: None },
        ]);
        same(&(Unit, New("n"), Tuple(4, 5)));
        let mut variant_keys = BTreeMap::new();
        #[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
        enum K {
            Left,
        }
        variant_keys.insert(K::Left, 0);
        same(&variant_keys);
    }

    /// `&[u8]` through `serialize_bytes`.
    struct Bytes<'a>(&'a [u8]);

    impl Serialize for Bytes<'_> {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }

    #[test]
    fn keys_that_are_not_strings_fail_as_serde_json_does() {
        let mut map = BTreeMap::new();
        map.insert(vec![1], 1);
        assert_eq!(
            to_vec(&map).unwrap_err().to_string(),
            "key must be a string"
        );
        assert!(serde_json::to_vec(&map).is_err());
        let mut floats = std::collections::HashMap::new();
        floats.insert(ordered(1.5), 1);
        same(&floats);
    }

    /// A float map key (serde_json quotes finite ones).
    fn ordered(f: f64) -> FloatKey {
        FloatKey(f)
    }

    #[derive(PartialEq)]
    struct FloatKey(f64);

    impl Eq for FloatKey {}

    impl std::hash::Hash for FloatKey {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            self.0.to_bits().hash(h);
        }
    }

    impl Serialize for FloatKey {
        fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_f64(self.0)
        }
    }

    #[test]
    fn a_serialize_error_comes_back_typed() {
        struct Fails;
        impl Serialize for Fails {
            fn serialize<S: ser::Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
                Err(ser::Error::custom("no, thanks"))
            }
        }
        let err = to_string(&vec![Fails]).unwrap_err();
        assert_eq!(err, EncodeError("no, thanks".into()));
    }

    #[test]
    fn the_check_flags_exactly_the_bytes_that_need_an_escape() {
        for b in 0u8..=255 {
            for len in [1, 15, 16, 17, 40] {
                for pos in [0, len / 2, len - 1] {
                    let mut bytes = vec![b'a'; len];
                    bytes[pos] = b;
                    assert_eq!(
                        needs_escape(&bytes),
                        NEEDS_ESCAPE[usize::from(b)],
                        "byte {b:#04x} at {pos} of {len}"
                    );
                }
            }
        }
        assert!(!needs_escape(b""));
        // Beside bytes of the high half, whose borrows could interfere.
        for b in 0u8..=255 {
            for pos in 0..8 {
                let mut word = [0xffu8; 8];
                word[pos] = b;
                assert_eq!(
                    escape_flags(u64::from_le_bytes(word)) != 0,
                    NEEDS_ESCAPE[usize::from(b)],
                    "byte {b:#04x} at {pos} among 0xff"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn any_string_is_written_as_serde_json_writes_it(s in any::<String>()) {
            prop_assert_eq!(to_vec(&s).unwrap(), serde_json::to_vec(&s).unwrap());
        }

        #[test]
        fn any_map_of_strings_is_written_as_serde_json_writes_it(
            m in proptest::collection::btree_map(any::<String>(), any::<String>(), 0..8),
        ) {
            prop_assert_eq!(to_vec(&m).unwrap(), serde_json::to_vec(&m).unwrap());
        }

        #[test]
        fn any_float_is_written_as_serde_json_writes_it(f in any::<f64>()) {
            prop_assert_eq!(to_vec(&f).unwrap(), serde_json::to_vec(&f).unwrap());
        }
    }
}
