//! Source files and positions: every AST node carries a [`Span`] into a [`SourceMap`].

use std::fmt;
use std::path::{Path, PathBuf};

/// Identifies one file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A position in a spec file: the file, 1-based line and column (in characters), and the
/// byte offset of the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file the position is in.
    pub file: FileId,
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub col: u32,
    /// Byte offset of the first character.
    pub offset: u32,
}

impl Span {
    /// A span for things that have no place in a file (built-in types).
    pub const BUILTIN: Span = Span {
        file: FileId(u32::MAX),
        line: 0,
        col: 0,
        offset: 0,
    };

    /// Whether this span points into a real file.
    pub fn is_builtin(&self) -> bool {
        self.file.0 == u32::MAX
    }
}

/// One spec file's name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as given by the caller (used in diagnostics).
    pub path: PathBuf,
    /// The full text.
    pub text: String,
}

/// All files read for one run of the generator.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: impl Into<PathBuf>, text: impl Into<String>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile {
            path: path.into(),
            text: text.into(),
        });
        id
    }

    /// The file with this id.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// All files with their ids, in the order they were added.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }

    /// The path of a file, or `<builtin>`.
    pub fn path(&self, id: FileId) -> &Path {
        match self.file(id) {
            Some(f) => &f.path,
            None => Path::new("<builtin>"),
        }
    }

    /// The text of line `line` (1-based) of a file, without its line break.
    pub fn line_text(&self, id: FileId, line: u32) -> Option<&str> {
        let file = self.file(id)?;
        file.text.split('\n').nth(line.checked_sub(1)? as usize)
    }
}

/// Displays a span as `path:line:col`.
pub struct DisplaySpan<'a>(pub &'a SourceMap, pub Span);

impl fmt::Display for DisplaySpan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1.is_builtin() {
            return f.write_str("<builtin>");
        }
        write!(
            f,
            "{}:{}:{}",
            self.0.path(self.1.file).display(),
            self.1.line,
            self.1.col
        )
    }
}
