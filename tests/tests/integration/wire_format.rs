//! Dropbox's JSON wire format through the generated types: tags anywhere, the bare-string
//! form of void members, flattened and nested members, defaults, nulls, unknown keys and
//! tags, timestamps and 64-bit integers. Every document decoded here is decoded by both
//! codecs (`serde_json` and `dropbox_api::json`) to the same value, and every value encoded
//! is written by both to the same bytes.

use dropbox_api::files::{
    CommitInfo, FileMetadata, ListFolderResult, LookupError, Metadata, UploadSessionAppendError,
    UploadSessionFinishBatchResultEntry, UploadSessionLookupError, WriteError, WriteMode,
};
use serde_json::{Value, json};

fn decode<T>(v: Value) -> T
where
    T: serde::de::DeserializeOwned + dropbox_api::json::Json + PartialEq + std::fmt::Debug,
{
    let ours: T = dropbox_api::json::from_str(&v.to_string()).unwrap();
    let theirs: T = serde_json::from_value(v).unwrap();
    assert_eq!(ours, theirs);
    theirs
}

/// Both codecs refuse the document; returns both messages.
fn refused<T>(v: Value) -> String
where
    T: serde::de::DeserializeOwned + dropbox_api::json::Json + std::fmt::Debug,
{
    let ours = dropbox_api::json::from_str::<T>(&v.to_string()).unwrap_err();
    let theirs = serde_json::from_value::<T>(v).unwrap_err();
    format!("{theirs} / {ours}")
}

fn encode<T: serde::Serialize + dropbox_api::json::Json>(v: &T) -> Value {
    assert_eq!(
        dropbox_api::json::to_string(v).unwrap(),
        serde_json::to_string(v).unwrap()
    );
    serde_json::to_value(v).unwrap()
}

#[test]
fn void_member_from_object_and_from_bare_string() {
    assert_eq!(decode::<WriteMode>(json!({".tag": "add"})), WriteMode::Add);
    assert_eq!(
        decode::<WriteMode>(json!("overwrite")),
        WriteMode::Overwrite
    );
    // Always encoded in the object form.
    assert_eq!(encode(&WriteMode::Add), json!({".tag": "add"}));
}

#[test]
fn tag_may_come_anywhere_in_the_object() {
    let v: UploadSessionAppendError =
        decode(json!({"correct_offset": 4194304, ".tag": "incorrect_offset"}));
    match v {
        UploadSessionAppendError::IncorrectOffset(e) => assert_eq!(e.correct_offset, 4_194_304),
        other => panic!("{other:?}"),
    }
    let v: WriteMode = decode(json!({"update": "a1c10ce0dd78", ".tag": "update"}));
    assert_eq!(v, WriteMode::Update("a1c10ce0dd78".into()));
}

#[test]
fn struct_members_are_flattened_other_members_nested() {
    let e = UploadSessionLookupError::IncorrectOffset(
        dropbox_api::files::UploadSessionOffsetError::new(8),
    );
    assert_eq!(
        encode(&e),
        json!({".tag": "incorrect_offset", "correct_offset": 8})
    );
    let w = WriteMode::Update("a1c10ce0dd78".into());
    assert_eq!(
        encode(&w),
        json!({".tag": "update", "update": "a1c10ce0dd78"})
    );
    // A union-typed member nests its own union object under the tag.
    let l: LookupError = decode(json!({".tag": "not_found"}));
    let err = dropbox_api::files::DownloadError::Path(l);
    assert_eq!(
        encode(&err),
        json!({".tag": "path", "path": {".tag": "not_found"}})
    );
}

#[test]
fn unknown_tags_of_open_unions_become_other_closed_unions_reject_them() {
    let v: UploadSessionAppendError = decode(json!({".tag": "brand_new_error", "detail": 1}));
    assert_eq!(v, UploadSessionAppendError::Other);
    let v: UploadSessionAppendError = decode(json!("brand_new_error"));
    assert_eq!(v, UploadSessionAppendError::Other);
    let err = refused::<WriteMode>(json!({".tag": "brand_new_mode"}));
    assert_eq!(err.matches("brand_new_mode").count(), 2, "{err}");
}

#[test]
fn void_member_with_extra_keys_is_accepted() {
    let v: WriteError = decode(json!({".tag": "insufficient_space", "extra": {"a": 1}}));
    assert_eq!(v, WriteError::InsufficientSpace);
}

#[test]
fn nullable_member_through_an_alias() {
    // `malformed_path MalformedPathError` where the alias is `String?`.
    let v: LookupError = decode(json!({".tag": "malformed_path"}));
    assert_eq!(v, LookupError::MalformedPath(None));
    let v: LookupError = decode(json!({".tag": "malformed_path", "malformed_path": "bad"}));
    assert_eq!(v, LookupError::MalformedPath(Some("bad".into())));
    assert_eq!(
        encode(&LookupError::MalformedPath(None)),
        json!({".tag": "malformed_path"})
    );
}

