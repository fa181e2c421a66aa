//! The Stone front end: [`lexer`] and [`parser`] producing the [`ast`] of each file.

pub mod ast;
pub mod lexer;
pub mod parser;

use crate::diagnostics::Diagnostics;
use crate::source::FileId;

/// Lexes and parses one file.
pub fn parse_file(file: FileId, text: &str, diags: &mut Diagnostics) -> ast::SpecFile {
    let tokens = lexer::lex(file, text, diags);
    parser::parse(&tokens, diags)
}
