//! [`Reader`]: a pull parser over a JSON document in memory.
//!
//! The generic decoders (lists, maps, the structs and unions of `__private::wire`) drive it
//! token by token; it never builds a tree. Strings without escapes are handed out as slices
//! of the input, found eight bytes at a time; object keys are first compared with the key the
//! decoder expects next (encoders write fields in order), so a key in place costs one
//! comparison. The grammar is RFC 8259's, as `serde_json` reads it: the same documents are
//! accepted and refused, and objects and lists nest at most [`MAX_DEPTH`] deep.

use std::borrow::Cow;
use std::fmt;

use super::error::{Error, ErrorKind};

/// How deep objects and lists may nest (the same limit as `serde_json`'s).
pub const MAX_DEPTH: u32 = 127;

/// A JSON document being read. Only the generic decoders of this crate drive it.
#[derive(Debug)]
pub struct Reader<'a> {
    src: &'a str,
    pos: usize,
    depth: u32,
}

/// Whitespace in JSON: space, tab, line feed, carriage return.
#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that is zero (exact for the lowest such byte).
#[inline]
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES) & !word & HIGHS
}

/// The high bit of each byte of `word` that ends a run of plain string content: `"`, `\` or
/// a control character (exact for the lowest such byte).
#[inline]
fn special_bytes(word: u64) -> u64 {
    let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
    let backslash = zero_bytes(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    quote | backslash | control
}

/// The position of the first `"`, `\` or control character at or after `from`, or the
/// length of `bytes` when there is none.
#[inline]
fn find_special(bytes: &[u8], from: usize) -> usize {
    let rest = bytes.get(from..).unwrap_or_default();
    let (chunks, tail) = rest.as_chunks::<8>();
    for (i, chunk) in chunks.iter().enumerate() {
        let found = special_bytes(u64::from_le_bytes(*chunk));
        if found != 0 {
            return from + i * 8 + (found.trailing_zeros() / 8) as usize;
        }
    }
    let at = from + chunks.len() * 8;
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map_or(bytes.len(), |i| at + i)
}

impl<'a> Reader<'a> {
    /// A reader at the start of `src`.
    pub(crate) fn new(src: &'a str) -> Self {
        Reader {
            src,
            pos: 0,
            depth: 0,
        }
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// The byte position, for errors.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The document.
    pub(crate) fn input(&self) -> &'a [u8] {
        self.bytes()
    }

    /// An error at the current position.
    #[cold]
    pub(crate) fn error(&self, kind: ErrorKind) -> Error {
        Error::at(self.bytes(), self.pos, kind)
    }

    #[cold]
    fn syntax(&self, expected: &'static str) -> Error {
        if self.pos >= self.bytes().len() {
            self.error(ErrorKind::Eof)
        } else {
            self.error(ErrorKind::Syntax { expected })
        }
    }

    /// An `invalid type` error for the value at the current position.
    #[cold]
    pub(crate) fn invalid_type(&mut self, expected: &dyn fmt::Display) -> Error {
        let found = match self.peek() {
            Some(b'"') => "string",
            Some(b'{') => "map",
            Some(b'[') => "sequence",
            Some(b't' | b'f') => "boolean",
            Some(b'n') => "null",
            Some(b'-' | b'0'..=b'9') => "number",
            None => return self.error(ErrorKind::Eof),
            Some(_) => return self.syntax("value"),
        };
        self.error(ErrorKind::InvalidType {
            found,
            expected: expected.to_string(),
        })
    }

    /// Skips whitespace and returns the next byte, without consuming it.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        match self.bytes().get(self.pos) {
            Some(&b) if b > b' ' => Some(b),
            _ => self.peek_slow(),
        }
    }

    fn peek_slow(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes().get(self.pos) {
            if !is_ws(b) {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `byte` (after whitespace) or fails with `expected`.
    #[inline]
    fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), Error> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(expected))
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::RecursionLimit));
        }
        Ok(())
    }

    /// After the value: only whitespace may follow.
    pub(crate) fn end(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(ErrorKind::TrailingCharacters)),
        }
    }

    // ----- objects and lists ----------------------------------------------------------------

    /// Consumes the `{` of an object, or fails with an `invalid type` naming `expected`.
    #[inline]
    pub(crate) fn begin_object(&mut self, expected: &dyn fmt::Display) -> Result<(), Error> {
        if self.peek() != Some(b'{') {
            return Err(self.invalid_type(expected));
        }
        self.pos += 1;
        self.enter()
    }

    /// Before an object's entry: `false` (with the `}` consumed) when the object ends.
    /// `first` tells whether an entry was read already (then a `,` comes first).
    #[inline]
    pub(crate) fn has_entry(&mut self, first: bool) -> Result<bool, Error> {
        match self.peek() {
            Some(b'}') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            Some(b',') if !first => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if first => Ok(true),
            _ => Err(self.syntax(if first { "`\"` or `}`" } else { "`,` or `}`" })),
        }
    }

    /// The next entry of an object being read into a struct with fields `fields`: the end of
    /// the object (`}` consumed), or the key (and the `:` after it) read and looked up.
    /// `first` tells whether this is the object's first entry; `hint` is the field expected
    /// next (the one after the last key read: encoders write fields in order).
    ///
    /// The fast path is compact JSON with the expected key: `,"key":` compared in place. It
    /// is inlined into every struct's decoder (a call per key cost a sixth of the decode).
    #[inline(always)]
    pub(crate) fn entry(
        &mut self,
        first: bool,
        fields: &[&str],
        hint: usize,
    ) -> Result<Entry, Error> {
        let bytes = self.bytes();
        let at = self.pos;
        let lead = if first { b'"' } else { b',' };
        match bytes.get(at) {
            Some(&b) if b == lead => {
                // The opening quote of the key.
                let open = if first { at } else { at + 1 };
                if let Some(key) = fields.get(hint).map(|k| k.as_bytes())
                    && let Some(written) = bytes.get(open..open + key.len() + 3)
                    && let Some((b'"', rest)) = written.split_first()
                    && let Some((b':', rest)) = rest.split_last()
                    && let Some((b'"', inner)) = rest.split_last()
                    && same(inner, key)
                {
                    self.pos = open + key.len() + 3;
                    return Ok(Entry::Field(hint));
                }
            }
            Some(b'}') => {
                self.pos = at + 1;
                self.depth -= 1;
                return Ok(Entry::End);
            }
            _ => {}
        }
        self.entry_slow(first, fields, hint)
    }

    /// [`entry`](Reader::entry) for anything but the expected key in compact form: a later
    /// field (an absent one was skipped), another key, whitespace around the tokens, or a
    /// syntax error.
    #[inline(never)]
    fn entry_slow(&mut self, first: bool, fields: &[&str], hint: usize) -> Result<Entry, Error> {
        let bytes = self.bytes();
        let at = self.pos;
        let lead = if first { b'"' } else { b',' };
        if bytes.get(at) == Some(&lead) {
            // Compact form: the fields after the expected one, compared in place (first
            // byte, then the rest).
            let open = if first { at } else { at + 1 };
            let initial = bytes.get(open + 1).copied();
            for (i, key) in fields.iter().enumerate().skip(hint + 1) {
                let key = key.as_bytes();
                if key.first().copied() == initial
                    && let Some(written) = bytes.get(open..open + key.len() + 3)
                    && let Some((b'"', rest)) = written.split_first()
                    && let Some((b':', rest)) = rest.split_last()
                    && let Some((b'"', inner)) = rest.split_last()
                    && same(inner, key)
                {
                    self.pos = open + key.len() + 3;
                    return Ok(Entry::Field(i));
                }
            }
        }
        if !self.has_entry(first)? {
            return Ok(Entry::End);
        }
        let key = self.key()?;
        match lookup(fields, key.as_bytes(), hint) {
            Some(i) => Ok(Entry::Field(i)),
            None => Ok(Entry::Unknown),
        }
    }

    /// A union object in compact form, `{".tag":"...`: consumes the opening of the object and
    /// its `.tag` entry and returns the tag; otherwise consumes nothing and returns `None`.
    #[inline]
    pub(crate) fn tag_first(&mut self) -> Result<Option<Cow<'a, str>>, Error> {
        const OPENING: &[u8; 8] = b"{\".tag\":";
        let at = self.pos;
        if self.bytes().get(at..at + 9).and_then(|b| b.split_last())
            != Some((&b'"', OPENING.as_slice()))
        {
            return Ok(None);
        }
        self.pos = at + 8;
        self.enter()?;
        self.string().map(Some)
    }

    /// The next key is `key` as written (no escapes): consumes it and the `:` and returns
    /// `true`; otherwise consumes nothing and returns `false`.
    #[inline]
    pub(crate) fn key_is(&mut self, key: &str) -> bool {
        self.peek();
        match self.key_at(self.pos, key.as_bytes()) {
            Some(end) => self.after_key(end),
            None => false,
        }
    }

    /// Where the key at `at` ends (after its closing quote) when it is `key` as written.
    #[inline]
    fn key_at(&self, at: usize, key: &[u8]) -> Option<usize> {
        let bytes = self.bytes();
        let end = at + 1 + key.len();
        let written = bytes.get(at..=end)?;
        let (&open, rest) = written.split_first()?;
        let (&close, inner) = rest.split_last()?;
        (open == b'"' && close == b'"' && same(inner, key)).then_some(end + 1)
    }

    /// Consumes a key ending at `end` and the `:` after it (`false`, nothing consumed, when
    /// no `:` follows).
    #[inline]
    fn after_key(&mut self, end: usize) -> bool {
        let at = self.pos;
        if self.bytes().get(end) == Some(&b':') {
            self.pos = end + 1;
            return true;
        }
        self.pos = end;
        if self.peek() == Some(b':') {
            self.pos += 1;
            return true;
        }
        self.pos = at;
        false
    }

    /// Reads a key and the `:` after it.
    pub(crate) fn key(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax("`\"`"));
        }
        let key = self.string()?;
        self.expect(b':', "`:`")?;
        Ok(key)
    }

    /// The `N` bytes of a string of exactly that length, consumed with their quotes, when
    /// the next value is one; `None` (nothing consumed) otherwise. The bytes may hold
    /// escapes: the caller checks them.
    #[inline]
    pub(crate) fn quoted<const N: usize>(&mut self) -> Option<&'a [u8; N]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let bytes = self.bytes();
        let at = self.pos + 1;
        let inner = bytes.get(at..)?.first_chunk::<N>()?;
        if bytes.get(at + N) != Some(&b'"') {
            return None;
        }
        self.pos = at + N + 1;
        Some(inner)
    }

    /// Consumes the `[` of a list, or fails with an `invalid type` naming `expected`.
    #[inline]
    pub(crate) fn begin_list(&mut self, expected: &dyn fmt::Display) -> Result<(), Error> {
        if self.peek() != Some(b'[') {
            return Err(self.invalid_type(expected));
        }
        self.pos += 1;
        self.enter()
    }

    /// Before a list's item: `false` (with the `]` consumed) when the list ends.
    #[inline]
    pub(crate) fn has_item(&mut self, first: bool) -> Result<bool, Error> {
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            Some(b',') if !first => {
                self.pos += 1;
                Ok(true)
            }
            Some(_) if first => Ok(true),
            _ => Err(self.syntax(if first { "value or `]`" } else { "`,` or `]`" })),
        }
    }

    // ----- scalars --------------------------------------------------------------------------

    /// `null` (consumed) or not (nothing consumed).
    #[inline]
    pub(crate) fn null(&mut self) -> Result<bool, Error> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &'static [u8]) -> Result<(), Error> {
        let end = self.pos + word.len();
        if self.bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            return Ok(());
        }
        // Point at the first byte that differs.
        while self.bytes().get(self.pos) == word.get(self.pos + word.len() - end) {
            self.pos += 1;
        }
        Err(self.syntax("value"))
    }

    /// A boolean.
    #[inline]
    pub(crate) fn bool(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(self.invalid_type(&"a boolean")),
        }
    }

    /// A string value: borrowed from the input when it has no escape.
    #[inline]
    pub(crate) fn str(&mut self, expected: &dyn fmt::Display) -> Result<Cow<'a, str>, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.invalid_type(expected));
        }
        self.string()
    }

    /// A string, the reader at its opening quote.
    #[inline]
    fn string(&mut self) -> Result<Cow<'a, str>, Error> {
        let start = self.pos + 1;
        let bytes = self.bytes();
        let end = find_special(bytes, start);
        if bytes.get(end) == Some(&b'"') {
            self.pos = end + 1;
            return match self.src.get(start..end) {
                Some(s) => Ok(Cow::Borrowed(s)),
                None => Err(self.error(ErrorKind::InvalidUtf8)),
            };
        }
        self.string_slow(start, end)
    }

    /// The rest of a string with escapes (or an error), from the first special byte `at`.
    #[cold]
    fn string_slow(&mut self, start: usize, mut at: usize) -> Result<Cow<'a, str>, Error> {
        let bytes = self.bytes();
        let mut out = String::new();
        let mut from = start;
        loop {
            out.push_str(self.src.get(from..at).unwrap_or_default());
            self.pos = at;
            match bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos = at + 1;
                    let c = self.escape()?;
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.error(ErrorKind::Syntax {
                        expected: "no control character (U+0000 to U+001F) in a string",
                    }));
                }
                None => return Err(self.error(ErrorKind::Eof)),
            }
            from = self.pos;
            at = find_special(bytes, from);
        }
    }

    /// One escape, the reader after its backslash.
    fn escape(&mut self) -> Result<char, Error> {
        let Some(&b) = self.bytes().get(self.pos) else {
            return Err(self.error(ErrorKind::Eof));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let first = self.hex4()?;
                if !(0xD800..0xE000).contains(&first) {
                    return char::from_u32(u32::from(first))
                        .ok_or_else(|| self.error(ErrorKind::InvalidUtf8));
                }
                // A surrogate pair: a high surrogate then `\u` and a low one.
                if first >= 0xDC00
                    || self.bytes().get(self.pos..self.pos + 2) != Some(b"\\u".as_slice())
                {
                    return Err(self.error(ErrorKind::Syntax {
                        expected: "a low surrogate after a high surrogate",
                    }));
                }
                self.pos += 2;
                let second = self.hex4()?;
                if !(0xDC00..0xE000).contains(&second) {
                    return Err(self.error(ErrorKind::Syntax {
                        expected: "a low surrogate after a high surrogate",
                    }));
                }
                let c =
                    0x10000 + ((u32::from(first) - 0xD800) << 10) + (u32::from(second) - 0xDC00);
                char::from_u32(c).ok_or_else(|| self.error(ErrorKind::InvalidUtf8))?
            }
            _ => {
                self.pos -= 1;
                return Err(self.error(ErrorKind::Syntax {
                    expected: "an escape (`\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` or `\\u`)",
                }));
            }
        })
    }

    /// One escape of a skipped string, the reader after its backslash: any `\u` with four
    /// hex digits, paired or not.
    fn skip_escape(&mut self) -> Result<(), Error> {
        match self.bytes().get(self.pos) {
            Some(b'u') => {
                self.pos += 1;
                self.hex4().map(|_| ())
            }
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => Err(self.error(ErrorKind::Syntax {
                expected: "an escape (`\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` or `\\u`)",
            })),
            None => Err(self.error(ErrorKind::Eof)),
        }
    }

    fn hex4(&mut self) -> Result<u16, Error> {
        let mut v: u16 = 0;
        for _ in 0..4 {
            let digit = self
                .bytes()
                .get(self.pos)
                .and_then(|b| (*b as char).to_digit(16));
            match digit {
                Some(d) => v = (v << 4) | d as u16,
                None if self.pos >= self.bytes().len() => return Err(self.error(ErrorKind::Eof)),
                None => {
                    return Err(self.error(ErrorKind::Syntax {
                        expected: "four hex digits after `\\u`",
                    }));
                }
            }
            self.pos += 1;
        }
        Ok(v)
    }

    /// The span of a number (JSON's grammar checked), and whether it is an integer.
    fn number_span(&mut self) -> Result<(&'a str, bool), Error> {
        let bytes = self.bytes();
        let start = self.pos;
        let mut at = start;
        if bytes.get(at) == Some(&b'-') {
            at += 1;
        }
        match bytes.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => {
                while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                    at += 1;
                }
            }
            _ => {
                self.pos = at;
                return Err(self.syntax("a digit"));
            }
        }
        let mut integer = true;
        if bytes.get(at) == Some(&b'.') {
            integer = false;
            at += 1;
            if !bytes.get(at).is_some_and(u8::is_ascii_digit) {
                self.pos = at;
                return Err(self.syntax("a digit after `.`"));
            }
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            integer = false;
            at += 1;
            if matches!(bytes.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            if !bytes.get(at).is_some_and(u8::is_ascii_digit) {
                self.pos = at;
                return Err(self.syntax("a digit in the exponent"));
            }
            while bytes.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
        }
        self.pos = at;
        Ok((self.src.get(start..at).unwrap_or_default(), integer))
    }

    /// An unsigned integer no larger than `max` (`what` names the type for errors).
    #[inline]
    pub(crate) fn unsigned(&mut self, max: u64, what: &str) -> Result<u64, Error> {
        match self.peek() {
            Some(b'0'..=b'9') => {}
            Some(b'-') => return self.out_of_range(what),
            _ => return Err(self.invalid_type(&what)),
        }
        // Fast path: digits up to a delimiter, no overflow.
        let bytes = self.bytes();
        let start = self.pos;
        let mut at = start;
        let mut v: u64 = 0;
        while let Some(d) = bytes
            .get(at)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d < 10)
        {
            match v.checked_mul(10).and_then(|v| v.checked_add(u64::from(d))) {
                Some(n) => v = n,
                None => return self.out_of_range(what),
            }
            at += 1;
        }
        let leading_zero = bytes.get(start) == Some(&b'0') && at - start > 1;
        if leading_zero || matches!(bytes.get(at), Some(b'.' | b'e' | b'E')) {
            return self.out_of_range(what);
        }
        self.pos = at;
        if v > max {
            self.pos = start;
            return self.out_of_range(what);
        }
        Ok(v)
    }

    /// A signed integer within `min..=max`.
    #[inline]
    pub(crate) fn signed(&mut self, min: i64, max: i64, what: &str) -> Result<i64, Error> {
        if self.peek() != Some(b'-') {
            let v = self.unsigned(max as u64, what)?;
            return Ok(v as i64);
        }
        let start = self.pos;
        let (span, integer) = self.number_span()?;
        match span.parse::<i64>() {
            // `-0` is a floating-point number to `serde_json` (an integer has no negative
            // zero): refused as an integer by both codecs.
            Ok(v) if integer && v >= min && span != "-0" => Ok(v),
            _ => {
                self.pos = start;
                self.out_of_range(what)
            }
        }
    }

    /// The error for a number that `what` cannot hold: the number is checked against the
    /// grammar first, so malformed numbers are syntax errors.
    #[cold]
    fn out_of_range<T>(&mut self, what: &str) -> Result<T, Error> {
        let start = self.pos;
        let (span, _) = self.number_span()?;
        let span = span.to_owned();
        self.pos = start;
        Err(self.error(ErrorKind::InvalidValue(format!(
            "number `{span}`, expected {what}"
        ))))
    }

    /// A floating-point number (any JSON number).
    pub(crate) fn float(&mut self) -> Result<f64, Error> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {}
            _ => return Err(self.invalid_type(&"a number")),
        }
        let start = self.pos;
        let (span, _) = self.number_span()?;
        match span.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => {
                self.pos = start;
                Err(self.error(ErrorKind::InvalidValue(format!(
                    "number `{span}` out of range"
                ))))
            }
        }
    }

    // ----- skipping -------------------------------------------------------------------------

    /// Skips one value of any type, checking its syntax. Like `serde_json` skipping a value
    /// it ignores, this does not recurse and sets no depth limit, and it accepts any `\u`
    /// escape with four hex digits (a lone surrogate in a skipped string is no error).
    pub(crate) fn skip(&mut self) -> Result<(), Error> {
        let mut open = Nesting::default();
        loop {
            // A value.
            match self.peek() {
                Some(b'"') => self.skip_string()?,
                Some(b'{') => {
                    self.pos += 1;
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                    } else {
                        open.push(true);
                        self.skip_key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                    } else {
                        open.push(false);
                        continue;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number_span()?;
                }
                _ => return Err(self.syntax("value")),
            }
            // After a value: close what ends here, then go on with the next item or entry.
            loop {
                let Some(object) = open.top() else {
                    return Ok(());
                };
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    Some(b'}') if object => {
                        self.pos += 1;
                        open.pop();
                    }
                    Some(b']') if !object => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return Err(self.syntax(if object { "`,` or `}`" } else { "`,` or `]`" })),
                }
            }
        }
    }

    /// Skips a key and the `:` after it.
    fn skip_key(&mut self) -> Result<(), Error> {
        if self.peek() != Some(b'"') {
            return Err(self.syntax("`\"`"));
        }
        self.skip_string()?;
        self.expect(b':', "`:`")
    }

    /// The text of the next value, its syntax checked.
    pub(crate) fn raw(&mut self) -> Result<&'a str, Error> {
        self.peek();
        let start = self.pos;
        self.skip()?;
        Ok(self.src.get(start..self.pos).unwrap_or_default())
    }

    /// Skips a string, the reader at its opening quote.
    fn skip_string(&mut self) -> Result<(), Error> {
        let bytes = self.bytes();
        let mut at = find_special(bytes, self.pos + 1);
        loop {
            match bytes.get(at) {
                Some(b'"') => {
                    self.pos = at + 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos = at + 1;
                    self.skip_escape()?;
                    at = find_special(bytes, self.pos);
                }
                Some(_) => {
                    self.pos = at;
                    return Err(self.error(ErrorKind::Syntax {
                        expected: "no control character (U+0000 to U+001F) in a string",
                    }));
                }
                None => {
                    self.pos = at;
                    return Err(self.error(ErrorKind::Eof));
                }
            }
        }
    }

    // ----- positions ------------------------------------------------------------------------

    /// Where the reader is (to come back to it).
    pub(crate) fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            depth: self.depth,
        }
    }

    /// Goes back to a mark.
    pub(crate) fn rewind(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.depth = mark.depth;
    }
}

