//! Unions and polymorphic structs: a JSON object with a `.tag` key (anywhere in the object),
//! or the bare tag string for a void member.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, Serializer};

use super::adapters::{Adapter, OptionOf, Seed, With};
use super::{TAG, drain, skip_value};

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
    // `.tag` never equals a member's name, so it is skipped like any other key.
    while let Some(is_member) = map.next_key_seed(KeyIs(tag))? {
        if is_member && out.is_none() {
            out = Some(map.next_value_seed(Seed::<T, Ad>::new())?);
        } else {
            skip_value(map)?;
        }
    }
    Ok(out)
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

/// Decodes a void member: extra keys are ignored.
#[inline]
pub fn void<'de, A: MapAccess<'de>, U>(map: &mut A, value: U) -> Result<U, A::Error> {
    drain(map)?;
    Ok(value)
}

/// Decodes a member whose type is an ordinary struct, flattened beside `.tag`, and wraps it
/// with `member` (the variant's constructor).
///
/// The constructor is a function pointer rather than a closure type, so each arm of a
/// generated `decode_tagged` is one call with nothing to infer but the member's type.
#[inline]
pub fn flat<'de, A: MapAccess<'de>, T: Deserialize<'de>, U>(
    map: &mut A,
    member: fn(T) -> U,
) -> Result<U, A::Error> {
    match T::deserialize(MapAccessDeserializer::new(map)) {
        Ok(value) => Ok(member(value)),
        Err(e) => Err(e),
    }
}

/// Decodes a nullable member of struct type (null when nothing but the tag is present) and
/// wraps it with `member`.
pub fn flat_opt<'de, A: MapAccess<'de>, T: Deserialize<'de>, U>(
    map: &mut A,
    member: fn(Option<T>) -> U,
) -> Result<U, A::Error> {
    let Some(first) = map.next_key::<String>()? else {
        return Ok(member(None));
    };
    let mut prefixed = PrefixedMap {
        first: Some(first),
        inner: map,
    };
    let value = T::deserialize(MapAccessDeserializer::new(&mut prefixed))?;
    Ok(member(Some(value)))
}

/// Decodes a member whose value sits under the tag's key (read with adapter `Ad`) and wraps
/// it with `member`.
#[inline]
pub fn nested<'de, A: MapAccess<'de>, T, Ad: Adapter<T>, U>(
    map: &mut A,
    tag: &'static str,
    member: fn(T) -> U,
) -> Result<U, A::Error> {
    match member_value::<A, T, Ad>(map, tag)? {
        Some(value) => Ok(member(value)),
        None => Err(de::Error::missing_field(tag)),
    }
}

/// Decodes a nullable nested member (absent or `null` is `None`) and wraps it with `member`.
#[inline]
pub fn nested_opt<'de, A: MapAccess<'de>, T, Ad: Adapter<T>, U>(
    map: &mut A,
    tag: &'static str,
    member: fn(Option<T>) -> U,
) -> Result<U, A::Error> {
    let value = member_value::<A, Option<T>, OptionOf<Ad>>(map, tag)?.flatten();
    Ok(member(value))
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
pub fn serialize_flat<S: Serializer, T: Serialize>(
    s: S,
    tag: &str,
    value: &T,
) -> Result<S::Ok, S::Error> {
    value.serialize(TagFirst { inner: s, tag })
}

/// A serializer for a struct flattened into a union object: opening the struct's object
/// opens the outer object and writes `.tag` first, so the struct's fields follow it.
struct TagFirst<'t, S> {
    inner: S,
    tag: &'t str,
}

impl<S: Serializer> TagFirst<'_, S> {
    fn open(self, len: Option<usize>) -> Result<S::SerializeMap, S::Error> {
        let mut map = self.inner.serialize_map(len.map(|n| n + 1))?;
        map.serialize_entry(TAG, self.tag)?;
        Ok(map)
    }
}

/// The error for a flattened member whose value is not an object.
fn not_an_object<E: ser::Error>() -> E {
    E::custom("a union member flattened beside `.tag` must be written as an object")
}

macro_rules! not_an_object {
    ($($method:ident($($arg:ty),*);)*) => {
        $(
            fn $method(self, $(_: $arg),*) -> Result<S::Ok, S::Error> {
                Err(not_an_object())
            }
        )*
    };
}

