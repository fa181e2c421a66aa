//! Runs the curl session of README.md against the real binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn readme_script() -> String {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- readme-test:begin -->")
        .expect("begin marker");
    let end = readme.find("<!-- readme-test:end -->").expect("end marker");
    let block = &readme[start..end];
    let body_start = block.find("```sh\n").expect("sh block") + "```sh\n".len();
    let body_end = block[body_start..].find("```").expect("block end") + body_start;
    block[body_start..body_end].to_string()
}

#[test]
fn readme_curl_session_works() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl is not installed; skipping");
        return;
    }
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_dbx-emulator"))
            .args([
                "--port",
                "0",
                "--token",
                "dev-token",
                "--no-fsync",
                "--data-dir",
            ])
            .arg(data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("binary starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = lines
        .next()
        .unwrap()
        .unwrap()
        .strip_prefix("DBX_EMULATOR_URL=")
        .expect("URL line")
        .to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(
        lines.next().unwrap().unwrap(),
        "DBX_EMULATOR_TOKEN=dev-token"
    );

    // The README exports the default port; point it at this run's port instead.
    let script = readme_script().replace("http://127.0.0.1:8080", &url);
    let out = Command::new("sh")
        .arg("-ec")
        .arg(&script)
        .current_dir(work.path())
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    let uploaded: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(uploaded["name"], "hello.txt");
    assert_eq!(uploaded["path_display"], "/Homework/hello.txt");
    assert_eq!(uploaded["size"], 24);
    let listed: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(listed["entries"][0]["path_lower"], "/homework/hello.txt");
    assert_eq!(lines[2], "hello from the emulator");
    let finished: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
    assert_eq!(finished["path_display"], "/Homework/session.txt");
    assert_eq!(finished["size"], 48);
    assert_eq!(finished["content_hash"].as_str().unwrap().len(), 64);
}
