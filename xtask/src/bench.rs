//! `cargo xtask bench`: a small harness (warm-up, then the median of several runs) that
//! prints one table; every ratio is computed from figures measured in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// One row of the table.
pub struct Row {
    /// What was measured.
    pub name: String,
    /// The median.
    pub median: Duration,
    /// Throughput or other derived figure.
    pub figure: String,
    /// The target and whether it is met.
    pub target: String,
}

/// Runs `f` `warmup` times, then `runs` times, and returns the median duration.
pub fn median<T>(warmup: usize, runs: usize, mut f: impl FnMut() -> T) -> Duration {
    for _ in 0..warmup {
        std::hint::black_box(f());
    }
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn rate(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / d.as_secs_f64() / 1e6)
}

/// "met" or "NOT met".
pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

/// Code generation over the complete official spec.
pub fn codegen_rows(root: &Path, rows: &mut Vec<Row>) -> Result<()> {
    let dir = root.join(crate::fullspec::OFFICIAL_SPEC);
    if !dir.is_dir() {
        println!("codegen rows skipped: {} is absent", dir.display());
        return Ok(());
    }
    let sources = dbx_codegen::read_dir(&dir)?;
    let parse = || {
        let mut d = dbx_codegen::diagnostics::Diagnostics::new();
        sources
            .files()
            .map(|(id, f)| (id, dbx_codegen::stone::parse_file(id, &f.text, &mut d)))
            .collect::<Vec<_>>()
    };
    let files = parse();
    let t_parse = median(3, 15, parse);
    let t_resolve = median(3, 15, || dbx_codegen::resolve::resolve(&files));
    let api = dbx_codegen::compile(&sources)?;
    let options = dbx_codegen::emit::CrateOptions {
        package: "dropbox-api".into(),
        version: "0.1.0".into(),
        dependencies: dbx_codegen::emit::DependencyStyle::Standalone {
            runtime_path: root.join("runtime"),
        },
        extra_modules: Vec::new(),
        serde: Default::default(),
    };
    let t_emit = median(1, 5, || dbx_codegen::emit::emit_crate(&api, &options));
    let t_total = median(1, 5, || -> Result<usize> {
        let sources = dbx_codegen::read_dir(&dir)?;
        let api = dbx_codegen::compile(&sources)?;
        let out = dbx_codegen::emit::emit_crate(&api, &options)?;
        Ok(out.files.len())
    });
    rows.push(Row {
        name: "codegen: lex + parse (23 files)".into(),
        median: t_parse,
        figure: String::new(),
        target: String::new(),
    });
    rows.push(Row {
        name: "codegen: resolve to IR".into(),
        median: t_resolve,
        figure: String::new(),
        target: String::new(),
    });
    rows.push(Row {
        name: "codegen: parse + resolve".into(),
        median: t_parse + t_resolve,
        figure: String::new(),
        target: format!(
            "< 50 ms: {}",
            verdict(t_parse + t_resolve < Duration::from_millis(50))
        ),
    });
    rows.push(Row {
        name: "codegen: emit + format".into(),
        median: t_emit,
        figure: String::new(),
        target: String::new(),
    });
    rows.push(Row {
        name: "codegen: end to end (read to formatted files)".into(),
        median: t_total,
        figure: "Python stone + official Rust generator: 4.8 s".into(),
        target: format!("< 1 s: {}", verdict(t_total < Duration::from_secs(1))),
    });
    Ok(())
}

/// A `list_folder` result with `n` entries: files and folders with realistic fields.
pub fn list_folder_json(n: usize) -> Result<String> {
    use dropbox_api::files::{FileMetadata, FolderMetadata, ListFolderResult, Metadata};
    let ts = dropbox_api::Timestamp::from_timestamp(1_773_480_413, 0).context("timestamp")?;
    let entries: Vec<Metadata> = (0..n)
        .map(|i| {
            if i % 10 == 9 {
                Metadata::Folder(
                    FolderMetadata::new(format!("folder {i}"), format!("id:fOlDeR{i:012}"))
                        .with_path_lower(format!("/photos/folder {i}"))
                        .with_path_display(format!("/Photos/Folder {i}")),
                )
            } else {
                Metadata::File(
                    FileMetadata::new(
                        format!("IMG_{i:05}.jpg"),
                        format!("id:a4ayc_80_OEAAAAAAA{i:06}"),
                        ts,
                        ts,
                        format!("{:015x}", i as u64 * 7919 + 0x1c10ce0dd78),
                        1_000_000 + i as u64 * 31,
                    )
                    .with_path_lower(format!("/photos/img_{i:05}.jpg"))
                    .with_path_display(format!("/Photos/IMG_{i:05}.jpg"))
                    .with_content_hash(format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15))
                    .with_is_downloadable(true),
                )
            }
        })
        .collect();
    let result = ListFolderResult::new(entries, "AAFcUrSoR".repeat(8), true);
    Ok(serde_json::to_string(&result)?)
}

