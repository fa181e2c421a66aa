//! Raw ingest of a 1 GiB upload session over loopback.
//!
//! `cargo bench -p dbx-emulator --bench ingest`. Each iteration opens a session, appends
//! 1 GiB in 128 MiB calls (sequential: one after another; concurrent: four in flight) and
//! is timed until the last append is acknowledged. Committing and deleting the file
//! afterwards is not timed.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use dropbox_api::files::{
    CommitInfo, DeleteArg, UploadSessionAppendArg, UploadSessionCursor, UploadSessionFinishArg,
    UploadSessionStartArg, UploadSessionStartResult, UploadSessionType,
};

const TOTAL: usize = 1 << 30;
const CHUNK: usize = 128 << 20;

struct Bench {
    base: String,
    token: String,
    http: reqwest::Client,
    chunk: Bytes,
}

impl Bench {
    async fn upload<A: serde::Serialize>(&self, route: &str, arg: &A, body: Bytes) -> Vec<u8> {
        let r = self
            .http
            .post(format!("{}/2/{route}", self.base))
            .bearer_auth(&self.token)
            .header("Content-Type", "application/octet-stream")
            .header("Dropbox-API-Arg", serde_json::to_string(arg).unwrap())
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{route}: {}", r.status());
        r.bytes().await.unwrap().to_vec()
    }

    async fn start(&self, concurrent: bool) -> String {
        let mut arg = UploadSessionStartArg::new();
        if concurrent {
            arg = arg.with_session_type(UploadSessionType::Concurrent);
        }
        let body = self
            .upload("files/upload_session/start", &arg, Bytes::new())
            .await;
        serde_json::from_slice::<UploadSessionStartResult>(&body)
            .unwrap()
            .session_id
            .into_string()
    }

    async fn append(&self, sid: &str, offset: u64, close: bool) {
        let arg =
            UploadSessionAppendArg::new(UploadSessionCursor::new(sid, offset)).with_close(close);
        self.upload("files/upload_session/append_v2", &arg, self.chunk.clone())
            .await;
    }

    /// Commits and deletes the file (not timed).
    async fn cleanup(&self, sid: &str, n: usize) {
        let path = format!("/bench/{n}.bin");
        let arg = UploadSessionFinishArg::new(
            UploadSessionCursor::new(sid, TOTAL as u64),
            CommitInfo::new(&path),
        );
        self.upload("files/upload_session/finish", &arg, Bytes::new())
            .await;
        let r = self
            .http
            .post(format!("{}/2/files/delete_v2", self.base))
            .bearer_auth(&self.token)
            .json(&DeleteArg::new(&path))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

fn ingest(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let emu: EmulatorHandle = rt.block_on(async {
        Emulator::start(EmulatorConfig {
            durable: false,
            ..EmulatorConfig::default()
        })
        .await
        .unwrap()
    });
    let bench = std::sync::Arc::new(Bench {
        base: emu.base_url().to_string(),
        token: emu.access_token().to_string(),
        http: dropbox_api::http_client_builder().build().unwrap(),
        chunk: Bytes::from(
            (0..CHUNK)
                .map(|i| (i as u32).wrapping_mul(2_654_435_761) as u8)
                .collect::<Vec<u8>>(),
        ),
    });
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Bytes(TOTAL as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.warm_up_time(Duration::from_secs(3));
    let mut n = 0usize;
    group.bench_function("sequential_session_1GiB", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let sid = bench.start(false).await;
                    for i in 0..TOTAL / CHUNK {
                        bench
                            .append(&sid, (i * CHUNK) as u64, i + 1 == TOTAL / CHUNK)
                            .await;
                    }
                    total += t.elapsed();
                    n += 1;
                    bench.cleanup(&sid, n).await;
                }
                total
            })
        })
    });
    group.bench_function("concurrent_session_1GiB_4_in_flight", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let sid = bench.start(true).await;
                    let mut tasks = tokio::task::JoinSet::new();
                    for i in 0..TOTAL / CHUNK {
                        while tasks.len() >= 4 {
                            tasks.join_next().await.unwrap().unwrap();
                        }
                        let bench = bench.clone();
                        let sid = sid.clone();
                        tasks.spawn(async move {
                            bench
                                .append(&sid, (i * CHUNK) as u64, i + 1 == TOTAL / CHUNK)
                                .await
                        });
                    }
                    while let Some(r) = tasks.join_next().await {
                        r.unwrap();
                    }
                    total += t.elapsed();
                    n += 1;
                    bench.cleanup(&sid, n).await;
                }
                total
            })
        })
    });
    group.finish();
    rt.block_on(emu.shutdown());
}

criterion_group!(benches, ingest);
criterion_main!(benches);
