//! Client-side checks of the constraints a spec puts on values (string pattern and length,
//! numeric range, list length), run before a request is sent.

use std::collections::BTreeMap;
use std::fmt;

/// What a value failed to satisfy.
#[derive(Debug, Clone, PartialEq)]
pub enum Violation {
    /// A string shorter than `min` code points.
    TooShort {
        /// The minimum length in code points.
        min: u64,
        /// The actual length in code points.
        len: u64,
    },
    /// A string longer than `max` code points.
    TooLong {
        /// The maximum length in code points.
        max: u64,
        /// The actual length in code points.
        len: u64,
    },
    /// A string that does not match the whole of `pattern`.
    PatternMismatch {
        /// The regular expression from the spec.
        pattern: &'static str,
    },
    /// A number below the minimum.
    BelowMinimum {
        /// The minimum, as written in the spec.
        min: String,
        /// The value found.
        value: String,
    },
    /// A number above the maximum.
    AboveMaximum {
        /// The maximum, as written in the spec.
        max: String,
        /// The value found.
        value: String,
    },
    /// A float that is NaN or infinite.
    NotFinite,
    /// A list with fewer than `min` items.
    TooFewItems {
        /// The minimum number of items.
        min: u64,
        /// The actual number of items.
        len: u64,
    },
    /// A list with more than `max` items.
    TooManyItems {
        /// The maximum number of items.
        max: u64,
        /// The actual number of items.
        len: u64,
    },
    /// The catch-all member of an open union, which can be received but never sent.
    CatchAllNotSendable,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooShort { min, len } => {
                write!(f, "length {len} is below the minimum of {min}")
            }
            Violation::TooLong { max, len } => {
                write!(f, "length {len} is above the maximum of {max}")
            }
            Violation::PatternMismatch { pattern } => {
                write!(f, "does not match the pattern `{pattern}`")
            }
            Violation::BelowMinimum { min, value } => {
                write!(f, "{value} is below the minimum of {min}")
            }
            Violation::AboveMaximum { max, value } => {
                write!(f, "{value} is above the maximum of {max}")
            }
            Violation::NotFinite => f.write_str("is not a finite number"),
            Violation::TooFewItems { min, len } => {
                write!(f, "has {len} items, fewer than the minimum of {min}")
            }
            Violation::TooManyItems { max, len } => {
                write!(f, "has {len} items, more than the maximum of {max}")
            }
            Violation::CatchAllNotSendable => {
                f.write_str("is the catch-all `Other` member, which cannot be sent")
            }
        }
    }
}

/// A value that broke a constraint of the spec, with the path of fields that leads to it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid value at `{}`: {violation}", self.path())]
pub struct ValidationError {
    /// Field names and list indices from the outermost value inwards (innermost last).
    segments: Vec<String>,
    /// What was wrong with the value.
    pub violation: Violation,
}

impl ValidationError {
    /// A violation found on the value being validated itself.
    pub fn new(violation: Violation) -> Self {
        ValidationError {
            segments: Vec::new(),
            violation,
        }
    }

    /// Records that the violation was found inside `segment` (a field name or `[index]`).
    pub fn inside(mut self, segment: impl Into<String>) -> Self {
        self.segments.push(segment.into());
        self
    }

    /// The dotted path to the offending value, such as `commit.path` or `entries[3].cursor`.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.segments.iter().rev() {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        if out.is_empty() {
            out.push_str("(value)");
        }
        out
    }
}

/// Checks a value against the constraints of its type in the spec.
pub trait Validate {
    /// Returns the first violation found, if any.
    fn validate(&self) -> Result<(), ValidationError>;
}

macro_rules! always_valid {
    ($($t:ty),*) => {
        $(impl Validate for $t {
            #[inline]
            fn validate(&self) -> Result<(), ValidationError> {
                Ok(())
            }
        })*
    };
}

