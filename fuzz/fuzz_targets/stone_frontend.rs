//! Feeds arbitrary input through the Stone front end (lexer, parser, resolver, example
//! rendering). The input is split at NUL bytes into several spec files so that imports
//! between namespaces are exercised too. Any panic, or a diagnostic outside its file, is a
//! finding.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let names: Vec<String> = (0..8).map(|i| format!("f{i}.stone")).collect();
    let files: Vec<(&str, &str)> = text
        .split('\0')
        .take(names.len())
        .enumerate()
        .map(|(i, t)| (names[i].as_str(), t))
        .collect();
    match dbx_codegen::load_str(&files) {
        Ok(api) => {
            // Rendering every example must not panic either.
            for ty in api.types() {
                for e in ty.examples() {
                    let _ = dbx_codegen::example_json::render(&api, ty.key(), &e.label);
                }
            }
            let _ = dbx_codegen::stats::Stats::of(&api).to_string();
        }
        Err(err) => {
            assert!(!err.diagnostics.is_empty(), "an error without diagnostics");
            for d in err.diagnostics.iter() {
                let file = err
                    .sources
                    .file(d.span.file)
                    .expect("diagnostic in an unknown file");
                let lines = file.text.split('\n').count() as u32;
                assert!(
                    d.span.line >= 1 && d.span.line <= lines,
                    "line {} outside 1..={lines}: {}",
                    d.span.line,
                    d.message
                );
                let line = file
                    .text
                    .split('\n')
                    .nth(d.span.line as usize - 1)
                    .unwrap_or("");
                let cols = line.chars().count() as u32 + 1;
                assert!(
                    d.span.col >= 1 && d.span.col <= cols,
                    "col {} outside 1..={cols} on line {}: {}",
                    d.span.col,
                    d.span.line,
                    d.message
                );
            }
            let _ = err.to_string();
        }
    }
});
