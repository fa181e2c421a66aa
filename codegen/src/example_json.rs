//! Renders the examples of the IR as Dropbox JSON, the way the reference does: nulls dropped,
//! defaults filled in, referenced examples inlined, unions as `{".tag": ...}` objects with
//! struct members flattened beside the tag.

use serde_json::{Map, Value as Json};

use crate::ir::{Api, DataType, ExampleValue, TypeKey, UserType, Value};

/// Why an example could not be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RenderError {
    /// No example with that label.
    #[error("`{0}` has no example `{1}`")]
    Missing(String, String),
    /// The example includes itself; the path of labels is given.
    #[error("cycle {0}")]
    Cycle(String),
    /// A value that does not fit its type (cannot happen for a resolved IR).
    #[error("{0}")]
    Invalid(String),
}

/// Renders example `label` of type `key` as JSON.
pub fn render(api: &Api, key: &TypeKey, label: &str) -> Result<Json, RenderError> {
    Renderer {
        api,
        stack: Vec::new(),
    }
    .example(key, label)
}

struct Renderer<'a> {
    api: &'a Api,
    stack: Vec<(TypeKey, String)>,
}

impl Renderer<'_> {
    fn example(&mut self, key: &TypeKey, label: &str) -> Result<Json, RenderError> {
        if self.stack.iter().any(|(k, l)| k == key && l == label) {
            let mut path: Vec<String> = self
                .stack
                .iter()
                .map(|(k, l)| format!("{}:{l}", k.name))
                .collect();
            path.push(format!("{}:{label}", key.name));
            return Err(RenderError::Cycle(path.join(" -> ")));
        }
        let ty = self
            .api
            .get(key)
            .ok_or_else(|| RenderError::Missing(key.to_string(), label.into()))?;
        let Some(example) = ty.examples().iter().find(|e| e.label == label) else {
            // A union's void members are implicit examples.
            if let UserType::Union(u) = ty
                && self
                    .api
                    .all_members(u)
                    .iter()
                    .any(|m| m.name == label && m.ty == DataType::Void)
            {
                return Ok(tag_object(label));
            }
            return Err(RenderError::Missing(key.to_string(), label.into()));
        };
        self.stack.push((key.clone(), label.to_string()));
        let out = match ty {
            UserType::Struct(s) if s.subtypes.is_some() => {
                let Some((tag, ExampleValue::Ref { ty, label })) = example.fields.first() else {
                    return Err(RenderError::Invalid(
                        "polymorphic example without a subtype".into(),
                    ));
                };
                let inner = self.example(ty, label)?;
                let mut obj = Map::new();
                obj.insert(".tag".into(), Json::String(tag.clone()));
                if let Json::Object(fields) = inner {
                    obj.extend(fields);
                }
                Json::Object(obj)
            }
            UserType::Struct(s) => {
                let mut obj = Map::new();
                for f in self.api.all_fields(s) {
                    match example.fields.iter().find(|(n, _)| *n == f.name) {
                        Some((_, ExampleValue::Null)) => {}
                        Some((_, v)) => {
                            let j = self.value(&f.ty, v)?;
                            obj.insert(f.name.clone(), j);
                        }
                        None => {
                            if let Some(d) = &f.default {
                                obj.insert(f.name.clone(), default_json(d));
                            }
                        }
                    }
                }
                Json::Object(obj)
            }
            UserType::Union(u) => {
                let Some((tag, v)) = example.fields.first() else {
                    return Err(RenderError::Invalid(
                        "union example without a member".into(),
                    ));
                };
                let members = self.api.all_members(u);
                let m = members
                    .iter()
                    .find(|m| &m.name == tag)
                    .ok_or_else(|| RenderError::Invalid(format!("no member {tag}")))?;
                self.member(tag, &m.ty, v)?
            }
            UserType::Alias(_) => return Err(RenderError::Invalid("alias example".into())),
        };
        self.stack.pop();
        Ok(out)
    }

    /// A union member's JSON: flattened for ordinary structs, nested otherwise.
    fn member(&mut self, tag: &str, ty: &DataType, v: &ExampleValue) -> Result<Json, RenderError> {
        let mut obj = Map::new();
        obj.insert(".tag".into(), Json::String(tag.into()));
        if *v == ExampleValue::Null || *ty == DataType::Void {
            return Ok(Json::Object(obj));
        }
        let inner_ty = match self.api.unalias(ty) {
            DataType::Nullable(i) => self.api.unalias(i),
            other => other,
        };
        let flatten = matches!(inner_ty, DataType::Named(k)
            if matches!(self.api.get(k), Some(UserType::Struct(s)) if s.subtypes.is_none()));
        let j = self.value(ty, v)?;
        match (flatten, j) {
            (true, Json::Object(fields)) => obj.extend(fields),
            (_, j) => {
                obj.insert(tag.into(), j);
            }
        }
        Ok(Json::Object(obj))
    }

    fn value(&mut self, ty: &DataType, v: &ExampleValue) -> Result<Json, RenderError> {
        let ty = self.api.unalias(ty).clone();
        Ok(match (v, &ty) {
            (ExampleValue::Null, _) => Json::Null,
            (v, DataType::Nullable(inner)) => return self.value(inner, v),
            (ExampleValue::Bool(b), _) => Json::Bool(*b),
            (ExampleValue::Int(i), _) => int_json(*i),
            (ExampleValue::Float(f), _) => float_json(*f),
            (ExampleValue::String(s), _) => Json::String(s.clone()),
            (ExampleValue::List(items), DataType::List { item, .. }) => Json::Array(
                items
                    .iter()
                    .map(|i| self.value(item, i))
                    .collect::<Result<_, _>>()?,
            ),
            (ExampleValue::Map(pairs), DataType::Map { value, .. }) => {
                let mut obj = Map::new();
                for (k, v) in pairs {
                    obj.insert(k.clone(), self.value(value, v)?);
                }
                Json::Object(obj)
            }
            (ExampleValue::Ref { ty, label }, _) => self.example(ty, label)?,
            (ExampleValue::VoidTag { tag, .. }, _) => tag_object(tag),
            (v, t) => return Err(RenderError::Invalid(format!("{v:?} does not fit {t:?}"))),
        })
    }
}

fn tag_object(tag: &str) -> Json {
    let mut obj = Map::new();
    obj.insert(".tag".into(), Json::String(tag.into()));
    Json::Object(obj)
}

fn int_json(i: i128) -> Json {
    if let Ok(v) = i64::try_from(i) {
        Json::from(v)
    } else if let Ok(v) = u64::try_from(i) {
        Json::from(v)
    } else {
        Json::String(i.to_string())
    }
}

fn float_json(f: f64) -> Json {
    serde_json::Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// The JSON of a default value.
pub fn default_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => int_json(*i),
        Value::Float(f) => float_json(*f),
        Value::String(s) => Json::String(s.clone()),
        Value::Tag(t) => tag_object(t),
    }
}
