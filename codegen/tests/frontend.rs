//! The Stone front end against small inline specs: what it accepts must resolve to the right
//! IR, and every semantic or syntax error must be reported on the right line.
//!
//! Expected behaviour was checked against Dropbox's reference implementation (stone 3.5.5);
//! the few places where we deliberately differ say so.

use std::path::PathBuf;

use dbx_codegen::example_json;
use dbx_codegen::ir::{
    Api, Auth, DataType, ExampleValue, FloatKind, Host, IntKind, Redaction, StringConstraints,
    Style, TypeKey, UserType, Value,
};
use dbx_codegen::stats::Stats;
use serde_json::json;

// ----- helpers -----------------------------------------------------------------------------

/// A `stone_cfg` like the official one (route attribute schema).
const CFG: &str = r#"namespace stone_cfg

struct Route

    auth String(pattern="user|team|app|noauth|app, user|app, team") = "user"
    host String(pattern="api|content|notify") = "api"
    style String(pattern="rpc|download|upload") = "rpc"
    is_preview Boolean = false
    select_admin_mode String(pattern="team_admin|whole_team")?
    scope String?
"#;

fn load(files: &[(&str, &str)]) -> Api {
    match dbx_codegen::load_str(files) {
        Ok(api) => api,
        Err(e) => panic!("expected the spec to load, got:\n{e}"),
    }
}

fn load1(src: &str) -> Api {
    load(&[("t.stone", src)])
}

/// Every diagnostic, rendered on its own, in file/line/column order.
fn errors(files: &[(&str, &str)]) -> Vec<String> {
    match dbx_codegen::load_str(files) {
        Ok(_) => panic!("expected an error for:\n{}", files[0].1),
        Err(e) => e
            .diagnostics
            .sorted()
            .into_iter()
            .map(|d| d.render(&e.sources))
            .collect(),
    }
}

fn key(ns: &str, name: &str) -> TypeKey {
    TypeKey::new(ns, name)
}

fn strukt<'a>(api: &'a Api, ns: &str, name: &str) -> &'a dbx_codegen::ir::Struct {
    api.struct_(&key(ns, name))
        .unwrap_or_else(|| panic!("no struct {ns}.{name}"))
}

fn union<'a>(api: &'a Api, ns: &str, name: &str) -> &'a dbx_codegen::ir::Union {
    api.union_(&key(ns, name))
        .unwrap_or_else(|| panic!("no union {ns}.{name}"))
}

fn alias_ty<'a>(api: &'a Api, ns: &str, name: &str) -> &'a DataType {
    match api.get(&key(ns, name)) {
        Some(UserType::Alias(a)) => &a.ty,
        other => panic!("{ns}.{name} is not an alias: {other:?}"),
    }
}

fn named(ns: &str, name: &str) -> DataType {
    DataType::Named(key(ns, name))
}

fn string() -> DataType {
    DataType::String(StringConstraints::default())
}

fn int(kind: IntKind) -> DataType {
    DataType::Int {
        kind,
        min: None,
        max: None,
    }
}

fn nullable(t: DataType) -> DataType {
    DataType::Nullable(Box::new(t))
}

fn field_names(fields: &[&dbx_codegen::ir::Field]) -> Vec<String> {
    fields.iter().map(|f| f.name.clone()).collect()
}

fn render(api: &Api, ns: &str, ty: &str, label: &str) -> serde_json::Value {
    example_json::render(api, &key(ns, ty), label)
        .unwrap_or_else(|e| panic!("cannot render {ns}.{ty}:{label}: {e}"))
}

// ----- namespaces, imports, aliases ---------------------------------------------------------

#[test]
fn namespace_doc_is_unwrapped_and_ends_with_a_newline() {
    let api = load1(
        "namespace ns\n    \"First line\n    second line.\n\n    New paragraph.\"\n\nstruct S\n    \"x\"\n",
    );
    let ns = &api.namespaces["ns"];
    assert_eq!(
        ns.doc.as_deref(),
        Some("First line second line.\nNew paragraph.\n")
    );
    assert!(ns.imports.is_empty());
}

#[test]
fn namespace_docs_of_several_files_are_concatenated() {
    let api = load(&[
        ("a.stone", "namespace ns\n    \"One.\"\n"),
        (
            "b.stone",
            "namespace ns\n    \"Two.\"\n\nstruct S\n    \"x\"\n",
        ),
    ]);
    assert_eq!(api.namespaces["ns"].doc.as_deref(), Some("One.\nTwo.\n"));
    assert!(api.struct_(&key("ns", "S")).is_some());
}

#[test]
fn imports_across_namespaces_and_aliases() {
    let api = load(&[
        (
            "common.stone",
            "namespace common\n\nalias Rev = String(min_length=9, pattern=\"[0-9a-f]+\")\nalias NamespaceId = String(pattern=\"[-_0-9a-zA-Z:]+\")\n\nstruct Thing\n    \"A thing.\"\n",
        ),
        (
            "files.stone",
            "namespace files\n\nimport common\n\nalias SharedFolderId = common.NamespaceId\nalias Chain = SharedFolderId\nalias MaybeRev = common.Rev?\nalias MalformedPathError = String?\nalias Things = List(common.Thing, min_items=1)\n\nstruct S\n    rev common.Rev\n    thing common.Thing?\n    id Chain\n",
        ),
    ]);
    assert_eq!(
        api.namespaces["files"].imports.iter().collect::<Vec<_>>(),
        vec!["common"]
    );
    assert_eq!(
        alias_ty(&api, "common", "Rev"),
        &DataType::String(StringConstraints {
            min_length: Some(9),
            max_length: None,
            pattern: Some("[0-9a-f]+".into()),
        })
    );
    // An alias into another namespace, and a chain of aliases.
    assert_eq!(
        alias_ty(&api, "files", "SharedFolderId"),
        &named("common", "NamespaceId")
    );
    assert_eq!(
        alias_ty(&api, "files", "Chain"),
        &named("files", "SharedFolderId")
    );
    let chain = named("files", "Chain");
    assert!(
        matches!(api.unalias(&chain), DataType::String(c) if c.pattern.as_deref() == Some("[-_0-9a-zA-Z:]+"))
    );
    // Nullable aliases.
    assert_eq!(
        alias_ty(&api, "files", "MaybeRev"),
        &nullable(named("common", "Rev"))
    );
    assert_eq!(
        alias_ty(&api, "files", "MalformedPathError"),
        &nullable(string())
    );
    assert!(api.is_nullable(&named("files", "MalformedPathError")));
    assert_eq!(
        alias_ty(&api, "files", "Things"),
        &DataType::List {
            item: Box::new(named("common", "Thing")),
            min_items: Some(1),
            max_items: None,
        }
    );
    let s = strukt(&api, "files", "S");
    let tys: Vec<&DataType> = s.fields.iter().map(|f| &f.ty).collect();
    assert_eq!(
        tys,
        vec![
            &named("common", "Rev"),
            &nullable(named("common", "Thing")),
            &named("files", "Chain"),
        ]
    );
}

#[test]
fn forward_references_resolve() {
    let api = load1(
        "namespace ns\n\nalias A = B\n\nstruct S\n    t T\n\nstruct T\n    b A\n\nalias B = Int64\n",
    );
    assert_eq!(api.unalias(&named("ns", "A")), &int(IntKind::Int64));
    assert_eq!(strukt(&api, "ns", "S").fields[0].ty, named("ns", "T"));
}

// ----- primitives ---------------------------------------------------------------------------

#[test]
fn every_primitive_with_its_arguments() {
    let api = load1(
        r#"namespace ns

alias S1 = String
alias S2 = String(min_length=1, max_length=10, pattern="[a-z]+\\.txt")
alias S3 = String(3, 4, "x")
alias I1 = Int32(min_value=-5, max_value=5)
alias I2 = Int64(min_value=-9223372036854775808)
alias I3 = UInt32(max_value=4294967295)
alias I4 = UInt64(max_value=18446744073709551615)
alias F1 = Float32(min_value=-1.5, max_value=1e5)
alias F2 = Float64(min_value=60, max_value=14400)
alias T1 = Timestamp("%Y-%m-%dT%H:%M:%SZ")
alias T2 = Timestamp(format="%Y-%m-%d")
alias L1 = List(String, min_items=1, max_items=3)
alias L2 = List(data_type=List(Int32?))
alias M1 = Map(String, Int64)
alias M2 = Map(key_data_type=S2, value_data_type=List(Boolean))
alias B1 = Bytes
alias B2 = Boolean
alias V = Void
"#,
    );
    let a = |n: &str| alias_ty(&api, "ns", n).clone();
    assert_eq!(a("S1"), string());
    assert_eq!(
        a("S2"),
        DataType::String(StringConstraints {
            min_length: Some(1),
            max_length: Some(10),
            // `\\.` in the spec is the regex `\.`.
            pattern: Some(r"[a-z]+\.txt".into()),
        })
    );
    assert_eq!(
        a("S3"),
        DataType::String(StringConstraints {
            min_length: Some(3),
            max_length: Some(4),
            pattern: Some("x".into()),
        })
    );
    assert_eq!(
        a("I1"),
        DataType::Int {
            kind: IntKind::Int32,
            min: Some(-5),
            max: Some(5)
        }
    );
    assert_eq!(
        a("I2"),
        DataType::Int {
            kind: IntKind::Int64,
            min: Some(i64::MIN.into()),
            max: None
        }
    );
    assert_eq!(
        a("I3"),
        DataType::Int {
            kind: IntKind::UInt32,
            min: None,
            max: Some(u32::MAX.into())
        }
    );
    assert_eq!(
        a("I4"),
        DataType::Int {
            kind: IntKind::UInt64,
            min: None,
            max: Some(u64::MAX.into())
        }
    );
    assert_eq!(
        a("F1"),
        DataType::Float {
            kind: FloatKind::Float32,
            min: Some(-1.5),
            max: Some(1e5)
        }
    );
    assert_eq!(
        a("F2"),
        DataType::Float {
            kind: FloatKind::Float64,
            min: Some(60.0),
            max: Some(14400.0)
        }
    );
    assert_eq!(
        a("T1"),
        DataType::Timestamp {
            format: "%Y-%m-%dT%H:%M:%SZ".into()
        }
    );
    assert_eq!(
        a("T2"),
        DataType::Timestamp {
            format: "%Y-%m-%d".into()
        }
    );
    assert_eq!(
        a("L1"),
        DataType::List {
            item: Box::new(string()),
            min_items: Some(1),
            max_items: Some(3)
        }
    );
    assert_eq!(
        a("L2"),
        DataType::List {
            item: Box::new(DataType::List {
                item: Box::new(nullable(int(IntKind::Int32))),
                min_items: None,
                max_items: None
            }),
            min_items: None,
            max_items: None
        }
    );
    assert_eq!(
        a("M1"),
        DataType::Map {
            key: Box::new(string()),
            value: Box::new(int(IntKind::Int64))
        }
    );
    assert_eq!(
        a("M2"),
        DataType::Map {
            key: Box::new(named("ns", "S2")),
            value: Box::new(DataType::List {
                item: Box::new(DataType::Boolean),
                min_items: None,
                max_items: None
            })
        }
    );
    assert_eq!(a("B1"), DataType::Bytes);
    assert_eq!(a("B2"), DataType::Boolean);
    assert_eq!(a("V"), DataType::Void);
}

