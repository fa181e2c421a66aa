//! Structs: one description of the fields ([`Record`]), read and written by both codecs.
//!
//! A generated struct implements [`Record`] with two functions: `decode`, one call that
//! names the struct's decoding [`Slot`]s (one per field, by type) and its fields' wire names,
//! followed by the struct literal; and `encode_fields`, one chain of [`FieldSink`] calls.
//! Everything else lives here, generic, compiled in the crate that uses it: where the fields
//! come from is a [`Source`] (a serde map, a JSON object, the rest of a union object), where
//! they go a [`FieldSink`] (a serde map or a JSON object). So the serde impls
//! ([`serialize_record`], [`deserialize_record`]) and this crate's JSON codec (the blanket
//! [`Json`] impl) read and write the same fields the same way.
//!
//! ```
//! use dropbox_api_runtime::__private::wire::{
//!     Defaulted, FieldSink, Optional, Record, Required, Source, deserialize_record,
//! };
//!
//! struct Entry {
//!     name: String,
//!     rev: Option<String>,
//!     mute: bool,
//! }
//!
//! impl Record for Entry {
//!     fn decode<S: Source>(source: S) -> Result<Self, S::Error> {
//!         match source.read::<(Required<String>, (Optional<String>, (Defaulted<bool>, ())))>(
//!             "Entry",
//!             &["name", "rev", "mute"],
//!         ) {
//!             // A defaulted field that is absent comes back as `None`: the literal applies
//!             // the default.
//!             Ok((name, (rev, (mute, ())))) => Ok(Entry { name, rev, mute: mute.unwrap_or(true) }),
//!             Err(e) => Err(e),
//!         }
//!     }
//!
//!     fn encode_fields<F: FieldSink>(&self, out: F) -> F {
//!         out.field("name", &self.name).optional("rev", &self.rev).field("mute", &self.mute)
//!     }
//! }
//!
//! let mut json = serde_json::Deserializer::from_str(r#"{"rev": null, "name": "a.txt", "x": [1]}"#);
//! let entry: Entry = deserialize_record(&mut json).unwrap();
//! assert_eq!((entry.name.as_str(), entry.rev.as_deref(), entry.mute), ("a.txt", None, true));
//! let text = dropbox_api_runtime::json::to_string(&entry).unwrap();
//! assert_eq!(text, r#"{"name":"a.txt","mute":true}"#);
//! let again: Entry = dropbox_api_runtime::json::from_str(&text).unwrap();
//! assert_eq!(again.name, "a.txt");
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

use super::adapters::{Adapter, OptionOf, Plain, Seed, Wire, With};
use super::skip_value;
use crate::json::{self, Entry, Json, Reader, Writer};

// ----- the description ----------------------------------------------------------------------

/// A struct of the spec, described for both codecs (what generated code implements).
pub trait Record: Sized {
    /// Reads the struct from `source`: one [`Source::read`] naming the slot types, the
    /// struct's name and its fields' wire names, then the struct literal.
    fn decode<S: Source>(source: S) -> Result<Self, S::Error>;
    /// Writes the fields, in field order.
    fn encode_fields<F: FieldSink>(&self, out: F) -> F;
}

/// Where a struct's fields are read from: a serde map ([`SerdeSource`]), a JSON object or
/// the rest of one after a union's `.tag` ([`ObjectSource`]), or nothing at all (a bare tag
/// string standing for a struct member).
pub trait Source: Sized {
    /// The codec's error.
    type Error: de::Error;
    /// Reads every entry of the object into slots `L`, one per field of `fields` (nested
    /// pairs ending in `()`), and returns their values; unknown keys are skipped, a missing
    /// required field is an error naming it. `name` names the struct in errors.
    fn read<L: Slots + Default>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
    ) -> Result<L::Values, Self::Error>;
}

/// The values of filled slots, or the error for their first missing required field.
#[inline]
fn finish<L: Slots, E: de::Error>(
    slots: &mut L,
    fields: &'static [&'static str],
) -> Result<L::Values, E> {
    if let Some(name) = slots.missing(fields) {
        return Err(E::missing_field(name));
    }
    Ok(slots.take())
}

