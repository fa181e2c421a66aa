//! No input may make the Stone front end panic or hang: arbitrary text and mutated real
//! spec files go through `load_str`, which must return `Ok` or `Err`, and every diagnostic
//! must point inside its file.
//!
//! The case count is modest so that this runs in seconds; raise it with `PROPTEST_CASES`.
//! The fuzz target in `codegen/fuzz` does the same for much longer.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;

/// Loads the files and checks the invariants; returns whether they loaded.
fn check(files: &[(&str, &str)]) -> bool {
    match dbx_codegen::load_str(files) {
        Ok(api) => {
            let _ = dbx_codegen::stats::Stats::of(&api);
            true
        }
        Err(err) => {
            assert!(!err.diagnostics.is_empty(), "an error without diagnostics");
            for d in err.diagnostics.iter() {
                let file = err
                    .sources
                    .file(d.span.file)
                    .unwrap_or_else(|| panic!("diagnostic in an unknown file: {d:?}"));
                let lines: Vec<&str> = file.text.split('\n').collect();
                assert!(
                    d.span.line >= 1 && d.span.line as usize <= lines.len(),
                    "line {} outside 1..={} ({})",
                    d.span.line,
                    lines.len(),
                    d.message
                );
                let width = lines[d.span.line as usize - 1].chars().count() as u32 + 1;
                assert!(
                    d.span.col >= 1 && d.span.col <= width,
                    "column {} outside 1..={width} on line {} ({})",
                    d.span.col,
                    d.span.line,
                    d.message
                );
                assert!(!d.message.is_empty());
            }
            // Rendering the whole error must work too.
            let text = err.to_string();
            assert!(text.contains(": error: "), "{text}");
            false
        }
    }
}

fn read_specs(dir: &Path) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "stone"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some((name, text))
        })
        .collect()
}

/// Our specs, and the official ones when they are beside the repository.
fn corpus() -> &'static [(String, String)] {
    static CORPUS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut files = read_specs(&root.join("specs"));
        let official = root.join("../shared/dropbox-api-spec");
        if official.is_dir() {
            files.extend(
                read_specs(&official)
                    .into_iter()
                    .map(|(n, t)| (format!("official/{n}"), t)),
            );
        } else {
            println!(
                "note: the official spec is not at {}; mutating our specs only",
                official.display()
            );
        }
        assert!(!files.is_empty(), "no spec files found");
        files
    })
}

/// One way to damage a file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the byte at this position (a fraction of the length) with this byte.
    Flip(f64, u8),
    /// Delete a run of bytes.
    Delete(f64, usize),
    /// Duplicate a run of bytes in place.
    Duplicate(f64, usize),
    /// Swap two lines.
    SwapLines(f64, f64),
    /// Cut the file off.
    Truncate(f64),
    /// Insert a piece of Stone syntax.
    Insert(f64, &'static str),
}

const SNIPPETS: &[&str] = &[
    "\n",
    " ",
    "    ",
    "\t",
    "\r\n",
    "\"",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "?",
    "=",
    ",",
    ":",
    ".",
    "@",
    "#",
    "\\",
    "-",
    "0",
    "99999999999999999999999999999999999999999",
    "1e999",
    "\u{e9}",
    "\u{2014}",
    "\u{0}",
    "struct ",
    "union ",
    "union_closed ",
    "alias ",
    "route ",
    "extends ",
    "example ",
    "import ",
    "namespace ",
    "patch ",
    "attrs",
    "deprecated by ",
    "annotation ",
    "annotation_type ",
    "null",
    "true",
    "Void",
    "String?",
    "List(",
    "Map(",
    "other",
    "default",
    ":field:`",
    ":route:`x:2`",
    ":type:`",
    "\n    example default\n        x = 1\n",
    "\nstruct X extends X\n    \"d\"\n",
    "\nalias Y = Y\n",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        (at.clone(), 1..64usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (at.clone(), 1..256usize).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (at.clone(), 0.0..1.0f64).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (0.0..1.0f64).prop_map(Mutation::Truncate),
        (at, prop::sample::select(SNIPPETS)).prop_map(|(a, s)| Mutation::Insert(a, s)),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let pos = |f: f64, len: usize| ((f * len as f64) as usize).min(len);
    match m {
        Mutation::Flip(f, b) => {
            if !bytes.is_empty() {
                let i = pos(*f, bytes.len() - 1);
                bytes[i] = *b;
            }
        }
        Mutation::Delete(f, n) => {
            let i = pos(*f, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Mutation::Duplicate(f, n) => {
            let i = pos(*f, bytes.len());
            let end = (i + n).min(bytes.len());
            let copy = bytes[i..end].to_vec();
            bytes.splice(i..i, copy);
        }
        Mutation::SwapLines(a, b) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let mut lines: Vec<&str> = text.split('\n').collect();
            let n = lines.len();
            if n > 1 {
                lines.swap(pos(*a, n - 1), pos(*b, n - 1));
            }
            *bytes = lines.join("\n").into_bytes();
        }
        Mutation::Truncate(f) => {
            let i = pos(*f, bytes.len());
            bytes.truncate(i);
        }
        Mutation::Insert(f, s) => {
            let i = pos(*f, bytes.len());
            bytes.splice(i..i, s.bytes());
        }
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&[("fuzz.stone", &text)]);
    }

    #[test]
    fn stone_like_text_never_panics(
        text in "(namespace ns\n)?([ \n\"()\\[\\]{}=,?:.@#a-zA-Z0-9_/\\-\\\\]|struct |union |alias |route |example |    ){0,400}"
    ) {
        check(&[("fuzz.stone", &text)]);
    }

    #[test]
    fn mutated_spec_files_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
        with_others in prop::bool::weighted(0.25),
    ) {
        let files = corpus();
        let target = which.index(files.len());
        let mut bytes = files[target].1.clone().into_bytes();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        // With its siblings from the same directory, so that imports resolve.
        let dir = files[target].0.starts_with("official/");
        let mut set: Vec<(&str, &str)> = vec![(files[target].0.as_str(), text.as_str())];
        if with_others {
            set.extend(
                files
                    .iter()
                    .enumerate()
                    .filter(|(i, (n, _))| *i != target && n.starts_with("official/") == dir)
                    .map(|(_, (n, t))| (n.as_str(), t.as_str())),
            );
        }
        check(&set);
    }
}

