//! Serde helpers that implement Dropbox's JSON wire format for the generated types.
//!
//! The generated code stays small by leaning on these generic pieces:
//!
//! - structs implement [`EncodeFields`] / [`DecodeFields`], so a struct can be written as
//!   its own object or flattened into a union object beside `.tag`;
//! - unions and polymorphic structs implement [`DecodeTagged`]: [`TaggedVisitor`] finds
//!   `.tag` wherever it is in the object (streaming when it comes first, buffering the object
//!   otherwise) and also accepts the bare-string form `"tag"` of void members;
//! - [`Adapter`]s encode the few types whose JSON form is not their serde form: timestamps
//!   (with the spec's strftime format) and bytes (base64), at any nesting depth.
//!
//! Nothing here panics on input: every malformed document is a serde error.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, Serializer};

/// The Rust type of Stone's `Timestamp`: a UTC instant, formatted on the wire with the
/// spec's strftime format.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// The key of the union tag.
pub const TAG: &str = ".tag";

// ----- structs ------------------------------------------------------------------------------

/// A struct of the spec, described by data so that the wire code is generic and lives here:
/// the generated code only lists the fields, builds the value from decoded slots, and lends
/// its fields for encoding.
pub trait Struct: Sized {
    /// The struct's name, for error messages.
    const NAME: &'static str;
    /// The wire names of the fields, in the order of [`Struct::Slots`] and [`Struct::View`].
    const FIELDS: &'static [&'static str];
    /// Decoding state: nested pairs of [`In`] slots, one per field, ending in `()`.
    type Slots: Slots;
    /// Builds the value, failing when a required field was absent. (Generic over the error
    /// so that nothing is compiled until a decoder needs it.)
    fn build<E: de::Error>(slots: Self::Slots) -> Result<Self, E>;
    /// Borrowed fields for encoding: nested pairs of [`Req`] and [`Opt`], ending in `()`.
    type View<'a>: View
    where
        Self: 'a;
    /// Lends the fields.
    fn view(&self) -> Self::View<'_>;
}

/// Decoding state of a struct's fields.
pub trait Slots: Default {
    /// Reads the value of field `index` (an unknown index skips the value).
    fn set<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
}

impl Slots for () {
    fn set<'de, A: MapAccess<'de>>(&mut self, _index: usize, map: &mut A) -> Result<(), A::Error> {
        skip_value(map)
    }
}

impl<T, A: Adapter<T>, R: Slots> Slots for (In<T, A>, R) {
    #[inline]
    fn set<'de, M: MapAccess<'de>>(&mut self, index: usize, map: &mut M) -> Result<(), M::Error> {
        if index == 0 {
            self.0.value = Some(map.next_value_seed(Seed::<T, A>::new())?);
            Ok(())
        } else {
            self.1.set(index - 1, map)
        }
    }
}

/// The decoded value of one field, read with adapter `A`.
pub struct In<T, A = Plain> {
    value: Option<T>,
    _adapter: PhantomData<A>,
}

impl<T, A> Default for In<T, A> {
    fn default() -> Self {
        In {
            value: None,
            _adapter: PhantomData,
        }
    }
}

impl<T, A> In<T, A> {
    /// The value of a required field.
    #[inline]
    pub fn required<E: de::Error>(self, field: &'static str) -> Result<T, E> {
        match self.value {
            Some(v) => Ok(v),
            None => Err(E::missing_field(field)),
        }
    }

    /// The value of a defaulted field, or its default when absent.
    #[inline]
    pub fn or(self, default: T) -> T {
        match self.value {
            Some(v) => v,
            None => default,
        }
    }
}

impl<T, A> In<Option<T>, A> {
    /// The value of a nullable field (absent and `null` are both `None`).
    #[inline]
    pub fn optional(self) -> Option<T> {
        self.value.flatten()
    }
}

