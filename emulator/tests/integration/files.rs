//! Metadata, download (with ranges), delete, create_folder, list_folder and write modes.

use crate::common::*;
use dropbox_api::files::{
    CreateFolderArg, CreateFolderError, CreateFolderResult, DeleteArg, DeleteError, DeleteResult,
    DownloadArg, DownloadError, FileMetadata, GetMetadataArg, GetMetadataError, ListFolderArg,
    ListFolderContinueArg, ListFolderContinueError, ListFolderError, ListFolderResult, LookupError,
    Metadata, UploadArg, UploadError, WriteConflictError, WriteError, WriteMode,
};
use reqwest::StatusCode;

#[tokio::test]
async fn get_metadata_paths_ids_revs_and_deleted() {
    let emu = start().await;
    let api = Api::new(&emu);
    let f = api.put("/Photos/Summer/Beach.JPG", b"sand").await;
    let m: Metadata = api
        .rpc(
            "files/get_metadata",
            &GetMetadataArg::new("/photos/SUMMER/beach.jpg"),
        )
        .await
        .ok();
    let Metadata::File(m) = m else {
        panic!("{m:?}")
    };
    assert_eq!(m, f);
    assert_eq!(m.path_display.as_deref(), Some("/Photos/Summer/Beach.JPG"));

    let by_id: Metadata = api
        .rpc("files/get_metadata", &GetMetadataArg::new(&f.id))
        .await
        .ok();
    assert_eq!(by_id, Metadata::File(f.clone()));
    let by_rev: Metadata = api
        .rpc(
            "files/get_metadata",
            &GetMetadataArg::new(format!("rev:{}", f.rev)),
        )
        .await
        .ok();
    assert_eq!(by_rev, Metadata::File(f.clone()));

    let folder: Metadata = api
        .rpc("files/get_metadata", &GetMetadataArg::new("/photos"))
        .await
        .ok();
    let Metadata::Folder(folder) = folder else {
        panic!()
    };
    assert_eq!(folder.name, "Photos");
    assert!(folder.id.starts_with("id:"));
    // A path below an id.
    let below: Metadata = api
        .rpc(
            "files/get_metadata",
            &GetMetadataArg::new(format!("{}/summer", folder.id)),
        )
        .await
        .ok();
    assert!(matches!(below, Metadata::Folder(ref x) if x.name == "Summer"));

    let (e, summary): (GetMetadataError, _) = api
        .rpc("files/get_metadata", &GetMetadataArg::new("/nope"))
        .await
        .conflict();
    assert_eq!(e, GetMetadataError::Path(LookupError::NotFound));
    assert_eq!(summary, "path/not_found/...");

    api.rpc(
        "files/delete_v2",
        &DeleteArg::new("/photos/summer/beach.jpg"),
    )
    .await
    .ok::<DeleteResult>();
    let (e, _): (GetMetadataError, _) = api
        .rpc(
            "files/get_metadata",
            &GetMetadataArg::new("/photos/summer/beach.jpg"),
        )
        .await
        .conflict();
    assert_eq!(e, GetMetadataError::Path(LookupError::NotFound));
    let d: Metadata = api
        .rpc(
            "files/get_metadata",
            &GetMetadataArg::new("/photos/summer/beach.jpg").with_include_deleted(true),
        )
        .await
        .ok();
    let Metadata::Deleted(d) = d else {
        panic!("{d:?}")
    };
    assert_eq!(d.name, "Beach.JPG");
    // The root has no metadata: the path pattern rejects "" (400).
    let r = api
        .rpc("files/get_metadata", &GetMetadataArg::new(""))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn download_with_ranges_and_result_header() {
    let emu = start().await;
    let api = Api::new(&emu);
    let body = data(10_000, 7);
    let f = api.put("/Ünïcödé 😀.bin", &body).await;
    let r = api
        .download("files/download", &DownloadArg::new("/ünïcödé 😀.bin"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body, body);
    assert_eq!(r.headers["content-length"], "10000");
    let raw = r.headers["dropbox-api-result"]
        .to_str()
        .expect("ASCII header");
    assert!(
        raw.contains("\\u00dc") && raw.contains("\\ud83d\\ude00"),
        "{raw}"
    );
    let meta: FileMetadata = serde_json::from_str(raw).unwrap();
    assert_eq!(meta, f);

    let r = api
        .download(
            "files/download",
            &DownloadArg::new(&f.id),
            Some("bytes=100-199"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, &body[100..200]);
    assert_eq!(r.headers["content-range"], "bytes 100-199/10000");
    let r = api
        .download(
            "files/download",
            &DownloadArg::new(&f.id),
            Some("bytes=9990-"),
        )
        .await;
    assert_eq!(r.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.body, &body[9990..]);
    let r = api
        .download("files/download", &DownloadArg::new(&f.id), Some("bytes=-5"))
        .await;
    assert_eq!(r.body, &body[9995..]);
    assert_eq!(r.headers["content-range"], "bytes 9995-9999/10000");
    let r = api
        .download(
            "files/download",
            &DownloadArg::new(&f.id),
            Some("bytes=10000-"),
        )
        .await;
    assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(r.headers["content-range"], "bytes */10000");

    let (e, summary): (DownloadError, _) = api
        .download("files/download", &DownloadArg::new("/missing"), None)
        .await
        .conflict();
    assert_eq!(e, DownloadError::Path(LookupError::NotFound));
    assert_eq!(summary, "path/not_found/...");
    api.put("/dir/x", b"x").await;
    let (e, _): (DownloadError, _) = api
        .download("files/download", &DownloadArg::new("/dir"), None)
        .await
        .conflict();
    assert_eq!(e, DownloadError::Path(LookupError::NotFile));
    // rev must be the current one.
    #[allow(deprecated)]
    let stale = DownloadArg::new("/dir/x").with_rev("0123456789abc");
    let (e, _): (DownloadError, _) = api
        .download("files/download", &stale, None)
        .await
        .conflict();
    assert_eq!(e, DownloadError::Path(LookupError::NotFound));
}

#[tokio::test]
async fn empty_file_round_trip() {
    let emu = start().await;
    let api = Api::new(&emu);
    let f = api.put("/empty", b"").await;
    assert_eq!(f.size, 0);
    assert_eq!(f.content_hash.as_deref(), Some(content_hash(b"").as_str()));
    assert_eq!(api.get("/empty").await, b"");
}

#[tokio::test]
async fn write_modes_autorename_and_strict_conflict() {
    let emu = start().await;
    let api = Api::new(&emu);
    let first = api.put("/Notes/todo.txt", b"v1").await;
    // add onto a different file: conflict
    let (e, _): (UploadError, _) = api
        .upload(
            "files/upload",
            &UploadArg::new("/notes/TODO.txt"),
            b"v2".to_vec(),
        )
        .await
        .conflict();
    let UploadError::Path(p) = e else { panic!() };
    assert_eq!(p.reason, WriteError::Conflict(WriteConflictError::File));
    // identical content is a no-op
    let same: FileMetadata = api
        .upload(
            "files/upload",
            &UploadArg::new("/notes/todo.txt"),
            b"v1".to_vec(),
        )
        .await
        .ok();
    assert_eq!(same.rev, first.rev);
    // autorename
    let renamed: FileMetadata = api
        .upload(
            "files/upload",
            &UploadArg::new("/notes/todo.txt").with_autorename(true),
            b"v2".to_vec(),
        )
        .await
        .ok();
    assert_eq!(renamed.path_display.as_deref(), Some("/Notes/todo (1).txt"));
    let renamed2: FileMetadata = api
        .upload(
            "files/upload",
            &UploadArg::new("/notes/todo.txt").with_autorename(true),
            b"v3".to_vec(),
        )
        .await
        .ok();
    assert_eq!(renamed2.name, "todo (2).txt");
    // overwrite keeps the id and the name's casing, changes the rev
    let over: FileMetadata = api
        .upload(
            "files/upload",
            &UploadArg::new("/NOTES/TODO.TXT").with_mode(WriteMode::Overwrite),
            b"v4".to_vec(),
        )
        .await
        .ok();
    assert_eq!(over.id, first.id);
    assert_ne!(over.rev, first.rev);
    assert_eq!(over.path_display.as_deref(), Some("/Notes/todo.txt"));
    // update with a stale rev
    let (e, _): (UploadError, _) = api
        .upload(
            "files/upload",
            &UploadArg::new("/notes/todo.txt").with_mode(WriteMode::Update(first.rev.clone())),
            b"v5".to_vec(),
        )
        .await
        .conflict();
    assert!(
        matches!(e, UploadError::Path(ref p) if p.reason == WriteError::Conflict(WriteConflictError::File))
    );
    // update of a deleted file: written unless strict_conflict
    api.rpc("files/delete_v2", &DeleteArg::new("/notes/todo.txt"))
        .await
        .ok::<DeleteResult>();
    let strict = UploadArg::new("/notes/todo.txt")
        .with_mode(WriteMode::Update(over.rev.clone()))
        .with_strict_conflict(true);
    let (e, _): (UploadError, _) = api
        .upload("files/upload", &strict, b"v6".to_vec())
        .await
        .conflict();
    assert!(matches!(e, UploadError::Path(_)));
    let lenient = UploadArg::new("/notes/todo.txt").with_mode(WriteMode::Update(over.rev.clone()));
    let m: FileMetadata = api
        .upload("files/upload", &lenient, b"v6".to_vec())
        .await
        .ok();
    assert_eq!(m.size, 2);
    // folder in the way, file ancestor, disallowed names, malformed paths
    let (e, _): (UploadError, _) = api
        .upload("files/upload", &UploadArg::new("/notes"), b"x".to_vec())
        .await
        .conflict();
    assert!(
        matches!(e, UploadError::Path(ref p) if p.reason == WriteError::Conflict(WriteConflictError::Folder))
    );
    let (e, summary): (UploadError, _) = api
        .upload(
            "files/upload",
            &UploadArg::new("/notes/todo.txt/child"),
            b"x".to_vec(),
        )
        .await
        .conflict();
    assert!(
        matches!(e, UploadError::Path(ref p) if p.reason == WriteError::Conflict(WriteConflictError::FileAncestor))
    );
    assert_eq!(summary, "path/conflict/file_ancestor/...");
    let (e, _): (UploadError, _) = api
        .upload(
            "files/upload",
            &UploadArg::new("/x/.DS_Store"),
            b"x".to_vec(),
        )
        .await
        .conflict();
    assert!(matches!(e, UploadError::Path(ref p) if p.reason == WriteError::DisallowedName));
    let (e, summary): (UploadError, _) = api
        .upload("files/upload", &UploadArg::new("/a/../b"), b"x".to_vec())
        .await
        .conflict();
    assert!(
        matches!(e, UploadError::Path(ref p) if matches!(p.reason, WriteError::MalformedPath(_)))
    );
    assert_eq!(summary, "path/malformed_path/...");
}

#[tokio::test]
async fn create_folder_and_delete() {
    let emu = start().await;
    let api = Api::new(&emu);
    let r: CreateFolderResult = api
        .rpc("files/create_folder_v2", &CreateFolderArg::new("/A/B/C"))
        .await
        .ok();
    assert_eq!(r.metadata.path_display.as_deref(), Some("/A/B/C"));
    let (e, summary): (CreateFolderError, _) = api
        .rpc("files/create_folder_v2", &CreateFolderArg::new("/a/b/c"))
        .await
        .conflict();
    assert_eq!(
        e,
        CreateFolderError::Path(WriteError::Conflict(WriteConflictError::Folder))
    );
    assert_eq!(summary, "path/conflict/folder/...");
    let r: CreateFolderResult = api
        .rpc(
            "files/create_folder_v2",
            &CreateFolderArg::new("/a/b/c").with_autorename(true),
        )
        .await
        .ok();
    assert_eq!(r.metadata.name, "c (1)");
    assert_eq!(r.metadata.path_display.as_deref(), Some("/A/B/c (1)"));

    let f = api.put("/a/b/c/file.txt", b"data").await;
    assert_eq!(f.path_display.as_deref(), Some("/A/B/C/file.txt"));
    let (e, summary): (DeleteError, _) = api
        .rpc(
            "files/delete_v2",
            &DeleteArg::new("/a/b/c/file.txt").with_parent_rev("0123456789ab"),
        )
        .await
        .conflict();
    assert!(matches!(e, DeleteError::PathWrite(_)));
    assert_eq!(summary, "path_write/conflict/file/...");
    let r: DeleteResult = api.rpc("files/delete_v2", &DeleteArg::new("/A")).await.ok();
    let Metadata::Folder(m) = r.metadata else {
        panic!()
    };
    assert_eq!(m.path_display.as_deref(), Some("/A"));
    let (e, summary): (DeleteError, _) = api
        .rpc("files/delete_v2", &DeleteArg::new("/a/b/c/file.txt"))
        .await
        .conflict();
    assert_eq!(e, DeleteError::PathLookup(LookupError::NotFound));
    assert_eq!(summary, "path_lookup/not_found/...");
    let r = api
        .download("files/download", &DownloadArg::new(&f.id), None)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
}

fn names(r: &ListFolderResult) -> Vec<String> {
    r.entries
        .iter()
        .map(|m| match m {
            Metadata::File(f) => f.path_display.clone().unwrap_or_default().into(),
            Metadata::Folder(f) => format!("{}/", f.path_display.clone().unwrap_or_default()),
            Metadata::Deleted(d) => format!("-{}", d.path_display.clone().unwrap_or_default()),
        })
        .collect()
}

#[tokio::test]
async fn list_folder_paging_recursion_and_changes() {
    let emu = start().await;
    let api = Api::new(&emu);
    for p in [
        "/L/a.txt",
        "/L/b.txt",
        "/L/sub/c.txt",
        "/L/sub/deep/d.txt",
        "/L-other.txt",
        "/top.txt",
    ] {
        api.put(p, p.as_bytes()).await;
    }
    let r: ListFolderResult = api
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await
        .ok();
    assert_eq!(names(&r), ["/L/", "/L-other.txt", "/top.txt"]);
    assert!(!r.has_more);
    let r: ListFolderResult = api
        .rpc("files/list_folder", &ListFolderArg::new("/l"))
        .await
        .ok();
    assert_eq!(names(&r), ["/L/a.txt", "/L/b.txt", "/L/sub/"]);

    // Recursive, two entries per page.
    let mut all = Vec::new();
    let mut r: ListFolderResult = api
        .rpc(
            "files/list_folder",
            &ListFolderArg::new("/L").with_recursive(true).with_limit(2),
        )
        .await
        .ok();
    all.extend(names(&r));
    let mut pages = 1;
    while r.has_more {
        assert_eq!(r.entries.len(), 2);
        r = api
            .rpc(
                "files/list_folder/continue",
                &ListFolderContinueArg::new(&r.cursor),
            )
            .await
            .ok();
        all.extend(names(&r));
        pages += 1;
    }
    assert_eq!(
        all,
        [
            "/L/",
            "/L/a.txt",
            "/L/b.txt",
            "/L/sub/",
            "/L/sub/c.txt",
            "/L/sub/deep/",
            "/L/sub/deep/d.txt"
        ]
    );
    assert_eq!(pages, 4);

    // Nothing changed: an empty page.
    let quiet: ListFolderResult = api
        .rpc(
            "files/list_folder/continue",
            &ListFolderContinueArg::new(&r.cursor),
        )
        .await
        .ok();
    assert!(quiet.entries.is_empty() && !quiet.has_more);
    // Changes since the cursor: a new file, a deletion, nothing outside the folder.
    api.put("/L/new.txt", b"n").await;
    api.put("/elsewhere.txt", b"e").await;
    api.rpc("files/delete_v2", &DeleteArg::new("/L/sub/deep"))
        .await
        .ok::<DeleteResult>();
    let changes: ListFolderResult = api
        .rpc(
            "files/list_folder/continue",
            &ListFolderContinueArg::new(&quiet.cursor),
        )
        .await
        .ok();
    assert_eq!(names(&changes), ["/L/new.txt", "-/L/sub/deep"]);
    assert!(changes.has_more, "the cursor keeps limit 2");
    let changes: ListFolderResult = api
        .rpc(
            "files/list_folder/continue",
            &ListFolderContinueArg::new(&changes.cursor),
        )
        .await
        .ok();
    assert_eq!(names(&changes), ["-/L/sub/deep/d.txt"]);
    assert!(!changes.has_more);

    // Errors.
    let (e, _): (ListFolderError, _) = api
        .rpc("files/list_folder", &ListFolderArg::new("/missing"))
        .await
        .conflict();
    assert_eq!(e, ListFolderError::Path(LookupError::NotFound));
    let (e, summary): (ListFolderError, _) = api
        .rpc("files/list_folder", &ListFolderArg::new("/top.txt"))
        .await
        .conflict();
    assert_eq!(e, ListFolderError::Path(LookupError::NotFolder));
    assert_eq!(summary, "path/not_folder/...");
    let r = api.rpc("files/list_folder", &ListFolderArg::new("/")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("empty string"));
    let r = api
        .rpc("files/list_folder", &ListFolderArg::new("").with_limit(0))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = api
        .rpc(
            "files/list_folder/continue",
            &ListFolderContinueArg::new("garbage"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    // The listed folder was deleted.
    let cursor = changes.cursor.clone();
    api.rpc("files/delete_v2", &DeleteArg::new("/L"))
        .await
        .ok::<DeleteResult>();
    let (e, _): (ListFolderContinueError, _) = api
        .rpc(
            "files/list_folder/continue",
            &ListFolderContinueArg::new(&cursor),
        )
        .await
        .conflict();
    assert_eq!(e, ListFolderContinueError::Path(LookupError::NotFound));
}

#[tokio::test]
async fn list_folder_include_deleted() {
    let emu = start().await;
    let api = Api::new(&emu);
    api.put("/d/keep", b"k").await;
    api.put("/d/gone", b"g").await;
    api.rpc("files/delete_v2", &DeleteArg::new("/d/gone"))
        .await
        .ok::<DeleteResult>();
    let r: ListFolderResult = api
        .rpc("files/list_folder", &ListFolderArg::new("/d"))
        .await
        .ok();
    assert_eq!(names(&r), ["/d/keep"]);
    let r: ListFolderResult = api
        .rpc(
            "files/list_folder",
            &ListFolderArg::new("/d").with_include_deleted(true),
        )
        .await
        .ok();
    assert_eq!(names(&r), ["-/d/gone", "/d/keep"]);
}
