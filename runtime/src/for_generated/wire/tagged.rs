//! Unions and polymorphic structs: a JSON object with a `.tag` key (anywhere in the object),
//! or the bare tag string for a void member; read and written by both codecs from one
//! description ([`Tagged`]).
//!
//! A generated union implements [`Tagged`]: `decode_tagged` maps a tag to its member with
//! one arm per tag ([`flat`], [`nested`], [`void`], [`other`], ...), reading the rest of the
//! object through [`Members`]; `encode_tagged` writes its member through a [`UnionSink`].
//! Both are generic, so the serde impls ([`serialize_tagged`], [`deserialize_tagged`]) and
//! the JSON codec ([`read_tagged`], [`write_tagged`]) share them.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

use super::adapters::{Adapter, OptionOf, Seed, With};
use super::structs::{
    Encoder, Fields, NoEntries, ObjectSource, Record, SerdeSource, short_type_name,
};
use super::{TAG, drain};
use crate::json::{self, Reader, Writer};

// ----- the description ----------------------------------------------------------------------

/// A union or polymorphic struct of the spec, described for both codecs.
pub trait Tagged: Sized {
    /// The type's name, for error messages.
    fn name() -> &'static str {
        short_type_name::<Self>()
    }
    /// Builds the value for `tag` from the object's other entries (never `.tag` again).
    /// Void members accept and ignore extra entries.
    fn decode_tagged<M: Members>(tag: &str, map: &mut M) -> Result<Self, M::Error>;
    /// Writes the value: its tag and its member's value.
    fn encode_tagged<U: UnionSink>(&self, out: U) -> U::Done;
}

/// The rest of a union object after its tag, read by a serde map ([`MapMembers`]) or the
/// JSON codec ([`ObjectMembers`]).
pub trait Members {
    /// The codec's error.
    type Error: de::Error;
    /// The rest of the object as the fields of struct `T`.
    fn flat<T: Record>(&mut self) -> Result<T, Self::Error>;
    /// The rest of the object as struct `T`, or `None` when nothing but the tag is there.
    fn flat_opt<T: Record>(&mut self) -> Result<Option<T>, Self::Error>;
    /// The value under key `tag` (read with adapter `A`), other keys ignored; `None` when
    /// the key is absent.
    fn member<T, A: Adapter<T>>(&mut self, tag: &str) -> Result<Option<T>, Self::Error>;
    /// Skips the rest of the object.
    fn rest(&mut self) -> Result<(), Self::Error>;
}