/// Where a struct writes its fields: a serde map ([`Encoder`]) or a JSON object
/// ([`Fields`]). Absent optional fields are left out.
pub trait FieldSink: Sized {
    /// Writes one field through adapter `A`.
    fn entry<T, A: Adapter<T>>(self, name: &'static str, value: &T) -> Self;

    /// Writes a required or defaulted field.
    #[inline]
    fn field<T: Wire>(self, name: &'static str, value: &T) -> Self {
        self.entry::<T, Plain>(name, value)
    }

    /// Writes a nullable field when it is present.
    #[inline]
    fn optional<T: Wire>(self, name: &'static str, value: &Option<T>) -> Self {
        match value {
            Some(v) => self.entry::<T, Plain>(name, v),
            None => self,
        }
    }

    /// Writes a required or defaulted field through adapter `A` (timestamps, bytes).
    #[inline]
    fn adapted<A: Adapter<T>, T>(self, name: &'static str, value: &T) -> Self {
        self.entry::<T, A>(name, value)
    }

    /// Writes a nullable field through adapter `A` when it is present.
    #[inline]
    fn optional_adapted<A: Adapter<T>, T>(self, name: &'static str, value: &Option<T>) -> Self {
        match value {
            Some(v) => self.entry::<T, A>(name, v),
            None => self,
        }
    }
}

// ----- serde: encoding ----------------------------------------------------------------------

/// Writes a struct as a serde map, one field per call.
///
/// The first error is kept and every later call does nothing, so a whole struct is one
/// expression:
///
/// ```
/// use dropbox_api_runtime::__private::wire::{Encoder, FieldSink};
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

    /// Continues an object already open (after a union's `.tag`).
    #[inline]
    pub(crate) fn open(state: Result<S::SerializeMap, S::Error>) -> Self {
        Encoder { state }
    }

    /// Closes the object.
    #[inline]
    pub fn end(self) -> Result<S::Ok, S::Error> {
        self.state?.end()
    }
}

impl<S: Serializer> FieldSink for Encoder<S> {
    #[inline]
    fn entry<T, A: Adapter<T>>(mut self, name: &'static str, value: &T) -> Self {
        if let Ok(map) = &mut self.state
            && let Err(e) = map.serialize_entry(name, &With::<T, A>::new(value))
        {
            self.state = Err(e);
        }
        self
    }
}

/// A struct's `Serialize`: its fields as a map.
#[inline]
pub fn serialize_record<T: Record, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    value.encode_fields(Encoder::new(s)).end()
}

// ----- serde: decoding ----------------------------------------------------------------------

/// A struct's `Deserialize`: its fields from a serde map.
#[inline]
pub fn deserialize_record<'de, T: Record, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::decode(SerdeSource::new(d))
}

/// A struct's fields from a serde deserializer's map.
pub struct SerdeSource<'de, D> {
    d: D,
    _de: PhantomData<&'de ()>,
}

impl<'de, D: Deserializer<'de>> SerdeSource<'de, D> {
    /// The map `d` holds.
    pub fn new(d: D) -> Self {
        SerdeSource {
            d,
            _de: PhantomData,
        }
    }
}

impl<'de, D: Deserializer<'de>> Source for SerdeSource<'de, D> {
    type Error = D::Error;

    #[inline]
    fn read<L: Slots + Default>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
    ) -> Result<L::Values, D::Error> {
        let mut slots = L::default();
        // The visitor borrows the slots, so the (possibly large) decoding state stays in
        // this frame instead of moving through the deserializer's calls.
        self.d.deserialize_map(SlotsVisitor {
            name,
            fields,
            slots: &mut slots,
        })
    }
}

struct SlotsVisitor<'s, L> {
    name: &'static str,
    fields: &'static [&'static str],
    slots: &'s mut L,
}

impl<'de, L: Slots> Visitor<'de> for SlotsVisitor<'_, L> {
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
        finish(self.slots, self.fields)
    }
}

// ----- the JSON codec -----------------------------------------------------------------------

/// Writes a struct's fields into an open JSON object.
pub struct Fields<'w> {
    w: &'w mut Writer,
    first: bool,
}

