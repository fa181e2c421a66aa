//! The intermediate representation: a fully resolved API, independent of the syntax it came
//! from. Emitters read only this.
//!
//! Every reference is resolved: a [`DataType::Named`] always names a struct, union or alias
//! that exists in [`Api`]; route attributes are complete (defaults from `stone_cfg.Route`
//! filled in); docstrings are normalised as the reference does (single newlines unwrapped).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::source::Span;

/// Names a user-defined type: its namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeKey {
    /// The namespace.
    pub namespace: String,
    /// The type name as written in the spec (anonymous types take the name written as the
    /// field's type).
    pub name: String,
}

impl TypeKey {
    /// A key from its parts.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        TypeKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for TypeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.namespace, self.name)
    }
}

/// Widths of integer types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `Int32`
    Int32,
    /// `Int64`
    Int64,
    /// `UInt32`
    UInt32,
    /// `UInt64`
    UInt64,
}

impl IntKind {
    /// The smallest and largest value of the type.
    pub fn range(self) -> (i128, i128) {
        match self {
            IntKind::Int32 => (i32::MIN.into(), i32::MAX.into()),
            IntKind::Int64 => (i64::MIN.into(), i64::MAX.into()),
            IntKind::UInt32 => (0, u32::MAX.into()),
            IntKind::UInt64 => (0, u64::MAX.into()),
        }
    }

    /// The Stone name.
    pub fn stone_name(self) -> &'static str {
        match self {
            IntKind::Int32 => "Int32",
            IntKind::Int64 => "Int64",
            IntKind::UInt32 => "UInt32",
            IntKind::UInt64 => "UInt64",
        }
    }
}

/// Widths of float types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FloatKind {
    /// `Float32`
    Float32,
    /// `Float64`
    Float64,
}

/// Constraints of a `String`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StringConstraints {
    /// Minimum length in code points.
    pub min_length: Option<u64>,
    /// Maximum length in code points.
    pub max_length: Option<u64>,
    /// A regular expression the whole string must match (after Stone's escape processing).
    pub pattern: Option<String>,
}

/// A data type as used by a field, member, alias or route.
#[derive(Debug, Clone, PartialEq)]
pub enum DataType {
    /// `Void`: no value.
    Void,
    /// `Boolean`.
    Boolean,
    /// `Bytes` (base64 on the wire).
    Bytes,
    /// An integer type with optional inclusive bounds.
    Int {
        /// The width.
        kind: IntKind,
        /// `min_value`.
        min: Option<i128>,
        /// `max_value`.
        max: Option<i128>,
    },
    /// A float type with optional inclusive bounds.
    Float {
        /// The width.
        kind: FloatKind,
        /// `min_value`.
        min: Option<f64>,
        /// `max_value`.
        max: Option<f64>,
    },
    /// `String` with its constraints.
    String(StringConstraints),
    /// `Timestamp(format)`, with a strftime format.
    Timestamp {
        /// The strftime format, such as `%Y-%m-%dT%H:%M:%SZ`.
        format: String,
    },
    /// `List(item, min_items, max_items)`.
    List {
        /// The item type.
        item: Box<DataType>,
        /// `min_items`.
        min_items: Option<u64>,
        /// `max_items`.
        max_items: Option<u64>,
    },
    /// `Map(key, value)`; the key is always a string type.
    Map {
        /// The key type.
        key: Box<DataType>,
        /// The value type.
        value: Box<DataType>,
    },
    /// A user-defined struct, union or alias.
    Named(TypeKey),
    /// `T?`: optional, defaults to null.
    Nullable(Box<DataType>),
}

/// A literal value: a default, a route attribute, or part of an example.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A void member of a union, by tag.
    Tag(String),
}

/// How a field is redacted in logs (the `RedactedBlot`/`RedactedHash` annotations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redaction {
    /// Replace matches with a blot.
    Blot(Vec<String>),
    /// Replace matches with a hash.
    Hash(Vec<String>),
}

/// What annotations say about a field, union member or alias.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Annotations {
    /// `Deprecated()`.
    pub deprecated: bool,
    /// `Preview()`.
    pub preview: bool,
    /// `Omitted(caller)`: the server drops the field unless the caller has this permission.
    pub omitted: Option<String>,
    /// A redactor.
    pub redaction: Option<Redaction>,
    /// Custom annotations by qualified name (`ns.Name`).
    pub custom: Vec<String>,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The name.
    pub name: String,
    /// The type.
    pub ty: DataType,
    /// The default when the field is absent (never for nullable fields).
    pub default: Option<Value>,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// Annotations.
    pub annotations: Annotations,
    /// Where the field is defined.
    pub span: Span,
}

