//! What generated code needs and nothing else may rely on: the wire format helpers
//! ([`wire`]), the spec-constraint checks ([`validate`]), the struct-family marker
//! (`family`) and the typed route calls. Not part of the API: any release may change it.
//! The crate exposes it as the hidden `dropbox_api_runtime::__private`, which generated
//! modules import as `rt`; the parts users need are re-exported at the crate root
//! (`Validate`, `ValidationError`, `Timestamp`).

pub mod family;
pub mod validate;
pub mod wire;

pub use crate::PageError;
pub use crate::calls::{download, rpc, upload};
pub use crate::json;
pub use crate::paginate::{items, pages};
pub use crate::{Body, ByteRange, Download, NoError, RouteError, Str, Timestamp};
pub use crate::{auth, route, tags};
pub use futures_util::Stream;
