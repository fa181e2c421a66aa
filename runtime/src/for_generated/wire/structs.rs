//! Structs: written field by field through an [`Encoder`], read into a tuple of slots by
//! [`decode_struct`].
//!
//! A generated `Serialize` impl is one chain of [`Encoder`] calls, and a generated
//! `Deserialize` impl is one [`decode_struct`] call followed by the struct literal: all loops,
//! key lookups and missing-field checks live here, compiled once per serializer or
//! deserializer rather than once per struct.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::adapters::{Adapter, OptionOf, Plain, Seed, With};
use super::skip_value;

// ----- encoding -----------------------------------------------------------------------------

/// Writes a struct as a JSON object, one field per call; absent optional fields are left out.
///
/// The first error is kept and every later call does nothing, so a whole struct is one
/// expression:
///
/// ```
/// use dropbox_api_runtime::__private::wire::Encoder;
///
/// struct Entry {
///     name: String,
///     rev: Option<String>,
/// }
///
/// impl serde::Serialize for Entry {
///     fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
///         Encoder::new(serializer)
///             .field("name", &self.name)
///             .optional("rev", &self.rev)
///             .end()
///     }
/// }
///
/// let entry = Entry { name: "a.txt".into(), rev: None };
/// assert_eq!(serde_json::to_string(&entry).unwrap(), r#"{"name":"a.txt"}"#);
/// ```
#[must_use = "an encoder writes nothing until `end`"]
pub struct Encoder<S: Serializer> {
    state: Result<S::SerializeMap, S::Error>,
}

impl<S: Serializer> Encoder<S> {
    /// Opens the object.
    #[inline]
    pub fn new(serializer: S) -> Self {
        Encoder {
            state: serializer.serialize_map(None),
        }
    }

    #[inline]
    fn entry<V: Serialize + ?Sized>(mut self, name: &'static str, value: &V) -> Self {
        if let Ok(map) = &mut self.state
            && let Err(e) = map.serialize_entry(name, value)
        {
            self.state = Err(e);
        }
        self
    }

    /// Writes a required or defaulted field.
    #[inline]
    pub fn field<T: Serialize>(self, name: &'static str, value: &T) -> Self {
        self.entry(name, value)
    }

    /// Writes a nullable field when it is present.
    #[inline]
    pub fn optional<T: Serialize>(self, name: &'static str, value: &Option<T>) -> Self {
        match value {
            Some(v) => self.entry(name, v),
            None => self,
        }
    }

    /// Writes a required or defaulted field through adapter `A` (timestamps, bytes).
    #[inline]
    pub fn adapted<A: Adapter<T>, T>(self, name: &'static str, value: &T) -> Self {
        self.entry(name, &With::<T, A>::new(value))
    }

    /// Writes a nullable field through adapter `A` when it is present.
    #[inline]
    pub fn optional_adapted<A: Adapter<T>, T>(self, name: &'static str, value: &Option<T>) -> Self {
        match value {
            Some(v) => self.entry(name, &With::<T, A>::new(v)),
            None => self,
        }
    }

    /// Closes the object.
    #[inline]
    pub fn end(self) -> Result<S::Ok, S::Error> {
        self.state?.end()
    }
}

// ----- decoding -----------------------------------------------------------------------------

/// Reads a struct from a JSON object into a tuple of slots `L`, one [`Slot`] per field in
/// the order of `fields` (nested pairs ending in `()`), and returns the fields' values in the
/// same shape. Unknown keys are skipped; a missing required field is an error naming it.
///
/// The slots are named by their type alone (`L` is built with `Default`), so a generated
/// `Deserialize` impl is one call and one `match`: no slot is built in the caller.
///
/// ```
/// use dropbox_api_runtime::__private::wire::{Defaulted, Optional, Required, decode_struct};
///
/// let mut json = serde_json::Deserializer::from_str(r#"{"rev": null, "name": "a.txt", "x": [1]}"#);
/// let (name, (rev, (mute, ()))) = decode_struct::<_, (
///     Required<String>,
///     (Optional<String>, (Defaulted<bool>, ())),
/// )>(&mut json, "Entry", &["name", "rev", "mute"])
/// .unwrap();
/// // A defaulted field that is absent comes back as `None`; the struct literal applies the
/// // default.
/// assert_eq!((name.as_str(), rev, mute.unwrap_or(true)), ("a.txt", None, true));
/// ```
pub fn decode_struct<'de, D: Deserializer<'de>, L: Slots + Default>(
    deserializer: D,
    name: &'static str,
    fields: &'static [&'static str],
) -> Result<L::Values, D::Error> {
    let mut slots = L::default();
    // The visitor borrows the slots, so the (possibly large) decoding state stays in this
    // frame instead of moving through the deserializer's calls.
    deserializer.deserialize_map(StructVisitor {
        name,
        fields,
        slots: &mut slots,
    })
}

struct StructVisitor<'s, L> {
    name: &'static str,
    fields: &'static [&'static str],
    slots: &'s mut L,
}

