//! Routes: signatures, versions, deprecation, and `attrs` typed and completed against the
//! `Route` struct of `stone_cfg`.

use std::collections::{BTreeMap, BTreeSet};

use super::{Resolver, STONE_CFG};
use crate::ir::{self, DataType, TypeKey, UserType, Value};
use crate::stone::ast::AttrValue;

impl<'a> Resolver<'a> {
    /// Takes the `Route` struct out of `stone_cfg` as the attribute schema.
    pub(super) fn build_route_schema(&mut self) {
        let Some(env) = self.envs.get(STONE_CFG) else {
            return;
        };
        let mut errors = Vec::new();
        for r in &env.routes {
            errors.push((r.span, "`stone_cfg` may not define routes".to_string()));
        }
        for (name, def) in &env.defs {
            if name != "Route" {
                errors.push((
                    def.name().span,
                    "`stone_cfg` may define only the struct `Route`".to_string(),
                ));
            }
        }
        let key = TypeKey::new(STONE_CFG, "Route");
        match self.types.get(&key) {
            Some(UserType::Struct(s)) => {
                self.route_schema = Some(ir::RouteSchema {
                    fields: s.fields.clone(),
                });
            }
            Some(other) => errors.push((
                match other {
                    UserType::Union(u) => u.span,
                    UserType::Alias(a) => a.span,
                    UserType::Struct(s) => s.span,
                },
                "`Route` in `stone_cfg` must be a struct".to_string(),
            )),
            None => {
                if let Some(span) = env.span {
                    errors.push((
                        span,
                        "`stone_cfg` must define the struct `Route`".to_string(),
                    ));
                }
            }
        }
        for (span, msg) in errors {
            self.diags.error(span, msg);
        }
        // The schema's types are not API types.
        self.type_order.retain(|k| k.namespace != STONE_CFG);
        self.types.retain(|k, _| k.namespace != STONE_CFG);
    }

    /// Builds every route of every namespace.
    pub(super) fn build_routes(&mut self) {
        let namespaces: Vec<String> = self
            .envs
            .keys()
            .filter(|n| n.as_str() != STONE_CFG)
            .cloned()
            .collect();
        for ns in namespaces {
            let defs = self.envs[&ns].routes.clone();
            let mut routes: Vec<ir::Route> = Vec::new();
            let mut seen = BTreeSet::new();
            for &def in &defs {
                if !seen.insert((def.name.name.clone(), def.version)) {
                    self.diags.error(
                        def.name.span,
                        format!(
                            "route `{}` version {} is defined twice",
                            def.name.name, def.version
                        ),
                    );
                    continue;
                }
                let arg = self.resolve_type_ref(&ns, &def.arg);
                let result = self.resolve_type_ref(&ns, &def.result);
                let error = match &def.error {
                    Some(e) => self.resolve_type_ref(&ns, e),
                    None => {
                        self.diags.error(
                            def.name.span,
                            "a route needs three types: (argument, result, error); use Void for none",
                        );
                        None
                    }
                };
                let attrs = self.route_attrs(def);
                let typed = attrs.as_ref().and_then(|a| self.typed_attrs(def, a));
                let (Some(arg), Some(result), Some(error), Some(attrs), Some(typed)) =
                    (arg, result, error, attrs, typed)
                else {
                    continue;
                };
                routes.push(ir::Route {
                    namespace: ns.clone(),
                    name: def.name.name.clone(),
                    version: def.version,
                    arg,
                    result,
                    error,
                    deprecated: def
                        .deprecated
                        .as_ref()
                        .map(|d| d.by.as_ref().map(|(n, v)| (n.name.clone(), *v))),
                    doc: self.doc_of(def.name.span, &def.doc),
                    host: typed.host,
                    style: typed.style,
                    auth: typed.auth,
                    scope: typed.scope,
                    is_preview: typed.is_preview,
                    attrs,
                    span: def.name.span,
                });
            }
            // `deprecated by` must name an existing route.
            for def in &defs {
                if let Some(d) = &def.deprecated
                    && let Some((by, version)) = &d.by
                    && !seen.contains(&(by.name.clone(), *version))
                {
                    self.diags.error(
                        by.span,
                        format!("route `{}` version {version} does not exist", by.name),
                    );
                }
            }
            self.routes.insert(ns, routes);
        }
    }

