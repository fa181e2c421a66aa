//! The two JSON codecs of the generated types side by side, on hand-picked edge cases: serde's
//! (`serde_json` through the generated `Serialize`/`Deserialize` impls) and the crate's own
//! (`dropbox_api::json`, what the clients use). For every document both decode the same
//! value or both refuse it, and every value decoded encodes to the same bytes through both
//! (bytes that decode again to an equal value).
//!
//! The one difference by design: `json::from_slice` checks that the whole document is UTF-8,
//! `serde_json` only the strings it reads, so invalid UTF-8 in a skipped value is refused by
//! one codec only (`non_utf8_input`).

use std::fmt::Debug;

use dropbox_api::auth::AuthError;
use dropbox_api::files::{
    self, CommitInfo, FileMetadata, GpsCoordinates, ListFolderResult, LookupError, Metadata,
    UploadSessionAppendError, UploadSessionFinishBatchJobStatus, WriteMode,
};
use dropbox_api::json;

/// What both codecs read and write.
trait Both: serde::Serialize + serde::de::DeserializeOwned + json::Json + PartialEq + Debug {}

impl<T> Both for T where
    T: serde::Serialize + serde::de::DeserializeOwned + json::Json + PartialEq + Debug
{
}

/// What the two codecs made of a document when they agree.
#[derive(Debug)]
enum Agreed<T> {
    /// Both decoded this value.
    Value(T),
    /// Both refused the document (`serde_json`'s message, then ours).
    Refused(String, String),
}

/// The document for messages: as text when it is UTF-8, shortened when long.
fn shown(input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let mut s: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        s.push_str(&format!("... ({} bytes)", input.len()));
    }
    format!("{s:?}")
}

/// Decodes `input` as `T` with both codecs; `Err` describes how they disagree.
fn compare<T: Both>(input: &[u8]) -> Result<Agreed<T>, String> {
    let serde = serde_json::from_slice::<T>(input);
    let ours = json::from_slice::<T>(input);
    let ty = std::any::type_name::<T>();
    let value = match (serde, ours) {
        (Ok(a), Ok(b)) if a == b => a,
        (Ok(a), Ok(b)) => {
            return Err(format!(
                "{ty} from {}: different values\n  serde_json: {a:?}\n  dropbox_api::json: {b:?}",
                shown(input)
            ));
        }
        (Err(a), Err(b)) => return Ok(Agreed::Refused(a.to_string(), b.to_string())),
        (Ok(a), Err(b)) => {
            return Err(format!(
                "{ty} from {}: serde_json decodes {a:?}, dropbox_api::json refuses: {b}",
                shown(input)
            ));
        }
        (Err(a), Ok(b)) => {
            return Err(format!(
                "{ty} from {}: serde_json refuses ({a}), dropbox_api::json decodes {b:?}",
                shown(input)
            ));
        }
    };
    encodings_agree(&value).map_err(|e| format!("{ty} from {}: {e}", shown(input)))?;
    Ok(Agreed::Value(value))
}

/// Both encoders write the same bytes (or both refuse the value), and those bytes decode to
/// an equal value through both decoders.
fn encodings_agree<T: Both>(value: &T) -> Result<(), String> {
    match (serde_json::to_vec(value), json::to_vec(value)) {
        (Ok(a), Ok(b)) if a == b => {
            let again: T = serde_json::from_slice(&a)
                .map_err(|e| format!("serde_json cannot decode {}: {e}", shown(&a)))?;
            let ours: T = json::from_slice(&a)
                .map_err(|e| format!("dropbox_api::json cannot decode {}: {e}", shown(&a)))?;
            if &again != value || &ours != value {
                return Err(format!(
                    "{value:?} encoded as {} decodes to {again:?} / {ours:?}",
                    shown(&a)
                ));
            }
            Ok(())
        }
        (Ok(a), Ok(b)) => Err(format!(
            "{value:?} encodes differently\n  serde_json: {}\n  dropbox_api::json: {}",
            shown(&a),
            shown(&b)
        )),
        (Err(_), Err(_)) => Ok(()),
        (Ok(a), Err(b)) => Err(format!(
            "{value:?}: serde_json encodes {}, dropbox_api::json refuses: {b}",
            shown(&a)
        )),
        (Err(a), Ok(b)) => Err(format!(
            "{value:?}: serde_json refuses ({a}), dropbox_api::json encodes {}",
            shown(&b)
        )),
    }
}

/// Both codecs decode `input` to the same value, which is returned.
#[track_caller]
fn accepted<T: Both>(input: &str) -> T {
    match compare::<T>(input.as_bytes()) {
        Ok(Agreed::Value(v)) => v,
        Ok(Agreed::Refused(a, b)) => panic!(
            "{} refused by both codecs: {input:?}\n  serde_json: {a}\n  dropbox_api::json: {b}",
            std::any::type_name::<T>()
        ),
        Err(e) => panic!("the codecs disagree: {e}"),
    }
}

