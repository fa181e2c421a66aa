//! Front-end speed on the whole official spec (`../shared/dropbox-api-spec`): lexing and
//! parsing, resolving, and both together. Skipped, with a message, when the spec is absent.
//!
//! Run with `cargo bench -p dbx-codegen --bench frontend`.

use std::hint::black_box;
use std::path::PathBuf;

use criterion::Criterion;
use dbx_codegen::diagnostics::Diagnostics;
use dbx_codegen::source::SourceMap;

fn spec_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/dropbox-api-spec")
}

fn bench(c: &mut Criterion, sources: &SourceMap) {
    let parse_all = || {
        let mut diags = Diagnostics::new();
        let files: Vec<_> = sources
            .files()
            .map(|(id, f)| (id, dbx_codegen::stone::parse_file(id, &f.text, &mut diags)))
            .collect();
        assert!(diags.is_empty());
        files
    };
    let parsed = parse_all();
    let mut group = c.benchmark_group("official spec");
    group.bench_function("lex+parse", |b| b.iter(|| black_box(parse_all())));
    group.bench_function("resolve", |b| {
        b.iter(|| black_box(dbx_codegen::resolve::resolve(black_box(&parsed))))
    });
    group.bench_function("parse+resolve", |b| {
        b.iter(|| black_box(dbx_codegen::compile(black_box(sources)).is_ok()))
    });
    group.finish();
}

fn main() {
    let dir = spec_dir();
    let sources = match dbx_codegen::read_dir(&dir) {
        Ok(s) => s,
        Err(e) => {
            println!(
                "skipped: the official spec is not available at {} ({e})",
                dir.display()
            );
            return;
        }
    };
    if let Err(e) = dbx_codegen::compile(&sources) {
        panic!("the official spec must load:\n{e}");
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, &sources);
    c.final_summary();
}
