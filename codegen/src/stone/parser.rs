//! Recursive-descent parser from Stone tokens to the [`ast`](super::ast).
//!
//! On a syntax error the parser records a diagnostic and skips to the next member of the
//! enclosing block (or the next top-level item), so that one run reports every error of a file.

use super::ast::*;
use super::lexer::{Keyword, Token, TokenKind};
use crate::diagnostics::Diagnostics;
use crate::source::Span;

/// Marker for "a diagnostic was recorded; recover".
struct Fail;

type PResult<T> = Result<T, Fail>;

/// The deepest nesting of type arguments (`List(List(...))`) or example lists and maps the
/// parser accepts; the official spec needs 3. The limit keeps recursion (here and in the
/// resolver) far from the end of the stack whatever the input.
const MAX_NESTING: usize = 64;

/// Parses the tokens of one file. Problems are added to `diags`.
pub fn parse(tokens: &[Token], diags: &mut Diagnostics) -> SpecFile {
    let mut p = Parser {
        tokens,
        pos: 0,
        depth: 0,
        nesting: 0,
        diags,
    };
    p.spec()
}

struct Parser<'t, 'd> {
    tokens: &'t [Token],
    pos: usize,
    /// INDENT tokens consumed minus DEDENT tokens consumed.
    depth: usize,
    /// How deeply type arguments, example lists and maps are nested right now.
    nesting: usize,
    diags: &'d mut Diagnostics,
}

impl Parser<'_, '_> {
    // ----- token access -------------------------------------------------------------------

    fn peek(&self) -> &TokenKind {
        self.peek_at(0)
    }

    fn peek_at(&self, n: usize) -> &TokenKind {
        let i = (self.pos + n).min(self.tokens.len().saturating_sub(1));
        self.tokens.get(i).map_or(&TokenKind::Eof, |t| &t.kind)
    }

    fn span(&self) -> Span {
        let i = self.pos.min(self.tokens.len().saturating_sub(1));
        self.tokens.get(i).map_or(Span::BUILTIN, |t| t.span)
    }

    fn bump(&mut self) -> Option<&Token> {
        let tok = self.tokens.get(self.pos)?;
        match tok.kind {
            TokenKind::Indent => self.depth += 1,
            TokenKind::Dedent => self.depth = self.depth.saturating_sub(1),
            TokenKind::Eof => return Some(tok),
            _ => {}
        }
        self.pos += 1;
        Some(tok)
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.peek() == kind
    }

    fn at_kw(&self, kw: Keyword) -> bool {
        self.peek() == &TokenKind::Keyword(kw)
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    fn fail<T>(&mut self, what: &str) -> PResult<T> {
        let found = self.peek().describe();
        let span = self.span();
        self.diags
            .error(span, format!("expected {what}, found {found}"));
        Err(Fail)
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> PResult<()> {
        if self.eat(kind) {
            Ok(())
        } else {
            self.fail(what)
        }
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        match self.peek().clone() {
            TokenKind::Ident(name) => {
                let span = self.span();
                self.bump();
                Ok(Ident { name, span })
            }
            TokenKind::Keyword(k) => {
                let span = self.span();
                self.diags.error(
                    span,
                    format!(
                        "expected {what}, found keyword `{}` (keywords cannot be used as names)",
                        k.as_str()
                    ),
                );
                Err(Fail)
            }
            _ => self.fail(what),
        }
    }

    /// One or more NEWLINE tokens.
    fn newline(&mut self) -> PResult<()> {
        if !self.eat(&TokenKind::Newline) {
            return self.fail("end of line");
        }
        while self.eat(&TokenKind::Newline) {}
        Ok(())
    }

    fn skip_newlines(&mut self) {
        while self.eat(&TokenKind::Newline) {}
    }

    /// Skips tokens until the start of the next line at block depth `depth` (or until the
    /// block at that depth ends).
    fn recover(&mut self, depth: usize) {
        loop {
            match self.peek() {
                TokenKind::Eof => return,
                TokenKind::Newline => {
                    self.bump();
                    // Consume layout tokens that follow the line break.
                    while matches!(self.peek(), TokenKind::Dedent | TokenKind::Indent) {
                        if self.at(&TokenKind::Dedent) && self.depth <= depth {
                            return;
                        }
                        self.bump();
                    }
                    if self.depth <= depth {
                        return;
                    }
                }
                TokenKind::Dedent if self.depth <= depth => return,
                _ => {
                    self.bump();
                }
            }
        }
    }

    /// Runs `f` one nesting level deeper, or reports that the input nests too deeply.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.nesting >= MAX_NESTING {
            let span = self.span();
            self.diags.error(
                span,
                format!("nesting is too deep (more than {MAX_NESTING} levels)"),
            );
            return Err(Fail);
        }
        self.nesting += 1;
        let result = f(self);
        self.nesting -= 1;
        result
    }

