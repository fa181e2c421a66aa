//! Upload rows of `cargo xtask bench`: a large file through the emulator on loopback
//! (against the raw limit of the same bytes without the toolkit, with the uploader's peak
//! memory), and many small files (a batch against one `files/upload` per file).
//!
//! Every large-file upload runs in a child process (`xtask bench-child`) so that its peak
//! resident memory is its own, not the emulator's or the other rows'.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle, FaultAction, FaultRule};
use dropbox_api::files::{self, CommitInfo, UploadArg, WriteMode};
use dropbox_api_runtime::ClientBuilder;
use dropbox_upload::BatchOptions;
use dropbox_upload::prelude::*;
use futures::StreamExt as _;
use serde::{Deserialize, Serialize};

use crate::bench::{Row, verdict};

const MIB: u64 = 1 << 20;
/// Chunk size and concurrency of the main large-file rows: `DBX_BENCH_CHUNK_MIB` (else
/// 16, the toolkit's default) and `DBX_BENCH_CONCURRENCY` (else 4, the default).
fn main_shape() -> Shape {
    Shape {
        chunk_mib: env_u64("DBX_BENCH_CHUNK_MIB").map_or(16, |n| n.max(1)),
        concurrency: env_u64("DBX_BENCH_CONCURRENCY").map_or(4, |n| n.max(1) as usize),
    }
}

/// The extra concurrent row: chunks of one 4 MiB block (they stay in the caches while
/// they are hashed and sent).
const SMALL_CHUNKS: Shape = Shape {
    chunk_mib: 4,
    concurrency: 4,
};

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}
/// Body size of the raw requests (under the 150 MiB request limit).
const RAW_REQUEST: u64 = 128 * MIB;

/// How the child uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
pub enum ChildMode {
    /// Plain requests, no toolkit: `start`, `append_v2` of 128 MiB bodies streamed from the
    /// file one after another, `finish`. No hashing, no retries.
    Raw,
    /// The toolkit, sequential session.
    Sequential,
    /// The toolkit, concurrent session.
    Concurrent,
}

/// Chunk size and requests in flight of a toolkit upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct Shape {
    /// Chunk size in MiB.
    #[arg(long, default_value_t = 16)]
    pub chunk_mib: u64,
    /// Requests in flight (concurrent sessions).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// What a child reports on stdout.
#[derive(Debug, Serialize, Deserialize)]
pub struct ChildReport {
    /// Seconds from the first request to the committed file.
    pub seconds: f64,
    /// Peak resident set (VmHWM) of the child, KiB.
    pub peak_rss_kib: u64,
    /// Bytes stored.
    pub bytes: u64,
}

/// Where the benchmark keeps its files and the emulator's: `DBX_BENCH_DIR`, else `/dev/shm`
/// (memory) when it exists, so that the rows measure the toolkit and the loopback link
/// rather than this machine's disk; else the temporary directory.
fn bench_dir() -> Result<tempfile::TempDir> {
    let base = match std::env::var_os("DBX_BENCH_DIR") {
        Some(d) => PathBuf::from(d),
        None if Path::new("/dev/shm").is_dir() => PathBuf::from("/dev/shm"),
        None => std::env::temp_dir(),
    };
    Ok(tempfile::Builder::new()
        .prefix("dbx-bench")
        .tempdir_in(base)?)
}

/// Where the benchmark files are, for the table.
pub fn bench_dir_label() -> String {
    match std::env::var("DBX_BENCH_DIR") {
        Ok(d) => d,
        Err(_) if Path::new("/dev/shm").is_dir() => "/dev/shm (tmpfs)".into(),
        Err(_) => std::env::temp_dir().display().to_string(),
    }
}

fn client(url: &str, token: &str) -> Result<dropbox_api::UserClient> {
    Ok(ClientBuilder::new()
        .access_token(token.to_owned())
        .base_url(url)
        .build_user()?)
}

