//! The tag path of a union value, as Dropbox writes it in `error_summary`: the `.tag` of the
//! value, then of the value under that tag, and so on (`path/conflict/file`). Generated route
//! errors show it in their `Display`; the upload toolkit names failed batch entries with it.

use std::fmt;

use serde::Serialize;

/// The tag path of `value` (`"unknown error"` when it has no tag).
///
/// ```
/// let v = serde_json::json!({".tag": "path", "path": {".tag": "conflict", "conflict": "file"}});
/// assert_eq!(dropbox_api_runtime::tags::tag_path(&v), "path/conflict/file");
/// ```
pub fn tag_path(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(v) => tag_path_of(&v),
        Err(_) => "unknown error".into(),
    }
}

/// [`tag_path`] of a JSON value. At each level: the `.tag`, then the value under that tag;
/// for a struct member, whose fields sit beside `.tag`, the first field that is itself tagged
/// (`{".tag": "path", "reason": {".tag": "conflict", ...}}` reads `path/conflict/...`); a bare
/// string is a void member's tag.
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
    let mut parts: Vec<&str> = Vec::new();
    let mut cur = value;
    // Bounded: a value nests at most as deep as the spec's types.
    for _ in 0..32 {
        let tag = match cur {
            serde_json::Value::String(s) => {
                parts.push(s);
                break;
            }
            serde_json::Value::Object(m) => match m.get(".tag").and_then(|t| t.as_str()) {
                Some(t) => t,
                None => break,
            },
            _ => break,
        };
        parts.push(tag);
        let tagged = |v: &&serde_json::Value| v.is_string() || v.get(".tag").is_some();
        let nested = cur.get(tag).filter(tagged).or_else(|| {
            cur.as_object().and_then(|m| {
                m.iter()
                    .filter(|(k, _)| !k.starts_with(".tag") && k.as_str() != tag)
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
    value: &impl Serialize,
    f: &mut fmt::Formatter<'_>,
) -> fmt::Result {
    write!(f, "{type_name}: {}", tag_path(value))
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
        assert_eq!(
            tag_path(&json!({".tag": "path", "path": {".tag": "conflict", "conflict": "file"}})),
            "path/conflict/file"
        );
        assert_eq!(tag_path(&json!(null)), "unknown error");
        assert_eq!(tag_path(&json!({"a": 1})), "unknown error");
    }
}
