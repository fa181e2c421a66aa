//! `list_folder` cursors: what a listing position carries, opaque to clients
//! (URL-safe base64 of JSON).

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::api::wire::{Refusal, internal};
use crate::store::ListPosition;

/// What a list_folder cursor carries (opaque to clients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Cursor {
    pub(super) root: String,
    pub(super) rec: bool,
    pub(super) del: bool,
    pub(super) lim: usize,
    pub(super) pos: ListPosition,
}

pub(super) fn encode_cursor(c: &Cursor) -> Result<String, Refusal> {
    let json = serde_json::to_vec(c).map_err(internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json))
}

pub(super) fn decode_cursor(s: &str) -> Option<Cursor> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.as_bytes())
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor {
            root: "/a".into(),
            rec: true,
            del: false,
            lim: 10,
            pos: ListPosition::Changes { since: 4 },
        };
        assert_eq!(decode_cursor(&encode_cursor(&c).unwrap()), Some(c));
        assert_eq!(decode_cursor("not a cursor"), None);
    }
}