#[test]
fn defaults_apply_when_absent_and_nulls_are_omitted() {
    let c: CommitInfo = decode(json!({"path": "/a.txt", "unknown_future_field": [1, 2]}));
    assert_eq!(c.mode, WriteMode::Add);
    assert!(!c.autorename && !c.mute && !c.strict_conflict);
    assert_eq!(c.client_modified, None);
    let out = encode(&c);
    assert_eq!(
        out.get("client_modified"),
        None,
        "None fields are omitted: {out}"
    );
    assert_eq!(out["mode"], json!({".tag": "add"}));
    // A defaulted, non-nullable field may not be null.
    refused::<CommitInfo>(json!({"path": "/a", "autorename": null}));
    // An explicit null for a nullable field is the same as absent.
    let c: CommitInfo = decode(json!({"path": "/a", "client_modified": null}));
    assert_eq!(c.client_modified, None);
    // A missing required field is an error naming it.
    let err = refused::<CommitInfo>(json!({"mode": "add"}));
    assert_eq!(err.matches("missing field `path`").count(), 2, "{err}");
}

fn file_json() -> Value {
    json!({
        "name": "big.bin",
        "id": "id:a4ayc_80_OEAAAAAAAAAXw",
        "client_modified": "2026-03-14T09:26:53Z",
        "server_modified": "2026-03-14T09:27:01Z",
        "rev": "a1c10ce0dd78",
        "size": 18446744073709551615u64,
        "path_lower": "/big.bin",
        "content_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    })
}

#[test]
fn polymorphic_structs_carry_the_subtype_tag() {
    let mut v = file_json();
    v[".tag"] = json!("file");
    let m: Metadata = decode(v.clone());
    let Metadata::File(f) = &m else {
        panic!("{m:?}")
    };
    // 64-bit sizes are exact.
    assert_eq!(f.size, u64::MAX);
    assert_eq!(m.name(), "big.bin");
    assert_eq!(encode(&m)[".tag"], "file");
    // The same struct used directly has no tag, and a stray `.tag` is ignored.
    let direct: FileMetadata = decode(v);
    assert_eq!(encode(&direct).get(".tag"), None);
    // A union member of the subtype's type is flattened without the subtype tag.
    let entry = UploadSessionFinishBatchResultEntry::Success(direct);
    let out = encode(&entry);
    assert_eq!(out[".tag"], "success");
    assert_eq!(out["name"], "big.bin");
}

#[test]
fn timestamps_use_the_spec_format() {
    let f: FileMetadata = decode(file_json());
    assert_eq!(f.client_modified.to_rfc3339(), "2026-03-14T09:26:53+00:00");
    assert_eq!(encode(&f)["client_modified"], "2026-03-14T09:26:53Z");
    let mut bad = file_json();
    bad["client_modified"] = json!("2026-03-14 09:26:53");
    refused::<FileMetadata>(bad);
}

#[test]
fn lists_of_polymorphic_entries() {
    let mut file = file_json();
    file[".tag"] = json!("file");
    let folder = json!({".tag": "folder", "name": "Docs", "id": "id:x", "path_lower": "/docs"});
    let deleted = json!({".tag": "deleted", "name": "gone.txt"});
    let r: ListFolderResult = decode(json!({
        "entries": [file, folder, deleted],
        "cursor": "AAE",
        "has_more": false
    }));
    assert_eq!(r.entries.len(), 3);
    assert!(matches!(r.entries[1], Metadata::Folder(_)));
    assert!(matches!(r.entries[2], Metadata::Deleted(_)));
    // Closed polymorphic struct: an unknown subtype is an error.
    refused::<Metadata>(json!({".tag": "shortcut", "name": "x"}));
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    for v in [
        json!(null),
        json!(42),
        json!([]),
        json!({}),
        json!({".tag": 5}),
        json!({".tag": "update"}),
        json!({".tag": "update", "update": 7}),
    ] {
        refused::<WriteMode>(v);
    }
}

#[test]
fn validation_rejects_values_the_spec_forbids() {
    use dropbox_api_runtime::Validate;
    let ok = CommitInfo::new("/Homework/a.txt").with_mode(WriteMode::Update("a1c10ce0dd78".into()));
    assert!(ok.validate().is_ok());
    let bad_path = CommitInfo::new("relative/path");
    let e = bad_path.validate().unwrap_err();
    assert_eq!(e.path(), "path");
    let bad_rev = CommitInfo::new("/a").with_mode(WriteMode::Update("xyz".into()));
    assert_eq!(bad_rev.validate().unwrap_err().path(), "mode.update");
    let too_many = dropbox_api::files::UploadSessionStartBatchArg::new(1001);
    assert!(too_many.validate().is_err());
    let zero = dropbox_api::files::UploadSessionStartBatchArg::new(0);
    assert!(zero.validate().is_err());
}
