//! Checking a JSON document against a generated type, as the generated example tests do.

use std::fmt;

use super::Wire;

/// Checks that a JSON document round-trips through `T` with both codecs: it decodes (to the
/// same value through serde and through the [`json`](crate::json) codec), re-encodes (to
/// the same bytes through both) to JSON that still has every key of the original (at every
/// depth), and that JSON decodes to an equal value. Used by the generated example tests;
/// returns a description of the first problem.
pub fn round_trip<T>(json: &str) -> Result<(), String>
where
    T: Wire + PartialEq + fmt::Debug,
{
    let first: T = serde_json::from_str(json).map_err(|e| format!("decode: {e}"))?;
    let ours: T = crate::json::from_str(json).map_err(|e| format!("decode (json codec): {e}"))?;
    if first != ours {
        return Err(format!(
            "the codecs decode different values: {first:?} != {ours:?}"
        ));
    }
    let encoded = serde_json::to_string(&first).map_err(|e| format!("encode: {e}"))?;
    let ours = crate::json::to_string(&first).map_err(|e| format!("encode (json codec): {e}"))?;
    if encoded != ours {
        return Err(format!(
            "the codecs encode different bytes: {encoded} != {ours}"
        ));
    }
    let second: T = serde_json::from_str(&encoded)
        .map_err(|e| format!("decode of re-encoded {encoded}: {e}"))?;
    if first != second {
        return Err(format!(
            "values differ after a round trip: {first:?} != {second:?}"
        ));
    }
    let original: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let encoded: serde_json::Value = serde_json::from_str(&encoded).map_err(|e| e.to_string())?;
    keys_kept(&original, &encoded, "$")
}

fn keys_kept(
    original: &serde_json::Value,
    encoded: &serde_json::Value,
    path: &str,
) -> Result<(), String> {
    use serde_json::Value;
    match (original, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                // An explicit null is the same as an absent optional field.
                if v.is_null() {
                    continue;
                }
                let Some(w) = b.get(k) else {
                    return Err(format!("key {path}.{k} is missing after re-encoding"));
                };
                keys_kept(v, w, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("list {path} changed length"));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                keys_kept(v, w, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
