//! The application's test: the emulator as a dev-dependency, an upload through
//! `dropbox-upload`, and the result checked against a content hash computed here.

use dbx_emulator::{Emulator, EmulatorConfig};
use dropbox_api::ClientBuilder;
use dropbox_api::files::{self, DownloadArg};
use sha2::{Digest, Sha256};

/// The Dropbox content hash, written out from its definition: SHA-256 of the concatenated
/// SHA-256 digests of 4 MiB blocks.
fn dropbox_hash(data: &[u8]) -> String {
    let mut outer = Sha256::new();
    for block in data.chunks(4 << 20) {
        outer.update(Sha256::digest(block));
    }
    outer
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn a_backup_reaches_the_emulator_whole() {
    let emu = Emulator::start(EmulatorConfig {
        durable: false,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts");
    let client = ClientBuilder::new()
        .access_token(emu.access_token().to_string())
        .base_url(emu.base_url())
        .build_user()
        .expect("client builds");

    // Three chunks of a session: 4 MiB, 4 MiB and a partial one.
    let data: Vec<u8> = (0..(9 << 20) + 123).map(|i: u32| (i % 251) as u8).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    let local = dir.path().join("data.bin");
    std::fs::write(&local, &data).expect("write the source");

    let done = dbx_downstream::back_up(&client, &local, "data.bin")
        .await
        .expect("upload");

    let expected = dropbox_hash(&data);
    assert_eq!(done.bytes, data.len() as u64);
    assert_eq!(done.content_hash.to_string(), expected);
    assert_eq!(done.metadata.size, data.len() as u64);
    assert_eq!(done.metadata.content_hash.as_deref(), Some(expected.as_str()));
    assert_eq!(
        done.metadata.path_display.as_deref(),
        Some("/backups/data.bin")
    );
    assert_eq!(emu.stats().calls("files/upload_session/start"), 1);
    assert_eq!(emu.stats().calls("files/upload_session/append_v2"), 2);
    assert_eq!(emu.stats().calls("files/upload"), 0);

    let back = files::download(&client, &DownloadArg::new("/backups/data.bin"), None)
        .await
        .expect("download");
    assert_eq!(back.bytes().await.expect("body").as_ref(), data.as_slice());
    emu.shutdown().await;
}
