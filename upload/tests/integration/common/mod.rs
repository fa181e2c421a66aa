//! Shared test helpers: an emulator on loopback and a client pointed at it.
#![allow(dead_code)]

use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use dropbox_api::UserClient;
use dropbox_api::files::{self, DownloadArg};
use dropbox_api_runtime::ClientBuilder;

/// Starts an emulator without fsync.
pub async fn emulator() -> EmulatorHandle {
    emulator_with(EmulatorConfig::default()).await
}

/// Starts an emulator with a config (fsync off).
pub async fn emulator_with(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        durable: false,
        ..config
    })
    .await
    .expect("emulator starts")
}

/// A user client for the emulator's account.
pub fn client(emu: &EmulatorHandle) -> UserClient {
    ClientBuilder::new()
        .access_token(emu.access_token().to_string())
        .base_url(emu.base_url())
        .build_user()
        .expect("client builds")
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

/// Downloads a file's bytes.
pub async fn download(client: &UserClient, path: &str) -> Vec<u8> {
    let d = files::download(client, &DownloadArg::new(path), None)
        .await
        .expect("download");
    d.bytes().await.expect("body").to_vec()
}

/// 1 MiB as a usize.
pub const MB: usize = 1 << 20;

/// Fast retries for tests: many attempts, short backoff.
pub fn fast_retry() -> dropbox_api_runtime::RetryPolicy {
    dropbox_api_runtime::RetryPolicy::default()
        .max_attempts(8)
        .delays(
            std::time::Duration::from_millis(5),
            std::time::Duration::from_millis(50),
        )
        .deadline(std::time::Duration::from_secs(60))
}
