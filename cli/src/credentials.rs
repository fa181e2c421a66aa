//! The credentials file `dbx login` writes and `dbx logout` deletes: the app key and the
//! refresh token, as JSON, readable by its owner only.
//!
//! Where: `--credentials FILE` or `DBX_CREDENTIALS`, else `$XDG_CONFIG_HOME/dbx/credentials.json`,
//! else `~/.config/dbx/credentials.json`. On unix the file is created with mode `0600` (and
//! its folder, when created, `0700`); it is written to a temporary file beside it, made with
//! that mode, then renamed over the old one, so no reader sees half a file.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use dropbox_api_runtime::Secret;

use crate::args::Global;
use crate::failure::{Failure, Kind};

/// What `dbx login` saved.
pub struct Saved {
    /// The app key (`client_id`) the token was issued to.
    pub app_key: String,
    /// The refresh token.
    pub refresh_token: Secret,
    /// The account, as the token endpoint named it.
    pub account_id: Option<String>,
}

impl fmt::Debug for Saved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saved")
            .field("app_key", &self.app_key)
            .field("refresh_token", &self.refresh_token)
            .field("account_id", &self.account_id)
            .finish()
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    app_key: String,
    refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    account_id: Option<String>,
}

/// The default location, from `XDG_CONFIG_HOME` or `HOME`.
pub fn default_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".config"),
    };
    Some(base.join("dbx").join("credentials.json"))
}

/// The file the flags and environment name.
pub fn path(global: &Global) -> Option<PathBuf> {
    global.credentials.clone().or_else(default_path)
}

/// Reads the file: `None` when there is none. Errors name the file, never its content.
pub fn load(path: &Path) -> Result<Option<Saved>, Failure> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure::new(
                Kind::Failure,
                format!("reading the credentials in {}: {e}", path.display()),
            ));
        }
    };
    // serde's messages can quote values: only the position is shown.
    let d: OnDisk = serde_json::from_slice(&bytes).map_err(|e| {
        Failure::new(
            Kind::Failure,
            format!(
                "{} is not a dbx credentials file (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ),
        )
        .hint("sign in again with `dbx login`, or delete the file")
    })?;
    if d.app_key.is_empty() || d.refresh_token.is_empty() {
        return Err(Failure::new(
            Kind::Failure,
            format!("{} has no app key or refresh token", path.display()),
        )
        .hint("sign in again with `dbx login`"));
    }
    Ok(Some(Saved {
        app_key: d.app_key,
        refresh_token: Secret::new(d.refresh_token),
        account_id: d.account_id,
    }))
}

/// Writes the file, readable by its owner only (see the module doc).
pub fn save(path: &Path, saved: &Saved) -> Result<(), Failure> {
    let fail = |what: &str, e: std::io::Error| {
        Failure::new(Kind::Failure, format!("{what} {}: {e}", path.display()))
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(|e| fail("creating the folder of", e))?;
    let json = serde_json::to_vec_pretty(&OnDisk {
        app_key: saved.app_key.clone(),
        refresh_token: saved.refresh_token.expose().to_owned(),
        account_id: saved.account_id.clone(),
    })
    .map_err(|e| Failure::new(Kind::Failure, format!("encoding the credentials: {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "credentials.json".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut f = create_private_file(&tmp)?;
        f.write_all(&json)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail("writing", e));
    }
    Ok(())
}

/// Deletes the file: whether there was one.
pub fn remove(path: &Path) -> Result<bool, Failure> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Failure::new(
            Kind::Failure,
            format!("deleting {}: {e}", path.display()),
        )),
    }
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_no_secret_in_debug_or_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/credentials.json");
        assert!(load(&path).unwrap().is_none());
        let saved = Saved {
            app_key: "key".into(),
            refresh_token: Secret::new("REFRESH-SECRET-1"),
            account_id: Some("dbid:x".into()),
        };
        assert!(!format!("{saved:?}").contains("REFRESH-SECRET-1"));
        save(&path, &saved).unwrap();
        let back = load(&path).unwrap().unwrap();
        assert_eq!(back.app_key, "key");
        assert_eq!(back.refresh_token.expose(), "REFRESH-SECRET-1");
        assert_eq!(back.account_id.as_deref(), Some("dbid:x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
        // A second save replaces the file; no temporary file is left.
        save(&path, &saved).unwrap();
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["credentials.json"]);
        // A file of the wrong shape: the error names the file, not the values in it.
        std::fs::write(&path, br#"{"app_key": "k", "refresh_token": 12345678}"#).unwrap();
        let e = load(&path).unwrap_err();
        assert!(
            e.message.contains("not a dbx credentials file"),
            "{}",
            e.message
        );
        assert!(!e.message.contains("12345678"), "{}", e.message);
        assert!(remove(&path).unwrap());
        assert!(!remove(&path).unwrap());
    }
}
