//! The tag path of a union value, as Dropbox writes it in `error_summary`: the `.tag` of the
//! value, then of the value under that tag, and so on (`path/conflict/file`). Generated route
//! errors show it in their `Display`; the upload toolkit names failed batch entries with it.

use std::fmt;

use crate::json::{Json, Writer};

/// The tag path of `value` (`"unknown error"` when it has no tag).
///
/// ```
/// let v = serde_json::json!({".tag": "path", "path": {".tag": "conflict", "conflict": {".tag": "file"}}});
/// assert_eq!(dropbox_api_runtime::tags::tag_path(&v), "path/conflict/file");
/// ```
pub fn tag_path(value: &impl Json) -> String {
    // Generic only in one call: the generated crate instantiates this per route error.
    tag_path_of_encoding(value)
}

/// Encoding through a trait object, so that each type adds one small function, not a copy of
/// the tag-path code.
trait Encode {
    fn encode_to(&self, w: &mut Writer);
}

impl<T: Json> Encode for T {
    fn encode_to(&self, w: &mut Writer) {
        self.encode(w);
    }
}

/// [`tag_path`] of the value `value` encodes to.
fn tag_path_of_encoding(value: &dyn Encode) -> String {
    let mut w = Writer::with_capacity(128);
    value.encode_to(&mut w);
    match w
        .finish()
        .map(|text| serde_json::from_slice::<serde_json::Value>(&text))
    {
        Ok(Ok(v)) => tag_path_of(&v),
        _ => "unknown error".into(),
    }
}

/// [`tag_path`] of a JSON value. At each level: the `.tag`, then the value under that tag
/// when it is tagged itself; otherwise (a struct member, whose fields sit beside `.tag`, or a
/// struct) the first field that is tagged (`{".tag": "path", "reason": {".tag": "conflict"}}`
/// reads `path/conflict`). Strings under a tag are data, not tags; a bare string on its own is
/// a void member's tag.
pub fn tag_path_of(value: &serde_json::Value) -> String {
    let parts = tags_of(value);
    if parts.is_empty() {
        "unknown error".into()
    } else {
        parts.join("/")
    }
}

/// The tags of [`tag_path_of`], outside in (empty when the value has no tag).
pub fn tags_of(value: &serde_json::Value) -> Vec<&str> {
    if let serde_json::Value::String(s) = value {
        // A void member on its own.
        return vec![s];
    }
    let mut parts: Vec<&str> = Vec::new();
    let mut cur = value;
    // Bounded: a value nests at most as deep as the spec's types.
    for _ in 0..32 {
        let tag = cur.get(".tag").and_then(|t| t.as_str());
        if let Some(tag) = tag {
            parts.push(tag);
        }
        // The value under the tag, if it is tagged itself; else the first tagged field (of a
        // struct member, or of a struct such as `RateLimitError { reason, .. }`).
        let nested = tag
            .and_then(|t| cur.get(t))
            .filter(|v| v.get(".tag").is_some())
            .or_else(|| {
                cur.as_object().and_then(|m| {
                    m.iter()
                        .filter(|(k, _)| !k.starts_with(".tag"))
                        .map(|(_, v)| v)
                        .find(|v| v.get(".tag").is_some())
                })
            });
        match nested {
            Some(n) => cur = n,
            None => break,
        }
    }
    parts
}

/// Writes a route error as a sentence: its type and its tag path
/// (`UploadSessionFinishError: path/conflict/file`), for the generated `Display` impls.
pub fn fmt_route_error(
    type_name: &str,
    value: &impl Json,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write_route_error(type_name, value, f)
}

fn write_route_error(
    type_name: &str,
    value: &dyn Encode,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{type_name}: {}", tag_path_of_encoding(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_follow_nested_tags_and_flattened_structs() {
        assert_eq!(
            tag_path(&json!("too_many_write_operations")),
            "too_many_write_operations"
        );
        assert_eq!(
            tag_path(
                &json!({".tag": "lookup_failed", "lookup_failed": {".tag": "incorrect_offset", "correct_offset": 5}})
            ),
            "lookup_failed/incorrect_offset"
        );
        // A struct member's fields sit beside `.tag`: its tagged field continues the path.
        assert_eq!(
            tag_path(
                &json!({".tag": "path", "reason": {".tag": "conflict", "conflict": {".tag": "file"}}, "upload_session_id": "x"})
            ),
            "path/conflict/file"
        );
        // A string under a tag is data; a struct without a tag of its own is looked into.
        assert_eq!(
            tag_path(&json!({".tag": "malformed_path", "malformed_path": "no dots"})),
            "malformed_path"
        );
        assert_eq!(
            tag_path(&json!({"reason": {".tag": "too_many_requests"}, "retry_after": 1})),
            "too_many_requests"
        );
        assert_eq!(tag_path(&json!(null)), "unknown error");
        assert_eq!(tag_path(&json!({"a": 1})), "unknown error");
    }
}
