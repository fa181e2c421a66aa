//! The `dbx` binary against an emulator over loopback: uploads, links, hashes, everyday
//! commands, JSON output and exit codes.

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_a_file_then_ls_and_get_it_back() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let body = data(9 * MB + 5, 1);
    let local = home.path().join("big file.bin");
    std::fs::write(&local, &body).unwrap();
    let hash = dropbox_content_hash::content_hash(&body).to_hex();

    let out = ok(&run(dbx_on(&emu, home.path())
        .args(["upload", "--chunk-size", "4MiB", "--concurrency", "3"])
        .arg(&local)
        .arg("/backup/")));
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("uploaded "), "{out}");
    assert!(last.contains("to /backup/big file.bin (9.0 MiB)"), "{last}");
    assert!(
        last.ends_with(&format!("content hash verified: {hash}")),
        "{last}"
    );
    assert!(emu.stats().calls("files/upload_session/append_v2") >= 3);

    let listing = ok(&run(dbx_on(&emu, home.path()).args(["ls", "/backup"])));
    assert_eq!(
        listing.trim(),
        format!("file    {:>12}  /backup/big file.bin", body.len())
    );

    let back = home.path().join("back.bin");
    let got = ok(&run(dbx_on(&emu, home.path())
        .args(["get", "/backup/big file.bin"])
        .arg(&back)));
    assert!(
        got.contains(&format!("content hash verified: {hash}")),
        "{got}"
    );
    assert_eq!(std::fs::read(&back).unwrap(), body);

    ok(&run(
        dbx_on(&emu, home.path()).args(["rm", "/backup/big file.bin"])
    ));
    let listing = ok(&run(dbx_on(&emu, home.path()).args(["ls", "/backup"])));
    assert_eq!(listing.trim(), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_a_directory_as_one_batch() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("photos");
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..40 {
        let sub = dir.join(if i % 3 == 0 { "2025" } else { "2026/june" });
        std::fs::create_dir_all(&sub).unwrap();
        let body = data(1000 + i * 37, i as u64);
        let name = format!("img-{i:02}.jpg");
        std::fs::write(sub.join(&name), &body).unwrap();
        let rel = sub.strip_prefix(&dir).unwrap().join(&name);
        expected.insert(
            format!("/camera/{}", rel.display()),
            dropbox_content_hash::content_hash(&body).to_hex(),
        );
    }
    let o = run(dbx_on(&emu, home.path())
        .args(["upload", "--json"])
        .arg(&dir)
        .arg("/camera"));
    ok(&o);
    let v = json(&o);
    assert_eq!(v["commit_calls"], 1);
    assert_eq!(v["failed"].as_array().unwrap().len(), 0);
    let uploaded = v["uploaded"].as_array().unwrap();
    assert_eq!(uploaded.len(), 40);
    for u in uploaded {
        let remote = u["remote"].as_str().unwrap();
        assert_eq!(
            u["content_hash"].as_str(),
            expected.get(remote).map(String::as_str),
            "{remote}"
        );
    }
    assert_eq!(emu.stats().calls("files/upload_session/finish_batch_v2"), 1);

    let o = run(dbx_on(&emu, home.path()).args(["ls", "-r", "--json", "/camera"]));
    let v = json(&o);
    let files: Vec<_> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "file")
        .collect();
    assert_eq!(files.len(), 40);

    // Changed files uploaded again without overwrite: every item conflicts (identical
    // contents would not), exit code 4, each reported.
    for (i, f) in walk_files(&dir).iter().enumerate() {
        std::fs::write(f, format!("changed {i}")).unwrap();
    }
    let o = run(dbx_on(&emu, home.path())
        .arg("upload")
        .arg(&dir)
        .arg("/camera"));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert_eq!(stderr(&o).matches("dbx: failed: ").count(), 40);
    assert!(stderr(&o).contains("path/conflict/file"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: 40 already existed with other contents"),
        "{}",
        stderr(&o)
    );
    // With --mode overwrite it succeeds.
    ok(&run(dbx_on(&emu, home.path())
        .args(["upload", "--mode", "overwrite"])
        .arg(&dir)
        .arg("/camera")));
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hash_known_answers() {
    let home = tempfile::tempdir().unwrap();
    let empty = home.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let out = ok(&run(dbx(home.path()).arg("hash").arg(&empty)));
    // SHA-256 of nothing: no blocks, so the hash of an empty concatenation.
    assert_eq!(
        out.split_whitespace().next(),
        Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    let big = home.path().join("big");
    let body = data(9 * MB + 1, 3);
    std::fs::write(&big, &body).unwrap();
    let o = run(dbx(home.path()).args(["hash", "--json"]).arg(&big));
    let v = json(&o);
    assert_eq!(v["size"], body.len() as u64);
    assert_eq!(
        v["content_hash"].as_str().unwrap(),
        dropbox_content_hash::content_hash(&body).to_hex()
    );
    let o = run(dbx(home.path()).args(["hash", "/does/not/exist"]));
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_create_then_put_without_a_token() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let o = run(dbx_on(&emu, home.path()).args([
        "link",
        "create",
        "/inbox/report.pdf",
        "--duration",
        "30m",
        "--json",
    ]));
    ok(&o);
    let v = json(&o);
    assert_eq!(v["path"], "/inbox/report.pdf");
    assert_eq!(v["duration_seconds"], 1800);
    let url = v["url"].as_str().unwrap().to_owned();

    let body = data(3 * MB, 9);
    let file = home.path().join("report.pdf");
    std::fs::write(&file, &body).unwrap();
    let hash = dropbox_content_hash::content_hash(&body).to_hex();
    // The second party: no token, no base URL.
    let o = run(dbx(home.path()).args(["link", "put"]).arg(&url).arg(&file));
    let out = ok(&o);
    assert!(
        out.contains(&format!("content hash verified: {hash}")),
        "{out}"
    );
    assert!(
        !stderr(&o).contains("embedded emulator"),
        "link put needs no server"
    );
    // Used once: a second put is refused (exit 4) and says what to do.
    let o = run(dbx(home.path()).args(["link", "put"]).arg(&url).arg(&file));
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("ask for a new one"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(&url));
    // A duration out of range is a usage error.
    let o = run(dbx_on(&emu, home.path()).args(["link", "create", "/x", "--duration", "5h"]));
    assert_eq!(o.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mkdir_get_errors_and_json_error_documents() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let o = run(dbx_on(&emu, home.path()).args(["mkdir", "/Projects", "--json"]));
    assert_eq!(json(&o)["created"], "/Projects");
    // Again: a conflict, exit 4, with a JSON error document.
    let o = run(dbx_on(&emu, home.path()).args(["mkdir", "/Projects", "--json"]));
    assert_eq!(o.status.code(), Some(4));
    let v = json(&o);
    assert_eq!(v["error"]["kind"], "refused");
    assert_eq!(v["error"]["exit_code"], 4);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("path/conflict"),
        "{v}"
    );
    // A missing file.
    let o = run(dbx_on(&emu, home.path()).args(["get", "/nope.txt"]));
    assert_eq!(o.status.code(), Some(4));
    assert!(stderr(&o).contains("not_found"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: check the path with `dbx ls`"),
        "{}",
        stderr(&o)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_tell_failures_apart() {
    let emu = emulator().await;
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("f.txt");
    std::fs::write(&f, b"hello").unwrap();
    // Usage: an unknown flag; a bad chunk size; a base URL without credentials.
    assert_eq!(
        run(dbx(home.path()).args(["upload", "--bogus"]))
            .status
            .code(),
        Some(2)
    );
    let o = run(dbx_on(&emu, home.path())
        .args(["upload", "--chunk-size", "3MiB"])
        .arg(&f)
        .arg("/f.txt"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("multiple of 4 MiB"), "{}", stderr(&o));
    let o = run(dbx(home.path()).args(["ls", "--base-url", emu.base_url()]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("DROPBOX_TOKEN"), "{}", stderr(&o));
    // Auth: a wrong token.
    let o = run(dbx(home.path())
        .env("DROPBOX_BASE_URL", emu.base_url())
        .env("DROPBOX_TOKEN", "sl.wrong")
        .args(["ls"]));
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: check DROPBOX_TOKEN"),
        "{}",
        stderr(&o)
    );
    // Refused: a different file to the same path in add mode (identical contents are not
    // a conflict for Dropbox).
    ok(&run(dbx_on(&emu, home.path())
        .arg("upload")
        .arg(&f)
        .arg("/f.txt")));
    std::fs::write(&f, b"hello again").unwrap();
    let o = run(dbx_on(&emu, home.path())
        .arg("upload")
        .arg(&f)
        .arg("/f.txt"));
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("hint: something is already there"),
        "{}",
        stderr(&o)
    );
    // --autorename keeps both.
    let out = ok(&run(dbx_on(&emu, home.path())
        .args(["upload", "--autorename"])
        .arg(&f)
        .arg("/f.txt")));
    assert!(out.contains("to /f (1).txt"), "{out}");
    // Transient: nobody listens there.
    let o = run(dbx(home.path())
        .env("DROPBOX_BASE_URL", "http://127.0.0.1:9")
        .env("DROPBOX_TOKEN", "t")
        .args(["ls"]));
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    // --help is not an error.
    let o = run(dbx(home.path()).arg("--help"));
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("Exit codes:"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_credentials_the_embedded_emulator_is_used_and_kept() {
    let home = tempfile::tempdir().unwrap();
    let o = run(dbx(home.path()).args(["mkdir", "/kept"]));
    ok(&o);
    let first = stderr(&o).lines().next().unwrap_or_default().to_owned();
    assert!(first.contains("using the embedded emulator"), "{first}");
    // A second run sees the folder: the embedded emulator keeps its files.
    let o = run(dbx(home.path()).args(["ls"]));
    assert!(ok(&o).contains("/kept/"), "{}", stdout(&o));
    assert!(home.path().join(".local/share/dbx/emulator").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_and_verifies() {
    let home = tempfile::tempdir().unwrap();
    let o = run(dbx(home.path()).args(["demo", "--size", "9", "--files", "25", "--json"]));
    ok(&o);
    let v = json(&o);
    assert_eq!(v["files"], 27);
    assert_eq!(v["verified"], 27);
    assert_eq!(v["commit_calls"], 1);
    assert_eq!(v["api_calls"]["files/upload_session/finish_batch_v2"], 1);
    assert!(
        stderr(&o)
            .lines()
            .next()
            .unwrap()
            .contains("embedded emulator")
    );
}
