// The transport's route calls are not public: a route is called through its generated
// function (or the typed calls), never with a bare `RouteSpec`.
use dropbox_api_runtime::auth::AuthClient;

async fn call(user: &dropbox_api::UserClient) {
    let spec = dropbox_api::files::routes::GET_METADATA.spec();
    let spec: &'static _ = Box::leak(Box::new(spec));
    let _: Result<serde_json::Value, dropbox_api::Error<serde_json::Value>> = user
        .transport()
        .rpc(spec, &serde_json::json!({"path": "/a"}))
        .await;
}

fn main() {
    let _ = call;
}
