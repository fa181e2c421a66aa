//! Literal values checked against types: field defaults, route attributes and the leaves of
//! examples, with every constraint (range, length, pattern, timestamp format).

use super::{Resolver, unalias};
use crate::ir::{DataType, FloatKind, StringConstraints, UserType, Value};
use crate::stone::ast::{DefaultValue, LiteralKind};

impl Resolver<'_> {
    /// Checks a literal against a type (aliases followed). Returns the value or a message.
    pub(super) fn check_literal(
        &mut self,
        ty: &DataType,
        lit: &LiteralKind,
    ) -> Result<Value, String> {
        let ty = unalias(&self.types, ty).clone();
        match (&ty, lit) {
            (DataType::Nullable(_), LiteralKind::Null) => Ok(Value::Null),
            (DataType::Nullable(inner), _) => self.check_literal(inner, lit),
            (DataType::Void, LiteralKind::Null) => Ok(Value::Null),
            (DataType::Boolean, LiteralKind::Bool(b)) => Ok(Value::Bool(*b)),
            (DataType::Int { kind, min, max }, LiteralKind::Int(v)) => {
                let (lo, hi) = kind.range();
                if !(lo..=hi).contains(v) {
                    return Err(format!("{v} is outside the range of {}", kind.stone_name()));
                }
                check_bounds(
                    *v as f64,
                    min.map(|m| m as f64),
                    max.map(|m| m as f64),
                    &v.to_string(),
                )?;
                Ok(Value::Int(*v))
            }
            (DataType::Float { kind, min, max }, LiteralKind::Int(_) | LiteralKind::Float(_)) => {
                let v = match lit {
                    LiteralKind::Int(i) => *i as f64,
                    LiteralKind::Float(f) => *f,
                    _ => 0.0,
                };
                if *kind == FloatKind::Float32 && v.abs() > f64::from(f32::MAX) {
                    return Err(format!("{v} is outside the range of Float32"));
                }
                check_bounds(v, *min, *max, &v.to_string())?;
                Ok(Value::Float(v))
            }
            (DataType::String(c), LiteralKind::Str(s)) => {
                self.check_string(c, s)?;
                Ok(Value::String(s.clone()))
            }
            (DataType::Bytes, LiteralKind::Str(s)) => Ok(Value::String(s.clone())),
            (DataType::Timestamp { format }, LiteralKind::Str(s)) => {
                check_timestamp(format, s)?;
                Ok(Value::String(s.clone()))
            }
            (_, LiteralKind::Null) => Err(format!("null is not a valid {}", describe(&ty))),
            _ => Err(format!(
                "{} is not a valid {}",
                describe_literal(lit),
                describe(&ty)
            )),
        }
    }

    /// Checks a string against its length and pattern constraints.
    pub(super) fn check_string(&mut self, c: &StringConstraints, s: &str) -> Result<(), String> {
        let len = s.chars().count() as u64;
        if let Some(min) = c.min_length
            && len < min
        {
            return Err(format!("{s:?} is shorter than min_length {min}"));
        }
        if let Some(max) = c.max_length
            && len > max
        {
            return Err(format!("{s:?} is longer than max_length {max}"));
        }
        if let Some(p) = &c.pattern {
            let re = self
                .regex_cache
                .entry(p.clone())
                // The reference checks examples with Python's `re.match`: anchored at the start
                // only, so a matching prefix is enough.
                .or_insert_with(|| regex::Regex::new(&format!("^(?:{p})")).ok());
            if let Some(re) = re
                && !re.is_match(s)
            {
                return Err(format!("{s:?} does not match the pattern {p:?}"));
            }
        }
        Ok(())
    }

    /// Applies `= default` of every struct field, now that union members are known.
    pub(super) fn apply_defaults(&mut self) {
        let pending = std::mem::take(&mut self.pending_defaults);
        for (key, field, default) in pending {
            let Some(UserType::Struct(s)) = self.types.get(&key) else {
                continue;
            };
            let Some(f) = s.fields.iter().find(|f| f.name == field) else {
                continue;
            };
            let ty = f.ty.clone();
            let value = match default {
                DefaultValue::Literal(lit) => match self.check_literal(&ty, &lit.kind) {
                    Ok(Value::Null) => {
                        self.diags.error(
                            lit.span,
                            "a default cannot be null (make the field nullable instead)",
                        );
                        continue;
                    }
                    Ok(v) => v,
                    Err(msg) => {
                        self.diags
                            .error(lit.span, format!("bad default for `{field}`: {msg}"));
                        continue;
                    }
                },
                DefaultValue::Tag(tag) => match self.void_tag(&ty, &tag.name) {
                    Ok(v) => v,
                    Err(msg) => {
                        self.diags
                            .error(tag.span, format!("bad default for `{field}`: {msg}"));
                        continue;
                    }
                },
            };
            if let Some(UserType::Struct(s)) = self.types.get_mut(&key)
                && let Some(f) = s.fields.iter_mut().find(|f| f.name == field)
            {
                f.default = Some(value);
            }
        }
    }

    /// Checks that `tag` names a void member of the union type `ty`.
    pub(super) fn void_tag(&self, ty: &DataType, tag: &str) -> Result<Value, String> {
        let DataType::Named(key) = unalias(&self.types, ty) else {
            return Err(format!(
                "`{tag}` is a tag name, but the type is {}",
                describe(unalias(&self.types, ty))
            ));
        };
        if !matches!(self.types.get(key), Some(UserType::Union(_))) {
            return Err(format!(
                "`{tag}` is a tag name, but `{}` is not a union",
                key.name
            ));
        }
        match self.all_members_of(key).iter().find(|m| m.name == tag) {
            Some(m) if m.catch_all => Err(format!("the catch-all `{tag}` cannot be a default")),
            Some(m) if m.ty == DataType::Void => Ok(Value::Tag(tag.to_string())),
            Some(_) => Err(format!("member `{tag}` of `{}` is not void", key.name)),
            None => Err(format!("union `{}` has no member `{tag}`", key.name)),
        }
    }
}

