//! `Dropbox-API-Arg` escaping: any string, JSON-encoded then escaped, is printable ASCII and
//! parses back to the same string.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: String| {
    let json = serde_json::to_string(&s).expect("a string always encodes");
    let escaped = dropbox_api_runtime::header::escape_header_json(&json);
    assert!(escaped.bytes().all(|b| (0x20..0x7f).contains(&b)), "{escaped:?}");
    let back: String = serde_json::from_str(&escaped).expect("escaped JSON parses");
    assert_eq!(back, s);
});
