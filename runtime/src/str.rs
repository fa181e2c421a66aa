//! [`Str`]: the string type of the generated types' fields.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use compact_str::CompactString;

/// An immutable string that keeps up to 24 bytes inline, without an allocation: the type of
/// every Stone `String` in the generated types (names, paths, ids, revisions, cursors ...).
///
/// A `list_folder` page holds tens of thousands of short strings; decoding each into a
/// `String` costs an allocation and a free, which was most of the decode time. With `Str`,
/// short strings (file names, revisions, most paths) live inside the value and longer ones
/// get one allocation of their own, as a `String` would: a `Str` never shares or keeps alive
/// the response it was decoded from.
///
/// It reads like a `&str` (it dereferences to one), compares with `str`, `&str` and
/// `String`, and converts from and into `String`:
///
/// ```
/// use dropbox_api_runtime::Str;
///
/// let name = Str::from("report.pdf");
/// assert_eq!(name, "report.pdf");
/// assert!(name.ends_with(".pdf"));
/// let owned: String = name.clone().into();
/// assert_eq!(owned, name);
/// // Constants need no allocation at all.
/// const ROOT: Str = Str::from_static("/");
/// assert_eq!(ROOT.len(), 1);
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Str(CompactString);

impl Str {
    /// The empty string.
    pub const fn new() -> Self {
        Str(CompactString::const_new(""))
    }

    /// A string constant, held by reference without copying.
    pub const fn from_static(text: &'static str) -> Self {
        Str(CompactString::const_new(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Whether the text is stored in an allocation of its own (longer than 24 bytes).
    pub fn is_heap_allocated(&self) -> bool {
        self.0.is_heap_allocated()
    }

    /// The text as a `String` (reusing the allocation when there is one).
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl Deref for Str {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        self.0.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsRef<[u8]> for Str {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<std::path::Path> for Str {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(self.as_str())
    }
}

impl AsRef<std::ffi::OsStr> for Str {
    fn as_ref(&self) -> &std::ffi::OsStr {
        std::ffi::OsStr::new(self.as_str())
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::str::FromStr for Str {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Str::from(s))
    }
}

impl From<&str> for Str {
    #[inline]
    fn from(s: &str) -> Self {
        Str(CompactString::new(s))
    }
}

impl From<&mut str> for Str {
    fn from(s: &mut str) -> Self {
        Str::from(&*s)
    }
}

impl From<&String> for Str {
    fn from(s: &String) -> Self {
        Str::from(s.as_str())
    }
}

impl From<String> for Str {
    fn from(s: String) -> Self {
        Str(CompactString::from(s))
    }
}

impl From<&Str> for Str {
    fn from(s: &Str) -> Self {
        s.clone()
    }
}

impl From<Box<str>> for Str {
    fn from(s: Box<str>) -> Self {
        Str(CompactString::from(s))
    }
}

impl From<Cow<'_, str>> for Str {
    fn from(s: Cow<'_, str>) -> Self {
        match s {
            Cow::Borrowed(s) => Str::from(s),
            Cow::Owned(s) => Str::from(s),
        }
    }
}

impl From<char> for Str {
    fn from(c: char) -> Self {
        Str::from(c.encode_utf8(&mut [0; 4]) as &str)
    }
}

impl From<Str> for String {
    fn from(s: Str) -> Self {
        s.into_string()
    }
}

impl From<&Str> for String {
    fn from(s: &Str) -> Self {
        s.as_str().to_owned()
    }
}

impl From<Str> for Box<str> {
    fn from(s: Str) -> Self {
        s.into_string().into_boxed_str()
    }
}

impl From<Str> for std::path::PathBuf {
    fn from(s: Str) -> Self {
        s.into_string().into()
    }
}

impl From<Str> for Cow<'_, str> {
    fn from(s: Str) -> Self {
        Cow::Owned(s.into_string())
    }
}

impl<'a> From<&'a Str> for Cow<'a, str> {
    fn from(s: &'a Str) -> Self {
        Cow::Borrowed(s.as_str())
    }
}

impl FromIterator<char> for Str {
    fn from_iter<I: IntoIterator<Item = char>>(iter: I) -> Self {
        Str(CompactString::from_iter(iter))
    }
}

impl<'a> FromIterator<&'a str> for Str {
    fn from_iter<I: IntoIterator<Item = &'a str>>(iter: I) -> Self {
        Str(CompactString::from_iter(iter))
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {
        $(
            impl PartialEq<$other> for Str {
                fn eq(&self, other: &$other) -> bool {
                    self.as_str() == AsRef::<str>::as_ref(other)
                }
            }

            impl PartialEq<Str> for $other {
                fn eq(&self, other: &Str) -> bool {
                    AsRef::<str>::as_ref(self) == other.as_str()
                }
            }
        )*
    };
}

eq_with!(str, String, Cow<'_, str>);

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<&Str> for Str {
    fn eq(&self, other: &&Str) -> bool {
        self == *other
    }
}

impl serde::Serialize for Str {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Str {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Str;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Str, E> {
                Ok(Str::from(v))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Str, E> {
                Ok(Str::from(v))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn short_strings_are_inline_and_long_ones_allocated() {
        let short = Str::from("IMG_00001.jpg");
        assert!(!short.is_heap_allocated());
        let limit = Str::from("x".repeat(24));
        assert!(!limit.is_heap_allocated());
        let long = Str::from("id:a4ayc_80_OEAAAAAAAAAXw");
        assert!(long.is_heap_allocated());
        assert_eq!(long.len(), 25);
        assert_eq!(std::mem::size_of::<Str>(), std::mem::size_of::<String>());
        assert_eq!(
            std::mem::size_of::<Option<Str>>(),
            std::mem::size_of::<Str>()
        );
    }

    #[test]
    fn compares_converts_and_looks_up_like_a_string() {
        let s = Str::from("a.txt");
        assert_eq!(s, "a.txt");
        assert_eq!("a.txt", s);
        assert_eq!(s, String::from("a.txt"));
        assert_eq!(String::from("a.txt"), s);
        assert_eq!(s, *"a.txt");
        assert_eq!(String::from(s.clone()), "a.txt");
        assert_eq!(s.to_string(), "a.txt");
        assert_eq!(format!("{s:?}"), "\"a.txt\"");
        let (a, b) = (Str::from("a"), Str::from("b"));
        assert!(a < b);
        let mut map = HashMap::new();
        map.insert(s.clone(), 1);
        assert_eq!(map.get("a.txt"), Some(&1));
        let mut tree = BTreeMap::new();
        tree.insert(s, 2);
        assert_eq!(tree.get("a.txt"), Some(&2));
        let long = "/a/very/long/path/that/does/not/fit/inline.txt".to_string();
        let s = Str::from(long.clone());
        assert_eq!(s.into_string(), long);
        assert_eq!(Str::from_static("k"), Str::from('k'));
        assert_eq!("ab".parse::<Str>().unwrap(), "ab");
        assert!(Str::new().is_empty());
    }

    #[test]
    fn serde_reads_and_writes_a_json_string() {
        let s: Str = serde_json::from_str("\"caf\\u00e9\"").unwrap();
        assert_eq!(s, "café");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"café\"");
        assert!(serde_json::from_str::<Str>("1").is_err());
    }
}