/// A struct's borrowed fields, encoded generically.
pub trait View {
    /// Writes every present field under its name from `names`.
    fn encode<M: SerializeMap>(&self, names: &[&'static str], map: &mut M) -> Result<(), M::Error>;
}

impl View for () {
    fn encode<M: SerializeMap>(
        &self,
        _names: &[&'static str],
        _map: &mut M,
    ) -> Result<(), M::Error> {
        Ok(())
    }
}

impl<F: FieldRef, R: View> View for (F, R) {
    #[inline]
    fn encode<M: SerializeMap>(&self, names: &[&'static str], map: &mut M) -> Result<(), M::Error> {
        match names.split_first() {
            Some((name, rest)) => {
                self.0.write(name, map)?;
                self.1.encode(rest, map)
            }
            None => Ok(()),
        }
    }
}

/// One borrowed field, written under its name (or left out when absent).
pub trait FieldRef {
    /// Writes the field.
    fn write<M: SerializeMap>(&self, name: &'static str, map: &mut M) -> Result<(), M::Error>;
}

/// A required or defaulted field, always written.
pub struct Req<'a, T, A = Plain> {
    value: &'a T,
    _adapter: PhantomData<A>,
}

impl<'a, T, A> Req<'a, T, A> {
    /// Lends a field.
    #[inline]
    pub fn new(value: &'a T) -> Self {
        Req {
            value,
            _adapter: PhantomData,
        }
    }
}

impl<T, A: Adapter<T>> FieldRef for Req<'_, T, A> {
    #[inline]
    fn write<M: SerializeMap>(&self, name: &'static str, map: &mut M) -> Result<(), M::Error> {
        map.serialize_entry(name, &With::<T, A>::new(self.value))
    }
}

/// A nullable field, written only when present (`A` adapts the present value).
pub struct Opt<'a, T, A = Plain> {
    value: &'a Option<T>,
    _adapter: PhantomData<A>,
}

impl<'a, T, A> Opt<'a, T, A> {
    /// Lends a field.
    #[inline]
    pub fn new(value: &'a Option<T>) -> Self {
        Opt {
            value,
            _adapter: PhantomData,
        }
    }
}

impl<T, A: Adapter<T>> FieldRef for Opt<'_, T, A> {
    #[inline]
    fn write<M: SerializeMap>(&self, name: &'static str, map: &mut M) -> Result<(), M::Error> {
        match self.value {
            Some(v) => map.serialize_entry(name, &With::<T, A>::new(v)),
            None => Ok(()),
        }
    }
}

/// Writes a struct's fields into an open object (for a struct flattened into a union).
#[inline]
pub fn encode_fields<T: Struct, M: SerializeMap>(value: &T, map: &mut M) -> Result<(), M::Error> {
    value.view().encode(T::FIELDS, map)
}

/// Reads a struct from the remaining entries of an object; unknown keys (including a stray
/// `.tag`) are skipped.
pub fn decode_fields<'de, T: Struct, A: MapAccess<'de>>(map: &mut A) -> Result<T, A::Error> {
    let mut slots = T::Slots::default();
    let mut hint = 0;
    while let Some(index) = map.next_key_seed(FieldKey::new(T::FIELDS, hint))? {
        slots.set(index, map)?;
        hint = index.wrapping_add(1);
    }
    T::build(slots)
}

/// Writes a struct as a JSON object.
pub fn serialize_struct<T: Struct, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    encode_fields(value, &mut map)?;
    map.end()
}

/// Reads a struct from a JSON object.
pub fn deserialize_struct<'de, T: Struct, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_map(StructVisitor(PhantomData))
}

struct StructVisitor<T>(PhantomData<T>);

impl<'de, T: Struct> Visitor<'de> for StructVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object for struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        decode_fields(&mut map)
    }
}

/// Maps an object key to its position in a struct's field table (unknown keys give
/// `usize::MAX`), without allocating for the key. Encoders write fields in table order, so
/// the position after the previous key is tried first.
pub struct FieldKey {
    fields: &'static [&'static str],
    hint: usize,
}