/// The enumerated subtypes of a polymorphic struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtypes {
    /// `union` (an unknown tag may decode as the parent) rather than `union_closed`.
    pub catch_all: bool,
    /// `(tag, subtype)` in declaration order.
    pub entries: Vec<(String, TypeKey)>,
}

/// A struct.
#[derive(Debug, Clone, PartialEq)]
pub struct Struct {
    /// The name.
    pub key: TypeKey,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// The struct it extends.
    pub parent: Option<TypeKey>,
    /// Its own fields (not inherited ones) in source order.
    pub fields: Vec<Field>,
    /// Enumerated subtypes, for a polymorphic struct.
    pub subtypes: Option<Subtypes>,
    /// Examples in source order.
    pub examples: Vec<Example>,
    /// Defined inline in a field's block rather than at the top level.
    pub anonymous: bool,
    /// Where it is defined.
    pub span: Span,
}

/// A union member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The tag.
    pub name: String,
    /// The type; [`DataType::Void`] for a void member.
    pub ty: DataType,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// Annotations.
    pub annotations: Annotations,
    /// The synthetic `other` member of an open union.
    pub catch_all: bool,
    /// Where it is defined.
    pub span: Span,
}

/// A union.
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// The name.
    pub key: TypeKey,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// `union_closed`.
    pub closed: bool,
    /// The union it extends.
    pub parent: Option<TypeKey>,
    /// Its own members in source order; an open union whose parent is closed (or that has no
    /// parent) ends with the synthetic catch-all `other`.
    pub members: Vec<Member>,
    /// Examples in source order.
    pub examples: Vec<Example>,
    /// Defined inline in a field's block rather than at the top level.
    pub anonymous: bool,
    /// Where it is defined.
    pub span: Span,
}

/// An alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    /// The name.
    pub key: TypeKey,
    /// The aliased type.
    pub ty: DataType,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// Annotations.
    pub annotations: Annotations,
    /// Where it is defined.
    pub span: Span,
}

/// A user-defined type.
#[derive(Debug, Clone, PartialEq)]
pub enum UserType {
    /// A struct.
    Struct(Struct),
    /// A union.
    Union(Union),
    /// An alias.
    Alias(Alias),
}

impl UserType {
    /// The type's key.
    pub fn key(&self) -> &TypeKey {
        match self {
            UserType::Struct(s) => &s.key,
            UserType::Union(u) => &u.key,
            UserType::Alias(a) => &a.key,
        }
    }

    /// The examples of a struct or union.
    pub fn examples(&self) -> &[Example] {
        match self {
            UserType::Struct(s) => &s.examples,
            UserType::Union(u) => &u.examples,
            UserType::Alias(_) => &[],
        }
    }
}

/// A value in an example, with references resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ExampleValue {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<ExampleValue>),
    /// A map with string keys.
    Map(Vec<(String, ExampleValue)>),
    /// Another example of a struct or union, by label.
    Ref {
        /// The type whose example is meant.
        ty: TypeKey,
        /// The label.
        label: String,
    },
    /// A void member of a union (a union's implicit example).
    VoidTag {
        /// The union.
        ty: TypeKey,
        /// The tag.
        tag: String,
    },
}

/// An example of a struct or union.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The label, unique per type.
    pub label: String,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// For a struct: the fields given. For a union: exactly one `(tag, value)`. For a
    /// polymorphic struct: exactly one `(subtype tag, Ref to the subtype's example)`.
    pub fields: Vec<(String, ExampleValue)>,
    /// Where it is defined.
    pub span: Span,
}

/// The `host` attribute of a route: which Dropbox server answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Host {
    /// `api`: `api.dropboxapi.com`, RPC calls (the default).
    #[default]
    Api,
    /// `content`: `content.dropboxapi.com`, uploads and downloads.
    Content,
    /// `notify`: `notify.dropboxapi.com`, long polling.
    Notify,
}

/// The `style` attribute of a route: how its argument and result travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Style {
    /// `rpc`: JSON argument and result in the bodies (the default).
    #[default]
    Rpc,
    /// `upload`: argument in `Dropbox-API-Arg`, raw bytes up, JSON result in the body.
    Upload,
    /// `download`: argument in `Dropbox-API-Arg`, result in `Dropbox-API-Result`, raw bytes
    /// down.
    Download,
}

