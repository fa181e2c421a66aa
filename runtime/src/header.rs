//! `Dropbox-API-Arg` (and `Dropbox-API-Path-Root`) header values: JSON made header-safe.
//!
//! HTTP header values are bytes, and Dropbox requires the JSON in them to be ASCII: every
//! code point from U+007F upwards becomes a `\uXXXX` escape, with a UTF-16 surrogate pair
//! above U+FFFF. `serde_json` already escapes `"`, `\` and the control characters below
//! U+0020, so the result is printable ASCII that any JSON parser reads back unchanged.

use std::fmt::Write as _;

/// Escapes every code point >= U+007F of a JSON text as `\uXXXX` (lowercase hex), using
/// surrogate pairs above U+FFFF.
///
/// ```
/// use dropbox_api_runtime::header::escape_header_json;
/// assert_eq!(escape_header_json(r#"{"path":"/ü😀"}"#), r#"{"path":"/\u00fc\ud83d\ude00"}"#);
/// ```
pub fn escape_header_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + json.len() / 8);
    for c in json.chars() {
        if (c as u32) < 0x7f {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ascii_is_unchanged() {
        let json = r#"{"path":"/Homework/math.txt","n":1}"#;
        assert_eq!(escape_header_json(json), json);
    }

    #[test]
    fn escapes_del_latin_bmp_and_astral() {
        assert_eq!(escape_header_json("\u{7f}"), "\\u007f");
        assert_eq!(escape_header_json("é"), "\\u00e9");
        assert_eq!(escape_header_json("\u{ffff}"), "\\uffff");
        assert_eq!(escape_header_json("😀"), "\\ud83d\\ude00");
        assert_eq!(escape_header_json("\u{10ffff}"), "\\udbff\\udfff");
    }

    proptest! {
        #[test]
        fn escaped_json_parses_back(s in any::<String>()) {
            let json = serde_json::to_string(&s).unwrap();
            let escaped = escape_header_json(&json);
            prop_assert!(escaped.bytes().all(|b| (0x20..0x7f).contains(&b)));
            let back: String = serde_json::from_str(&escaped).unwrap();
            prop_assert_eq!(back, s);
        }
    }
}
