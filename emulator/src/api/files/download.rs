//! `files/download`: the file's metadata in `Dropbox-API-Result`, its bytes (or the
//! requested range) in the body.

use std::sync::Arc;

use axum::body::Body;
use axum::response::Response;
use dropbox_api::files as f;
use http::StatusCode;
use http::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderValue, RANGE};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::range::{RangeReq, parse_range};
use super::support::blocking;
use crate::api::call::Call;
use crate::api::convert::{file_metadata, lookup_error};
use crate::api::wire::{API_RESULT, Refusal, header_safe_json, text};
use crate::state::Shared;

pub(super) async fn download(
    shared: Arc<Shared>,
    call: Call,
    arg: f::DownloadArg,
) -> Result<Response, Refusal> {
    let store = shared.store.clone();
    let path = arg.path.clone();
    let rev = arg.rev.clone();
    let opened = blocking(move || store.open_file(&path, rev.as_deref())).await??;
    let (entry, info, file) = match opened {
        Ok(x) => x,
        Err(l) => return Err(Refusal::route(&f::DownloadError::Path(lookup_error(&l)))),
    };
    let meta = file_metadata(&entry, &info);
    let header = header_safe_json(&meta)?;
    let size = info.size;
    let range = parse_range(call.headers.get(RANGE).and_then(|v| v.to_str().ok()), size);
    let (status, start, len) = match range {
        RangeReq::Full => (StatusCode::OK, 0, size),
        RangeReq::Part(s, e) => (StatusCode::PARTIAL_CONTENT, s, e - s + 1),
        RangeReq::Unsatisfiable => {
            let mut r = text(StatusCode::RANGE_NOT_SATISFIABLE, "Range not satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(CONTENT_RANGE, v);
            }
            return Ok(r);
        }
    };
    let mut file = tokio::fs::File::from_std(file);
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start)).await?;
    }
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
    let mut resp = Response::new(Body::from_stream(stream));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(API_RESULT, header);
    h.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(CONTENT_LENGTH, HeaderValue::from(len));
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", start + len - 1))
    {
        h.insert(CONTENT_RANGE, v);
    }
    Ok(resp)
}
