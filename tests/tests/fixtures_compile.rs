//! Every fixture's emitted module, compiled: `build.rs` emits the namespace of each
//! `fixtures/*.stone` (the specs whose text the snapshot tests diff) and this file includes
//! them all, so emitted code that does not compile fails `cargo test`, not only a review.
//! The tests below check that the compiled modules behave as their snapshots say.

#![allow(missing_docs)]

/// The error type the emitted route functions name as `crate::Error<E>`.
pub type Error<E> = dropbox_api::Error<E>;

include!(concat!(env!("OUT_DIR"), "/fixtures_mod.rs"));

use dropbox_api_runtime::route::{Host, Style};
use serde_json::json;

#[test]
fn route_specs_carry_the_typed_attributes() {
    use things::routes;
    let cases = [
        (
            routes::GET.spec(),
            "/2/things/get",
            Host::Api,
            Style::Rpc,
            "user",
        ),
        (
            routes::GET_V2.spec(),
            "/2/things/get_v2",
            Host::Api,
            Style::Rpc,
            "user",
        ),
        (
            routes::PUT.spec(),
            "/2/things/put",
            Host::Content,
            Style::Upload,
            "user",
        ),
        (
            routes::FETCH.spec(),
            "/2/things/fetch",
            Host::Content,
            Style::Download,
            "user",
        ),
        (
            routes::TEAM_LIST.spec(),
            "/2/things/team/list",
            Host::Api,
            Style::Rpc,
            "team",
        ),
        (
            routes::APP_INFO.spec(),
            "/2/things/app/info",
            Host::Api,
            Style::Rpc,
            "app",
        ),
        (
            routes::BOTH.spec(),
            "/2/things/both",
            Host::Api,
            Style::Rpc,
            "app, user",
        ),
        (
            routes::POLL.spec(),
            "/2/things/poll",
            Host::Notify,
            Style::Rpc,
            "noauth",
        ),
        (
            routes::BETA.spec(),
            "/2/things/beta",
            Host::Api,
            Style::Rpc,
            "user",
        ),
        (
            routes::NAMES_LIST.spec(),
            "/2/things/names/list",
            Host::Api,
            Style::Rpc,
            "user",
        ),
        (
            routes::NAMES_LIST_CONTINUE.spec(),
            "/2/things/names/list/continue",
            Host::Api,
            Style::Rpc,
            "user",
        ),
    ];
    for (spec, path, host, style, auth) in &cases {
        let (path, host, style, auth) = (*path, *host, *style, *auth);
        assert_eq!(
            (spec.path, spec.host, spec.style, spec.auth),
            (path, host, style, auth),
            "{}",
            spec.name
        );
    }
    assert_eq!(routes::GET_V2.version, 2);
    let all: Vec<&str> = routes::ALL.iter().map(|r| r.path).collect();
    let listed: Vec<&str> = cases.iter().map(|c| c.1).collect();
    assert_eq!(all, listed, "`ALL` lists every route in spec order");
}

/// Never run: it only has to compile, which proves each route function takes the
/// clients its `auth` attribute names.
#[allow(dead_code, deprecated)]
async fn route_functions_take_the_clients_their_auth_allows(
    user: &dropbox_api::UserClient,
    team: &dropbox_api::TeamClient,
    app: &dropbox_api::AppClient,
    anyone: &dropbox_api::NoAuthClient,
) {
    let arg = things::Arg::new("/a");
    let _ = things::get(user, &arg).await;
    let _ = things::put(user, &arg, Vec::<u8>::new()).await;
    let _ = things::fetch(user, &arg, None).await;
    let _ = things::team_list(team).await;
    let _ = things::app_info(app, &arg).await;
    let _ = things::both(app, &arg).await;
    let _ = things::both(user, &arg).await;
    let _ = things::poll(anyone, &arg).await;
    let _ = things::beta(user, &arg).await;
    // The paginators of a preview pair (gated by `preview` like the routes).
    let names: Result<Vec<dropbox_api_runtime::Str>, _> =
        futures_util::TryStreamExt::try_collect(things::names_list_stream(user, &arg)).await;
    let _ = names;
    let _ = things::names_list_pages_from(user, "cursor".to_string());
    let thing = old::Thing::new("x");
    let _ = old::fetch(user, &thing).await;
}

#[test]
fn every_compiled_module_reads_and_writes_its_json() {
    let point: shapes::Point = serde_json::from_value(json!({"x": 1, "y": -2})).unwrap();
    assert_eq!(
        serde_json::to_value(&point).unwrap(),
        json!({"x": 1, "y": -2, "visible": true}),
        "the default is filled in and the absent optional stays absent"
    );
    // The crate's own codec reads and writes the same.
    let ours: shapes::Point = dropbox_api::json::from_str(r#"{"x": 1, "y": -2}"#).unwrap();
    assert_eq!(ours, point);
    assert_eq!(
        dropbox_api::json::to_string(&point).unwrap(),
        serde_json::to_string(&point).unwrap()
    );
    let closed: Result<outcomes::Mode, _> = dropbox_api::json::from_str(r#"{".tag": "nope"}"#);
    assert!(closed.is_err(), "a closed union refuses an unknown tag");
    let open: outcomes::Problem = dropbox_api::json::from_str(r#""nope""#).unwrap();
    assert!(matches!(open, outcomes::Problem::Other));

    let closed: Result<outcomes::Mode, _> = serde_json::from_value(json!({".tag": "nope"}));
    assert!(closed.is_err(), "a closed union refuses an unknown tag");
    let open: outcomes::Problem = serde_json::from_value(json!({".tag": "nope"})).unwrap();
    assert!(matches!(open, outcomes::Problem::Other));
    // A union with no members but the catch-all takes any tag.
    let empty: outcomes::Empty = serde_json::from_value(json!({".tag": "anything"})).unwrap();
    assert!(matches!(empty, outcomes::Empty::Other));

    let err: retry::PutError = serde_json::from_value(
        json!({".tag": "path", "reason": {".tag": "too_many_write_operations"}}),
    )
    .unwrap();
    assert!(dropbox_api_runtime::RouteError::is_transient(&err));
}

/// Signed integers through both codecs: the same values and refusals. `-0` is the one number
/// they disagree on: `serde_json` reads it as the float `-0.0`, which an integer field refuses,
/// and `dropbox_api::json` reads it as the integer 0.
#[test]
fn signed_integers_read_the_same_through_both_codecs() {
    for y in [
        "0",
        "-1",
        "-2147483648",
        "2147483647",
        "-2147483649",
        "1.0",
        "-1e2",
        "-0",
    ] {
        let doc = format!(r#"{{"x": 1, "y": {y}}}"#);
        let serde = serde_json::from_str::<shapes::Point>(&doc).map_err(|e| e.to_string());
        let ours = dropbox_api::json::from_str::<shapes::Point>(&doc).map_err(|e| e.to_string());
        match (&serde, &ours) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{doc}"),
            (Err(_), Err(_)) => {}
            _ => panic!(
                "the codecs disagree on {doc}: serde_json {serde:?}, dropbox_api::json {ours:?}"
            ),
        }
    }
}