/// Where a union writes its member: a serde serializer ([`SerdeUnion`]) or the JSON codec's
/// writer ([`JsonUnion`]).
pub trait UnionSink: Sized {
    /// What writing returns.
    type Done;
    /// Writes `{".tag": tag}`.
    fn void(self, tag: &'static str) -> Self::Done;
    /// Writes `{".tag": tag, ...fields of value}`.
    fn flat<T: Record>(self, tag: &'static str, value: &T) -> Self::Done;
    /// Writes `{".tag": tag, tag: value}` with adapter `A`.
    fn nested<T, A: Adapter<T>>(self, tag: &'static str, value: &T) -> Self::Done;
    /// Refuses a value that only exists on receipt (an unknown member or subtype).
    fn unencodable(self, what: &'static str) -> Self::Done;

    /// A nullable struct member: its fields when present, else the tag alone.
    #[inline]
    fn flat_opt<T: Record>(self, tag: &'static str, value: Option<&T>) -> Self::Done {
        match value {
            Some(v) => self.flat(tag, v),
            None => self.void(tag),
        }
    }

    /// A nullable nested member: with its value when present, else the tag alone.
    #[inline]
    fn nested_opt<T, A: Adapter<T>>(self, tag: &'static str, value: Option<&T>) -> Self::Done {
        match value {
            Some(v) => self.nested::<T, A>(tag, v),
            None => self.void(tag),
        }
    }
}

// ----- the arms of a generated `decode_tagged` ----------------------------------------------

/// Decodes a void member: extra keys are ignored.
#[inline]
pub fn void<M: Members, U>(map: &mut M, value: U) -> Result<U, M::Error> {
    map.rest()?;
    Ok(value)
}

/// Decodes a member whose type is an ordinary struct, flattened beside `.tag`, and wraps it
/// with `member` (the variant's constructor).
///
/// The constructor is a function pointer rather than a closure type, so each arm of a
/// generated `decode_tagged` is one call with nothing to infer but the member's type.
#[inline]
pub fn flat<M: Members, T: Record, U>(map: &mut M, member: fn(T) -> U) -> Result<U, M::Error> {
    match map.flat::<T>() {
        Ok(value) => Ok(member(value)),
        Err(e) => Err(e),
    }
}

/// Decodes a nullable member of struct type (null when nothing but the tag is present) and
/// wraps it with `member`.
#[inline]
pub fn flat_opt<M: Members, T: Record, U>(
    map: &mut M,
    member: fn(Option<T>) -> U,
) -> Result<U, M::Error> {
    match map.flat_opt::<T>() {
        Ok(value) => Ok(member(value)),
        Err(e) => Err(e),
    }
}

/// Decodes a member whose value sits under the tag's key (read with adapter `Ad`) and wraps
/// it with `member`.
#[inline]
pub fn nested<M: Members, T, Ad: Adapter<T>, U>(
    map: &mut M,
    tag: &'static str,
    member: fn(T) -> U,
) -> Result<U, M::Error> {
    match map.member::<T, Ad>(tag)? {
        Some(value) => Ok(member(value)),
        None => Err(de::Error::missing_field(tag)),
    }
}

/// Decodes a nullable nested member (absent or `null` is `None`) and wraps it with `member`.
#[inline]
pub fn nested_opt<M: Members, T, Ad: Adapter<T>, U>(
    map: &mut M,
    tag: &'static str,
    member: fn(Option<T>) -> U,
) -> Result<U, M::Error> {
    let value = map.member::<Option<T>, OptionOf<Ad>>(tag)?.flatten();
    Ok(member(value))
}

/// Decodes an unknown tag of an open union as its catch-all.
#[inline]
pub fn other<M: Members, U>(map: &mut M, value: U) -> Result<U, M::Error> {
    map.rest()?;
    Ok(value)
}

/// The error for an unknown tag of a closed union.
pub fn unknown_tag<E: de::Error>(tag: &str, expected: &'static [&'static str]) -> E {
    E::unknown_variant(tag, expected)
}

// ----- serde --------------------------------------------------------------------------------

/// A union's `Serialize`.
#[inline]
pub fn serialize_tagged<T: Tagged, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    value.encode_tagged(SerdeUnion(s))
}

/// Writes a union member through a serde serializer.
pub struct SerdeUnion<S>(pub S);

impl<S: Serializer> SerdeUnion<S> {
    fn open(self, tag: &'static str, len: Option<usize>) -> Result<S::SerializeMap, S::Error> {
        let mut map = self.0.serialize_map(len)?;
        map.serialize_entry(TAG, tag)?;
        Ok(map)
    }
}

impl<S: Serializer> UnionSink for SerdeUnion<S> {
    type Done = Result<S::Ok, S::Error>;

    fn void(self, tag: &'static str) -> Self::Done {
        self.open(tag, Some(1))?.end()
    }

    fn flat<T: Record>(self, tag: &'static str, value: &T) -> Self::Done {
        value
            .encode_fields(Encoder::<S>::open(self.open(tag, None)))
            .end()
    }

    fn nested<T, A: Adapter<T>>(self, tag: &'static str, value: &T) -> Self::Done {
        let mut map = self.open(tag, Some(2))?;
        map.serialize_entry(tag, &With::<T, A>::new(value))?;
        map.end()
    }

    fn unencodable(self, what: &'static str) -> Self::Done {
        Err(serde::ser::Error::custom(format_args!(
            "cannot encode {what}"
        )))
    }
}

/// Reads a union or polymorphic struct (object with `.tag` anywhere, or a bare tag string).
pub fn deserialize_tagged<'de, T: Tagged, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
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

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a JSON object with a \".tag\" (or a tag string) for {}",
            T::name()
        )
    }

    fn visit_str<E: de::Error>(self, tag: &str) -> Result<T, E> {
        T::decode_tagged(tag, &mut MapMembers::new(&mut EmptyMap(PhantomData)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        // Fast path: `.tag` comes first, as every Dropbox encoder writes it.
        let first = map.next_key::<KeyOrTag>()?;
        match first {
            None => Err(de::Error::missing_field(TAG)),
            Some(KeyOrTag::Tag) => {
                let tag: TagString<'de> = map.next_value()?;
                T::decode_tagged(tag.as_str(), &mut MapMembers::new(&mut map))
            }
            Some(KeyOrTag::Other(first_key)) => {
                // Slow path: buffer the object until `.tag` turns up, then replay.
                let mut entries: Vec<(String, serde_json::Value)> = Vec::new();
                let first_value: serde_json::Value = map.next_value()?;
                entries.push((first_key, first_value));
                let mut tag = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == TAG {
                        // The first `.tag` counts, as when it comes first; a later one is
                        // ignored like any unknown key.
                        if tag.is_none() {
                            tag = Some(map.next_value::<String>()?);
                        } else {
                            map.next_value::<de::IgnoredAny>()?;
                        }
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
                T::decode_tagged(&tag, &mut MapMembers::new(&mut replay))
            }
        }
    }
}

/// The rest of a union object read from a serde map.
pub struct MapMembers<'m, 'de, A> {
    map: &'m mut A,
    _de: PhantomData<&'de ()>,
}

impl<'m, 'de, A: MapAccess<'de>> MapMembers<'m, 'de, A> {
    /// The rest of `map`.
    pub fn new(map: &'m mut A) -> Self {
        MapMembers {
            map,
            _de: PhantomData,
        }
    }
}

impl<'de, A: MapAccess<'de>> Members for MapMembers<'_, 'de, A> {
    type Error = A::Error;

    #[inline]
    fn flat<T: Record>(&mut self) -> Result<T, A::Error> {
        T::decode(SerdeSource::new(MapAccessDeserializer::new(&mut *self.map)))
    }

    fn flat_opt<T: Record>(&mut self) -> Result<Option<T>, A::Error> {
        let Some(first) = self.map.next_key::<String>()? else {
            return Ok(None);
        };
        let mut prefixed = PrefixedMap {
            first: Some(first),
            inner: &mut *self.map,
        };
        T::decode(SerdeSource::new(MapAccessDeserializer::new(&mut prefixed))).map(Some)
    }

    fn member<T, Ad: Adapter<T>>(&mut self, tag: &str) -> Result<Option<T>, A::Error> {
        let mut out = None;
        // `.tag` never equals a member's name, so it is skipped like any other key.
        while let Some(is_member) = self.map.next_key_seed(KeyIs(tag))? {
            if is_member && out.is_none() {
                out = Some(self.map.next_value_seed(Seed::<T, Ad>::new())?);
            } else {
                super::skip_value(self.map)?;
            }
        }
        Ok(out)
    }

    #[inline]
    fn rest(&mut self) -> Result<(), A::Error> {
        drain(self.map)
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

/// Whether an object key equals a given tag, read without allocating the key.
struct KeyIs<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
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

// ----- the JSON codec -----------------------------------------------------------------------

/// A union's [`Json::encode`](crate::json::Json::encode).
#[inline]
pub fn write_tagged<T: Tagged>(value: &T, w: &mut Writer) {
    value.encode_tagged(JsonUnion(w));
}

/// Writes a union member with the JSON codec.
pub struct JsonUnion<'w>(pub(crate) &'w mut Writer);

impl JsonUnion<'_> {
    #[inline]
    fn open(&mut self, tag: &str) {
        self.0.raw(b"{\".tag\":");
        self.0.str(tag);
    }
}

impl UnionSink for JsonUnion<'_> {
    type Done = ();

    #[inline]
    fn void(mut self, tag: &'static str) {
        self.open(tag);
        self.0.byte(b'}');
    }

    #[inline]
    fn flat<T: Record>(mut self, tag: &'static str, value: &T) {
        self.open(tag);
        value.encode_fields(Fields::new(self.0, false));
        self.0.byte(b'}');
    }

    #[inline]
    fn nested<T, A: Adapter<T>>(mut self, tag: &'static str, value: &T) {
        self.open(tag);
        self.0.key(tag, false);
        A::write(value, self.0);
        self.0.byte(b'}');
    }

    fn unencodable(self, what: &'static str) {
        self.0.fail(what);
    }
}

