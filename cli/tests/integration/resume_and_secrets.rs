//! An upload killed part-way and resumed; secrets never in any output.

use std::time::{Duration, Instant};

use crate::common::*;
use dbx_emulator::{FaultAction, FaultRule};

const APPEND: &str = "files/upload_session/append_v2";

/// The acknowledged bytes recorded in the (single) state file of `dir`, if any.
fn acked(dir: &std::path::Path) -> Option<u64> {
    let entry = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))?;
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(entry.path()).ok()?).ok()?;
    Some(
        v["acked"]
            .as_array()?
            .iter()
            .map(|r| r[1].as_u64().unwrap_or(0) - r[0].as_u64().unwrap_or(0))
            .sum(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_upload_resumes_where_it_stopped() {
    let emu = emulator().await;
    emu.faults()
        .add(FaultRule::new(APPEND, FaultAction::Latency { millis: 150 }));
    let home = tempfile::tempdir().unwrap();
    let states = home.path().join("states");
    let body = data(40 * MB, 11);
    let local = home.path().join("disk.img");
    std::fs::write(&local, &body).unwrap();
    let args = |cmd: &mut std::process::Command| {
        cmd.env("DBX_STATE_DIR", &states)
            .args(["upload", "--chunk-size", "4MiB", "--concurrency", "2"])
            .arg(&local)
            .arg("/disk.img");
    };

    // Without a saved state, --resume is a usage error that says what to do.
    let mut cmd = dbx_on(&emu, home.path());
    args(&mut cmd);
    let o = run(cmd.arg("--resume"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("without --resume"), "{}", stderr(&o));

    // First run, killed once at least 8 MiB were acknowledged.
    let mut cmd = dbx_on(&emu, home.path());
    args(&mut cmd);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked(&states).unwrap_or(0) < 8 * MB as u64 {
        assert!(Instant::now() < deadline, "no progress was saved");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the upload ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let saved = acked(&states).unwrap();
    assert!(saved < body.len() as u64);
    let sent_first = emu.stats().bytes_in(APPEND);

    // Second run with --resume: finishes, sends only what was missing.
    let mut cmd = dbx_on(&emu, home.path());
    args(&mut cmd);
    let o = run(cmd.arg("--resume"));
    let out = ok(&o);
    assert!(stderr(&o).contains("resuming:"), "{}", stderr(&o));
    let hash = dropbox_content_hash::content_hash(&body).to_hex();
    assert!(
        out.contains(&format!("content hash verified: {hash}")),
        "{out}"
    );
    let sent_second = emu.stats().bytes_in(APPEND) - sent_first;
    assert!(
        sent_second <= body.len() as u64 - saved + 2 * 4 * MB as u64,
        "resent {sent_second} bytes though {saved} were saved"
    );
    assert_eq!(
        emu.stats().calls("files/upload_session/start"),
        1,
        "one session only"
    );
    // The state is gone once the upload is done.
    assert_eq!(acked(&states), None);

    let back = home.path().join("back.img");
    ok(&run(dbx_on(&emu, home.path())
        .args(["get", "/disk.img"])
        .arg(&back)));
    assert_eq!(std::fs::read(&back).unwrap(), body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_appear_in_any_output() {
    let emu = emulator().await;
    let token = emu.access_token().to_owned();
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("f.txt");
    std::fs::write(&f, b"secret test").unwrap();
    let f2 = home.path().join("f2.txt");
    std::fs::write(&f2, b"other").unwrap();
    let refresh = "refresh-token-never-printed-42";
    let app_secret = "app-secret-never-printed-42";
    let wrong = "sl.wrong-token-never-printed-42";

    let mut runs: Vec<std::process::Output> = Vec::new();
    for verbose in ["-q", "-v", "-vv"] {
        // Token on the command line.
        let mut cmd = dbx(home.path());
        cmd.env("DROPBOX_BASE_URL", emu.base_url())
            .args(["--token", &token, verbose, "upload"])
            .arg(&f)
            .arg("/t/f.txt");
        runs.push(run(&mut cmd));
        // Token in the environment; an error (conflict) path.
        let mut cmd = dbx_on(&emu, home.path());
        cmd.args([verbose, "upload"]).arg(&f2).arg("/t/f.txt");
        runs.push(run(&mut cmd));
        // A JSON listing and a JSON error.
        runs.push(run(
            dbx_on(&emu, home.path()).args([verbose, "ls", "-r", "--json"])
        ));
        runs.push(run(
            dbx_on(&emu, home.path()).args([verbose, "get", "/missing", "--json"])
        ));
        // A wrong token.
        runs.push(run(dbx(home.path())
            .env("DROPBOX_BASE_URL", emu.base_url())
            .env("DROPBOX_TOKEN", wrong)
            .args([verbose, "ls"])));
        // Refresh-token credentials against a server that refuses them.
        runs.push(run(dbx(home.path())
            .env("DROPBOX_BASE_URL", emu.base_url())
            .env("DROPBOX_REFRESH_TOKEN", refresh)
            .env("DROPBOX_APP_KEY", "key")
            .env("DROPBOX_APP_SECRET", app_secret)
            .args([verbose, "ls"])));
        // A usage error with the token on the command line.
        runs.push(run(
            dbx(home.path()).args(["--token", &token, verbose, "upload", "--nope"])
        ));
    }
    assert_eq!(runs.len(), 21);
    // A refresh token saved by `dbx login` that the server refuses: used, then logged out.
    let saved = "saved-refresh-never-printed-42";
    let creds = home.path().join("creds.json");
    std::fs::write(
        &creds,
        format!(r#"{{"app_key": "dbx-emulator-app", "refresh_token": "{saved}"}}"#),
    )
    .unwrap();
    for args in [["-vv", "ls"], ["-vv", "logout"]] {
        let o = run(dbx(home.path())
            .env("DROPBOX_BASE_URL", emu.base_url())
            .env("DBX_CREDENTIALS", &creds)
            .args(args));
        runs.push(o);
    }
    assert_eq!(runs[21].status.code(), Some(3), "{}", stderr(&runs[21]));
    assert_eq!(runs[22].status.code(), Some(0), "{}", stderr(&runs[22]));
    assert!(!creds.exists());
    let mut exit_codes = Vec::new();
    for o in &runs {
        exit_codes.push(o.status.code());
        for text in [stdout(o), stderr(o)] {
            for secret in [token.as_str(), refresh, app_secret, wrong, saved] {
                assert!(!text.contains(secret), "a secret was printed:\n{text}");
            }
        }
    }
    // The runs did what they were meant to (so the check above saw real output).
    assert_eq!(
        &exit_codes[..7],
        &[
            Some(0),
            Some(4),
            Some(0),
            Some(4),
            Some(3),
            Some(3),
            Some(2)
        ]
    );
    assert!(
        stderr(&runs[8]).contains("DEBUG"),
        "-v logs: {}",
        stderr(&runs[8])
    );
}