/// Peak resident set of this process in KiB (0 where /proc is not available).
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The child: uploads `file` once and prints a [`ChildReport`] as JSON.
pub fn child(
    mode: ChildMode,
    shape: Shape,
    url: &str,
    token: &str,
    file: &Path,
    remote: &str,
) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (seconds, bytes) = rt.block_on(async {
        let started = Instant::now();
        let bytes = match mode {
            ChildMode::Raw => raw_upload(url, token, file, remote).await?,
            ChildMode::Sequential | ChildMode::Concurrent => {
                let options = UploadOptions::default()
                    .chunk_size(shape.chunk_mib * MIB)
                    .concurrency(shape.concurrency)
                    .session_type(if mode == ChildMode::Sequential {
                        SessionType::Sequential
                    } else {
                        SessionType::Concurrent
                    });
                let commit = CommitInfo::new(remote).with_mode(WriteMode::Overwrite);
                client(url, token)?
                    .upload_file(file, commit, &options)
                    .await?
                    .bytes
            }
        };
        anyhow::Ok((started.elapsed().as_secs_f64(), bytes))
    })?;
    let report = ChildReport {
        seconds,
        peak_rss_kib: peak_rss_kib(),
        bytes,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// The raw limit: the file's bytes in plain requests, streamed from disk, one at a time.
async fn raw_upload(url: &str, token: &str, file: &Path, remote: &str) -> Result<u64> {
    use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};
    let http = dropbox_api_runtime::http_client_builder().build()?;
    let post = |route: &str, arg: String| {
        http.post(format!("{url}/2/files/{route}"))
            .bearer_auth(token)
            .header("Content-Type", "application/octet-stream")
            .header("Dropbox-API-Arg", arg)
    };
    let len = tokio::fs::metadata(file).await?.len();
    let r = post("upload_session/start", "{}".into()).send().await?;
    if !r.status().is_success() {
        bail!("start: {}", r.status());
    }
    let v: serde_json::Value = r.json().await?;
    let session = v["session_id"]
        .as_str()
        .context("no session id")?
        .to_owned();
    let mut offset = 0;
    while offset < len {
        let n = RAW_REQUEST.min(len - offset);
        let mut f = tokio::fs::File::open(file).await?;
        f.seek(std::io::SeekFrom::Start(offset)).await?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            f.take(n),
            1 << 20,
        ));
        let arg = serde_json::json!({"cursor": {"session_id": session, "offset": offset}});
        let r = post("upload_session/append_v2", arg.to_string())
            .header("Content-Length", n)
            .body(body)
            .send()
            .await?;
        if !r.status().is_success() {
            bail!("append at {offset}: {} {}", r.status(), r.text().await?);
        }
        offset += n;
    }
    let arg = serde_json::json!({
        "cursor": {"session_id": session, "offset": len},
        "commit": {"path": remote, "mode": "overwrite"}
    });
    let r = post("upload_session/finish", arg.to_string())
        .send()
        .await?;
    if !r.status().is_success() {
        bail!("finish: {} {}", r.status(), r.text().await?);
    }
    Ok(len)
}

