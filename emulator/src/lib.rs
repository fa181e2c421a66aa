//! A local Dropbox API emulator: what LocalStack and MinIO are for S3, for the Dropbox
//! routes our tools use.
//!
//! One HTTP port on 127.0.0.1 serves the api, content and notify paths
//! (`POST /2/{namespace}/{route}`), temporary upload links (`/apitul/1/...`), the legacy v1
//! chunked upload, `/oauth2/token`, and control endpoints under `/__emulator/`. Requests
//! and responses use the generated `dropbox-api` types, with Dropbox's limits and errors:
//! offsets, closed sessions, concurrent sessions, conflicts, expiry, payload limits, rate
//! limits. Fault injection makes connections drop and calls fail on demand.
//!
//! # Testing your app against the emulator
//!
//! As a dev-dependency (`dbx-emulator = { version = "...", default-features = false }`:
//! the library without the command-line tool's dependencies), three lines start an
//! emulator on a free port and give a `dropbox_api` client bound to it:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use dropbox_api::files::{self, DownloadArg, ListFolderArg};
//!
//! let emu = dbx_emulator::Emulator::for_tests().await?;
//! let client = emu.user_client()?;
//! emu.put_file("/docs/a.txt", b"hello".to_vec()).await?; // pre-populate
//!
//! let listing = files::list_folder(&client, &ListFolderArg::new("/docs")).await?;
//! assert_eq!(listing.entries.len(), 1);
//! let download = files::download(&client, &DownloadArg::new("/docs/a.txt"), None).await?;
//! assert_eq!(&download.bytes().await?[..], b"hello");
//! assert_eq!(emu.stats().calls("files/list_folder"), 1); // counters
//! # Ok(()) }
//! ```
//!
//! [`EmulatorHandle::faults`] injects faults (see [`FaultRule`]), [`EmulatorHandle::stats`]
//! reads per-route counters, [`emulated_routes`] lists what is served. A v2 route that
//! the generated crate describes but the emulator does not serve answers HTTP 400 with
//! `Error in call to API function "ns/route": the emulator does not implement this
//! route` (permanent: the runtime does not retry it); an unknown path answers 404.
//!
//! To configure more (a port, a data directory kept across restarts, limits, a manual
//! clock, OAuth apps), pass an [`EmulatorConfig`] to [`Emulator::start`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use dbx_emulator::{Emulator, EmulatorConfig};
//! let emu = Emulator::start(EmulatorConfig::default().with_port(8080)).await?;
//! println!("{} {}", emu.base_url(), emu.access_token());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
mod api;
pub mod clock;
pub mod config;
pub mod faults;
mod fence;
mod handoffs;
mod hash;
mod ids;
mod ingest;
pub mod oauth;
mod paths;
mod persist;
mod seed;
mod server;
mod sessions;
mod state;
pub mod stats;
mod store;

