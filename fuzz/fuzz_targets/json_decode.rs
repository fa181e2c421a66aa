//! The decoders of the generated types: no input makes them panic, and whatever decodes
//! re-encodes and decodes to an equal value.
#![no_main]

use dropbox_api::{auth, common, files};
use libfuzzer_sys::fuzz_target;

fn check<T>(data: &[u8])
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    if let Ok(v) = serde_json::from_slice::<T>(data)
        && let Ok(text) = serde_json::to_vec(&v)
    {
        let again: T = serde_json::from_slice(&text).expect("our own encoding decodes");
        assert_eq!(v, again);
    }
}

fuzz_target!(|data: &[u8]| {
    check::<files::Metadata>(data);
    check::<files::ListFolderResult>(data);
    check::<files::CommitInfo>(data);
    check::<files::UploadSessionFinishBatchResult>(data);
    check::<files::UploadSessionFinishBatchJobStatus>(data);
    check::<files::UploadSessionFinishError>(data);
    check::<files::UploadSessionAppendError>(data);
    check::<files::WriteError>(data);
    check::<common::PathRootError>(data);
    check::<auth::AuthError>(data);
    check::<auth::RateLimitError>(data);
});
