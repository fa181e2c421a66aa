//! Strategies for JSON documents that conform to a type of the IR: every field and member,
//! nulls and absent optional fields, both union forms (object and, for void members, the
//! bare string), `.tag` placed first or last, constraints respected (lengths, ranges, list
//! sizes; patterns through a small set of known-good values).

use dbx_codegen::ir::{Api, DataType, FloatKind, IntKind, StringConstraints, TypeKey, UserType};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// How deep nested user types may go before only required fields are generated.
const MAX_DEPTH: u32 = 4;

/// A strategy for JSON documents of type `key`.
pub fn for_type(api: &Api, key: &TypeKey) -> BoxedStrategy<Value> {
    named(api, key, 0)
}

fn named(api: &Api, key: &TypeKey, depth: u32) -> BoxedStrategy<Value> {
    match api.get(key) {
        Some(UserType::Alias(a)) => data(api, &a.ty, depth),
        Some(UserType::Struct(s)) => match &s.subtypes {
            Some(sub) => {
                let options: Vec<BoxedStrategy<Value>> = sub
                    .entries
                    .iter()
                    .map(|(tag, k)| {
                        let tag = tag.clone();
                        fields_of(api, k, depth + 1)
                            .prop_map(move |mut obj| {
                                obj.insert(".tag".into(), Value::String(tag.clone()));
                                Value::Object(obj)
                            })
                            .boxed()
                    })
                    .collect();
                proptest::strategy::Union::new(options).boxed()
            }
            None => fields_of(api, key, depth).prop_map(Value::Object).boxed(),
        },
        Some(UserType::Union(u)) => {
            let members = api.all_members(u);
            let mut options: Vec<BoxedStrategy<Value>> = Vec::new();
            for m in members.iter().filter(|m| !m.catch_all) {
                let tag = m.name.clone();
                if m.ty == DataType::Void {
                    let t2 = tag.clone();
                    options.push(
                        prop_oneof![
                            Just(Value::String(tag.clone())),
                            Just(tagged(&t2, Map::new(), false)),
                            Just(tagged(&t2, Map::new(), true)),
                        ]
                        .boxed(),
                    );
                    continue;
                }
                let inner = match api.unalias(&m.ty) {
                    DataType::Nullable(i) => (**i).clone(),
                    other => other.clone(),
                };
                let nullable = api.is_nullable(&m.ty);
                let flattened = matches!(api.unalias(&inner), DataType::Named(k)
                    if matches!(api.get(k), Some(UserType::Struct(s)) if s.subtypes.is_none()));
                let value = if flattened {
                    let DataType::Named(k) = api.unalias(&inner).clone() else {
                        continue;
                    };
                    fields_of(api, &k, depth + 1)
                        .prop_map(Value::Object)
                        .boxed()
                } else {
                    data(api, &inner, depth + 1)
                };
                let value = if nullable {
                    proptest::option::of(value).boxed()
                } else {
                    value.prop_map(Some).boxed()
                };
                options.push(
                    (value, any::<bool>())
                        .prop_map(move |(v, tag_last)| {
                            let obj = match v {
                                None => Map::new(),
                                Some(Value::Object(fields)) if flattened => fields,
                                Some(other) => {
                                    let mut m = Map::new();
                                    m.insert(tag.clone(), other);
                                    m
                                }
                            };
                            tagged(&tag, obj, tag_last)
                        })
                        .boxed(),
                );
            }
            if options.is_empty() {
                return Just(Value::String("other".into())).boxed();
            }
            proptest::strategy::Union::new(options).boxed()
        }
        None => Just(Value::Null).boxed(),
    }
}

/// An object with `.tag` first (or last, to exercise the buffering decoder).
fn tagged(tag: &str, fields: Map<String, Value>, tag_last: bool) -> Value {
    let mut obj = Map::new();
    if !tag_last {
        obj.insert(".tag".into(), Value::String(tag.into()));
    }
    for (k, v) in fields {
        obj.insert(k, v);
    }
    if tag_last {
        obj.insert(".tag".into(), Value::String(tag.into()));
    }
    Value::Object(obj)
}

/// The fields of a struct: required ones always, optional ones sometimes (nullable ones
/// sometimes as explicit nulls), plus an unknown field now and then.
fn fields_of(api: &Api, key: &TypeKey, depth: u32) -> BoxedStrategy<Map<String, Value>> {
    let Some(s) = api.struct_(key) else {
        return Just(Map::new()).boxed();
    };
    let mut parts: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for f in api.all_fields(s) {
        let name = f.name.clone();
        let optional = f.default.is_some() || api.is_nullable(&f.ty);
        if optional && depth >= MAX_DEPTH {
            continue;
        }
        let inner = match api.unalias(&f.ty) {
            DataType::Nullable(i) => (**i).clone(),
            other => other.clone(),
        };
        let v = data(api, &inner, depth + 1);
        let part = if !optional {
            v.prop_map(move |v| Some((name.clone(), v))).boxed()
        } else if api.is_nullable(&f.ty) {
            prop_oneof![
                Just(None),
                Just(Some((name.clone(), Value::Null))),
                v.prop_map(move |v| Some((name.clone(), v))),
            ]
            .boxed()
        } else {
            proptest::option::of(v.prop_map(move |v| (name.clone(), v))).boxed()
        };
        parts.push(part);
    }
    parts.push(proptest::option::of(Just(("a_future_field".to_string(), Value::from(1)))).boxed());
    parts
        .prop_map(|entries| entries.into_iter().flatten().collect())
        .boxed()
}