/// Decoding and encoding a 10,000-entry `list_folder` result with the generated crate's JSON
/// codec (what the clients use), beside the same types through serde_json.
pub fn json_rows(rows: &mut Vec<Row>) -> Result<()> {
    use dropbox_api::files::ListFolderResult;
    let json = list_folder_json(10_000)?;
    let value: ListFolderResult = dropbox_api::json::from_str(&json)?;
    let t_decode = median(3, 21, || {
        dropbox_api::json::from_str::<ListFolderResult>(&json)
    });
    let t_encode = median(3, 21, || dropbox_api::json::to_vec(&value));
    let t_serde_decode = median(3, 21, || serde_json::from_str::<ListFolderResult>(&json));
    let t_serde_encode = median(3, 21, || serde_json::to_vec(&value));
    let t_value = median(3, 21, || serde_json::from_str::<serde_json::Value>(&json));
    let bytes = json.len() as u64;
    rows.push(Row {
        name: format!(
            "json: decode list_folder, 10,000 entries ({} KB)",
            bytes / 1000
        ),
        median: t_decode,
        figure: format!(
            "{}, {:.0} entries/ms; through serde_json: {}; untyped serde_json::Value: {}",
            rate(bytes, t_decode),
            10_000.0 / (t_decode.as_secs_f64() * 1e3),
            ms(t_serde_decode),
            ms(t_value)
        ),
        target: String::new(),
    });
    rows.push(Row {
        name: "json: encode list_folder, 10,000 entries".into(),
        median: t_encode,
        figure: format!(
            "{}; through serde_json: {}",
            rate(bytes, t_encode),
            ms(t_serde_encode)
        ),
        target: String::new(),
    });
    Ok(())
}

/// The content hash against plain SHA-256 of the same bytes, and the parallel file hasher.
pub fn hash_rows(rows: &mut Vec<Row>) -> Result<()> {
    use sha2::Digest as _;
    const LEN: usize = 256 * 1024 * 1024;
    let data: Vec<u8> = (0..LEN).map(|i| (i * 31 % 251) as u8).collect();
    let t_plain = median(1, 7, || sha2::Sha256::digest(&data));
    let t_ours = median(1, 7, || {
        let mut h = dropbox_content_hash::ContentHasher::new();
        h.update(&data);
        h.finish()
    });
    let path = std::env::temp_dir().join(format!("xtask-bench-hash-{}", std::process::id()));
    std::fs::write(&path, &data)?;
    let t_par = median(1, 7, || {
        dropbox_content_hash::hash_file_parallel(&path, None)
    });
    let _ = std::fs::remove_file(&path);
    let ratio = t_plain.as_secs_f64() / t_ours.as_secs_f64();
    rows.push(Row {
        name: "hash: plain SHA-256, 256 MiB, one core (the limit)".into(),
        median: t_plain,
        figure: rate(LEN as u64, t_plain),
        target: String::new(),
    });
    rows.push(Row {
        name: "hash: content hash, streaming, one core".into(),
        median: t_ours,
        figure: format!("{}, {ratio:.3}x the limit", rate(LEN as u64, t_ours)),
        target: format!(">= 0.95x: {}", verdict(ratio >= 0.95)),
    });
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    rows.push(Row {
        name: format!("hash: content hash of a file, parallel ({cores} cores)"),
        median: t_par,
        figure: format!(
            "{}, {:.2}x one core",
            rate(LEN as u64, t_par),
            t_ours.as_secs_f64() / t_par.as_secs_f64()
        ),
        target: String::new(),
    });
    Ok(())
}

/// Prints the table.
pub fn print(rows: &[Row]) {
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(10);
    println!("\n| {:w$} | median | figure | target |", "benchmark");
    println!("|{}|---|---|---|", "-".repeat(w + 2));
    for r in rows {
        println!(
            "| {:w$} | {} | {} | {} |",
            r.name,
            ms(r.median),
            r.figure,
            r.target
        );
    }
}