impl FieldKey {
    /// A key lookup in `fields`, trying position `hint` first.
    pub fn new(fields: &'static [&'static str], hint: usize) -> Self {
        FieldKey { fields, hint }
    }

    fn index(&self, key: &str) -> usize {
        if self.fields.get(self.hint) == Some(&key) {
            return self.hint;
        }
        self.fields
            .iter()
            .position(|f| *f == key)
            .unwrap_or(usize::MAX)
    }
}

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for FieldKey {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        Ok(self.index(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<usize, E> {
        Ok(std::str::from_utf8(v).map_or(usize::MAX, |s| self.index(s)))
    }
}

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

// ----- unions and polymorphic structs -------------------------------------------------------

/// A type written as a JSON object with a `.tag` key: a union or a polymorphic struct.
pub trait DecodeTagged: Sized {
    /// The type's name, for error messages.
    const NAME: &'static str;
    /// Builds the value for `tag` from the object's other entries (the map never yields
    /// `.tag` again). Void members accept and ignore extra entries.
    fn decode_tagged<'de, A: MapAccess<'de>>(tag: &str, map: &mut A) -> Result<Self, A::Error>;
}

/// Reads a union or polymorphic struct (object with `.tag` anywhere, or a bare tag string).
pub fn deserialize_tagged<'de, T: DecodeTagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    d.deserialize_any(TaggedVisitor(PhantomData))
}

/// Visitor behind [`deserialize_tagged`].
pub struct TaggedVisitor<T>(PhantomData<T>);

impl<T> TaggedVisitor<T> {
    /// A new visitor.
    pub fn new() -> Self {
        TaggedVisitor(PhantomData)
    }
}

impl<T> Default for TaggedVisitor<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de, T: DecodeTagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a JSON object with a \".tag\" (or a tag string) for {}",
            T::NAME
        )
    }

    fn visit_str<E: de::Error>(self, tag: &str) -> Result<T, E> {
        T::decode_tagged(tag, &mut EmptyMap(PhantomData))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        // Fast path: `.tag` comes first, as every Dropbox encoder writes it.
        let first = map.next_key::<KeyOrTag>()?;
        match first {
            None => Err(de::Error::missing_field(TAG)),
            Some(KeyOrTag::Tag) => {
                let tag: TagString<'de> = map.next_value()?;
                T::decode_tagged(tag.as_str(), &mut map)
            }
            Some(KeyOrTag::Other(first_key)) => {
                // Slow path: buffer the object until `.tag` turns up, then replay.
                let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
                let first_value: serde_json::Value = map.next_value()?;
                entries.push((first_key, first_value));
                let mut tag = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == TAG {
                        tag = Some(map.next_value::<String>()?);
                    } else {
                        let value: serde_json::Value = map.next_value()?;
                        entries.push((key, value));
                    }
                }
                let tag = tag.ok_or_else(|| de::Error::missing_field(TAG))?;
                let mut replay = BufferedMap::<A::Error> {
                    entries: entries.into_iter(),
                    pending: None,
                    _error: PhantomData,
                };
                T::decode_tagged(&tag, &mut replay)
            }
        }
    }
}

/// The first key of an object: `.tag` or any other key (kept to replay it).
enum KeyOrTag {
    Tag,
    Other(String),
}

