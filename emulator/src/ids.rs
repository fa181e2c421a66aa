//! Random identifiers: file ids, session ids, job ids, link ids, tokens and blob names.

use rand::Rng;
use rand::distr::Alphanumeric;

fn alnum(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// 32 lowercase hex digits (blob and temporary file names).
pub(crate) fn hex_id() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    hex::encode(bytes)
}

/// The `X-Dropbox-Request-Id` of a response: 32 lowercase hex digits, as Dropbox sends.
pub(crate) fn request_id() -> String {
    hex_id()
}

/// A file or folder id, `id:` plus 22 characters.
pub(crate) fn file_id() -> String {
    format!("id:{}", alnum(22))
}

/// An upload session id.
pub(crate) fn session_id() -> String {
    format!("pid_upload_session:{}", alnum(48))
}

/// A legacy v1 chunked-upload id.
pub(crate) fn v1_upload_id() -> String {
    alnum(22)
}

/// An async job id.
pub(crate) fn job_id() -> String {
    format!("dbjid:{}", alnum(40))
}

/// The secret part of a temporary upload link.
pub(crate) fn link_id() -> String {
    alnum(40)
}

/// An access token.
pub(crate) fn access_token() -> String {
    format!("sl.emu.{}", alnum(96))
}

/// A refresh token or an authorization code.
pub(crate) fn secret(n: usize) -> String {
    alnum(n)
}