/// The `auth` attribute of a route: the credentials it accepts. Only the sets that
/// Dropbox's `stone_cfg` allows exist; the resolver refuses any other with its span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Auth {
    /// `user`: a user access token (the default).
    #[default]
    User,
    /// `team`: a team access token.
    Team,
    /// `app`: the app's key and secret (HTTP basic auth).
    App,
    /// `noauth`: no credentials.
    NoAuth,
    /// `app, user`: either the app's key and secret or a user token.
    AppOrUser,
    /// `app, team`: either the app's key and secret or a team token.
    AppOrTeam,
}

impl Host {
    /// The attribute value as the spec writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Host::Api => "api",
            Host::Content => "content",
            Host::Notify => "notify",
        }
    }

    /// Reads an attribute value.
    pub fn parse(s: &str) -> Option<Self> {
        [Host::Api, Host::Content, Host::Notify]
            .into_iter()
            .find(|h| h.as_str() == s)
    }
}

impl Style {
    /// The attribute value as the spec writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Style::Rpc => "rpc",
            Style::Upload => "upload",
            Style::Download => "download",
        }
    }

    /// Reads an attribute value.
    pub fn parse(s: &str) -> Option<Self> {
        [Style::Rpc, Style::Upload, Style::Download]
            .into_iter()
            .find(|h| h.as_str() == s)
    }
}

impl Auth {
    /// The attribute value in its canonical form (kinds sorted, `", "` between them).
    pub fn as_str(self) -> &'static str {
        match self {
            Auth::User => "user",
            Auth::Team => "team",
            Auth::App => "app",
            Auth::NoAuth => "noauth",
            Auth::AppOrUser => "app, user",
            Auth::AppOrTeam => "app, team",
        }
    }

    /// Reads an attribute value: comma-separated kinds, in any order, spaces ignored.
    pub fn parse(s: &str) -> Option<Self> {
        let mut kinds: Vec<&str> = s.split(',').map(str::trim).collect();
        kinds.sort_unstable();
        Some(match kinds.as_slice() {
            ["user"] => Auth::User,
            ["team"] => Auth::Team,
            ["app"] => Auth::App,
            ["noauth"] => Auth::NoAuth,
            ["app", "user"] => Auth::AppOrUser,
            ["app", "team"] => Auth::AppOrTeam,
            _ => return None,
        })
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(Host, Style, Auth);

/// A route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// The namespace.
    pub namespace: String,
    /// The name, possibly with `/` segments.
    pub name: String,
    /// The version (1 unless written `name:N`).
    pub version: u32,
    /// The argument type.
    pub arg: DataType,
    /// The result type.
    pub result: DataType,
    /// The error type.
    pub error: DataType,
    /// `deprecated`, with the replacing route `(name, version)` when written `deprecated by`.
    pub deprecated: Option<Option<(String, u32)>>,
    /// The normalised docstring.
    pub doc: Option<String>,
    /// Which host serves it (the `host` attribute).
    pub host: Host,
    /// How argument and result travel (the `style` attribute).
    pub style: Style,
    /// Which credentials it accepts (the `auth` attribute).
    pub auth: Auth,
    /// The OAuth scope it needs (the `scope` attribute), if the spec names one.
    pub scope: Option<String>,
    /// Whether the spec marks it `is_preview` (may change without notice).
    pub is_preview: bool,
    /// Every attribute of `stone_cfg.Route`, with defaults filled in (`Value::Null` when
    /// unset and nullable). The ones above are also here, as written.
    pub attrs: BTreeMap<String, Value>,
    /// Where it is defined.
    pub span: Span,
}

impl Route {
    /// A string attribute, if set.
    pub fn attr_str(&self, key: &str) -> Option<&str> {
        match self.attrs.get(key) {
            Some(Value::String(s)) | Some(Value::Tag(s)) => Some(s),
            _ => None,
        }
    }

    /// Whether the route only reads: its OAuth `scope` attribute is a read scope (ends in
    /// `.read`, or is `sessions.list`). A call of such a route whose answer was lost may be
    /// sent again. A route without a scope counts as writing.
    pub fn is_read_only(&self) -> bool {
        self.scope
            .as_deref()
            .is_some_and(|s| s.ends_with(".read") || s == "sessions.list")
    }

    /// The URL path below the host: `/2/{namespace}/{name}` with `_v{N}` for N > 1.
    pub fn url_path(&self) -> String {
        if self.version > 1 {
            format!("/2/{}/{}_v{}", self.namespace, self.name, self.version)
        } else {
            format!("/2/{}/{}", self.namespace, self.name)
        }
    }
}

/// One API namespace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Namespace {
    /// The name.
    pub name: String,
    /// The normalised docstring (the docs of every file declaring it, concatenated).
    pub doc: Option<String>,
    /// Namespaces this one imports.
    pub imports: BTreeSet<String>,
    /// Types in source order (anonymous types right after the type that defines them).
    pub types: Vec<UserType>,
    /// Routes in source order.
    pub routes: Vec<Route>,
}

