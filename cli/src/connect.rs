//! Which server and which credentials: Dropbox with a token or a refresh token (from the
//! environment, else the one `dbx login` saved), any server given by `--base-url`, or (with
//! nothing set) an emulator embedded in this process.

use std::path::PathBuf;

use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use dropbox_api::UserClient;
use dropbox_api_runtime::{ClientBuilder, Secret};

use crate::args::Global;
use crate::failure::{CmdResult, Failure, Kind};
use crate::output::Output;

/// A client, and the embedded emulator it talks to when there is one.
pub struct Connection {
    /// The client.
    pub client: UserClient,
    /// The embedded emulator (kept alive as long as the connection).
    pub emulator: Option<EmulatorHandle>,
}

impl Connection {
    /// Stops the embedded emulator, if any.
    pub async fn close(self) {
        if let Some(e) = self.emulator {
            e.shutdown().await;
        }
    }
}

/// Where the embedded emulator keeps its files between runs.
pub fn embedded_data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("DBX_EMULATOR_DATA_DIR") {
        return Some(PathBuf::from(d));
    }
    let base = match std::env::var_os("XDG_DATA_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".local/share"),
    };
    Some(base.join("dbx/emulator"))
}

fn env_secret(name: &str) -> Option<Secret> {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .map(|v| Secret::new(v.trim()))
}

/// Connects as the environment and flags say.
pub async fn connect(global: &Global, out: &Output) -> CmdResult<Connection> {
    let refresh = env_secret("DROPBOX_REFRESH_TOKEN");
    let mut builder = configured(ClientBuilder::new(), global);
    if let Some(url) = &global.base_url {
        builder = builder.base_url(url.trim_end_matches('/'));
    }
    if let Some(token) = &global.token {
        builder = builder.access_token(token.clone());
    } else if let Some(refresh) = refresh {
        let Ok(app_key) = std::env::var("DROPBOX_APP_KEY") else {
            return Err(Failure::new(
                Kind::Usage,
                "DROPBOX_REFRESH_TOKEN is set but DROPBOX_APP_KEY is not",
            )
            .hint("set DROPBOX_APP_KEY (and DROPBOX_APP_SECRET unless the app uses PKCE)"));
        };
        builder = builder.refresh_token(refresh, app_key, env_secret("DROPBOX_APP_SECRET"));
    } else if let Some(saved) = saved_credentials(global)? {
        // `dbx login` apps use PKCE: no secret.
        builder = builder.refresh_token(saved.refresh_token, saved.app_key, None);
    } else if global.base_url.is_some() {
        return Err(
            Failure::new(Kind::Usage, "a base URL is set but no credentials").hint(
                "set DROPBOX_TOKEN (`dbx serve` prints a token for its emulator), or sign in with `dbx login`",
            ),
        );
    } else {
        return embedded(global, out).await;
    }
    let client = builder
        .build_user()
        .map_err(|e| Failure::new(Kind::Usage, e.to_string()))?;
    Ok(Connection {
        client,
        emulator: None,
    })
}

/// The credentials `dbx login` saved, if any.
fn saved_credentials(global: &Global) -> CmdResult<Option<crate::credentials::Saved>> {
    match crate::credentials::path(global) {
        Some(path) => crate::credentials::load(&path),
        None => Ok(None),
    }
}

/// Starts the embedded emulator and says so.
async fn embedded(global: &Global, out: &Output) -> CmdResult<Connection> {
    let data_dir = embedded_data_dir();
    if let Some(d) = &data_dir {
        std::fs::create_dir_all(d)
            .map_err(|e| Failure::new(Kind::Failure, format!("creating {}: {e}", d.display())))?;
    }
    let where_ = data_dir.as_ref().map_or_else(
        || "a temporary directory".to_owned(),
        |d| d.display().to_string(),
    );
    out.note(format!(
        "dbx: no DROPBOX_TOKEN set: using the embedded emulator (files in {where_})"
    ));
    start_emulator(
        EmulatorConfig {
            data_dir,
            ..EmulatorConfig::default()
        },
        global,
    )
    .await
}

/// The timeouts and retries of the global flags, on a builder.
pub fn configured(builder: ClientBuilder, global: &Global) -> ClientBuilder {
    builder
        .idle_timeout(global.timeout)
        .connect_timeout(global.timeout.min(std::time::Duration::from_secs(10)))
        .retry_policy(global.retry_policy())
}

/// Starts an emulator in this process and connects to it.
pub async fn start_emulator(config: EmulatorConfig, global: &Global) -> CmdResult<Connection> {
    let emu = Emulator::start(config).await.map_err(|e| {
        Failure::new(
            Kind::Failure,
            format!("starting the embedded emulator: {e}"),
        )
    })?;
    let client = configured(ClientBuilder::new(), global)
        .access_token(emu.access_token().to_owned())
        .base_url(emu.base_url())
        .build_user()
        .map_err(|e| Failure::new(Kind::Failure, e.to_string()))?;
    Ok(Connection {
        client,
        emulator: Some(emu),
    })
}