impl<'de, L: Slots> Visitor<'de> for StructVisitor<'_, L> {
    type Value = L::Values;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON object for struct {}", self.name)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<L::Values, A::Error> {
        let mut hint = 0;
        while let Some(index) = map.next_key_seed(FieldKey::new(self.fields, hint))? {
            self.slots.read(index, &mut map)?;
            hint = index.wrapping_add(1);
        }
        // Inside the visit, so that the deserializer can add the position to the error.
        self.slots.finish(self.fields)
    }
}

/// The decoding state of a struct's fields: nested pairs of [`Slot`]s ending in `()`.
pub trait Slots {
    /// The fields' values, nested the same way.
    type Values;
    /// Reads the value of field `index` (an index past the end skips the value).
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
    /// The values, or the error for the first missing required field (`names` are the
    /// remaining fields' names).
    /// The values are taken out, so the slots are spent afterwards.
    fn finish<E: de::Error>(&mut self, names: &[&'static str]) -> Result<Self::Values, E>;
}

impl Slots for () {
    type Values = ();

    #[inline]
    fn read<'de, A: MapAccess<'de>>(&mut self, _index: usize, map: &mut A) -> Result<(), A::Error> {
        skip_value(map)
    }

    #[inline]
    fn finish<E: de::Error>(&mut self, _names: &[&'static str]) -> Result<(), E> {
        Ok(())
    }
}

impl<F: Slot, R: Slots> Slots for (F, R) {
    type Values = (F::Value, R::Values);

    #[inline]
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error> {
        if index == 0 {
            self.0.read(map)
        } else {
            self.1.read(index - 1, map)
        }
    }

    #[inline]
    fn finish<E: de::Error>(&mut self, names: &[&'static str]) -> Result<Self::Values, E> {
        let (name, rest) = names.split_first().unwrap_or((&"?", &[]));
        Ok((self.0.finish(name)?, self.1.finish(rest)?))
    }
}

/// The decoding state of one field.
pub trait Slot {
    /// The field's value.
    type Value;
    /// Reads the field's value from the map (a repeated key replaces the earlier value).
    fn read<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error>;
    /// The value, or the error for a missing required field.
    /// The value is taken out, so the slot is spent afterwards.
    fn finish<E: de::Error>(&mut self, name: &'static str) -> Result<Self::Value, E>;
}

/// A required field, read with adapter `A`: absent is an error.
pub struct Required<T, A = Plain>(Option<T>, PhantomData<A>);

impl<T, A> Default for Required<T, A> {
    #[inline]
    fn default() -> Self {
        Required(None, PhantomData)
    }
}

impl<T, A: Adapter<T>> Slot for Required<T, A> {
    type Value = T;

    #[inline]
    fn read<'de, M: MapAccess<'de>>(&mut self, map: &mut M) -> Result<(), M::Error> {
        self.0 = Some(map.next_value_seed(Seed::<T, A>::new())?);
        Ok(())
    }

    #[inline]
    fn finish<E: de::Error>(&mut self, name: &'static str) -> Result<T, E> {
        self.0.take().ok_or_else(|| E::missing_field(name))
    }
}

/// A field with a default value, read with adapter `A`: absent gives `None`, which the
/// generated struct literal replaces with the spec's default (`value.unwrap_or(default)`);
/// `null` is read like any other value, so it is an error unless `T` accepts it.
pub struct Defaulted<T, A = Plain>(Option<T>, PhantomData<A>);

impl<T, A> Default for Defaulted<T, A> {
    #[inline]
    fn default() -> Self {
        Defaulted(None, PhantomData)
    }
}

impl<T, A: Adapter<T>> Slot for Defaulted<T, A> {
    type Value = Option<T>;

    #[inline]
    fn read<'de, M: MapAccess<'de>>(&mut self, map: &mut M) -> Result<(), M::Error> {
        self.0 = Some(map.next_value_seed(Seed::<T, A>::new())?);
        Ok(())
    }

    #[inline]
    fn finish<E: de::Error>(&mut self, _name: &'static str) -> Result<Option<T>, E> {
        Ok(self.0.take())
    }
}

/// A nullable field whose present value is read with adapter `A`: absent and `null` are both
/// `None`.
pub struct Optional<T, A = Plain>(Option<T>, PhantomData<A>);

impl<T, A> Default for Optional<T, A> {
    #[inline]
    fn default() -> Self {
        Optional(None, PhantomData)
    }
}

impl<T, A: Adapter<T>> Slot for Optional<T, A> {
    type Value = Option<T>;

    #[inline]
    fn read<'de, M: MapAccess<'de>>(&mut self, map: &mut M) -> Result<(), M::Error> {
        self.0 = map.next_value_seed(Seed::<Option<T>, OptionOf<A>>::new())?;
        Ok(())
    }

    #[inline]
    fn finish<E: de::Error>(&mut self, _name: &'static str) -> Result<Option<T>, E> {
        Ok(self.0.take())
    }
}

/// Maps an object key to its position in a struct's field table (unknown keys give
/// `usize::MAX`), without allocating for the key. Encoders write fields in table order, so
/// the position after the previous key is tried first.
struct FieldKey {
    fields: &'static [&'static str],
    hint: usize,
}

impl FieldKey {
    /// A key lookup in `fields`, trying position `hint` first.
    fn new(fields: &'static [&'static str], hint: usize) -> Self {
        FieldKey { fields, hint }
    }

    fn index(&self, key: &str) -> usize {
        // Keys mostly come in table order with absent fields skipped, so the scan starts at the
        // hint and wraps around; lengths are compared before bytes.
        let key = key.as_bytes();
        let start = self.hint.min(self.fields.len());
        let (before, after) = self.fields.split_at(start);
        let same = |f: &&&str| {
            f.len() == key.len() && f.as_bytes().first() == key.first() && f.as_bytes() == key
        };
        if let Some(i) = after.iter().position(|f| same(&f)) {
            return start + i;
        }
        before.iter().position(|f| same(&f)).unwrap_or(usize::MAX)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{Base64, DropboxTimestampFormat, Ts};
    use serde_json::json;

    /// A struct written the way the emitter writes one.
    #[derive(Debug, PartialEq)]
    struct Entry {
        name: String,
        rev: Option<String>,
        mute: bool,
        data: Vec<u8>,
        when: Option<crate::wire::Timestamp>,
    }

    impl Serialize for Entry {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            Encoder::new(serializer)
                .field("name", &self.name)
                .optional("rev", &self.rev)
                .field("mute", &self.mute)
                .adapted::<Base64, _>("data", &self.data)
                .optional_adapted::<Ts<DropboxTimestampFormat>, _>("when", &self.when)
                .end()
        }
    }

    impl<'de> serde::Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            type Fields = (
                Required<String>,
                (
                    Optional<String>,
                    (
                        Defaulted<bool>,
                        (
                            Required<Vec<u8>, Base64>,
                            (
                                Optional<crate::wire::Timestamp, Ts<DropboxTimestampFormat>>,
                                (),
                            ),
                        ),
                    ),
                ),
            );
            match decode_struct::<_, Fields>(
                deserializer,
                "Entry",
                &["name", "rev", "mute", "data", "when"],
            ) {
                Ok((name, (rev, (mute, (data, (when, ())))))) => Ok(Entry {
                    name,
                    rev,
                    mute: mute.unwrap_or(true),
                    data,
                    when,
                }),
                Err(e) => Err(e),
            }
        }
    }