    // ----- file -----------------------------------------------------------------------------

    fn spec(&mut self) -> SpecFile {
        let mut items = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                TokenKind::Eof => break,
                TokenKind::Dedent => {
                    self.bump();
                    continue;
                }
                _ => {}
            }
            match self.item() {
                Ok(item) => items.push(item),
                Err(Fail) => self.recover(0),
            }
        }
        SpecFile { items }
    }

    fn item(&mut self) -> PResult<Item> {
        let span = self.span();
        match self.peek().clone() {
            TokenKind::Keyword(Keyword::Namespace) => {
                self.bump();
                let name = self.ident("a namespace name")?;
                self.newline()?;
                let mut doc = None;
                if self.eat(&TokenKind::Indent) {
                    doc = Some(self.doc()?);
                    self.block_end()?;
                }
                Ok(Item::Namespace(name, doc))
            }
            TokenKind::Keyword(Keyword::Import) => {
                self.bump();
                let name = self.ident("a namespace name")?;
                self.newline()?;
                Ok(Item::Import(name))
            }
            TokenKind::Keyword(Keyword::Alias) => self.alias(span).map(Item::Alias),
            TokenKind::Keyword(Keyword::Struct) => {
                self.bump();
                let name = self.ident("a struct name")?;
                let body = self.struct_body(false)?;
                Ok(Item::Struct(StructDef { name, body, span }))
            }
            TokenKind::Keyword(k @ (Keyword::Union | Keyword::UnionClosed)) => {
                self.bump();
                let name = self.ident("a union name")?;
                let body = self.union_body(k == Keyword::UnionClosed, false)?;
                Ok(Item::Union(UnionDef { name, body, span }))
            }
            TokenKind::Keyword(Keyword::Patch) => self.patch(span),
            TokenKind::Keyword(Keyword::Route) => self.route(span).map(Item::Route),
            TokenKind::Keyword(Keyword::Annotation) => self.annotation(span).map(Item::Annotation),
            TokenKind::Keyword(Keyword::AnnotationType) => {
                self.annotation_type(span).map(Item::AnnotationType)
            }
            TokenKind::Indent => {
                self.diags.error(span, "unexpected indentation");
                Err(Fail)
            }
            _ => self.fail(
                "a definition (`namespace`, `import`, `alias`, `struct`, `union`, `route`, `annotation` or `patch`)",
            ),
        }
    }

    /// Expects the DEDENT that closes a block (blank lines before it are fine).
    fn block_end(&mut self) -> PResult<()> {
        self.skip_newlines();
        if self.eat(&TokenKind::Dedent) {
            Ok(())
        } else {
            self.fail("the end of the indented block")
        }
    }

    fn doc(&mut self) -> PResult<Doc> {
        let span = self.span();
        let TokenKind::Str(text) = self.peek().clone() else {
            return self.fail("a docstring");
        };
        self.bump();
        self.newline()?;
        // The parser removes trailing whitespace from each line of a docstring.
        let text = text
            .split('\n')
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
        Ok(Doc { text, span })
    }

    fn opt_doc(&mut self) -> PResult<Option<Doc>> {
        if matches!(self.peek(), TokenKind::Str(_)) {
            self.doc().map(Some)
        } else {
            Ok(None)
        }
    }

    // ----- types ----------------------------------------------------------------------------

    fn type_ref(&mut self) -> PResult<TypeRef> {
        let span = self.span();
        let first = self.ident("a type name")?;
        let (namespace, name) = if self.eat(&TokenKind::Dot) {
            (Some(first), self.ident("a type name after `.`")?)
        } else {
            (None, first)
        };
        let args = if self.at(&TokenKind::LParen) {
            Some(self.args()?)
        } else {
            None
        };
        let nullable = self.eat(&TokenKind::Question);
        Ok(TypeRef {
            namespace,
            name,
            args,
            nullable,
            span,
        })
    }

    fn args(&mut self) -> PResult<Args> {
        self.nested(Self::args_inner)
    }

    fn args_inner(&mut self) -> PResult<Args> {
        self.expect(&TokenKind::LParen, "`(`")?;
        let mut args = Args::default();
        if self.eat(&TokenKind::RParen) {
            return Ok(args);
        }
        loop {
            let keyword =
                matches!(self.peek(), TokenKind::Ident(_)) && self.peek_at(1) == &TokenKind::Equals;
            if keyword {
                let key = self.ident("an argument name")?;
                self.bump(); // `=`
                let value = self.arg_value()?;
                args.keyword.push((key, value));
            } else {
                let span = self.span();
                let value = self.arg_value()?;
                if !args.keyword.is_empty() {
                    self.diags.error(
                        span,
                        "positional arguments must come before keyword arguments",
                    );
                    return Err(Fail);
                }
                args.positional.push(value);
            }
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            self.expect(&TokenKind::RParen, "`,` or `)`")?;
            return Ok(args);
        }
    }

    fn arg_value(&mut self) -> PResult<ArgValue> {
        if let Some(lit) = self.opt_literal() {
            return Ok(ArgValue::Literal(lit));
        }
        if matches!(self.peek(), TokenKind::Ident(_)) {
            return self.type_ref().map(ArgValue::Type);
        }
        self.fail("a literal or a type")
    }

    fn opt_literal(&mut self) -> Option<Literal> {
        let span = self.span();
        let kind = match self.peek() {
            TokenKind::Int(i) => LiteralKind::Int(*i),
            TokenKind::Float(f) => LiteralKind::Float(*f),
            TokenKind::Str(s) => LiteralKind::Str(s.clone()),
            TokenKind::Bool(b) => LiteralKind::Bool(*b),
            TokenKind::Null => LiteralKind::Null,
            _ => return None,
        };
        self.bump();
        Some(Literal { kind, span })
    }

    // ----- definitions ----------------------------------------------------------------------

    fn alias(&mut self, span: Span) -> PResult<AliasDef> {
        self.bump();
        let name = self.ident("an alias name")?;
        self.expect(&TokenKind::Equals, "`=`")?;
        let target = self.type_ref()?;
        self.newline()?;
        let mut annotations = Vec::new();
        let mut doc = None;
        if self.eat(&TokenKind::Indent) {
            annotations = self.annotation_refs()?;
            doc = self.opt_doc()?;
            self.block_end()?;
        }
        Ok(AliasDef {
            name,
            target,
            annotations,
            doc,
            span,
        })
    }

    fn annotation_refs(&mut self) -> PResult<Vec<AnnotationRef>> {
        let mut refs = Vec::new();
        while self.eat(&TokenKind::At) {
            let first = self.ident("an annotation name")?;
            let r = if self.eat(&TokenKind::Dot) {
                AnnotationRef {
                    namespace: Some(first),
                    name: self.ident("an annotation name")?,
                }
            } else {
                AnnotationRef {
                    namespace: None,
                    name: first,
                }
            };
            refs.push(r);
            self.newline()?;
        }
        Ok(refs)
    }

    /// Parses `[extends T] NL INDENT [doc] [subtypes] {field} {example} DEDENT` after
    /// `struct Name` (or after `struct` for an anonymous struct).
    fn struct_body(&mut self, patch: bool) -> PResult<StructBody> {
        let extends = if !patch && self.eat(&TokenKind::Keyword(Keyword::Extends)) {
            Some(self.type_ref()?)
        } else {
            None
        };
        self.newline()?;
        if !self.eat(&TokenKind::Indent) {
            return self.fail("an indented body (a type needs at least a docstring)");
        }
        let body_depth = self.depth;
        let doc = if patch { None } else { self.opt_doc()? };
        let mut subtypes = None;
        if !patch && (self.at_kw(Keyword::Union) || self.at_kw(Keyword::UnionClosed)) {
            subtypes = Some(self.subtypes()?);
        }
        let (fields, examples) = self.members_and_examples(body_depth, false)?;
        Ok(StructBody {
            extends,
            doc,
            subtypes,
            fields,
            examples,
        })
    }

    fn union_body(&mut self, closed: bool, patch: bool) -> PResult<UnionBody> {
        let extends = if !patch && self.eat(&TokenKind::Keyword(Keyword::Extends)) {
            Some(self.type_ref()?)
        } else {
            None
        };
        self.newline()?;
        if !self.eat(&TokenKind::Indent) {
            return self.fail("an indented body (a type needs at least a docstring)");
        }
        let body_depth = self.depth;
        let doc = if patch { None } else { self.opt_doc()? };
        let (members, examples) = self.members_and_examples(body_depth, true)?;
        Ok(UnionBody {
            closed,
            extends,
            doc,
            members,
            examples,
        })
    }

    fn subtypes(&mut self) -> PResult<Subtypes> {
        let span = self.span();
        let closed = self.at_kw(Keyword::UnionClosed);
        self.bump();
        self.newline()?;
        if !self.eat(&TokenKind::Indent) {
            return self.fail("an indented list of `tag Subtype` lines");
        }
        let mut entries = Vec::new();
        loop {
            self.skip_newlines();
            if self.eat(&TokenKind::Dedent) {
                break;
            }
            let tag = self.ident("a subtype tag")?;
            let ty = self.type_ref()?;
            self.newline()?;
            entries.push((tag, ty));
        }
        Ok(Subtypes {
            closed,
            entries,
            span,
        })
    }

    /// Fields (or union members) followed by examples, up to the DEDENT closing the body
    /// at `body_depth`. A bad field is reported and skipped.
    fn members_and_examples(
        &mut self,
        body_depth: usize,
        union: bool,
    ) -> PResult<(Vec<Field>, Vec<Example>)> {
        let mut fields = Vec::new();
        let mut examples = Vec::new();
        loop {
            self.skip_newlines();
            match self.peek() {
                TokenKind::Dedent => {
                    self.bump();
                    break;
                }
                TokenKind::Eof => return self.fail("the end of the indented block"),
                TokenKind::Keyword(Keyword::Example) => match self.example(body_depth) {
                    Ok(e) => examples.push(e),
                    Err(Fail) => self.recover(body_depth),
                },
                TokenKind::Str(_) => {
                    let span = self.span();
                    self.diags.error(
                        span,
                        "a docstring must come first in the body, before any field",
                    );
                    self.recover(body_depth);
                }
                _ if !examples.is_empty() => {
                    let span = self.span();
                    self.diags.error(span, "fields must come before examples");
                    self.recover(body_depth);
                }
                _ => match self.field(union, body_depth) {
                    Ok(f) => fields.push(f),
                    Err(Fail) => self.recover(body_depth),
                },
            }
            if self.depth < body_depth {
                // Recovery left the block.
                break;
            }
        }
        Ok((fields, examples))
    }

    fn field(&mut self, union: bool, body_depth: usize) -> PResult<Field> {
        let span = self.span();
        let name = self.ident(if union {
            "a union member"
        } else {
            "a field name"
        })?;
        let mut field = Field {
            name,
            type_ref: None,
            default: None,
            annotations: Vec::new(),
            doc: None,
            anon: None,
            span,
        };
        if self.at(&TokenKind::Newline) {
            if !union {
                let span = field.name.span;
                self.diags.error(
                    span,
                    format!("struct field `{}` needs a type", field.name.name),
                );
                return Err(Fail);
            }
        } else {
            field.type_ref = Some(self.type_ref()?);
            if self.eat(&TokenKind::Equals) {
                field.default = Some(if let Some(lit) = self.opt_literal() {
                    DefaultValue::Literal(lit)
                } else {
                    DefaultValue::Tag(self.ident("a default value")?)
                });
            }
        }
        self.newline()?;
        if self.eat(&TokenKind::Indent) {
            field.annotations = self.annotation_refs()?;
            field.doc = self.opt_doc()?;
            if field.type_ref.is_some() {
                match self.peek() {
                    TokenKind::Keyword(Keyword::Struct) => {
                        self.bump();
                        let body = self.nested(|p| p.struct_body(false))?;
                        field.anon = Some(AnonDef::Struct(body));
                    }
                    TokenKind::Keyword(k @ (Keyword::Union | Keyword::UnionClosed)) => {
                        let closed = *k == Keyword::UnionClosed;
                        self.bump();
                        let body = self.nested(|p| p.union_body(closed, false))?;
                        field.anon = Some(AnonDef::Union(body));
                    }
                    _ => {}
                }
            }
            self.skip_newlines();
            if !self.eat(&TokenKind::Dedent) {
                return self.fail("the end of the field's block");
            }
        }
        debug_assert!(self.depth >= body_depth);
        Ok(field)
    }

    fn example(&mut self, body_depth: usize) -> PResult<Example> {
        let span = self.span();
        self.bump(); // `example`
        let label = self.ident("an example label")?;
        self.newline()?;
        let mut example = Example {
            label,
            doc: None,
            fields: Vec::new(),
            span,
        };
        if !self.eat(&TokenKind::Indent) {
            return Ok(example);
        }
        let depth = self.depth;
        example.doc = self.opt_doc()?;
        loop {
            self.skip_newlines();
            if self.eat(&TokenKind::Dedent) {
                break;
            }
            if self.at(&TokenKind::Eof) {
                return self.fail("the end of the example");
            }
            let key = match self.ident("an example field") {
                Ok(k) => k,
                Err(Fail) => {
                    self.recover(depth);
                    continue;
                }
            };
            match self.example_field_value() {
                Ok(v) => example.fields.push((key, v)),
                Err(Fail) => self.recover(depth),
            }
            if self.depth < depth {
                break;
            }
        }
        debug_assert!(self.depth >= body_depth);
        Ok(example)
    }

    fn example_field_value(&mut self) -> PResult<ExampleValue> {
        self.expect(&TokenKind::Equals, "`=`")?;
        if self.at(&TokenKind::Newline) {
            // Multi-line map: `name =` NL INDENT { ... } NL DEDENT
            self.newline()?;
            if !self.eat(&TokenKind::Indent) {
                return self.fail("an indented map");
            }
            let value = self.example_map()?;
            self.newline()?;
            if !self.eat(&TokenKind::Dedent) {
                return self.fail("the end of the map");
            }
            return Ok(value);
        }
        let value = self.example_value(true)?;
        self.newline()?;
        Ok(value)
    }

    fn example_value(&mut self, allow_map: bool) -> PResult<ExampleValue> {
        if let Some(lit) = self.opt_literal() {
            return Ok(ExampleValue::Literal(lit));
        }
        match self.peek() {
            TokenKind::Ident(_) => Ok(ExampleValue::Ref(self.ident("a label")?)),
            TokenKind::LBracket => self.example_list(),
            TokenKind::LBrace if allow_map => self.example_map(),
            _ => self.fail("an example value (a literal, a label, a list or a map)"),
        }
    }

    fn example_list(&mut self) -> PResult<ExampleValue> {
        self.nested(Self::example_list_inner)
    }

    fn example_list_inner(&mut self) -> PResult<ExampleValue> {
        let span = self.span();
        self.bump(); // `[`
        let mut items = Vec::new();
        if self.eat(&TokenKind::RBracket) {
            return Ok(ExampleValue::List(items, span));
        }
        loop {
            items.push(self.example_value(false)?);
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            self.expect(&TokenKind::RBracket, "`,` or `]`")?;
            return Ok(ExampleValue::List(items, span));
        }
    }

    /// `{k: v, ...}` on one line or spread over indented lines.
    fn example_map(&mut self) -> PResult<ExampleValue> {
        self.nested(Self::example_map_inner)
    }

    fn example_map_inner(&mut self) -> PResult<ExampleValue> {
        let span = self.span();
        self.expect(&TokenKind::LBrace, "`{`")?;
        let start_depth = self.depth;
        let mut pairs = Vec::new();
        loop {
            self.skip_layout_inside_map(start_depth);
            if self.eat(&TokenKind::RBrace) {
                break;
            }
            if self.at(&TokenKind::Eof) {
                return self.fail("`}`");
            }
            let key = self.map_elem()?;
            self.expect(&TokenKind::Colon, "`:`")?;
            let value = self.map_elem()?;
            pairs.push((key, value));
            self.skip_layout_inside_map(start_depth);
            if self.eat(&TokenKind::Comma) {
                continue;
            }
            self.skip_layout_inside_map(start_depth);
            self.expect(&TokenKind::RBrace, "`,` or `}`")?;
            break;
        }
        if self.depth != start_depth {
            let here = self.span();
            self.diags
                .error(here, "the lines of a map must be indented consistently");
            return Err(Fail);
        }
        Ok(ExampleValue::Map(pairs, span))
    }

    fn skip_layout_inside_map(&mut self, start_depth: usize) {
        loop {
            match self.peek() {
                TokenKind::Newline | TokenKind::Indent => {
                    self.bump();
                }
                TokenKind::Dedent if self.depth > start_depth => {
                    self.bump();
                }
                _ => return,
            }
        }
    }

    fn map_elem(&mut self) -> PResult<ExampleValue> {
        if self.at(&TokenKind::LBrace) {
            return self.example_map();
        }
        self.example_value(false)
    }

    fn patch(&mut self, span: Span) -> PResult<Item> {
        self.bump(); // `patch`
        match self.peek().clone() {
            TokenKind::Keyword(Keyword::Struct) => {
                self.bump();
                let name = self.ident("a struct name")?;
                let body = self.struct_body(true)?;
                Ok(Item::Patch(PatchDef::Struct(StructDef {
                    name,
                    body,
                    span,
                })))
            }
            TokenKind::Keyword(k @ (Keyword::Union | Keyword::UnionClosed)) => {
                self.bump();
                let name = self.ident("a union name")?;
                let body = self.union_body(k == Keyword::UnionClosed, true)?;
                Ok(Item::Patch(PatchDef::Union(UnionDef { name, body, span })))
            }
            _ => self.fail("`struct`, `union` or `union_closed` after `patch`"),
        }
    }

    /// A route name with optional `/path` and `:version`.
    fn route_name(&mut self) -> PResult<(Ident, u32)> {
        let mut name = self.ident("a route name")?;
        if let TokenKind::Path(p) = self.peek().clone() {
            self.bump();
            name.name.push_str(&p);
        }
        let mut version = 1;
        if self.eat(&TokenKind::Colon) {
            let span = self.span();
            match self.peek().clone() {
                TokenKind::Int(v) if (1..=i128::from(u32::MAX)).contains(&v) => {
                    self.bump();
                    version = v as u32;
                }
                TokenKind::Int(_) => {
                    self.diags
                        .error(span, "a route version must be an integer of at least 1");
                    return Err(Fail);
                }
                _ => return self.fail("a route version"),
            }
        }
        Ok((name, version))
    }

    fn route(&mut self, span: Span) -> PResult<RouteDef> {
        self.bump(); // `route`
        let (name, version) = self.route_name()?;
        self.expect(&TokenKind::LParen, "`(` and the route's types")?;
        let arg = self.type_ref()?;
        self.expect(&TokenKind::Comma, "`,`")?;
        let result = self.type_ref()?;
        let error = if self.eat(&TokenKind::Comma) {
            Some(self.type_ref()?)
        } else {
            None
        };
        self.expect(&TokenKind::RParen, "`)`")?;
        let mut deprecated = None;
        if self.at_kw(Keyword::Deprecated) {
            let dspan = self.span();
            self.bump();
            let by = if self.eat(&TokenKind::Keyword(Keyword::By)) {
                Some(self.route_name()?)
            } else {
                None
            };
            deprecated = Some(Deprecation { by, span: dspan });
        }
        self.newline()?;
        let mut route = RouteDef {
            name,
            version,
            arg,
            result,
            error,
            deprecated,
            doc: None,
            attrs: Vec::new(),
            span,
        };
        if self.eat(&TokenKind::Indent) {
            route.doc = self.opt_doc()?;
            self.skip_newlines();
            if self.at_kw(Keyword::Attrs) {
                self.bump();
                self.newline()?;
                if !self.eat(&TokenKind::Indent) {
                    return self.fail("an indented list of `key = value` attributes");
                }
                let depth = self.depth;
                loop {
                    self.skip_newlines();
                    if self.eat(&TokenKind::Dedent) {
                        break;
                    }
                    match self.attr() {
                        Ok(a) => route.attrs.push(a),
                        Err(Fail) => self.recover(depth),
                    }
                    if self.depth < depth {
                        break;
                    }
                }
            }
            self.block_end()?;
        }
        Ok(route)
    }

    fn attr(&mut self) -> PResult<(Ident, AttrValue)> {
        let key = self.ident("an attribute name")?;
        self.expect(&TokenKind::Equals, "`=`")?;
        let value = if let Some(lit) = self.opt_literal() {
            AttrValue::Literal(lit)
        } else {
            AttrValue::Tag(self.ident("an attribute value")?)
        };
        self.newline()?;
        Ok((key, value))
    }

    fn annotation(&mut self, span: Span) -> PResult<AnnotationDef> {
        self.bump(); // `annotation`
        let name = self.ident("an annotation name")?;
        self.expect(&TokenKind::Equals, "`=`")?;
        let first = self.ident("an annotation class")?;
        let (class_namespace, class) = if self.eat(&TokenKind::Dot) {
            (Some(first), self.ident("an annotation class")?)
        } else {
            (None, first)
        };
        let args = if self.at(&TokenKind::LParen) {
            self.args()?
        } else {
            Args::default()
        };
        self.newline()?;
        Ok(AnnotationDef {
            name,
            class_namespace,
            class,
            args,
            span,
        })
    }

    fn annotation_type(&mut self, span: Span) -> PResult<AnnotationTypeDef> {
        self.bump(); // `annotation_type`
        let name = self.ident("an annotation type name")?;
        self.newline()?;
        if !self.eat(&TokenKind::Indent) {
            return self.fail("an indented body");
        }
        let depth = self.depth;
        let doc = self.opt_doc()?;
        let mut params = Vec::new();
        loop {
            self.skip_newlines();
            if self.eat(&TokenKind::Dedent) {
                break;
            }
            match self.field(false, depth) {
                Ok(f) => params.push(f),
                Err(Fail) => self.recover(depth),
            }
            if self.depth < depth {
                break;
            }
        }
        Ok(AnnotationTypeDef {
            name,
            doc,
            params,
            span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::stone::lexer::lex;

    fn parse_str(src: &str) -> (SpecFile, Diagnostics) {
        let mut d = Diagnostics::new();
        let toks = lex(FileId(0), src, &mut d);
        let f = parse(&toks, &mut d);
        (f, d)
    }

    #[test]
    fn struct_with_fields_defaults_and_examples() {
        let (f, d) = parse_str(
            r#"namespace files

struct CommitInfo
    "Doc line one
    line two"
    path String
        "Field doc."
    mode WriteMode = add
    autorename Boolean = false
    client_modified common.DropboxTimestamp?

    example default
        path = "/a.txt"
        mode = add
        tags = [a, "b", [1, 2]]
        meta = {"k": 1, "j": null}
"#,
        );
        assert!(d.is_empty(), "{d:?}");
        let Item::Struct(s) = &f.items[1] else {
            panic!()
        };
        assert_eq!(s.body.doc.as_ref().unwrap().text, "Doc line one\nline two");
        assert_eq!(s.body.fields.len(), 4);
        assert_eq!(
            s.body.fields[1].default,
            Some(DefaultValue::Tag(Ident {
                name: "add".into(),
                span: s.body.fields[1]
                    .default
                    .as_ref()
                    .map_or(Span::BUILTIN, |d| match d {
                        DefaultValue::Tag(i) => i.span,
                        DefaultValue::Literal(l) => l.span,
                    })
            }))
        );
        assert!(s.body.fields[3].type_ref.as_ref().unwrap().nullable);
        assert_eq!(s.body.examples[0].fields.len(), 4);
    }

    #[test]
    fn errors_in_several_items_are_all_reported() {
        let (f, d) = parse_str(
            "struct A\n    x\nstruct B\n    y String\nunion C\n    = 1\nstruct D\n    z Int32\n",
        );
        assert_eq!(d.len(), 2, "{d:?}");
        // The good items around the bad ones still parse.
        assert!(
            f.items
                .iter()
                .any(|i| matches!(i, Item::Struct(s) if s.name.name == "B"))
        );
        assert!(
            f.items
                .iter()
                .any(|i| matches!(i, Item::Struct(s) if s.name.name == "D"))
        );
    }

    #[test]
    fn route_full_form() {
        let (f, d) = parse_str(
            "route upload_session/finish_batch:2 (A, B, C) deprecated by other/x:3\n    \"Doc.\"\n\n    attrs\n        host = \"content\"\n        style = upload\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let Item::Route(r) = &f.items[0] else {
            panic!()
        };
        assert_eq!(r.name.name, "upload_session/finish_batch");
        assert_eq!(r.version, 2);
        assert_eq!(
            r.deprecated.as_ref().unwrap().by.as_ref().unwrap().0.name,
            "other/x"
        );
        assert_eq!(r.attrs.len(), 2);
    }
}
