//! `dbx login` (PKCE, copy-paste flow) driven through stdin against an emulator, the saved
//! credentials used by later runs, and `dbx logout`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;

use crate::common::*;
use assert_cmd::prelude::*;
use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle, OAuthApp};

const APP: &str = "cli-pkce-app";

async fn emulator() -> EmulatorHandle {
    Emulator::start(EmulatorConfig {
        durable: false,
        apps: vec![OAuthApp {
            client_id: APP.into(),
            client_secret: None,
        }],
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

fn query(url: &str) -> Vec<(String, String)> {
    let q = url.split_once('?').map_or("", |(_, q)| q);
    q.split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// What one `dbx login` run printed and the code it was given.
struct Login {
    output: std::process::Output,
    url: String,
    code: String,
}

/// Runs `dbx login`, reads the authorize URL from its stderr, approves it at the emulator
/// (`GET /oauth2/authorize`) and types the code (or `typed(code)`) into its stdin.
async fn login(
    emu: &EmulatorHandle,
    mut cmd: std::process::Command,
    login_args: &[&str],
    typed: impl FnOnce(&str) -> String,
) -> Login {
    let mut child = cmd
        .env("DROPBOX_BASE_URL", emu.base_url())
        .arg("login")
        .args(login_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let url = loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "dbx login printed no authorize URL:\n{seen}");
        seen.push_str(&line);
        if let Some(at) = line.find("http") {
            break line[at..].trim().to_string();
        }
    };
    let r = dropbox_api_runtime::http_client_builder()
        .build()
        .unwrap()
        .get(&url)
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let code = v["code"].as_str().unwrap().to_string();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{}", typed(&code)).unwrap();
    drop(stdin);
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        rest
    });
    let mut output = child.wait_with_output().unwrap();
    seen.push_str(&rest.join().unwrap());
    output.stderr = seen.into_bytes();
    Login { output, url, code }
}

async fn refresh_works(emu: &EmulatorHandle, refresh: &str) -> serde_json::Value {
    dropbox_api_runtime::http_client_builder()
        .build()
        .unwrap()
        .post(format!("{}/oauth2/token", emu.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&refresh_token={refresh}&client_id={APP}"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_then_ls_with_the_saved_token_then_logout() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join(".config/dbx/credentials.json");

    let mut cmd = dbx(home.path());
    cmd.env("DBX_APP_KEY", APP);
    let run = login(&emu, cmd, &[], |code| format!("  {code}  ")).await;
    let path = file.display().to_string();
    run.output.clone().assert().success().stdout(format!(
        "Signed in as {}; credentials saved in {path}\n",
        emu.oauth().account_id()
    ));
    // The URL: PKCE S256, offline, the copy-paste flow (no redirect_uri, no state).
    let q = query(&run.url);
    let names: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "client_id",
            "response_type",
            "token_access_type",
            "code_challenge",
            "code_challenge_method"
        ]
    );
    assert!(
        run.url
            .starts_with(&format!("{}/oauth2/authorize?", emu.base_url()))
    );
    assert_eq!(q[0].1, APP);
    assert_eq!(q[1].1, "code");
    assert_eq!(q[2].1, "offline");
    assert_eq!(q[3].1.len(), 43);
    assert_eq!(q[4].1, "S256");

    // The file: owner-only, the app key and a refresh token that works.
    #[cfg(unix)]
    {
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(saved["app_key"], APP);
    assert_eq!(saved["account_id"], emu.oauth().account_id());
    let refresh = saved["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh_works(&emu, &refresh).await["access_token"].is_string());

    // Later runs use the saved token (no DROPBOX_TOKEN) against the same server.
    let on = || {
        let mut c = dbx(home.path());
        c.env("DROPBOX_BASE_URL", emu.base_url());
        c
    };
    let mut outputs = vec![run.output.clone()];
    let mk = on()
        .args(["-vv", "mkdir", "/after-login"])
        .output()
        .unwrap();
    mk.clone().assert().success();
    outputs.push(mk);
    let ls = on().args(["ls"]).output().unwrap();
    let listed = ls.clone().assert().success().get_output().stdout.clone();
    assert!(
        String::from_utf8_lossy(&listed).contains("/after-login"),
        "{}",
        String::from_utf8_lossy(&listed)
    );
    outputs.push(ls);
    // An environment token still comes first (and is the emulator's).
    on().env("DROPBOX_TOKEN", "sl.not-valid")
        .arg("ls")
        .assert()
        .code(3);

    // Logout: revoked at the server, the file gone, the token refused.
    let out = on().args(["-vv", "logout"]).output().unwrap();
    out.clone().assert().success().stdout(format!(
        "Signed out: the token is revoked and {path} deleted\n"
    ));
    outputs.push(out);
    assert!(!file.exists());
    assert_eq!(emu.stats().calls("auth/token/revoke"), 1);
    let refused = refresh_works(&emu, &refresh).await;
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
    // Without credentials and with a base URL: the usage error.
    on().arg("ls").assert().code(2);
    // A second logout: nothing to do.
    on().arg("logout").assert().success();

    // No secret in any output.
    for o in &outputs {
        for text in [stdout(o), stderr(o)] {
            for secret in [refresh.as_str(), run.code.as_str()] {
                assert!(!text.contains(secret), "a secret was printed:\n{text}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_failures_and_where_the_file_goes() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    // No app key: a usage error before anything is printed or sent.
    dbx(home.path())
        .env("DROPBOX_BASE_URL", emu.base_url())
        .arg("login")
        .stdin(Stdio::null())
        .assert()
        .code(2);
    assert_eq!(emu.stats().calls("oauth2/token"), 0);

    // A wrong code: refused by the token endpoint (exit 3), no file.
    let mut cmd = dbx(home.path());
    cmd.env("DBX_APP_KEY", APP);
    let run = login(&emu, cmd, &[], |_| "not-the-code".to_string()).await;
    run.output.clone().assert().code(3);
    assert!(
        stderr(&run.output).contains("invalid_grant"),
        "{}",
        stderr(&run.output)
    );
    assert!(!home.path().join(".config").exists());

    // --credentials picks the file (and with --app-key instead of the variable).
    let custom = home.path().join("elsewhere/creds.json");
    let mut cmd = dbx(home.path());
    cmd.arg("--credentials").arg(&custom);
    let run = login(&emu, cmd, &["--app-key", APP], |c| c.to_string()).await;
    run.output.clone().assert().success();
    #[cfg(unix)]
    assert_eq!(mode(&custom), 0o600);
    // DBX_CREDENTIALS names it for later runs.
    dbx(home.path())
        .env("DROPBOX_BASE_URL", emu.base_url())
        .env("DBX_CREDENTIALS", &custom)
        .arg("ls")
        .assert()
        .success();

    // Logout when the token is already revoked: the file goes, exit 0.
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&custom).unwrap()).unwrap();
    let mut revoked = saved.clone();
    revoked["refresh_token"] = "revoked-or-never-issued".into();
    std::fs::write(&custom, serde_json::to_vec(&revoked).unwrap()).unwrap();
    dbx(home.path())
        .env("DROPBOX_BASE_URL", emu.base_url())
        .env("DBX_CREDENTIALS", &custom)
        .arg("logout")
        .assert()
        .success()
        .stdout(format!(
            "Signed out: the saved token was no longer valid; {} deleted\n",
            custom.display()
        ));
    assert!(!custom.exists());

    // Logout when Dropbox cannot be reached: the file goes all the same, and the exit code
    // says the revoke was not confirmed (5: transient).
    std::fs::write(&custom, serde_json::to_vec(&saved).unwrap()).unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let o = dbx(home.path())
        .env("DROPBOX_BASE_URL", format!("http://127.0.0.1:{port}"))
        .env("DBX_CREDENTIALS", &custom)
        .args(["--retries", "0", "logout"])
        .output()
        .unwrap();
    o.clone().assert().code(5);
    assert!(
        stderr(&o).contains("did not confirm revoking the token"),
        "{}",
        stderr(&o)
    );
    assert!(!custom.exists());
    let refresh = saved["refresh_token"].as_str().unwrap();
    assert!(!stderr(&o).contains(refresh) && !stdout(&o).contains(refresh));
}
