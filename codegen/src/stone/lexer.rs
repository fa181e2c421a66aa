//! Stone lexer: turns spec text into tokens, synthesizing NEWLINE, INDENT and DEDENT from
//! the layout exactly as Dropbox's reference lexer does (one level is four spaces).

use crate::diagnostics::Diagnostics;
use crate::source::{FileId, Span};

/// Words that are always keywords (`annotation_type` only at indentation level 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// `alias`
    Alias,
    /// `annotation`
    Annotation,
    /// `annotation_type` (a keyword only at level 0)
    AnnotationType,
    /// `attrs`
    Attrs,
    /// `by`
    By,
    /// `deprecated`
    Deprecated,
    /// `doc` (reserved)
    Doc,
    /// `error` (reserved)
    Error,
    /// `example`
    Example,
    /// `extends`
    Extends,
    /// `import`
    Import,
    /// `namespace`
    Namespace,
    /// `patch`
    Patch,
    /// `route`
    Route,
    /// `struct`
    Struct,
    /// `union`
    Union,
    /// `union_closed`
    UnionClosed,
}

impl Keyword {
    fn from_word(word: &str, level: usize) -> Option<Keyword> {
        Some(match word {
            "alias" => Keyword::Alias,
            "annotation" => Keyword::Annotation,
            "annotation_type" if level == 0 => Keyword::AnnotationType,
            "attrs" => Keyword::Attrs,
            "by" => Keyword::By,
            "deprecated" => Keyword::Deprecated,
            "doc" => Keyword::Doc,
            "error" => Keyword::Error,
            "example" => Keyword::Example,
            "extends" => Keyword::Extends,
            "import" => Keyword::Import,
            "namespace" => Keyword::Namespace,
            "patch" => Keyword::Patch,
            "route" => Keyword::Route,
            "struct" => Keyword::Struct,
            "union" => Keyword::Union,
            "union_closed" => Keyword::UnionClosed,
            _ => return None,
        })
    }

    /// The keyword as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Alias => "alias",
            Keyword::Annotation => "annotation",
            Keyword::AnnotationType => "annotation_type",
            Keyword::Attrs => "attrs",
            Keyword::By => "by",
            Keyword::Deprecated => "deprecated",
            Keyword::Doc => "doc",
            Keyword::Error => "error",
            Keyword::Example => "example",
            Keyword::Extends => "extends",
            Keyword::Import => "import",
            Keyword::Namespace => "namespace",
            Keyword::Patch => "patch",
            Keyword::Route => "route",
            Keyword::Struct => "struct",
            Keyword::Union => "union",
            Keyword::UnionClosed => "union_closed",
        }
    }
}

/// The kinds of token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An identifier.
    Ident(String),
    /// A keyword.
    Keyword(Keyword),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An integer literal.
    Int(i128),
    /// A float literal (the value and the text as written).
    Float(f64),
    /// A string literal after escape processing and indentation stripping.
    Str(String),
    /// A `/segment/...` path after a route name.
    Path(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `=`
    Equals,
    /// `,`
    Comma,
    /// `?`
    Question,
    /// `:`
    Colon,
    /// `.`
    Dot,
    /// `@`
    At,
    /// End of a logical line (several line breaks merge into one).
    Newline,
    /// The next line is one level deeper.
    Indent,
    /// The next line is one level shallower.
    Dedent,
    /// End of input.
    Eof,
}

impl TokenKind {
    /// A short description for error messages.
    pub fn describe(&self) -> String {
        match self {
            TokenKind::Ident(s) => format!("identifier `{s}`"),
            TokenKind::Keyword(k) => format!("keyword `{}`", k.as_str()),
            TokenKind::Bool(b) => format!("`{b}`"),
            TokenKind::Null => "`null`".into(),
            TokenKind::Int(i) => format!("integer `{i}`"),
            TokenKind::Float(f) => format!("float `{f}`"),
            TokenKind::Str(_) => "string".into(),
            TokenKind::Path(p) => format!("path `{p}`"),
            TokenKind::LParen => "`(`".into(),
            TokenKind::RParen => "`)`".into(),
            TokenKind::LBracket => "`[`".into(),
            TokenKind::RBracket => "`]`".into(),
            TokenKind::LBrace => "`{`".into(),
            TokenKind::RBrace => "`}`".into(),
            TokenKind::Equals => "`=`".into(),
            TokenKind::Comma => "`,`".into(),
            TokenKind::Question => "`?`".into(),
            TokenKind::Colon => "`:`".into(),
            TokenKind::Dot => "`.`".into(),
            TokenKind::At => "`@`".into(),
            TokenKind::Newline => "end of line".into(),
            TokenKind::Indent => "indentation".into(),
            TokenKind::Dedent => "end of block".into(),
            TokenKind::Eof => "end of file".into(),
        }
    }
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it starts.
    pub span: Span,
}

