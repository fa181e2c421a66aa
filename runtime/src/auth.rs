//! Clients, one per auth type, and the marker traits that let the type system check that a
//! route is called with a client that may call it: a user-token client cannot call a team
//! route, because `UserClient` does not implement [`TeamAuth`].
//!
//! ```compile_fail
//! fn team_only(_: &impl dropbox_api_runtime::auth::TeamAuth) {}
//! let user = dropbox_api_runtime::UserClient::new("token").unwrap();
//! team_only(&user); // a user client is not a team client
//! ```

use std::fmt;
use std::sync::Arc;

use crate::config::Timeouts;
use crate::credentials::Select;
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// A client that can send route calls.
pub trait AuthClient {
    /// The transport that sends requests.
    fn transport(&self) -> &Transport;
}

/// May call routes with `auth = "user"`.
pub trait UserAuth: AuthClient {}
/// May call routes with `auth = "team"`.
pub trait TeamAuth: AuthClient {}
/// May call routes with `auth = "app"`.
pub trait AppAuth: AuthClient {}
/// May call routes with `auth = "noauth"`.
pub trait NoAuth: AuthClient {}
/// May call routes with `auth = "app, user"`.
pub trait AppOrUserAuth: AuthClient {}
/// May call routes with `auth = "app, team"`.
pub trait AppOrTeamAuth: AuthClient {}

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

        impl AuthClient for $name {
            fn transport(&self) -> &Transport {
                &self.transport
            }
        }

        $(impl $auth for $name {})*

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
    UserClient: UserAuth, AppOrUserAuth, NoAuth
);
client!(
    /// A client with a team access token: team routes. Use [`TeamClient::as_user`] or
    /// [`TeamClient::as_admin`] to call user routes on behalf of a team member.
    TeamClient: TeamAuth, AppOrTeamAuth, NoAuth
);
client!(
    /// A client authenticated as the app itself (app key and secret): app routes.
    AppClient: AppAuth, AppOrUserAuth, AppOrTeamAuth, NoAuth
);
client!(
    /// A client without credentials: only noauth routes (such as `files/list_folder/longpoll`).
    NoAuthClient: NoAuth
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