/// A union's [`Json::decode`](crate::json::Json::decode): an object with `.tag` (first, or anywhere:
/// the object is then read twice, without buffering) or a bare tag string.
pub fn read_tagged<T: Tagged>(r: &mut Reader<'_>) -> Result<T, json::Error> {
    // Fast path: the compact form every Dropbox encoder writes, `.tag` first.
    if let Some(tag) = r.tag_first()? {
        return T::decode_tagged(
            &tag,
            &mut ObjectMembers {
                r,
                first: false,
                bare: false,
            },
        );
    }
    match r.peek() {
        Some(b'"') => {
            let tag = r.str(&"a tag string")?;
            T::decode_tagged(
                &tag,
                &mut ObjectMembers {
                    r,
                    first: true,
                    bare: true,
                },
            )
        }
        Some(b'{') => {
            let start = r.mark();
            r.begin_object(&"an object")?;
            if !r.has_entry(true)? {
                return Err(de::Error::missing_field(TAG));
            }
            // Fast path: `.tag` comes first, as every Dropbox encoder writes it.
            if r.key_is(TAG) {
                let tag = r.str(&"a tag string")?;
                return T::decode_tagged(
                    &tag,
                    &mut ObjectMembers {
                        r,
                        first: false,
                        bare: false,
                    },
                );
            }
            let tag = find_tag(r)?;
            r.rewind(start);
            r.begin_object(&"an object")?;
            T::decode_tagged(
                &tag,
                &mut ObjectMembers {
                    r,
                    first: true,
                    bare: false,
                },
            )
        }
        _ => Err(r.invalid_type(&format_args!(
            "a JSON object with a \".tag\" (or a tag string) for {}",
            T::name()
        ))),
    }
}

