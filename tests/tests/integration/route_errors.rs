//! Route errors are errors: every generated route error type implements `Display` (its type
//! and tag path), `std::error::Error` and the runtime's `RouteError` classification, and
//! `dropbox_api::Error` gives the route's own error as its `source()`.

use std::error::Error as _;

use dropbox_api::files::{
    UploadError, UploadSessionFinishError, UploadWriteFailed, WriteConflictError, WriteError,
};
use dropbox_api::{ApiError, Error, RouteError};

fn conflict() -> UploadSessionFinishError {
    UploadSessionFinishError::Path(WriteError::Conflict(WriteConflictError::File))
}

#[test]
fn display_names_the_type_and_the_path_of_tags() {
    assert_eq!(
        conflict().to_string(),
        "UploadSessionFinishError: path/conflict/file"
    );
    let flattened = UploadError::Path(UploadWriteFailed::new(
        WriteError::TooManyWriteOperations,
        "pid_upload_session:x",
    ));
    assert_eq!(
        flattened.to_string(),
        "UploadError: path/too_many_write_operations"
    );
    assert_eq!(
        UploadSessionFinishError::TooManyWriteOperations.to_string(),
        "UploadSessionFinishError: too_many_write_operations"
    );
}

#[test]
fn classification_looks_through_unions_and_structs() {
    assert!(!conflict().is_transient());
    assert!(UploadSessionFinishError::Path(WriteError::TooManyWriteOperations).is_transient());
    assert!(
        UploadError::Path(UploadWriteFailed::new(
            WriteError::TooManyWriteOperations,
            ""
        ))
        .is_transient()
    );
    assert!(!UploadError::PayloadTooLarge.is_transient());
}

#[test]
fn the_route_error_is_the_source_of_the_call_error() {
    let e: Error<UploadSessionFinishError> = Error::Route(ApiError {
        error: conflict(),
        summary: "path/conflict/file/...".into(),
        user_message: None,
        request_id: Some("req-9".into()),
    });
    // The chain an `anyhow` report prints, outside in.
    let mut chain = vec![e.to_string()];
    let mut cur: Option<&(dyn std::error::Error + 'static)> = e.source();
    while let Some(s) = cur {
        chain.push(s.to_string());
        cur = s.source();
    }
    assert_eq!(
        chain,
        vec![
            "Dropbox refused the request (409): path/conflict/file/... (request id req-9)"
                .to_owned(),
            "UploadSessionFinishError: path/conflict/file".to_owned(),
        ]
    );
    let source = e
        .source()
        .and_then(|s| s.downcast_ref::<UploadSessionFinishError>());
    assert_eq!(source, Some(&conflict()));
    // Boxed for the upload toolkit, the source is the same.
    let boxed = e.boxed();
    assert_eq!(
        boxed.source().map(|s| s.to_string()).as_deref(),
        Some("UploadSessionFinishError: path/conflict/file")
    );
    // Errors without a route error have no such source.
    let other: Error<UploadSessionFinishError> = Error::BadRequest {
        message: "bad".into(),
        request_id: None,
    };
    assert!(other.source().is_none());
}
