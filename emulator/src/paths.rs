//! Dropbox path syntax: `/a/b`, the root `""`, `id:...` (optionally followed by a relative
//! path), `rev:...` and `ns:...`. Paths are case-insensitive; the emulator keys entries by
//! the lowercased path and keeps the display casing.
//!
//! User paths never become file-system paths: committed data lives in blobs named by
//! random ids, so `..` or NUL bytes can only ever be malformed Dropbox paths.

/// A parsed path argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PathRef {
    /// The root folder (`""`).
    Root,
    /// An absolute path.
    Path(DbxPath),
    /// `id:<id>` with an optional path below it.
    Id {
        /// The full id including the `id:` prefix.
        id: String,
        /// Components below the entry with that id.
        rest: Vec<String>,
    },
    /// `rev:<rev>` (read routes only).
    Rev(String),
    /// `ns:<namespace id>...`: the emulator has a single namespace and does not support it.
    Namespace,
}

/// A malformed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Malformed(pub(crate) String);

/// An absolute path as a list of components (with their display casing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct DbxPath {
    comps: Vec<String>,
}

impl DbxPath {
    /// From already validated components.
    pub(crate) fn from_components(comps: Vec<String>) -> Self {
        DbxPath { comps }
    }

    /// Components.
    pub(crate) fn components(&self) -> &[String] {
        &self.comps
    }

    /// Whether this is the root.
    pub(crate) fn is_root(&self) -> bool {
        self.comps.is_empty()
    }

    /// `/A/b` (the root is `""`).
    pub(crate) fn display(&self) -> String {
        let mut s = String::new();
        for c in &self.comps {
            s.push('/');
            s.push_str(c);
        }
        s
    }

    /// The lowercased path, the key of the index.
    pub(crate) fn lower(&self) -> String {
        lower(&self.display())
    }

    /// Last component (`""` for the root).
    pub(crate) fn name(&self) -> &str {
        self.comps.last().map(String::as_str).unwrap_or("")
    }

    /// The parent folder (the root's parent is the root).
    pub(crate) fn parent(&self) -> DbxPath {
        let mut comps = self.comps.clone();
        comps.pop();
        DbxPath { comps }
    }

    /// This path with its last component replaced.
    pub(crate) fn with_name(&self, name: String) -> DbxPath {
        let mut comps = self.comps.clone();
        comps.pop();
        comps.push(name);
        DbxPath { comps }
    }

    /// This path with more components appended.
    pub(crate) fn join(&self, more: &[String]) -> DbxPath {
        let mut comps = self.comps.clone();
        comps.extend(more.iter().cloned());
        DbxPath { comps }
    }
}

/// Case folding used for `path_lower` and lookups.
pub(crate) fn lower(s: &str) -> String {
    s.to_lowercase()
}

/// Parses a path argument.
pub(crate) fn parse(s: &str) -> Result<PathRef, Malformed> {
    if s.is_empty() {
        return Ok(PathRef::Root);
    }
    if let Some(rest) = s.strip_prefix("id:") {
        let (id, tail) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        if id.is_empty() || id.chars().any(char::is_control) {
            return Err(Malformed(format!("invalid id in path {s:?}")));
        }
        let rest = match tail {
            Some(t) => components(t)?,
            None => Vec::new(),
        };
        return Ok(PathRef::Id {
            id: format!("id:{id}"),
            rest,
        });
    }
    if let Some(rev) = s.strip_prefix("rev:") {
        if rev.len() >= 9
            && rev
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Ok(PathRef::Rev(rev.to_string()));
        }
        return Err(Malformed(format!("invalid rev path {s:?}")));
    }
    if s.starts_with("ns:") {
        return Ok(PathRef::Namespace);
    }
    if !s.starts_with('/') {
        return Err(Malformed(format!("path {s:?} must start with '/'")));
    }
    Ok(PathRef::Path(DbxPath {
        comps: components(s)?,
    }))
}

/// Splits `/a/b` into validated components.
fn components(s: &str) -> Result<Vec<String>, Malformed> {
    let Some(body) = s.strip_prefix('/') else {
        return Err(Malformed(format!("path {s:?} must start with '/'")));
    };
    let mut out = Vec::new();
    for comp in body.split('/') {
        if comp.is_empty() {
            return Err(Malformed("empty path component".into()));
        }
        if comp == "." || comp == ".." {
            return Err(Malformed("'.' and '..' are not allowed in paths".into()));
        }
        if comp
            .chars()
            .any(|c| c == '\0' || c == '\u{7f}' || (c.is_control() && c != '\r'))
        {
            return Err(Malformed(
                "control characters are not allowed in paths".into(),
            ));
        }
        if comp.chars().count() > 255 {
            return Err(Malformed(
                "path component longer than 255 characters".into(),
            ));
        }
        out.push(comp.to_string());
    }
    Ok(out)
}

/// Names Dropbox refuses to store (`disallowed_name`).
pub(crate) fn is_disallowed_name(name: &str) -> bool {
    matches!(
        lower(name).as_str(),
        "desktop.ini" | "thumbs.db" | ".ds_store" | "icon\r" | ".dropbox" | ".dropbox.attr"
    )
}

/// The `n`-th autorename candidate: `report (1).pdf`, `archive.tar (2).gz`, `.bashrc (1)`.
pub(crate) fn numbered(name: &str, n: u64) -> String {
    match name.rfind('.') {
        Some(i) if i > 0 => format!("{} ({n}){}", &name[..i], &name[i..]),
        _ => format!("{name} ({n})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_forms() {
        assert_eq!(parse("").unwrap(), PathRef::Root);
        let PathRef::Path(p) = parse("/A/b.TXT").unwrap() else {
            panic!("not a path")
        };
        assert_eq!(p.display(), "/A/b.TXT");
        assert_eq!(p.lower(), "/a/b.txt");
        assert_eq!(p.name(), "b.TXT");
        assert_eq!(p.parent().display(), "/A");
        assert_eq!(
            parse("id:abc/x").unwrap(),
            PathRef::Id {
                id: "id:abc".into(),
                rest: vec!["x".into()]
            }
        );
        assert_eq!(
            parse("rev:0123456789abcdef").unwrap(),
            PathRef::Rev("0123456789abcdef".into())
        );
        assert_eq!(parse("ns:123/a").unwrap(), PathRef::Namespace);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "a", "/", "/a/", "//a", "/a//b", "/..", "/a/../b", "/./a", "/a\0b", "id:", "rev:12",
            "/a\u{1}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be malformed");
        }
    }

    #[test]
    fn autorename_names() {
        assert_eq!(numbered("report.pdf", 1), "report (1).pdf");
        assert_eq!(numbered("archive.tar.gz", 2), "archive.tar (2).gz");
        assert_eq!(numbered(".bashrc", 1), ".bashrc (1)");
        assert_eq!(numbered("folder", 3), "folder (3)");
    }

    #[test]
    fn disallowed() {
        assert!(is_disallowed_name(".DS_Store"));
        assert!(!is_disallowed_name("notes.txt"));
    }
}
