//! What the compiler must refuse, and what it must accept, about clients and routes.
//!
//! Each block below is a doctest (`cargo test -p dbx-tests --doc`), built against the
//! workspace's own build of the crates, so these cases cost seconds, and they also run on the
//! whole official API (`cargo xtask fullspec`), where the same routes exist.
//!
//! Stable rustdoc does not check a `compile_fail` block's error code, so a case that broke for
//! another reason (a typo, a renamed item) would still pass. Every refused case therefore has
//! a twin that is accepted and differs from it only in the point under test (another client,
//! the matching auth, the public path): the twin proves that everything else in the case
//! compiles, so the refusal can only come from that point. The error code each case fails
//! with today is written beside it for the reader.
//!
//! # A client calls only the routes its auth grants
//!
//! A client without credentials calls only routes with `auth = "noauth"` (E0277):
//!
//! ```compile_fail
//! use dropbox_api::files;
//!
//! async fn call(client: &dropbox_api::NoAuthClient) {
//!     let _ = files::list_folder(client, &files::ListFolderArg::new("")).await;
//! }
//! ```
//!
//! A team client is not a user client (E0277) ...
//!
//! ```compile_fail
//! use dropbox_api::files;
//!
//! async fn call(client: &dropbox_api::TeamClient) {
//!     let _ = files::get_metadata(client, &files::GetMetadataArg::new("/a")).await;
//! }
//! ```
//!
//! ... it reaches user routes only through `as_user`. The twins of both cases: a user client
//! and a member of a team call those routes, and an app client calls an "app, user" route.
//!
//! ```
//! use dropbox_api::files;
//!
//! async fn calls(
//!     user: &dropbox_api::UserClient,
//!     team: &dropbox_api::TeamClient,
//!     app: &dropbox_api::AppClient,
//! ) {
//!     let _ = files::get_metadata(user, &files::GetMetadataArg::new("/a")).await;
//!     let member = team.as_user("dbmid:1");
//!     let _ = files::get_metadata(&member, &files::GetMetadataArg::new("/a")).await;
//!     let _ = files::list_folder(app, &files::ListFolderArg::new("")).await;
//!     let _ = files::list_folder(user, &files::ListFolderArg::new("")).await;
//! }
//! let _ = calls;
//! ```
//!
//! # The calls generated code uses check auth too
//!
//! A team route, typed exactly as the generator writes one, cannot be called with a user
//! client through the runtime's call (E0277) ...
//!
//! ```compile_fail
//! use dropbox_api_runtime::__private as rt;
//! use dropbox_api_runtime::auth::Team;
//! use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
//!
//! const MEMBERS_LIST: Route<Team> = Route::new(RouteSpec {
//!     namespace: "team",
//!     name: "members/list",
//!     version: 1,
//!     path: "/2/team/members/list",
//!     host: Host::Api,
//!     style: Style::Rpc,
//!     auth: "team",
//!     idempotent: true,
//! });
//!
//! async fn call(client: &dropbox_api::UserClient) {
//!     let _: Result<serde_json::Value, dropbox_api::Error<serde_json::Value>> =
//!         rt::rpc(client, &MEMBERS_LIST, &serde_json::json!({})).await;
//! }
//! ```
//!
//! ... and its twin, a team client, can:
//!
//! ```
//! use dropbox_api_runtime::__private as rt;
//! use dropbox_api_runtime::auth::Team;
//! use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
//!
//! const MEMBERS_LIST: Route<Team> = Route::new(RouteSpec {
//!     namespace: "team",
//!     name: "members/list",
//!     version: 1,
//!     path: "/2/team/members/list",
//!     host: Host::Api,
//!     style: Style::Rpc,
//!     auth: "team",
//!     idempotent: true,
//! });
//!
//! async fn call(client: &dropbox_api::TeamClient) {
//!     let _: Result<serde_json::Value, dropbox_api::Error<serde_json::Value>> =
//!         rt::rpc(client, &MEMBERS_LIST, &serde_json::json!({})).await;
//! }
//! let _ = call;
//! ```
//!
//! # A typed route's marker is its spec's auth
//!
//! A team route relabelled as a user route fails in constant evaluation (E0080) ...
//!
//! ```compile_fail
//! use dropbox_api_runtime::auth::User;
//! use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
//!
//! const RELABELLED: Route<User> = Route::new(RouteSpec {
//!     namespace: "team",
//!     name: "members/list",
//!     version: 1,
//!     path: "/2/team/members/list",
//!     host: Host::Api,
//!     style: Style::Rpc,
//!     auth: "team",
//!     idempotent: true,
//! });
//!
//! let _ = RELABELLED;
//! ```
//!
//! ... and its twin, labelled with the route's own auth, compiles:
//!
//! ```
//! use dropbox_api_runtime::auth::User;
//! use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};
//!
//! const LABELLED: Route<User> = Route::new(RouteSpec {
//!     namespace: "team",
//!     name: "members/list",
//!     version: 1,
//!     path: "/2/team/members/list",
//!     host: Host::Api,
//!     style: Style::Rpc,
//!     auth: "user",
//!     idempotent: true,
//! });
//!
//! let _ = LABELLED;
//! ```
//!
//! # Internals are not API
//!
//! The transport's route calls are not public: a route is called through its generated
//! function (or the typed calls), never with a bare `RouteSpec` (E0624) ...
//!
//! ```compile_fail
//! use dropbox_api_runtime::auth::AuthClient;
//!
//! async fn call(user: &dropbox_api::UserClient) {
//!     let spec = dropbox_api::files::routes::GET_METADATA.spec();
//!     let spec: &'static _ = Box::leak(Box::new(spec));
//!     let _: Result<serde_json::Value, dropbox_api::Error<serde_json::Value>> = user
//!         .transport()
//!         .rpc(spec, &serde_json::json!({"path": "/a"}))
//!         .await;
//! }
//! ```
//!
//! ... although the transport and the route's spec are reachable, as the twin shows:
//!
//! ```
//! use dropbox_api_runtime::auth::AuthClient;
//!
//! fn reach(user: &dropbox_api::UserClient) {
//!     let spec = dropbox_api::files::routes::GET_METADATA.spec();
//!     let _spec: &'static _ = Box::leak(Box::new(spec));
//!     let _transport = user.transport();
//! }
//! let _ = reach;
//! ```
//!
//! The wire-format helpers are for generated code: the generated crate does not re-export
//! them (E0433) ...
//!
//! ```compile_fail
//! let _ = dropbox_api::wire::TAG;
//! ```
//!
//! ... and the runtime's `wire` module is private (E0603) ...
//!
//! ```compile_fail
//! let _ = dropbox_api_runtime::wire::TAG;
//! ```
//!
//! ... reachable only through the module that says it is not API:
//!
//! ```
//! let _ = dropbox_api_runtime::__private::wire::TAG;
//! ```
