//! The progress display on a real pseudo-terminal (through `script` from util-linux):
//! bars redraw while the upload runs and finish at 100%.

use crate::common::*;
use dbx_emulator::{FaultAction, FaultRule};

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bars_update_and_finish_on_a_terminal() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        println!(
            "skipped: `script` (util-linux) is not installed, so no pseudo-terminal is available"
        );
        return;
    }
    let emu = emulator().await;
    emu.faults().add(FaultRule::new(
        "files/upload_session/append_v2",
        FaultAction::Latency { millis: 120 },
    ));
    let home = tempfile::tempdir().unwrap();
    let local = home.path().join("video.mp4");
    std::fs::write(&local, data(24 * MB, 5)).unwrap();
    let inner = format!(
        "{} upload --chunk-size 4MiB --concurrency 2 {} /video.mp4",
        shell_quote(env!("CARGO_BIN_EXE_dbx")),
        shell_quote(&local.display().to_string())
    );
    let mut cmd = std::process::Command::new("script");
    cmd.env("DROPBOX_BASE_URL", emu.base_url())
        .env("DROPBOX_TOKEN", emu.access_token())
        .env("HOME", home.path())
        .env("TERM", "xterm")
        .env("COLUMNS", "120")
        .env_remove("RUST_LOG")
        .args(["-q", "-f", "-e", "-c", &inner, "/dev/null"]);
    let o = run(&mut cmd);
    let screen = stdout(&o);
    assert!(o.status.success(), "exit {:?}: {screen}", o.status.code());
    // The bar was drawn many times (about ten a second for over a second)...
    let draws = screen.matches("bytes [").count();
    assert!(draws >= 4, "only {draws} draws: {screen:?}");
    // ...with a moving position, and finished full.
    assert!(screen.contains("24.00 MiB/24.00 MiB"), "{screen:?}");
    assert!(screen.contains("/24.00 MiB"), "{screen:?}");
    let partial = screen
        .match_indices("/24.00 MiB")
        .filter(|(i, _)| !screen[..*i].ends_with("24.00 MiB"))
        .count();
    assert!(partial >= 2, "no intermediate positions: {screen:?}");
    // Redraws move the cursor rather than printing new lines.
    assert!(
        screen.contains('\r') || screen.contains("\x1b["),
        "{screen:?}"
    );
    // The last line is the result.
    let last = screen.trim_end().lines().last().unwrap_or_default();
    assert!(last.contains("content hash verified"), "{screen:?}");
}
