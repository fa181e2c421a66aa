//! Dropbox's JSON wire format for the generated types, for both codecs: serde's (the
//! `Serialize` and `Deserialize` impls users see) and this crate's [`json`](crate::json)
//! codec (what the clients use).
//!
//! A generated type describes itself once and these generic pieces do the rest, compiled in
//! the crate that uses them, so the generated crate stays small and both codecs agree:
//!
//! - [`structs`]: a struct implements [`Record`] (its field names, a tuple of [`Slot`]s to
//!   decode into, the struct literal, and a chain of [`FieldSink`] calls to encode);
//! - [`tagged`]: unions and polymorphic structs implement [`Tagged`]; `.tag` is found
//!   wherever it is in the object (read in one pass when it comes first) and the bare-string
//!   form `"tag"` of void members is accepted; a struct member is flattened beside `.tag` in
//!   both directions;
//! - [`adapters`] encode the few types whose JSON form is not their plain form: bytes
//!   (base64) and [`timestamp`]s (with the spec's strftime format), at any nesting depth;
//! - [`round_trip`](mod@round_trip) checks an example document against a type, through both
//!   codecs.
//!
//! Nothing here panics on input: every malformed document is an error.

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
