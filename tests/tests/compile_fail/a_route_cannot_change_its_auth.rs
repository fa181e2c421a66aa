// A typed route's marker must be its spec's auth: a team route relabelled as a user route
// does not compile.
use dropbox_api_runtime::auth::User;
use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};

const RELABELLED: Route<User> = Route::new(RouteSpec {
    namespace: "team",
    name: "members/list",
    version: 1,
    path: "/2/team/members/list",
    host: Host::Api,
    style: Style::Rpc,
    auth: "team",
    idempotent: true,
});

fn main() {
    let _ = RELABELLED;
}
