//! The on-disk record of a session and recovery from it.
//!
//! Next to its spool file `<32 hex>.spool`, every session has a metadata record
//! `<32 hex>.json` (written atomically, see the `persist` module) holding what the
//! session has *acknowledged* (the format is in the `sessions` module documentation).
//! The record is rewritten once per acknowledged request, after the data, so it never
//! claims data that is not in the spool.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex as AsyncMutex, RwLock};

use super::session::{Env, Kind, Session, State};
use crate::hash::BLOCK;
use crate::persist::{self, Fence};

/// The metadata record of a session (see the module documentation).
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: u32,
    id: String,
    kind: Kind,
    expires: i64,
    len: u64,
    closed: bool,
    #[serde(default)]
    blocks: Vec<String>,
    #[serde(default)]
    received: BTreeMap<u64, String>,
    #[serde(default)]
    total: Option<u64>,
}

impl Meta {
    fn of(session: &Session, st: &State) -> Meta {
        let (blocks, received) = match session.kind {
            Kind::Sequential | Kind::V1 => (
                st.prefix
                    .iter()
                    .chain(st.hasher.block_digests())
                    .map(hex::encode)
                    .collect(),
                BTreeMap::new(),
            ),
            Kind::Concurrent => (
                Vec::new(),
                st.blocks
                    .iter()
                    .map(|(i, d)| (*i, hex::encode(d)))
                    .collect(),
            ),
        };
        Meta {
            format: persist::FORMAT,
            id: session.id.clone(),
            kind: session.kind,
            expires: persist::to_millis(session.expires),
            len: st.len,
            closed: st.closed,
            blocks,
            received,
            total: st.total,
        }
    }
}

fn digest(hex_digest: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut out).ok()?;
    Some(out)
}

/// Writes a session's record, after fsyncing its spool when `sync_spool` (and durable).
fn write_record(
    durable: bool,
    fence: &Fence,
    session: &Session,
    meta: &Meta,
    sync_spool: bool,
) -> io::Result<()> {
    fence.check()?;
    if sync_spool && durable {
        match OpenOptions::new().write(true).open(&session.path) {
            Ok(f) => f.sync_data()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    let bytes = serde_json::to_vec(meta).map_err(io::Error::other)?;
    persist::write_atomic(&session.meta, &bytes, durable)
}

/// Rebuilds one session from its record and spool; `Ok(None)` when it has expired.
pub(super) fn recover(
    fence: &Fence,
    meta_path: &Path,
    spool: &Path,
    now: DateTime<Utc>,
) -> Result<Option<Arc<Session>>, String> {
    let bytes = fs::read(meta_path).map_err(|e| format!("cannot read: {e}"))?;
    let meta: Meta =
        serde_json::from_slice(&bytes).map_err(|e| format!("not a session record: {e}"))?;
    if meta.format != persist::FORMAT {
        return Err(format!("unknown format {}", meta.format));
    }
    if meta.id.is_empty() || meta.id.len() > 256 || !meta.id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("bad session id".into());
    }
    let expires = persist::from_millis(meta.expires).ok_or("bad expiry")?;
    if expires <= now {
        return Ok(None);
    }
    let spool_len = match fs::metadata(spool) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0,
        Err(e) => return Err(format!("cannot stat the spool: {e}")),
    };
    let mut st = State {
        len: meta.len,
        closed: meta.closed,
        total: meta.total,
        ..State::default()
    };
    match meta.kind {
        Kind::Sequential | Kind::V1 => {
            if meta.blocks.len() as u64 != meta.len / BLOCK {
                return Err("block digests do not match the length".into());
            }
            if spool_len < meta.len {
                return Err("the spool file is shorter than the acknowledged data".into());
            }
            for b in &meta.blocks {
                st.prefix.push(digest(b).ok_or("bad block digest")?);
            }
            let tail_start = st.prefix.len() as u64 * BLOCK;
            if meta.len > 0 || spool_len > 0 {
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(spool)
                    .map_err(|e| format!("cannot open the spool: {e}"))?;
                if spool_len > meta.len {
                    // Data of a request that was never acknowledged.
                    file.set_len(meta.len)
                        .map_err(|e| format!("cannot truncate the spool: {e}"))?;
                }
                let mut buf = vec![0u8; (meta.len - tail_start) as usize];
                file.read_exact_at(&mut buf, tail_start)
                    .map_err(|e| format!("cannot read the spool: {e}"))?;
                st.hasher.update(&buf);
            }
        }
        Kind::Concurrent => {
            if meta.closed && meta.total.is_none() {
                return Err("closed without a total".into());
            }
            for (i, d) in &meta.received {
                let end = i
                    .checked_add(1)
                    .and_then(|n| n.checked_mul(BLOCK))
                    .ok_or("bad block index")?;
                let end = meta.total.map_or(end, |t| end.min(t));
                if spool_len < end {
                    // Not on disk after all (a crash without fsync): the client sends
                    // it again after `missing data` at finish.
                    continue;
                }
                st.blocks.insert(*i, digest(d).ok_or("bad block digest")?);
            }
        }
    }
    Ok(Some(Arc::new(Session {
        id: meta.id,
        kind: meta.kind,
        expires,
        path: spool.to_path_buf(),
        meta: meta_path.to_path_buf(),
        state: Arc::new(AsyncMutex::new(st)),
        gate: Arc::new(RwLock::new(())),
        discarded: AtomicBool::new(false),
        fence: fence.clone(),
    })))
}

/// Records a session's acknowledged state (blocking).
pub(super) fn persist_now(env: &Env, session: &Session, st: &State) -> io::Result<()> {
    write_record(
        env.durable,
        &env.fence,
        session,
        &Meta::of(session, st),
        false,
    )
}

/// Records a session's acknowledged state after fsyncing its data (when durable), off
/// the async threads.
pub(super) async fn persist(env: &Env, session: &Arc<Session>, st: &State) -> io::Result<()> {
    let meta = Meta::of(session, st);
    let s = session.clone();
    let durable = env.durable;
    let fence = env.fence.clone();
    tokio::task::spawn_blocking(move || write_record(durable, &fence, &s, &meta, true))
        .await
        .map_err(|e| io::Error::other(e.to_string()))?
}
