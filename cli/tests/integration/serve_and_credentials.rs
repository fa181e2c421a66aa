//! `dbx serve` used by other `dbx` runs; refresh-token credentials; `get -` to stdout.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use crate::common::*;
use dbx_emulator::{Emulator, EmulatorConfig, OAuthApp};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_prints_what_other_runs_need() {
    let home = tempfile::tempdir().unwrap();
    let data = home.path().join("data");
    let mut child = Child(
        dbx(home.path())
            .args(["serve", "--port", "0", "--data-dir"])
            .arg(&data)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let url_line = lines.next().unwrap().unwrap();
    let token_line = lines.next().unwrap().unwrap();
    let url = url_line
        .strip_prefix("DROPBOX_BASE_URL=")
        .expect(&url_line)
        .to_owned();
    let token = token_line
        .strip_prefix("DROPBOX_TOKEN=")
        .expect(&token_line)
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let f = home.path().join("note.txt");
    std::fs::write(&f, b"served").unwrap();
    let on = |cmd: &mut std::process::Command| {
        cmd.env("DROPBOX_BASE_URL", &url)
            .env("DROPBOX_TOKEN", &token);
    };
    let mut up = dbx(home.path());
    on(&mut up);
    ok(&run(up.arg("upload").arg(&f).arg("/n/note.txt")));
    // `get -` writes the bytes, and only the bytes, to stdout.
    let mut get = dbx(home.path());
    on(&mut get);
    let o = run(get.args(["get", "/n/note.txt", "-"]));
    assert_eq!(ok(&o), "served");
    // The files are in the data directory given.
    assert!(data.join("blobs").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_token_credentials() {
    let emu = Emulator::start(EmulatorConfig {
        durable: false,
        apps: vec![OAuthApp {
            client_id: "app-key-1".into(),
            client_secret: Some("app-secret-1".into()),
        }],
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let refresh = emu.oauth().issue_refresh_token("app-key-1").unwrap();
    let home = tempfile::tempdir().unwrap();
    let with = |cmd: &mut std::process::Command| {
        cmd.env("DROPBOX_BASE_URL", emu.base_url())
            .env("DROPBOX_REFRESH_TOKEN", &refresh)
            .env("DROPBOX_APP_KEY", "app-key-1")
            .env("DROPBOX_APP_SECRET", "app-secret-1");
    };
    let mut cmd = dbx(home.path());
    with(&mut cmd);
    ok(&run(cmd.args(["mkdir", "/via-refresh"])));
    assert_eq!(emu.stats().calls("oauth2/token"), 1);
    // A wrong app secret is an authentication failure.
    let mut cmd = dbx(home.path());
    with(&mut cmd);
    let o = run(cmd.env("DROPBOX_APP_SECRET", "nope").args(["ls"]));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    // A refresh token without an app key is a usage error that says what is missing.
    let mut cmd = dbx(home.path());
    with(&mut cmd);
    let o = run(cmd.env_remove("DROPBOX_APP_KEY").args(["ls"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("DROPBOX_APP_KEY"), "{}", stderr(&o));
}

#[test]
fn serve_lists_the_emulated_routes() {
    let home = tempfile::tempdir().unwrap();
    let expected: Vec<&str> = dbx_emulator::emulated_routes().map(|r| r.path).collect();
    assert!(expected.contains(&"/2/files/upload_session/append_v2"));
    let o = run(dbx(home.path()).args(["serve", "--routes"]));
    assert_eq!(ok(&o).lines().collect::<Vec<_>>(), expected);
    let o = run(dbx(home.path()).args(["--json", "serve", "--routes"]));
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v, serde_json::json!({ "routes": expected }));
}
