//! The OpenAPI front end's modules for the generated crate: every `*.json` of the OpenAPI
//! directory (`specs/openapi/`) becomes a module named after the file (`v1.json` ->
//! `dropbox_api::v1`).

use std::path::Path;

use anyhow::{Context, Result};
use dbx_codegen::emit::ExtraModule;

/// The modules rendered from the OpenAPI directory `dir`, if it exists.
pub fn extra_modules(dir: &Path) -> Result<Vec<ExtraModule>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .context("an OpenAPI file without a name")?;
        let module = dbx_codegen::openapi::render_openapi_module(&path)?;
        // The OpenAPI descriptions are of Dropbox's legacy APIs: opt-in modules.
        let feature = Some(format!("legacy-{name}"));
        out.push(ExtraModule {
            origin: format!("the OpenAPI description `openapi/{name}.json`"),
            name,
            summary: format!("{} (from the OpenAPI description).", module.title),
            source: module.source,
            dependencies: module.dependencies,
            feature,
        });
    }
    Ok(out)
}