use std::collections::HashMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api::routes::{emulated_routes, is_emulated};
pub use clock::{Clock, EmulatorClock, ManualClock, SystemClock};
pub use config::{EmulatorConfig, Limits, OAuthApp};
pub use faults::{FaultAction, FaultRule, FaultRuleStatus, Faults, RateLimitKind};
pub use oauth::{OAuth, OAuthError, PkceMethod};
pub use seed::SeedError;
pub use stats::{RouteStats, Stats};

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding the port failed.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// The data directory could not be created or read.
    #[error("data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Starts emulators.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// Starts an emulator for a test: a free port, a temporary data directory (removed
    /// when the handle is dropped), a random development token, no fsync (a test does not
    /// survive a power cut anyway). The same as [`Emulator::start`] with
    /// `EmulatorConfig { durable: false, ..EmulatorConfig::default() }`.
    pub async fn for_tests() -> Result<EmulatorHandle, EmulatorError> {
        Emulator::start(EmulatorConfig {
            durable: false,
            ..EmulatorConfig::default()
        })
        .await
    }

    /// Starts an emulator on 127.0.0.1 in the current tokio runtime.
    pub async fn start(config: EmulatorConfig) -> Result<EmulatorHandle, EmulatorError> {
        let (tempdir, data_dir) = match &config.data_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new()
                    .prefix("dbx-emulator-")
                    .tempdir()
                    .map_err(|source| EmulatorError::DataDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                let p = t.path().to_path_buf();
                (Some(t), p)
            }
        };
        let data_err = |source| EmulatorError::DataDir {
            path: data_dir.clone(),
            source,
        };
        std::fs::create_dir_all(&data_dir).map_err(data_err)?;
        let data_dir = data_dir.canonicalize().map_err(data_err)?;
        let fence = persist::Fence::default();
        let store = store::Store::open(&data_dir, config.durable)
            .map_err(data_err)?
            .with_fence(fence.clone());
        let clock = EmulatorClock::new(config.clock.clone());
        let sessions = sessions::Sessions::open(
            &data_dir.join("sessions"),
            config.limits,
            clock.clone(),
            config.durable,
            fence.clone(),
        )
        .map_err(data_err)?;
        let (job_records, recovered_jobs) =
            persist::Jobs::open(&data_dir.join("jobs"), config.durable, fence.clone())
                .map_err(data_err)?;
        let (link_records, recovered_links) =
            persist::Links::open(&data_dir.join("links"), config.durable, fence.clone())
                .map_err(data_err)?;
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, config.port)))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: config.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: config.port,
                source,
            })?;
        let base_url = format!("http://{addr}");
        let token = match (&config.access_token, &tempdir) {
            (Some(t), _) => t.clone(),
            (None, Some(_)) => ids::access_token(),
            // A generated token is kept in the data directory, so clients holding it keep
            // working after a restart.
            (None, None) => dev_token(&data_dir, config.durable).map_err(data_err)?,
        };
        let oauth = oauth::OAuth::new(
            clock.clone(),
            config.access_token_lifetime,
            config.apps.clone(),
            &token,
        );
        let mut jobs = HashMap::new();
        let mut resume = Vec::new();
        for (id, job) in recovered_jobs {
            match job {
                persist::RecoveredJob::Done(r) => {
                    jobs.insert(id, handoffs::Job::Done(r));
                }
                persist::RecoveredJob::Running(entries) => {
                    jobs.insert(id.clone(), handoffs::Job::Running);
                    resume.push((id, entries));
                }
            }
        }
        let shared = Arc::new(state::Shared {
            store: Arc::new(store),
            sessions: Arc::new(sessions),
            oauth: Arc::new(oauth),
            faults: Arc::new(Faults::new(config.fault_seed, config.faults.clone())),
            stats: Arc::new(Stats::default()),
            clock: clock.clone(),
            limits: config.limits,
            base_url: base_url.clone(),
            links: Mutex::new(recovered_links.into_iter().collect()),
            jobs: Mutex::new(jobs),
            link_records,
            job_records,
            fence,
            batch_lock: Arc::new(tokio::sync::Mutex::new(())),
            busy_folders: Mutex::new(Default::default()),
            contend_finish_in_folder: config.contend_finish_in_folder,
            commit_latency: config.commit_latency,
        });
        for (id, entries) in resume {
            api::resume_job(shared.clone(), id, entries);
        }
        let router = api::router(shared.clone());
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, router, shared.clone(), rx));
        tracing::info!(%base_url, data_dir = %data_dir.display(), "dbx-emulator listening");
        Ok(EmulatorHandle {
            addr,
            base_url,
            token,
            data_dir,
            shared,
            shutdown: tx,
            task: Some(task),
            _tempdir: tempdir,
        })
    }
}

