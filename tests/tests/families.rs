//! Struct families (structs sharing one field list, emitted as one generic struct and an
//! alias each), compiled from `fixtures/families.stone` by the build script: the aliases
//! behave like ordinary structs on the wire, in `Debug` and in constructors, and stay
//! distinct types.

use std::any::TypeId;

use serde_json::{Value, json};

include!(concat!(env!("OUT_DIR"), "/events_mod.rs"));

use events::{AlphaDetails, EventType, LoginType, LogoutType, PinRecord, PinType, ShareRecord};

/// Decodes through both codecs (`serde_json` and `dropbox_api::json`), which must agree.
fn decode<T>(v: Value) -> T
where
    T: serde::de::DeserializeOwned + dropbox_api::json::Json + PartialEq + std::fmt::Debug,
{
    let ours: T = dropbox_api::json::from_str(&v.to_string()).unwrap();
    let theirs: T = serde_json::from_value(v).unwrap();
    assert_eq!(ours, theirs);
    theirs
}

/// Encodes through both codecs, which must write the same bytes.
fn encode<T: serde::Serialize + dropbox_api::json::Json>(v: &T) -> Value {
    assert_eq!(
        dropbox_api::json::to_string(v).unwrap(),
        serde_json::to_string(v).unwrap()
    );
    serde_json::to_value(v).unwrap()
}

/// Both codecs refuse the document; returns both messages.
fn refused<T>(v: Value) -> String
where
    T: serde::de::DeserializeOwned + dropbox_api::json::Json + std::fmt::Debug,
{
    let ours = dropbox_api::json::from_str::<T>(&v.to_string()).unwrap_err();
    let theirs = serde_json::from_value::<T>(v).unwrap_err();
    format!("{theirs} / {ours}")
}

#[test]
fn members_are_distinct_types() {
    assert_ne!(TypeId::of::<LoginType>(), TypeId::of::<LogoutType>());
    assert_ne!(TypeId::of::<PinRecord>(), TypeId::of::<ShareRecord>());
}

#[test]
fn debug_names_the_struct_of_the_spec() {
    let login = LoginType::new("(logins) Signed in");
    assert_eq!(
        format!("{login:?}"),
        r#"LoginType { description: "(logins) Signed in" }"#
    );
    let record = PinRecord::new(chrono::DateTime::UNIX_EPOCH).with_note("n");
    assert_eq!(
        format!("{record:?}"),
        r#"PinRecord { when: 1970-01-01T00:00:00Z, note: Some("n"), count: 1 }"#
    );
}

#[test]
fn wire_format_is_that_of_an_ordinary_struct() {
    let v: PinType = decode(json!({"description": "(pins) Pinned an item", "extra": [1]}));
    assert_eq!(v, PinType::new("(pins) Pinned an item"));
    assert_eq!(encode(&v), json!({"description": "(pins) Pinned an item"}));

    // Optional absent, default applied, timestamp through its format.
    let r: ShareRecord = decode(json!({"when": "2026-03-14T09:26:53Z"}));
    assert_eq!(r.count, 1);
    assert_eq!(r.note, None);
    let back = encode(&r);
    assert_eq!(back, json!({"when": "2026-03-14T09:26:53Z", "count": 1}));
    let r2: ShareRecord = decode(json!({"count": 3, "note": null, "when": "2026-03-14T09:26:53Z"}));
    assert_eq!(r2, r.clone().with_count(3));
}

#[test]
fn decode_errors_name_the_struct_and_the_field() {
    let e = refused::<LoginType>(json!({}));
    assert_eq!(e.matches("missing field `description`").count(), 2, "{e}");
    let e = refused::<LogoutType>(json!("x"));
    assert_eq!(e.matches("struct LogoutType").count(), 2, "{e}");
    let e = refused::<PinRecord>(json!({"when": "yesterday"}));
    assert_eq!(e.matches("does not match").count(), 2, "{e}");
}

#[test]
fn members_flatten_into_unions() {
    let v: EventType = decode(json!({"description": "d", ".tag": "login"}));
    assert_eq!(v, EventType::Login(LoginType::new("d")));
    assert_eq!(encode(&v), json!({".tag": "login", "description": "d"}));
    let other: EventType = decode(json!({".tag": "someday", "description": "d"}));
    assert!(matches!(other, EventType::Other));
}