#[test]
fn line_continuation_inside_parentheses() {
    let api = load1(
        "namespace ns\n\nstruct S\n    name String(\n        min_length=1,\n        # a comment inside\n\n        max_length=3)\n    n Int32\n",
    );
    let s = strukt(&api, "ns", "S");
    assert_eq!(
        field_names(&s.fields.iter().collect::<Vec<_>>()),
        ["name", "n"]
    );
    assert_eq!(
        s.fields[0].ty,
        DataType::String(StringConstraints {
            min_length: Some(1),
            max_length: Some(3),
            pattern: None
        })
    );
}

// ----- structs ------------------------------------------------------------------------------

#[test]
fn struct_fields_defaults_of_every_kind_and_nullables() {
    let api = load1(
        r#"namespace ns

union_closed WriteMode
    add
    overwrite
    update String

struct CommitInfo
    "Doc of
    the struct."
    path String
        "Field doc."
    mode WriteMode = add
    autorename Boolean = false
    limit UInt32 = 1000
    offset Int64 = -1
    duration Float64(max_value=14400, min_value=60) = 14400
    ratio Float32 = 0.5
    label String = "a \"quoted\"\tvalue\n\n"
    when Timestamp("%Y-%m-%d") = "2020-02-29"
    client_modified String?
"#,
    );
    let s = strukt(&api, "ns", "CommitInfo");
    assert_eq!(s.doc.as_deref(), Some("Doc of the struct."));
    assert_eq!(s.fields[0].doc.as_deref(), Some("Field doc."));
    let defaults: Vec<(&str, Option<&Value>)> = s
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.default.as_ref()))
        .collect();
    assert_eq!(
        defaults,
        vec![
            ("path", None),
            ("mode", Some(&Value::Tag("add".into()))),
            ("autorename", Some(&Value::Bool(false))),
            ("limit", Some(&Value::Int(1000))),
            ("offset", Some(&Value::Int(-1))),
            // An integer default of a float field becomes a float.
            ("duration", Some(&Value::Float(14400.0))),
            ("ratio", Some(&Value::Float(0.5))),
            // One line break at the very end is dropped, as the reference's lexer does.
            (
                "label",
                Some(&Value::String("a \"quoted\"\tvalue\n".into()))
            ),
            ("when", Some(&Value::String("2020-02-29".into()))),
            ("client_modified", None),
        ]
    );
    assert_eq!(s.fields[9].ty, nullable(string()));
    assert_eq!(
        example_json::default_json(&Value::Float(14400.0)).to_string(),
        "14400.0"
    );
    assert_eq!(
        example_json::default_json(&Value::Tag("add".into())),
        json!({".tag": "add"})
    );
}

#[test]
fn union_tag_default_through_an_alias_and_an_inherited_member() {
    let api = load1(
        "namespace ns\n\nunion Base\n    a\nunion Child extends Base\n    b\nalias C = Child\n\nstruct S\n    x C = a\n    y Child = b\n",
    );
    let s = strukt(&api, "ns", "S");
    assert_eq!(s.fields[0].default, Some(Value::Tag("a".into())));
    assert_eq!(s.fields[1].default, Some(Value::Tag("b".into())));
}

#[test]
fn extends_lists_all_ancestor_fields() {
    let api = load1(
        "namespace ns\n\nstruct A\n    a1 String\n    a2 Int32 = 1\nstruct B extends A\n    b1 Boolean\nstruct C extends B\n    \"Leaf.\"\n    c1 String?\nstruct D extends C\n    \"No fields of its own.\"\n",
    );
    let c = strukt(&api, "ns", "C");
    assert_eq!(c.parent, Some(key("ns", "B")));
    assert_eq!(field_names(&api.all_fields(c)), ["a1", "a2", "b1", "c1"]);
    let d = strukt(&api, "ns", "D");
    assert!(d.fields.is_empty());
    assert_eq!(field_names(&api.all_fields(d)), ["a1", "a2", "b1", "c1"]);
    assert_eq!(
        api.children_of(&key("ns", "B"))
            .map(|s| s.key.name.as_str())
            .collect::<Vec<_>>(),
        ["C"]
    );
}

#[test]
fn enumerated_subtypes_open_and_closed() {
    let api = load1(
        r#"namespace ns

struct Metadata
    "Closed."
    union_closed
        file FileMetadata
        folder FolderMetadata
    name String

struct FileMetadata extends Metadata
    size UInt64

struct FolderMetadata extends Metadata
    "A folder."

struct RootInfo
    "Open."
    union
        team TeamRootInfo
    root_namespace_id String

struct TeamRootInfo extends RootInfo
    home_path String
"#,
    );
    let m = strukt(&api, "ns", "Metadata");
    let sub = m.subtypes.as_ref().expect("subtypes");
    assert!(!sub.catch_all);
    assert_eq!(
        sub.entries,
        vec![
            ("file".to_string(), key("ns", "FileMetadata")),
            ("folder".to_string(), key("ns", "FolderMetadata")),
        ]
    );
    let r = strukt(&api, "ns", "RootInfo");
    assert!(r.subtypes.as_ref().is_some_and(|s| s.catch_all));
    assert_eq!(
        field_names(&api.all_fields(strukt(&api, "ns", "FileMetadata"))),
        ["name", "size"]
    );
}

#[test]
fn inline_anonymous_struct_and_union_take_the_field_type_name() {
    let api = load1(
        r#"namespace ns

struct PropertyField
    type PropertyType
        "The type."
        union
            "Data type of the field."
            string
                "A string."
    metadata metadata_union?
        union_closed
            exif String
            gps Float64
    point Point
        struct
            "A point."
            x Int32
            y Int32
"#,
    );
    let s = strukt(&api, "ns", "PropertyField");
    assert_eq!(s.fields[0].ty, named("ns", "PropertyType"));
    assert_eq!(s.fields[0].doc.as_deref(), Some("The type."));
    assert_eq!(s.fields[1].ty, nullable(named("ns", "metadata_union")));
    let pt = union(&api, "ns", "PropertyType");
    assert!(pt.anonymous);
    assert!(!pt.closed);
    assert_eq!(pt.doc.as_deref(), Some("Data type of the field."));
    let names: Vec<(&str, bool)> = pt
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.catch_all))
        .collect();
    assert_eq!(names, [("string", false), ("other", true)]);
    let mu = union(&api, "ns", "metadata_union");
    assert!(mu.anonymous && mu.closed);
    assert_eq!(mu.members.len(), 2);
    let p = strukt(&api, "ns", "Point");
    assert!(p.anonymous);
    assert_eq!(p.doc.as_deref(), Some("A point."));
    // Anonymous types come right after the type that defines them.
    let order: Vec<&str> = api.namespaces["ns"]
        .types
        .iter()
        .map(|t| t.key().name.as_str())
        .collect();
    assert_eq!(
        order,
        ["PropertyField", "PropertyType", "metadata_union", "Point"]
    );
    assert_eq!(Stats::of(&api).unions, 2);
    assert_eq!(Stats::of(&api).structs, 2);
}

// ----- unions -------------------------------------------------------------------------------

#[test]
fn unions_void_and_typed_members_and_catch_all() {
    let api = load1(
        r#"namespace ns

union UploadSessionLookupError
    "Open."
    not_found
        "Not found."
    incorrect_offset UInt64
    malformed_path MalformedPathError
    invalid String?

alias MalformedPathError = String?

union_closed WriteMode
    add
    update String
"#,
    );
    let u = union(&api, "ns", "UploadSessionLookupError");
    assert!(!u.closed);
    let members: Vec<(&str, &DataType, bool)> = u
        .members
        .iter()
        .map(|m| (m.name.as_str(), &m.ty, m.catch_all))
        .collect();
    assert_eq!(
        members,
        vec![
            ("not_found", &DataType::Void, false),
            ("incorrect_offset", &int(IntKind::UInt64), false),
            ("malformed_path", &named("ns", "MalformedPathError"), false),
            ("invalid", &nullable(string()), false),
            ("other", &DataType::Void, true),
        ]
    );
    assert_eq!(u.members[0].doc.as_deref(), Some("Not found."));
    assert!(api.union_is_open(u));
    let w = union(&api, "ns", "WriteMode");
    assert!(w.closed);
    assert_eq!(w.members.len(), 2);
    assert!(!api.union_is_open(w));
}

#[test]
fn union_extends_and_where_the_catch_all_goes() {
    let api = load1(
        r#"namespace ns

union_closed LaunchResultBase
    async_job_id String
union LaunchOpen extends LaunchResultBase
    "Open child of a closed parent gets its own other."
    complete
union_closed LaunchClosed extends LaunchResultBase
    done
union OpenBase
    a
union OpenChild extends OpenBase
    b
union GrandChild extends OpenChild
    c
"#,
    );
    let names = |u: &dbx_codegen::ir::Union| -> Vec<String> {
        api.all_members(u).iter().map(|m| m.name.clone()).collect()
    };
    let lo = union(&api, "ns", "LaunchOpen");
    assert_eq!(lo.parent, Some(key("ns", "LaunchResultBase")));
    assert_eq!(names(lo), ["async_job_id", "complete", "other"]);
    assert!(lo.members.last().is_some_and(|m| m.catch_all));
    assert_eq!(
        names(union(&api, "ns", "LaunchClosed")),
        ["async_job_id", "done"]
    );
    // With an open parent the child inherits the parent's `other` and adds none.
    let oc = union(&api, "ns", "OpenChild");
    assert!(oc.members.iter().all(|m| !m.catch_all));
    assert_eq!(names(oc), ["a", "other", "b"]);
    assert_eq!(
        names(union(&api, "ns", "GrandChild")),
        ["a", "other", "b", "c"]
    );
    assert!(api.union_is_open(union(&api, "ns", "GrandChild")));
}

