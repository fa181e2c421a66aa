//! Test client: reqwest plus the generated `dropbox-api` types on the wire.
#![allow(dead_code)]

use std::time::Duration;

use dbx_emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Starts an emulator without fsync (faster tests; durability has its own tests).
pub async fn start() -> EmulatorHandle {
    start_with(EmulatorConfig {
        durable: false,
        ..EmulatorConfig::default()
    })
    .await
}

/// Starts an emulator with a config.
pub async fn start_with(config: EmulatorConfig) -> EmulatorHandle {
    Emulator::start(config).await.expect("emulator starts")
}

/// A response: status, headers, body.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    /// The body as a generated result type (asserts 200).
    pub fn ok<T: DeserializeOwned>(&self) -> T {
        assert_eq!(self.status, StatusCode::OK, "body: {}", self.text());
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("cannot decode ({e}): {}", self.text()))
    }
    /// The `error` of a 409 envelope as a generated error type, plus `error_summary`.
    pub fn conflict<E: DeserializeOwned>(&self) -> (E, String) {
        assert_eq!(self.status, StatusCode::CONFLICT, "body: {}", self.text());
        let v = self.json();
        let summary = v["error_summary"]
            .as_str()
            .expect("error_summary")
            .to_string();
        let e = serde_json::from_value(v["error"].clone())
            .unwrap_or_else(|e| panic!("cannot decode error ({e}): {}", self.text()));
        (e, summary)
    }
}

/// JSON for `Dropbox-API-Arg`, with everything outside printable ASCII escaped.
pub fn header_json<T: Serialize>(arg: &T) -> String {
    let s = serde_json::to_string(arg).unwrap();
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for u in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// A client bound to one emulator.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
}

impl Api {
    pub fn new(emu: &EmulatorHandle) -> Api {
        Api {
            base: emu.base_url().to_string(),
            token: emu.access_token().to_string(),
            http: dropbox_api::http_client_builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
        }
    }

    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: token.to_string(),
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let r = req.send().await.expect("request sent");
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("body read").to_vec();
        Resp {
            status,
            headers,
            body,
        }
    }

    /// An rpc call with a generated argument type.
    pub async fn rpc<A: Serialize>(&self, route: &str, arg: &A) -> Resp {
        self.send(
            self.http
                .post(self.url(&format!("/2/{route}")))
                .bearer_auth(&self.token)
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(arg).unwrap()),
        )
        .await
    }

    /// An upload call with a generated argument type.
    pub async fn upload<A: Serialize>(
        &self,
        route: &str,
        arg: &A,
        body: impl Into<reqwest::Body>,
    ) -> Resp {
        self.send(
            self.http
                .post(self.url(&format!("/2/{route}")))
                .bearer_auth(&self.token)
                .header("Content-Type", "application/octet-stream")
                .header("Dropbox-API-Arg", header_json(arg))
                .body(body),
        )
        .await
    }

    /// A download call; `range` is the raw Range header value.
    pub async fn download<A: Serialize>(&self, route: &str, arg: &A, range: Option<&str>) -> Resp {
        let mut req = self
            .http
            .post(self.url(&format!("/2/{route}")))
            .bearer_auth(&self.token)
            .header("Dropbox-API-Arg", header_json(arg));
        if let Some(r) = range {
            req = req.header("Range", r);
        }
        self.send(req).await
    }

    /// Uploads a whole file with files/upload (mode add) and returns its metadata.
    pub async fn put(&self, path: &str, data: &[u8]) -> dropbox_api::files::FileMetadata {
        let arg = dropbox_api::files::UploadArg::new(path);
        self.upload("files/upload", &arg, data.to_vec()).await.ok()
    }

    /// Downloads a whole file.
    pub async fn get(&self, path: &str) -> Vec<u8> {
        let r = self
            .download(
                "files/download",
                &dropbox_api::files::DownloadArg::new(path),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.body
    }

    /// Starts a sequential session with `data`.
    pub async fn start_session(&self, data: &[u8], close: bool) -> String {
        let arg = dropbox_api::files::UploadSessionStartArg::new().with_close(close);
        let r: dropbox_api::files::UploadSessionStartResult = self
            .upload("files/upload_session/start", &arg, data.to_vec())
            .await
            .ok();
        r.session_id.into()
    }

    /// Starts a concurrent session.
    pub async fn start_concurrent(&self) -> String {
        let arg = dropbox_api::files::UploadSessionStartArg::new()
            .with_session_type(dropbox_api::files::UploadSessionType::Concurrent);
        let r: dropbox_api::files::UploadSessionStartResult = self
            .upload("files/upload_session/start", &arg, Vec::new())
            .await
            .ok();
        r.session_id.into()
    }

    /// append_v2.
    pub async fn append(&self, session: &str, offset: u64, close: bool, data: Vec<u8>) -> Resp {
        let arg = dropbox_api::files::UploadSessionAppendArg::new(
            dropbox_api::files::UploadSessionCursor::new(session, offset),
        )
        .with_close(close);
        self.upload("files/upload_session/append_v2", &arg, data)
            .await
    }

    /// finish with an empty body.
    pub async fn finish(&self, session: &str, offset: u64, path: &str) -> Resp {
        let arg = dropbox_api::files::UploadSessionFinishArg::new(
            dropbox_api::files::UploadSessionCursor::new(session, offset),
            dropbox_api::files::CommitInfo::new(path),
        );
        self.upload("files/upload_session/finish", &arg, Vec::new())
            .await
    }
}

/// Deterministic pseudo-random bytes.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The Dropbox content hash (computed with `dropbox-content-hash`, independently of the
/// emulator's own hashing).
pub fn content_hash(data: &[u8]) -> String {
    let mut h = dropbox_content_hash::ContentHasher::new();
    h.update(data);
    h.finish().to_hex()
}

pub const MIB: usize = 1024 * 1024;
pub const BLOCK: usize = 4 * MIB;
