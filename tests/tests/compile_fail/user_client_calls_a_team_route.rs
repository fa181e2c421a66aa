// A team route, typed exactly as the generator writes one, cannot be called with a user
// client, even through the calls generated code uses.
use dropbox_api_runtime::__private as rt;
use dropbox_api_runtime::auth::Team;
use dropbox_api_runtime::route::{Host, Route, RouteSpec, Style};

const MEMBERS_LIST: Route<Team> = Route::new(RouteSpec {
    namespace: "team",
    name: "members/list",
    version: 1,
    path: "/2/team/members/list",
    host: Host::Api,
    style: Style::Rpc,
    auth: "team",
    idempotent: true,
});

async fn call(user: &dropbox_api::UserClient) {
    let _: Result<serde_json::Value, dropbox_api::Error<serde_json::Value>> =
        rt::rpc(user, &MEMBERS_LIST, &serde_json::json!({})).await;
}

fn main() {
    let _ = call;
}