/// Spaces per indentation level.
const INDENT_WIDTH: usize = 4;

struct Lexer<'a> {
    file: FileId,
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    level: usize,
    /// Open parentheses, each with the indentation level of the line that opened it.
    parens: Vec<usize>,
    tokens: Vec<Token>,
    diags: &'a mut Diagnostics,
    /// `(line start, position, column)` of the last span computed.
    col_cache: (usize, usize, u32),
}

/// Lexes one file. Problems are added to `diags`; the token list always ends with `Eof`.
pub fn lex(file: FileId, src: &str, diags: &mut Diagnostics) -> Vec<Token> {
    let mut lexer = Lexer {
        file,
        src,
        bytes: src.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        level: 0,
        parens: Vec::new(),
        tokens: Vec::new(),
        diags,
        col_cache: (0, 0, 1),
    };
    lexer.run();
    lexer.tokens
}

impl<'a> Lexer<'a> {
    fn span_at(&mut self, pos: usize) -> Span {
        let pos = pos.min(self.src.len()).max(self.line_start);
        // Columns are counted in characters. Count on from the last position asked for on
        // this line, so that a long line costs linear time, not quadratic.
        let (from, col) = match self.col_cache {
            (line_start, p, c) if line_start == self.line_start && p <= pos => (p, c),
            _ => (self.line_start, 1),
        };
        let col = col + self.src.get(from..pos).map_or(0, |s| s.chars().count()) as u32;
        self.col_cache = (self.line_start, pos, col);
        Span {
            file: self.file,
            line: self.line,
            col,
            offset: pos as u32,
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize) {
        let span = self.span_at(start);
        self.tokens.push(Token { kind, span });
    }

    fn error(&mut self, pos: usize, msg: impl Into<String>) {
        let span = self.span_at(pos);
        self.diags.error(span, msg);
    }

    fn last_is_newline(&self) -> bool {
        matches!(
            self.tokens.last().map(|t| &t.kind),
            None | Some(TokenKind::Newline) | Some(TokenKind::Indent) | Some(TokenKind::Dedent)
        )
    }

    fn run(&mut self) {
        // The first line is handled like a line that follows a line break.
        self.handle_line_start();
        while self.pos < self.bytes.len() {
            let c = self.bytes[self.pos];
            match c {
                b' ' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                    if self.parens.is_empty() {
                        self.handle_line_start();
                    } else {
                        self.check_continuation();
                    }
                }
                b'#' => self.skip_comment(),
                b'"' => self.lex_string(),
                b'/' => self.lex_path(),
                b'-' | b'0'..=b'9' => self.lex_number(),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => self.lex_word(),
                b'(' => {
                    self.parens.push(self.level);
                    self.push(TokenKind::LParen, self.pos);
                    self.pos += 1;
                }
                b')' => {
                    if self.parens.pop().is_none() {
                        self.error(self.pos, "unmatched `)`");
                    }
                    self.push(TokenKind::RParen, self.pos);
                    self.pos += 1;
                }
                b'[' => self.single(TokenKind::LBracket),
                b']' => self.single(TokenKind::RBracket),
                b'{' => self.single(TokenKind::LBrace),
                b'}' => self.single(TokenKind::RBrace),
                b'=' => self.single(TokenKind::Equals),
                b',' => self.single(TokenKind::Comma),
                b'?' => self.single(TokenKind::Question),
                b':' => self.single(TokenKind::Colon),
                b'.' => self.single(TokenKind::Dot),
                b'@' => self.single(TokenKind::At),
                b'\t' => {
                    self.error(self.pos, "tab character: Stone indents with spaces only");
                    self.pos += 1;
                }
                b'\r' => {
                    self.error(
                        self.pos,
                        "carriage return: spec files must use LF line endings",
                    );
                    self.pos += 1;
                }
                _ => {
                    let ch = self.src[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    self.error(self.pos, format!("illegal character {ch:?}"));
                    self.pos += ch.len_utf8().max(1);
                }
            }
        }
        if !self.parens.is_empty() {
            self.error(self.pos, "unclosed `(` at end of file");
        }
        if !self.last_is_newline() {
            self.push(TokenKind::Newline, self.pos);
        }
        for _ in 0..self.level {
            self.push(TokenKind::Dedent, self.pos);
        }
        self.push(TokenKind::Eof, self.pos);
    }

    fn single(&mut self, kind: TokenKind) {
        self.push(kind, self.pos);
        self.pos += 1;
    }

    fn skip_comment(&mut self) {
        while self.pos < self.bytes.len() && self.bytes[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    /// Measures the leading spaces of the line at `self.pos` and whether the line carries
    /// tokens (not blank, not only a comment, not end of input).
    fn measure_line(&self) -> (usize, bool) {
        let mut p = self.pos;
        while p < self.bytes.len() && self.bytes[p] == b' ' {
            p += 1;
        }
        let meaningful = p < self.bytes.len() && !matches!(self.bytes[p], b'\n' | b'#');
        (p - self.pos, meaningful)
    }

    /// Emits NEWLINE, INDENT and DEDENT for a new logical line (outside parentheses).
    fn handle_line_start(&mut self) {
        let (width, meaningful) = self.measure_line();
        if !meaningful {
            return;
        }
        let at = self.pos + width;
        if width % INDENT_WIDTH != 0 {
            self.error(
                at,
                format!("indentation of {width} spaces is not a multiple of {INDENT_WIDTH}"),
            );
        }
        let new_level = width / INDENT_WIDTH;
        if !self.tokens.is_empty()
            && !matches!(
                self.tokens.last().map(|t| &t.kind),
                Some(TokenKind::Newline)
            )
        {
            self.push(TokenKind::Newline, self.pos);
        }
        if new_level > self.level {
            for _ in self.level..new_level {
                self.push(TokenKind::Indent, at);
            }
        } else {
            for _ in new_level..self.level {
                self.push(TokenKind::Dedent, at);
            }
        }
        self.level = new_level;
        self.pos = at;
    }

    /// Inside parentheses, a continuation line must be exactly one level deeper than the
    /// line that opened the innermost parenthesis.
    fn check_continuation(&mut self) {
        let (width, meaningful) = self.measure_line();
        if !meaningful {
            return;
        }
        let open_level = self.parens.last().copied().unwrap_or(0);
        if width != (open_level + 1) * INDENT_WIDTH {
            self.error(
                self.pos + width,
                "a line continued inside parentheses must be indented one level deeper than the line that opened them",
            );
        }
        self.pos += width;
    }

    fn lex_word(&mut self) {
        let start = self.pos;
        while self.pos < self.bytes.len()
            && matches!(self.bytes[self.pos], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-')
        {
            self.pos += 1;
        }
        let word = &self.src[start..self.pos];
        let kind = match word {
            "true" => TokenKind::Bool(true),
            "false" => TokenKind::Bool(false),
            "null" => TokenKind::Null,
            _ => match Keyword::from_word(word, self.level) {
                Some(k) => TokenKind::Keyword(k),
                None => TokenKind::Ident(word.to_string()),
            },
        };
        self.push(kind, start);
    }

    fn lex_path(&mut self) {
        let start = self.pos;
        self.pos += 1;
        while self.pos < self.bytes.len()
            && matches!(self.bytes[self.pos], b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-' | b'/')
        {
            self.pos += 1;
        }
        let path = self.src[start..self.pos].to_string();
        self.push(TokenKind::Path(path), start);
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.pos < self.bytes.len() && self.bytes[self.pos].is_ascii_digit() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn lex_number(&mut self) {
        let start = self.pos;
        if self.bytes[self.pos] == b'-' {
            self.pos += 1;
        }
        if self.digits() == 0 {
            self.error(start, "`-` must be followed by digits");
            return;
        }
        let mut is_float = false;
        if self.pos < self.bytes.len() && self.bytes[self.pos] == b'.' {
            is_float = true;
            self.pos += 1;
            self.digits();
        }
        // An exponent: lowercase `e`, optional `-`, digits.
        if self.pos < self.bytes.len() && self.bytes[self.pos] == b'e' {
            let save = self.pos;
            self.pos += 1;
            if self.pos < self.bytes.len() && self.bytes[self.pos] == b'-' {
                self.pos += 1;
            }
            if self.digits() == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let text = &self.src[start..self.pos];
        if is_float {
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() => self.push(TokenKind::Float(v), start),
                _ => self.error(start, format!("float literal `{text}` is out of range")),
            }
        } else {
            match text.parse::<i128>() {
                Ok(v) => self.push(TokenKind::Int(v), start),
                Err(_) => self.error(start, format!("integer literal `{text}` is out of range")),
            }
        }
    }

    fn lex_string(&mut self) {
        let start = self.pos;
        let start_span = self.span_at(start);
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(ch) = self.src[self.pos..].chars().next() else {
                // Report at the opening quote; lexing goes on from the end of the input.
                self.diags.error(start_span, "unterminated string");
                self.pos = self.bytes.len();
                return;
            };
            self.pos += ch.len_utf8();
            match ch {
                '"' => break,
                '\\' => {
                    let Some(next) = self.src[self.pos..].chars().next() else {
                        continue;
                    };
                    self.pos += next.len_utf8();
                    match next {
                        'n' => value.push('\n'),
                        't' => value.push('\t'),
                        '\n' => {
                            value.push('\n');
                            self.line += 1;
                            self.line_start = self.pos;
                        }
                        other => value.push(other),
                    }
                }
                '\n' => {
                    value.push('\n');
                    self.line += 1;
                    self.line_start = self.pos;
                }
                '\r' => {
                    self.error(
                        self.pos - 1,
                        "carriage return: spec files must use LF line endings",
                    );
                }
                c => value.push(c),
            }
        }
        // Strip the enclosing block's indentation from every line, as the reference does. It
        // splits the string with Python's `splitlines`, so a line break at the very end is
        // dropped and the other Unicode line separators become `\n`.
        let indent = " ".repeat(INDENT_WIDTH * self.level);
        if value.contains(is_line_break) || (!indent.is_empty() && value.contains(&indent)) {
            value = split_lines(&value)
                .into_iter()
                .map(|line| line.replacen(&indent, "", 1))
                .collect::<Vec<_>>()
                .join("\n");
        }
        self.tokens.push(Token {
            kind: TokenKind::Str(value),
            span: start_span,
        });
    }
}

/// The characters Python's `str.splitlines` ends a line at.
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{b}'
            | '\u{c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

/// Splits like Python's `str.splitlines`: `\r\n` is one break, and a break at the end does
/// not start another line.
fn split_lines(s: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_line_break(c) {
            lines.push(&s[start..i]);
            start = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n') {
                chars.next();
                start += 1;
            }
        }
    }
    if start < s.len() {
        lines.push(&s[start..]);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> (Vec<TokenKind>, Diagnostics) {
        let mut d = Diagnostics::new();
        let toks = lex(FileId(0), src, &mut d);
        (toks.into_iter().map(|t| t.kind).collect(), d)
    }

    fn id(s: &str) -> TokenKind {
        TokenKind::Ident(s.into())
    }

    #[test]
    fn layout_tokens() {
        let (k, d) =
            kinds("struct A\n    x String\n\n    # c\n  # odd comment\n    y Int32\nalias B = A\n");
        assert!(d.is_empty(), "{d:?}");
        use TokenKind::*;
        assert_eq!(
            k,
            vec![
                Keyword(super::Keyword::Struct),
                id("A"),
                Newline,
                Indent,
                id("x"),
                id("String"),
                Newline,
                id("y"),
                id("Int32"),
                Newline,
                Dedent,
                Keyword(super::Keyword::Alias),
                id("B"),
                Equals,
                id("A"),
                Newline,
                Eof
            ]
        );
    }

    #[test]
    fn strings_escapes_and_indent_stripping() {
        let (k, d) = kinds("struct A\n    \"one\n    two \\\"q\\\" \\\\w \\n\"\n");
        assert!(d.is_empty());
        assert!(
            // As in the reference, a line break at the very end is dropped.
            k.contains(&TokenKind::Str("one\ntwo \"q\" \\w ".into())),
            "{k:?}"
        );
    }

    #[test]
    fn numbers() {
        let (k, d) = kinds("a = -12\nb = 1.5\nc = 1e5\nd = 1.\ne = -1.5e-3\n");
        assert!(d.is_empty());
        assert!(k.contains(&TokenKind::Int(-12)));
        assert!(k.contains(&TokenKind::Float(1.5)));
        assert!(k.contains(&TokenKind::Float(1e5)));
        assert!(k.contains(&TokenKind::Float(1.0)));
        assert!(k.contains(&TokenKind::Float(-1.5e-3)));
    }

    #[test]
    fn annotation_type_is_keyword_only_at_level_zero() {
        let (k, _) = kinds("annotation_type X\n    annotation_type String\n");
        assert_eq!(k[0], TokenKind::Keyword(Keyword::AnnotationType));
        assert!(k.contains(&id("annotation_type")));
    }

    #[test]
    fn errors_are_positioned() {
        let mut d = Diagnostics::new();
        lex(FileId(0), "struct A\n   x String * \n", &mut d);
        let v: Vec<_> = d.iter().map(|d| (d.span.line, d.span.col)).collect();
        assert_eq!(v, vec![(2, 4), (2, 13)]);
    }

    #[test]
    fn route_path_and_version() {
        let (k, _) = kinds("route upload_session/finish_batch:2 (A, B, C)\n");
        assert_eq!(k[1], id("upload_session"));
        assert_eq!(k[2], TokenKind::Path("/finish_batch".into()));
        assert_eq!(k[3], TokenKind::Colon);
        assert_eq!(k[4], TokenKind::Int(2));
    }

    #[test]
    fn parentheses_continue_lines() {
        let (k, d) = kinds("alias A = String(\n    min_length=1)\n");
        assert!(d.is_empty(), "{d:?}");
        assert!(!k[..k.len() - 2].contains(&TokenKind::Indent));
        let (_, d) = kinds("alias A = String(\n        min_length=1)\n");
        assert_eq!(d.len(), 1);
    }
}
