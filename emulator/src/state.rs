//! State shared by all request handlers.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::EmulatorClock;
use crate::config::Limits;
use crate::faults::Faults;
use crate::handoffs::{Job, Link};
use crate::oauth::OAuth;
use crate::sessions::Sessions;
use crate::stats::Stats;
use crate::store::Store;

/// Everything the handlers share. Its `Debug` leaves out link ids (they are secrets).
pub(crate) struct Shared {
    pub(crate) store: Arc<Store>,
    pub(crate) sessions: Arc<Sessions>,
    pub(crate) oauth: Arc<OAuth>,
    pub(crate) faults: Arc<Faults>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) clock: EmulatorClock,
    pub(crate) limits: Limits,
    pub(crate) base_url: String,
    pub(crate) links: Mutex<HashMap<String, Link>>,
    pub(crate) jobs: Mutex<HashMap<String, Job>>,
    /// Records of unused links.
    pub(crate) link_records: crate::persist::Links,
    /// Records of finish_batch jobs.
    pub(crate) job_records: crate::persist::Jobs,
    /// Raised by a crash: this instance's leftover tasks write nothing more.
    pub(crate) fence: crate::persist::Fence,
    /// Held while a finish_batch (v1 job or v2 call) of the account runs.
    pub(crate) batch_lock: Arc<tokio::sync::Mutex<()>>,
    /// Folders with a `finish` committing into them (when contention is on).
    pub(crate) busy_folders: Mutex<HashSet<String>>,
    pub(crate) contend_finish_in_folder: bool,
    pub(crate) commit_latency: Duration,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("base_url", &self.base_url)
            .field("limits", &self.limits)
            .field("links", &Shared::lock(&self.links).len())
            .field("jobs", &Shared::lock(&self.jobs).len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Locks a std mutex, recovering from poisoning.
    pub(crate) fn lock<'a, T>(m: &'a Mutex<T>) -> std::sync::MutexGuard<'a, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Marks a folder busy for the life of the guard.
pub(crate) struct FolderGuard {
    shared: Arc<Shared>,
    key: String,
}

impl FolderGuard {
    /// Claims `key`, or returns None when another finish holds it.
    pub(crate) fn claim(shared: &Arc<Shared>, key: String) -> Option<FolderGuard> {
        let mut busy = Shared::lock(&shared.busy_folders);
        if !busy.insert(key.clone()) {
            return None;
        }
        Some(FolderGuard {
            shared: shared.clone(),
            key,
        })
    }
}

impl Drop for FolderGuard {
    fn drop(&mut self) {
        Shared::lock(&self.shared.busy_folders).remove(&self.key);
    }
}
