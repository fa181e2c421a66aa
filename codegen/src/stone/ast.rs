//! The syntax tree of one Stone file, as written (nothing resolved yet). Every node has a span.

use crate::source::Span;

/// A name and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum LiteralKind {
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

/// A literal and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub kind: LiteralKind,
    /// Where it was written.
    pub span: Span,
}

/// A type argument: a literal or a type reference (`List(String, min_items=1)`).
#[derive(Debug, Clone, PartialEq)]
pub enum ArgValue {
    /// A literal such as `1` or `"[0-9a-f]+"`.
    Literal(Literal),
    /// A type such as `String` or `common.PathRoot`.
    Type(TypeRef),
}

/// The arguments of a type reference or annotation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Args {
    /// Positional arguments, in order.
    pub positional: Vec<ArgValue>,
    /// Keyword arguments, in order.
    pub keyword: Vec<(Ident, ArgValue)>,
}

/// A reference to a type: `[ns.]Name[(args)][?]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRef {
    /// The namespace, when written as `ns.Name`.
    pub namespace: Option<Ident>,
    /// The type name.
    pub name: Ident,
    /// Arguments in parentheses (only allowed on built-in types).
    pub args: Option<Args>,
    /// Whether the reference ends with `?`.
    pub nullable: bool,
    /// Where the reference starts.
    pub span: Span,
}

/// A processed docstring.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// The text with indentation stripped and trailing whitespace removed from each line.
    pub text: String,
    /// Where the string starts.
    pub span: Span,
}

/// `@[ns.]Name` on a field, member or alias.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationRef {
    /// The namespace, when written as `@ns.Name`.
    pub namespace: Option<Ident>,
    /// The annotation name.
    pub name: Ident,
}

/// A struct field default or union member default: a literal or a void tag name.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// A literal such as `false` or `14400`.
    Literal(Literal),
    /// A bare identifier naming a void member of the field's union type (`mode WriteMode = add`).
    Tag(Ident),
}

/// An anonymous type defined inside a field's block.
#[derive(Debug, Clone, PartialEq)]
pub enum AnonDef {
    /// `struct` with its body.
    Struct(StructBody),
    /// `union` or `union_closed` with its body.
    Union(UnionBody),
}

/// A struct field or union member.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field or tag name.
    pub name: Ident,
    /// The type; `None` for a void union member written without a type.
    pub type_ref: Option<TypeRef>,
    /// `= value` after the type.
    pub default: Option<DefaultValue>,
    /// Annotations in the field's block.
    pub annotations: Vec<AnnotationRef>,
    /// The field's docstring.
    pub doc: Option<Doc>,
    /// An anonymous type defined in the field's block (named after the field's type).
    pub anon: Option<AnonDef>,
    /// Where the field starts.
    pub span: Span,
}

/// `union` / `union_closed` block in a struct listing its enumerated subtypes.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtypes {
    /// `union_closed` (no catch-all) rather than `union`.
    pub closed: bool,
    /// `tag SubtypeName` lines.
    pub entries: Vec<(Ident, TypeRef)>,
    /// Where the block starts.
    pub span: Span,
}

/// A value in an example.
#[derive(Debug, Clone, PartialEq)]
pub enum ExampleValue {
    /// A literal.
    Literal(Literal),
    /// A bare identifier: the label of another example, or a void tag.
    Ref(Ident),
    /// `[a, b, ...]`
    List(Vec<ExampleValue>, Span),
    /// `{k: v, ...}`
    Map(Vec<(ExampleValue, ExampleValue)>, Span),
}

impl ExampleValue {
    /// Where the value starts.
    pub fn span(&self) -> Span {
        match self {
            ExampleValue::Literal(l) => l.span,
            ExampleValue::Ref(i) => i.span,
            ExampleValue::List(_, s) | ExampleValue::Map(_, s) => *s,
        }
    }
}

/// An `example label` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The label.
    pub label: Ident,
    /// An optional docstring.
    pub doc: Option<Doc>,
    /// `name = value` lines.
    pub fields: Vec<(Ident, ExampleValue)>,
    /// Where the block starts.
    pub span: Span,
}

/// The body of a struct (named, anonymous or patched).
#[derive(Debug, Clone, PartialEq)]
pub struct StructBody {
    /// `extends Parent`.
    pub extends: Option<TypeRef>,
    /// The docstring.
    pub doc: Option<Doc>,
    /// Enumerated subtypes.
    pub subtypes: Option<Subtypes>,
    /// Fields in source order.
    pub fields: Vec<Field>,
    /// Examples in source order.
    pub examples: Vec<Example>,
}