/// The kinds of the containers [`Reader::skip`] is inside (`true` for an object), one bit
/// each: a machine word, then more words only for values nested more than 64 deep.
#[derive(Debug, Default)]
struct Nesting {
    depth: usize,
    word: u64,
    spilled: Vec<u64>,
}

impl Nesting {
    fn push(&mut self, object: bool) {
        if self.depth > 0 && self.depth.is_multiple_of(64) {
            self.spilled.push(self.word);
            self.word = 0;
        }
        self.word = (self.word << 1) | u64::from(object);
        self.depth += 1;
    }

    fn top(&self) -> Option<bool> {
        (self.depth > 0).then_some(self.word & 1 == 1)
    }

    fn pop(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.word >>= 1;
        if self.depth > 0 && self.depth.is_multiple_of(64) {
            self.word = self.spilled.pop().unwrap_or(0);
        }
    }
}

/// What comes next in an object read into a struct (see [`Reader::entry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// The object ended.
    End,
    /// A key of the struct's field with this index.
    Field(usize),
    /// A key the struct does not have (its value is still to be skipped).
    Unknown,
}

/// A position of a [`Reader`], to read a stretch again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mark {
    pos: usize,
    depth: u32,
}

/// The index of `key` in `fields`, scanning from `hint` and wrapping around; lengths are
/// compared before bytes.
#[inline]
fn lookup(fields: &[&str], key: &[u8], hint: usize) -> Option<usize> {
    let start = hint.min(fields.len());
    let (before, after) = fields.split_at(start);
    if let Some(i) = after.iter().position(|f| same(f.as_bytes(), key)) {
        return Some(start + i);
    }
    before.iter().position(|f| same(f.as_bytes(), key))
}