fn run_child(
    (mode, shape): (ChildMode, Shape),
    emu: &EmulatorHandle,
    file: &Path,
    remote: &str,
) -> Result<ChildReport> {
    let exe = std::env::current_exe()?;
    // With DBX_BENCH_PIN=1 (and `taskset -c 0 cargo xtask bench`), the uploader gets the
    // other core to itself, as if client and server were separate machines.
    let mut cmd = if std::env::var_os("DBX_BENCH_PIN").is_some() {
        let mut c = std::process::Command::new("taskset");
        c.arg("-c").arg("1").arg(exe);
        c
    } else {
        std::process::Command::new(exe)
    };
    let out = cmd
        .arg("bench-child")
        .arg("--mode")
        .arg(format!("{mode:?}").to_lowercase())
        .arg("--url")
        .arg(emu.base_url())
        .arg("--token")
        .arg(emu.access_token())
        .arg("--file")
        .arg(file)
        .arg("--remote")
        .arg(remote)
        .arg("--chunk-mib")
        .arg(shape.chunk_mib.to_string())
        .arg("--concurrency")
        .arg(shape.concurrency.to_string())
        .output()?;
    if !out.status.success() {
        bail!(
            "bench child ({mode:?}) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

fn write_random(path: &Path, len: u64) -> Result<()> {
    use std::io::Write as _;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for c in buf.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
        }
        let n = left.min(buf.len() as u64) as usize;
        f.write_all(&buf[..n])?;
        left -= n as u64;
    }
    f.flush()?;
    Ok(())
}

/// The median run (with the highest peak memory of all runs) and the fastest and slowest
/// times.
fn median_of(mut v: Vec<ChildReport>) -> (ChildReport, f64, f64) {
    v.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    let peak = v.iter().map(|r| r.peak_rss_kib).max().unwrap_or(0);
    let fastest = v.first().map_or(0.0, |r| r.seconds);
    let slowest = v.last().map_or(0.0, |r| r.seconds);
    let mid = v.len() / 2;
    let mut m = v.swap_remove(mid);
    m.peak_rss_kib = peak;
    (m, fastest, slowest)
}

/// The large-file rows. Size: `DBX_BENCH_LARGE_MIB` (default 1024).
pub fn large_rows(rows: &mut Vec<Row>) -> Result<()> {
    let mib = env_u64("DBX_BENCH_LARGE_MIB").unwrap_or(1024);
    let runs = 5;
    let dir = bench_dir()?;
    let file: PathBuf = dir.path().join("large.bin");
    write_random(&file, mib * MIB)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let emu = rt.block_on(Emulator::start(EmulatorConfig {
        data_dir: Some(dir.path().join("emulator")),
        durable: false,
        ..EmulatorConfig::default()
    }))?;
    let main = main_shape();
    let mut configs = vec![
        (ChildMode::Raw, main),
        (ChildMode::Sequential, main),
        (ChildMode::Concurrent, main),
    ];
    if main != SMALL_CHUNKS {
        configs.push((ChildMode::Concurrent, SMALL_CHUNKS));
    }
    // One warm-up each (page cache, emulator storage), then `runs` rounds with the
    // configurations interleaved, so that drift of the machine affects all alike; medians.
    for c in &configs {
        run_child(*c, &emu, &file, "/bench/large.bin")?;
    }
    let mut reports: Vec<Vec<ChildReport>> = configs.iter().map(|_| Vec::new()).collect();
    for _ in 0..runs {
        for (i, c) in configs.iter().enumerate() {
            reports[i].push(run_child(*c, &emu, &file, "/bench/large.bin")?);
        }
    }
    rt.block_on(emu.shutdown());
    let results: Vec<_> = configs
        .into_iter()
        .zip(reports.into_iter().map(median_of))
        .collect();
    let raw = results[0].1.0.seconds;
    let size = mib * MIB;
    for ((mode, shape), (r, fastest, slowest)) in &results {
        let mbs = |secs: f64| size as f64 / secs / 1e6;
        let speed = mbs(r.seconds);
        let peak_mib = r.peak_rss_kib as f64 / 1024.0;
        let ratio = raw / r.seconds;
        let (name, target) = match mode {
            ChildMode::Raw => (
                format!(
                    "large: raw limit, {mib} MiB in {} MiB appends, no toolkit",
                    RAW_REQUEST / MIB
                ),
                format!("the limit; peak RSS {peak_mib:.0} MiB"),
            ),
            ChildMode::Sequential => {
                let bound = (shape.chunk_mib * 2) as f64 + 64.0;
                (
                    format!("large: sequential session, {} MiB chunks", shape.chunk_mib),
                    format!(
                        "{ratio:.2}x raw; peak RSS {peak_mib:.0} MiB <= {bound:.0} MiB: {}",
                        verdict(peak_mib <= bound)
                    ),
                )
            }
            ChildMode::Concurrent => {
                let bound = (shape.chunk_mib * (shape.concurrency as u64 + 1)) as f64 + 64.0;
                (
                    format!(
                        "large: concurrent session, {} MiB x {} in flight",
                        shape.chunk_mib, shape.concurrency
                    ),
                    format!(
                        "{ratio:.2}x raw >= 0.8x: {}; peak RSS {peak_mib:.0} MiB <= {bound:.0} MiB: {}",
                        verdict(ratio >= 0.8),
                        verdict(peak_mib <= bound)
                    ),
                )
            }
        };
        rows.push(Row {
            name,
            median: Duration::from_secs_f64(r.seconds),
            figure: format!(
                "{speed:.0} MB/s ({:.0}-{:.0})",
                mbs(*slowest),
                mbs(*fastest)
            ),
            target,
        });
    }
    Ok(())
}

/// The many-files rows: 5,000 files of 4 KiB with 20 ms of latency on every request.
pub fn many_rows(rows: &mut Vec<Row>) -> Result<()> {
    const FILES: usize = 5000;
    const SIZE: usize = 4096;
    const CONC: usize = 16;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let dir = bench_dir()?;
        let emu = Emulator::start(EmulatorConfig {
            data_dir: Some(dir.path().to_path_buf()),
            durable: false,
            ..EmulatorConfig::default()
        })
        .await?;
        emu.faults()
            .add(FaultRule::new("files/*", FaultAction::Latency { millis: 20 }));
        let client = client(emu.base_url(), emu.access_token())?;
        let data = |prefix: &str, i: usize| -> (String, Vec<u8>) {
            let mut b = format!("{prefix} {i} ").into_bytes();
            b.resize(SIZE, b'.');
            (format!("/{prefix}/{i:05}.txt"), b)
        };

        // The batch.
        let items: Vec<BatchItem> = (0..FILES)
            .map(|i| {
                let (path, bytes) = data("batch", i);
                BatchItem::bytes(bytes, CommitInfo::new(path))
            })
            .collect();
        let options = BatchOptions {
            upload: UploadOptions::default().concurrency(CONC),
            ..BatchOptions::default()
        };
        let t = Instant::now();
        let report = client.upload_batch(items, &options).await?;
        let batch = t.elapsed();
        anyhow::ensure!(report.succeeded() == FILES, "the batch lost files");
        let commits = emu.stats().calls("files/upload_session/finish_batch_v2");
        let requests: u64 = emu.stats().snapshot().values().map(|r| r.calls).sum();

        // One files/upload per file, same concurrency.
        let t = Instant::now();
        let results: Vec<_> = futures::stream::iter((0..FILES).map(|i| {
            let client = &client;
            async move {
                let (path, bytes) = data("single", i);
                files::upload(client, &UploadArg::new(path), bytes).await
            }
        }))
        .buffer_unordered(CONC)
        .collect()
        .await;
        let single = t.elapsed();
        anyhow::ensure!(results.iter().all(Result::is_ok), "a single upload failed");
        emu.shutdown().await;

        let ratio = single.as_secs_f64() / batch.as_secs_f64();
        rows.push(Row {
            name: format!("many: {FILES} x 4 KiB, one files/upload each, {CONC} in flight, 20 ms latency"),
            median: single,
            figure: format!("{:.0} files/s", FILES as f64 / single.as_secs_f64()),
            target: format!("{FILES} requests"),
        });
        rows.push(Row {
            name: format!("many: {FILES} x 4 KiB, upload_batch, {CONC} in flight, 20 ms latency"),
            median: batch,
            figure: format!("{:.0} files/s", FILES as f64 / batch.as_secs_f64()),
            target: format!(
                "{ratio:.1}x faster >= 10x: {}; {commits} commit calls == 5: {}; {requests} requests",
                verdict(ratio >= 10.0),
                verdict(commits == 5)
            ),
        });
        anyhow::Ok(())
    })
}
