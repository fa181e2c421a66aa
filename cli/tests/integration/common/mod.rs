//! Runs the `dbx` binary against an emulator started in the test process.
#![allow(dead_code)]

use std::path::Path;
use std::process::Output;

use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// An emulator on loopback (no fsync).
pub async fn emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        durable: false,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// A `dbx` command isolated from the user's environment: its own HOME and state, no
/// Dropbox variables.
pub fn dbx(home: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_dbx"));
    for var in [
        "DROPBOX_TOKEN",
        "DROPBOX_REFRESH_TOKEN",
        "DROPBOX_APP_KEY",
        "DROPBOX_APP_SECRET",
        "DROPBOX_BASE_URL",
        "DBX_STATE_DIR",
        "DBX_EMULATOR_DATA_DIR",
        "XDG_DATA_HOME",
        "XDG_STATE_HOME",
        "XDG_CONFIG_HOME",
        "DBX_CREDENTIALS",
        "DBX_APP_KEY",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("HOME", home);
    cmd
}

/// A `dbx` command pointed at `emu` with its token in the environment.
pub fn dbx_on(emu: &EmulatorHandle, home: &Path) -> std::process::Command {
    let mut cmd = dbx(home);
    cmd.env("DROPBOX_BASE_URL", emu.base_url())
        .env("DROPBOX_TOKEN", emu.access_token());
    cmd
}

/// Runs a command (blocking), returning its output.
pub fn run(cmd: &mut std::process::Command) -> Output {
    cmd.output().expect("dbx runs")
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        stdout(o),
        stderr(o)
    );
    stdout(o)
}

/// The single JSON document on stdout.
pub fn json(o: &Output) -> serde_json::Value {
    let out = stdout(o);
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// 1 MiB.
pub const MB: usize = 1 << 20;
