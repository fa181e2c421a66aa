//! Storage on disk: restarts keep committed files; a crash mid-upload loses nothing
//! committed and leaves no half-written file.

use std::time::Duration;

use crate::common::*;
use dbx_emulator::{Emulator, EmulatorConfig, EmulatorError};
use dropbox_api::files::{
    CreateFolderArg, CreateFolderResult, FileMetadata, GetMetadataArg, ListFolderArg,
    ListFolderResult, Metadata, UploadArg,
};

fn config(dir: &std::path::Path) -> EmulatorConfig {
    EmulatorConfig {
        data_dir: Some(dir.to_path_buf()),
        access_token: Some("fixed-dev-token".into()),
        ..EmulatorConfig::default()
    }
}

#[tokio::test]
async fn restart_on_the_same_data_dir_sees_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let (f, folder) = {
        let emu = start_with(config(dir.path())).await;
        let api = Api::new(&emu);
        let f = api.put("/Keep/Me.txt", b"persistent").await;
        let folder: CreateFolderResult = api
            .rpc(
                "files/create_folder_v2",
                &CreateFolderArg::new("/Empty Folder"),
            )
            .await
            .ok();
        emu.shutdown().await;
        (f, folder)
    };
    let emu = start_with(config(dir.path())).await;
    let api = Api::new(&emu);
    assert_eq!(api.get("/keep/me.txt").await, b"persistent");
    let m: Metadata = api
        .rpc("files/get_metadata", &GetMetadataArg::new(&f.id))
        .await
        .ok();
    assert_eq!(m, Metadata::File(f.clone()));
    let m: Metadata = api
        .rpc("files/get_metadata", &GetMetadataArg::new("/empty folder"))
        .await
        .ok();
    assert_eq!(m, Metadata::Folder(folder.metadata));
    // New revisions keep increasing after a restart.
    let again: FileMetadata = api
        .upload(
            "files/upload",
            &UploadArg::new("/keep/me.txt").with_mode(dropbox_api::files::WriteMode::Overwrite),
            b"v2".to_vec(),
        )
        .await
        .ok();
    assert!(again.rev > f.rev, "{} > {}", again.rev, f.rev);
    let list: ListFolderResult = api
        .rpc("files/list_folder", &ListFolderArg::new(""))
        .await
        .ok();
    assert_eq!(list.entries.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_upload_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let committed = data(3 * MIB, 9);
    {
        let emu = start_with(config(dir.path())).await;
        let api = Api::new(&emu);
        api.put("/stable.bin", &committed).await;
        // An overwrite of the same file that never finishes: the body trickles in.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
        tx.send(Ok(vec![1u8; MIB])).await.unwrap();
        let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
        let arg = UploadArg::new("/stable.bin").with_mode(dropbox_api::files::WriteMode::Overwrite);
        let api2 = api.clone();
        let pending = tokio::spawn(async move { api2.upload("files/upload", &arg, body).await });
        // Wait until the server has read part of it, then "crash".
        for _ in 0..200 {
            if emu.stats().bytes_in("files/upload") >= MIB as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(emu.stats().bytes_in("files/upload") >= MIB as u64);
        drop(emu);
        drop(tx);
        let _ = pending.await;
    }
    let emu = start_with(config(dir.path())).await;
    let api = Api::new(&emu);
    assert_eq!(api.get("/stable.bin").await, committed);
    let tmp: Vec<_> = std::fs::read_dir(dir.path().join("tmp")).unwrap().collect();
    assert!(tmp.is_empty(), "temporary files are cleared at start");
    let blobs = std::fs::read_dir(dir.path().join("blobs")).unwrap().count();
    assert_eq!(blobs, 1, "only the committed blob remains");
}

/// A stream over an mpsc receiver.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn a_corrupt_index_is_an_error_not_an_empty_dropbox() {
    let dir = tempfile::tempdir().unwrap();
    {
        let emu = start_with(config(dir.path())).await;
        Api::new(&emu).put("/x", b"x").await;
        emu.shutdown().await;
    }
    std::fs::write(dir.path().join("index.json"), b"{ not json").unwrap();
    let err = Emulator::start(config(dir.path())).await.unwrap_err();
    assert!(matches!(err, EmulatorError::DataDir { .. }), "{err}");
    assert!(err.to_string().contains("index"), "{err}");
}

#[tokio::test]
async fn default_data_dir_is_a_tempdir_kept_alive_by_the_handle() {
    let emu = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = emu.data_dir().to_path_buf();
    assert!(dir.join("blobs").is_dir());
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(emu.addr().ip(), std::net::Ipv4Addr::LOCALHOST);
    let dbg = format!("{emu:?}");
    assert!(
        !dbg.contains(emu.access_token()),
        "Debug must not show the token"
    );
    drop(emu);
    assert!(!dir.exists());
}