/// The value of `.tag`, looked for from the object's first key on (which is not `.tag`).
#[cold]
fn find_tag<'a>(r: &mut Reader<'a>) -> Result<Cow<'a, str>, json::Error> {
    let mut first = true;
    loop {
        if !first && !r.has_entry(false)? {
            return Err(de::Error::missing_field(TAG));
        }
        first = false;
        if r.key()? == TAG {
            return r.str(&"a tag string");
        }
        r.skip()?;
    }
}

/// The rest of a union object read by the JSON codec.
pub struct ObjectMembers<'r, 'a> {
    r: &'r mut Reader<'a>,
    /// No entry read yet (a `,` does not come first).
    first: bool,
    /// The value was a bare tag string: there are no entries.
    bare: bool,
}

impl Members for ObjectMembers<'_, '_> {
    type Error = json::Error;

    #[inline]
    fn flat<T: Record>(&mut self) -> Result<T, json::Error> {
        if self.bare {
            return T::decode(NoEntries::new());
        }
        T::decode(ObjectSource {
            r: &mut *self.r,
            first: self.first,
            open: false,
        })
    }

    fn flat_opt<T: Record>(&mut self) -> Result<Option<T>, json::Error> {
        if self.bare {
            return Ok(None);
        }
        if self.r.peek() == Some(b'}') {
            self.rest()?;
            return Ok(None);
        }
        T::decode(ObjectSource {
            r: &mut *self.r,
            first: self.first,
            open: false,
        })
        .map(Some)
    }

    fn member<T, A: Adapter<T>>(&mut self, tag: &str) -> Result<Option<T>, json::Error> {
        if self.bare {
            return Ok(None);
        }
        let mut out = None;
        let mut first = self.first;
        while self.r.has_entry(first)? {
            first = false;
            // `.tag` never equals a member's name, so it is skipped like any other key.
            let is_member = self.r.key_is(tag) || self.r.key()? == tag;
            if is_member && out.is_none() {
                out = Some(A::read(self.r)?);
            } else {
                self.r.skip()?;
            }
        }
        Ok(out)
    }

