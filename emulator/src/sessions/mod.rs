//! Upload sessions (v2 sequential and concurrent, and legacy v1 chunked uploads).
//!
//! Each session spools its data to one file under `sessions/` as it arrives. A sequential
//! session keeps a running content hash (rolled back with the data when a request fails);
//! a concurrent session records the digest of every 4 MiB block it receives, in any order,
//! and combines them at finish.
//!
//! # Durability
//!
//! Sessions survive restarts and crashes. Next to its spool file `<32 hex>.spool`, every
//! session has a metadata record `<32 hex>.json` (written atomically, see
//! the `persist` module) holding what the session has *acknowledged*:
//!
//! ```json
//! {"format":1,"id":"pid_upload_session:...","kind":"sequential","expires":1700000000000,
//!  "len":5242880,"closed":false,"blocks":["<64 hex>"],"received":{},"total":null}
//! ```
//!
//! - `kind`: `sequential`, `concurrent` or `v1`; `expires`: Unix milliseconds.
//! - sequential and v1: `len` bytes received; `blocks`, the SHA-256 of each complete
//!   4 MiB block (`len / 4 MiB` of them). At recovery the spool is truncated to `len`
//!   (bytes of an interrupted request are dropped) and the partial last block (< 4 MiB)
//!   is hashed again from the spool, which restores the running content hash.
//! - concurrent: `received`, block index to SHA-256 of that block; `total`, the size fixed
//!   by the closing append.
//!
//! The record is rewritten once per acknowledged request, after the data (fsynced unless
//! `--no-fsync`), so it never claims data that is not in the spool. A record that cannot
//! be read drops only its session (logged at warn). The spool and record of a finished,
//! removed or expired session are deleted.
//!
//! The modules: [`session`] (one session, its failures, the settings), [`record`] (its
//! on-disk record and recovery), [`append`] and [`finish`] (the operations);
//! [`Sessions`] holds them all.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{Mutex as AsyncMutex, RwLock};

use crate::clock::{self, EmulatorClock};
use crate::config::Limits;
use crate::hash::BlockHasher;
use crate::persist::{self, Fence};

mod append;
mod finish;
mod record;
mod session;

#[cfg(test)]
mod tests;

pub(crate) use finish::Prepared;
pub(crate) use session::{Kind, Session, SessionFailure, SessionResult, Upload};

use session::{Env, State};

/// All upload sessions.
#[derive(Debug)]
pub(crate) struct Sessions {
    dir: PathBuf,
    map: Mutex<HashMap<String, Arc<Session>>>,
    clock: EmulatorClock,
    env: Env,
}

impl Sessions {
    /// Opens the session directory and recovers the sessions recorded in it (dropping
    /// damaged or expired ones, orphan spool files and leftovers of interrupted writes).
    pub(crate) fn open(
        dir: &Path,
        limits: Limits,
        clock: EmulatorClock,
        durable: bool,
        fence: Fence,
    ) -> io::Result<Sessions> {
        fs::create_dir_all(dir)?;
        let sessions = Sessions {
            dir: dir.to_path_buf(),
            map: Mutex::new(HashMap::new()),
            clock,
            env: Env {
                limits,
                durable,
                fence,
            },
        };
        let mut records = Vec::new();
        let mut spools = Vec::new();
        for e in fs::read_dir(dir)? {
            let e = e?;
            if !e.file_type()?.is_file() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            match name.split_once('.') {
                Some((stem, "json")) if persist::is_hex_name(stem) => {
                    records.push(stem.to_string())
                }
                Some((stem, "spool")) if persist::is_hex_name(stem) => {
                    spools.push(stem.to_string())
                }
                _ => fs::remove_file(e.path())?,
            }
        }
        let now = sessions.clock.now();
        let mut kept = std::collections::HashSet::new();
        for stem in records {
            let meta = dir.join(format!("{stem}.json"));
            let spool = dir.join(format!("{stem}.spool"));
            match record::recover(&sessions.env.fence, &meta, &spool, now) {
                Ok(Some(session)) => {
                    let mut map = sessions.lock_map();
                    if map.contains_key(&session.id) {
                        tracing::warn!("two upload session records with one id; dropping one");
                        drop(map);
                        session.discarded.store(true, Ordering::SeqCst);
                        continue;
                    }
                    map.insert(session.id.clone(), session);
                    kept.insert(stem);
                }
                Ok(None) => {
                    persist::remove(&meta)?;
                    persist::remove(&spool)?;
                }
                Err(reason) => {
                    tracing::warn!(record = %stem, %reason, "dropping an upload session whose record is damaged");
                    persist::remove(&meta)?;
                    persist::remove(&spool)?;
                }
            }
        }
        for stem in spools {
            if !kept.contains(&stem) {
                persist::remove(&dir.join(format!("{stem}.spool")))?;
            }
        }
        Ok(sessions)
    }

    fn lock_map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of live sessions (expired ones included until swept).
    pub(crate) fn len(&self) -> usize {
        self.lock_map().len()
    }

