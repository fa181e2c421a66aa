//! The command line: global options and one subcommand per task.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dropbox_api_runtime::Secret;

/// Exit codes, listed in `dbx --help`.
const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (see the message)
  2  usage error (bad arguments)
  3  authentication failed: check DROPBOX_TOKEN, the refresh-token variables or `dbx login`
  4  refused by Dropbox: a path conflict, a missing path, an expired or used link
  5  transient failure: network, rate limit or server error; try again (uploads: --resume)
  6  verification failed: a content hash did not match

Credentials, from the environment:
  DROPBOX_TOKEN                                   an access token
  DROPBOX_REFRESH_TOKEN + DROPBOX_APP_KEY [+ DROPBOX_APP_SECRET]   refreshed automatically
  DROPBOX_BASE_URL (or --base-url)                any Dropbox-compatible server, e.g. `dbx serve`
Else the refresh token `dbx login` saved (in DBX_CREDENTIALS or --credentials, default
$XDG_CONFIG_HOME/dbx/credentials.json or ~/.config/dbx/credentials.json).
With none of them, every command runs on an embedded emulator and says so first.";

/// `dbx`: the Dropbox API from the terminal.
#[derive(Debug, Parser)]
#[command(name = "dbx", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors (and the result with --json).
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// More logging on stderr (-v: debug, -vv: trace); RUST_LOG works too.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Server to talk to instead of Dropbox (an emulator, for example).
    #[arg(long, global = true, env = "DROPBOX_BASE_URL")]
    pub base_url: Option<String>,
    /// Access token (prefer the DROPBOX_TOKEN variable: command lines are visible to others).
    #[arg(long, global = true, env = "DROPBOX_TOKEN", hide_env_values = true, value_parser = parse_secret)]
    pub token: Option<Secret>,
    /// Idle timeout of every request: give up on a connection that moves no data for this
    /// long (`3s`, `500ms`, `2m`, `1h`). A timeout is transient (exit code 5).
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub timeout: std::time::Duration,
    /// Retries of transient failures after the first attempt (0: exactly one attempt).
    #[arg(long, global = true, value_name = "N")]
    pub retries: Option<u32>,
    /// The credentials file of `dbx login` (default: $XDG_CONFIG_HOME/dbx/credentials.json
    /// or ~/.config/dbx/credentials.json).
    #[arg(long, global = true, value_name = "FILE", env = "DBX_CREDENTIALS")]
    pub credentials: Option<PathBuf>,
}

impl Global {
    /// The retry policy the flags ask for (the library's default without `--retries`).
    pub fn retry_policy(&self) -> dropbox_api_runtime::RetryPolicy {
        let p = dropbox_api_runtime::RetryPolicy::default();
        match self.retries {
            Some(n) => p.retries(n),
            None => p,
        }
    }
}

/// Parses `500ms`, `3s`, `90s`, `2m`, `4h` or a plain number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (try 30s, 500ms, 2m)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{s}` (use ms, s, m or h)"
            ));
        }
    };
    if !seconds.is_finite() || seconds <= 0.0 || seconds > 86_400.0 * 7.0 {
        return Err(format!(
            "`{s}` is out of range (more than 0, at most a week)"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload a file, or a directory recursively as one batch.
    Upload(UploadArgs),
    /// Temporary upload links: issue one, or upload through one.
    #[command(subcommand)]
    Link(LinkCommand),
    /// Print the Dropbox content hash of a local file.
    Hash {
        /// The file.
        file: PathBuf,
    },
    /// List a folder.
    Ls {
        /// The folder ("" or "/" is the root).
        #[arg(default_value = "")]
        path: String,
        /// Include everything below the folder.
        #[arg(long, short)]
        recursive: bool,
    },
    /// Download a file (its content hash is checked).
    Get {
        /// The remote file.
        remote: String,
        /// Where to write it (default: its name, in the current directory; `-` for stdout).
        local: Option<PathBuf>,
    },
    /// Delete a file or folder.
    Rm {
        /// The remote path.
        path: String,
    },
    /// Create a folder.
    Mkdir {
        /// The remote path.
        path: String,
    },
    /// Run the Dropbox API emulator in the foreground.
    Serve(ServeArgs),
    /// A guided tour of the toolkit (on an embedded emulator unless credentials are set).
    Demo(DemoArgs),
    /// Sign in to Dropbox (OAuth 2 with PKCE) and save a refresh token for later runs.
    Login(LoginArgs),
    /// Revoke the saved token and delete the credentials file.
    Logout,
}

/// `dbx login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The app key of your Dropbox app (App Console); the app needs no secret (PKCE).
    #[arg(long, env = "DBX_APP_KEY")]
    pub app_key: Option<String>,
    /// A redirect URI registered for the app: the browser is sent there with the code
    /// (paste that address); without it Dropbox shows the code to copy.
    #[arg(long)]
    pub redirect_uri: Option<String>,
    /// A scope to ask for (repeatable; default: the app's scopes).
    #[arg(long, value_name = "SCOPE")]
    pub scope: Vec<String>,
}

/// What to do when the remote path exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Keep the existing file (a conflict, or a new name with --autorename).
    Add,
    /// Replace the existing file.
    Overwrite,
}

