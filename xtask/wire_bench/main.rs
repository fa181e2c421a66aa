//! The wire benchmark of `cargo xtask bench --only wire`: the same Dropbox JSON decoded and
//! encoded with the types generated from the official spec by this repository (`ours`,
//! the full-spec crate) and with the official Rust SDK's types (`dropbox-sdk`).
//!
//! This file is not part of the workspace: xtask copies it into a scratch crate that depends
//! on both (the official crate comes from the package registry), builds it in release mode and
//! runs it. `cargo test --workspace` never builds it.
//!
//! - `wire-bench [ROUNDS]`: interleaved rounds; prints one `ROW` line per measurement:
//!   `ROW<TAB>name<TAB>bytes<TAB>ours median ns<TAB>official median ns<TAB>ours min<TAB>official min`.
//! - `wire-bench profile ours|official decode|encode list|team N`: one operation N times (for
//!   callgrind or a profiler).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// `list_folder` result: 10,000 entries; nine in ten files with `sharing_info`, timestamps,
/// rev, size and content hash, one in ten folders.
fn list_folder_json(n: usize) -> String {
    let mut out = String::with_capacity(n * 520);
    out.push_str("{\"entries\":[");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        if i % 10 == 9 {
            let _ = write!(
                out,
                "{{\".tag\":\"folder\",\"name\":\"Folder {i}\",\"path_lower\":\"/photos/folder {i}\",\
                 \"path_display\":\"/Photos/Folder {i}\",\"id\":\"id:fOlDeR{i:012}\",\
                 \"sharing_info\":{{\"read_only\":false,\"parent_shared_folder_id\":\"84528192421\",\
                 \"traverse_only\":false,\"no_access\":false}}}}"
            );
        } else {
            let secs = 1_773_480_413 + i as i64 * 37;
            let (cm, sm) = (timestamp(secs), timestamp(secs + 3_600));
            let _ = write!(
                out,
                "{{\".tag\":\"file\",\"name\":\"IMG_{i:05}.jpg\",\"path_lower\":\"/photos/img_{i:05}.jpg\",\
                 \"path_display\":\"/Photos/IMG_{i:05}.jpg\",\"id\":\"id:a4ayc_80_OEAAAAAAA{i:06}\",\
                 \"client_modified\":\"{cm}\",\"server_modified\":\"{sm}\",\
                 \"rev\":\"{:015x}\",\"size\":{},\
                 \"sharing_info\":{{\"read_only\":true,\"parent_shared_folder_id\":\"84528192421\",\
                 \"modified_by\":\"dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc\"}},\
                 \"is_downloadable\":true,\"content_hash\":\"{:064x}\"}}",
                i as u64 * 7919 + 0x1c10ce0dd78,
                1_000_000 + i as u64 * 31,
                i as u128 * 0x9e37_79b9_7f4a_7c15,
            );
        }
    }
    out.push_str("],\"cursor\":\"");
    out.push_str(&"AAFcUrSoR".repeat(8));
    out.push_str("\",\"has_more\":true}");
    out
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (days from the civil-from-days algorithm).
fn timestamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// One `team_log/get_events` page: 1,000 events of ten kinds (details and event types
/// spread over the two unions of several hundred members).
fn team_log_json(n: usize) -> String {
    // (category, event type, details fields after the tag)
    const KINDS: &[(&str, &str, &str)] = &[
        (
            "sharing",
            "shared_content_download",
            ",\"shared_content_access_level\":{\".tag\":\"viewer\"},\"shared_content_link\":\"abc\",\
             \"shared_content_owner\":{\".tag\":\"non_team_member\",\"account_id\":\"dbid:AAHgR8xsQP48a5DQUGPo-Vxsrjd0OByVmho\",\
             \"display_name\":\"John Smith\",\"email\":\"john_smith@acmecorp.com\"}",
        ),
        ("file_operations", "file_add", ""),
        (
            "logins",
            "login_success",
            ",\"is_emm_managed\":false,\"login_method\":{\".tag\":\"two_factor_authentication\"}",
        ),
        (
            "members",
            "member_change_status",
            ",\"previous_value\":{\".tag\":\"invited\"},\"new_value\":{\".tag\":\"active\"}",
        ),
        (
            "paper",
            "paper_doc_view",
            ",\"event_uuid\":\"c2a9b4f0-3c2b-4f5e-8d7a-1b2c3d4e5f60\"",
        ),
        (
            "file_operations",
            "file_rename",
            ",\"relocate_action_details\":[{\"src_asset_index\":0,\"dest_asset_index\":1}]",
        ),
        (
            "tfa",
            "tfa_change_status",
            ",\"new_value\":{\".tag\":\"authenticator\"},\"previous_value\":{\".tag\":\"disabled\"},\"used_rescue_code\":false",
        ),
        (
            "sharing",
            "shared_link_create",
            ",\"shared_link_access_level\":{\".tag\":\"reader\"}",
        ),
        ("groups", "group_add_member", ",\"is_group_owner\":false"),
        ("logins", "sign_in_as_session_start", ""),
    ];
    let mut out = String::with_capacity(n * 1500);
    out.push_str("{\"events\":[");
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let (category, kind, details) = KINDS[i % KINDS.len()];
        let ts = timestamp(1_485_359_490 + i as i64 * 61);
        let _ = write!(
            out,
            "{{\"timestamp\":\"{ts}\",\"event_category\":{{\".tag\":\"{category}\"}},\
             \"actor\":{{\".tag\":\"user\",\"user\":{{\".tag\":\"team_member\",\
             \"account_id\":\"dbid:AAHgR8xsQP48a5DQUGPo-Vx{i:011}\",\"display_name\":\"Member {i}\",\
             \"email\":\"member{i}@acmecorp.com\",\"team_member_id\":\"dbmid:AAFoi-tmvRuQR0jU-3fN4B-{i:012}\"}}}},\
             \"origin\":{{\"geo_location\":{{\"city\":\"San Francisco\",\"region\":\"California\",\
             \"country\":\"US\",\"ip_address\":\"45.56.78.{}\"}},\
             \"access_method\":{{\".tag\":\"end_user\",\"end_user\":{{\".tag\":\"web\",\
             \"session_id\":\"dbwsid:1234567890123456789012345678{i:011}\"}}}}}},\
             \"involve_non_team_member\":false,\
             \"context\":{{\".tag\":\"team_member\",\"account_id\":\"dbid:AAHgR8xsQP48a5DQUGPo-Vx{i:011}\",\
             \"display_name\":\"Member {i}\",\"email\":\"member{i}@acmecorp.com\",\
             \"team_member_id\":\"dbmid:AAFoi-tmvRuQR0jU-3fN4B-{i:012}\"}},\
             \"participants\":[],\
             \"assets\":[{{\".tag\":\"file\",\"path\":{{\"contextual\":\"/Contract Work/Draft {i}\",\
             \"namespace_relative\":{{\"ns_id\":\"1234\",\"relative_path\":\"/Contract Work/Draft {i}\",\
             \"is_shared_namespace\":false}}}},\"display_name\":\"reports {i}.xls\",\
             \"file_id\":\"id:jQKLsZFQImAAAAAAE{i:06}\",\"file_size\":{}}}],\
             \"event_type\":{{\".tag\":\"{kind}\",\"description\":\"The description of {kind}\"}},\
             \"details\":{{\".tag\":\"{kind}_details\"{details}}}}}",
            i % 250,
            4096 + i * 17,
        );
    }
    out.push_str(
        "],\"cursor\":\"ZtkX9_EHj3x7PMkVuFIhwKYXEpwpLwyxp9vMKomUhllil9q7eWiAu\",\"has_more\":true}",
    );
    out
}