#[test]
fn union_member_defaults_are_accepted_and_ignored() {
    let api = load1(
        "namespace ns\n\nunion_closed OpenIdError\n    incorrect_openid_scopes\nunion UserInfoError\n    openid_error OpenIdError = incorrect_openid_scopes\n    enabled Boolean = false\n    server_error String = \"\"\n    too_many UInt64 = 0\n",
    );
    let u = union(&api, "ns", "UserInfoError");
    assert_eq!(u.members.len(), 5);
    assert_eq!(u.members[0].ty, named("ns", "OpenIdError"));
    assert_eq!(u.members[1].ty, DataType::Boolean);
}

// ----- annotations --------------------------------------------------------------------------

#[test]
fn annotations_builtin_and_custom() {
    let api = load(&[
        (
            "common.stone",
            "namespace common\n\nannotation Deprecated = Deprecated()\nannotation InternalOnly = Omitted(\"internal\")\n",
        ),
        (
            "ns.stone",
            r#"namespace ns

import common

annotation Preview = Preview()
annotation Blot = RedactedBlot("[0-9]+")
annotation Hash = RedactedHash()
annotation_type Sensitivity
    "A custom annotation type."
    level Int32 = 1
    reason String?
annotation High = Sensitivity(level=3)
annotation Low = Sensitivity(0, "public")

alias Secret = String
    @Blot
    "A secret."

struct S
    old String
        @common.Deprecated
        "Use new."
    new String?
        @Preview
    quality Int32
        @common.InternalOnly
        @Hash
    tags List(String)
        @High
        @Low
union U
    gone
        @common.Deprecated
    count UInt64
        @Blot
"#,
        ),
    ]);
    let s = strukt(&api, "ns", "S");
    let a = |i: usize| &s.fields[i].annotations;
    assert!(a(0).deprecated && !a(0).preview);
    assert_eq!(s.fields[0].doc.as_deref(), Some("Use new."));
    assert!(a(1).preview && !a(1).deprecated);
    assert_eq!(a(2).omitted.as_deref(), Some("internal"));
    assert_eq!(a(2).redaction, Some(Redaction::Hash(vec![])));
    assert_eq!(a(3).custom, ["ns.Sensitivity", "ns.Sensitivity"]);
    let u = union(&api, "ns", "U");
    assert!(u.members[0].annotations.deprecated);
    assert_eq!(
        u.members[1].annotations.redaction,
        Some(Redaction::Blot(vec!["[0-9]+".into()]))
    );
    match api.get(&key("ns", "Secret")) {
        Some(UserType::Alias(al)) => {
            assert_eq!(
                al.annotations.redaction,
                Some(Redaction::Blot(vec!["[0-9]+".into()]))
            );
            assert_eq!(al.doc.as_deref(), Some("A secret."));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn redactors_on_any_primitive_and_on_alias_definitions_in_any_order() {
    // The reference allows a redactor on any primitive (Boolean, Timestamp, ...), and an
    // alias may be redacted even when the alias it points to is defined later.
    let api = load1(
        "namespace ns\n\nannotation Blot = RedactedBlot()\n\nalias A = B\n    @Blot\nalias B = String\n\nstruct S\n    flag Boolean\n        @Blot\n    when Timestamp(\"%Y\")?\n        @Blot\n    ids Map(String, List(Int64))\n        @Blot\n",
    );
    let s = strukt(&api, "ns", "S");
    assert!(s.fields.iter().all(|f| f.annotations.redaction.is_some()));
}

// ----- routes -------------------------------------------------------------------------------

#[test]
fn routes_versions_deprecation_and_attrs() {
    let api = load(&[
        ("stone_cfg.stone", CFG),
        (
            "files.stone",
            r#"namespace files

struct Arg
    path String

route upload_session/finish_batch (Arg, Void, Void)
    "Version one."

    attrs
        host = "content"
        style = "upload"
        is_preview = true
        select_admin_mode = "team_admin"
        scope = "files.content.write"

route upload_session/finish_batch:2 (Arg, List(Arg), String?) deprecated
    "Version two."

route copy (Arg, Arg, Void) deprecated by upload_session/finish_batch:2

route plain (Void, Void, Void)
"#,
        ),
    ]);
    let schema = api.route_schema.as_ref().expect("schema");
    assert_eq!(
        schema
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        [
            "auth",
            "host",
            "style",
            "is_preview",
            "select_admin_mode",
            "scope"
        ]
    );
    assert!(!api.namespaces.contains_key("stone_cfg"));
    let routes = &api.namespaces["files"].routes;
    assert_eq!(routes.len(), 4);
    let r1 = &routes[0];
    assert_eq!(
        (r1.name.as_str(), r1.version),
        ("upload_session/finish_batch", 1)
    );
    assert_eq!(r1.arg, named("files", "Arg"));
    assert_eq!(r1.result, DataType::Void);
    assert_eq!(r1.doc.as_deref(), Some("Version one."));
    assert_eq!(r1.deprecated, None);
    let attrs: Vec<(&str, &Value)> = r1.attrs.iter().map(|(k, v)| (k.as_str(), v)).collect();
    assert_eq!(
        attrs,
        vec![
            ("auth", &Value::String("user".into())),
            ("host", &Value::String("content".into())),
            ("is_preview", &Value::Bool(true)),
            ("scope", &Value::String("files.content.write".into())),
            ("select_admin_mode", &Value::String("team_admin".into())),
            ("style", &Value::String("upload".into())),
        ]
    );
    assert_eq!(r1.url_path(), "/2/files/upload_session/finish_batch");
    let r2 = &routes[1];
    assert_eq!(r2.version, 2);
    assert_eq!(r2.deprecated, Some(None));
    assert_eq!(
        r2.result,
        DataType::List {
            item: Box::new(named("files", "Arg")),
            min_items: None,
            max_items: None
        }
    );
    assert_eq!(r2.error, nullable(string()));
    assert_eq!(r2.url_path(), "/2/files/upload_session/finish_batch_v2");
    assert_eq!(
        routes[2].deprecated,
        Some(Some(("upload_session/finish_batch".into(), 2)))
    );
    // Defaults filled in, null for unset nullable attributes.
    let plain = &routes[3];
    assert_eq!(
        (plain.style, plain.host, plain.auth),
        (Style::Rpc, Host::Api, Auth::User)
    );
    assert_eq!((plain.scope.as_deref(), plain.is_preview), (None, false));
    assert_eq!(
        (r1.style, r1.host, r1.auth),
        (Style::Upload, Host::Content, Auth::User)
    );
    assert_eq!(
        (r1.scope.as_deref(), r1.is_preview),
        (Some("files.content.write"), true)
    );
    assert_eq!(plain.attrs["scope"], Value::Null);
    assert_eq!(plain.attrs["is_preview"], Value::Bool(false));
    let stats = Stats::of(&api);
    assert_eq!(
        (stats.routes, stats.rpc, stats.upload, stats.host_content),
        (4, 3, 1, 1)
    );
}

#[test]
fn route_attribute_of_union_type_takes_a_void_tag() {
    let api = load(&[
        (
            "stone_cfg.stone",
            "namespace stone_cfg\n\nimport modes\n\nstruct Route\n    mode modes.Mode = fast\n",
        ),
        (
            "modes.stone",
            "namespace modes\n\nunion Mode\n    fast\n    slow\n",
        ),
        (
            "a.stone",
            "namespace a\n\nroute r (Void, Void, Void)\n    attrs\n        mode = slow\nroute q (Void, Void, Void)\n",
        ),
    ]);
    let routes = &api.namespaces["a"].routes;
    assert_eq!(routes[0].attrs["mode"], Value::Tag("slow".into()));
    assert_eq!(routes[1].attrs["mode"], Value::Tag("fast".into()));
}

// ----- examples -----------------------------------------------------------------------------

const EXAMPLES: &str = r#"namespace ex

alias Id = String(min_length=1, pattern="id:[a-z]+\\.x")

union_closed Kind
    small
    big
    named String

struct Point
    x Int32
    y Int32 = 7
    label String?
    kind Kind = small
    ratio Float64(min_value=0, max_value=14400) = 14400
    tags List(String)?

    example default
        "Doc of the example."
        x = 1
        label = "hi"
        kind = big
        tags = ["a", "b"]

    example minimal
        x = -5
        label = null

    example ratio
        x = 0
        ratio = 12

union Shape
    circle Circle
    square Float64
    none
    nested Shape
    maybe String?
    points List(Point)

    example c
        circle = default
    example sq
        square = 2.5
    example n
        none = null
    example nest
        nested = c
    example nest_void
        nested = none
    example m
        maybe = "z"
    example pts
        points = [default, minimal]

struct Circle
    r Float64
    center Point
    example default
        r = 1.5
        center = default

struct Base
    "Polymorphic."
    union
        a SubA
        b SubB
    id Id
    example default
        a = one

struct SubA extends Base
    extra UInt64
    example one
        id = "id:abc.x"
        extra = 18446744073709551615

struct SubB extends Base
    example default
        id = "id:b.x"

struct Holder
    base Base
    shapes List(Shape)
    m Map(String, Int32)?
    example default
        base = default
        shapes = [c, sq, n]
        m = {"k": 1, "j": 2}
    example empty
        base = default
        shapes = []

struct Empty
    "Nothing."
    example default
"#;

#[test]
fn examples_resolve_to_references_lists_nulls_and_tags() {
    let api = load1(EXAMPLES);
    let p = strukt(&api, "ex", "Point");
    let labels: Vec<&str> = p.examples.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels, ["default", "minimal", "ratio"]);
    let d = &p.examples[0];
    assert_eq!(d.doc.as_deref(), Some("Doc of the example."));
    assert_eq!(
        d.fields,
        vec![
            ("x".to_string(), ExampleValue::Int(1)),
            ("label".to_string(), ExampleValue::String("hi".into())),
            (
                "kind".to_string(),
                ExampleValue::VoidTag {
                    ty: key("ex", "Kind"),
                    tag: "big".into()
                }
            ),
            (
                "tags".to_string(),
                ExampleValue::List(vec![
                    ExampleValue::String("a".into()),
                    ExampleValue::String("b".into())
                ])
            ),
        ]
    );
    assert_eq!(p.examples[1].fields[1].1, ExampleValue::Null);
    // An integer for a float field is kept as a float.
    assert_eq!(p.examples[2].fields[1].1, ExampleValue::Float(12.0));
    let s = union(&api, "ex", "Shape");
    assert_eq!(
        s.examples[0].fields,
        vec![(
            "circle".to_string(),
            ExampleValue::Ref {
                ty: key("ex", "Circle"),
                label: "default".into()
            }
        )]
    );
    assert_eq!(
        s.examples[2].fields,
        vec![("none".to_string(), ExampleValue::Null)]
    );
    let b = strukt(&api, "ex", "Base");
    assert_eq!(
        b.examples[0].fields,
        vec![(
            "a".to_string(),
            ExampleValue::Ref {
                ty: key("ex", "SubA"),
                label: "one".into()
            }
        )]
    );
    let e = strukt(&api, "ex", "Empty");
    assert_eq!(e.examples.len(), 1);
    assert!(e.examples[0].fields.is_empty());
    assert_eq!(Stats::of(&api).examples, 3 + 7 + 1 + 1 + 1 + 1 + 2 + 1);
}

#[test]
fn example_json_matches_the_reference() {
    // Expected values are what the reference (stone 3.5.5, `Example.value`) computes for the
    // same spec: nulls dropped, defaults filled in, references inlined, unions as `.tag`
    // objects with struct members flattened. One deliberate difference: the reference keeps
    // an integer written for a float field as an integer (`"ratio": 12`, `"r": 1`); we emit a
    // float (`12.0`). Both decode to the same f64.
    let api = load1(EXAMPLES);
    let point_default = json!({
        "x": 1, "y": 7, "label": "hi", "kind": {".tag": "big"},
        "ratio": 14400.0, "tags": ["a", "b"]
    });
    let point_minimal = json!({"x": -5, "y": 7, "kind": {".tag": "small"}, "ratio": 14400.0});
    assert_eq!(render(&api, "ex", "Point", "default"), point_default);
    assert_eq!(render(&api, "ex", "Point", "minimal"), point_minimal);
    assert_eq!(
        render(&api, "ex", "Point", "ratio"),
        json!({"x": 0, "y": 7, "kind": {".tag": "small"}, "ratio": 12.0})
    );
    let circle = json!({"r": 1.5, "center": point_default});
    assert_eq!(render(&api, "ex", "Circle", "default"), circle);
    let shape_c = json!({".tag": "circle", "r": 1.5, "center": point_default});
    assert_eq!(render(&api, "ex", "Shape", "c"), shape_c);
    assert_eq!(
        render(&api, "ex", "Shape", "sq"),
        json!({".tag": "square", "square": 2.5})
    );
    assert_eq!(render(&api, "ex", "Shape", "n"), json!({".tag": "none"}));
    assert_eq!(
        render(&api, "ex", "Shape", "nest"),
        json!({".tag": "nested", "nested": shape_c})
    );
    assert_eq!(
        render(&api, "ex", "Shape", "nest_void"),
        json!({".tag": "nested", "nested": {".tag": "none"}})
    );
    assert_eq!(
        render(&api, "ex", "Shape", "m"),
        json!({".tag": "maybe", "maybe": "z"})
    );
    assert_eq!(
        render(&api, "ex", "Shape", "pts"),
        json!({".tag": "points", "points": [point_default, point_minimal]})
    );
    // Void members are implicit examples, as in the reference.
    assert_eq!(
        render(&api, "ex", "Shape", "other"),
        json!({".tag": "other"})
    );
    assert_eq!(
        render(&api, "ex", "Kind", "small"),
        json!({".tag": "small"})
    );
    let sub_a = json!({"id": "id:abc.x", "extra": 18446744073709551615u64});
    assert_eq!(render(&api, "ex", "SubA", "one"), sub_a);
    assert_eq!(
        render(&api, "ex", "Base", "default"),
        json!({".tag": "a", "id": "id:abc.x", "extra": 18446744073709551615u64})
    );
    assert_eq!(
        render(&api, "ex", "Holder", "default"),
        json!({
            "base": {".tag": "a", "id": "id:abc.x", "extra": 18446744073709551615u64},
            "shapes": [shape_c, {".tag": "square", "square": 2.5}, {".tag": "none"}],
            "m": {"k": 1, "j": 2}
        })
    );
    assert_eq!(
        render(&api, "ex", "Holder", "empty"),
        json!({
            "base": {".tag": "a", "id": "id:abc.x", "extra": 18446744073709551615u64},
            "shapes": []
        })
    );
    assert_eq!(render(&api, "ex", "Empty", "default"), json!({}));
    assert!(example_json::render(&api, &key("ex", "Point"), "nope").is_err());
}

#[test]
fn map_examples_on_one_line_and_spread_over_indented_lines() {
    let api = load1(
        "namespace ns\n\nstruct S\n    m Map(String, List(Int32))\n    n Map(String, String)?\n    example default\n        m =\n            {\"a\": [1, 2],\n            \"b\": []}\n        n = {\"x\": \"y\", \"z\": \"w\"}\n",
    );
    let e = &strukt(&api, "ns", "S").examples[0];
    assert_eq!(
        e.fields[0].1,
        ExampleValue::Map(vec![
            (
                "a".into(),
                ExampleValue::List(vec![ExampleValue::Int(1), ExampleValue::Int(2)])
            ),
            ("b".into(), ExampleValue::List(vec![])),
        ])
    );
    assert_eq!(
        render(&api, "ns", "S", "default"),
        json!({"m": {"a": [1, 2], "b": []}, "n": {"x": "y", "z": "w"}})
    );
}

// ----- docs, patches, comments, strings ------------------------------------------------------

#[test]
fn doc_references_of_each_kind_are_accepted() {
    let api = load(&[
        ("stone_cfg.stone", CFG),
        (
            "common.stone",
            "namespace common\n\nstruct Shared\n    f String\nroute ping (Void, Void, Void)\n",
        ),
        (
            "files.stone",
            r#"namespace files

import common

struct Thing
    "See :route:`get`, :route:`get:2`, :route:`common.ping`, :type:`Other`,
    :type:`common.Shared`, :field:`name`, :field:`Other.tag`,
    :field:`common.Shared.f`, :link:`the docs https://example.com/x`,
    :val:`null`, :val:`true`, :val:`3`, :val:`\"s\"` and plain `code`."
    name String
        "Same type: :field:`name`."

union Other
    tag
        ":field:`tag` and :field:`other`."

route get (Void, Void, Void)
    "Route docs may use :field:`Thing.name`."
route get:2 (Void, Void, Void)
"#,
        ),
    ]);
    let t = strukt(&api, "files", "Thing");
    let doc = t.doc.as_deref().unwrap_or_default();
    assert!(doc.starts_with("See :route:`get`, :route:`get:2`"), "{doc}");
    // Single newlines of a multi-line docstring become spaces.
    assert!(
        doc.contains(":type:`Other`, :type:`common.Shared`"),
        "{doc}"
    );
    assert!(doc.contains(":val:`\"s\"`"), "{doc}");
}

#[test]
fn patches_add_fields_members_and_example_values() {
    let api = load1(
        r#"namespace ns

struct S
    a String
    example default
        a = "x"

union_closed U
    x

patch struct S
    b Int32
        "Patched."
    example default
        b = 1

patch union_closed U
    y String
"#,
    );
    let s = strukt(&api, "ns", "S");
    assert_eq!(
        field_names(&s.fields.iter().collect::<Vec<_>>()),
        ["a", "b"]
    );
    assert_eq!(s.fields[1].doc.as_deref(), Some("Patched."));
    assert_eq!(
        render(&api, "ns", "S", "default"),
        json!({"a": "x", "b": 1})
    );
    let u = union(&api, "ns", "U");
    assert_eq!(
        u.members
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["x", "y"]
    );
}

#[test]
fn comments_blank_lines_docstrings_and_escapes() {
    let api = load1(
        "# leading comment\nnamespace ns # trailing comment\n\n\n# between items\nstruct Route\n\n    \"First line\n    second line,  \n        indented more.\n\n    Second paragraph.\"\n\n  # a comment at any column\n    a String(pattern=\"\\\\.\")  # trailing\n\n\n    b String = \"tab\\there \\\"quoted\\\" back\\\\slash \\/ \\. new\\nline\\n\"\n    c String = \"caf\u{e9} \u{2014} \u{201c}ok\u{201d}\"\n    d String = \"p\u{2028}q\"\n",
    );
    let s = strukt(&api, "ns", "Route");
    // Block indentation stripped, trailing spaces removed, single newlines unwrapped,
    // deeper indentation kept, a blank line is a paragraph break.
    assert_eq!(
        s.doc.as_deref(),
        Some("First line second line,     indented more.\nSecond paragraph.")
    );
    assert_eq!(
        s.fields[0].ty,
        DataType::String(StringConstraints {
            pattern: Some(r"\.".into()),
            ..StringConstraints::default()
        })
    );
    assert_eq!(
        s.fields[1].default,
        Some(Value::String(
            "tab\there \"quoted\" back\\slash / . new\nline".into()
        ))
    );
    assert_eq!(
        s.fields[2].default,
        Some(Value::String(
            "caf\u{e9} \u{2014} \u{201c}ok\u{201d}".into()
        ))
    );
    // The reference splits strings with Python's `splitlines`, which also breaks at U+2028.
    assert_eq!(s.fields[3].default, Some(Value::String("p\nq".into())));
}

#[test]
fn identifiers_may_contain_hyphens_and_annotation_type_is_a_name_inside_blocks() {
    let api = load1("namespace ns\n\nstruct S\n    my-field String\n    annotation_type Int32\n");
    assert_eq!(
        field_names(&strukt(&api, "ns", "S").fields.iter().collect::<Vec<_>>()),
        ["my-field", "annotation_type"]
    );
}

// ----- errors -------------------------------------------------------------------------------

/// One error case: the files, then every expected diagnostic as `(file:line:col, phrase)`.
struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    expect: &'static [(&'static str, &'static str)],
}

fn check_cases(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let got = match dbx_codegen::load_str(c.files) {
            Ok(_) => {
                failures.push(format!("{}: accepted, expected an error", c.name));
                continue;
            }
            Err(e) => e
                .diagnostics
                .sorted()
                .into_iter()
                .map(|d| d.render(&e.sources))
                .collect::<Vec<_>>(),
        };
        let ok = got.len() == c.expect.len()
            && got.iter().zip(c.expect).all(|(g, (at, phrase))| {
                g.starts_with(&format!("{at}: error: ")) && g.contains(phrase)
            });
        if !ok {
            failures.push(format!(
                "{}: expected {:?}\ngot:\n{}",
                c.name,
                c.expect,
                got.join("")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const TYPED_CFG: &str = "namespace stone_cfg\n\nstruct Route\n    auth String = \"user\"\n    host String = \"api\"\n    style String = \"rpc\"\n";

const ONE_CFG: &str = "namespace stone_cfg\n\nstruct Route\n    auth String = \"user\"\n    is_preview Boolean = false\n";

#[test]
fn name_and_import_errors() {
    check_cases(&[
        Case {
            name: "unknown type",
            files: &[("a.stone", "namespace ns\n\nstruct S\n    x Foo\n")],
            expect: &[("a.stone:4:7", "unknown type `Foo`")],
        },
        Case {
            name: "unknown namespace",
            files: &[("a.stone", "namespace ns\n\nstruct S\n    x zz.Foo\n")],
            expect: &[("a.stone:4:7", "unknown namespace `zz`")],
        },
        Case {
            name: "namespace not imported",
            files: &[
                ("a.stone", "namespace a\n\nstruct S\n    x b.T\n"),
                ("b.stone", "namespace b\n\nstruct T\n    \"d\"\n"),
            ],
            expect: &[("a.stone:4:7", "namespace `b` is used but not imported")],
        },
        Case {
            name: "unknown type in an imported namespace",
            files: &[
                (
                    "a.stone",
                    "namespace a\nimport b\n\nstruct S\n    x b.Nope\n",
                ),
                ("b.stone", "namespace b\n"),
            ],
            expect: &[("a.stone:5:9", "unknown type `b.Nope`")],
        },
        Case {
            name: "import of an unknown namespace",
            files: &[("a.stone", "namespace a\nimport nowhere\n")],
            expect: &[("a.stone:2:8", "unknown namespace `nowhere`")],
        },
        Case {
            name: "duplicate type",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    \"d\"\nunion S\n    x\n",
            )],
            expect: &[("a.stone:5:7", "symbol `S` is already defined")],
        },
        Case {
            name: "duplicate across files of one namespace",
            files: &[
                ("a.stone", "namespace ns\n\nalias X = String\n"),
                ("b.stone", "namespace ns\n\nalias X = Int32\n"),
            ],
            expect: &[("b.stone:3:7", "symbol `X` is already defined")],
        },
        Case {
            name: "duplicate annotation",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation D = Deprecated()\nannotation D = Preview()\n",
            )],
            expect: &[("a.stone:4:12", "symbol `D` is already defined")],
        },
        Case {
            name: "canonical clash between types",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct FooBar\n    \"d\"\nstruct foo_bar\n    \"e\"\n",
            )],
            expect: &[("a.stone:5:8", "clashes with `FooBar`")],
        },
        Case {
            name: "canonical clash between a type and a route",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct GetThing\n    \"d\"\nroute get_thing (Void, Void, Void)\n",
            )],
            expect: &[("a.stone:5:7", "route `get_thing` clashes with `GetThing`")],
        },
        Case {
            name: "canonical clash with an annotation and an annotation type",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation FooBar = Deprecated()\nstruct foo_bar\n    \"d\"\nannotation_type Get_Thing\n    a Int32\nroute get_thing (Void, Void, Void)\n",
            )],
            expect: &[
                ("a.stone:4:8", "name `foo_bar` clashes with `FooBar`"),
                ("a.stone:8:7", "route `get_thing` clashes with `Get_Thing`"),
            ],
        },
        Case {
            name: "a type named like its namespace",
            files: &[("a.stone", "namespace a_b\n\nstruct AB\n    \"d\"\n")],
            expect: &[("a.stone:3:8", "clashes with its namespace `a_b`")],
        },
        Case {
            name: "built-in redefined",
            files: &[("a.stone", "namespace ns\n\nstruct String\n    \"d\"\n")],
            expect: &[("a.stone:3:8", "built-in type and cannot be redefined")],
        },
        Case {
            name: "import cycle",
            files: &[
                ("a.stone", "namespace a\nimport b\n"),
                ("b.stone", "namespace b\nimport c\n"),
                ("c.stone", "namespace c\nimport a\n"),
            ],
            expect: &[("c.stone:2:8", "circular import")],
        },
        Case {
            name: "import of itself",
            files: &[("a.stone", "namespace a\nimport a\n")],
            expect: &[("a.stone:2:8", "cannot import itself")],
        },
        Case {
            name: "first item is not the namespace",
            files: &[("a.stone", "struct S\n    \"d\"\nnamespace ns\n")],
            expect: &[(
                "a.stone:1:1",
                "first item of a spec file must be its `namespace`",
            )],
        },
        Case {
            name: "two namespace declarations",
            files: &[("a.stone", "namespace ns\nnamespace other\n")],
            expect: &[("a.stone:2:11", "declares exactly one namespace")],
        },
        Case {
            // The reference accepts an empty file (it declares nothing); we report it.
            name: "empty file",
            files: &[("a.stone", "# nothing\n")],
            expect: &[("a.stone:1:1", "empty spec file")],
        },
    ]);
}

