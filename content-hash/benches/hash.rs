//! Content hash throughput against plain SHA-256 of the same bytes (the limit), and the
//! parallel file hasher. `cargo bench -p dropbox-content-hash`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dropbox_content_hash::{ContentHasher, hash_file_parallel};
use sha2::{Digest, Sha256};

const LEN: usize = 64 * 1024 * 1024;

fn bench(c: &mut Criterion) {
    let data: Vec<u8> = (0..LEN).map(|i| (i * 31 % 251) as u8).collect();
    let mut g = c.benchmark_group("hash_64MiB");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.sample_size(20);
    g.bench_function("sha256_plain", |b| b.iter(|| Sha256::digest(&data)));
    g.bench_function("content_hash_streaming", |b| {
        b.iter(|| {
            let mut h = ContentHasher::new();
            h.update(&data);
            h.finish()
        })
    });
    let path = std::env::temp_dir().join(format!("content-hash-bench-{}", std::process::id()));
    std::fs::write(&path, &data).expect("write temp file");
    g.bench_function("content_hash_file_parallel", |b| {
        b.iter(|| hash_file_parallel(&path, None).expect("hash"))
    });
    g.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, bench);
criterion_main!(benches);