always_valid!(
    (),
    bool,
    i32,
    i64,
    u32,
    u64,
    String,
    str,
    Vec<u8>,
    chrono::DateTime<chrono::Utc>,
    serde_json::Value
);

impl Validate for f64 {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.is_finite() {
            Ok(())
        } else {
            Err(ValidationError::new(Violation::NotFinite))
        }
    }
}

impl Validate for f32 {
    fn validate(&self) -> Result<(), ValidationError> {
        f64::from(*self).validate()
    }
}

impl<T: Validate + ?Sized> Validate for &T {
    fn validate(&self) -> Result<(), ValidationError> {
        (**self).validate()
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self) -> Result<(), ValidationError> {
        (**self).validate()
    }
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self) -> Result<(), ValidationError> {
        match self {
            Some(v) => v.validate(),
            None => Ok(()),
        }
    }
}

impl<T: Validate> Validate for Vec<T> {
    fn validate(&self) -> Result<(), ValidationError> {
        for (i, item) in self.iter().enumerate() {
            item.validate().map_err(|e| e.inside(format!("[{i}]")))?;
        }
        Ok(())
    }
}

impl<T: Validate> Validate for [T] {
    fn validate(&self) -> Result<(), ValidationError> {
        for (i, item) in self.iter().enumerate() {
            item.validate().map_err(|e| e.inside(format!("[{i}]")))?;
        }
        Ok(())
    }
}

impl<V: Validate> Validate for BTreeMap<String, V> {
    fn validate(&self) -> Result<(), ValidationError> {
        for (k, v) in self {
            v.validate().map_err(|e| e.inside(format!("[{k:?}]")))?;
        }
        Ok(())
    }
}

/// Checks the length of a string, counted in Unicode code points as Stone does.
pub fn check_str_len(s: &str, min: Option<u64>, max: Option<u64>) -> Result<(), ValidationError> {
    let len = s.chars().count() as u64;
    if let Some(min) = min
        && len < min
    {
        return Err(ValidationError::new(Violation::TooShort { min, len }));
    }
    if let Some(max) = max
        && len > max
    {
        return Err(ValidationError::new(Violation::TooLong { max, len }));
    }
    Ok(())
}

/// Checks that `s` matches the whole of `regex` (compiled from `pattern` anchored at both ends).
pub fn check_pattern(
    s: &str,
    regex: &regex::Regex,
    pattern: &'static str,
) -> Result<(), ValidationError> {
    if regex.is_match(s) {
        Ok(())
    } else {
        Err(ValidationError::new(Violation::PatternMismatch { pattern }))
    }
}

/// Compiles a spec pattern so that it must match the whole string.
///
/// The generator checks every pattern at generation time, so this only fails if the
/// generated code was edited by hand; the failure then surfaces as a mismatch, never a panic.
pub fn compile_pattern(pattern: &str) -> Option<regex::Regex> {
    regex::Regex::new(&format!("^(?:{pattern})$")).ok()
}

/// A spec pattern, compiled on first use; generated code keeps one in a `static` per pattern.
pub struct Pattern {
    source: &'static str,
    regex: std::sync::OnceLock<Option<regex::Regex>>,
}

impl Pattern {
    /// A pattern from the spec (matched against the whole string).
    pub const fn new(source: &'static str) -> Self {
        Pattern {
            source,
            regex: std::sync::OnceLock::new(),
        }
    }

    /// The pattern as written in the spec.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// Checks that `s` matches the whole pattern.
    pub fn check(&self, s: &str) -> Result<(), ValidationError> {
        match self.regex.get_or_init(|| compile_pattern(self.source)) {
            Some(re) => check_pattern(s, re, self.source),
            None => Err(ValidationError::new(Violation::PatternMismatch {
                pattern: self.source,
            })),
        }
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pattern").field(&self.source).finish()
    }
}

