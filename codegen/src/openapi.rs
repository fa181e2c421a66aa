//! OpenAPI front end: renders an OpenAPI 3.0 document into a Rust module through `progenitor`.
