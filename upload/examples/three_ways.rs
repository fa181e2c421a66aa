//! The three ways to upload, end to end: `cargo run -p dropbox-upload --example three_ways`.
//!
//! Runs against a local emulator started in this process, or against your Dropbox when
//! `DROPBOX_TOKEN` is set (files go to `/dropbox-upload-example/`).

use std::time::Duration;

use dropbox_api::files::{CommitInfo, WriteMode};
use dropbox_api_runtime::ClientBuilder;
use dropbox_upload::prelude::*;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A client: your Dropbox, or an emulator on 127.0.0.1.
    let (client, _emulator) = match std::env::var("DROPBOX_TOKEN") {
        Ok(token) => (ClientBuilder::new().access_token(token).build_user()?, None),
        Err(_) => {
            let emu = dbx_emulator::Emulator::start(Default::default()).await?;
            let client = ClientBuilder::new()
                .access_token(emu.access_token().to_owned())
                .base_url(emu.base_url())
                .build_user()?;
            println!("no DROPBOX_TOKEN: using an emulator at {}", emu.base_url());
            (client, Some(emu))
        }
    };
    let dir = tempfile::tempdir()?;

    // 1. One large file through a concurrent upload session, resumable from a state file.
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 40 << 20])?;
    let state = StateFile::new(dir.path().join("big.upload.json"));
    let options = UploadOptions::default()
        .session_type(SessionType::Concurrent)
        .concurrency(4)
        .chunk_size(8 * MIB)
        .state_sink(state.sink());
    let commit = CommitInfo::new("/dropbox-upload-example/big.bin").with_mode(WriteMode::Overwrite);
    let done = client.upload_file(&big, commit, &options).await?;
    state.remove()?;
    println!(
        "1. {} bytes, content hash {}",
        done.bytes, done.content_hash
    );

    // 2. Many small files in one batch: sessions, packed appends, one commit per 1,000.
    let items: Vec<BatchItem> = (0..1500)
        .map(|i| {
            BatchItem::bytes(
                format!("note {i}\n"),
                CommitInfo::new(format!("/dropbox-upload-example/notes/{i:04}.txt"))
                    .with_mode(WriteMode::Overwrite),
            )
        })
        .collect();
    let report = client.upload_batch(items, &BatchOptions::default()).await?;
    println!(
        "2. {} of 1500 files in {} commit calls",
        report.succeeded(),
        report.commit_calls
    );

    // 3. A temporary upload link: issued with the token, used by a party without one.
    let link = client
        .create_upload_link(
            CommitInfo::new("/dropbox-upload-example/from-partner.txt")
                .with_mode(WriteMode::Overwrite),
            Duration::from_secs(600),
        )
        .await?;
    let url = link.url().expose().to_owned(); // what you would send to the other party
    let hash = TemporaryUploadLink::from_url(url)
        .upload_bytes("hello from the other side")
        .await?;
    println!("3. uploaded through the link, content hash {hash}");
    Ok(())
}
