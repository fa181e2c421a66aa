//! Counts over a resolved API, as printed by `cargo xtask stats`.

use std::fmt;

use crate::ir::{Api, Host, Style, UserType};

/// What an API contains.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// API namespaces (`stone_cfg` excluded).
    pub namespaces: usize,
    /// Routes.
    pub routes: usize,
    /// Routes of style `rpc`.
    pub rpc: usize,
    /// Routes of style `upload`.
    pub upload: usize,
    /// Routes of style `download`.
    pub download: usize,
    /// Routes on the `api` host.
    pub host_api: usize,
    /// Routes on the `content` host.
    pub host_content: usize,
    /// Routes on the `notify` host.
    pub host_notify: usize,
    /// Structs, anonymous ones included.
    pub structs: usize,
    /// Unions, anonymous ones included.
    pub unions: usize,
    /// Unions declared `union_closed`.
    pub closed_unions: usize,
    /// Aliases.
    pub aliases: usize,
    /// `example` blocks on structs and unions.
    pub examples: usize,
}

impl Stats {
    /// Counts everything in `api`.
    pub fn of(api: &Api) -> Stats {
        let mut s = Stats {
            namespaces: api.namespaces.len(),
            ..Stats::default()
        };
        for r in api.routes() {
            s.routes += 1;
            match r.style {
                Style::Upload => s.upload += 1,
                Style::Download => s.download += 1,
                Style::Rpc => s.rpc += 1,
            }
            match r.host {
                Host::Content => s.host_content += 1,
                Host::Notify => s.host_notify += 1,
                Host::Api => s.host_api += 1,
            }
        }
        for t in api.types() {
            match t {
                UserType::Struct(x) => {
                    s.structs += 1;
                    s.examples += x.examples.len();
                }
                UserType::Union(u) => {
                    s.unions += 1;
                    if u.closed {
                        s.closed_unions += 1;
                    }
                    s.examples += u.examples.len();
                }
                UserType::Alias(_) => s.aliases += 1,
            }
        }
        s
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "namespaces: {}", self.namespaces)?;
        writeln!(
            f,
            "routes: {} (rpc {}, upload {}, download {}; host api {}, content {}, notify {})",
            self.routes,
            self.rpc,
            self.upload,
            self.download,
            self.host_api,
            self.host_content,
            self.host_notify
        )?;
        writeln!(f, "structs: {}", self.structs)?;
        writeln!(f, "unions: {} ({} closed)", self.unions, self.closed_unions)?;
        writeln!(f, "aliases: {}", self.aliases)?;
        write!(f, "examples: {}", self.examples)
    }
}
