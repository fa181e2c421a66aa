//! [`Json`] for the standard types the generated types hold.

use std::collections::BTreeMap;

use super::{Error, ErrorKind, Json, Reader, Writer};
use crate::Str;

impl Json for bool {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.bool()
    }

    #[inline]
    fn encode(&self, w: &mut Writer) {
        w.bool(*self);
    }
}

macro_rules! unsigned {
    ($($t:ty),*) => {
        $(
            impl Json for $t {
                #[inline]
                fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                    let v = r.unsigned(<$t>::MAX.into(), stringify!($t))?;
                    // In range: `unsigned` checked it against the maximum.
                    Ok(<$t>::try_from(v).unwrap_or(<$t>::MAX))
                }

                #[inline]
                fn encode(&self, w: &mut Writer) {
                    w.unsigned((*self).into());
                }
            }
        )*
    };
}

unsigned!(u8, u16, u32, u64);

macro_rules! signed {
    ($($t:ty),*) => {
        $(
            impl Json for $t {
                #[inline]
                fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
                    let v = r.signed(<$t>::MIN.into(), <$t>::MAX.into(), stringify!($t))?;
                    Ok(<$t>::try_from(v).unwrap_or(<$t>::MAX))
                }

                #[inline]
                fn encode(&self, w: &mut Writer) {
                    w.signed((*self).into());
                }
            }
        )*
    };
}

signed!(i8, i16, i32, i64);

impl Json for f64 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.float()
    }

    fn encode(&self, w: &mut Writer) {
        w.float(*self);
    }
}

impl Json for f32 {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        // As serde reads an `f32`: the nearest `f32` to the number read as an `f64`.
        r.float().map(|v| v as f32)
    }

    fn encode(&self, w: &mut Writer) {
        w.float32(*self);
    }
}

impl Json for Str {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.str(&"a string").map(Str::from)
    }

    #[inline]
    fn encode(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Json for String {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        r.str(&"a string").map(|s| s.into_owned())
    }

    fn encode(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl Json for () {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.null()? {
            Ok(())
        } else {
            Err(r.invalid_type(&"null"))
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.null();
    }
}

impl<T: Json> Json for Option<T> {
    #[inline]
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        if r.null()? {
            Ok(None)
        } else {
            T::decode(r).map(Some)
        }
    }

    #[inline]
    fn encode(&self, w: &mut Writer) {
        match self {
            Some(v) => v.encode(w),
            None => w.null(),
        }
    }
}

impl<T: Json> Json for Vec<T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        read_list(r, T::decode)
    }

    fn encode(&self, w: &mut Writer) {
        write_list(w, self, T::encode);
    }
}

impl<T: Json> Json for BTreeMap<Str, T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        read_map(r, T::decode)
    }

    fn encode(&self, w: &mut Writer) {
        write_map(w, self, T::encode);
    }
}

impl<T: Json> Json for BTreeMap<String, T> {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        read_map(r, T::decode)
    }

    fn encode(&self, w: &mut Writer) {
        write_map(w, self, T::encode);
    }
}

/// Any JSON value, read and written through `serde_json`.
impl Json for serde_json::Value {
    fn decode(r: &mut Reader<'_>) -> Result<Self, Error> {
        let raw = r.raw()?;
        serde_json::from_str(raw).map_err(|e| r.error(ErrorKind::Custom(e.to_string())))
    }

    fn encode(&self, w: &mut Writer) {
        if let Err(e) = serde_json::to_writer(w.buffer(), self) {
            w.fail_with(<Error as serde::ser::Error>::custom(e));
        }
    }
}

/// Reads a list, each item with `item`.
#[inline]
pub(crate) fn read_list<T>(
    r: &mut Reader<'_>,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    r.begin_list(&"a list")?;
    let start = r.position();
    let mut out = Vec::new();
    let mut first = true;
    while r.has_item(first)? {
        first = false;
        if out.len() == out.capacity() && out.len() >= 4 {
            // A long list: instead of doubling, make room for as many items as the rest of
            // the document holds at the size of the items read so far, and an eighth more
            // (items differ in size: a guess short by one item would double the list and
            // copy it twice, once to grow and once to shrink), within twice the document's
            // length in memory.
            let read = (r.position() - start).max(1);
            let rest = r.input().len() - r.position();
            let items = rest / (read / out.len()).max(1);
            let guess = items + items / 8 + 4;
            let bound = (rest * 2 / std::mem::size_of::<T>().max(1)).max(out.len());
            out.reserve(guess.min(bound).max(out.len()));
        }
        out.push(item(r)?);
    }
    if out.capacity() > out.len() + out.len() / 4 + 4 {
        out.shrink_to_fit();
    }
    Ok(out)
}

