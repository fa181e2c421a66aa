//! Property tests: arbitrary JSON documents that conform to a spec type (generated from the
//! IR: every field, nulls, absent optionals, unknown keys, both union forms, `.tag` first or
//! last) decode into the generated type, re-encode, and decode to an equal value. Both codecs
//! take part: `dropbox_api::json` decodes every document (compact and pretty-printed) to the
//! value `serde_json` decodes, and encodes that value to exactly the bytes `serde_json` writes.

use std::path::Path;
use std::sync::OnceLock;

use dbx_codegen::ir::{Api, TypeKey};
use dbx_tests::arbitrary_json;
use proptest::prelude::*;
use serde_json::Value;

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        dbx_codegen::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
    })
}

fn strategy(ns: &str, name: &str) -> BoxedStrategy<Value> {
    let key = TypeKey::new(ns, name);
    assert!(api().get(&key).is_some(), "no type {key}");
    arbitrary_json::for_type(api(), &key)
}

/// Decode, encode, decode again: equal values, and every known key of the input kept; the
/// crate's own codec decodes the same value and writes the same bytes.
fn round_trip<T>(json: &Value) -> Result<(), TestCaseError>
where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + dropbox_api::json::Json
        + PartialEq
        + std::fmt::Debug,
{
    let text = json.to_string();
    let first: T = serde_json::from_str(&text)
        .map_err(|e| TestCaseError::fail(format!("decode: {e}\ninput: {text}")))?;
    let encoded = serde_json::to_value(&first)
        .map_err(|e| TestCaseError::fail(format!("encode: {e}\ninput: {text}")))?;
    let second: T = serde_json::from_value(encoded.clone())
        .map_err(|e| TestCaseError::fail(format!("re-decode: {e}\nencoded: {encoded}")))?;
    prop_assert_eq!(&first, &second);
    keys_kept(json, &encoded, "$")?;
    codecs_agree(&text, &first)?;
    let pretty = serde_json::to_string_pretty(json)
        .map_err(|e| TestCaseError::fail(format!("pretty-printing: {e}")))?;
    codecs_agree(&pretty, &first)
}

/// `dropbox_api::json` decodes `text` to `expected` (what `serde_json` decoded), encodes it to
/// the bytes `serde_json::to_string` writes, and decodes those bytes to an equal value.
fn codecs_agree<T>(text: &str, expected: &T) -> Result<(), TestCaseError>
where
    T: serde::Serialize
        + serde::de::DeserializeOwned
        + dropbox_api::json::Json
        + PartialEq
        + std::fmt::Debug,
{
    use dropbox_api::json;
    let ours: T = json::from_str(text).map_err(|e| {
        TestCaseError::fail(format!(
            "dropbox_api::json refuses what serde_json decodes: {e}\ninput: {text}"
        ))
    })?;
    prop_assert_eq!(
        &ours,
        expected,
        "the codecs decode different values from {}",
        text
    );
    let theirs = serde_json::to_string(expected)
        .map_err(|e| TestCaseError::fail(format!("serde_json encode: {e}\ninput: {text}")))?;
    let written = json::to_string(expected).map_err(|e| {
        TestCaseError::fail(format!(
            "dropbox_api::json cannot encode what serde_json encodes: {e}\ninput: {text}"
        ))
    })?;
    prop_assert_eq!(
        &written,
        &theirs,
        "the codecs encode {:?} differently",
        expected
    );
    let again: T = json::from_str(&written).map_err(|e| {
        TestCaseError::fail(format!(
            "dropbox_api::json re-decode: {e}\nencoded: {written}"
        ))
    })?;
    prop_assert_eq!(&again, expected, "re-decoding {}", written);
    Ok(())
}

/// Keys of the input (other than the unknown `a_future_field` and explicit nulls) are in
/// the encoding too.
fn keys_kept(input: &Value, encoded: &Value, path: &str) -> Result<(), TestCaseError> {
    match (input, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                if k == "a_future_field" || v.is_null() {
                    continue;
                }
                let w = b
                    .get(k)
                    .ok_or_else(|| TestCaseError::fail(format!("{path}.{k} lost in {encoded}")))?;
                keys_kept(v, w, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            prop_assert_eq!(a.len(), b.len());
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                keys_kept(v, w, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

macro_rules! round_trips {
    ($($test:ident: $ty:ty = $ns:literal . $name:literal;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            $(
                #[test]
                fn $test(v in strategy($ns, $name)) {
                    round_trip::<$ty>(&v)?;
                }
            )*
        }
    };
}

use dropbox_api::{r#async, auth, common, file_properties, files};

round_trips! {
    commit_info: files::CommitInfo = "files"."CommitInfo";
    upload_arg: files::UploadArg = "files"."UploadArg";
    start_arg: files::UploadSessionStartArg = "files"."UploadSessionStartArg";
    append_arg: files::UploadSessionAppendArg = "files"."UploadSessionAppendArg";
    finish_arg: files::UploadSessionFinishArg = "files"."UploadSessionFinishArg";
    finish_batch_arg: files::UploadSessionFinishBatchArg = "files"."UploadSessionFinishBatchArg";
    metadata: files::Metadata = "files"."Metadata";
    file_metadata: files::FileMetadata = "files"."FileMetadata";
    list_folder_arg: files::ListFolderArg = "files"."ListFolderArg";
    list_folder_result: files::ListFolderResult = "files"."ListFolderResult";
    write_error: files::WriteError = "files"."WriteError";
    finish_error: files::UploadSessionFinishError = "files"."UploadSessionFinishError";
    append_error: files::UploadSessionAppendError = "files"."UploadSessionAppendError";
    batch_entry: files::UploadSessionFinishBatchResultEntry = "files"."UploadSessionFinishBatchResultEntry";
    batch_job_status: files::UploadSessionFinishBatchJobStatus = "files"."UploadSessionFinishBatchJobStatus";
    batch_launch: files::UploadSessionFinishBatchLaunch = "files"."UploadSessionFinishBatchLaunch";
    temporary_link_arg: files::GetTemporaryUploadLinkArg = "files"."GetTemporaryUploadLinkArg";
    lookup_error: files::LookupError = "files"."LookupError";
    delete_result: files::DeleteResult = "files"."DeleteResult";
    media_info: files::MediaInfo = "files"."MediaInfo";
    path_root: common::PathRoot = "common"."PathRoot";
    root_info: common::RootInfo = "common"."RootInfo";
    path_root_error: common::PathRootError = "common"."PathRootError";
    auth_error: auth::AuthError = "auth"."AuthError";
    access_error: auth::AccessError = "auth"."AccessError";
    rate_limit_error: auth::RateLimitError = "auth"."RateLimitError";
    invalid_property_group: file_properties::InvalidPropertyGroupError = "file_properties"."InvalidPropertyGroupError";
    launch_empty: r#async::LaunchEmptyResult = "async"."LaunchEmptyResult";
}