    fn rest(&mut self) -> Result<(), json::Error> {
        if self.bare {
            return Ok(());
        }
        let mut first = self.first;
        while self.r.has_entry(first)? {
            first = false;
            self.r.key()?;
            self.r.skip()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Str;
    use crate::wire::{
        FieldSink, Optional, Plain, Required, Source, deserialize_record, serialize_record,
    };

    #[derive(Debug, PartialEq)]
    struct Point {
        a: u32,
        b: Option<Str>,
    }

    impl Record for Point {
        fn decode<S: Source>(source: S) -> Result<Self, S::Error> {
            match source.read::<(Required<u32>, (Optional<Str>, ()))>("Point", &["a", "b"]) {
                Ok((a, (b, ()))) => Ok(Point { a, b }),
                Err(e) => Err(e),
            }
        }

        fn encode_fields<F: FieldSink>(&self, out: F) -> F {
            out.field("a", &self.a).optional("b", &self.b)
        }
    }

    impl serde::Serialize for Point {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_record(self, s)
        }
    }

    impl<'de> serde::Deserialize<'de> for Point {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_record(d)
        }
    }

    /// A union described the way the emitter describes one: every shape of member.
    #[derive(Debug, PartialEq)]
    enum Shape {
        Thing(Point),
        Maybe(Option<Point>),
        Count(u64),
        Label(Option<Str>),
        Empty,
        Other,
    }

    impl Tagged for Shape {
        fn decode_tagged<M: Members>(tag: &str, map: &mut M) -> Result<Self, M::Error> {
            match tag {
                "thing" => flat(map, Shape::Thing),
                "maybe" => flat_opt(map, Shape::Maybe),
                "count" => nested::<_, _, Plain, _>(map, "count", Shape::Count),
                "label" => nested_opt::<_, _, Plain, _>(map, "label", Shape::Label),
                "empty" => void(map, Shape::Empty),
                _ => other(map, Shape::Other),
            }
        }
        fn encode_tagged<U: UnionSink>(&self, out: U) -> U::Done {
            match self {
                Shape::Thing(v) => out.flat("thing", v),
                Shape::Maybe(v) => out.flat_opt("maybe", v.as_ref()),
                Shape::Count(v) => out.nested::<_, Plain>("count", v),
                Shape::Label(v) => out.nested_opt::<_, Plain>("label", v.as_ref()),
                Shape::Empty => out.void("empty"),
                Shape::Other => out.unencodable("an unknown member"),
            }
        }
    }