impl<'w> Fields<'w> {
    /// Fields of an object just opened (`first`), or after other entries.
    #[inline]
    pub(crate) fn new(w: &'w mut Writer, first: bool) -> Self {
        Fields { w, first }
    }
}

impl FieldSink for Fields<'_> {
    #[inline]
    fn entry<T, A: Adapter<T>>(mut self, name: &'static str, value: &T) -> Self {
        self.w.key(name, self.first);
        self.first = false;
        A::write(value, self.w);
        self
    }
}

impl<T: Record> Json for T {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, json::Error> {
        T::decode(ObjectSource {
            r,
            first: true,
            open: true,
        })
    }

    #[inline]
    fn encode(&self, w: &mut Writer) {
        w.byte(b'{');
        self.encode_fields(Fields::new(w, true));
        w.byte(b'}');
    }
}

/// A struct's fields from a JSON object: the whole object (`open`: its `{` is still to be
/// read), or the rest of an open one, from its first entry (`first`) or after entries already
/// read (a union's `.tag`).
pub struct ObjectSource<'r, 'a> {
    pub(crate) r: &'r mut Reader<'a>,
    pub(crate) first: bool,
    pub(crate) open: bool,
}

impl Source for ObjectSource<'_, '_> {
    type Error = json::Error;

    #[inline]
    fn read<L: Slots + Default>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
    ) -> Result<L::Values, json::Error> {
        let r = self.r;
        if self.open {
            r.begin_object(&format_args!("a JSON object for struct {name}"))?;
        }
        let mut first = self.first;
        let mut slots = L::default();
        let mut hint = 0;
        loop {
            match r.entry(first, fields, hint)? {
                Entry::End => break,
                Entry::Field(index) => {
                    slots.read_json(index, r)?;
                    hint = index + 1;
                }
                Entry::Unknown => r.skip()?,
            }
            first = false;
        }
        finish(&mut slots, fields)
    }
}

/// No entries at all (a bare tag string standing for a struct member): every field absent.
pub struct NoEntries<E>(PhantomData<E>);

impl<E> NoEntries<E> {
    /// The empty source.
    pub(crate) fn new() -> Self {
        NoEntries(PhantomData)
    }
}

impl<E: de::Error> Source for NoEntries<E> {
    type Error = E;

    fn read<L: Slots + Default>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
    ) -> Result<L::Values, E> {
        finish(&mut L::default(), fields)
    }
}

/// The name of a type without its path and type arguments
/// (`dropbox_api::files::Metadata` -> `Metadata`), for error messages.
pub(crate) fn short_type_name<T: ?Sized>() -> &'static str {
    let full = std::any::type_name::<T>();
    let plain = full.split('<').next().unwrap_or(full);
    plain.rsplit("::").next().unwrap_or(plain)
}

// ----- slots --------------------------------------------------------------------------------