    /// Reads the attributes the toolkit acts on into their IR types. A value outside the
    /// known set is an error at the value (or at the route, when the value is the schema's
    /// default), so that no later stage meets an unknown host, style or auth.
    fn typed_attrs(
        &mut self,
        def: &crate::stone::ast::RouteDef,
        attrs: &BTreeMap<String, Value>,
    ) -> Option<TypedAttrs> {
        let span_of = |key: &str| {
            def.attrs
                .iter()
                .find(|(k, _)| k.name == key)
                .map(|(_, v)| match v {
                    AttrValue::Literal(l) => l.span,
                    AttrValue::Tag(t) => t.span,
                })
                .unwrap_or(def.name.span)
        };
        let text = |key: &str| match attrs.get(key) {
            Some(Value::String(s)) | Some(Value::Tag(s)) => Some(s.as_str()),
            _ => None,
        };
        let host = match text("host") {
            None => Some(ir::Host::default()),
            Some(v) => ir::Host::parse(v).or_else(|| {
                self.diags.error(
                    span_of("host"),
                    format!("unknown route host `{v}` (expected api, content or notify)"),
                );
                None
            }),
        };
        let style = match text("style") {
            None => Some(ir::Style::default()),
            Some(v) => ir::Style::parse(v).or_else(|| {
                self.diags.error(
                    span_of("style"),
                    format!("unknown route style `{v}` (expected rpc, upload or download)"),
                );
                None
            }),
        };
        let auth = match text("auth") {
            None => Some(ir::Auth::default()),
            Some(v) => ir::Auth::parse(v).or_else(|| {
                self.diags.error(
                    span_of("auth"),
                    format!(
                        "unsupported route auth `{v}` (expected user, team, app, noauth, \
                         `app, user` or `app, team`)"
                    ),
                );
                None
            }),
        };
        let is_preview = matches!(attrs.get("is_preview"), Some(Value::Bool(true)));
        let scope = text("scope").map(str::to_string);
        Some(TypedAttrs {
            host: host?,
            style: style?,
            auth: auth?,
            scope,
            is_preview,
        })
    }

    fn route_attrs(
        &mut self,
        def: &crate::stone::ast::RouteDef,
    ) -> Option<BTreeMap<String, Value>> {
        let Some(schema) = self.route_schema.clone() else {
            if let Some((key, _)) = def.attrs.first() {
                self.diags.error(
                    key.span,
                    "route attributes need a `stone_cfg` namespace with a `Route` struct",
                );
                return None;
            }
            return Some(BTreeMap::new());
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (key, value) in &def.attrs {
            let Some(field) = schema.fields.iter().find(|f| f.name == key.name) else {
                self.diags.error(
                    key.span,
                    format!(
                        "unknown route attribute `{}` (not a field of stone_cfg.Route)",
                        key.name
                    ),
                );
                ok = false;
                continue;
            };
            if out.contains_key(&key.name) {
                self.diags
                    .error(key.span, format!("attribute `{}` is set twice", key.name));
                ok = false;
                continue;
            }
            let checked = match value {
                AttrValue::Literal(lit) => self.check_literal(&field.ty, &lit.kind),
                AttrValue::Tag(tag) => self.void_tag(&field.ty, &tag.name),
            };
            match checked {
                Ok(v) => {
                    out.insert(key.name.clone(), v);
                }
                Err(msg) => {
                    let span = match value {
                        AttrValue::Literal(l) => l.span,
                        AttrValue::Tag(t) => t.span,
                    };
                    self.diags.error(
                        span,
                        format!("bad value for attribute `{}`: {msg}", key.name),
                    );
                    ok = false;
                }
            }
        }
        for field in &schema.fields {
            if out.contains_key(&field.name) {
                continue;
            }
            if let Some(d) = &field.default {
                out.insert(field.name.clone(), d.clone());
            } else if matches!(field.ty, DataType::Nullable(_)) || self.is_nullable_alias(&field.ty)
            {
                out.insert(field.name.clone(), Value::Null);
            } else {
                self.diags.error(
                    def.name.span,
                    format!(
                        "route `{}` must set attribute `{}`",
                        def.name.name, field.name
                    ),
                );
                ok = false;
            }
        }
        ok.then_some(out)
    }

    fn is_nullable_alias(&self, ty: &DataType) -> bool {
        matches!(super::unalias(&self.types, ty), DataType::Nullable(_))
    }
}

/// The route attributes with IR types.
struct TypedAttrs {
    host: ir::Host,
    style: ir::Style,
    auth: ir::Auth,
    scope: Option<String>,
    is_preview: bool,
}
