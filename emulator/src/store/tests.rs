//! Unit tests of the store: commit modes, restarts, listings, crash leftovers.

use std::fs;

use chrono::Utc;

use super::*;

fn content(store: &Store, data: &[u8]) -> Content {
    let p = store.temp_path();
    fs::write(&p, data).unwrap();
    Content {
        file: p,
        size: data.len() as u64,
        content_hash: crate::hash::hash_bytes(data),
    }
}

fn spec(path: &str, mode: Mode, autorename: bool) -> CommitSpec {
    CommitSpec {
        path: path.into(),
        mode,
        autorename,
        strict_conflict: false,
        client_modified: None,
    }
}

fn file(e: &EntryView) -> &FileInfo {
    match &e.kind {
        ViewKind::File(f) => f,
        other => panic!("not a file: {other:?}"),
    }
}

#[test]
fn commit_modes_and_restart() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let store = Store::open(dir.path(), true).unwrap();
    let a = store
        .commit(
            &spec("/Docs/A.txt", Mode::Add, false),
            &content(&store, b"one"),
            now,
        )
        .unwrap();
    assert_eq!(a.entry.display, "/Docs/A.txt");
    assert_eq!(a.entry.lower, "/docs/a.txt");
    let rev1 = file(&a.entry).rev.clone();
    assert!(rev1.len() >= 9);
    // add on an existing different file: conflict
    let r = store.commit(
        &spec("/docs/a.TXT", Mode::Add, false),
        &content(&store, b"two"),
        now,
    );
    assert!(matches!(
        r,
        Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)))
    ));
    // identical content: no-op
    let same = store
        .commit(
            &spec("/docs/a.txt", Mode::Add, false),
            &content(&store, b"one"),
            now,
        )
        .unwrap();
    assert!(!same.took_content);
    assert_eq!(file(&same.entry).rev, rev1);
    // autorename
    let r = store
        .commit(
            &spec("/docs/a.txt", Mode::Add, true),
            &content(&store, b"two"),
            now,
        )
        .unwrap();
    assert_eq!(r.entry.display, "/Docs/a (1).txt");
    // update with wrong rev
    let r = store.commit(
        &spec("/docs/a.txt", Mode::Update("0123456789".into()), false),
        &content(&store, b"three"),
        now,
    );
    assert!(matches!(
        r,
        Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)))
    ));
    // update with right rev keeps the id
    let r = store
        .commit(
            &spec("/docs/a.txt", Mode::Update(rev1.clone()), false),
            &content(&store, b"three"),
            now,
        )
        .unwrap();
    assert_eq!(file(&r.entry).id, file(&a.entry).id);
    assert_ne!(file(&r.entry).rev, rev1);
    // file ancestor
    let r = store.commit(
        &spec("/docs/a.txt/x", Mode::Add, false),
        &content(&store, b"x"),
        now,
    );
    assert!(matches!(
        r,
        Err(StoreError::Failure(WriteFailure::Conflict(
            Conflict::FileAncestor
        )))
    ));
    // folder in the way
    let r = store.commit(
        &spec("/DOCS", Mode::Overwrite, false),
        &content(&store, b"x"),
        now,
    );
    assert!(matches!(
        r,
        Err(StoreError::Failure(WriteFailure::Conflict(
            Conflict::Folder
        )))
    ));
    drop(store);
    let store = Store::open(dir.path(), true).unwrap();
    let e = store.lookup("/docs/A.TXT", false).unwrap();
    assert_eq!(file(&e).size, 5);
    let blobs = fs::read_dir(dir.path().join("blobs")).unwrap().count();
    assert_eq!(blobs, 2, "old blob removed, two files left");
    let by_id = store.lookup(&file(&e).id, false).unwrap();
    assert_eq!(by_id.display, "/Docs/A.txt");
}

#[test]
fn strict_update_of_missing_file_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), false).unwrap();
    let mut s = spec("/x.txt", Mode::Update("0123456789".into()), false);
    s.strict_conflict = true;
    let r = store.commit(&s, &content(&store, b"x"), Utc::now());
    assert!(matches!(
        r,
        Err(StoreError::Failure(WriteFailure::Conflict(Conflict::File)))
    ));
    s.strict_conflict = false;
    assert!(store.commit(&s, &content(&store, b"x"), Utc::now()).is_ok());
}

#[test]
fn listing_pages_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), false).unwrap();
    let now = Utc::now();
    for p in ["/a/1", "/a/2", "/a/b/3", "/a-x", "/z"] {
        store
            .commit(
                &spec(p, Mode::Add, false),
                &content(&store, p.as_bytes()),
                now,
            )
            .unwrap();
    }
    let root = store.list_root("/a").unwrap();
    let snap = store.seq();
    let p1 = store.list_page(
        &root,
        true,
        false,
        &ListPosition::Walk {
            after: None,
            snapshot: snap,
        },
        2,
    );
    let names: Vec<_> = p1.entries.iter().map(|e| e.display.clone()).collect();
    assert_eq!(names, ["/a", "/a/1"]);
    assert!(p1.has_more);
    let p2 = store.list_page(&root, true, false, &p1.next, 10);
    let names: Vec<_> = p2.entries.iter().map(|e| e.display.clone()).collect();
    assert_eq!(names, ["/a/2", "/a/b", "/a/b/3"]);
    assert!(!p2.has_more);
    store.delete("/a/b", None).unwrap();
    let p3 = store.list_page(&root, true, false, &p2.next, 10);
    let got: Vec<_> = p3
        .entries
        .iter()
        .map(|e| (e.display.clone(), e.kind == ViewKind::Deleted))
        .collect();
    assert_eq!(got, [("/a/b".into(), true), ("/a/b/3".into(), true)]);
    // non-recursive root listing
    let p = store.list_page(
        "",
        false,
        true,
        &ListPosition::Walk {
            after: None,
            snapshot: store.seq(),
        },
        100,
    );
    let names: Vec<_> = p.entries.iter().map(|e| e.display.clone()).collect();
    assert_eq!(names, ["/a", "/a-x", "/z"]);
}

#[test]
fn orphans_and_temp_files_are_removed_at_open() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), false).unwrap());
    fs::write(dir.path().join("blobs").join("0".repeat(32)), b"orphan").unwrap();
    fs::write(dir.path().join("tmp").join("x.part"), b"half").unwrap();
    drop(Store::open(dir.path(), false).unwrap());
    assert_eq!(fs::read_dir(dir.path().join("blobs")).unwrap().count(), 0);
    assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
}
