//! `cargo xtask soak [--short] [--seed N]`: uploads a mix of large files (concurrent and
//! sequential sessions), batches of small files, single-request files and temporary links
//! through an emulator that injects faults (resets mid-body and before the answer, 500, 503,
//! 429 with `Retry-After`, latency), then checks that every file is present exactly once
//! with the right content hash and that nothing else is there.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use dbx_emulator::{Emulator, EmulatorConfig, FaultAction, FaultRule, RateLimitKind};
use dropbox_api::files::{self, CommitInfo, ListFolderArg, Metadata};
use dropbox_api_runtime::hooks::{AttemptEnd, Interceptor, Outcome};
use dropbox_api_runtime::{ClientBuilder, RetryPolicy};

/// The soak client's idle timeout: short, since the emulator answers at once unless a fault
/// stalls it.
const IDLE: Duration = Duration::from_secs(1);
use dropbox_upload::prelude::*;
use dropbox_upload::{BatchOptions, LinkError};

/// The shape of a run.
struct Plan {
    /// Rounds at least; then more until `min_faults` failures (faults other than added
    /// latency) were injected.
    rounds: usize,
    min_faults: u64,
    max_rounds: usize,
    large: usize,
    large_mib: usize,
    small: usize,
    single: usize,
    links: usize,
    /// Multiplies every fault probability.
    fault_scale: f64,
}

fn faults(p: f64) -> Vec<FaultRule> {
    let r = |route: &str, action: FaultAction, prob: f64| {
        FaultRule::new(route, action).with_probability(prob * p)
    };
    let mut rules = Vec::new();
    for route in [
        "files/upload_session/append_v2",
        "files/upload_session/append_batch",
        "files/upload_session/start",
        "files/upload_session/start_batch",
        "files/upload_session/finish",
        "files/upload_session/finish_batch_v2",
        "files/upload",
        "files/get_temporary_upload_link",
    ] {
        rules.push(r(route, FaultAction::Latency { millis: 5 }, 0.3));
        rules.push(r(route, FaultAction::InternalError, 0.04));
        rules.push(r(route, FaultAction::ServiceUnavailable, 0.04));
        rules.push(r(route, FaultAction::ResetBeforeResponse, 0.03));
        rules.push(r(
            route,
            FaultAction::RateLimited {
                retry_after: 1,
                reason: RateLimitKind::TooManyRequests,
            },
            0.015,
        ));
        // Stalls, each ended by the client's idle timeout: an answer that never comes
        // (after the call took effect), a body the server stops reading, an answer that
        // stops after its headers, and one that trickles.
        rules.push(r(route, FaultAction::StallBeforeResponse, 0.006));
        rules.push(r(
            route,
            FaultAction::StallRequestBody { bytes: 300 },
            0.006,
        ));
        rules.push(r(route, FaultAction::StallResponseBody { bytes: 2 }, 0.006));
        rules.push(r(
            route,
            FaultAction::Trickle {
                interval_millis: 250,
            },
            0.006,
        ));
    }
    for route in [
        "files/upload_session/finish",
        "files/upload_session/finish_batch_v2",
    ] {
        rules.push(r(
            route,
            FaultAction::RateLimited {
                retry_after: 1,
                reason: RateLimitKind::TooManyWriteOperations,
            },
            0.01,
        ));
    }
    // Resets mid-body: the threshold is under the usual body of the route (chunks of 4 MiB,
    // packed batches, single-request files of 1 to 47 KB).
    for (route, bytes) in [
        ("files/upload_session/append_v2", 64 * 1024),
        ("files/upload_session/append_batch", 4 * 1024),
        ("files/upload", 512),
    ] {
        rules.push(r(route, FaultAction::ResetAfterBytes { bytes }, 0.04));
    }
    // Link consumption: failures before the link is used (500, 503, a reset mid-body), and
    // a reset after the file was committed, where the second party's retry meets 410.
    // And 429 (`LinkError` carries no `Retry-After`, so the second party backs off on its own).
    rules.push(r("apitul/*", FaultAction::Latency { millis: 5 }, 0.3));
    rules.push(r("apitul/*", FaultAction::InternalError, 0.04));
    rules.push(r("apitul/*", FaultAction::ServiceUnavailable, 0.06));
    rules.push(r(
        "apitul/*",
        FaultAction::ResetAfterBytes { bytes: 16 * 1024 },
        0.05,
    ));
    rules.push(r("apitul/*", FaultAction::ResetBeforeResponse, 0.04));
    rules.push(r("apitul/*", FaultAction::StallBeforeResponse, 0.02));
    rules.push(r(
        "apitul/*",
        FaultAction::StallRequestBody { bytes: 8 * 1024 },
        0.02,
    ));
    rules.push(r(
        "apitul/*",
        FaultAction::RateLimited {
            retry_after: 1,
            reason: RateLimitKind::TooManyRequests,
        },
        0.03,
    ));
    rules
}

