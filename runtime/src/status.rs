//! Maps a non-success response (status, body, headers) to its [`Error`] variant.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, ErrorTypes, RateLimitReason, UserMessage};

/// Longest error body kept in an [`Error`].
const MAX_ERROR_BODY: usize = 2048;

/// What the lifecycle read of a failed response.
pub(crate) struct Failed<'a> {
    pub(crate) status: u16,
    pub(crate) body: &'a [u8],
    pub(crate) is_json: bool,
    pub(crate) retry_after: Option<u64>,
    pub(crate) request_id: Option<&'a str>,
}

/// The `.tag` of the `error` of a JSON error envelope.
pub(crate) fn tag_of(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    match v.get("error")? {
        serde_json::Value::String(s) => Some(s.clone()),
        other => other.get(".tag")?.as_str().map(str::to_owned),
    }
}

fn text(body: &[u8]) -> String {
    let s = String::from_utf8_lossy(body);
    if s.len() > MAX_ERROR_BODY {
        let mut end = MAX_ERROR_BODY;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s.into_owned()
    }
}

#[derive(serde::Deserialize)]
struct Envelope<T> {
    error: T,
    #[serde(default)]
    error_summary: String,
    #[serde(default)]
    user_message: Option<UserMessage>,
}

fn envelope<T: DeserializeOwned>(body: &[u8], request_id: Option<&str>) -> Result<ApiError<T>, ()> {
    serde_json::from_slice::<Envelope<T>>(body)
        .map(|e| ApiError {
            error: e.error,
            summary: e.error_summary,
            user_message: e.user_message,
            request_id: request_id.map(str::to_owned),
        })
        .map_err(|_| ())
}

/// Maps a non-success response to its error variant.
pub(crate) fn error_from_status<E: DeserializeOwned, P: ErrorTypes>(r: &Failed<'_>) -> Error<E, P> {
    let request_id = r.request_id.map(str::to_owned);
    let undecodable = |status| Error::UnexpectedStatus {
        status,
        body: text(r.body),
        request_id: request_id.clone(),
    };
    match r.status {
        400 => Error::BadRequest {
            message: text(r.body),
            request_id,
        },
        401 => envelope(r.body, r.request_id).map_or_else(|_| undecodable(401), Error::Auth),
        403 => envelope(r.body, r.request_id).map_or_else(|_| undecodable(403), Error::Access),
        409 => envelope(r.body, r.request_id).map_or_else(|_| undecodable(409), Error::Route),
        422 => envelope(r.body, r.request_id).map_or_else(|_| undecodable(422), Error::PathRoot),
        429 => {
            #[derive(serde::Deserialize)]
            struct RateLimit {
                #[serde(default)]
                reason: Option<serde_json::Value>,
                #[serde(default)]
                retry_after: Option<u64>,
            }
            let parsed = if r.is_json || r.body.first() == Some(&b'{') {
                serde_json::from_slice::<Envelope<RateLimit>>(r.body).ok()
            } else {
                None
            };
            let reason = match parsed.as_ref().and_then(|p| p.error.reason.as_ref()) {
                Some(reason) => {
                    let tag = match reason {
                        serde_json::Value::String(s) => s.as_str(),
                        other => other.get(".tag").and_then(|t| t.as_str()).unwrap_or(""),
                    };
                    match tag {
                        "too_many_requests" => RateLimitReason::TooManyRequests,
                        "too_many_write_operations" => RateLimitReason::TooManyWriteOperations,
                        other => RateLimitReason::Other(other.to_owned()),
                    }
                }
                // A plain-text 429 means too many requests.
                None => RateLimitReason::TooManyRequests,
            };
            let seconds = r
                .retry_after
                .or_else(|| parsed.as_ref().and_then(|p| p.error.retry_after))
                .unwrap_or(1);
            Error::RateLimited {
                reason,
                retry_after: Duration::from_secs(seconds),
                request_id,
            }
        }
        status @ 500..=599 => Error::Server {
            status,
            body: text(r.body),
            request_id,
        },
        other => undecodable(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Untyped;

    type E = Error<serde_json::Value, Untyped>;

    fn failed(status: u16, body: &[u8], is_json: bool, retry_after: Option<u64>) -> E {
        error_from_status(&Failed {
            status,
            body,
            is_json,
            retry_after,
            request_id: Some("req-1"),
        })
    }

    #[test]
    fn statuses_map_to_variants() {
        let env = br#"{"error_summary":"path/not_found/","error":{".tag":"path","path":{".tag":"not_found"}},"user_message":{"text":"Nope","locale":"en"}}"#;
        match failed(409, env, true, None) {
            Error::Route(e) => {
                assert_eq!(e.summary, "path/not_found/");
                assert_eq!(e.user_message.unwrap().text, "Nope");
                assert_eq!(e.error["path"][".tag"], "not_found");
                assert_eq!(e.request_id.as_deref(), Some("req-1"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            failed(400, b"Error in call: bad", false, None),
            Error::BadRequest { message, .. } if message == "Error in call: bad"
        ));
        let e = failed(503, b"busy", false, None);
        assert!(e.is_transient() && e.status() == Some(503));
        assert_eq!(e.request_id(), Some("req-1"));
        assert!(e.to_string().ends_with("(request id req-1)"), "{e}");
        let e = failed(418, b"teapot", false, None);
        assert!(matches!(e, Error::UnexpectedStatus { status: 418, .. }));
    }

    #[test]
    fn rate_limits_prefer_the_header_then_the_body_then_one_second() {
        let body = br#"{"error_summary":"too_many_write_operations/","error":{"reason":{".tag":"too_many_write_operations"},"retry_after":7}}"#;
        let e = failed(429, body, true, Some(3));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e = failed(429, body, true, None);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
        assert!(matches!(
            e,
            Error::RateLimited {
                reason: RateLimitReason::TooManyWriteOperations,
                ..
            }
        ));
        let e = failed(429, b"Too many requests", false, None);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        assert!(matches!(
            e,
            Error::RateLimited {
                reason: RateLimitReason::TooManyRequests,
                ..
            }
        ));
    }

    #[test]
    fn expired_token_tag_is_found() {
        assert_eq!(
            tag_of(br#"{"error_summary":"expired_access_token/","error":{".tag":"expired_access_token"}}"#).as_deref(),
            Some("expired_access_token")
        );
    }
}