// ----- regressions found by fuzzing and review ----------------------------------------------

#[test]
fn unterminated_string_inside_parentheses_reports_positions_inside_the_file() {
    // Found by the fuzzer: after an unterminated string the lexer went on with the line
    // number of the string's start, so the "unclosed `(`" error at the end of the file
    // pointed past the end of a line.
    let src = "namespace ns\n\nalias A = String(\n    pattern=\"abc\n\ndef\n";
    assert!(!check(&[("a.stone", src)]));
    let err = dbx_codegen::load_str(&[("a.stone", src)])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("a.stone:4:13: error: unterminated string"),
        "{err}"
    );
    assert!(err.contains("a.stone:7:1: error: unclosed `(`"), "{err}");
}

#[test]
fn the_fuzzer_input_that_found_it() {
    let src = include_str!("regressions/unterminated-string-at-eof.stone");
    assert!(!check(&[("crash.stone", src)]));
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep_type = format!(
        "namespace ns\n\nalias A = {}String{}\n",
        "List(".repeat(100_000),
        ")".repeat(100_000)
    );
    let deep_list = format!(
        "namespace ns\n\nstruct S\n    x List(String)\n    example default\n        x = {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let deep_map = format!(
        "namespace ns\n\nstruct S\n    x Map(String, String)\n    example default\n        x = {}\n",
        "{\"k\": ".repeat(100_000)
    );
    let mut deep_anon = String::from("namespace ns\n\nstruct S\n");
    for level in 1..200 {
        let pad = "    ".repeat(2 * level - 1);
        deep_anon.push_str(&format!("{pad}f T{level}\n{pad}    struct\n"));
    }
    deep_anon.push_str(&format!("{}x Int32\n", "    ".repeat(399)));
    for src in [&deep_type, &deep_list, &deep_map, &deep_anon] {
        let err = dbx_codegen::load_str(&[("deep.stone", src)])
            .err()
            .map(|e| {
                e.diagnostics
                    .iter()
                    .map(|d| d.message.clone())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        assert!(
            err.iter().any(|m| m.contains("nesting is too deep")),
            "{err:?}"
        );
    }
    // 64 levels are still fine.
    let ok = format!(
        "namespace ns\n\nalias A = {}String{}\n",
        "List(".repeat(63),
        ")".repeat(63)
    );
    assert!(check(&[("ok.stone", &ok)]));
}

#[test]
fn examples_that_share_references_do_not_take_exponential_time() {
    // Every example refers to the next one twice, so rendering them all would take 2^60
    // steps; checking them for cycles must not.
    let mut src = String::from("namespace ns\n\n");
    for i in 0..60 {
        src.push_str(&format!(
            "struct S{i}\n    a S{n}?\n    b List(S{n})?\n    example default\n        a = default\n        b = [default, default]\n",
            n = i + 1
        ));
    }
    src.push_str("struct S60\n    x Int32\n    example default\n        x = 1\n");
    assert!(check(&[("wide.stone", &src)]));
    // And a cycle among them is still found.
    let cyclic = src.replace(
        "struct S60\n    x Int32\n    example default\n        x = 1\n",
        "struct S60\n    x S0?\n    example default\n        x = default\n",
    );
    let err = dbx_codegen::load_str(&[("cyclic.stone", &cyclic)])
        .err()
        .map(|e| e.diagnostics.len())
        .unwrap_or_default();
    assert_eq!(err, 61);
}

#[test]
fn edge_inputs() {
    for src in [
        "",
        "\n",
        "\u{feff}namespace ns\n",
        "namespace",
        "namespace ns",
        "namespace ns\n    ",
        "namespace ns\n    \"doc",
        "namespace ns\n\"",
        "\"\\",
        "(",
        ")",
        "    namespace ns\n",
        "namespace ns\nstruct S\n        x Int32\n",
        "namespace ns\nroute r:99999999999999999999999999999999999999999 (Void, Void, Void)\n",
        "namespace ns\nstruct S\n    x Int32 = -\n",
        "namespace ns\nstruct S\n    example e\n        x =\n            {\n",
        "namespace ns\nstruct S\n    x Map(String, Int32)\n    example e\n        x =\n            {\"a\": 1,\n            \"b\": 2}\n",
        "namespace ns\nunion U\n    a U\n    example e\n        a = e\n",
        "namespace ns\nalias A = B?\nalias B = A\n",
        "namespace ns\nalias A = List(B)\nalias B = A\n",
    ] {
        check(&[("edge.stone", src)]);
        check(&[
            ("edge.stone", src),
            ("other.stone", "namespace other\nimport ns\n"),
        ]);
    }
}
