//! Unit tests of upload sessions: offsets, closing, expiry, size limits.

use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;

use super::*;
use crate::clock::ManualClock;
use crate::store::StoreError;

fn body(data: &'static [u8]) -> Upload<impl Stream<Item = Result<Bytes, String>> + Unpin> {
    Upload {
        body: futures_util::stream::iter(vec![Ok::<_, String>(Bytes::from_static(data))]),
        declared: Some(data.len() as u64),
        expected_hash: None,
    }
}

fn sessions(dir: &Path, limits: Limits) -> (Sessions, Arc<ManualClock>) {
    let mc = Arc::new(ManualClock::default());
    let clock = EmulatorClock::new(mc.clone());
    (
        Sessions::open(dir, limits, clock, false, Fence::default()).unwrap(),
        mc,
    )
}

fn failure<T: std::fmt::Debug>(r: SessionResult<T>) -> SessionFailure {
    match r {
        Err(StoreError::Failure(f)) => f,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn sequential_offsets_close_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (s, clock) = sessions(dir.path(), Limits::default());
    let sess = s.create(Kind::Sequential).unwrap();
    assert_eq!(s.append(&sess, 0, false, body(b"abc")).await.unwrap(), 3);
    assert_eq!(
        failure(s.append(&sess, 0, false, body(b"abc")).await),
        SessionFailure::IncorrectOffset(3)
    );
    let mut bad = body(b"def");
    bad.expected_hash = Some("00".repeat(32));
    assert_eq!(
        failure(s.append(&sess, 3, false, bad).await),
        SessionFailure::ContentHashMismatch
    );
    assert_eq!(s.offset(&sess).await, 3, "rolled back");
    let mut good = body(b"def");
    good.expected_hash = Some(crate::hash::hash_bytes(b"def"));
    s.append(&sess, 3, true, good).await.unwrap();
    assert_eq!(
        failure(s.append(&sess, 6, false, body(b"x")).await),
        SessionFailure::Closed
    );
    let p = s
        .prepare_finish(
            &sess,
            6,
            None::<Upload<futures_util::stream::Empty<Result<Bytes, String>>>>,
            true,
        )
        .await
        .unwrap();
    assert_eq!(p.content.size, 6);
    assert_eq!(p.content.content_hash, crate::hash::hash_bytes(b"abcdef"));
    assert_eq!(fs::read(&p.content.file).unwrap(), b"abcdef");
    s.complete(p);
    assert_eq!(
        s.get(&sess.id, false).unwrap_err(),
        SessionFailure::NotFound
    );

    let other = s.create(Kind::Sequential).unwrap();
    clock.advance(Duration::from_secs(7 * 24 * 3600));
    assert_eq!(
        s.get(&other.id, false).unwrap_err(),
        SessionFailure::NotFound
    );
}

#[tokio::test]
async fn session_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_session_bytes: 5,
        ..Limits::default()
    };
    let (s, _) = sessions(dir.path(), limits);
    let sess = s.create(Kind::Sequential).unwrap();
    s.append(&sess, 0, false, body(b"abcd")).await.unwrap();
    assert_eq!(
        failure(s.append(&sess, 4, false, body(b"ef")).await),
        SessionFailure::TooLarge
    );
    let mut undeclared = body(b"ef");
    undeclared.declared = None;
    assert_eq!(
        failure(s.append(&sess, 4, false, undeclared).await),
        SessionFailure::TooLarge
    );
    assert_eq!(s.offset(&sess).await, 4);
}