/// Byte equality for short keys, in machine words (no call to `memcmp`).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |s: &[u8], at: usize| {
        s.get(at..)
            .and_then(|t| t.first_chunk::<8>())
            .map(|c| u64::from_le_bytes(*c))
    };
    let half = |s: &[u8], at: usize| {
        s.get(at..)
            .and_then(|t| t.first_chunk::<4>())
            .map(|c| u32::from_le_bytes(*c))
    };
    let n = a.len();
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word(a, at) != word(b, at) {
                return false;
            }
            at += 8;
        }
        // The last word, overlapping the one before.
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn special_positions(s: &str) -> usize {
        find_special(s.as_bytes(), 0)
    }

    #[test]
    fn the_scan_finds_the_first_special_byte_at_every_offset() {
        for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
            for at in 0..20 {
                let mut s: String = "abcdefghijklmnopqrstuvwxyz".chars().take(at).collect();
                s.push(special);
                s.push_str("\"xyz");
                assert_eq!(special_positions(&s), at, "{special:?} at {at}");
            }
        }
        // Non-ASCII bytes, DEL and spaces are plain content.
        assert_eq!(
            special_positions("é日本\u{7f} ok\""),
            "é日本\u{7f} ok".len()
        );
        assert_eq!(special_positions("no end"), 6);
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut r = Reader::new(r#""plain" "a\"b\\c\/d\u00e9\ud83d\ude00\n""#);
        assert!(matches!(r.str(&"s").unwrap(), Cow::Borrowed("plain")));
        let s = r.str(&"s").unwrap();
        assert!(matches!(s, Cow::Owned(_)));
        assert_eq!(s, "a\"b\\c/dé😀\n");
        r.end().unwrap();
        for bad in [
            "\"a\\x\"",
            "\"\\ud800\"",
            "\"\\udc00x\"",
            "\"a\u{1}\"",
            "\"open",
            "\"\\u12",
        ] {
            assert!(Reader::new(bad).str(&"s").is_err(), "{bad}");
        }
    }

    #[test]
    fn numbers_follow_the_grammar_and_the_type() {
        let read = |s: &str| Reader::new(s).unsigned(u64::MAX, "u64");
        assert_eq!(read("0"), Ok(0));
        assert_eq!(read("18446744073709551615"), Ok(u64::MAX));
        assert!(read("18446744073709551616").is_err());
        assert!(read("01").is_err());
        assert!(read("1.0").is_err());
        assert!(read("1e3").is_err());
        assert!(read("-1").is_err());
        assert!(read("\"1\"").is_err());
        assert!(Reader::new("300").unsigned(255, "u8").is_err());
        let signed = |s: &str| Reader::new(s).signed(i32::MIN.into(), i32::MAX.into(), "i32");
        assert_eq!(signed("-2147483648"), Ok(-2147483648));
        assert!(signed("-2147483649").is_err());
        assert!(signed("2147483648").is_err());
        assert!(signed("-").is_err());
        assert!(signed("-0.5").is_err());
        assert_eq!(Reader::new("-1.5e2").float(), Ok(-150.0));
        assert_eq!(Reader::new("7").float(), Ok(7.0));
        assert!(Reader::new("1e999").float().is_err());
        assert!(Reader::new("1.").float().is_err());
        assert!(Reader::new(".5").float().is_err());
    }

    #[test]
    fn words_compare_like_slices() {
        let samples = [
            "",
            "a",
            "ab",
            "abc",
            "abcd",
            "abcde",
            "abcdefg",
            "abcdefgh",
            "abcdefghi",
            "abcdefghijklmnop",
            "abcdefghijklmnopq",
            "has_explicit_shared_members",
        ];
        for x in samples {
            for y in samples {
                assert_eq!(same(x.as_bytes(), y.as_bytes()), x == y, "{x} {y}");
            }
            // One byte changed anywhere.
            for i in 0..x.len() {
                let mut z = x.as_bytes().to_vec();
                z[i] ^= 1;
                assert!(!same(x.as_bytes(), &z), "{x} at {i}");
            }
        }
    }

    #[test]
    fn keys_in_place_cost_one_comparison_and_others_are_looked_up() {
        let fields = ["name", "size", "rev"];
        let read = |text: &str| {
            let mut r = Reader::new(text);
            r.begin_object(&"o").unwrap();
            let mut first = true;
            let mut seen = Vec::new();
            let mut hint = 0;
            loop {
                match r.entry(first, &fields, hint).unwrap() {
                    Entry::End => break,
                    Entry::Field(i) => {
                        seen.push(Some(i));
                        hint = i + 1;
                    }
                    Entry::Unknown => seen.push(None),
                }
                r.skip().unwrap();
                first = false;
            }
            r.end().unwrap();
            seen
        };
        // In order, with a field left out; out of order; unknown; escaped; whitespace.
        assert_eq!(read(r#"{"name":1,"rev":2}"#), [Some(0), Some(2)]);
        assert_eq!(
            read(r#"{"name":1, "rev" : 2,"x":3,"na\u006de":4}"#),
            [Some(0), Some(2), None, Some(0)]
        );
        assert_eq!(
            read(r#"{"rev":1,"size":2,"name":3}"#),
            [Some(2), Some(1), Some(0)]
        );
        assert_eq!(read("{ }"), []);
        assert_eq!(read(" {\n\"size\"\t:\r1 } "), [Some(1)]);
        for bad in [
            r#"{"name" 1}"#,
            r#"{"name":1 "rev":2}"#,
            r#"{,"name":1}"#,
            r#"{"name":1,}"#,
        ] {
            let mut r = Reader::new(bad);
            r.begin_object(&"o").unwrap();
            let mut first = true;
            let failed = loop {
                match r.entry(first, &fields, 0) {
                    Err(_) => break true,
                    Ok(Entry::End) => break false,
                    Ok(_) => {
                        if r.skip().is_err() {
                            break true;
                        }
                    }
                }
                first = false;
            };
            assert!(failed, "{bad}");
        }
    }

    #[test]
    fn skipping_checks_syntax_and_depth() {
        let mut r = Reader::new(r#" {"a":[1,-2.5e3,true,false,null,"s\"",{}],"b":{}} "#);
        r.skip().unwrap();
        r.end().unwrap();
        for bad in [
            "{\"a\" 1}",
            "[1,]",
            "{,}",
            "[1 2]",
            "tru",
            "nul",
            "-",
            "{\"a\":1,}",
        ] {
            assert!(Reader::new(bad).skip().is_err(), "{bad}");
        }
        // Skipping has no depth limit (as in serde_json), across the 64-level words.
        for depth in [1, 63, 64, 65, 128, 129, 1000] {
            let deep = "[{\"a\":".repeat(depth) + "1" + &"}]".repeat(depth);
            let mut r = Reader::new(&deep);
            r.skip().unwrap();
            r.end().unwrap();
            let unbalanced = "[{\"a\":".repeat(depth) + "1" + &"]}".repeat(depth);
            assert!(Reader::new(&unbalanced).skip().is_err(), "{depth}");
        }
        // A lone surrogate is fine in a skipped string, not in a decoded one.
        let mut r = Reader::new(r#"["\ud800", {"\udc00": 1}]"#);
        r.skip().unwrap();
        assert!(Reader::new(r#""\ud800""#).str(&"s").is_err());
        assert!(Reader::new(r#""\uZZZZ""#).skip().is_err());
        let mut r = Reader::new("1 2");
        r.skip().unwrap();
        assert!(r.end().is_err());
    }

    #[test]
    fn errors_carry_line_and_column() {
        let mut r = Reader::new("{\n  \"a\": tru\n}");
        r.begin_object(&"o").unwrap();
        assert!(r.has_entry(true).unwrap());
        r.key().unwrap();
        let err = r.skip().unwrap_err();
        assert_eq!((err.line(), err.column()), (2, 11));
        assert_eq!(err.to_string(), "expected value at line 2 column 11");
    }
}