    /// Removes expired sessions.
    pub(crate) fn sweep(&self) {
        let now = self.clock.now();
        let expired: Vec<Arc<Session>> = {
            let mut map = self.lock_map();
            let ids: Vec<String> = map
                .iter()
                .filter(|(_, s)| s.expires <= now)
                .map(|(k, _)| k.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        for s in &expired {
            s.discarded.store(true, Ordering::SeqCst);
        }
        drop(expired);
    }

    /// Creates an empty session (and its record; the spool file is created by the first
    /// operation that needs it).
    pub(crate) fn create(&self, kind: Kind) -> io::Result<Arc<Session>> {
        self.sweep();
        let path = self.spool_path();
        self.insert(kind, path, State::default())
    }

    fn spool_path(&self) -> PathBuf {
        self.dir.join(format!("{}.spool", crate::ids::hex_id()))
    }

    fn insert(&self, kind: Kind, path: PathBuf, state: State) -> io::Result<Arc<Session>> {
        let id = match kind {
            Kind::V1 => crate::ids::v1_upload_id(),
            _ => crate::ids::session_id(),
        };
        let ttl = match kind {
            Kind::V1 => self.env.limits.v1_upload_ttl,
            _ => self.env.limits.session_ttl,
        };
        let meta = path.with_extension("json");
        let session = Arc::new(Session {
            id: id.clone(),
            kind,
            expires: clock::add(self.clock.now(), ttl),
            path,
            meta,
            state: Arc::new(AsyncMutex::new(State::default())),
            gate: Arc::new(RwLock::new(())),
            discarded: AtomicBool::new(false),
            fence: self.env.fence.clone(),
        });
        if let Err(e) = record::persist_now(&self.env, &session, &state) {
            session.discarded.store(true, Ordering::SeqCst);
            return Err(e);
        }
        if let Ok(mut st) = session.state.try_lock() {
            *st = state;
        }
        self.lock_map().insert(id, session.clone());
        Ok(session)
    }

    /// Creates a closed sequential session from a complete file (the data of a failed
    /// `files/upload`, kept so the commit can be retried with `upload_session/finish`).
    pub(crate) fn adopt(
        &self,
        file_path: &Path,
        len: u64,
        hasher: BlockHasher,
    ) -> io::Result<String> {
        self.sweep();
        let path = self.spool_path();
        fs::rename(file_path, &path)?;
        let state = State {
            len,
            closed: true,
            hasher,
            ..State::default()
        };
        Ok(self.insert(Kind::Sequential, path, state)?.id.clone())
    }

    /// Finds a live session of the right family (v1 ids are not valid for v2 and back).
    pub(crate) fn get(&self, id: &str, v1: bool) -> Result<Arc<Session>, SessionFailure> {
        let now = self.clock.now();
        let mut map = self.lock_map();
        let Some(s) = map.get(id).cloned() else {
            return Err(SessionFailure::NotFound);
        };
        if s.expires <= now {
            map.remove(id);
            s.discarded.store(true, Ordering::SeqCst);
            return Err(SessionFailure::NotFound);
        }
        if (s.kind == Kind::V1) != v1 {
            return Err(SessionFailure::NotFound);
        }
        Ok(s)
    }

    /// Removes a session (after a failed start).
    pub(crate) fn remove(&self, id: &str) {
        let s = self.lock_map().remove(id);
        if let Some(s) = &s {
            s.discarded.store(true, Ordering::SeqCst);
        }
        drop(s);
    }

    /// The number of bytes a sequential or v1 session holds.
    pub(crate) async fn offset(&self, session: &Session) -> u64 {
        session.state.lock().await.len
    }

    /// Appends data (`append`, `append_v2`, data of `start`, v1 chunks).
    pub(crate) async fn append<S, E>(
        &self,
        session: &Arc<Session>,
        offset: u64,
        close: bool,
        upload: Upload<S>,
    ) -> SessionResult<u64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        append::append(&self.env, session, offset, close, upload).await
    }

    /// Locks a session for committing: appends the finish call's own data (sequential),
    /// checks the cursor and the session state, and readies its content.
    pub(crate) async fn prepare_finish<S, E>(
        &self,
        session: &Arc<Session>,
        offset: u64,
        upload: Option<Upload<S>>,
        batch: bool,
    ) -> SessionResult<Prepared>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        finish::prepare(&self.env, session, offset, upload, batch).await
    }

    /// Marks a prepared session as finished (its content was committed or was identical
    /// to the existing file) and forgets it.
    pub(crate) fn complete(&self, mut prepared: Prepared) {
        prepared.state.done = true;
        // Forget the record before answering, so a restart cannot bring the session back.
        if !self.env.fence.is_raised()
            && let Err(e) = persist::remove(&prepared.session.meta)
        {
            tracing::warn!(error = %e, "cannot delete a finished session's record");
        }
        let id = prepared.session.id.clone();
        drop(prepared);
        self.remove(&id);
    }
}
