//! Route calls by style: an rpc call's JSON argument goes in the body, an upload's in
//! `Dropbox-API-Arg` with the bytes as the body, a download's in `Dropbox-API-Arg` with the
//! result in `Dropbox-API-Result` and the bytes streamed back; and posts to addresses outside
//! the routes (temporary upload links). Each encodes its call, hands it to the request
//! lifecycle, and decodes the answer.

use bytes::Bytes;
use reqwest::header::HeaderValue;
use serde::de::DeserializeOwned;

use crate::auth::{AuthKind, Grants};
use crate::classify::RouteError;
use crate::download::{ByteRange, Download, Reopen, Resume};
use crate::error::{Error, ErrorTypes};
use crate::header::escape_header_json;
use crate::json::Json;
use crate::lifecycle::{Call, Payload, Received};
use crate::route::{Route, RouteSpec};
use crate::transport::Transport;
use crate::validate::Validate;

/// An answer of [`Transport::post_raw`].
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The body.
    pub body: Bytes,
    /// Dropbox's request id, if the server sent one.
    pub request_id: Option<String>,
    /// Attempts made, this one included (more than 1: an earlier attempt failed, perhaps
    /// after the server acted on it).
    pub attempts: u32,
}

impl Transport {
    /// Calls an RPC route: JSON argument in the body, JSON result in the body.
    pub(crate) async fn rpc<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
    ) -> Result<R, Error<E, P>>
    where
        A: Json + Validate,
        R: Json,
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let json = encode_arg(route, arg)?;
        let call = Call::new(route, Payload::Json(Bytes::from(json)), None, None);
        let received = self.execute(call).await?;
        decode_body(route, received)
    }

    /// Calls an upload route: argument in `Dropbox-API-Arg`, the body sent as-is. A body in
    /// memory is sent again, from the same shared bytes, when an attempt is retried (or the
    /// token refreshed); a streamed body is sent once.
    pub(crate) async fn upload<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
        body: crate::Body,
    ) -> Result<R, Error<E, P>>
    where
        A: Json + Validate,
        R: Json,
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let header = arg_header(route, arg)?;
        let payload = match body.into_inner() {
            Ok(bytes) => Payload::Bytes(bytes),
            Err(stream) => Payload::Stream(Some(stream)),
        };
        let received = self
            .execute(Call::new(route, payload, Some(header), None))
            .await?;
        decode_body(route, received)
    }

    /// Calls a download route: argument in `Dropbox-API-Arg`, result in
    /// `Dropbox-API-Result`, the body returned as a stream (bounded by the idle timeout).
    pub(crate) async fn download<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
        range: Option<ByteRange>,
    ) -> Result<Download<R>, Error<E, P>>
    where
        A: Json + Validate,
        R: Json,
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let header = arg_header(route, arg)?;
        let mut call = Call::new(route, Payload::Empty, Some(header.clone()), range);
        call.stream_response = true;
        let received = self.execute(call).await?;
        let Received::Stream {
            response,
            request_id,
        } = received
        else {
            return Err(Error::Decode {
                route: route.path,
                message: "the download's body was not streamed".into(),
                request_id: None,
            });
        };
        let raw = response
            .headers()
            .get("dropbox-api-result")
            .ok_or_else(|| Error::Decode {
                route: route.path,
                message: "the response has no Dropbox-API-Result header".into(),
                request_id: request_id.clone(),
            })?;
        let result: R = crate::json::from_slice(raw.as_bytes()).map_err(|e| Error::Decode {
            route: route.path,
            message: format!("Dropbox-API-Result: {e}"),
            request_id: request_id.clone(),
        })?;
        let resume = self.resume(route, &header, range, raw.clone());
        Ok(Download::new(
            result,
            response,
            request_id,
            self.config.timeouts.idle_rule(),
            Some(resume),
        ))
    }

    /// How a download's body continues after it broke off: the same request with the rest
    /// of the range, accepted only when it answers 206 with the same `Dropbox-API-Result`.
    fn resume(
        &self,
        route: &'static RouteSpec,
        header: &HeaderValue,
        range: Option<ByteRange>,
        result: HeaderValue,
    ) -> Resume {
        let transport = self.clone();
        let header = header.clone();
        let reopen: Reopen = Box::new(move |rest: ByteRange| {
            let transport = transport.clone();
            let header = header.clone();
            let result = result.clone();
            Box::pin(async move {
                let mut call = Call::new(route, Payload::Empty, Some(header), Some(rest));
                call.stream_response = true;
                let received = transport
                    .execute::<crate::NoError, crate::Untyped>(call)
                    .await
                    .ok()?;
                let Received::Stream {
                    response,
                    request_id,
                } = received
                else {
                    return None;
                };
                let same = response.headers().get("dropbox-api-result") == Some(&result);
                (response.status().as_u16() == 206 && same).then_some((response, request_id))
            })
        });
        Resume {
            range,
            reopen,
            policy: self.config.retry.clone(),
        }
    }

    /// Posts `body` to `url`, an address outside the API routes (a temporary upload link),
    /// through the request lifecycle: the same timeouts, retry policy and interceptors, with
    /// `route` naming the call for them. Every answer but 429 and 5xx comes back as it is,
    /// for the caller to read; 429 and 5xx, like transport failures and timeouts, are retried
    /// as the policy allows and end as an [`Error`]. The URL never appears in errors or logs.
    pub async fn post_raw(
        &self,
        route: &'static RouteSpec,
        url: &crate::Secret,
        body: crate::Body,
    ) -> Result<RawAnswer, Error<crate::NoError>> {
        let payload = match body.into_inner() {
            Ok(bytes) => Payload::Bytes(bytes),
            Err(stream) => Payload::Stream(Some(stream)),
        };
        let mut call = Call::new(route, payload, None, None);
        call.url = Some(url.clone());
        call.raw_statuses = true;
        match self.execute(call).await? {
            Received::Body {
                bytes,
                status,
                request_id,
                attempts,
            } => Ok(RawAnswer {
                status,
                body: bytes,
                request_id,
                attempts,
            }),
            Received::Stream { .. } => Err(Error::Decode {
                route: route.path,
                message: "the answer's body was not read".into(),
                request_id: None,
            }),
        }
    }
}