impl<'de> serde::Deserialize<'de> for KeyOrTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyOrTag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyOrTag, E> {
                Ok(if v == TAG {
                    KeyOrTag::Tag
                } else {
                    KeyOrTag::Other(v.to_owned())
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// A tag value, borrowed from the input when possible.
enum TagString<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl TagString<'_> {
    fn as_str(&self) -> &str {
        match self {
            TagString::Borrowed(s) => s,
            TagString::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for TagString<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TagString<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tag string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<TagString<'de>, E> {
                Ok(TagString::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TagString<'de>, E> {
                Ok(TagString::Owned(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// A map with no entries (the rest of a bare-string union value).
struct EmptyMap<E>(PhantomData<E>);

impl<'de, E: de::Error> MapAccess<'de> for EmptyMap<E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, _seed: K) -> Result<Option<K::Value>, E> {
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, _seed: V) -> Result<V::Value, E> {
        Err(E::custom("no value"))
    }
}

/// Replays buffered entries of an object whose `.tag` came late.
struct BufferedMap<E> {
    entries: std::vec::IntoIter<(String, serde_json::Value)>,
    pending: Option<serde_json::Value>,
    _error: PhantomData<E>,
}

impl<'de, E: de::Error> MapAccess<'de> for BufferedMap<E> {
    type Error = E;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, E> {
        match self.entries.next() {
            Some((k, v)) => {
                self.pending = Some(v);
                seed.deserialize(de::value::StringDeserializer::<E>::new(k))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, E> {
        let v = self
            .pending
            .take()
            .ok_or_else(|| E::custom("value requested before key"))?;
        seed.deserialize(v).map_err(|e| E::custom(e.to_string()))
    }
}

/// Reads the value of a non-struct union member, which sits under a key named after the
/// tag (read with adapter `Ad`); other keys are ignored. `None` when the key is absent.
pub fn member_value<'de, A, T, Ad>(map: &mut A, tag: &str) -> Result<Option<T>, A::Error>
where
    A: MapAccess<'de>,
    Ad: Adapter<T>,
{
    let mut out = None;
    while let Some(key) = map.next_key::<KeyOrTag>()? {
        match key {
            KeyOrTag::Other(k) if k == tag && out.is_none() => {
                out = Some(map.next_value_seed(Seed::<T, Ad>::new())?);
            }
            _ => skip_value(map)?,
        }
    }
    Ok(out)
}

/// Decodes a void member: extra keys are ignored.
#[inline]
pub fn void<'de, A: MapAccess<'de>, U>(map: &mut A, value: U) -> Result<U, A::Error> {
    drain(map)?;
    Ok(value)
}

/// Decodes a member whose type is an ordinary struct, flattened beside `.tag`.
#[inline]
pub fn flat<'de, A: MapAccess<'de>, T: Struct>(map: &mut A) -> Result<T, A::Error> {
    decode_fields(map)
}

/// Decodes a nullable member of struct type: null when nothing but the tag is present.
pub fn flat_opt<'de, A: MapAccess<'de>, T: Struct>(map: &mut A) -> Result<Option<T>, A::Error> {
    let Some(first) = map.next_key::<String>()? else {
        return Ok(None);
    };
    let mut prefixed = PrefixedMap {
        first: Some(first),
        inner: map,
    };
    decode_fields(&mut prefixed).map(Some)
}

/// Decodes a member whose value sits under the tag's key (read with adapter `Ad`).
#[inline]
pub fn nested<'de, A: MapAccess<'de>, T, Ad: Adapter<T>>(
    map: &mut A,
    tag: &'static str,
) -> Result<T, A::Error> {
    member_value::<A, T, Ad>(map, tag)?.ok_or_else(|| de::Error::missing_field(tag))
}

/// Decodes a nullable nested member: absent or `null` is `None`.
#[inline]
pub fn nested_opt<'de, A: MapAccess<'de>, T, Ad: Adapter<T>>(
    map: &mut A,
    tag: &'static str,
) -> Result<Option<T>, A::Error> {
    Ok(member_value::<A, Option<T>, OptionOf<Ad>>(map, tag)?.flatten())
}

/// Decodes an unknown tag of an open union as its catch-all.
#[inline]
pub fn other<'de, A: MapAccess<'de>, U>(map: &mut A, value: U) -> Result<U, A::Error> {
    drain(map)?;
    Ok(value)
}

/// A map access that yields one already-read key before the rest of `inner`.
struct PrefixedMap<'m, A> {
    first: Option<String>,
    inner: &'m mut A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for PrefixedMap<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some(k) => seed
                .deserialize(de::value::StringDeserializer::<A::Error>::new(k))
                .map(Some),
            None => self.inner.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        self.inner.next_value_seed(seed)
    }
}

/// The error for an unknown tag of a closed union.
pub fn unknown_tag<E: de::Error>(tag: &str, expected: &'static [&'static str]) -> E {
    E::unknown_variant(tag, expected)
}

/// Writes `{".tag": tag}`.
pub fn serialize_void<S: Serializer>(s: S, tag: &str) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(1))?;
    map.serialize_entry(TAG, tag)?;
    map.end()
}

/// Writes `{".tag": tag, ...fields of value}`.
pub fn serialize_flat<S: Serializer, T: Struct>(
    s: S,
    tag: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(None)?;
    map.serialize_entry(TAG, tag)?;
    encode_fields(value, &mut map)?;
    map.end()
}

/// Writes a nullable struct member: the fields when present, else the tag alone.
pub fn serialize_flat_opt<S: Serializer, T: Struct>(
    s: S,
    tag: &str,
    value: Option<&T>,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serialize_flat(s, tag, v),
        None => serialize_void(s, tag),
    }
}

/// Writes `{".tag": tag, tag: value}` with adapter `Ad`.
pub fn serialize_nested<S: Serializer, T, Ad: Adapter<T>>(
    s: S,
    tag: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(2))?;
    map.serialize_entry(TAG, tag)?;
    map.serialize_entry(tag, &With::<T, Ad>::new(value))?;
    map.end()
}

/// Writes a nullable nested member: with its value when present, else the tag alone.
pub fn serialize_nested_opt<S: Serializer, T, Ad: Adapter<T>>(
    s: S,
    tag: &str,
    value: Option<&T>,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serialize_nested::<S, T, Ad>(s, tag, v),
        None => serialize_void(s, tag),
    }
}

// ----- adapters -----------------------------------------------------------------------------

/// How a value of type `T` is written and read when its JSON form is not its serde form.
pub trait Adapter<T> {
    /// Writes the value.
    fn serialize<S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error>;
    /// Reads a value.
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error>;
}

/// The serde form, unchanged.
pub struct Plain;

impl<T: Serialize + for<'de> serde::Deserialize<'de>> Adapter<T> for Plain {
    fn serialize<S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
}

/// A strftime format for [`Ts`].
pub trait TimestampFormat {
    /// The format, such as `%Y-%m-%dT%H:%M:%SZ`.
    const FORMAT: &'static str;
}

/// `common.DropboxTimestamp`: `%Y-%m-%dT%H:%M:%SZ`.
pub struct DropboxTimestampFormat;

impl TimestampFormat for DropboxTimestampFormat {
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M:%SZ";
}

/// `common.Date`: `%Y-%m-%d`.
pub struct DateFormat;

impl TimestampFormat for DateFormat {
    const FORMAT: &'static str = "%Y-%m-%d";
}

/// A [`Timestamp`] written with format `F`.
pub struct Ts<F>(PhantomData<F>);

/// Formats a timestamp with a strftime format.
pub fn format_timestamp(value: &Timestamp, format: &str) -> String {
    use chrono::{Datelike as _, Timelike as _};
    use fmt::Write as _;
    // Fast path for Dropbox's own format, used by nearly every timestamp.
    if format == DropboxTimestampFormat::FORMAT && (0..=9999).contains(&value.year()) {
        let mut out = String::with_capacity(20);
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            value.year(),
            value.month(),
            value.day(),
            value.hour(),
            value.minute(),
            value.second()
        );
        return out;
    }
    let mut out = String::new();
    // A format the generator accepted is valid; if it somehow is not, fall back to RFC 3339
    // instead of panicking inside chrono's Display.
    let items: Vec<chrono::format::Item<'_>> = chrono::format::StrftimeItems::new(format).collect();
    if items
        .iter()
        .any(|i| matches!(i, chrono::format::Item::Error))
    {
        return value.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
    if write!(out, "{}", value.format_with_items(items.into_iter())).is_err() {
        return value.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    }
    out
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` without interpreting a format string.
fn parse_dropbox_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    let date = chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let time = chrono::NaiveTime::from_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    Some(chrono::NaiveDateTime::new(date, time).and_utc())
}

/// Parses a timestamp with a strftime format (date-only formats give midnight UTC).
pub fn parse_timestamp(s: &str, format: &str) -> Option<Timestamp> {
    if format == DropboxTimestampFormat::FORMAT {
        return parse_dropbox_timestamp(s);
    }
    if let Ok(naive) = chrono::NaiveDateTime::parse_from_str(s, format) {
        return Some(naive.and_utc());
    }
    if let Ok(dt) = chrono::DateTime::parse_from_str(s, format) {
        return Some(dt.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, format)
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

impl<F: TimestampFormat> Adapter<Timestamp> for Ts<F> {
    fn serialize<S: Serializer>(value: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_timestamp(value, F::FORMAT))
    }

    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        struct V<F>(PhantomData<F>);
        impl<F: TimestampFormat> Visitor<'_> for V<F> {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a timestamp formatted as {}", F::FORMAT)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                parse_timestamp(v, F::FORMAT).ok_or_else(|| {
                    E::custom(format_args!("timestamp {v:?} does not match {}", F::FORMAT))
                })
            }
        }
        d.deserialize_str(V::<F>(PhantomData))
    }
}

/// `Bytes` as standard base64 with padding.
pub struct Base64;

impl Adapter<Vec<u8>> for Base64 {
    fn serialize<S: Serializer>(value: &Vec<u8>, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(value))
    }

    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
                use base64::Engine as _;
                base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .map_err(|e| E::custom(format_args!("invalid base64: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// `Option<T>` whose present value uses adapter `A`.
pub struct OptionOf<A>(PhantomData<A>);

impl<T, A: Adapter<T>> Adapter<Option<T>> for OptionOf<A> {
    fn serialize<S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => A::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
        struct V<T, A>(PhantomData<(T, A)>);
        impl<'de, T, A: Adapter<T>> Visitor<'de> for V<T, A> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or null")
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<T>, D2::Error> {
                A::deserialize(d).map(Some)
            }
        }
        d.deserialize_option(V::<T, A>(PhantomData))
    }
}

/// `Vec<T>` whose items use adapter `A`.
pub struct VecOf<A>(PhantomData<A>);

impl<T, A: Adapter<T>> Adapter<Vec<T>> for VecOf<A> {
    fn serialize<S: Serializer>(value: &Vec<T>, s: S) -> Result<S::Ok, S::Error> {
        use ser::SerializeSeq as _;
        let mut seq = s.serialize_seq(Some(value.len()))?;
        for item in value {
            seq.serialize_element(&With::<T, A>::new(item))?;
        }
        seq.end()
    }

    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        struct V<T, A>(PhantomData<(T, A)>);
        impl<'de, T, A: Adapter<T>> Visitor<'de> for V<T, A> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Vec<T>, S::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(v) = seq.next_element_seed(Seed::<T, A>::new())? {
                    out.push(v);
                }
                Ok(out)
            }
        }
        d.deserialize_seq(V::<T, A>(PhantomData))
    }
}

/// `BTreeMap<String, T>` whose values use adapter `A`.
pub struct MapOf<A>(PhantomData<A>);

impl<T, A: Adapter<T>> Adapter<std::collections::BTreeMap<String, T>> for MapOf<A> {
    fn serialize<S: Serializer>(
        value: &std::collections::BTreeMap<String, T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(value.len()))?;
        for (k, v) in value {
            map.serialize_entry(k, &With::<T, A>::new(v))?;
        }
        map.end()
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<std::collections::BTreeMap<String, T>, D::Error> {
        struct V<T, A>(PhantomData<(T, A)>);
        impl<'de, T, A: Adapter<T>> Visitor<'de> for V<T, A> {
            type Value = std::collections::BTreeMap<String, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = std::collections::BTreeMap::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v = map.next_value_seed(Seed::<T, A>::new())?;
                    out.insert(k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V::<T, A>(PhantomData))
    }
}

/// Serializes through adapter `A` (for `#[serde(serialize_with)]`).
pub fn serialize_with<T, A: Adapter<T>, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    A::serialize(value, s)
}

/// Deserializes through adapter `A` (for `#[serde(deserialize_with)]`).
pub fn deserialize_with<'de, T, A: Adapter<T>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    A::deserialize(d)
}