/// Both codecs refuse `input`; returns our codec's message.
#[track_caller]
fn refused<T: Both>(input: &str) -> String {
    refused_bytes::<T>(input.as_bytes())
}

#[track_caller]
fn refused_bytes<T: Both>(input: &[u8]) -> String {
    match compare::<T>(input) {
        Ok(Agreed::Refused(_, ours)) => ours,
        Ok(Agreed::Value(v)) => panic!("{} accepted by both: {v:?}", shown(input)),
        Err(e) => panic!("the codecs disagree: {e}"),
    }
}

/// The codecs agree on `input` (whatever they make of it).
#[track_caller]
fn agree<T: Both>(input: &[u8]) -> Agreed<T> {
    compare::<T>(input).unwrap_or_else(|e| panic!("the codecs disagree: {e}"))
}

const FOLDER: &str =
    r#"{".tag":"folder","name":"Docs","id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs"}"#;

const FILE_FIELDS: &str = r#""name":"big.bin","id":"id:a4ayc_80_OEAAAAAAAAAXw","client_modified":"2026-03-14T09:26:53Z","server_modified":"2026-03-14T09:27:01Z","rev":"a1c10ce0dd78","size":18446744073709551615,"path_lower":"/big.bin","content_hash":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855""#;

fn file_doc() -> String {
    format!("{{{FILE_FIELDS}}}")
}

fn listing() -> String {
    format!(
        r#"{{"entries":[{{".tag":"file",{FILE_FIELDS}}},{FOLDER},{{".tag":"deleted","name":"gone.txt"}}],"cursor":"AAE","has_more":true}}"#
    )
}

#[test]
fn tag_first_last_or_in_the_middle() {
    let first = accepted::<Metadata>(FOLDER);
    assert!(matches!(first, Metadata::Folder(_)), "{first:?}");
    for doc in [
        r#"{"name":"Docs","id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs",".tag":"folder"}"#,
        r#"{"name":"Docs",".tag":"folder","id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs"}"#,
        r#"{ ".tag" : "folder" , "name" : "Docs" , "id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs"}"#,
        // The key and the tag written with escapes.
        r#"{"\u002etag":"folder","name":"Docs","id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs"}"#,
        r#"{"name":"Docs","\u002etag":"fol\u0064er","id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs"}"#,
        r#"{".tag":"\u0066older","name":"Docs","id":"id:a4ayc_80_OEAAAAAAAAAXw","path_lower":"/docs"}"#,
    ] {
        assert_eq!(accepted::<Metadata>(doc), first, "{doc}");
    }
    // A flattened struct member, a nested member and a void member, the tag on either side.
    for doc in [
        r#"{".tag":"incorrect_offset","correct_offset":4194304}"#,
        r#"{"correct_offset":4194304,".tag":"incorrect_offset"}"#,
    ] {
        let e = accepted::<UploadSessionAppendError>(doc);
        assert!(
            matches!(&e, UploadSessionAppendError::IncorrectOffset(o) if o.correct_offset == 4_194_304),
            "{e:?}"
        );
    }
    for doc in [
        r#"{".tag":"update","update":"a1c10ce0dd78"}"#,
        r#"{"update":"a1c10ce0dd78",".tag":"update"}"#,
        r#"{"x":1,".tag":"update","y":[2],"update":"a1c10ce0dd78","z":{}}"#,
    ] {
        assert_eq!(
            accepted::<WriteMode>(doc),
            WriteMode::Update("a1c10ce0dd78".into())
        );
    }
    for doc in [
        r#"{".tag":"complete","entries":[]}"#,
        r#"{"entries":[],".tag":"complete"}"#,
    ] {
        let s = accepted::<UploadSessionFinishBatchJobStatus>(doc);
        assert!(
            matches!(&s, UploadSessionFinishBatchJobStatus::Complete(r) if r.entries.is_empty()),
            "{s:?}"
        );
    }
    // No tag, or a tag that is not a string.
    for doc in [
        r#"{"name":"Docs","id":"id:x"}"#,
        r#"{".tag":5,"name":"Docs","id":"id:x"}"#,
        r#"{"name":"Docs","id":"id:x",".tag":null}"#,
        r#"{".tag":["folder"]}"#,
        r#"{}"#,
    ] {
        refused::<Metadata>(doc);
    }
}

