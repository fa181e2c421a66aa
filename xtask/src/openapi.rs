//! The OpenAPI front end's modules for the generated crate.

use std::path::Path;

use anyhow::Result;
use dbx_codegen::emit::ExtraModule;

/// The modules rendered from `<specs>/openapi/`, if that directory exists.
pub fn extra_modules(_specs: &Path) -> Result<Vec<ExtraModule>> {
    Ok(Vec::new())
}
