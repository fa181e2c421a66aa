//! `dbx demo`: the toolkit end to end, on an embedded emulator unless credentials are set.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dbx_emulator::EmulatorConfig;
use dropbox_api::files::{self, CommitInfo, DownloadArg, Metadata, WriteMode};
use dropbox_upload::prelude::*;
use dropbox_upload::{BatchOptions, ContentHasher};
use serde_json::json;

use crate::args::{DemoArgs, Global};
use crate::commands::files::list_all;
use crate::connect::{Connection, connect, start_emulator};
use crate::failure::{CmdResult, Failure, Kind};
use crate::output::{Output, bytes, rate};

/// Deterministic pseudo-random bytes (xorshift), fast enough for hundreds of MiB.
fn fill(buf: &mut [u8], seed: u64) {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for chunk in buf.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x.to_le_bytes();
        chunk.copy_from_slice(&b[..chunk.len()]);
    }
}

/// Writes a file of `len` pseudo-random bytes.
fn write_file(path: &Path, len: u64, seed: u64) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    let mut i = 0;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        fill(&mut buf[..n], seed.wrapping_add(i));
        f.write_all(&buf[..n])?;
        left -= n as u64;
        i += 1;
    }
    f.flush()
}

struct Step {
    name: &'static str,
    bytes: u64,
    files: usize,
    took: Duration,
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::new(Kind::Failure, format!("{}: {e}", what.display()))
}

/// Runs the tour.
pub async fn run(args: &DemoArgs, global: &Global, out: &Output) -> CmdResult {
    let real = global.token.is_some()
        || std::env::var_os("DROPBOX_REFRESH_TOKEN").is_some()
        || global.base_url.is_some();
    let conn: Connection = if real {
        connect(global, out).await?
    } else {
        out.note("dbx: no DROPBOX_TOKEN set: the demo runs on an embedded emulator in a temporary directory (no fsync; nothing leaves this machine)");
        start_emulator(
            EmulatorConfig {
                durable: false,
                ..EmulatorConfig::default()
            },
            global,
        )
        .await?
    };
    let result = tour(&conn, args, out).await;
    conn.close().await;
    result
}