    #[test]
    fn absent_optional_fields_are_left_out_and_defaults_apply() {
        let e: Entry = serde_json::from_value(json!({"data": "AQI=", "name": "a"})).unwrap();
        assert_eq!(
            e,
            Entry {
                name: "a".into(),
                rev: None,
                mute: true,
                data: vec![1, 2],
                when: None,
            }
        );
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"name": "a", "mute": true, "data": "AQI="})
        );
    }

    #[test]
    fn null_unknown_and_repeated_keys() {
        let e: Entry = serde_json::from_value(json!({
            "name": "a", "rev": null, "x": {"deep": [1, 2]}, "mute": false, "data": "",
            "when": "2026-03-14T09:26:53Z"
        }))
        .unwrap();
        assert_eq!(e.rev, None);
        assert!(!e.mute);
        assert_eq!(
            serde_json::to_value(&e).unwrap()["when"],
            json!("2026-03-14T09:26:53Z")
        );
        // A repeated key: the last value wins, as with serde_json's maps.
        let e: Entry = serde_json::from_str(r#"{"name":"a","name":"b","data":""}"#).unwrap();
        assert_eq!(e.name, "b");
    }

    #[test]
    fn errors_name_the_field_or_the_struct() {
        let err = serde_json::from_value::<Entry>(json!({"name": "a"})).unwrap_err();
        assert!(err.to_string().contains("missing field `data`"), "{err}");
        let err = serde_json::from_value::<Entry>(json!([1])).unwrap_err();
        assert!(err.to_string().contains("struct Entry"), "{err}");
        let err = serde_json::from_value::<Entry>(json!({"name": 1, "data": ""})).unwrap_err();
        assert!(err.to_string().contains("invalid type"), "{err}");
        let err = serde_json::from_value::<Entry>(json!({"name": "a", "data": "%%"})).unwrap_err();
        assert!(err.to_string().contains("base64"), "{err}");
    }

    #[test]
    fn the_first_encoding_error_is_kept() {
        // Once opening or writing failed, later calls do nothing and `end` returns the error.
        let encoder: Encoder<serde_json::value::Serializer> = Encoder {
            state: Err(serde::ser::Error::custom("first")),
        };
        let err = encoder
            .field("x", &1)
            .optional("y", &Some(2))
            .end()
            .unwrap_err();
        assert_eq!(err.to_string(), "first");
    }
}
