//! `dbx serve`: the emulator in the foreground until Ctrl-C.

use dbx_emulator::{Emulator, EmulatorConfig};
use serde_json::json;

use crate::args::ServeArgs;
use crate::failure::{CmdResult, Failure, Kind};
use crate::output::Output;

/// The URL paths of the v2 routes the emulator serves.
fn route_paths() -> Vec<&'static str> {
    dbx_emulator::emulated_routes().map(|r| r.path).collect()
}

/// Runs the emulator until Ctrl-C (or, with `--routes`, lists its routes).
pub async fn run(args: &ServeArgs, out: &Output) -> CmdResult {
    if args.routes {
        if out.json {
            out.json(json!({"routes": route_paths()}));
        } else {
            for path in route_paths() {
                out.line(path);
            }
        }
        return Ok(());
    }
    let emu = Emulator::start(EmulatorConfig {
        port: args.port,
        data_dir: args.data_dir.clone(),
        ..EmulatorConfig::default()
    })
    .await
    .map_err(|e| Failure::new(Kind::Failure, format!("starting the emulator: {e}")))?;
    // The development token of a local emulator is the point of this output.
    if out.json {
        out.json(json!({"base_url": emu.base_url(), "token": emu.access_token()}));
    } else {
        println!("DROPBOX_BASE_URL={}", emu.base_url());
        println!("DROPBOX_TOKEN={}", emu.access_token());
    }
    out.note(format!(
        "dbx: emulator listening on {} (files in {}); in another shell: export the two lines above, then run dbx commands. Ctrl-C stops it.",
        emu.base_url(),
        emu.data_dir().display()
    ));
    // The routes go to stderr: stdout stays the two lines above.
    out.note(format!(
        "dbx: emulated routes (others answer 400 \"the emulator does not implement this route\"): {}",
        route_paths().join(" ")
    ));
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| Failure::new(Kind::Failure, e.to_string()))?;
    out.note("dbx: stopping");
    emu.shutdown().await;
    Ok(())
}