#[test]
fn alias_and_inheritance_errors() {
    check_cases(&[
        Case {
            name: "alias refers to itself",
            files: &[("a.stone", "namespace ns\n\nalias A = A\n")],
            expect: &[("a.stone:3:7", "alias `A` is part of a cycle")],
        },
        Case {
            name: "alias cycle of two",
            files: &[("a.stone", "namespace ns\n\nalias A = B\nalias B = A\n")],
            expect: &[
                ("a.stone:3:7", "alias `A` is part of a cycle"),
                ("a.stone:4:7", "alias `B` is part of a cycle"),
            ],
        },
        Case {
            name: "alias cycle of three, reached from outside",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias X = A\nalias A = B\nalias B = C\nalias C = A\n",
            )],
            expect: &[
                ("a.stone:4:7", "alias `A` is part of a cycle"),
                ("a.stone:5:7", "alias `B` is part of a cycle"),
                ("a.stone:6:7", "alias `C` is part of a cycle"),
            ],
        },
        Case {
            name: "struct inheritance cycle",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct A extends B\n    \"d\"\nstruct B extends A\n    \"d\"\n",
            )],
            expect: &[
                ("a.stone:3:8", "struct `A` inherits from itself"),
                ("a.stone:5:8", "struct `B` inherits from itself"),
            ],
        },
        Case {
            name: "union inheritance cycle",
            files: &[("a.stone", "namespace ns\n\nunion A extends A\n    x\n")],
            expect: &[("a.stone:3:7", "union `A` inherits from itself")],
        },
        Case {
            name: "field redefined by a subtype",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct A\n    x Int32\nstruct B extends A\n    y Int32\nstruct C extends B\n    x String\n",
            )],
            expect: &[("a.stone:8:5", "field `x` is already defined by parent `A`")],
        },
        Case {
            name: "member redefined by a child union",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion A\n    x\nunion B extends A\n    x\n",
            )],
            expect: &[("a.stone:6:5", "member `x` is already defined by parent `A`")],
        },
        Case {
            name: "field defined twice",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct A\n    x Int32\n    x String\n",
            )],
            expect: &[("a.stone:5:5", "field `x` is defined twice")],
        },
        Case {
            name: "member defined twice",
            files: &[("a.stone", "namespace ns\n\nunion A\n    x\n    x String\n")],
            expect: &[("a.stone:5:5", "member `x` is defined twice")],
        },
        Case {
            name: "extends an alias",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct A\n    x Int32\nalias B = A\nstruct C extends B\n    y Int32\n",
            )],
            expect: &[("a.stone:6:18", "cannot extend `B`: it is an alias")],
        },
        Case {
            name: "struct extends a union",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    x\nstruct C extends U\n    y Int32\n",
            )],
            expect: &[("a.stone:5:18", "a struct can only extend a struct")],
        },
        Case {
            name: "union extends a struct",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x Int32\nunion U extends S\n    y\n",
            )],
            expect: &[("a.stone:5:17", "a union can only extend a union")],
        },
        Case {
            name: "extends a built-in",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S extends String\n    x Int32\n",
            )],
            expect: &[("a.stone:3:18", "it is a built-in type")],
        },
        Case {
            name: "closed child of an open parent",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    x\nunion_closed V extends U\n    y\n",
            )],
            expect: &[(
                "a.stone:5:14",
                "cannot be `union_closed`: its parent `U` is open",
            )],
        },
        Case {
            name: "`other` defined in an open union",
            files: &[("a.stone", "namespace ns\n\nunion U\n    a\n    other\n")],
            expect: &[("a.stone:5:5", "`other` is reserved")],
        },
        Case {
            // The reference reserves `other` in closed unions too.
            name: "`other` defined in a closed union",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion_closed U\n    other String\n",
            )],
            expect: &[("a.stone:4:5", "`other` is reserved")],
        },
        Case {
            // The reference reports this at the parent; we point at the unlisted subtype.
            name: "subtype not listed",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    union\n        a A\n    x Int32\nstruct A extends P\n    y Int32\nstruct B extends P\n    z Int32\n",
            )],
            expect: &[(
                "a.stone:9:8",
                "`B` extends `P`, which enumerates its subtypes, but is not listed",
            )],
        },
        Case {
            name: "listed subtype does not extend the parent",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    union\n        a A\n    x Int32\nstruct A\n    y Int32\n",
            )],
            expect: &[("a.stone:5:11", "subtype `A` of `P` must extend `P`")],
        },
        Case {
            name: "subtype tag used twice",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    union\n        a A\n        a A\n    x Int32\nstruct A extends P\n    y Int32\n",
            )],
            expect: &[("a.stone:6:9", "subtype tag `a` is used twice")],
        },
        Case {
            name: "subtype tag clashes with a field",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    union\n        x A\n    x Int32\nstruct A extends P\n    y Int32\n",
            )],
            expect: &[("a.stone:6:5", "field `x` clashes with the subtype tag")],
        },
        Case {
            name: "a subtype extended further",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    union\n        a A\n    x Int32\nstruct A extends P\n    y Int32\nstruct B extends A\n    z Int32\n",
            )],
            expect: &[(
                "a.stone:9:8",
                "`B` cannot extend `A`: it is a subtype of the polymorphic struct `P`",
            )],
        },
        Case {
            name: "a struct with subtypes extends another",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct G\n    g Int32\nstruct P extends G\n    union\n        a A\n    x Int32\nstruct A extends P\n    y Int32\n",
            )],
            expect: &[(
                "a.stone:5:8",
                "`P` enumerates subtypes, so it cannot extend another struct",
            )],
        },
        Case {
            name: "inline type with a qualified name",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x other.T\n        union\n            a\n",
            )],
            expect: &[
                (
                    "a.stone:4:7",
                    "an inline type must be named with a plain name",
                ),
                ("a.stone:4:7", "unknown namespace `other`"),
            ],
        },
    ]);
}