impl<S: Serializer> Serializer for TagFirst<'_, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = ser::Impossible<S::Ok, S::Error>;
    type SerializeTuple = ser::Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = ser::Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = ser::Impossible<S::Ok, S::Error>;
    type SerializeMap = S::SerializeMap;
    type SerializeStruct = StructAsMap<S::SerializeMap>;
    type SerializeStructVariant = ser::Impossible<S::Ok, S::Error>;

    not_an_object! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_str(&str);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<S::Ok, S::Error> {
        Err(not_an_object())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        Err(not_an_object())
    }

    fn serialize_map(self, len: Option<usize>) -> Result<S::SerializeMap, S::Error> {
        self.open(len)
    }

    fn serialize_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.open(Some(len)).map(StructAsMap)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        Err(not_an_object())
    }
}

/// A struct written through `serialize_struct` (serde's derive) into an open object.
struct StructAsMap<M>(M);

impl<M: SerializeMap> ser::SerializeStruct for StructAsMap<M> {
    type Ok = M::Ok;
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        self.0.serialize_entry(key, value)
    }

    fn end(self) -> Result<M::Ok, M::Error> {
        self.0.end()
    }
}

/// Writes a nullable struct member: the fields when present, else the tag alone.
pub fn serialize_flat_opt<S: Serializer, T: Serialize>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A struct with serde's derive, which writes through `serialize_struct`.
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Derived {
        a: u32,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<String>,
    }

    #[test]
    fn a_struct_member_is_flattened_after_the_tag() {
        let v = Derived { a: 1, b: None };
        let out = serialize_flat(serde_json::value::Serializer, "thing", &v).unwrap();
        assert_eq!(out, json!({".tag": "thing", "a": 1}));
        let text = {
            let mut buf = Vec::new();
            serialize_flat(&mut serde_json::Serializer::new(&mut buf), "thing", &v).unwrap();
            String::from_utf8(buf).unwrap()
        };
        assert_eq!(text, r#"{".tag":"thing","a":1}"#);
    }

    #[test]
    fn a_member_that_is_not_an_object_cannot_be_flattened() {
        let err = serialize_flat(serde_json::value::Serializer, "n", &5u32).unwrap_err();
        assert!(
            err.to_string().contains("must be written as an object"),
            "{err}"
        );
        let err = serialize_flat(serde_json::value::Serializer, "l", &vec![1]).unwrap_err();
        assert!(
            err.to_string().contains("must be written as an object"),
            "{err}"
        );
        // An `Option` is looked through.
        let out = serialize_flat(
            serde_json::value::Serializer,
            "o",
            &Some(Derived { a: 2, b: None }),
        )
        .unwrap();
        assert_eq!(out, json!({".tag": "o", "a": 2}));
    }

    #[test]
    fn flattened_members_decode_from_the_rest_of_the_object() {
        struct Holder(Derived);
        impl DecodeTagged for Holder {
            const NAME: &'static str = "Holder";
            fn decode_tagged<'de, A: MapAccess<'de>>(
                tag: &str,
                map: &mut A,
            ) -> Result<Self, A::Error> {
                match tag {
                    "thing" => flat(map, Holder),
                    _ => Err(unknown_tag(tag, &["thing"])),
                }
            }
        }
        let decode = |v: serde_json::Value| -> Result<Derived, String> {
            deserialize_tagged::<Holder, _>(v)
                .map(|h| h.0)
                .map_err(|e| e.to_string())
        };
        let want = Derived {
            a: 3,
            b: Some("x".into()),
        };
        assert_eq!(decode(json!({".tag": "thing", "a": 3, "b": "x"})), Ok(want));
        // `.tag` last: the object is buffered and replayed.
        assert_eq!(
            decode(json!({"a": 3, ".tag": "thing"})),
            Ok(Derived { a: 3, b: None })
        );
        assert!(
            decode(json!({".tag": "thing"}))
                .unwrap_err()
                .contains("missing field `a`")
        );
        assert!(
            decode(json!({".tag": "nope"}))
                .unwrap_err()
                .contains("unknown variant")
        );
    }
}