fn encode_arg<A: Json, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    arg: &A,
) -> Result<String, Error<E, P>> {
    crate::json::to_string(arg).map_err(|e| Error::Decode {
        route: route.path,
        message: format!("could not encode the argument: {e}"),
        request_id: None,
    })
}

fn arg_header<A: Json, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    arg: &A,
) -> Result<HeaderValue, Error<E, P>> {
    let json = encode_arg(route, arg)?;
    HeaderValue::from_str(&escape_header_json(&json)).map_err(|e| Error::Decode {
        route: route.path,
        message: format!("the argument is not a valid header value: {e}"),
        request_id: None,
    })
}

fn decode_body<R: Json, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    received: Received,
) -> Result<R, Error<E, P>> {
    let Received::Body {
        bytes, request_id, ..
    } = received
    else {
        return Err(Error::Decode {
            route: route.path,
            message: "the response body was not read".into(),
            request_id: None,
        });
    };
    // A Void result may come back as an empty body rather than `null`.
    let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        &bytes
    };
    crate::json::from_slice(body).map_err(|e| Error::Decode {
        route: route.path,
        message: e.to_string(),
        request_id,
    })
}

/// Calls an RPC route with a client that may call it (what generated route functions do).
pub async fn rpc<C, K, A, R, E, P>(
    client: &C,
    route: &'static Route<K>,
    arg: &A,
) -> Result<R, Error<E, P>>
where
    C: Grants<K>,
    K: AuthKind,
    A: Json + Validate,
    R: Json,
    E: DeserializeOwned + RouteError,
    P: ErrorTypes,
{
    let spec: &'static RouteSpec = route;
    client.transport().rpc(spec, arg).await
}

/// Calls an upload route with a client that may call it.
pub async fn upload<C, K, A, R, E, P>(
    client: &C,
    route: &'static Route<K>,
    arg: &A,
    body: crate::Body,
) -> Result<R, Error<E, P>>
where
    C: Grants<K>,
    K: AuthKind,
    A: Json + Validate,
    R: Json,
    E: DeserializeOwned + RouteError,
    P: ErrorTypes,
{
    let spec: &'static RouteSpec = route;
    client.transport().upload(spec, arg, body).await
}

/// Calls a download route with a client that may call it.
pub async fn download<C, K, A, R, E, P>(
    client: &C,
    route: &'static Route<K>,
    arg: &A,
    range: Option<ByteRange>,
) -> Result<Download<R>, Error<E, P>>
where
    C: Grants<K>,
    K: AuthKind,
    A: Json + Validate,
    R: Json,
    E: DeserializeOwned + RouteError,
    P: ErrorTypes,
{
    let spec: &'static RouteSpec = route;
    client.transport().download(spec, arg, range).await
}