#[test]
fn type_and_default_errors() {
    check_cases(&[
        Case {
            name: "Void field",
            files: &[("a.stone", "namespace ns\n\nstruct S\n    x Void\n")],
            expect: &[("a.stone:4:5", "a struct field cannot have type `Void`")],
        },
        Case {
            name: "Void field through an alias",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias N = Void\nstruct S\n    x N\n",
            )],
            expect: &[("a.stone:5:5", "a struct field cannot have type `Void`")],
        },
        Case {
            name: "Void written as a member type",
            files: &[("a.stone", "namespace ns\n\nunion U\n    x Void\n")],
            expect: &[("a.stone:4:7", "write a void member without a type")],
        },
        Case {
            name: "Void?",
            files: &[("a.stone", "namespace ns\n\nalias A = Void?\n")],
            expect: &[("a.stone:3:11", "`Void` cannot be nullable")],
        },
        Case {
            name: "nullable of a nullable alias",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias N = String?\nstruct P\n    x N?\n",
            )],
            expect: &[("a.stone:5:7", "already nullable")],
        },
        Case {
            name: "nullable of nullable written directly",
            files: &[("a.stone", "namespace ns\n\nstruct P\n    x String??\n")],
            expect: &[("a.stone:4:14", "expected end of line, found `?`")],
        },
        Case {
            name: "nullable with a default",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    x String? = \"a\"\n",
            )],
            expect: &[("a.stone:4:5", "a nullable field cannot have a default")],
        },
        Case {
            name: "default null",
            files: &[("a.stone", "namespace ns\n\nstruct P\n    x String = null\n")],
            expect: &[("a.stone:4:16", "null is not a valid String")],
        },
        Case {
            name: "default of the wrong type",
            files: &[("a.stone", "namespace ns\n\nstruct P\n    x Int32 = \"a\"\n")],
            expect: &[(
                "a.stone:4:15",
                "bad default for `x`: string \"a\" is not a valid Int32",
            )],
        },
        Case {
            name: "float default for an integer",
            files: &[("a.stone", "namespace ns\n\nstruct P\n    x Int32 = 1.5\n")],
            expect: &[("a.stone:4:15", "float 1.5 is not a valid Int32")],
        },
        Case {
            name: "default outside the bounds",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    x Float64(max_value=10) = 14400\n    y UInt32 = -1\n    z String(min_length=3) = \"ab\"\n    w String(pattern=\"[a-z]+\") = \"ABC\"\n    t Timestamp(\"%Y-%m-%d\") = \"2020-13-01\"\n",
            )],
            expect: &[
                ("a.stone:4:31", "14400 is above max_value 10"),
                ("a.stone:5:16", "-1 is outside the range of UInt32"),
                ("a.stone:6:30", "shorter than min_length 3"),
                ("a.stone:7:34", "does not match the pattern"),
                ("a.stone:8:31", "does not match the timestamp format"),
            ],
        },
        Case {
            name: "default tag that is not void",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    a String\n    b\nstruct P\n    x U = a\n",
            )],
            expect: &[("a.stone:7:11", "member `a` of `U` is not void")],
        },
        Case {
            name: "default tag that does not exist",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    b\nstruct P\n    x U = zz\n",
            )],
            expect: &[("a.stone:6:11", "union `U` has no member `zz`")],
        },
        Case {
            name: "default tag for a non-union",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct T\n    y Int32\nstruct P\n    x T = abc\n    s String = abc\n",
            )],
            expect: &[
                ("a.stone:6:11", "`T` is not a union"),
                ("a.stone:7:16", "the type is String"),
            ],
        },
        Case {
            name: "bad arguments of built-in types",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias A1 = String(min_length=-1)\nalias A2 = String(max_length=0)\nalias A3 = String(min_length=5, max_length=2)\nalias A4 = Int32(max_value=3000000000)\nalias A5 = Int32(max_value=1.5)\nalias A6 = Float32(max_value=1e40)\nalias A7 = String(pattern=\"[a-\")\nalias A8 = String(foo=1)\nalias A9 = Int32(1, 2, 3)\n",
            )],
            expect: &[
                (
                    "a.stone:3:19",
                    "min_length must be an integer of at least 0",
                ),
                (
                    "a.stone:4:19",
                    "max_length must be an integer of at least 1",
                ),
                ("a.stone:5:12", "min_length 5 is greater than max_length 2"),
                ("a.stone:6:18", "outside the range of Int32"),
                ("a.stone:7:18", "max_value of Int32 must be an integer"),
                ("a.stone:8:20", "outside the range of Float32"),
                ("a.stone:9:19", "pattern is not a valid regular expression"),
                ("a.stone:10:19", "unknown argument `foo` for `String`"),
                (
                    "a.stone:11:24",
                    "`Int32` takes at most 2 positional arguments",
                ),
            ],
        },
        Case {
            name: "bad List, Map and Timestamp",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias A1 = List(min_items=1)\nalias A2 = List(String, min_items=-1)\nalias A3 = Map(Int32, String)\nalias A4 = Timestamp\nalias A5 = Timestamp(3)\nalias A6 = List(String, max_items=1, min_items=2)\n",
            )],
            expect: &[
                ("a.stone:3:12", "List needs an item type"),
                ("a.stone:4:25", "min_items must be a non-negative integer"),
                ("a.stone:5:12", "the key type of a Map must be a String"),
                ("a.stone:6:12", "Timestamp needs a format"),
                ("a.stone:7:22", "the format of Timestamp must be a string"),
                ("a.stone:8:12", "min_items 2 is greater than max_items 1"),
            ],
        },
        Case {
            name: "arguments on a user-defined type or an alias",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct T\n    x Int32\nalias S = String\nalias A = T(1)\nalias B = S(min_length=1)\n",
            )],
            expect: &[
                (
                    "a.stone:6:11",
                    "`T` is not a built-in type, so it takes no arguments",
                ),
                ("a.stone:7:11", "`S` is not a built-in type"),
            ],
        },
    ]);
}

