//! Adapters: how a value is written and read, by both codecs (serde's and the
//! [`json`](crate::json) one), when its JSON form is not its plain form (bytes as base64,
//! timestamps with a strftime format), at any depth of options, lists and maps.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{self, Serialize, SerializeMap, Serializer};

use crate::Str;
use crate::json::{self, Json, Reader, Writer};

/// A type both codecs read and write: serde's (`Serialize`, `Deserialize`) and this crate's
/// [`json`](crate::json) one ([`Json`]). Every generated type is one.
pub trait Wire: Serialize + for<'de> serde::Deserialize<'de> + Json {}

impl<T: Serialize + for<'de> serde::Deserialize<'de> + Json> Wire for T {}

/// How a value of type `T` is written and read when its JSON form is not its plain form.
pub trait Adapter<T> {
    /// Writes the value through serde.
    fn serialize<S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error>;
    /// Reads a value through serde.
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error>;
    /// Writes the value with the JSON codec.
    fn write(value: &T, w: &mut Writer);
    /// Reads a value with the JSON codec.
    fn read(r: &mut Reader<'_>) -> Result<T, json::Error>;
}

/// The plain form, unchanged.
pub struct Plain;

impl<T: Wire> Adapter<T> for Plain {
    #[inline]
    fn serialize<S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        value.serialize(s)
    }
    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        T::deserialize(d)
    }
    #[inline]
    fn write(value: &T, w: &mut Writer) {
        value.encode(w);
    }
    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<T, json::Error> {
        T::decode(r)
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

    fn write(value: &Vec<u8>, w: &mut Writer) {
        use base64::Engine as _;
        w.str(&base64::engine::general_purpose::STANDARD.encode(value));
    }

    fn read(r: &mut Reader<'_>) -> Result<Vec<u8>, json::Error> {
        use base64::Engine as _;
        let text = r.str(&"a base64 string")?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(|e| {
                r.error(json::ErrorKind::InvalidValue(format!(
                    "invalid base64: {e}"
                )))
            })
    }
}

/// A boxed field (one that breaks a recursive type), its value read and written with adapter
/// `A`.
pub struct Boxed<A = Plain>(PhantomData<A>);

impl<T, A: Adapter<T>> Adapter<Box<T>> for Boxed<A> {
    #[inline]
    fn serialize<S: Serializer>(value: &Box<T>, s: S) -> Result<S::Ok, S::Error> {
        A::serialize(value, s)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Box<T>, D::Error> {
        A::deserialize(d).map(Box::new)
    }

    #[inline]
    fn write(value: &Box<T>, w: &mut Writer) {
        A::write(value, w);
    }

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Box<T>, json::Error> {
        A::read(r).map(Box::new)
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

    #[inline]
    fn write(value: &Option<T>, w: &mut Writer) {
        match value {
            Some(v) => A::write(v, w),
            None => w.null(),
        }
    }

    #[inline]
    fn read(r: &mut Reader<'_>) -> Result<Option<T>, json::Error> {
        if r.null()? {
            Ok(None)
        } else {
            A::read(r).map(Some)
        }
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

    fn write(value: &Vec<T>, w: &mut Writer) {
        json::write_list(w, value, A::write);
    }

    fn read(r: &mut Reader<'_>) -> Result<Vec<T>, json::Error> {
        json::read_list(r, A::read)
    }
}

/// `BTreeMap<Str, T>` whose values use adapter `A`.
pub struct MapOf<A>(PhantomData<A>);

impl<T, A: Adapter<T>> Adapter<std::collections::BTreeMap<Str, T>> for MapOf<A> {
    fn serialize<S: Serializer>(
        value: &std::collections::BTreeMap<Str, T>,
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
    ) -> Result<std::collections::BTreeMap<Str, T>, D::Error> {
        struct V<T, A>(PhantomData<(T, A)>);
        impl<'de, T, A: Adapter<T>> Visitor<'de> for V<T, A> {
            type Value = std::collections::BTreeMap<Str, T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = std::collections::BTreeMap::new();
                while let Some(k) = map.next_key::<Str>()? {
                    let v = map.next_value_seed(Seed::<T, A>::new())?;
                    out.insert(k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(V::<T, A>(PhantomData))
    }

    fn write(value: &std::collections::BTreeMap<Str, T>, w: &mut Writer) {
        json::write_map(w, value, A::write);
    }

    fn read(r: &mut Reader<'_>) -> Result<std::collections::BTreeMap<Str, T>, json::Error> {
        json::read_map(r, A::read)
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