#[test]
fn bare_strings_for_void_members() {
    assert_eq!(accepted::<WriteMode>(r#""add""#), WriteMode::Add);
    assert_eq!(
        accepted::<WriteMode>(r#""overwrite""#),
        WriteMode::Overwrite
    );
    assert_eq!(accepted::<WriteMode>(r#" "a\u0064d" "#), WriteMode::Add);
    assert_eq!(accepted::<WriteMode>(r#"{".tag":"add"}"#), WriteMode::Add);
    assert_eq!(
        accepted::<AuthError>(r#""expired_access_token""#),
        AuthError::ExpiredAccessToken
    );
    // An unknown tag of an open union is `Other`.
    assert_eq!(accepted::<AuthError>(r#""brand_new""#), AuthError::Other);
    assert_eq!(
        accepted::<UploadSessionFinishBatchJobStatus>(r#""in_progress""#),
        UploadSessionFinishBatchJobStatus::InProgress
    );
    assert_eq!(
        accepted::<LookupError>(r#""not_found""#),
        LookupError::NotFound
    );
    // A nullable member as a bare string is its null.
    assert_eq!(
        accepted::<LookupError>(r#""malformed_path""#),
        LookupError::MalformedPath(None)
    );
    // Members that carry a value, unknown tags of closed unions, polymorphic structs.
    refused::<WriteMode>(r#""update""#);
    refused::<WriteMode>(r#""brand_new""#);
    refused::<UploadSessionFinishBatchJobStatus>(r#""complete""#);
    refused::<Metadata>(r#""folder""#);
    refused::<Metadata>(r#""file""#);
    refused::<FileMetadata>(r#""file""#);
}

#[test]
fn unknown_fields_and_members_with_nested_values() {
    // (Numbers beyond `f64` in a skipped value: see `findings::huge_number_before_a_late_tag`.)
    let nested = r#"{"a":[1,-2.5e-3,{"b":null,"c":[[],{}]}],"d":"\u00e9\n","e":true,"f":1e300}"#;
    let plain = accepted::<FileMetadata>(&file_doc());
    for doc in [
        format!(r#"{{"future":{nested},{FILE_FIELDS}}}"#),
        format!(r#"{{{FILE_FIELDS},"future":{nested}}}"#),
        format!(r#"{{"future":{nested},{FILE_FIELDS},"future_2":[{nested}]}}"#),
    ] {
        assert_eq!(accepted::<FileMetadata>(&doc), plain);
        let tagged = accepted::<Metadata>(&doc.replacen('{', r#"{".tag":"file","#, 1));
        assert_eq!(tagged, Metadata::File(plain.clone()));
        let tag_last = format!("{},\".tag\":\"file\"}}", &doc[..doc.len() - 1]);
        assert_eq!(
            accepted::<Metadata>(&tag_last),
            Metadata::File(plain.clone())
        );
    }
    // Unknown members of an open union, with payloads of every shape.
    for doc in [
        format!(r#"{{".tag":"brand_new","brand_new":{nested}}}"#),
        format!(r#"{{"brand_new":{nested},".tag":"brand_new"}}"#),
        format!(r#"{{".tag":"brand_new","x":{nested},"y":[{nested}]}}"#),
        r#"{".tag":"brand_new","brand_new":5}"#.to_owned(),
        r#"{"brand_new":null,".tag":"brand_new"}"#.to_owned(),
    ] {
        assert_eq!(accepted::<AuthError>(&doc), AuthError::Other);
        assert_eq!(
            accepted::<UploadSessionAppendError>(&doc),
            UploadSessionAppendError::Other
        );
        refused::<WriteMode>(&doc);
    }
    // Extra keys beside a void member are ignored.
    for doc in [
        format!(r#"{{".tag":"add","extra":{nested}}}"#),
        format!(r#"{{"extra":{nested},".tag":"add"}}"#),
        r#"{".tag":"add","add":null}"#.to_owned(),
    ] {
        assert_eq!(accepted::<WriteMode>(&doc), WriteMode::Add);
    }
    // An unknown subtype of a closed polymorphic struct.
    refused::<Metadata>(r#"{".tag":"shortcut","name":"x"}"#);
    refused::<Metadata>(r#"{"name":"x",".tag":"shortcut"}"#);
}

#[test]
fn nulls_for_optional_and_required_fields() {
    let with_nulls = format!(
        r#"{{{FILE_FIELDS},"path_display":null,"media_info":null,"symlink_info":null,"sharing_info":null,"property_groups":null,"preview_url":null}}"#
    );
    assert_eq!(
        accepted::<FileMetadata>(&with_nulls),
        accepted::<FileMetadata>(&file_doc())
    );
    // An explicit null for a required field, for a defaulted one that is not nullable.
    for (field, value) in [
        ("name", "\"big.bin\""),
        ("size", "18446744073709551615"),
        ("client_modified", "\"2026-03-14T09:26:53Z\""),
        ("rev", "\"a1c10ce0dd78\""),
    ] {
        let doc = file_doc().replace(
            &format!("\"{field}\":{value}"),
            &format!("\"{field}\":null"),
        );
        assert_ne!(doc, file_doc());
        refused::<FileMetadata>(&doc);
        refused::<Metadata>(&doc.replacen('{', r#"{".tag":"file","#, 1));
    }
    let missing = file_doc().replace(r#""name":"big.bin","#, "");
    let e = refused::<FileMetadata>(&missing);
    assert!(e.contains("missing field `name`"), "{e}");
    refused::<FileMetadata>(&file_doc().replace(r#""name":"big.bin""#, r#""name":7"#));
    refused::<CommitInfo>(r#"{"path":"/a","autorename":null}"#);
    refused::<CommitInfo>(r#"{"path":null}"#);
    let c = accepted::<CommitInfo>(r#"{"path":"/a","client_modified":null,"mode":"add"}"#);
    assert_eq!(c.client_modified, None);
    // Members: a nullable one may be null or absent, a required one may not.
    for doc in [
        r#"{".tag":"malformed_path","malformed_path":null}"#,
        r#"{"malformed_path":null,".tag":"malformed_path"}"#,
        r#"{".tag":"malformed_path"}"#,
    ] {
        assert_eq!(
            accepted::<LookupError>(doc),
            LookupError::MalformedPath(None)
        );
    }
    refused::<WriteMode>(r#"{".tag":"update","update":null}"#);
    refused::<WriteMode>(r#"{"update":null,".tag":"update"}"#);
    refused::<WriteMode>(r#"{".tag":"update"}"#);
    refused::<UploadSessionAppendError>(r#"{".tag":"incorrect_offset","correct_offset":null}"#);
    refused::<UploadSessionAppendError>(r#"{".tag":"incorrect_offset"}"#);
    refused::<ListFolderResult>(r#"{"entries":null,"cursor":"AAE","has_more":false}"#);
}

#[test]
fn escapes_in_strings_and_keys() {
    let names = [
        (r#"caf\u00e9"#, "café"),
        (r#"caf\u00E9"#, "café"),
        ("café", "café"),
        (r#"\ud83d\ude00"#, "😀"),
        (r#"\uD83D\uDE00.txt"#, "😀.txt"),
        ("😀", "😀"),
        (r#"line\nbreak"#, "line\nbreak"),
        (r#"back\\slash"#, "back\\slash"),
        (r#"\"quoted\""#, "\"quoted\""),
        (r#"\/slash"#, "/slash"),
        (r#"\b\f\n\r\t"#, "\u{8}\u{c}\n\r\t"),
        (
            r#"\u0000\u0001\u001f\u007f\u2028\u2029"#,
            "\0\u{1}\u{1f}\u{7f}\u{2028}\u{2029}",
        ),
        (r#"\uffff\ufffd"#, "\u{ffff}\u{fffd}"),
        (r#"\udbff\udfff"#, "\u{10ffff}"),
        ("", ""),
        (
            r#"a very long name, longer than twenty-four bytes, with an escape \u00e9 in it"#,
            "a very long name, longer than twenty-four bytes, with an escape é in it",
        ),
    ];
    for (written, name) in names {
        let doc = format!(r#"{{".tag":"deleted","name":"{written}"}}"#);
        let m = accepted::<Metadata>(&doc);
        assert_eq!(m.name(), name, "{doc}");
        // The same name in the middle of a flattened struct and in a nested member.
        let f = accepted::<FileMetadata>(&file_doc().replace("big.bin", written));
        assert_eq!(f.name, name);
        let w = accepted::<WriteMode>(&format!(r#"{{".tag":"update","update":"{written}"}}"#));
        assert_eq!(w, WriteMode::Update(name.into()));
    }
    // Keys with escapes are the keys they stand for.
    let f = accepted::<FileMetadata>(&file_doc().replace(r#""name":"#, r#""n\u0061me":"#));
    assert_eq!(f.name, "big.bin");
    let f = accepted::<FileMetadata>(&file_doc().replace(r#""size":"#, r#""\u0073ize":"#));
    assert_eq!(f.size, u64::MAX);
    assert_eq!(
        accepted::<WriteMode>(r#"{".tag":"update","\u0075pdate":"a1c10ce0dd78"}"#),
        WriteMode::Update("a1c10ce0dd78".into())
    );
    // Timestamps and tags written with escapes.
    let f = accepted::<FileMetadata>(
        &file_doc().replace("2026-03-14T09:26:53Z", r#"2026-03-14T09:26:53\u005a"#),
    );
    assert_eq!(
        f.client_modified,
        accepted::<FileMetadata>(&file_doc()).client_modified
    );
    // Malformed escapes, lone surrogates and raw control characters in a string read.
    for bad in [
        r#"\ud800"#,
        r#"\udc00"#,
        r#"\ud800x"#,
        r#"\ud800\u0041"#,
        r#"\ud83d\ud83d"#,
        r#"\x"#,
        r#"\u12"#,
        r#"\u12g4"#,
        r#"\U00e9"#,
        "tab\there",
        "nul\0here",
        "new\nline",
        "\u{1f}",
    ] {
        refused::<Metadata>(&format!(r#"{{".tag":"deleted","name":"{bad}"}}"#));
        refused::<Metadata>(&format!(r#"{{"name":"{bad}",".tag":"deleted"}}"#));
        refused::<FileMetadata>(&file_doc().replace("big.bin", bad));
        refused::<WriteMode>(&format!(r#"{{".tag":"update","update":"{bad}"}}"#));
    }
}

#[test]
fn integers_at_and_past_their_limits() {
    let size = |n: &str| file_doc().replace("18446744073709551615", n);
    for (n, v) in [
        ("18446744073709551615", u64::MAX),
        ("18446744073709551614", u64::MAX - 1),
        ("0", 0),
        ("4294967296", 1 << 32),
        ("9007199254740993", (1 << 53) + 1),
    ] {
        assert_eq!(accepted::<FileMetadata>(&size(n)).size, v, "{n}");
    }
    for n in [
        "18446744073709551616",
        "99999999999999999999",
        "184467440737095516150",
        "-1",
        "-0",
        "-18446744073709551615",
        "1.0",
        "0.0",
        "1e3",
        "1E3",
        "1.5",
        "01",
        "00",
        "+1",
        "0x10",
        "\"5\"",
        "true",
        "null",
        "[]",
        "-",
        "1.",
        ".5",
        "1e",
        "NaN",
        "Infinity",
    ] {
        refused::<FileMetadata>(&size(n));
    }
    // The same in a flattened union member.
    for (n, ok) in [
        ("0", true),
        ("18446744073709551615", true),
        ("18446744073709551616", false),
        ("-1", false),
    ] {
        let doc = format!(r#"{{".tag":"incorrect_offset","correct_offset":{n}}}"#);
        match agree::<UploadSessionAppendError>(doc.as_bytes()) {
            Agreed::Value(_) => assert!(ok, "{doc}"),
            Agreed::Refused(..) => assert!(!ok, "{doc}"),
        }
    }
}

#[test]
fn floats_in_every_form() {
    for (n, v) in [
        ("0", 0.0),
        ("-0", -0.0),
        ("-0.0", -0.0),
        ("1", 1.0),
        ("1.5", 1.5),
        ("-1.5e2", -150.0),
        ("1E+2", 100.0),
        ("1e-2", 0.01),
        ("0.1", 0.1),
        ("51.5072", 51.5072),
        ("-0.1276", -0.1276),
        ("18446744073709551616", 18_446_744_073_709_551_616.0),
        ("1e308", 1e308),
        ("1e-400", 0.0),
        ("2.2250738585072014e-308", 2.2250738585072014e-308),
        ("4.9e-324", 4.9e-324),
    ] {
        let doc = format!(r#"{{"latitude":{n},"longitude":{n}}}"#);
        let g = accepted::<GpsCoordinates>(&doc);
        assert_eq!(g.latitude, v, "{doc}");
        assert_eq!(g.latitude.is_sign_negative(), v.is_sign_negative(), "{doc}");
    }
    for n in [
        "1e400", "-1e400", "1.", ".5", "01.5", "1e+", "NaN", "\"1.5\"", "null",
    ] {
        refused::<GpsCoordinates>(&format!(r#"{{"latitude":{n},"longitude":0}}"#));
    }
    // Values that cannot be written as JSON numbers: both encoders write `null`.
    for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let g = GpsCoordinates::new(v, 1.0);
        let written = json::to_string(&g).unwrap();
        assert_eq!(written, r#"{"latitude":null,"longitude":1.0}"#);
        assert_eq!(serde_json::to_string(&g).unwrap(), written);
    }
    for v in [
        0.1,
        -0.0,
        1e21,
        1e-7,
        123456789.0,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
    ] {
        encodings_agree(&GpsCoordinates::new(v, v)).unwrap();
    }
}

#[test]
fn whitespace_everywhere() {
    let compact = accepted::<ListFolderResult>(&listing());
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&listing()).unwrap(),
    )
    .unwrap();
    assert_eq!(accepted::<ListFolderResult>(&pretty), compact);
    // Every kind of JSON whitespace between every two tokens (outside strings).
    let mut spaced = String::from(" \t\r\n");
    let mut in_string = false;
    let mut escaped = false;
    for c in listing().chars() {
        if in_string {
            spaced.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                spaced.push(c);
                in_string = true;
            }
            '{' | '}' | '[' | ']' | ',' | ':' => {
                spaced.push_str("\n\t ");
                spaced.push(c);
                spaced.push_str(" \r\n");
            }
            _ => spaced.push(c),
        }
    }
    spaced.push_str("\n\n");
    assert_eq!(accepted::<ListFolderResult>(&spaced), compact);
    assert_eq!(accepted::<WriteMode>("\n\t\"add\"\r "), WriteMode::Add);
    // Anything else is not whitespace.
    for other in ["\u{a0}", "\u{feff}", "\u{b}", "\u{c}", "\u{2028}"] {
        refused::<WriteMode>(&format!("{other}\"add\""));
        refused::<WriteMode>(&format!("{{{other}\".tag\":\"add\"}}"));
        refused::<WriteMode>(&format!("\"add\"{other}"));
    }
}

#[test]
fn trailing_characters() {
    for tail in ["x", "}", "]", ",", "{}", "\"add\"", "0", "null", " /", "\0"] {
        refused::<WriteMode>(&format!(r#"{{".tag":"add"}}{tail}"#));
        refused::<WriteMode>(&format!(r#""add"{tail}"#));
        refused::<WriteMode>(&format!(r#"{{"x":1,".tag":"add"}} {tail}"#));
        refused::<ListFolderResult>(&format!("{} {tail}", listing()));
        refused::<FileMetadata>(&format!("{}{tail}", file_doc()));
    }
    // Trailing commas and comments are not JSON.
    refused::<WriteMode>(r#"{".tag":"add",}"#);
    refused::<ListFolderResult>(r#"{"entries":[],"cursor":"AAE","has_more":true,}"#);
    refused::<ListFolderResult>(r#"{"entries":[,],"cursor":"AAE","has_more":true}"#);
    refused::<ListFolderResult>(r#"{"entries":[] /* none */,"cursor":"AAE","has_more":true}"#);
    assert_eq!(accepted::<WriteMode>("\"add\"  \n"), WriteMode::Add);
}

#[test]
fn truncated_documents() {
    let docs = [
        listing(),
        file_doc(),
        FOLDER.to_owned(),
        r#"{"name":"caf\u00e9 \ud83d\ude00",".tag":"deleted","x":[1.5e3,true,null,{}]}"#.to_owned(),
        r#"{".tag":"update","update":"a1c10ce0dd78"}"#.to_owned(),
        r#""overwrite""#.to_owned(),
        r#"{"latitude":-1.5e-3,"longitude":0.25}"#.to_owned(),
    ];
    for doc in &docs {
        for end in 0..doc.len() {
            let Some(prefix) = doc.get(..end) else {
                continue;
            };
            let input = prefix.as_bytes();
            for outcome in [
                matches!(agree::<ListFolderResult>(input), Agreed::Refused(..)),
                matches!(agree::<FileMetadata>(input), Agreed::Refused(..)),
                matches!(agree::<Metadata>(input), Agreed::Refused(..)),
                matches!(agree::<WriteMode>(input), Agreed::Refused(..)),
                matches!(agree::<GpsCoordinates>(input), Agreed::Refused(..)),
            ] {
                assert!(outcome, "a prefix decoded: {prefix:?}");
            }
        }
    }
    for empty in ["", " ", "\n"] {
        let e = refused::<WriteMode>(empty);
        assert!(e.contains("EOF"), "{e}");
    }
}

#[test]
fn not_json_or_the_wrong_kind_of_value() {
    for doc in [
        "null", "true", "false", "0", "-1", "1.5", "[]", "[{}]", "{}", "\"\"", "nul", "tru",
        "{\"a\"}", "{\"a\":}", "{:1}", "{1:2}", "{'a':1}", "[1", "{\"a\":1", "'add'", "add",
    ] {
        agree::<WriteMode>(doc.as_bytes());
        agree::<AuthError>(doc.as_bytes());
        refused::<Metadata>(doc);
        refused::<FileMetadata>(doc);
        refused::<ListFolderResult>(doc);
        refused::<UploadSessionFinishBatchJobStatus>(doc);
        refused::<GpsCoordinates>(doc);
    }
}

#[test]
fn non_utf8_input() {
    // In a string that is read, both refuse it.
    for doc in [
        b"\"ad\xffd\"".as_slice(),
        b"{\".tag\":\"ad\xc3\"}",
        b"{\".tag\":\"deleted\",\"name\":\"\xed\xa0\x80\"}",
        b"{\".tag\":\"deleted\",\"name\":\"\xf8\x88\x80\x80\x80\"}",
        b"{\"name\":\"\xc0\xaf\",\".tag\":\"deleted\"}",
        b"\xef\xbb\xbf\"add\"",
    ] {
        refused_bytes::<Metadata>(doc);
        refused_bytes::<WriteMode>(doc);
    }
    // In a skipped value or key, only `json::from_slice` (which checks the whole document
    // first) refuses it; `json::from_str` cannot be given such a document.
    for doc in [
        b"{\".tag\":\"deleted\",\"name\":\"a\",\"future\":\"\xff\"}".as_slice(),
        b"{\".tag\":\"deleted\",\"name\":\"a\",\"\xff\":1}",
        b"{\".tag\":\"add\",\"future\":\"\xc3\"}",
    ] {
        for e in [
            json::from_slice::<Metadata>(doc).map(|_| ()),
            json::from_slice::<WriteMode>(doc).map(|_| ()),
        ] {
            let e = e.unwrap_err();
            assert_eq!(e.kind(), &json::ErrorKind::InvalidUtf8, "{e}");
        }
    }
}

fn nested_arrays(depth: usize) -> String {
    "[".repeat(depth) + &"]".repeat(depth)
}

fn nested_objects(depth: usize) -> String {
    "{\"a\":".repeat(depth) + "1" + &"}".repeat(depth)
}

/// Objects and lists of typed values nest at most 127 levels deep, counted over the whole
/// document (a list folder page is three levels deep, page, entry list and entry, before an
/// entry's values); skipped values (unknown fields, members of other tags) nest without a
/// limit, in both codecs, as `serde_json` skips them. (Values buffered by the serde impls
/// before a late `.tag` are the exception: see `late_tag_buffering`.)
#[test]
fn nesting_within_the_limit() {
    for depth in [1, 10, 100, 120, 127, 128, 200, 10_000] {
        for inner in [nested_arrays(depth), nested_objects(depth)] {
            let doc = format!(r#"{{".tag":"deleted","name":"x","future":{inner}}}"#);
            accepted::<Metadata>(&doc);
            let doc = format!(
                r#"{{"entries":[{{".tag":"deleted","name":"x","f":{inner}}}],"cursor":"c","has_more":false}}"#
            );
            accepted::<ListFolderResult>(&doc);
        }
    }
    // A typed value nested past the limit: a list of lists of ... of entries.
    let deep_typed = |depth: usize| {
        format!(
            r#"{{"entries":{}{{".tag":"deleted","name":"x"}}{},"cursor":"c","has_more":false}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        )
    };
    refused::<ListFolderResult>(&deep_typed(2));
    // At the limit with a late `.tag` (the outer object and 126 levels inside).
    for inner in [nested_arrays(126), nested_objects(126)] {
        accepted::<AuthError>(&format!(r#"{{"future":{inner},".tag":"brand_new"}}"#));
        accepted::<Metadata>(&format!(
            r#"{{"future":{inner},".tag":"deleted","name":"x"}}"#
        ));
    }
}

/// What used to differ between the codecs and no longer does: skipped values nested deeper
/// than 127 levels and lone surrogate escapes in skipped strings (accepted by both, as
/// `serde_json` skips them), a repeated `.tag` after another key (the first counts in both),
/// and decimal numbers (both round to the nearest `f64`: `serde_json`'s `float_roundtrip`
/// feature is on in the workspace).
#[test]
fn skipped_values_repeated_tags_and_floats() {
    let deep = nested_arrays(127);
    assert!(matches!(
        agree::<WriteMode>(format!(r#"{{".tag":"add","future":{deep}}}"#).as_bytes()),
        Agreed::Value(WriteMode::Add)
    ));
    agree::<files::DeletedMetadata>(format!(r#"{{"name":"x","future":{deep}}}"#).as_bytes());
    assert!(matches!(
        agree::<WriteMode>(br#"{".tag":"add","future":"\ud800"}"#),
        Agreed::Value(WriteMode::Add)
    ));
    accepted::<files::DeletedMetadata>(r#"{"name":"x","future":{"\udc00":1}}"#);
    refused::<files::DeletedMetadata>(r#"{"name":"\ud800"}"#);
    assert_eq!(
        accepted::<WriteMode>(r#"{"x":1,".tag":"add",".tag":"overwrite"}"#),
        WriteMode::Add
    );
    assert_eq!(
        accepted::<WriteMode>(r#"{"x":1,".tag":"add",".tag":5}"#),
        WriteMode::Add
    );
    let g = accepted::<GpsCoordinates>(r#"{"latitude":10.563560899999999,"longitude":0.0}"#);
    assert_eq!(g.latitude, 10.563560899999999);
    let g = accepted::<GpsCoordinates>(r#"{"latitude":7.45785936e62,"longitude":0}"#);
    assert_eq!(g.latitude, 7.45785936e62);
    encodings_agree(&g).unwrap();
}

#[test]
fn repeated_keys() {
    // A repeated field: the last value counts.
    let f = accepted::<FileMetadata>(&format!(r#"{{{FILE_FIELDS},"name":"again.bin"}}"#));
    assert_eq!(f.name, "again.bin");
    let f = accepted::<FileMetadata>(&format!(r#"{{"size":1,{FILE_FIELDS}}}"#));
    assert_eq!(f.size, u64::MAX);
    agree::<FileMetadata>(format!(r#"{{{FILE_FIELDS},"size":null}}"#).as_bytes());
    agree::<FileMetadata>(format!(r#"{{{FILE_FIELDS},"path_lower":null}}"#).as_bytes());
    // A repeated member key: the first value counts.
    for doc in [
        r#"{".tag":"update","update":"a1c10ce0dd78","update":"b1c10ce0dd78"}"#,
        r#"{"update":"a1c10ce0dd78",".tag":"update","update":"b1c10ce0dd78"}"#,
    ] {
        agree::<WriteMode>(doc.as_bytes());
    }
    // A repeated `.tag`, first.
    for doc in [
        r#"{".tag":"add",".tag":"overwrite"}"#,
        r#"{".tag":"add",".tag":5}"#,
        r#"{".tag":"folder",".tag":"deleted","name":"x","id":"id:x"}"#,
    ] {
        agree::<WriteMode>(doc.as_bytes());
        agree::<Metadata>(doc.as_bytes());
    }
}

#[test]
fn encodings_of_built_values_agree() {
    let mut f = accepted::<FileMetadata>(&file_doc());
    f.name = "\0\u{1}\u{1f} \"\\/\u{7f}\u{80}\u{2028}é😀\n\r\t\u{8}\u{c}".into();
    f.path_display = Some("/a/long path that does not fit in twenty-four bytes/é".into());
    encodings_agree(&f).unwrap();
    encodings_agree(&Metadata::File(f.clone())).unwrap();
    encodings_agree(&files::UploadSessionFinishBatchResultEntry::Success(f)).unwrap();
    encodings_agree(&accepted::<ListFolderResult>(&listing())).unwrap();
    // The catch-all of an open union is written as the tag `other` by both (validation, not
    // encoding, keeps it from being sent).
    assert_eq!(
        json::to_string(&AuthError::Other).unwrap(),
        r#"{".tag":"other"}"#
    );
    encodings_agree(&AuthError::Other).unwrap();
    encodings_agree(&vec![AuthError::InvalidAccessToken, AuthError::Other]).unwrap();
}

/// The one place the codecs differ, by design: when `.tag` is not an object's first key, the
/// serde impls cannot go back, so they buffer the entries before it as `serde_json::Value`
/// (see `TaggedVisitor`), and `Value` refuses numbers beyond `f64`, keeps only the last
/// value of a repeated key, and counts nesting like typed values. This crate's codec reads
/// the object twice instead, so a late `.tag` changes nothing: the same document decodes as
/// it does with `.tag` first, in both codecs. Dropbox writes `.tag` first.
mod late_tag_buffering {
    use super::*;

    /// Our codec, with `.tag` first or late, gives `want`; the serde impls give it only
    /// with `.tag` first.
    #[track_caller]
    fn same_as_tag_first<T: Both>(late: &str, first: &str) {
        let want = accepted::<T>(first);
        assert_eq!(json::from_str::<T>(late).unwrap(), want, "{late}");
    }

    #[test]
    fn a_number_beyond_f64_before_a_late_tag() {
        same_as_tag_first::<WriteMode>(
            r#"{"future":1e999,".tag":"add"}"#,
            r#"{".tag":"add","future":1e999}"#,
        );
        assert!(serde_json::from_str::<WriteMode>(r#"{"future":1e999,".tag":"add"}"#).is_err());
    }

    #[test]
    fn a_repeated_key_before_a_late_tag() {
        let late = r#"{"entries":[{".tag":"failure","failure":"payload_too_large","failure":5}],".tag":"complete"}"#;
        let first = r#"{".tag":"complete","entries":[{".tag":"failure","failure":"payload_too_large","failure":5}]}"#;
        same_as_tag_first::<UploadSessionFinishBatchJobStatus>(late, first);
        // `Value` kept the last `failure`, which is no error type.
        assert!(serde_json::from_str::<UploadSessionFinishBatchJobStatus>(late).is_err());
    }

    #[test]
    fn deep_nesting_before_a_late_tag() {
        let deep = nested_arrays(127);
        same_as_tag_first::<WriteMode>(
            &format!(r#"{{"future":{deep},".tag":"add"}}"#),
            &format!(r#"{{".tag":"add","future":{deep}}}"#),
        );
        assert!(
            serde_json::from_str::<WriteMode>(&format!(r#"{{"future":{deep},".tag":"add"}}"#))
                .is_err()
        );
    }
}