#[test]
fn example_errors() {
    check_cases(&[
        Case {
            name: "missing required field",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    x Int32\n    y Int32\n    example default\n        x = 1\n",
            )],
            expect: &[("a.stone:6:5", "required field `y` is missing")],
        },
        Case {
            name: "missing inherited required field",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct A\n    a String\nstruct P extends A\n    x Int32\n    example default\n        x = 1\n",
            )],
            expect: &[("a.stone:7:5", "required field `a` is missing")],
        },
        Case {
            name: "unknown field",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    x Int32\n    example default\n        x = 1\n        z = 2\n",
            )],
            expect: &[("a.stone:7:9", "`P` has no field `z`")],
        },
        Case {
            name: "field given twice",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    x Int32\n    example default\n        x = 1\n        x = 2\n",
            )],
            expect: &[("a.stone:7:9", "`x` is given twice")],
        },
        Case {
            name: "constraint violations",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    s String(max_length=2)\n    i Int32(min_value=5)\n    l List(Int32, min_items=2)\n    p String(pattern=\"[a-z]+\")\n    t Timestamp(\"%Y-%m-%d\")\n    example e1\n        s = \"abc\"\n        i = 5\n        l = [1, 2]\n        p = \"a\"\n        t = \"2020-01-01\"\n    example e2\n        s = \"a\"\n        i = 1\n        l = [1, 2]\n        p = \"a\"\n        t = \"2020-01-01\"\n    example e3\n        s = \"a\"\n        i = 5\n        l = [1]\n        p = \"a\"\n        t = \"2020-01-01\"\n    example e4\n        s = \"a\"\n        i = 5\n        l = [1, 2]\n        p = \"ABC\"\n        t = \"2020-01-01\"\n    example e5\n        s = \"a\"\n        i = 5\n        l = [1, 2]\n        p = \"a\"\n        t = \"2020-13-01\"\n",
            )],
            expect: &[
                ("a.stone:10:13", "\"abc\" is longer than max_length 2"),
                ("a.stone:17:13", "1 is below min_value 5"),
                (
                    "a.stone:24:13",
                    "a list of 1 items breaks the list's length limits",
                ),
                ("a.stone:31:13", "does not match the pattern"),
                ("a.stone:38:13", "does not match the timestamp format"),
            ],
        },
        Case {
            name: "wrong value types",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct Q\n    y Int32\nstruct P\n    x Int32\n    b Boolean\n    q Q\n    l List(String)\n    example default\n        x = null\n        b = \"true\"\n        q = 3\n        l = \"a\"\n",
            )],
            // Each example stops at its first bad value.
            expect: &[("a.stone:11:13", "null is not a valid Int32")],
        },
        Case {
            name: "unknown label",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct Q\n    y Int32\nstruct P\n    x Q\n    example default\n        x = nope\n",
            )],
            expect: &[("a.stone:8:13", "`Q` has no example labelled `nope`")],
        },
        Case {
            name: "label used twice",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x Int32\n    example default\n        x = 1\n    example default\n        x = 2\n",
            )],
            expect: &[("a.stone:7:13", "example label `default` is used twice")],
        },
        Case {
            name: "union example with two members",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    a String\n    b String\n    example default\n        a = \"x\"\n        b = \"y\"\n",
            )],
            expect: &[("a.stone:6:5", "a union example sets exactly one member")],
        },
        Case {
            name: "union example of an unknown member",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    a\n    example default\n        zz = null\n",
            )],
            expect: &[("a.stone:6:9", "`U` has no member `zz`")],
        },
        Case {
            name: "void member with a value",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    a\n    b String\n    example default\n        a = \"x\"\n",
            )],
            expect: &[("a.stone:7:13", "void member `a` takes `null`")],
        },
        Case {
            name: "polymorphic example naming an unknown subtype example",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct P\n    union\n        a A\n    x Int32\n    example default\n        a = nope\n    example two\n        b = one\nstruct A extends P\n    y Int32\n",
            )],
            expect: &[
                ("a.stone:8:13", "`A` has no example labelled `nope`"),
                ("a.stone:10:9", "`b` is not a subtype tag of `P`"),
            ],
        },
        Case {
            name: "examples that include themselves",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x T\n    example default\n        x = default\nstruct T\n    s S?\n    example default\n        s = default\n",
            )],
            expect: &[
                (
                    "a.stone:5:13",
                    "refers to itself: S:default -> T:default -> S:default",
                ),
                (
                    "a.stone:9:13",
                    "refers to itself: T:default -> S:default -> T:default",
                ),
            ],
        },
    ]);
}