impl Namespace {
    /// The type with this name.
    pub fn get(&self, name: &str) -> Option<&UserType> {
        self.types.iter().find(|t| t.key().name == name)
    }
}

/// The fields of `stone_cfg.Route`: the schema of route attributes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RouteSchema {
    /// The attribute fields in source order.
    pub fields: Vec<Field>,
}

/// A whole resolved API.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Api {
    /// API namespaces by name (`stone_cfg` is not among them).
    pub namespaces: BTreeMap<String, Namespace>,
    /// The route attribute schema, when a `stone_cfg` namespace was given.
    pub route_schema: Option<RouteSchema>,
    /// Index from type key to (namespace, position in `types`).
    pub(crate) index: BTreeMap<TypeKey, usize>,
}

impl Api {
    /// Looks up a user-defined type.
    pub fn get(&self, key: &TypeKey) -> Option<&UserType> {
        let ns = self.namespaces.get(&key.namespace)?;
        match self.index.get(key) {
            Some(&i) => ns.types.get(i).filter(|t| t.key() == key),
            None => ns.get(&key.name),
        }
    }

    /// Looks up a struct.
    pub fn struct_(&self, key: &TypeKey) -> Option<&Struct> {
        match self.get(key)? {
            UserType::Struct(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a union.
    pub fn union_(&self, key: &TypeKey) -> Option<&Union> {
        match self.get(key)? {
            UserType::Union(u) => Some(u),
            _ => None,
        }
    }

    /// Follows aliases until the type is not an alias.
    pub fn unalias<'a>(&'a self, ty: &'a DataType) -> &'a DataType {
        let mut ty = ty;
        // Alias cycles are rejected by the resolver; the bound guards against a hand-made IR.
        for _ in 0..64 {
            match ty {
                DataType::Named(key) => match self.get(key) {
                    Some(UserType::Alias(a)) => ty = &a.ty,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }

    /// Whether values of the type may be null (directly or through an alias).
    pub fn is_nullable(&self, ty: &DataType) -> bool {
        matches!(self.unalias(ty), DataType::Nullable(_))
    }

    /// Every field of a struct, ancestors first, in source order within each struct.
    pub fn all_fields<'a>(&'a self, s: &'a Struct) -> Vec<&'a Field> {
        let mut chain = vec![s];
        let mut cur = s;
        while let Some(parent) = cur.parent.as_ref().and_then(|p| self.struct_(p)) {
            if chain.iter().any(|c| c.key == parent.key) || chain.len() > 64 {
                break;
            }
            chain.push(parent);
            cur = parent;
        }
        chain.iter().rev().flat_map(|s| s.fields.iter()).collect()
    }

    /// Every member of a union, ancestors first (an inherited catch-all stays where the
    /// parent put it).
    pub fn all_members<'a>(&'a self, u: &'a Union) -> Vec<&'a Member> {
        let mut chain = vec![u];
        let mut cur = u;
        while let Some(parent) = cur.parent.as_ref().and_then(|p| self.union_(p)) {
            if chain.iter().any(|c| c.key == parent.key) || chain.len() > 64 {
                break;
            }
            chain.push(parent);
            cur = parent;
        }
        chain.iter().rev().flat_map(|u| u.members.iter()).collect()
    }

    /// Whether the union accepts unknown tags (it, or an ancestor, is open).
    pub fn union_is_open(&self, u: &Union) -> bool {
        self.all_members(u).iter().any(|m| m.catch_all)
    }

    /// All routes, namespace by namespace.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.namespaces.values().flat_map(|n| n.routes.iter())
    }

    /// All user-defined types, namespace by namespace.
    pub fn types(&self) -> impl Iterator<Item = &UserType> {
        self.namespaces.values().flat_map(|n| n.types.iter())
    }

    /// The structs that directly extend `key`.
    pub fn children_of<'a>(&'a self, key: &'a TypeKey) -> impl Iterator<Item = &'a Struct> + 'a {
        self.types().filter_map(move |t| match t {
            UserType::Struct(s) if s.parent.as_ref() == Some(key) => Some(s),
            _ => None,
        })
    }

    /// Rebuilds the lookup index after namespaces were changed by hand.
    pub fn reindex(&mut self) {
        self.index.clear();
        for ns in self.namespaces.values() {
            for (i, t) in ns.types.iter().enumerate() {
                self.index.insert(t.key().clone(), i);
            }
        }
    }
}
