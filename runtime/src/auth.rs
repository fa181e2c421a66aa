//! Clients, one per auth type, and the types that let the compiler check that a route is
//! called with a client that may call it.
//!
//! Every generated route constant is a [`Route<A>`](crate::route::Route) whose marker `A`
//! ([`User`], [`Team`], [`App`], [`Anyone`], [`AppOrUser`], [`AppOrTeam`]) is its `auth`
//! attribute; only a client that [`Grants`] `A` can call it, and no type outside this crate
//! can claim to: [`Grants`] and [`AuthClient`] are sealed. The traits [`UserAuth`],
//! [`TeamAuth`], ... name the same facts for route function signatures.
//!
//! ```compile_fail
//! fn team_only(_: &impl dropbox_api_runtime::auth::TeamAuth) {}
//! let user = dropbox_api_runtime::UserClient::new("token").unwrap();
//! team_only(&user); // a user client is not a team client
//! ```
//!
//! ```compile_fail
//! // No other type can claim a client's auth.
//! use dropbox_api_runtime::Transport;
//! use dropbox_api_runtime::auth::{AuthClient, Grants, Team};
//! struct Pretender(dropbox_api_runtime::UserClient);
//! impl AuthClient for Pretender {
//!     fn transport(&self) -> &Transport {
//!         self.0.transport()
//!     }
//! }
//! impl Grants<Team> for Pretender {}
//! ```

use std::fmt;
use std::sync::Arc;

use crate::config::Timeouts;
use crate::credentials::Select;
use crate::retry::RetryPolicy;
use crate::transport::Transport;

mod sealed {
    /// Only the clients of this crate are clients.
    pub trait Sealed {}
}

/// A client that can send route calls: one of [`UserClient`], [`TeamClient`],
/// [`AppClient`] and [`NoAuthClient`] (sealed).
pub trait AuthClient: sealed::Sealed {
    /// The transport that sends requests (its configuration, shared values, posts to
    /// temporary links; route calls go through the generated route functions).
    fn transport(&self) -> &Transport;
}

/// The `auth` attribute of a route, as a type: the marker of [`Route<A>`](crate::route::Route).
pub trait AuthKind {
    /// The attribute as the spec writes it (kinds sorted, `", "` between them).
    const AUTH: &'static str;
}

/// This client may call routes whose auth marker is `A` (sealed: the clients of this crate
/// are the only ones).
pub trait Grants<A: AuthKind>: AuthClient {}

macro_rules! auth_kind {
    ($($(#[$doc:meta])* $name:ident = $auth:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {}

        impl AuthKind for $name {
            const AUTH: &'static str = $auth;
        }
    )*};
}

auth_kind! {
    /// Routes with `auth = "user"`.
    User = "user";
    /// Routes with `auth = "team"`.
    Team = "team";
    /// Routes with `auth = "app"`.
    App = "app";
    /// Routes with `auth = "noauth"`: any client may call them.
    Anyone = "noauth";
    /// Routes with `auth = "app, user"`.
    AppOrUser = "app, user";
    /// Routes with `auth = "app, team"`.
    AppOrTeam = "app, team";
}

macro_rules! auth_trait {
    ($($(#[$doc:meta])* $name:ident = $kind:ident;)*) => {$(
        $(#[$doc])*
        pub trait $name: Grants<$kind> {}
        impl<C: Grants<$kind>> $name for C {}
    )*};
}

auth_trait! {
    /// May call routes with `auth = "user"`.
    UserAuth = User;
    /// May call routes with `auth = "team"`.
    TeamAuth = Team;
    /// May call routes with `auth = "app"`.
    AppAuth = App;
    /// May call routes with `auth = "noauth"`.
    NoAuth = Anyone;
    /// May call routes with `auth = "app, user"`.
    AppOrUserAuth = AppOrUser;
    /// May call routes with `auth = "app, team"`.
    AppOrTeamAuth = AppOrTeam;
}

macro_rules! client {
    ($(#[$doc:meta])* $name:ident: $($auth:ident),*) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name {
            transport: Arc<Transport>,
        }

        impl $name {
            pub(crate) fn from_transport(transport: Transport) -> Self {
                $name {
                    transport: Arc::new(transport),
                }
            }

            /// This client with another retry policy, for the calls made through it (the
            /// connection pool, credentials and interceptors are shared):
            /// `files::list_folder(&client.with_retry_policy(RetryPolicy::none()), &arg)`.
            pub fn with_retry_policy(&self, policy: RetryPolicy) -> Self {
                Self::from_transport(self.transport.with_retry_policy(policy))
            }

            /// This client with other idle, attempt and call timeouts, for the calls made
            /// through it.
            pub fn with_timeouts(&self, timeouts: Timeouts) -> Self {
                Self::from_transport(self.transport.with_timeouts(timeouts))
            }
        }

        impl sealed::Sealed for $name {}

        impl AuthClient for $name {
            fn transport(&self) -> &Transport {
                &self.transport
            }
        }

        $(impl Grants<$auth> for $name {})*

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("api_url", &self.transport.config().api_url)
                    .field("content_url", &self.transport.config().content_url)
                    .finish_non_exhaustive()
            }
        }
    };
}

client!(
    /// A client with a user access token: user routes, "app, user" routes and noauth routes.
    UserClient: User, AppOrUser, Anyone
);
client!(
    /// A client with a team access token: team routes. Use [`TeamClient::as_user`] or
    /// [`TeamClient::as_admin`] to call user routes on behalf of a team member.
    TeamClient: Team, AppOrTeam, Anyone
);
client!(
    /// A client authenticated as the app itself (app key and secret): app routes.
    AppClient: App, AppOrUser, AppOrTeam, Anyone
);
client!(
    /// A client without credentials: only noauth routes (such as `files/list_folder/longpoll`).
    NoAuthClient: Anyone
);

impl TeamClient {
    /// A user client acting as team member `team_member_id` (`Dropbox-API-Select-User`).
    pub fn as_user(&self, team_member_id: &str) -> UserClient {
        UserClient::from_transport(
            self.transport
                .with_select(Select::User(team_member_id.to_owned())),
        )
    }

    /// A user client acting as admin `team_member_id` (`Dropbox-API-Select-Admin`), with
    /// access to team-owned content on routes that allow it.
    pub fn as_admin(&self, team_member_id: &str) -> UserClient {
        UserClient::from_transport(
            self.transport
                .with_select(Select::Admin(team_member_id.to_owned())),
        )
    }
}