/// The decoding state of a struct's fields: nested pairs of [`Slot`]s ending in `()`.
pub trait Slots {
    /// The fields' values, nested the same way.
    type Values;
    /// Reads the value of field `index` from a serde map (an index past the end skips the
    /// value).
    fn read<'de, A: MapAccess<'de>>(&mut self, index: usize, map: &mut A) -> Result<(), A::Error>;
    /// Reads the value of field `index` with the JSON codec (an index past the end skips
    /// the value).
    fn read_json(&mut self, index: usize, r: &mut Reader<'_>) -> Result<(), json::Error>;
    /// The name of the first required field without a value (`names` are the fields'
    /// names, in slot order).
    fn missing(&self, names: &[&'static str]) -> Option<&'static str>;
    /// The values, taken out: the slots are spent afterwards. Only after
    /// [`missing`](Slots::missing) found nothing missing (the one caller, the runtime's
    /// `finish`, checks first).
    ///
    /// Taking builds the nested tuple directly, with no `Result` on the way, so that no
    /// level copies the levels below it: checking while taking (a `?` per level) moved each
    /// tuple once per enclosing level, quadratic in the number of fields, a tenth of the
    /// decode time of a `list_folder` page.
    fn take(&mut self) -> Self::Values;
}

impl Slots for () {
    type Values = ();

    #[inline]
    fn read<'de, A: MapAccess<'de>>(&mut self, _index: usize, map: &mut A) -> Result<(), A::Error> {
        skip_value(map)
    }

    #[inline]
    fn read_json(&mut self, _index: usize, r: &mut Reader<'_>) -> Result<(), json::Error> {
        r.skip()
    }

    #[inline]
    fn missing(&self, _names: &[&'static str]) -> Option<&'static str> {
        None
    }

    #[inline]
    fn take(&mut self) {}
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
    fn read_json(&mut self, index: usize, r: &mut Reader<'_>) -> Result<(), json::Error> {
        if index == 0 {
            self.0.read_json(r)
        } else {
            self.1.read_json(index - 1, r)
        }
    }

    #[inline]
    fn missing(&self, names: &[&'static str]) -> Option<&'static str> {
        let (name, rest) = names.split_first().unwrap_or((&"?", &[]));
        if self.0.is_missing() {
            Some(name)
        } else {
            self.1.missing(rest)
        }
    }

    #[inline]
    fn take(&mut self) -> Self::Values {
        (self.0.take(), self.1.take())
    }
}

/// The decoding state of one field.
pub trait Slot {
    /// The field's value.
    type Value;
    /// Reads the field's value from a serde map (a repeated key replaces the earlier value).
    fn read<'de, A: MapAccess<'de>>(&mut self, map: &mut A) -> Result<(), A::Error>;
    /// Reads the field's value with the JSON codec (a repeated key replaces the earlier
    /// value).
    fn read_json(&mut self, r: &mut Reader<'_>) -> Result<(), json::Error>;
    /// Whether the field is required and has no value.
    fn is_missing(&self) -> bool;
    /// The value, taken out: the slot is spent afterwards. A required slot is taken only
    /// once [`is_missing`](Slot::is_missing) said it is filled.
    fn take(&mut self) -> Self::Value;
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
    fn read_json(&mut self, r: &mut Reader<'_>) -> Result<(), json::Error> {
        self.0 = Some(A::read(r)?);
        Ok(())
    }

    #[inline]
    fn is_missing(&self) -> bool {
        self.0.is_none()
    }

    #[inline]
    fn take(&mut self) -> T {
        match self.0.take() {
            Some(value) => value,
            // `finish` takes only after `missing` found every required slot filled.
            None => unreachable!("a required field was taken without being checked"),
        }
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
    fn read_json(&mut self, r: &mut Reader<'_>) -> Result<(), json::Error> {
        self.0 = Some(A::read(r)?);
        Ok(())
    }

    #[inline]
    fn is_missing(&self) -> bool {
        false
    }

    #[inline]
    fn take(&mut self) -> Option<T> {
        self.0.take()
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
    fn read_json(&mut self, r: &mut Reader<'_>) -> Result<(), json::Error> {
        self.0 = if r.null()? { None } else { Some(A::read(r)?) };
        Ok(())
    }

    #[inline]
    fn is_missing(&self) -> bool {
        false
    }

    #[inline]
    fn take(&mut self) -> Option<T> {
        self.0.take()
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
    use crate::Str;
    use crate::wire::{Base64, Boxed, DropboxTimestampFormat, Ts};
    use serde_json::json;

    /// A struct described the way the emitter describes one.
    #[derive(Debug, PartialEq)]
    struct Entry {
        name: Str,
        rev: Option<Str>,
        mute: bool,
        data: Vec<u8>,
        when: Option<crate::wire::Timestamp>,
        next: Option<Box<Entry>>,
    }

    impl Record for Entry {
        fn decode<S: Source>(source: S) -> Result<Self, S::Error> {
            type Fields = (
                Required<Str>,
                (
                    Optional<Str>,
                    (
                        Defaulted<bool>,
                        (
                            Required<Vec<u8>, Base64>,
                            (
                                Optional<crate::wire::Timestamp, Ts<DropboxTimestampFormat>>,
                                (Optional<Box<Entry>, Boxed>, ()),
                            ),
                        ),
                    ),
                ),
            );
            match source.read::<Fields>("Entry", &["name", "rev", "mute", "data", "when", "next"]) {
                Ok((name, (rev, (mute, (data, (when, (next, ()))))))) => Ok(Entry {
                    name,
                    rev,
                    mute: mute.unwrap_or(true),
                    data,
                    when,
                    next,
                }),
                Err(e) => Err(e),
            }
        }

        fn encode_fields<F: FieldSink>(&self, out: F) -> F {
            out.field("name", &self.name)
                .optional("rev", &self.rev)
                .field("mute", &self.mute)
                .adapted::<Base64, _>("data", &self.data)
                .optional_adapted::<Ts<DropboxTimestampFormat>, _>("when", &self.when)
                .optional_adapted::<Boxed, _>("next", &self.next)
        }
    }

    impl serde::Serialize for Entry {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            serialize_record(self, s)
        }
    }

    impl<'de> serde::Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            deserialize_record(d)
        }
    }

    /// Decodes with both codecs, which must agree, and checks that both encode the value to
    /// the same bytes.
    fn both(text: &str) -> Result<Entry, String> {
        let serde: Result<Entry, String> = serde_json::from_str(text).map_err(|e| e.to_string());
        let ours: Result<Entry, String> = json::from_str(text).map_err(|e| e.to_string());
        match (serde, ours) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b, "{text}");
                assert_eq!(
                    serde_json::to_string(&a).unwrap(),
                    json::to_string(&a).unwrap()
                );
                Ok(a)
            }
            (Err(a), Err(b)) => Err(format!("{a} | {b}")),
            (a, b) => panic!("the codecs disagree on {text}: {a:?} / {b:?}"),
        }
    }

    #[test]
    fn absent_optional_fields_are_left_out_and_defaults_apply() {
        let e = both(r#"{"data": "AQI=", "name": "a"}"#).unwrap();
        assert_eq!(
            e,
            Entry {
                name: "a".into(),
                rev: None,
                mute: true,
                data: vec![1, 2],
                when: None,
                next: None,
            }
        );
        assert_eq!(
            json::to_string(&e).unwrap(),
            r#"{"name":"a","mute":true,"data":"AQI="}"#
        );
    }

    #[test]
    fn null_unknown_repeated_and_out_of_order_keys() {
        let e = both(
            r#"{"when": "2026-03-14T09:26:53Z", "rev": null, "x": {"deep": [1, {"a": "}"}]},
                "mute": false, "data": "", "name": "a",
                "next": {"name": "b", "data": "AA==", "next": null}}"#,
        )
        .unwrap();
        assert_eq!(e.rev, None);
        assert!(!e.mute);
        assert_eq!(e.next.as_ref().map(|n| n.name.as_str()), Some("b"));
        assert_eq!(
            serde_json::to_value(&e).unwrap()["when"],
            json!("2026-03-14T09:26:53Z")
        );
        // A repeated key: the last value wins, as with serde_json's maps.
        let e = both(r#"{"name":"a","name":"b","data":""}"#).unwrap();
        assert_eq!(e.name, "b");
    }

    #[test]
    fn errors_name_the_field_or_the_struct() {
        let err = both(r#"{"name": "a"}"#).unwrap_err();
        assert!(err.contains("missing field `data`"), "{err}");
        let err = both("[1]").unwrap_err();
        assert!(err.contains("struct Entry"), "{err}");
        let err = both(r#"{"name": 1, "data": ""}"#).unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
        let err = both(r#"{"name": "a", "data": "%%"}"#).unwrap_err();
        assert!(err.contains("base64"), "{err}");
        let err = both(r#"{"name": "a", "data": "", "when": "yesterday"}"#).unwrap_err();
        assert!(err.contains("does not match"), "{err}");
        let err = both(r#"{"name": "a", "data": "", "mute": null}"#).unwrap_err();
        assert!(err.contains("invalid type"), "{err}");
        for bad in [
            r#"{"name": "a", "data": ""} x"#,
            r#"{"name" "a"}"#,
            r#"{"name": "a","#,
        ] {
            both(bad).unwrap_err();
        }
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