/// Serializes a borrowed value through adapter `A`.
pub struct With<'a, T, A> {
    value: &'a T,
    _adapter: PhantomData<A>,
}

impl<'a, T, A> With<'a, T, A> {
    /// Wraps a value.
    pub fn new(value: &'a T) -> Self {
        With {
            value,
            _adapter: PhantomData,
        }
    }
}

impl<T, A: Adapter<T>> Serialize for With<'_, T, A> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        A::serialize(self.value, s)
    }
}

/// Deserializes a value through adapter `A`.
pub struct Seed<T, A>(PhantomData<(T, A)>);

impl<T, A> Seed<T, A> {
    /// A new seed.
    pub fn new() -> Self {
        Seed(PhantomData)
    }
}

impl<T, A> Default for Seed<T, A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'de, T, A: Adapter<T>> DeserializeSeed<'de> for Seed<T, A> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        A::deserialize(d)
    }
}

/// An error a serializer reports for a value that cannot be written.
pub fn ser_error<E: ser::Error>(msg: &str) -> E {
    E::custom(msg)
}

// ----- testing -----------------------------------------------------------------------------

/// Checks that a JSON document round-trips through `T`: it decodes, re-encodes to JSON that
/// still has every key of the original (at every depth), and that JSON decodes to an equal
/// value. Used by the generated example tests; returns a description of the first problem.
pub fn round_trip<T>(json: &str) -> Result<(), String>
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq + fmt::Debug,
{
    let first: T = serde_json::from_str(json).map_err(|e| format!("decode: {e}"))?;
    let encoded = serde_json::to_string(&first).map_err(|e| format!("encode: {e}"))?;
    let second: T = serde_json::from_str(&encoded)
        .map_err(|e| format!("decode of re-encoded {encoded}: {e}"))?;
    if first != second {
        return Err(format!(
            "values differ after a round trip: {first:?} != {second:?}"
        ));
    }
    let original: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let encoded: serde_json::Value = serde_json::from_str(&encoded).map_err(|e| e.to_string())?;
    keys_kept(&original, &encoded, "$")
}