/// Checks a number against optional inclusive bounds.
pub fn check_range<T>(value: &T, min: Option<T>, max: Option<T>) -> Result<(), ValidationError>
where
    T: PartialOrd + fmt::Display + Copy,
{
    let value = *value;
    if let Some(min) = min
        && value < min
    {
        return Err(ValidationError::new(Violation::BelowMinimum {
            min: min.to_string(),
            value: value.to_string(),
        }));
    }
    if let Some(max) = max
        && value > max
    {
        return Err(ValidationError::new(Violation::AboveMaximum {
            max: max.to_string(),
            value: value.to_string(),
        }));
    }
    Ok(())
}

/// Records the field (or union tag) name in the error path of a failed check.
pub fn in_field(
    result: Result<(), ValidationError>,
    name: &'static str,
) -> Result<(), ValidationError> {
    result.map_err(|e| e.inside(name))
}

/// Runs `check` on every item of a list, recording the index in the error path.
// An index loop and a plain function for the error: this is instantiated for every list type
// the generated crate validates, and iterator adapters there cost build time.
#[allow(clippy::needless_range_loop)]
pub fn each<T>(
    items: &[T],
    check: impl Fn(&T) -> Result<(), ValidationError>,
) -> Result<(), ValidationError> {
    for i in 0..items.len() {
        if let Err(e) = check(&items[i]) {
            return Err(at_index(e, i));
        }
    }
    Ok(())
}

fn at_index(error: ValidationError, i: usize) -> ValidationError {
    error.inside(format!("[{i}]"))
}

/// Runs `check` on every value of a map, recording the key in the error path.
pub fn each_value<V>(
    map: &BTreeMap<String, V>,
    check: impl Fn(&V) -> Result<(), ValidationError>,
) -> Result<(), ValidationError> {
    for (k, v) in map {
        check(v).map_err(|e| e.inside(format!("[{k:?}]")))?;
    }
    Ok(())
}

/// The error for the catch-all member of an open union, which can be received but not sent.
pub fn catch_all() -> ValidationError {
    ValidationError::new(Violation::CatchAllNotSendable)
}

/// Checks the number of items in a list.
pub fn check_items<T>(
    items: &[T],
    min: Option<u64>,
    max: Option<u64>,
) -> Result<(), ValidationError> {
    let len = items.len() as u64;
    if let Some(min) = min
        && len < min
    {
        return Err(ValidationError::new(Violation::TooFewItems { min, len }));
    }
    if let Some(max) = max
        && len > max
    {
        return Err(ValidationError::new(Violation::TooManyItems { max, len }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_reads_outermost_first() {
        let e = ValidationError::new(Violation::NotFinite)
            .inside("offset")
            .inside("[3]")
            .inside("entries");
        assert_eq!(e.path(), "entries[3].offset");
        assert_eq!(
            e.to_string(),
            "invalid value at `entries[3].offset`: is not a finite number"
        );
    }

    #[test]
    fn lengths_count_code_points() {
        assert!(check_str_len("héé", Some(3), Some(3)).is_ok());
        assert_eq!(
            check_str_len("ab", Some(3), None).unwrap_err().violation,
            Violation::TooShort { min: 3, len: 2 }
        );
    }

    #[test]
    fn patterns_match_whole_string() {
        let re = compile_pattern("[0-9a-f]+").unwrap();
        assert!(check_pattern("a1c10ce0dd78", &re, "[0-9a-f]+").is_ok());
        assert!(check_pattern("a1c10ce0dd78x", &re, "[0-9a-f]+").is_err());
    }

    #[test]
    fn ranges_and_items() {
        assert!(check_range(&5u64, Some(1), Some(1000)).is_ok());
        assert!(check_range(&0u64, Some(1), Some(1000)).is_err());
        assert!(check_range(&14401.0f64, Some(60.0), Some(14400.0)).is_err());
        assert!(check_items(&[0u8; 1001], None, Some(1000)).is_err());
        assert!(f64::NAN.validate().is_err());
    }
}
