//! The OpenAPI front end: our v1 description renders deterministically, and malformed
//! documents are typed errors that name the file.

use std::path::{Path, PathBuf};

use dbx_codegen::openapi::{OpenApiError, render_openapi_module};

fn spec() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs/openapi/v1.json")
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("openapi-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn renders_the_v1_client_deterministically() {
    let a = render_openapi_module(&spec()).unwrap();
    let b = render_openapi_module(&spec()).unwrap();
    assert_eq!(a, b);
    for needle in [
        "pub async fn chunked_upload",
        "pub async fn commit_chunked_upload",
        "pub struct ChunkedUploadProgress",
        "pub struct V1Metadata",
    ] {
        assert!(a.source.contains(needle), "missing {needle}");
    }
    assert!(a.dependencies.iter().any(|d| d.name == "progenitor-client"));
}

#[test]
fn malformed_documents_are_typed_errors_naming_the_file() {
    let cases = [
        ("bad.json", "{ \"openapi\": ", "bad.json:1:"),
        (
            "v31.json",
            r#"{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}"#,
            "3.1.0 is not supported",
        ),
        (
            "swagger.json",
            r#"{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}"#,
            "Swagger 2.0",
        ),
        (
            "noid.json",
            r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"ok"}}}}}}"#,
            "GET /x has no operationId",
        ),
    ];
    for (name, text, want) in cases {
        let p = write_temp(name, text);
        let err = render_openapi_module(&p).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(name) && msg.contains(want), "{msg}");
        match (name, &err) {
            ("bad.json", OpenApiError::Json { .. }) => {}
            ("bad.json", other) => panic!("{other:?}"),
            (_, OpenApiError::Invalid { .. }) => {}
            (_, other) => panic!("{other:?}"),
        }
    }
    let missing = render_openapi_module(Path::new("/nonexistent/v9.json")).unwrap_err();
    assert!(matches!(missing, OpenApiError::Io { .. }));
}