fn keys_kept(
    original: &serde_json::Value,
    encoded: &serde_json::Value,
    path: &str,
) -> Result<(), String> {
    use serde_json::Value;
    match (original, encoded) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in a {
                // An explicit null is the same as an absent optional field.
                if v.is_null() {
                    continue;
                }
                let Some(w) = b.get(k) else {
                    return Err(format!("key {path}.{k} is missing after re-encoding"));
                };
                keys_kept(v, w, &format!("{path}.{k}"))?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Err(format!("list {path} changed length"));
            }
            for (i, (v, w)) in a.iter().zip(b).enumerate() {
                keys_kept(v, w, &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_in_both_formats() {
        let t = parse_timestamp("2026-03-14T09:26:53Z", DropboxTimestampFormat::FORMAT).unwrap();
        assert_eq!(
            format_timestamp(&t, DropboxTimestampFormat::FORMAT),
            "2026-03-14T09:26:53Z"
        );
        let d = parse_timestamp("2024-01-31", DateFormat::FORMAT).unwrap();
        assert_eq!(format_timestamp(&d, DateFormat::FORMAT), "2024-01-31");
        assert!(parse_timestamp("2026-03-14 09:26:53", DropboxTimestampFormat::FORMAT).is_none());
    }

    #[test]
    fn fast_path_agrees_with_chrono() {
        for s in [
            "2026-03-14T09:26:53Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59Z",
        ] {
            let fast = parse_timestamp(s, DropboxTimestampFormat::FORMAT).unwrap();
            let slow = chrono::NaiveDateTime::parse_from_str(s, DropboxTimestampFormat::FORMAT)
                .unwrap()
                .and_utc();
            assert_eq!(fast, slow);
            assert_eq!(format_timestamp(&fast, DropboxTimestampFormat::FORMAT), s);
            assert_eq!(
                format_timestamp(&fast, "%Y-%m-%dT%H:%M:%SZ "),
                format!("{s} ")
            );
        }
        for bad in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-03-14T24:00:00Z",
            "2026-03-14T09:26:53",
            "2026-03-14t09:26:53Z",
            "+026-03-14T09:26:53Z",
        ] {
            assert!(
                parse_timestamp(bad, DropboxTimestampFormat::FORMAT).is_none(),
                "{bad}"
            );
        }
    }

    #[test]
    fn bad_format_does_not_panic() {
        let t = parse_timestamp("2026-03-14T09:26:53Z", DropboxTimestampFormat::FORMAT).unwrap();
        assert_eq!(format_timestamp(&t, "%Q"), "2026-03-14T09:26:53Z");
    }
}