fn data(api: &Api, ty: &DataType, depth: u32) -> BoxedStrategy<Value> {
    match ty {
        DataType::Void => Just(Value::Null).boxed(),
        DataType::Boolean => any::<bool>().prop_map(Value::Bool).boxed(),
        DataType::Bytes => proptest::collection::vec(any::<u8>(), 0..16)
            .prop_map(|b| {
                use base64::Engine as _;
                Value::String(base64::engine::general_purpose::STANDARD.encode(b))
            })
            .boxed(),
        DataType::Int { kind, min, max } => {
            let (lo, hi) = kind.range();
            let lo = min.unwrap_or(lo).max(lo);
            let hi = max.unwrap_or(hi).min(hi);
            match kind {
                IntKind::UInt64 => (lo as u64..=hi as u64).prop_map(Value::from).boxed(),
                _ => (lo as i64..=hi as i64).prop_map(Value::from).boxed(),
            }
        }
        DataType::Float { kind, min, max } => {
            let cap = match kind {
                FloatKind::Float32 => f64::from(f32::MAX) / 2.0,
                FloatKind::Float64 => 1e300,
            };
            let lo = min.unwrap_or(-cap);
            let hi = max.unwrap_or(cap);
            let f32_kind = *kind == FloatKind::Float32;
            (lo..=hi)
                .prop_map(move |v| {
                    // Float32 values must survive the trip through f32.
                    let v = if f32_kind { f64::from(v as f32) } else { v };
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
                })
                .boxed()
        }
        DataType::String(c) => string(c),
        DataType::Timestamp { format } => {
            let format = format.clone();
            (0i64..4_102_444_800)
                .prop_map(move |secs| {
                    let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
                    Value::String(t.format(&format).to_string())
                })
                .boxed()
        }
        DataType::List {
            item,
            min_items,
            max_items,
        } => {
            let lo = min_items.unwrap_or(0) as usize;
            let hi = max_items
                .map_or(lo + 3, |m| (m as usize).min(lo + 3))
                .max(lo);
            let depth_capped = if depth >= MAX_DEPTH { lo } else { hi };
            proptest::collection::vec(data(api, item, depth + 1), lo..=depth_capped)
                .prop_map(Value::Array)
                .boxed()
        }
        DataType::Map { value, .. } => {
            proptest::collection::btree_map("[a-z]{1,6}", data(api, value, depth + 1), 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
                .boxed()
        }
        DataType::Named(k) => named(api, k, depth),
        DataType::Nullable(inner) => proptest::option::of(data(api, inner, depth))
            .prop_map(|v| v.unwrap_or(Value::Null))
            .boxed(),
    }
}

/// Strings within the length limits; for a pattern, values known to match the patterns of
/// the Dropbox spec (paths, ids, revs, hashes, namespace ids), filtered by the pattern.
fn string(c: &StringConstraints) -> BoxedStrategy<Value> {
    let min = c.min_length.unwrap_or(0) as usize;
    let max = c.max_length.map_or(min.max(12), |m| m as usize).max(min);
    if let Some(p) = &c.pattern {
        let re = regex::Regex::new(&format!("^(?:{p})$")).ok();
        let candidates: Vec<String> = [
            "/Homework/math/Matrices.txt",
            "/",
            "",
            "/a b/ü/😀.txt",
            "id:a4ayc_80_OEAAAAAAAAAXw",
            "rev:a1c10ce0dd78",
            "ns:123456/docs",
            "a1c10ce0dd78",
            "a1c10ce0dd78a1c10ce0dd78",
            "1234567890",
            "ptid:1a5n2i6d3OYEAAAAAAAAAYa",
            "pid_dbtmr:ABC",
            "pid_dbhid:ABC",
            "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc",
            "abc-DEF_123:x",
            "word",
            "person@example.com",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ]
        .iter()
        .map(|s| s.to_string())
        .filter(|s| re.as_ref().is_some_and(|re| re.is_match(s)))
        .filter(|s| (min..=max).contains(&s.chars().count()))
        .collect();
        if candidates.is_empty() {
            // No known value fits: the property tests skip types with such fields.
            return Just(Value::Null).boxed();
        }
        return proptest::sample::select(candidates)
            .prop_map(Value::String)
            .boxed();
    }
    proptest::collection::vec(any::<char>(), min..=max)
        .prop_map(|cs| Value::String(cs.into_iter().collect()))
        .boxed()
}
