//! Serde helpers that implement Dropbox's JSON wire format for the generated types.
//!
//! The generated code stays small by leaning on these generic pieces:
//!
//! - [`structs`]: a struct's `Serialize` is a chain of [`Encoder`] calls and its
//!   `Deserialize` one [`decode_struct`] call over a tuple of [`Slot`]s;
//! - [`tagged`]: unions and polymorphic structs implement [`DecodeTagged`]; [`TaggedVisitor`]
//!   finds `.tag` wherever it is in the object (streaming when it comes first, buffering the
//!   object otherwise) and also accepts the bare-string form `"tag"` of void members; a
//!   struct member is flattened beside `.tag` in both directions;
//! - [`adapters`] encode the few types whose JSON form is not their serde form: bytes
//!   (base64) and [`timestamp`]s (with the spec's strftime format), at any nesting depth;
//! - [`round_trip`](mod@round_trip) checks an example document against a type.
//!
//! Nothing here panics on input: every malformed document is a serde error.

use serde::de::{IgnoredAny, MapAccess};

pub mod adapters;
pub mod round_trip;
pub mod structs;
pub mod tagged;
pub mod timestamp;

pub use adapters::*;
pub use round_trip::round_trip;
pub use structs::*;
pub use tagged::*;
pub use timestamp::*;

/// The key of the union tag.
pub const TAG: &str = ".tag";

/// Skips one value.
pub fn skip_value<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

/// Skips every remaining entry of a map.
pub fn drain<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_key::<IgnoredAny>()?.is_some() {
        map.next_value::<IgnoredAny>()?;
    }
    Ok(())
}