/// How the chunks of one file are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Session {
    /// One chunk after another.
    Sequential,
    /// Chunks in parallel at their offsets.
    Concurrent,
}

/// `dbx upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The local file or directory.
    pub local: PathBuf,
    /// The remote path (a trailing `/` puts the file inside that folder).
    pub remote: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Chunk size: a multiple of 4 MiB up to 148 MiB (`16MiB`, `8M`, or bytes).
    #[arg(long, default_value = "16MiB", value_parser = parse_size)]
    pub chunk_size: u64,
    /// What to do when the remote path exists.
    #[arg(long, value_enum, default_value_t = Mode::Add)]
    pub mode: Mode,
    /// On a conflict, let Dropbox pick a new name.
    #[arg(long)]
    pub autorename: bool,
    /// How the chunks of a large file are sent.
    #[arg(long, value_enum, default_value_t = Session::Concurrent)]
    pub session: Session,
    /// Continue an interrupted upload of this file from its saved state.
    #[arg(long)]
    pub resume: bool,
    /// Where upload states are kept (default: $XDG_STATE_HOME/dbx or ~/.local/state/dbx).
    #[arg(long, env = "DBX_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
}

/// `dbx link ...`.
#[derive(Debug, Subcommand)]
pub enum LinkCommand {
    /// Issue a temporary upload link for a remote path and print it.
    Create {
        /// Where the uploaded file will be stored.
        remote: String,
        /// How long the link is valid: seconds, or with a unit (`90s`, `30m`, `4h`); 60 s to 4 h.
        #[arg(long, default_value = "4h", value_parser = parse_duration)]
        duration: std::time::Duration,
        /// What to do when the path exists at upload time.
        #[arg(long, value_enum, default_value_t = Mode::Add)]
        mode: Mode,
        /// On a conflict, let Dropbox pick a new name.
        #[arg(long)]
        autorename: bool,
    },
    /// Upload a file through a link (needs no token) and check its content hash.
    Put {
        /// The link (a secret: anyone holding it can upload once).
        #[arg(value_parser = parse_secret)]
        url: Secret,
        /// The local file.
        file: PathBuf,
    },
}

/// `dbx serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Where files are kept (across restarts); a temporary directory if omitted.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Print the routes the emulator serves (one URL path a line; JSON with --json) and
    /// exit without serving.
    #[arg(long)]
    pub routes: bool,
}

/// `dbx demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Size of the large file, in MiB.
    #[arg(long, default_value_t = 256)]
    pub size: u64,
    /// Number of small files in the batch.
    #[arg(long, default_value_t = 300)]
    pub files: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// Keeps a secret argument redacted in `Debug`.
fn parse_secret(s: &str) -> Result<Secret, String> {
    if s.trim().is_empty() {
        return Err("empty".into());
    }
    Ok(Secret::new(s.trim()))
}

/// Parses `16MiB`, `16M`, `4096K`, `1G` or a number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (try 16MiB)"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" | "kb" => 1 << 10,
        "m" | "mib" | "mb" => 1 << 20,
        "g" | "gib" | "gb" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}` (use K, M or G)")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3T").is_err());
        assert!(parse_size("99999999999999999999G").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("90s"),
            Ok(std::time::Duration::from_secs(90))
        );
        assert_eq!(
            parse_duration("30m"),
            Ok(std::time::Duration::from_secs(1800))
        );
        assert_eq!(
            parse_duration("4h"),
            Ok(std::time::Duration::from_secs(14400))
        );
        assert_eq!(parse_duration("60"), Ok(std::time::Duration::from_secs(60)));
        assert!(parse_duration("1d").is_err());
        assert_eq!(
            parse_duration("500ms"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_duration("3s"), Ok(std::time::Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
