//! Errors found in spec files, reported as `path:line:col: error: message` with the
//! offending line and a caret under the column.

use std::fmt::{self, Write as _};

use crate::source::{DisplaySpan, SourceMap, Span};

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub span: Span,
    /// What is wrong, as one sentence without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            span,
            message: message.into(),
        }
    }

    /// Renders the diagnostic with its source line and a caret.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = format!(
            "{}: error: {}\n",
            DisplaySpan(sources, self.span),
            self.message
        );
        if let Some(line) = sources.line_text(self.span.file, self.span.line) {
            let line = line.trim_end_matches('\r');
            let number = self.span.line.to_string();
            let pad = " ".repeat(number.len());
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{number} | {line}");
            // Put the caret under the column, keeping tabs so it lines up.
            let caret_pad: String = line
                .chars()
                .take(self.span.col.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{pad} | {caret_pad}^");
        }
        out
    }
}

/// The diagnostics of one run, kept in the order they were found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// No diagnostics yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem.
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        self.items.push(Diagnostic::new(span, message));
    }

    /// Appends all diagnostics of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The diagnostics in file, line and column order (stable for equal positions).
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
        v
    }

    /// Iterates in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Renders every diagnostic, sorted by position.
    pub fn render(&self, sources: &SourceMap) -> String {
        let mut out = String::new();
        for d in self.sorted() {
            out.push_str(&d.render(sources));
        }
        out
    }
}

/// The error a front-end entry point returns: the diagnostics plus the sources to show them.
#[derive(Debug, Clone, thiserror::Error)]
pub struct SpecError {
    /// What was found.
    pub diagnostics: Diagnostics,
    /// The files, so that the error can be rendered on its own.
    pub sources: SourceMap,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.diagnostics.render(&self.sources).trim_end())?;
        let n = self.diagnostics.len();
        write!(f, "\n{n} error{}", if n == 1 { "" } else { "s" })
    }
}
