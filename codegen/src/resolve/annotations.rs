//! Annotations: `annotation X = Class(args)` definitions, `annotation_type` declarations,
//! and `@X` uses on fields, union members and aliases.

use super::{Resolver, unalias};
use crate::ir::{Annotations, DataType, Redaction, UserType};
use std::collections::BTreeMap;

use crate::stone::ast::{AnnotationRef, ArgValue, DefaultValue, LiteralKind};

/// The resolved type of every annotation-type parameter, by (namespace, type, parameter).
type ParamTypes = BTreeMap<(String, String, String), DataType>;

/// What an annotation definition instantiates.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum AnnotationClass {
    Deprecated,
    Preview,
    Omitted(String),
    RedactedBlot(Vec<String>),
    RedactedHash(Vec<String>),
    Custom(String),
}

impl Resolver<'_> {
    /// Resolves every `annotation` definition to its class, checking arguments.
    pub(super) fn resolve_annotation_defs(&mut self) {
        // Parameters of annotation types must be primitives (or nullable primitives).
        let params: Vec<_> = self
            .envs
            .iter()
            .flat_map(|(ns, env)| {
                env.annotation_types.iter().flat_map(move |(t, def)| {
                    def.params.iter().map(move |p| (ns.clone(), t.clone(), p))
                })
            })
            .collect();
        let mut param_types = BTreeMap::new();
        for (ns, t, p) in params {
            let Some(tr) = &p.type_ref else { continue };
            if let Some(ty) = self.resolve_type_ref(&ns, tr) {
                let inner = match &ty {
                    DataType::Nullable(i) => i.as_ref(),
                    other => other,
                };
                if matches!(
                    unalias(&self.types, inner),
                    DataType::Named(_)
                        | DataType::List { .. }
                        | DataType::Map { .. }
                        | DataType::Void
                ) {
                    self.diags.error(
                        tr.span,
                        "annotation type parameters must be primitive types",
                    );
                    continue;
                }
                if let Some(DefaultValue::Literal(lit)) = &p.default
                    && let Err(msg) = self.check_literal(&ty, &lit.kind)
                {
                    self.diags.error(
                        lit.span,
                        format!("bad default for parameter `{}`: {msg}", p.name.name),
                    );
                }
                param_types.insert((ns, t, p.name.name.clone()), ty);
            }
        }
        let defs: Vec<(String, String, &crate::stone::ast::AnnotationDef)> = self
            .envs
            .iter()
            .flat_map(|(ns, env)| {
                env.annotations
                    .iter()
                    .map(move |(name, def)| (ns.clone(), name.clone(), *def))
            })
            .collect();
        for (ns, name, def) in defs {
            let class = self.annotation_class(&ns, def, &param_types);
            self.annotation_classes.insert((ns, name), class);
        }
    }

    fn annotation_class(
        &mut self,
        ns: &str,
        def: &crate::stone::ast::AnnotationDef,
        param_types: &ParamTypes,
    ) -> Option<AnnotationClass> {
        let strings = |args: &crate::stone::ast::Args| -> Option<Vec<String>> {
            args.positional
                .iter()
                .chain(args.keyword.iter().map(|(_, v)| v))
                .map(|a| match a {
                    ArgValue::Literal(l) => match &l.kind {
                        LiteralKind::Str(s) => Some(s.clone()),
                        _ => None,
                    },
                    ArgValue::Type(_) => None,
                })
                .collect()
        };
        let n_args = def.args.positional.len() + def.args.keyword.len();
        if let Some(qual) = &def.class_namespace {
            return self.custom_annotation(ns, Some(&qual.name), def, param_types);
        }
        match def.class.name.as_str() {
            "Deprecated" | "Preview" => {
                if n_args > 0 {
                    self.diags.error(
                        def.class.span,
                        format!("{}() takes no arguments", def.class.name),
                    );
                    return None;
                }
                Some(if def.class.name == "Deprecated" {
                    AnnotationClass::Deprecated
                } else {
                    AnnotationClass::Preview
                })
            }
            "Omitted" => match strings(&def.args).as_deref() {
                Some([caller]) => Some(AnnotationClass::Omitted(caller.clone())),
                _ => {
                    self.diags.error(
                        def.class.span,
                        "Omitted takes one string argument: the permission of callers who see the field",
                    );
                    None
                }
            },
            "RedactedBlot" | "RedactedHash" => match strings(&def.args) {
                Some(patterns) if patterns.len() <= 1 => {
                    Some(if def.class.name == "RedactedBlot" {
                        AnnotationClass::RedactedBlot(patterns)
                    } else {
                        AnnotationClass::RedactedHash(patterns)
                    })
                }
                _ => {
                    self.diags.error(
                        def.class.span,
                        format!(
                            "{} takes at most one string argument (a regex)",
                            def.class.name
                        ),
                    );
                    None
                }
            },
            _ => self.custom_annotation(ns, None, def, param_types),
        }
    }

    fn custom_annotation(
        &mut self,
        ns: &str,
        qual: Option<&str>,
        def: &crate::stone::ast::AnnotationDef,
        param_types: &ParamTypes,
    ) -> Option<AnnotationClass> {
        let type_ns = qual.unwrap_or(ns).to_string();
        if type_ns != ns
            && !self
                .envs
                .get(ns)
                .is_some_and(|e| e.imports.contains_key(&type_ns))
        {
            self.diags.error(
                def.class.span,
                format!("namespace `{type_ns}` is used but not imported by `{ns}`"),
            );
            return None;
        }
        let Some(at) = self
            .envs
            .get(&type_ns)
            .and_then(|e| e.annotation_types.get(&def.class.name))
            .copied()
        else {
            self.diags.error(
                def.class.span,
                format!(
                    "unknown annotation class `{}` (built-in classes: Deprecated, Preview, Omitted, RedactedBlot, RedactedHash)",
                    def.class.name
                ),
            );
            return None;
        };
        if !def.args.positional.is_empty() && !def.args.keyword.is_empty() {
            self.diags.error(
                def.class.span,
                "annotation arguments must be all positional or all keyword, not mixed",
            );
            return None;
        }
        if def.args.positional.len() > at.params.len() {
            self.diags.error(
                def.class.span,
                format!("`{}` takes {} arguments", at.name.name, at.params.len()),
            );
            return None;
        }
        for (key, _) in &def.args.keyword {
            if !at.params.iter().any(|p| p.name.name == key.name) {
                self.diags.error(
                    key.span,
                    format!("`{}` has no parameter `{}`", at.name.name, key.name),
                );
                return None;
            }
        }
        // Every argument must fit its parameter's type.
        let given = at.params.iter().zip(def.args.positional.iter()).chain(
            def.args.keyword.iter().filter_map(|(k, v)| {
                at.params
                    .iter()
                    .find(|p| p.name.name == k.name)
                    .map(|p| (p, v))
            }),
        );
        let mut bad = Vec::new();
        for (p, value) in given {
            let key = (type_ns.clone(), at.name.name.clone(), p.name.name.clone());
            let Some(ty) = param_types.get(&key) else {
                continue;
            };
            let checked = match value {
                ArgValue::Literal(l) => self.check_literal(ty, &l.kind).map_err(|m| (l.span, m)),
                ArgValue::Type(t) => Err((t.span, format!("`{}` is not a value", t.name.name))),
            };
            if let Err((span, msg)) = checked {
                bad.push((
                    span,
                    format!("bad value for parameter `{}`: {msg}", p.name.name),
                ));
            }
        }
        if !bad.is_empty() {
            for (span, msg) in bad {
                self.diags.error(span, msg);
            }
            return None;
        }
        // Parameters without a default must be given (nullable ones default to null).
        for (i, p) in at.params.iter().enumerate() {
            let given = i < def.args.positional.len()
                || def.args.keyword.iter().any(|(k, _)| k.name == p.name.name);
            let optional = p.default.is_some() || p.type_ref.as_ref().is_some_and(|t| t.nullable);
            if !given && !optional {
                self.diags.error(
                    def.class.span,
                    format!("missing argument `{}` of `{}`", p.name.name, at.name.name),
                );
                return None;
            }
        }
        Some(AnnotationClass::Custom(format!(
            "{type_ns}.{}",
            at.name.name
        )))
    }

    /// Resolves the `@...` uses on one field, member or alias.
    pub(super) fn resolve_annotations(
        &mut self,
        ns: &str,
        refs: &[AnnotationRef],
        on_alias: bool,
        ty: &DataType,
    ) -> Annotations {
        let mut out = Annotations::default();
        for r in refs {
            let target_ns = r
                .namespace
                .as_ref()
                .map_or(ns, |q| q.name.as_str())
                .to_string();
            if target_ns != ns
                && !self
                    .envs
                    .get(ns)
                    .is_some_and(|e| e.imports.contains_key(&target_ns))
            {
                self.diags.error(
                    r.name.span,
                    format!("namespace `{target_ns}` is used but not imported by `{ns}`"),
                );
                continue;
            }
            let Some(class) = self
                .annotation_classes
                .get(&(target_ns.clone(), r.name.name.clone()))
                .cloned()
            else {
                self.diags
                    .error(r.name.span, format!("unknown annotation `{}`", r.name.name));
                continue;
            };
            let Some(class) = class else { continue };
            match class {
                AnnotationClass::Deprecated | AnnotationClass::Preview if on_alias => {
                    self.diags.error(
                        r.name.span,
                        "only redactors and custom annotations can be used on an alias",
                    );
                }
                AnnotationClass::Deprecated => {
                    if out.preview {
                        self.diags
                            .error(r.name.span, "a field cannot be both deprecated and preview");
                    }
                    out.deprecated = true;
                }
                AnnotationClass::Preview => {
                    if out.deprecated {
                        self.diags
                            .error(r.name.span, "a field cannot be both deprecated and preview");
                    }
                    out.preview = true;
                }
                AnnotationClass::Omitted(caller) => {
                    if on_alias {
                        self.diags.error(
                            r.name.span,
                            "only redactors and custom annotations can be used on an alias",
                        );
                    } else if out.omitted.is_some() {
                        self.diags.error(
                            r.name.span,
                            "a field can have at most one Omitted annotation",
                        );
                    } else {
                        out.omitted = Some(caller);
                    }
                }
                AnnotationClass::RedactedBlot(p) => {
                    // Whether the type can be redacted is checked once all types are built.
                    self.redactor_sites
                        .push((r.name.span, ty.clone(), on_alias));
                    if out.redaction.is_some() {
                        self.diags
                            .error(r.name.span, "only one redactor is allowed");
                    }
                    out.redaction = Some(Redaction::Blot(p));
                }
                AnnotationClass::RedactedHash(p) => {
                    self.redactor_sites
                        .push((r.name.span, ty.clone(), on_alias));
                    if out.redaction.is_some() {
                        self.diags
                            .error(r.name.span, "only one redactor is allowed");
                    }
                    out.redaction = Some(Redaction::Hash(p));
                }
                AnnotationClass::Custom(name) => out.custom.push(name),
            }
        }
        out
    }

    /// Checks the redactor uses recorded while annotations were resolved.
    pub(super) fn check_redactors(&mut self) {
        let sites = std::mem::take(&mut self.redactor_sites);
        for (span, ty, on_alias) in sites {
            if !self.redactable(&ty, on_alias) {
                self.diags.error(
                    span,
                    "redactors apply to primitive types (or lists and maps of them) written in the field or alias definition, not to user-defined types, aliases of redacted aliases, or Void",
                );
            }
        }
    }

    /// Whether a redactor may be put on a field (or alias definition) of type `ty`: the
    /// reference allows any primitive, inside lists, maps and nullables, but not a user-defined
    /// type or `Void`; a field may not name an alias, and an alias may not point to an alias
    /// that already has a redactor.
    fn redactable(&self, ty: &DataType, on_alias: bool) -> bool {
        let mut ty = ty;
        for _ in 0..64 {
            match ty {
                DataType::Nullable(i) => ty = i,
                DataType::List { item, .. } => ty = item,
                DataType::Map { value, .. } => ty = value,
                DataType::Named(_) if !on_alias => return false,
                DataType::Named(k) => match self.types.get(k) {
                    Some(UserType::Alias(a)) if a.annotations.redaction.is_none() => ty = &a.ty,
                    _ => return false,
                },
                DataType::Void => return false,
                _ => return true,
            }
        }
        false
    }
}