#[test]
fn route_errors() {
    check_cases(&[
        Case {
            name: "attribute not in stone_cfg",
            files: &[
                ("stone_cfg.stone", ONE_CFG),
                (
                    "a.stone",
                    "namespace ns\n\nroute r (Void, Void, Void)\n    \"d\"\n    attrs\n        zzz = 1\n",
                ),
            ],
            expect: &[("a.stone:6:9", "unknown route attribute `zzz`")],
        },
        Case {
            name: "attribute of the wrong type",
            files: &[
                ("stone_cfg.stone", ONE_CFG),
                (
                    "a.stone",
                    "namespace ns\n\nroute r (Void, Void, Void)\n    attrs\n        auth = 1\n        is_preview = maybe\n",
                ),
            ],
            expect: &[
                (
                    "a.stone:5:16",
                    "bad value for attribute `auth`: integer 1 is not a valid String",
                ),
                ("a.stone:6:22", "bad value for attribute `is_preview`"),
            ],
        },
        Case {
            name: "host, style and auth outside the known sets",
            files: &[
                ("stone_cfg.stone", TYPED_CFG),
                (
                    "a.stone",
                    "namespace ns\n\nroute r (Void, Void, Void)\n    attrs\n        host = \"elsewhere\"\n        style = \"stream\"\n        auth = \"team, user\"\n",
                ),
            ],
            expect: &[
                ("a.stone:5:16", "unknown route host `elsewhere`"),
                ("a.stone:6:17", "unknown route style `stream`"),
                ("a.stone:7:16", "unsupported route auth `team, user`"),
            ],
        },
        Case {
            name: "a schema default outside the known set is reported at the route",
            files: &[
                (
                    "stone_cfg.stone",
                    "namespace stone_cfg\n\nstruct Route\n    host String = \"moon\"\n",
                ),
                ("a.stone", "namespace ns\n\nroute r (Void, Void, Void)\n"),
            ],
            expect: &[("a.stone:3:7", "unknown route host `moon`")],
        },
        Case {
            name: "attribute set twice",
            files: &[
                ("stone_cfg.stone", ONE_CFG),
                (
                    "a.stone",
                    "namespace ns\n\nroute r (Void, Void, Void)\n    attrs\n        auth = \"a\"\n        auth = \"b\"\n",
                ),
            ],
            expect: &[("a.stone:6:9", "attribute `auth` is set twice")],
        },
        Case {
            name: "attrs without stone_cfg",
            files: &[(
                "a.stone",
                "namespace ns\n\nroute r (Void, Void, Void)\n    attrs\n        auth = \"user\"\n",
            )],
            expect: &[(
                "a.stone:5:9",
                "route attributes need a `stone_cfg` namespace",
            )],
        },
        Case {
            name: "required attribute missing",
            files: &[
                (
                    "stone_cfg.stone",
                    "namespace stone_cfg\n\nstruct Route\n    auth String\n",
                ),
                ("a.stone", "namespace ns\n\nroute r (Void, Void, Void)\n"),
            ],
            expect: &[("a.stone:3:7", "route `r` must set attribute `auth`")],
        },
        Case {
            name: "stone_cfg with something other than Route",
            files: &[
                (
                    "stone_cfg.stone",
                    "namespace stone_cfg\n\nstruct Route\n    auth String = \"user\"\nunion Extra\n    x\nroute r (Void, Void, Void)\n",
                ),
                ("a.stone", "namespace ns\n"),
            ],
            expect: &[
                ("stone_cfg.stone:5:7", "may define only the struct `Route`"),
                ("stone_cfg.stone:7:1", "may not define routes"),
            ],
        },
        Case {
            name: "duplicate route version",
            files: &[(
                "a.stone",
                "namespace ns\n\nroute r (Void, Void, Void)\nroute r:2 (Void, Void, Void)\nroute r:2 (Void, Void, Void)\n",
            )],
            expect: &[("a.stone:5:7", "route `r` version 2 is defined twice")],
        },
        Case {
            name: "deprecated by an unknown route",
            files: &[(
                "a.stone",
                "namespace ns\n\nroute r (Void, Void, Void) deprecated by q\nroute s (Void, Void, Void) deprecated by r:3\n",
            )],
            expect: &[
                ("a.stone:3:42", "route `q` version 1 does not exist"),
                ("a.stone:4:42", "route `r` version 3 does not exist"),
            ],
        },
        Case {
            name: "route with two types",
            files: &[("a.stone", "namespace ns\n\nroute r (Void, Void)\n")],
            expect: &[("a.stone:3:7", "a route needs three types")],
        },
        Case {
            name: "route with four types",
            files: &[(
                "a.stone",
                "namespace ns\n\nroute r (Void, Void, Void, Void)\n",
            )],
            expect: &[("a.stone:3:26", "expected `)`, found `,`")],
        },
        Case {
            name: "route version 0",
            files: &[("a.stone", "namespace ns\n\nroute r:0 (Void, Void, Void)\n")],
            expect: &[(
                "a.stone:3:9",
                "a route version must be an integer of at least 1",
            )],
        },
        Case {
            name: "route with an unknown type",
            files: &[("a.stone", "namespace ns\n\nroute r (Zz, Void, Void)\n")],
            expect: &[("a.stone:3:10", "unknown type `Zz`")],
        },
    ]);
}

#[test]
fn doc_reference_errors_point_at_the_docstring() {
    check_cases(&[
        Case {
            name: "unknown route",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    \"See :route:`nope`.\"\n    x Int32\n",
            )],
            expect: &[(
                "a.stone:4:5",
                "bad doc reference :route:`nope`: no route `nope` version 1",
            )],
        },
        Case {
            name: "unknown route version, in a multi-line route doc",
            files: &[(
                "a.stone",
                "namespace ns\n\nroute r:2 (Void, Void, Void)\n    \"First line,\n    see :route:`r:3`.\"\n",
            )],
            expect: &[("a.stone:4:5", "no route `r` version 3")],
        },
        Case {
            name: "unknown type, and an alias is not a type",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias A = String\nstruct S\n    \"See :type:`Nope` and :type:`A`.\"\n    x Int32\n",
            )],
            expect: &[
                ("a.stone:5:5", ":type:`Nope`: no struct or union `Nope`"),
                ("a.stone:5:5", ":type:`A`: an alias is not a type"),
            ],
        },
        Case {
            name: "unknown field of a field doc and a member doc",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    \"ok\"\n    x Int32\n        \"bad :field:`zz`\"\nunion U\n    y\n        \"bad :field:`T.q`\"\nstruct T\n    r Int32\n",
            )],
            expect: &[
                ("a.stone:6:9", "`S` has no field `zz`"),
                ("a.stone:9:9", "`T` has no field `q`"),
            ],
        },
        Case {
            name: "bare field reference in a route doc",
            files: &[(
                "a.stone",
                "namespace ns\n\nroute r (Void, Void, Void)\n    \"See :field:`x`.\"\n",
            )],
            expect: &[("a.stone:4:5", "a bare field reference is only allowed")],
        },
        Case {
            name: "bad link, bad val, unknown tag",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    \"See :link:`nospace`.\"\n    a Int32\n        \":val:`nope`\"\n    b Int32\n        \":foo:`bar`\"\n",
            )],
            expect: &[
                ("a.stone:4:5", "a link needs a title and a URL"),
                (
                    "a.stone:6:9",
                    "a value must be null, true, false, a number or a quoted string",
                ),
                ("a.stone:8:9", "unknown reference kind `foo`"),
            ],
        },
        Case {
            // The reference does not check alias docs; we do, as emitters link them too.
            name: "bad reference in an alias doc",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias A = String\n    \"See :type:`Nope`.\"\n",
            )],
            expect: &[("a.stone:4:5", "no struct or union `Nope`")],
        },
    ]);
}

#[test]
fn annotation_errors() {
    check_cases(&[
        Case {
            name: "deprecated and preview",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation Dep = Deprecated()\nannotation Prev = Preview()\nstruct S\n    a String\n        @Dep\n        @Prev\n",
            )],
            expect: &[("a.stone:8:10", "both deprecated and preview")],
        },
        Case {
            name: "two Omitted",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation I1 = Omitted(\"a\")\nannotation I2 = Omitted(\"b\")\nstruct S\n    a String\n        @I1\n        @I2\n",
            )],
            expect: &[("a.stone:8:10", "at most one Omitted")],
        },
        Case {
            name: "Deprecated on an alias",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation Dep = Deprecated()\nalias A = String\n    @Dep\n",
            )],
            expect: &[(
                "a.stone:5:6",
                "only redactors and custom annotations can be used on an alias",
            )],
        },
        Case {
            name: "redactor on a field whose type is an alias, a struct, or Void-like",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation Blot = RedactedBlot(\"x\")\nalias A = String\nstruct T\n    y Int32\nstruct S\n    a A\n        @Blot\n    t List(T)\n        @Blot\n",
            )],
            expect: &[
                ("a.stone:9:10", "redactors apply to primitive types"),
                ("a.stone:11:10", "redactors apply to primitive types"),
            ],
        },
        Case {
            name: "redacted alias of a redacted alias",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation Blot = RedactedBlot(\"x\")\nalias A = String\n    @Blot\nalias B = A\n    @Blot\n",
            )],
            expect: &[("a.stone:7:6", "redactors apply to primitive types")],
        },
        Case {
            name: "two redactors",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation Blot = RedactedBlot(\"x\")\nannotation Hash = RedactedHash(\"x\")\nstruct S\n    a String\n        @Blot\n        @Hash\n",
            )],
            expect: &[("a.stone:8:10", "only one redactor is allowed")],
        },
        Case {
            name: "unknown annotation, and a type used as one",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct T\n    x Int32\nstruct S\n    a String\n        @Nope\n    b String\n        @T\n",
            )],
            expect: &[
                ("a.stone:7:10", "unknown annotation `Nope`"),
                ("a.stone:9:10", "unknown annotation `T`"),
            ],
        },
        Case {
            name: "annotation from a namespace that is not imported",
            files: &[
                (
                    "c.stone",
                    "namespace common\n\nannotation Dep = Deprecated()\n",
                ),
                (
                    "a.stone",
                    "namespace ns\n\nstruct S\n    a String\n        @common.Dep\n",
                ),
            ],
            expect: &[(
                "a.stone:5:17",
                "namespace `common` is used but not imported",
            )],
        },
        Case {
            name: "bad annotation definitions",
            files: &[(
                "a.stone",
                "namespace ns\n\nannotation_type C\n    a Int32\n    b String?\nannotation X1 = Nope()\nannotation X2 = C(1, b=\"x\")\nannotation X3 = C()\nannotation X4 = C(\"str\")\nannotation X5 = C(zz=1)\nannotation X6 = Deprecated(\"x\")\nannotation X7 = Omitted()\nannotation X8 = C(1, \"x\", 3)\n",
            )],
            expect: &[
                ("a.stone:6:17", "unknown annotation class `Nope`"),
                ("a.stone:7:17", "all positional or all keyword"),
                ("a.stone:8:17", "missing argument `a` of `C`"),
                (
                    "a.stone:9:19",
                    "bad value for parameter `a`: string \"str\" is not a valid Int32",
                ),
                ("a.stone:10:19", "`C` has no parameter `zz`"),
                ("a.stone:11:17", "Deprecated() takes no arguments"),
                ("a.stone:12:17", "Omitted takes one string argument"),
                ("a.stone:13:17", "`C` takes 2 arguments"),
            ],
        },
        Case {
            name: "annotation type parameter that is not primitive, or has a bad default",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct T\n    x Int32\nannotation_type C\n    a T\n    b Int32 = \"x\"\n",
            )],
            expect: &[
                (
                    "a.stone:6:7",
                    "annotation type parameters must be primitive types",
                ),
                ("a.stone:7:15", "bad default for parameter `b`"),
            ],
        },
    ]);
}

