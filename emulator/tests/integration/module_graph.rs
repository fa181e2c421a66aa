//! The crate's modules form no cycle: no module uses a module that uses it back, neither
//! between top-level modules nor between the files of a module directory.
//!
//! Reads `src/` (the library; `main.rs` and test-only modules are left out), finds every
//! `crate::`, `super::` and child-module path, and resolves it to the module that defines
//! it (the longest known module prefix).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`store::index`, `""` for the crate root) by file.
fn modules(src: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let rel = p.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            match parts.last().map(String::as_str) {
                Some("main") if parts.len() == 1 => continue,
                // Test-only modules may use their parent freely.
                Some("tests") => continue,
                Some("mod") | Some("lib") => {
                    parts.pop();
                }
                _ => {}
            }
            out.insert(parts.join("::"), p);
        }
    }
    out
}

/// The code of a file without comments and without its inline `#[cfg(test)]` module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t == "#[cfg(test)]" && lines.peek().is_some_and(|n| n.trim() == "mod tests {") {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Parses the path tail at `s` (after a `::`): segments, or a `{...}` group of tails.
/// Returns the paths (segment lists) it names.
fn tails(s: &str) -> Vec<Vec<String>> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('{') {
        let mut out = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.extend(path_at(&rest[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        out.extend(path_at(&rest[start..end]));
        return out;
    }
    path_at(s)
}

/// One path (`a::b::{...}` or `a::B`) at the start of `s`.
fn path_at(s: &str) -> Vec<Vec<String>> {
    let s = s.trim_start();
    let ident: String = s.chars().take_while(|c| is_ident(*c)).collect();
    if ident.is_empty() {
        return if s.starts_with('{') {
            tails(s)
        } else {
            Vec::new()
        };
    }
    let rest = &s[ident.len()..];
    if let Some(after) = rest.strip_prefix("::") {
        let mut out = tails(after);
        for p in &mut out {
            p.insert(0, ident.clone());
        }
        if out.is_empty() {
            out.push(vec![ident]);
        }
        return out;
    }
    vec![vec![ident]]
}

/// The module a path (absolute segments) points into.
fn resolve(known: &BTreeSet<String>, abs: &[String]) -> String {
    let abs: Vec<&str> = abs
        .iter()
        .map(String::as_str)
        .filter(|s| *s != "self")
        .collect();
    for n in (0..=abs.len()).rev() {
        let m = abs[..n].join("::");
        if known.contains(&m) {
            return m;
        }
    }
    String::new()
}

/// Edges from each module to the modules it uses.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = modules(src);
    let known: BTreeSet<String> = files.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &files {
        let here: Vec<String> = if module.is_empty() {
            Vec::new()
        } else {
            module.split("::").map(str::to_string).collect()
        };
        let children: Vec<String> = known
            .iter()
            .filter_map(|k| {
                let rest = if module.is_empty() {
                    k.as_str()
                } else {
                    k.strip_prefix(module.as_str())?.strip_prefix("::")?
                };
                (!rest.is_empty() && !rest.contains("::")).then(|| rest.to_string())
            })
            .collect();
        let text = code(file);
        let mut targets = BTreeSet::new();
        for (i, _) in text.char_indices() {
            let before = text[..i].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == ':' || c == '$') {
                continue;
            }
            let at = &text[i..];
            let (base, rest): (Vec<String>, &str) = if let Some(r) = at.strip_prefix("crate::") {
                (Vec::new(), r)
            } else if at.starts_with("super::") {
                let mut base = here.clone();
                let mut r = at;
                while let Some(next) = r.strip_prefix("super::") {
                    base.pop();
                    r = next;
                }
                (base, r)
            } else if let Some(child) = children
                .iter()
                .find(|c| at.starts_with(&format!("{c}::")) || at.starts_with(&format!("{c};")))
            {
                let mut base = here.clone();
                base.push(child.clone());
                (base, &at[child.len()..])
            } else {
                continue;
            };
            let rest = rest.strip_prefix("::").unwrap_or(rest);
            let mut paths = if rest.starts_with(';') {
                Vec::new()
            } else {
                tails(rest)
            };
            if paths.is_empty() {
                // `super::*`, `child;`: the module itself.
                paths.push(Vec::new());
            }
            for p in paths {
                let mut abs = base.clone();
                abs.extend(p);
                let target = resolve(&known, &abs);
                if target != *module {
                    targets.insert(target);
                }
            }
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// A cycle in `edges`, if there is one.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()) {
                Some(1) => {
                    let from = path.iter().position(|p| p == m).unwrap_or(0);
                    let mut c = path[from..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                Some(_) => {}
                None => {
                    if let Some(c) = visit(m, edges, state, path) {
                        return Some(c);
                    }
                }
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if !state.contains_key(n)
            && let Some(c) = visit(n, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

/// The sources scanned: `src/`, or `MODULE_GRAPH_SRC` (to try the scan on another tree).
fn src() -> PathBuf {
    match std::env::var_os("MODULE_GRAPH_SRC") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
    }
}

fn show(c: &[String]) -> String {
    c.iter()
        .map(|m| if m.is_empty() { "crate" } else { m })
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[test]
fn top_level_modules_form_no_cycle() {
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in graph(&src()) {
        let f = from.split("::").next().unwrap_or("").to_string();
        let entry = top.entry(f.clone()).or_default();
        for to in tos {
            let t = to.split("::").next().unwrap_or("").to_string();
            if t != f {
                entry.insert(t);
            }
        }
    }
    assert!(
        top.contains_key("store") && top.contains_key("api"),
        "{top:?}"
    );
    assert!(top["api"].contains("store"), "the scan sees uses: {top:?}");
    if let Some(c) = cycle(&top) {
        panic!("module cycle: {}", show(&c));
    }
}

#[test]
fn module_files_form_no_cycle() {
    let g = graph(&src());
    if let Some(c) = cycle(&g) {
        panic!("module cycle: {}", show(&c));
    }
    assert!(g["store"].contains("store::commit"), "{:?}", g["store"]);
    assert!(
        g["store::commit"].contains("store::tree"),
        "{:?}",
        g["store::commit"]
    );
}

#[test]
fn the_scan_finds_a_cycle() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(cycle(&g).map(|c| show(&c)), Some("a -> b -> c -> a".into()));
    g.get_mut("c").unwrap().clear();
    assert_eq!(cycle(&g), None);
    assert_eq!(
        tails("{self, a::{B, c::D}, e}; x"),
        vec![
            vec!["self".to_string()],
            vec!["a".into(), "B".into()],
            vec!["a".into(), "c".into(), "D".into()],
            vec!["e".into()],
        ]
    );
}