fn check_bounds(v: f64, min: Option<f64>, max: Option<f64>, shown: &str) -> Result<(), String> {
    if let Some(min) = min
        && v < min
    {
        return Err(format!("{shown} is below min_value {min}"));
    }
    if let Some(max) = max
        && v > max
    {
        return Err(format!("{shown} is above max_value {max}"));
    }
    Ok(())
}

/// Checks a timestamp string against a strftime format.
pub(super) fn check_timestamp(format: &str, s: &str) -> Result<(), String> {
    let ok = chrono::NaiveDateTime::parse_from_str(s, format).is_ok()
        || chrono::NaiveDate::parse_from_str(s, format).is_ok()
        || chrono::DateTime::parse_from_str(s, format).is_ok();
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{s:?} does not match the timestamp format {format:?}"
        ))
    }
}

pub(super) fn describe(ty: &DataType) -> String {
    match ty {
        DataType::Void => "Void".into(),
        DataType::Boolean => "Boolean".into(),
        DataType::Bytes => "Bytes".into(),
        DataType::Int { kind, .. } => kind.stone_name().into(),
        DataType::Float { kind, .. } => match kind {
            FloatKind::Float32 => "Float32".into(),
            FloatKind::Float64 => "Float64".into(),
        },
        DataType::String(_) => "String".into(),
        DataType::Timestamp { .. } => "Timestamp".into(),
        DataType::List { .. } => "List".into(),
        DataType::Map { .. } => "Map".into(),
        DataType::Named(k) => format!("`{}`", k.name),
        DataType::Nullable(i) => format!("{}?", describe(i)),
    }
}

pub(super) fn describe_literal(lit: &LiteralKind) -> String {
    match lit {
        LiteralKind::Int(i) => format!("integer {i}"),
        LiteralKind::Float(f) => format!("float {f}"),
        LiteralKind::Str(s) => format!("string {s:?}"),
        LiteralKind::Bool(b) => format!("boolean {b}"),
        LiteralKind::Null => "null".into(),
    }
}