#[test]
fn patch_errors() {
    check_cases(&[
        Case {
            name: "patch of an unknown type",
            files: &[("a.stone", "namespace ns\n\npatch struct S\n    b Int32\n")],
            expect: &[("a.stone:3:14", "patch of unknown struct `S`")],
        },
        Case {
            name: "patch of the wrong kind",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    x\npatch struct U\n    b Int32\n",
            )],
            expect: &[(
                "a.stone:5:14",
                "`U` is patched as a struct, but it is not one",
            )],
        },
        Case {
            name: "union patch must repeat union_closed",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion_closed U\n    x\npatch union U\n    y\n",
            )],
            expect: &[("a.stone:5:13", "must say `union_closed` like the original")],
        },
        Case {
            name: "patched field already exists",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    a String\npatch struct S\n    a Int32\n",
            )],
            expect: &[("a.stone:6:5", "field `a` is defined twice")],
        },
        Case {
            name: "new required field without example values, and a new label",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    a String\n    example default\n        a = \"x\"\npatch struct S\n    b Int32\n    example other\n        b = 1\n",
            )],
            expect: &[
                ("a.stone:5:5", "required field `b` is missing"),
                (
                    "a.stone:9:13",
                    "a patch can only add fields to an existing example",
                ),
            ],
        },
    ]);
}

#[test]
fn syntax_errors() {
    check_cases(&[
        Case {
            name: "indentation not a multiple of 4",
            files: &[("a.stone", "namespace ns\n\nstruct S\n   x Int32\n")],
            expect: &[
                (
                    "a.stone:4:4",
                    "indentation of 3 spaces is not a multiple of 4",
                ),
                ("a.stone:4:4", "expected an indented body"),
            ],
        },
        Case {
            name: "tab",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x Int32\n    \ty Int32\n",
            )],
            expect: &[("a.stone:5:5", "tab character")],
        },
        Case {
            // The reference's front end rejects `\r` too (its command line tool reads files
            // in text mode, which turns CRLF into LF before the lexer sees it).
            name: "CRLF line endings",
            files: &[("a.stone", "namespace ns\r\n\r\nstruct S\r\n    x Int32\r\n")],
            expect: &[
                ("a.stone:1:13", "carriage return"),
                ("a.stone:2:1", "carriage return"),
                ("a.stone:3:9", "carriage return"),
                ("a.stone:4:12", "carriage return"),
            ],
        },
        Case {
            name: "illegal characters",
            files: &[(
                "a.stone",
                "namespace ns\n\nunion U\n    other*\n    x Int32 $\n",
            )],
            expect: &[
                ("a.stone:4:5", "`other` is reserved"),
                ("a.stone:4:10", "illegal character '*'"),
                ("a.stone:5:13", "illegal character '$'"),
            ],
        },
        Case {
            name: "unterminated string",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    \"unterminated\n    x Int32\n",
            )],
            expect: &[("a.stone:4:5", "unterminated string")],
        },
        Case {
            name: "keyword used as a name",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    route Int32\n    error String\n    doc Boolean\n",
            )],
            expect: &[
                (
                    "a.stone:4:5",
                    "found keyword `route` (keywords cannot be used as names)",
                ),
                ("a.stone:5:5", "found keyword `error`"),
                ("a.stone:6:5", "found keyword `doc`"),
            ],
        },
        Case {
            name: "uppercase exponent",
            files: &[("a.stone", "namespace ns\n\nstruct S\n    x Float64 = 1E5\n")],
            expect: &[(
                "a.stone:4:18",
                "expected end of line, found identifier `E5`",
            )],
        },
        Case {
            name: "line continuation not one level deeper",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x String(\n    min_length=1)\n",
            )],
            expect: &[("a.stone:5:5", "must be indented one level deeper")],
        },
        Case {
            name: "unclosed parenthesis",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias A = String(\n    min_length=1\n",
            )],
            expect: &[
                ("a.stone:5:1", "unclosed `(` at end of file"),
                ("a.stone:5:1", "expected `,` or `)`"),
            ],
        },
        Case {
            name: "two levels of indentation at once",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x Int32\n            y Int32\n",
            )],
            expect: &[("a.stone:5:13", "expected the end of the field's block")],
        },
        Case {
            name: "struct without a body",
            files: &[("a.stone", "namespace ns\n\nstruct S\nstruct T\n    \"d\"\n")],
            expect: &[("a.stone:4:1", "expected an indented body")],
        },
        Case {
            name: "late docstring and field after an example",
            files: &[(
                "a.stone",
                "namespace ns\n\nstruct S\n    x Int32\n    \"late doc\"\n    example default\n        x = 1\n    y Int32\n",
            )],
            expect: &[
                ("a.stone:5:5", "a docstring must come first"),
                ("a.stone:8:5", "fields must come before examples"),
            ],
        },
        Case {
            name: "struct field without a type",
            files: &[("a.stone", "namespace ns\n\nstruct S\n    x\n")],
            expect: &[("a.stone:4:5", "struct field `x` needs a type")],
        },
        Case {
            name: "positional argument after a keyword argument",
            files: &[(
                "a.stone",
                "namespace ns\n\nalias A = String(min_length=1, 5)\n",
            )],
            expect: &[(
                "a.stone:3:32",
                "positional arguments must come before keyword arguments",
            )],
        },
    ]);
}

#[test]
fn several_errors_in_one_file_are_all_reported() {
    let src = "namespace ns\n\nstruct S\n    x Int32\n\nstruct T\n   y Int32\n\nstruct U\n    z Zz\n\nunion V\n    other\n\nstruct W\n    w Int32 = \"no\"\n\nroute r (Void, Void)\n";
    let errs = errors(&[("a.stone", src)]);
    let at: Vec<&str> = errs
        .iter()
        .map(|e| e.split(": error:").next().unwrap_or(""))
        .collect();
    assert_eq!(
        at,
        [
            "a.stone:7:4",
            "a.stone:7:4",
            "a.stone:10:7",
            "a.stone:13:5",
            "a.stone:16:15",
            "a.stone:18:7"
        ],
        "{}",
        errs.join("")
    );
    // The rendered form shows the line and a caret under the column.
    assert_eq!(
        errs[2],
        "a.stone:10:7: error: unknown type `Zz`\n   |\n10 |     z Zz\n   |       ^\n"
    );
    let whole = dbx_codegen::load_str(&[("a.stone", src)])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(whole.ends_with("\n6 errors"), "{whole}");
}

// ----- whole specs --------------------------------------------------------------------------

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

#[test]
fn official_spec_counts() {
    let dir = workspace_root().join("../shared/dropbox-api-spec");
    if !dir.is_dir() {
        println!(
            "skipped: the official spec is not at {} (it lives beside the repository)",
            dir.display()
        );
        return;
    }
    let api = match dbx_codegen::load_dir(&dir) {
        Ok(api) => api,
        Err(e) => panic!("the official spec must load:\n{e}"),
    };
    let s = Stats::of(&api);
    assert_eq!(
        (s.namespaces, s.routes, s.rpc, s.upload, s.download),
        (22, 276, 256, 11, 9)
    );
    assert_eq!(
        (s.structs, s.unions, s.closed_unions, s.aliases, s.examples),
        (1809, 591, 66, 72, 1904)
    );
    assert_eq!((s.host_api, s.host_content, s.host_notify), (259, 16, 1));
    // Every example renders.
    for ty in api.types() {
        for e in ty.examples() {
            if let Err(err) = example_json::render(&api, ty.key(), &e.label) {
                panic!("{}:{}: {err}", ty.key(), e.label);
            }
        }
    }
}

#[test]
fn our_specs_load_without_errors() {
    let dir = workspace_root().join("specs");
    if let Err(e) = dbx_codegen::load_dir(&dir) {
        panic!("specs/ must load:\n{e}");
    }
}

#[test]
fn a_spec_directory_is_read_recursively_without_hidden_directories() {
    let dir = std::env::temp_dir().join(format!("dbx-specs-tree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let vendored = dir.join("dropbox-api-spec");
    std::fs::create_dir_all(vendored.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("openapi")).unwrap();
    std::fs::write(
        vendored.join("files.stone"),
        "namespace files\n\nstruct A\n    n UInt32\n",
    )
    .unwrap();
    std::fs::write(dir.join("openapi/v1.json"), "{}").unwrap();
    // A stray file under .git would not parse; it must not be read.
    std::fs::write(vendored.join(".git/broken.stone"), "namespace ???\n").unwrap();
    let sources = dbx_codegen::read_dir(&dir).unwrap();
    assert_eq!(sources.files().count(), 1);
    let api = dbx_codegen::load_dir(&dir).unwrap();
    assert!(api.namespaces.contains_key("files"));
    let empty = dir.join("openapi");
    let err = dbx_codegen::load_dir(&empty).unwrap_err().to_string();
    assert!(err.ends_with("no .stone files found"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