/// Writes a list, each item with `item`.
#[inline]
pub(crate) fn write_list<T>(w: &mut Writer, items: &[T], mut item: impl FnMut(&T, &mut Writer)) {
    w.byte(b'[');
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            w.byte(b',');
        }
        item(v, w);
    }
    w.byte(b']');
}

/// Reads an object as a map, each value with `value`.
pub(crate) fn read_map<K: for<'k> From<&'k str> + Ord, T>(
    r: &mut Reader<'_>,
    mut value: impl FnMut(&mut Reader<'_>) -> Result<T, Error>,
) -> Result<BTreeMap<K, T>, Error> {
    r.begin_object(&"a map")?;
    let mut out = BTreeMap::new();
    let mut first = true;
    while r.has_entry(first)? {
        first = false;
        let key = K::from(r.key()?.as_ref());
        out.insert(key, value(r)?);
    }
    Ok(out)
}

/// Writes a map as an object, each value with `value`.
pub(crate) fn write_map<K: AsRef<str>, T>(
    w: &mut Writer,
    map: &BTreeMap<K, T>,
    mut value: impl FnMut(&T, &mut Writer),
) {
    w.byte(b'{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            w.byte(b',');
        }
        w.str(k.as_ref());
        w.byte(b':');
        value(v, w);
    }
    w.byte(b'}');
}

#[cfg(test)]
mod tests {
    use super::super::{from_str, to_string};
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_strings_and_containers_round_trip() {
        let v: Vec<Option<Str>> = from_str(r#"[null, "a", "\u00e9"]"#).unwrap();
        assert_eq!(v, [None, Some(Str::from("a")), Some(Str::from("é"))]);
        assert_eq!(to_string(&v).unwrap(), r#"[null,"a","é"]"#);
        let m: BTreeMap<Str, u64> = from_str(r#"{"b": 2, "a": 18446744073709551615}"#).unwrap();
        assert_eq!(
            to_string(&m).unwrap(),
            r#"{"a":18446744073709551615,"b":2}"#
        );
        let n: (i32, u32, f64, bool) = (
            from_str("-5").unwrap(),
            from_str("4294967295").unwrap(),
            from_str("2.5").unwrap(),
            from_str("true").unwrap(),
        );
        assert_eq!(n, (-5, u32::MAX, 2.5, true));
        assert!(from_str::<u32>("4294967296").is_err());
        assert!(from_str::<i32>("-2147483649").is_err());
        let f: f32 = from_str("0.1").unwrap();
        assert_eq!(f, 0.1f32);
        from_str::<()>("null").unwrap();
        assert!(from_str::<()>("{}").is_err());
        let empty: Vec<u64> = from_str(" [ ] ").unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn any_value_goes_through_serde_json() {
        let v: serde_json::Value = from_str(r#"{"a": [1, "x", null]}"#).unwrap();
        assert_eq!(v, json!({"a": [1, "x", null]}));
        assert_eq!(to_string(&v).unwrap(), r#"{"a":[1,"x",null]}"#);
    }

    #[test]
    fn type_mismatches_are_errors_with_positions() {
        let err = from_str::<Vec<Str>>("[\"a\", 1]").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid type: number, expected a string at line 1 column 7"
        );
        let err = from_str::<u8>("256").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value: number `256`, expected u8 at line 1 column 1"
        );
        assert!(from_str::<Str>("\"a\" x").is_err());
        assert!(from_str::<Str>("").is_err());
        assert!(super::super::from_slice::<Str>(b"\"\xff\"").is_err());
    }

    #[test]
    fn long_lists_are_sized_from_their_first_items_without_waste() {
        // Items of uneven length (one in ten longer), so the guess after four is short.
        let items: Vec<String> = (0..10_000)
            .map(|i| {
                if i % 10 == 9 {
                    format!("{i:040}")
                } else {
                    format!("{i:08}")
                }
            })
            .collect();
        let text = serde_json::to_string(&items).unwrap();
        let list: Vec<Str> = from_str(&text).unwrap();
        assert_eq!(list.len(), 10_000);
        assert_eq!(list[9], items[9].as_str());
        assert!(
            list.capacity() <= list.len() + list.len() / 4 + 4,
            "{}",
            list.capacity()
        );
        // First items longer than the rest: the guess is long, and trimmed at the end.
        let mut items = items;
        items[..4].iter_mut().for_each(|s| *s = "x".repeat(400));
        let list: Vec<Str> = from_str(&serde_json::to_string(&items).unwrap()).unwrap();
        assert_eq!(list.len(), 10_000);
        assert!(
            list.capacity() <= list.len() + list.len() / 4 + 4,
            "{}",
            list.capacity()
        );
    }
}