/// Reads the development token kept in the data directory, or makes and keeps one.
fn dev_token(data_dir: &Path, durable: bool) -> std::io::Result<String> {
    let path = data_dir.join("dev_token");
    match std::fs::read_to_string(&path) {
        Ok(t) if !t.trim().is_empty() => return Ok(t.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let token = ids::access_token();
    let tmp = data_dir.join("dev_token.tmp");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(token.as_bytes())?;
        if durable {
            f.sync_all()?;
        }
    }
    std::fs::rename(&tmp, &path)?;
    if durable {
        persist::sync_dir(data_dir)?;
    }
    Ok(token)
}

/// A running emulator. Dropping it stops the server (and removes its temporary data
/// directory, if it made one).
pub struct EmulatorHandle {
    addr: SocketAddr,
    base_url: String,
    token: String,
    data_dir: PathBuf,
    shared: Arc<state::Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
    _tempdir: Option<tempfile::TempDir>,
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("base_url", &self.base_url)
            .field("data_dir", &self.data_dir)
            .field("access_token", &"<redacted>")
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT` (use it as the api, content and notify base).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The development access token (never expires).
    pub fn access_token(&self) -> &str {
        &self.token
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// A `dropbox_api` client builder bound to this emulator (its base URL and the
    /// development token), to adjust timeouts or the retry policy before building.
    pub fn client_builder(&self) -> dropbox_api::ClientBuilder {
        dropbox_api::ClientBuilder::new()
            .access_token(self.token.clone())
            .base_url(&self.base_url)
    }

    /// A ready `dropbox_api` user client bound to this emulator.
    pub fn user_client(&self) -> Result<dropbox_api::UserClient, dropbox_api::BuildError> {
        self.client_builder().build_user()
    }

    /// Pre-populates a file: stores `bytes` at `path` as an upload in `overwrite` mode
    /// would (missing parent folders created, an existing file replaced), without HTTP
    /// (no stats, no faults). Returns the file's metadata as `files/get_metadata` gives
    /// it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let emu = dbx_emulator::Emulator::for_tests().await?;
    /// let meta = emu.put_file("/Photos/a.jpg", vec![0u8; 10]).await?;
    /// assert_eq!(meta.path_display.as_deref(), Some("/Photos/a.jpg"));
    /// assert_eq!(meta.size, 10);
    /// # Ok(()) }
    /// ```
    pub async fn put_file(
        &self,
        path: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
    ) -> Result<dropbox_api::files::FileMetadata, SeedError> {
        seed::put_file(self.shared.clone(), path.into(), bytes.into()).await
    }

    /// Pre-populates a folder (and missing parents); an existing folder is fine. Without
    /// HTTP, like [`put_file`](Self::put_file).
    pub async fn create_folder(
        &self,
        path: impl Into<String>,
    ) -> Result<dropbox_api::files::FolderMetadata, SeedError> {
        seed::create_folder(self.shared.clone(), path.into()).await
    }

    /// The fault injector: rules added here apply to the next requests.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use dbx_emulator::{FaultAction, FaultRule};
    /// let emu = dbx_emulator::Emulator::for_tests().await?;
    /// // The next call to files/get_metadata answers 500 (the runtime retries it).
    /// emu.faults()
    ///     .add(FaultRule::new("files/get_metadata", FaultAction::InternalError).times(1));
    /// # Ok(()) }
    /// ```
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Per-route counters (calls, statuses, bytes in and out), keyed by route name
    /// (`files/upload_session/append_v2`, `apitul/1`, `1/chunked_upload`, ...).
    pub fn stats(&self) -> &Stats {
        &self.shared.stats
    }

    /// Tokens, apps and authorization codes (test helpers for OAuth flows).
    pub fn oauth(&self) -> &OAuth {
        &self.shared.oauth
    }

    /// The emulator's clock.
    pub fn clock(&self) -> &EmulatorClock {
        &self.shared.clock
    }

    /// Moves the emulator's time forward (sessions, links and tokens expire accordingly).
    pub fn advance_clock(&self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// The number of live upload sessions (v2 and v1).
    pub fn upload_sessions(&self) -> usize {
        self.shared.sessions.len()
    }

    /// Stops the server and waits for it. Everything acknowledged is already on disk
    /// (fsynced unless `durable` is off), so a clean shutdown has nothing left to flush.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Simulates a crash (as close to SIGKILL as an in-process server gets): stops serving
    /// at once, aborting every connection and request in flight, and from this moment the
    /// old instance writes nothing more to the data directory (requests still running in
    /// the background neither record, roll back nor delete anything). No clean-shutdown
    /// step runs. Start an emulator on the same `data_dir` (and port) to recover.
    pub async fn crash(mut self) {
        self.shared.fence.raise();
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
