//! The two JSON codecs of the generated types against each other: serde's (`serde_json`
//! through the generated `Serialize`/`Deserialize` impls) and the crate's own
//! (`dropbox_api::json`, what the clients use). No input makes either panic; when both decode
//! an input they decode the same value, both encoders write the same bytes, and those bytes
//! decode again (through both) to an equal value; one decoding what the other refuses is a
//! finding.
//!
//! Except for input that is not UTF-8: `json::from_slice` checks the whole document first,
//! `serde_json` only the strings it reads (not those of skipped values), so such input is
//! only checked for panics and for `serde_json`'s own round trip.
#![no_main]

use std::fmt::Debug;

use dropbox_api::{auth, common, files, json};
use libfuzzer_sys::fuzz_target;

fn check<T>(data: &[u8], utf8: bool)
where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + json::Json
        + PartialEq
        + Debug,
{
    let ty = std::any::type_name::<T>();
    let theirs = serde_json::from_slice::<T>(data);
    let ours = json::from_slice::<T>(data);
    let value = match (theirs, ours) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "{ty}: the codecs decode different values");
            a
        }
        (Err(_), Err(_)) => return,
        (Ok(a), Err(e)) if utf8 => {
            panic!("{ty}: serde_json decodes {a:?}, dropbox_api::json refuses: {e}")
        }
        (Err(e), Ok(b)) => {
            panic!("{ty}: serde_json refuses ({e}), dropbox_api::json decodes {b:?}")
        }
        // Not UTF-8: only serde_json's own round trip is checked.
        (Ok(a), Err(_)) => {
            if let Ok(text) = serde_json::to_vec(&a) {
                let again: T = serde_json::from_slice(&text).expect("our own encoding decodes");
                assert_eq!(a, again);
            }
            return;
        }
    };
    let written = match (serde_json::to_vec(&value), json::to_vec(&value)) {
        (Ok(a), Ok(b)) => {
            assert_eq!(
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b),
                "{ty}: the codecs encode {value:?} differently"
            );
            a
        }
        (Err(_), Err(_)) => return,
        (a, b) => panic!(
            "{ty}: one codec cannot encode {value:?}: serde_json {:?}, dropbox_api::json {:?}",
            a.map(|v| String::from_utf8_lossy(&v).into_owned()),
            b.map(|v| String::from_utf8_lossy(&v).into_owned()),
        ),
    };
    let again: T = serde_json::from_slice(&written).expect("our own encoding decodes (serde_json)");
    assert_eq!(value, again, "{ty}: serde_json re-decode");
    let ours: T = json::from_slice(&written).expect("our own encoding decodes (dropbox_api::json)");
    assert_eq!(value, ours, "{ty}: dropbox_api::json re-decode");
}

fuzz_target!(|data: &[u8]| {
    let utf8 = std::str::from_utf8(data).is_ok();
    check::<files::Metadata>(data, utf8);
    check::<files::ListFolderResult>(data, utf8);
    check::<files::CommitInfo>(data, utf8);
    check::<files::WriteMode>(data, utf8);
    check::<files::MediaInfo>(data, utf8);
    check::<files::UploadSessionFinishBatchResult>(data, utf8);
    check::<files::UploadSessionFinishBatchJobStatus>(data, utf8);
    check::<files::UploadSessionFinishError>(data, utf8);
    check::<files::UploadSessionAppendError>(data, utf8);
    check::<files::WriteError>(data, utf8);
    check::<files::LookupError>(data, utf8);
    check::<common::PathRootError>(data, utf8);
    check::<auth::AuthError>(data, utf8);
    check::<auth::RateLimitError>(data, utf8);
});