type OursList = dropbox_api::files::ListFolderResult;
type TheirsList = dropbox_sdk::types::files::ListFolderResult;
type OursTeam = dropbox_api::team_log::GetTeamEventsResult;
type TheirsTeam = dropbox_sdk::types::team_log::GetTeamEventsResult;

/// Both sides read the document; ours writes back the same JSON value (key order aside), and
/// what the official types write (they leave out fields at their default) reads back with
/// ours as the same value: both hold the same information.
fn check_same<O, T>(label: &str, json: &str) -> Result<(O, T), String>
where
    O: serde::Serialize + for<'de> serde::Deserialize<'de> + PartialEq,
    T: serde::Serialize + for<'de> serde::Deserialize<'de>,
{
    let ours: O = serde_json::from_str(json).map_err(|e| format!("{label}: ours: {e}"))?;
    let theirs: T = serde_json::from_str(json).map_err(|e| format!("{label}: official: {e}"))?;
    let input: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let a = serde_json::to_value(&ours).map_err(|e| e.to_string())?;
    if a != input {
        let at = first_difference(&input, &a, "");
        println!("WARN\t{label}: ours does not write back the input: {at}");
    }
    let b = serde_json::to_string(&theirs).map_err(|e| e.to_string())?;
    let again: O =
        serde_json::from_str(&b).map_err(|e| format!("{label}: official output: {e}"))?;
    if again != ours {
        let b: serde_json::Value = serde_json::from_str(&b).map_err(|e| e.to_string())?;
        let at = first_difference(&input, &b, "");
        println!("WARN\t{label}: the official output holds other values: {at}");
    }
    Ok((ours, theirs))
}

fn time<R>(f: impl FnOnce() -> R) -> Duration {
    let t = Instant::now();
    black_box(f());
    t.elapsed()
}