/// The body of a union (named, anonymous or patched).
#[derive(Debug, Clone, PartialEq)]
pub struct UnionBody {
    /// `union_closed` rather than `union`.
    pub closed: bool,
    /// `extends Parent`.
    pub extends: Option<TypeRef>,
    /// The docstring.
    pub doc: Option<Doc>,
    /// Members in source order.
    pub members: Vec<Field>,
    /// Examples in source order.
    pub examples: Vec<Example>,
}

/// `struct Name ...`
#[derive(Debug, Clone, PartialEq)]
pub struct StructDef {
    /// The name.
    pub name: Ident,
    /// The body.
    pub body: StructBody,
    /// Where the definition starts.
    pub span: Span,
}

/// `union Name ...` or `union_closed Name ...`
#[derive(Debug, Clone, PartialEq)]
pub struct UnionDef {
    /// The name.
    pub name: Ident,
    /// The body.
    pub body: UnionBody,
    /// Where the definition starts.
    pub span: Span,
}

/// `alias Name = Type`
#[derive(Debug, Clone, PartialEq)]
pub struct AliasDef {
    /// The name.
    pub name: Ident,
    /// The aliased type.
    pub target: TypeRef,
    /// Annotations in the alias block.
    pub annotations: Vec<AnnotationRef>,
    /// The docstring.
    pub doc: Option<Doc>,
    /// Where the definition starts.
    pub span: Span,
}

/// A route attribute value: a literal or an identifier (a void tag of a union-typed attribute).
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// A literal.
    Literal(Literal),
    /// An identifier.
    Tag(Ident),
}

/// `deprecated [by name[/path][:N]]`
#[derive(Debug, Clone, PartialEq)]
pub struct Deprecation {
    /// The replacing route and its version.
    pub by: Option<(Ident, u32)>,
    /// Where `deprecated` was written.
    pub span: Span,
}

/// `route name[/path][:N] (Arg, Result, Error) ...`
#[derive(Debug, Clone, PartialEq)]
pub struct RouteDef {
    /// The full name including any `/path`.
    pub name: Ident,
    /// The version (1 when not written).
    pub version: u32,
    /// The argument type.
    pub arg: TypeRef,
    /// The result type.
    pub result: TypeRef,
    /// The error type (the grammar allows leaving it out; the resolver rejects that).
    pub error: Option<TypeRef>,
    /// `deprecated` or `deprecated by ...`.
    pub deprecated: Option<Deprecation>,
    /// The docstring.
    pub doc: Option<Doc>,
    /// `key = value` lines of the `attrs` block.
    pub attrs: Vec<(Ident, AttrValue)>,
    /// Where the definition starts.
    pub span: Span,
}

/// `annotation Name = [ns.]Class(args)`
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationDef {
    /// The name.
    pub name: Ident,
    /// The namespace of the class, for custom annotation types in other namespaces.
    pub class_namespace: Option<Ident>,
    /// The annotation class (`Deprecated`, `Omitted`, a custom `annotation_type`, ...).
    pub class: Ident,
    /// The arguments.
    pub args: Args,
    /// Where the definition starts.
    pub span: Span,
}

/// `annotation_type Name` with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationTypeDef {
    /// The name.
    pub name: Ident,
    /// The docstring.
    pub doc: Option<Doc>,
    /// The parameters.
    pub params: Vec<Field>,
    /// Where the definition starts.
    pub span: Span,
}

/// `patch struct Name` / `patch union Name` / `patch union_closed Name`.
#[derive(Debug, Clone, PartialEq)]
pub enum PatchDef {
    /// Adds fields and example values to a struct.
    Struct(StructDef),
    /// Adds members and example values to a union.
    Union(UnionDef),
}

/// One top-level item of a file.
// Items are built once per definition and kept in one Vec per file; boxing the larger
// variants would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `namespace name` with an optional docstring.
    Namespace(Ident, Option<Doc>),
    /// `import name`.
    Import(Ident),
    /// `alias`.
    Alias(AliasDef),
    /// `struct`.
    Struct(StructDef),
    /// `union` / `union_closed`.
    Union(UnionDef),
    /// `patch ...`.
    Patch(PatchDef),
    /// `route`.
    Route(RouteDef),
    /// `annotation`.
    Annotation(AnnotationDef),
    /// `annotation_type`.
    AnnotationType(AnnotationTypeDef),
}

/// One parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecFile {
    /// The items in source order.
    pub items: Vec<Item>,
}