#[test]
fn small_groups_stay_ordinary_structs() {
    // A struct literal outside the module compiles only for an ordinary struct (a family's
    // generic struct has a private marker field).
    let alpha = AlphaDetails {
        event_uuid: "u".into(),
    };
    assert_eq!(alpha, AlphaDetails::new("u"));
    assert_eq!(
        format!("{:?}", AlphaDetails::new("u")),
        r#"AlphaDetails { event_uuid: "u" }"#
    );
}

#[test]
fn examples_round_trip() {
    dropbox_api_runtime::__private::wire::round_trip::<PinType>(
        r#"{"description": "(pins) Pinned an item"}"#,
    )
    .unwrap();
}

mod generic {
    //! The ten `*PolicyChangedDetails` structs differ only in the type of `new_value` and
    //! `previous_value`: one generic struct, `NewValueMaybePreviousValueDetails<T, K>`.

    use super::*;
    use events::{
        DomainsPolicyChangedDetails, Limits, LoginPolicy, LoginPolicyChangedDetails,
        NameChangedDetails, NewValueMaybePreviousValueDetails, QuotaPolicyChangedDetails,
        SharingPolicy, SharingPolicyChangedDetails,
    };

    #[test]
    fn members_are_aliases_of_one_generic_struct_and_distinct_types() {
        let sharing: SharingPolicyChangedDetails =
            NewValueMaybePreviousValueDetails::new(SharingPolicy::Team);
        assert_eq!(sharing.new_value, SharingPolicy::Team);
        assert_ne!(
            TypeId::of::<SharingPolicyChangedDetails>(),
            TypeId::of::<events::GuestPolicyChangedDetails>(),
            "same type argument, different marker"
        );
        // A string field keeps its `impl Into<String>` constructor: not in the family.
        let name = NameChangedDetails {
            new_value: "b".into(),
            previous_value: Some("a".into()),
        };
        assert_eq!(name, NameChangedDetails::new("b").with_previous_value("a"));
    }

    #[test]
    fn wire_format_debug_and_errors_are_those_of_each_struct() {
        let v: LoginPolicyChangedDetails = decode(json!({
            "previous_value": {".tag": "password"},
            "new_value": {".tag": "sso"},
            "ignored": 1
        }));
        assert_eq!(
            v,
            LoginPolicyChangedDetails::new(LoginPolicy::Sso)
                .with_previous_value(LoginPolicy::Password)
        );
        assert_eq!(
            encode(&v),
            json!({"new_value": {".tag": "sso"}, "previous_value": {".tag": "password"}})
        );
        assert_eq!(
            format!("{v:?}"),
            "LoginPolicyChangedDetails { new_value: Sso, previous_value: Some(Password) }"
        );

        // Integers stay exact, lists and structs decode as themselves, null is absent.
        let q: QuotaPolicyChangedDetails =
            decode(json!({"new_value": 18446744073709551615u64, "previous_value": null}));
        assert_eq!(q.new_value, u64::MAX);
        assert_eq!(q.previous_value, None);
        assert_eq!(encode(&q), json!({"new_value": 18446744073709551615u64}));
        let d: DomainsPolicyChangedDetails =
            decode(json!({"new_value": ["a.example", "b.example"]}));
        assert_eq!(d.new_value, ["a.example", "b.example"]);
        let s: events::StoragePolicyChangedDetails =
            decode(json!({"new_value": {"soft": 1, "hard": 2}}));
        assert_eq!(s.new_value, Limits::new(1, 2));

        let e = refused::<LoginPolicyChangedDetails>(json!({}));
        assert_eq!(e.matches("missing field `new_value`").count(), 2, "{e}");
        let e = refused::<SharingPolicyChangedDetails>(json!([]));
        assert_eq!(
            e.matches("struct SharingPolicyChangedDetails").count(),
            2,
            "{e}"
        );
        let e = refused::<QuotaPolicyChangedDetails>(json!({"new_value": -1}));
        assert_eq!(e.matches("invalid value").count(), 2, "{e}");
    }
}
