//! The Dropbox API code generator.
//!
//! The pipeline is visible in the modules: [`source`] files are lexed and parsed by the
//! [`stone`] front end into an AST, the [`resolve`] pass turns all files into one
//! [`ir::Api`], and emitters turn the IR into Rust. [`openapi`] is the second front end, for
//! the legacy v1 API described in OpenAPI.
//!
//! ```
//! let api = dbx_codegen::load_str(&[("ns.stone", "namespace ns\n\nstruct Point\n    \"A point.\"\n    x Int32\n    y Int32\n")]).unwrap();
//! let stats = dbx_codegen::stats::Stats::of(&api);
//! assert_eq!(stats.structs, 1);
//! ```

#![forbid(unsafe_code)]

pub mod diagnostics;
pub mod emit;
pub mod example_json;
pub mod ir;
pub mod openapi;
pub mod pagination;
pub mod resolve;
pub mod source;
pub mod stats;
pub mod stone;

use std::path::{Path, PathBuf};

use diagnostics::{Diagnostics, SpecError};
use source::SourceMap;

/// Errors reading a spec directory.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory or a file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    #[error("{}: spec files must be UTF-8 text", path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// The directory holds no `.stone` file.
    #[error("{}: no .stone files found", path.display())]
    Empty {
        /// The directory.
        path: PathBuf,
    },
    /// The specs have errors.
    #[error(transparent)]
    Spec(#[from] SpecError),
}

/// Reads every `*.stone` file under a directory into a [`SourceMap`], sorted by path. The
/// directory is searched recursively (hidden directories such as `.git` excepted), so the
/// official spec can sit in `specs/` as a git submodule (`specs/dropbox-api-spec/*.stone`)
/// beside `specs/openapi/`.
pub fn read_dir(dir: &Path) -> Result<SourceMap, LoadError> {
    let mut paths = Vec::new();
    stone_files(dir, &mut paths)?;
    paths.sort();
    if paths.is_empty() {
        return Err(LoadError::Empty {
            path: dir.to_path_buf(),
        });
    }
    let mut sources = SourceMap::new();
    for p in paths {
        let bytes = std::fs::read(&p).map_err(|e| LoadError::Io {
            path: p.clone(),
            source: e,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 { path: p.clone() })?;
        sources.add(p, text);
    }
    Ok(sources)
}

fn stone_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |e| LoadError::Io {
        path: dir.to_path_buf(),
        source: e,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if path.is_dir() {
            if !hidden {
                stone_files(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "stone") {
            out.push(path);
        }
    }
    Ok(())
}

/// Parses and resolves every file of `sources` into one API.
pub fn compile(sources: &SourceMap) -> Result<ir::Api, SpecError> {
    let mut diags = Diagnostics::new();
    let files: Vec<_> = sources
        .files()
        .map(|(id, f)| (id, stone::parse_file(id, &f.text, &mut diags)))
        .collect();
    let (api, resolve_diags) = resolve::resolve(&files);
    diags.extend(resolve_diags);
    if diags.is_empty() {
        Ok(api)
    } else {
        Err(SpecError {
            diagnostics: diags,
            sources: sources.clone(),
        })
    }
}

/// Reads, parses and resolves a spec directory.
pub fn load_dir(dir: &Path) -> Result<ir::Api, LoadError> {
    let sources = read_dir(dir)?;
    Ok(compile(&sources)?)
}

/// Parses and resolves specs given as `(file name, text)` pairs (handy in tests).
pub fn load_str(files: &[(&str, &str)]) -> Result<ir::Api, SpecError> {
    let mut sources = SourceMap::new();
    for (name, text) in files {
        sources.add(*name, *text);
    }
    compile(&sources)
}

/// The example of this crate's `README.md`, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadme;