struct Pair {
    name: &'static str,
    bytes: usize,
    ours: Vec<Duration>,
    theirs: Vec<Duration>,
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run(rounds: usize) -> Result<(), String> {
    let list = list_folder_json(10_000);
    let team = team_log_json(1_000);
    let (list_ours, list_theirs) = check_same::<OursList, TheirsList>("list_folder", &list)?;
    let (team_ours, team_theirs) = check_same::<OursTeam, TheirsTeam>("team_log", &team)?;
    let mut rows = [
        ("decode list_folder, 10,000 entries", list.len()),
        ("encode list_folder, 10,000 entries", list.len()),
        ("decode team_log/get_events, 1,000 events", team.len()),
        ("encode team_log/get_events, 1,000 events", team.len()),
    ]
    .map(|(name, bytes)| Pair {
        name,
        bytes,
        ours: Vec::new(),
        theirs: Vec::new(),
    });
    // One warm-up round, then `rounds` rounds; within a round each operation runs once with
    // our types and once with the official ones, the order alternating between rounds.
    for round in 0..=rounds {
        let ours_first = round % 2 == 0;
        let mut pairs: [(Duration, Duration); 4] = Default::default();
        for side in [ours_first, !ours_first] {
            let t = if side {
                [
                    time(|| dropbox_api::json::from_str::<OursList>(&list).map(|_| ())),
                    time(|| dropbox_api::json::to_vec(&list_ours).map(|s| s.len())),
                    time(|| dropbox_api::json::from_str::<OursTeam>(&team).map(|_| ())),
                    time(|| dropbox_api::json::to_vec(&team_ours).map(|s| s.len())),
                ]
            } else {
                [
                    time(|| serde_json::from_str::<TheirsList>(&list).map(|_| ())),
                    time(|| serde_json::to_vec(&list_theirs).map(|s| s.len())),
                    time(|| serde_json::from_str::<TheirsTeam>(&team).map(|_| ())),
                    time(|| serde_json::to_vec(&team_theirs).map(|s| s.len())),
                ]
            };
            for (p, t) in pairs.iter_mut().zip(t) {
                if side {
                    p.0 = t;
                } else {
                    p.1 = t;
                }
            }
        }
        if round > 0 {
            for (row, (o, t)) in rows.iter_mut().zip(pairs) {
                row.ours.push(o);
                row.theirs.push(t);
            }
        }
    }
    for row in &mut rows {
        let (mo, mt) = (median(&mut row.ours), median(&mut row.theirs));
        println!(
            "ROW\t{}\t{}\t{}\t{}\t{}\t{}",
            row.name,
            row.bytes,
            mo.as_nanos(),
            mt.as_nanos(),
            row.ours[0].as_nanos(),
            row.theirs[0].as_nanos()
        );
    }
    Ok(())
}

fn profile(side: &str, op: &str, payload: &str, n: usize) -> Result<(), String> {
    let list = list_folder_json(10_000);
    let team = team_log_json(1_000);
    let (list_ours, list_theirs) = check_same::<OursList, TheirsList>("list_folder", &list)?;
    let (team_ours, team_theirs) = check_same::<OursTeam, TheirsTeam>("team_log", &team)?;
    for _ in 0..n {
        match (side, op, payload) {
            ("ours", "decode", "list") => {
                drop(black_box(dropbox_api::json::from_str::<OursList>(&list)))
            }
            ("official", "decode", "list") => {
                drop(black_box(serde_json::from_str::<TheirsList>(&list)))
            }
            ("ours", "decode", "team") => {
                drop(black_box(dropbox_api::json::from_str::<OursTeam>(&team)))
            }
            ("official", "decode", "team") => {
                drop(black_box(serde_json::from_str::<TheirsTeam>(&team)))
            }
            ("ours", "encode", "list") => drop(black_box(dropbox_api::json::to_vec(&list_ours))),
            ("official", "encode", "list") => drop(black_box(serde_json::to_vec(&list_theirs))),
            ("ours", "encode", "team") => drop(black_box(dropbox_api::json::to_vec(&team_ours))),
            ("official", "encode", "team") => drop(black_box(serde_json::to_vec(&team_theirs))),
            _ => return Err("usage: profile ours|official decode|encode list|team N".into()),
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("profile") if args.len() == 5 => match args[4].parse() {
            Ok(n) => profile(&args[1], &args[2], &args[3], n),
            Err(e) => Err(format!("N: {e}")),
        },
        Some("dump") => {
            println!("{}", list_folder_json(10_000));
            println!("{}", team_log_json(1_000));
            Ok(())
        }
        Some(n) => n.parse().map_err(|e| format!("ROUNDS: {e}")).and_then(run),
        None => run(21),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wire-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The path of the first place where two JSON values differ.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, path: &str) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) if w == v => {}
                    Some(w) => return first_difference(v, w, &format!("{path}.{k}")),
                    None => return format!("{path}.{k}: only in the input"),
                }
            }
            for k in y.keys() {
                if !x.contains_key(k) {
                    return format!("{path}.{k}: {} only in the output", y[k]);
                }
            }
            String::new()
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find(|(_, (v, w))| v != w)
            .map(|(i, (v, w))| first_difference(v, w, &format!("{path}[{i}]")))
            .unwrap_or_default(),
        _ => format!("{path}: {a} in the input, {b} in the output"),
    }
}