async fn tour(conn: &Connection, args: &DemoArgs, out: &Output) -> CmdResult {
    let client = &conn.client;
    let work = tempfile::tempdir()?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let root = format!("/dbx-demo-{stamp}");
    let started = Instant::now();
    let mut steps = Vec::new();
    let mut expected: BTreeMap<String, String> = BTreeMap::new();

    // 1. A large file through a concurrent session.
    let size = args.size.max(1) * (1 << 20);
    let large = work.path().join("large.bin");
    out.note(format!(
        "[1/4] a {} file through a concurrent upload session (16 MiB chunks, {} in flight)",
        bytes(size),
        args.concurrency
    ));
    write_file(&large, size, 1).map_err(io(&large))?;
    let view = out.progress("large.bin", 1);
    let options = UploadOptions::default()
        .session_type(SessionType::Concurrent)
        .chunk_size(16 * MIB)
        .concurrency(args.concurrency)
        .progress(view.reporter());
    let t = Instant::now();
    let remote_large = format!("{root}/large.bin");
    let done = client
        .upload_file(
            &large,
            CommitInfo::new(remote_large.clone()).with_mode(WriteMode::Overwrite),
            &options,
        )
        .await;
    view.finish();
    let done = done.map_err(Failure::from)?;
    let took = t.elapsed();
    out.note(format!(
        "      {} in {:.2} s ({}); content hash verified by Dropbox and locally: {}",
        bytes(done.bytes),
        took.as_secs_f64(),
        rate(done.bytes, took),
        done.content_hash
    ));
    expected.insert(remote_large.to_lowercase(), done.content_hash.to_hex());
    steps.push(Step {
        name: "large file, concurrent session",
        bytes: done.bytes,
        files: 1,
        took,
    });

    // 2. A folder of small files through one batch.
    let folder = work.path().join("notes");
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    let mut items = Vec::with_capacity(args.files);
    let mut small_total = 0u64;
    for i in 0..args.files {
        let len = 100 + (i as u64 * 7919) % (16 << 10);
        let path: PathBuf = folder.join(format!("note-{i:04}.txt"));
        write_file(&path, len, 1000 + i as u64).map_err(io(&path))?;
        small_total += len;
        let remote = format!("{root}/notes/note-{i:04}.txt");
        let data = std::fs::read(&path).map_err(io(&path))?;
        expected.insert(
            remote.to_lowercase(),
            dropbox_upload::content_hash(&data).to_hex(),
        );
        items.push(BatchItem::file(path, CommitInfo::new(remote)));
    }
    out.note(format!(
        "[2/4] {} small files ({}) through one batch: start_batch, append_batch, finish_batch:2",
        args.files,
        bytes(small_total)
    ));
    let view = out.progress("notes/", args.files as u64);
    let batch = BatchOptions {
        upload: UploadOptions::default()
            .concurrency(args.concurrency * 4)
            .progress(view.reporter()),
        ..BatchOptions::default()
    };
    let t = Instant::now();
    let report = client.upload_batch(items, &batch).await;
    view.finish();
    let report = report.map_err(Failure::from)?;
    let took = t.elapsed();
    if let Some(Err(e)) = report.results.iter().find(|r| r.is_err()) {
        return Err(Failure::new(Kind::Failure, format!("batch: {e}")));
    }
    out.note(format!(
        "      {} files in {:.2} s ({:.0} files/s), {} commit call{}",
        report.succeeded(),
        took.as_secs_f64(),
        report.succeeded() as f64 / took.as_secs_f64().max(1e-6),
        report.commit_calls,
        if report.commit_calls == 1 { "" } else { "s" }
    ));
    steps.push(Step {
        name: "small files, one batch",
        bytes: small_total,
        files: args.files,
        took,
    });

    // 3. A temporary upload link, issued by the token holder, used by a second party.
    out.note("[3/4] a temporary upload link: the token holder issues it; a second party holding only the URL uploads");
    let remote_link = format!("{root}/from-partner.bin");
    let link = client
        .create_upload_link(
            CommitInfo::new(remote_link.clone()),
            Duration::from_secs(600),
        )
        .await
        .map_err(Failure::from)?;
    let handed_over = link.url().clone();
    let partner_file = work.path().join("partner.bin");
    write_file(&partner_file, 1 << 20, 7).map_err(io(&partner_file))?;
    let t = Instant::now();
    let partner = tokio::spawn({
        let file = partner_file.clone();
        async move {
            // The partner has no client and no token: only the link.
            TemporaryUploadLink::from_url(handed_over)
                .upload_file(&file)
                .await
        }
    });
    let hash = partner
        .await
        .map_err(|e| Failure::new(Kind::Failure, e.to_string()))?
        .map_err(Failure::from)?;
    let took = t.elapsed();
    let reuse = link.upload_bytes("again").await;
    out.note(format!(
        "      {} uploaded through the link in {:.2} s, content hash {hash}; using it again: {}",
        bytes(1 << 20),
        took.as_secs_f64(),
        match reuse {
            Err(e) => format!("refused ({e})"),
            Ok(_) => "accepted (unexpected)".into(),
        }
    ));
    expected.insert(remote_link.to_lowercase(), hash.to_hex());
    steps.push(Step {
        name: "temporary link, second party",
        bytes: 1 << 20,
        files: 1,
        took,
    });

    // 4. Verification of everything.
    out.note("[4/4] verification: list everything, compare every content hash, download the large file and hash it again");
    let t = Instant::now();
    let listed = list_all(client, &root, true).await?;
    let mut verified = 0usize;
    let mut seen = 0usize;
    for e in &listed {
        if let Metadata::File(f) = e {
            seen += 1;
            let key = f.path_lower.clone().unwrap_or_default();
            match expected.get(key.as_str()) {
                Some(h) if f.content_hash.as_deref() == Some(h.as_str()) => verified += 1,
                Some(_) => {
                    return Err(Failure::new(
                        Kind::Verification,
                        format!("{key}: content hash differs"),
                    ));
                }
                None => {
                    return Err(Failure::new(
                        Kind::Verification,
                        format!("{key}: unexpected file"),
                    ));
                }
            }
        }
    }
    if verified != expected.len() || seen != expected.len() {
        return Err(Failure::new(
            Kind::Verification,
            format!("{verified} of {} files verified", expected.len()),
        ));
    }
    let mut download =
        files::download(client, &DownloadArg::new(remote_large.clone()), None).await?;
    let mut hasher = ContentHasher::new();
    while let Some(chunk) = download
        .chunk()
        .await
        .map_err(|e| Failure::new(Kind::Transient, e.to_string()))?
    {
        hasher.update(&chunk);
    }
    let downloaded = hasher.len();
    if hasher.finish() != done.content_hash {
        return Err(Failure::new(
            Kind::Verification,
            "the large file came back different",
        ));
    }
    let took = t.elapsed();
    out.note(format!(
        "      {verified} files verified by content hash; {} downloaded and re-hashed in {:.2} s",
        bytes(downloaded),
        took.as_secs_f64()
    ));

    // Summary.
    let total_bytes: u64 = steps.iter().map(|s| s.bytes).sum();
    let total_files: usize = steps.iter().map(|s| s.files).sum();
    let elapsed = started.elapsed();
    let calls = conn.emulator.as_ref().map(|e| e.stats().snapshot());
    let total_calls: Option<u64> = calls.as_ref().map(|c| c.values().map(|r| r.calls).sum());
    out.line(format!(
        "summary: {} in {total_files} files uploaded and verified in {:.2} s",
        bytes(total_bytes),
        elapsed.as_secs_f64()
    ));
    for s in &steps {
        out.line(format!(
            "  {:<32} {:>10} {:>5} file{} {:>7.2} s  {}",
            s.name,
            bytes(s.bytes),
            s.files,
            if s.files == 1 { " " } else { "s" },
            s.took.as_secs_f64(),
            rate(s.bytes, s.took)
        ));
    }
    if let (Some(calls), Some(total)) = (&calls, total_calls) {
        out.line(format!("  API calls (emulator counters): {total}"));
        for (route, r) in calls.iter().filter(|(_, r)| r.calls > 0) {
            out.line(format!("    {route:<42} {:>5}", r.calls));
        }
    } else {
        out.line(format!(
            "  files are in {root} of your Dropbox; remove them with `dbx rm {root}`"
        ));
    }
    out.json(json!({
        "bytes": total_bytes,
        "files": total_files,
        "verified": verified,
        "seconds": elapsed.as_secs_f64(),
        "steps": steps.iter().map(|s| json!({"name": s.name, "bytes": s.bytes, "files": s.files, "seconds": s.took.as_secs_f64()})).collect::<Vec<_>>(),
        "commit_calls": report.commit_calls,
        "api_calls": calls.as_ref().map(|c| c.iter().map(|(k, v)| (k.clone(), v.calls)).collect::<BTreeMap<_, _>>()),
        "root": root,
    }));
    Ok(())
}