    impl serde::Serialize for Shape {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_tagged(self, s)
        }
    }

    impl<'de> serde::Deserialize<'de> for Shape {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_tagged(d)
        }
    }

    impl json::Json for Shape {
        fn decode(r: &mut Reader<'_>) -> Result<Self, json::Error> {
            read_tagged(r)
        }

        fn encode(&self, w: &mut Writer) {
            write_tagged(self, w);
        }
    }

    /// Both codecs decode the same value (or both fail), and encode it to the same bytes.
    fn both(text: &str) -> Result<(Shape, String), String> {
        let serde: Result<Shape, String> = serde_json::from_str(text).map_err(|e| e.to_string());
        let ours: Result<Shape, String> = json::from_str(text).map_err(|e| e.to_string());
        match (serde, ours) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{text}");
                let written = serde_json::to_string(&a).map_err(|e| e.to_string());
                let ours = json::to_string(&a).map_err(|e| e.to_string());
                assert_eq!(written, ours, "{text}");
                Ok((a, written.unwrap_or_default()))
            }
            (Err(a), Err(b)) => Err(format!("{a} | {b}")),
            (a, b) => panic!("the codecs disagree on {text}: {a:?} / {b:?}"),
        }
    }

    #[test]
    fn every_member_shape_reads_with_the_tag_first_or_anywhere() {
        let thing = Shape::Thing(Point {
            a: 3,
            b: Some("x".into()),
        });
        for text in [
            r#"{".tag": "thing", "a": 3, "b": "x"}"#,
            r#"{"a": 3, ".tag": "thing", "b": "x"}"#,
            r#"{"b": "x", "a": 3, ".tag": "thing"}"#,
            r#"{"a": 3, "zz": {".tag": "nope"}, ".tag": "thing", "b": "x", "more": [1]}"#,
        ] {
            let (v, written) = both(text).unwrap();
            assert_eq!(v, thing);
            assert_eq!(written, r#"{".tag":"thing","a":3,"b":"x"}"#);
        }
        assert_eq!(both(r#"{".tag": "maybe"}"#).unwrap().0, Shape::Maybe(None));
        assert_eq!(both(r#""maybe""#).unwrap().0, Shape::Maybe(None));
        assert_eq!(
            both(r#"{".tag": "maybe", "a": 1}"#).unwrap().0,
            Shape::Maybe(Some(Point { a: 1, b: None }))
        );
        let (v, written) = both(r#"{"count": 7, ".tag": "count", "x": 1}"#).unwrap();
        assert_eq!(v, Shape::Count(7));
        assert_eq!(written, r#"{".tag":"count","count":7}"#);
        assert_eq!(
            both(r#"{".tag": "label", "label": null}"#).unwrap().0,
            Shape::Label(None)
        );
        assert_eq!(both(r#""label""#).unwrap().0, Shape::Label(None));
        assert_eq!(
            both(r#"{".tag": "label", "label": "l"}"#).unwrap().1,
            r#"{".tag":"label","label":"l"}"#
        );
        let (v, written) = both(r#"{".tag": "empty", "ignored": [1, 2]}"#).unwrap();
        assert_eq!((v, written.as_str()), (Shape::Empty, r#"{".tag":"empty"}"#));
        assert_eq!(both(r#""empty""#).unwrap().0, Shape::Empty);
        assert_eq!(both(r#"{".t\u0061g": "empty"}"#).unwrap().0, Shape::Empty);
    }

    #[test]
    fn unknown_tags_of_an_open_union_are_its_catch_all_which_cannot_be_sent() {
        let (v, _) = both(r#"{".tag": "future", "x": {"y": 1}}"#).unwrap();
        assert_eq!(v, Shape::Other);
        let err = serde_json::to_string(&v).unwrap_err().to_string();
        assert!(err.contains("cannot encode an unknown member"), "{err}");
        let err = json::to_string(&v).unwrap_err().to_string();
        assert_eq!(err, "cannot encode an unknown member");
        assert_eq!(
            json::from_str::<Shape>(r#""future""#).unwrap(),
            Shape::Other
        );
        assert!(json::to_vec(&Shape::Other).is_err());
    }

    #[test]
    fn malformed_unions_fail_in_both_codecs() {
        for text in [
            r#"{".tag": "thing"}"#,
            r#"{".tag": "count"}"#,
            r#"{"a": 1}"#,
            r#"{}"#,
            r#"{".tag": 5}"#,
            r#"[".tag"]"#,
            r#"{".tag": "thing", "a": "x"}"#,
            r#"{"a": 3, ".tag": "thing", "b": 1}"#,
            r#"{"a": 3, ".tag": "thing""#,
            r#"{"a": [}, ".tag": "thing"}"#,
            "7",
        ] {
            both(text).unwrap_err();
        }
        let err = both(r#"{".tag": "count"}"#).unwrap_err();
        assert!(err.contains("missing field `count`"), "{err}");
    }

    #[test]
    fn closed_unions_refuse_unknown_tags() {
        #[derive(Debug)]
        struct Closed;
        impl Tagged for Closed {
            fn decode_tagged<M: Members>(tag: &str, map: &mut M) -> Result<Self, M::Error> {
                match tag {
                    "a" => void(map, Closed),
                    _ => Err(unknown_tag(tag, &["a"])),
                }
            }
            fn encode_tagged<U: UnionSink>(&self, out: U) -> U::Done {
                out.void("a")
            }
        }
        let mut r = Reader::new(r#"{".tag": "b"}"#);
        let err = read_tagged::<Closed>(&mut r).unwrap_err();
        assert_eq!(err.to_string(), "unknown variant `b`, expected `a`");
        let mut w = Writer::new();
        write_tagged(&Closed, &mut w);
        assert_eq!(w.finish().unwrap(), br#"{".tag":"a"}"#);
    }
}