/// Counts what the request lifecycle reports through its interceptor hook: every attempt
/// that will be retried, by route and by what went wrong.
#[derive(Clone, Default)]
struct RetryCounter(Arc<Mutex<BTreeMap<String, u64>>>);

impl RetryCounter {
    fn add(&self, kind: String, n: u64) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(kind).or_default() += n;
        }
    }

    fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Interceptor for RetryCounter {
    fn after_attempt(&self, end: &AttemptEnd<'_>) {
        if end.retry_in.is_none() {
            return;
        }
        let why = match end.outcome {
            Outcome::Status(s) => s.to_string(),
            Outcome::Timeout(k) => format!("{k} timeout"),
            Outcome::Transport(t) => t.to_owned(),
            Outcome::Token => "token".to_owned(),
            _ => "other".to_owned(),
        };
        self.add(why, 1);
    }
}

fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = vec![0u8; len];
    for c in v.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.copy_from_slice(&x.to_le_bytes()[..c.len()]);
    }
    v
}

/// Runs the soak.
pub fn run(short: bool, seed: u64) -> Result<()> {
    let plan = if short {
        Plan {
            rounds: 20,
            min_faults: 300,
            max_rounds: 80,
            large: 2,
            large_mib: 24,
            small: 600,
            single: 30,
            links: 5,
            fault_scale: 1.0,
        }
    } else {
        Plan {
            rounds: 20,
            min_faults: 1000,
            max_rounds: 300,
            large: 3,
            large_mib: 64,
            small: 2500,
            single: 60,
            links: 10,
            fault_scale: 2.0,
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(soak(plan, seed, RetryCounter::default()))
}

async fn soak(plan: Plan, seed: u64, retries: RetryCounter) -> Result<()> {
    let started = Instant::now();
    let dir = tempfile::tempdir()?;
    let emu = Emulator::start(EmulatorConfig {
        data_dir: Some(dir.path().to_path_buf()),
        durable: false,
        faults: faults(plan.fault_scale),
        fault_seed: seed,
        // The server gives up on a stalled request body after 2 s (Dropbox, later), which
        // frees the session that the stalled request held.
        limits: dbx_emulator::Limits {
            body_idle_timeout: Duration::from_secs(2),
            ..dbx_emulator::Limits::default()
        },
        ..EmulatorConfig::default()
    })
    .await?;
    let retry = RetryPolicy::default()
        .max_attempts(12)
        .delays(Duration::from_millis(20), Duration::from_secs(2))
        .deadline(Duration::from_secs(300));
    let client = ClientBuilder::new()
        .access_token(emu.access_token().to_owned())
        .base_url(emu.base_url())
        .retry_policy(retry.clone())
        .idle_timeout(IDLE)
        .interceptor(retries.clone())
        .build_user()?;
    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    let mut bytes_total = 0u64;
    let mut round = 0;
    let failures =
        |emu: &dbx_emulator::EmulatorHandle| effective_failures(emu).values().sum::<u64>();
    while round < plan.rounds || (failures(&emu) < plan.min_faults && round < plan.max_rounds) {
        let base = format!("/soak/round-{round:03}");
        let s = seed.wrapping_mul(1000).wrapping_add(round as u64 * 97);

        // Large files, concurrent and sequential sessions, all at once; every other one
        // read from a local file (the path that reuses chunk buffers), the rest from memory.
        let files_dir = dir.path().join("local");
        std::fs::create_dir_all(&files_dir)?;
        let large = (0..plan.large).map(|i| {
            let body = data(plan.large_mib * (1 << 20) + i * 12_345, s + i as u64);
            let path = format!("{base}/large-{i}.bin");
            let from_file = (i + round) % 2 == 0;
            let local = files_dir.join(format!("large-{round}-{i}.bin"));
            let options = UploadOptions::default()
                .chunk_size(4 << 20)
                .concurrency(4)
                .session_type(if i % 2 == 0 {
                    SessionType::Concurrent
                } else {
                    SessionType::Sequential
                })
                .retry(retry.clone());
            let hash = dropbox_upload::content_hash(&body).to_hex();
            let client = &client;
            async move {
                let commit = CommitInfo::new(path.clone());
                let out = within(async {
                    if from_file {
                        match tokio::fs::write(&local, &body).await {
                            Ok(()) => {
                                drop(body);
                                let out = client.upload_file(&local, commit, &options).await;
                                let _ = tokio::fs::remove_file(&local).await;
                                out.map(|o| o.bytes).map_err(anyhow::Error::from)
                            }
                            Err(e) => Err(e.into()),
                        }
                    } else {
                        client
                            .upload_bytes(body, commit, &options)
                            .await
                            .map(|o| o.bytes)
                            .map_err(anyhow::Error::from)
                    }
                })
                .await
                .unwrap_or_else(hung);
                (path, hash, out)
            }
        });
        // A batch of small files (some large enough for appends of their own).
        let mut items = Vec::new();
        let mut batch_expected = Vec::new();
        for i in 0..plan.small {
            let len = if i % 500 == 499 {
                9 << 20
            } else {
                1 + (i * 131) % 8192
            };
            let body = data(len, s + 10_000 + i as u64);
            let path = format!("{base}/small/{i:05}.txt");
            batch_expected.push((
                path.clone(),
                dropbox_upload::content_hash(&body).to_hex(),
                len,
            ));
            items.push(BatchItem::bytes(body, CommitInfo::new(path)));
        }
        let batch_options = BatchOptions {
            upload: UploadOptions::default()
                .chunk_size(4 << 20)
                .concurrency(8)
                .retry(retry.clone()),
            commit_rounds: 12,
            ..BatchOptions::default()
        };
        let batch = client.upload_batch(items, &batch_options);
        // Files in one request each.
        let single = (0..plan.single).map(|i| {
            let body = data(1000 + i * 777, s + 20_000 + i as u64);
            let path = format!("{base}/single/{i:03}.bin");
            let hash = dropbox_upload::content_hash(&body).to_hex();
            let options = UploadOptions::default().retry(retry.clone());
            let client = &client;
            async move {
                let out =
                    within(client.upload_bytes(body, CommitInfo::new(path.clone()), &options))
                        .await
                        .map(|r| r.map(|o| o.bytes).map_err(anyhow::Error::from))
                        .unwrap_or_else(hung);
                (path, hash, out)
            }
        });
        // Temporary links: issued with the token, used by a party holding only the URL.
        let links = (0..plan.links).map(|i| {
            let body = data(50_000 + i * 999, s + 30_000 + i as u64);
            let path = format!("{base}/links/{i:03}.bin");
            let hash = dropbox_upload::content_hash(&body).to_hex();
            let client = &client;
            let retries = &retries;
            async move {
                let out = within(link_upload(client, &path, body, retries))
                    .await
                    .unwrap_or_else(hung);
                (path, hash, out)
            }
        });
        let (large, batch, single, links) = tokio::join!(
            futures::future::join_all(large),
            within(batch),
            futures::future::join_all(single),
            futures::future::join_all(links),
        );
        for (path, hash, out) in large.into_iter().chain(single).chain(links) {
            match out {
                Ok(n) => bytes_total += n,
                Err(e) => bail!("{path}: {e}"),
            }
            expected.insert(path.to_lowercase(), hash);
        }
        let report = match batch {
            Some(r) => r?,
            None => bail!("a batch upload hung (no result within {HANG:?})"),
        };
        for ((path, hash, len), r) in batch_expected.into_iter().zip(&report.results) {
            if let Err(e) = r {
                bail!("{path}: {e}");
            }
            bytes_total += len as u64;
            expected.insert(path.to_lowercase(), hash);
        }
        println!(
            "round {round}: {} files so far, {} failures injected (+{} latency), {:.0} s",
            expected.len(),
            failures(&emu),
            emu.faults()
                .injected_by_kind()
                .get("latency")
                .copied()
                .unwrap_or(0),
            started.elapsed().as_secs_f64()
        );
        round += 1;
    }

    // Verification, with the faults off: the whole account, recursively.
    emu.faults().clear();
    let mut listed: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let everything = ListFolderArg::new("").with_recursive(true);
    let mut entries = std::pin::pin!(files::list_folder_stream(&client, &everything));
    while let Some(e) = futures::StreamExt::next(&mut entries).await {
        if let Metadata::File(f) = e? {
            listed
                .entry(f.path_lower.map(String::from).unwrap_or_default())
                .or_default()
                .push(f.content_hash.map(String::from).unwrap_or_default());
        }
    }
    let mut problems = Vec::new();
    let mut verified = 0;
    for (path, hash) in &expected {
        match listed.get(path).map(Vec::as_slice) {
            Some([h]) if h == hash => verified += 1,
            Some([h]) => problems.push(format!("{path}: content hash {h}, expected {hash}")),
            Some(more) => problems.push(format!("{path}: listed {} times", more.len())),
            None => problems.push(format!("{path}: missing")),
        }
    }
    for path in listed.keys().filter(|p| !expected.contains_key(*p)) {
        problems.push(format!(
            "{path}: unexpected file (a duplicate or a half-written upload)"
        ));
    }

    let stats = emu.stats().snapshot();
    let requests: u64 = stats.values().map(|r| r.calls).sum();
    let mut failed: BTreeMap<u16, u64> = BTreeMap::new();
    let mut conflicts: BTreeMap<&str, u64> = BTreeMap::new();
    for (route, r) in &stats {
        for (status, n) in &r.statuses {
            if *status == 0 || *status >= 400 {
                *failed.entry(*status).or_default() += n;
            }
            if *status == 409 {
                *conflicts.entry(route.as_str()).or_default() += n;
            }
        }
    }
    let failed_total: u64 = failed.values().sum();
    println!(
        "\nsoak: {round} rounds in {:.1} s (seed {})",
        started.elapsed().as_secs_f64(),
        emu.faults().seed()
    );
    let injected_failures = failures(&emu);
    let by_kind = emu.faults().injected_by_kind();
    println!(
        "  faults injected: {injected_failures} failures ({}) plus {} added latencies",
        fmt_map(&effective_failures(&emu)),
        by_kind.get("latency").copied().unwrap_or(0),
    );
    println!(
        "    resets mid-body: {} drawn, {} cut a body (one drawn for a body shorter than its threshold does nothing and is not counted)",
        by_kind.get("reset_after_bytes").copied().unwrap_or(0),
        effective_failures(&emu)
            .get("reset_after_bytes")
            .copied()
            .unwrap_or(0),
    );
    println!(
        "  requests: {requests}; failed answers and dropped connections, each met by a retry or a recovery: {failed_total} ({})",
        failed
            .iter()
            .map(|(s, n)| format!(
                "{}: {n}",
                if *s == 0 {
                    "reset".to_owned()
                } else {
                    s.to_string()
                }
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !conflicts.is_empty() {
        println!(
            "    409 by route (offsets corrected after a lost append, lookups after a lost commit): {}",
            conflicts
                .iter()
                .map(|(r, n)| format!("{r}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let retried = retries.snapshot();
    println!(
        "  retries made by the request lifecycle (counted by its hook), by cause: {} ({})",
        retried.values().sum::<u64>(),
        retried
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  files verified: {verified} of {} ({:.1} MiB), each present once with the right content hash",
        expected.len(),
        bytes_total as f64 / (1 << 20) as f64
    );
    println!("  hangs: 0 (every upload, batch and link ended within {HANG:?})");
    println!(
        "  upload sessions left open on the server: {} (abandoned after a lost answer, e.g. of start_batch; they expire)",
        emu.upload_sessions()
    );
    emu.shutdown().await;
    if injected_failures < plan.min_faults {
        problems.push(format!(
            "only {injected_failures} failures were injected (at least {} wanted)",
            plan.min_faults
        ));
    }
    if !problems.is_empty() {
        for p in problems.iter().take(20) {
            eprintln!("  PROBLEM: {p}");
        }
        bail!("{} problems", problems.len());
    }
    Ok(())
}

/// Failures injected by kind, counting only resets mid-body that cut a body: a reset drawn
/// for a body shorter than its threshold does nothing. The connections the emulator reset
/// are its answers with status 0; those not reset before the answer were cut mid-body.
fn effective_failures(emu: &dbx_emulator::EmulatorHandle) -> BTreeMap<String, u64> {
    let mut kinds = emu.faults().injected_by_kind();
    kinds.remove("latency");
    let resets: u64 = emu
        .stats()
        .snapshot()
        .values()
        .filter_map(|r| r.statuses.get(&0))
        .sum();
    // Resets the emulator made for other faults: before the answer, and at the end of a
    // stall (when the client gave up on it).
    let others: u64 = [
        "reset_before_response",
        "stall_before_response",
        "stall_request_body",
        "stall_response_body",
        "trickle",
    ]
    .iter()
    .map(|k| kinds.get(*k).copied().unwrap_or(0))
    .sum();
    let drawn = kinds.get("reset_after_bytes").copied().unwrap_or(0);
    kinds.insert(
        "reset_after_bytes".into(),
        resets.saturating_sub(others).min(drawn),
    );
    kinds
}

fn fmt_map(m: &BTreeMap<String, u64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Issues a link and uploads through it as the second party would. The lifecycle retries
/// transient failures of both steps; a 410 after a lost answer means an earlier attempt used
/// the link, which the final listing checks.
async fn link_upload(
    client: &dropbox_api::UserClient,
    path: &str,
    body: Vec<u8>,
    retries: &RetryCounter,
) -> Result<u64> {
    let len = body.len() as u64;
    let link = client
        .create_upload_link(CommitInfo::new(path), Duration::from_secs(3600))
        .await?;
    // The second party: only the URL, with its own (credential-less) client settings.
    let party = TemporaryUploadLink::from_url(link.url().clone())
        .with_transport(dropbox_api_runtime::auth::AuthClient::transport(client));
    match party.upload_bytes(body).await {
        Ok(_) => Ok(len),
        Err(LinkError::UsedByLostAttempt { .. }) => {
            retries.add("link found used after a lost answer".into(), 1);
            Ok(len)
        }
        Err(e) => Err(e.into()),
    }
}

/// The longest one upload may take before the soak calls it hung: far above what the
/// injected faults cost (each stall ends after the idle timeout).
const HANG: Duration = Duration::from_secs(180);

/// `f`'s output, or `None` if it hung.
async fn within<T>(f: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(HANG, f).await.ok()
}

fn hung<T>() -> Result<T> {
    Err(anyhow::anyhow!("hung: no result within {HANG:?}"))
}
