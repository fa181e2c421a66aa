//! The transport: what every client holds. It encodes a route call the way Dropbox expects
//! for the route's style (rpc, upload, download), hands it to the request lifecycle
//! ([`crate::lifecycle`]), and decodes the answer.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use reqwest::header::HeaderValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::classify::RouteError;
use crate::config::{Config, Timeouts};
use crate::credentials::{Credentials, Select};
use crate::download::{ByteRange, Download};
use crate::error::{Error, ErrorTypes};
use crate::header::escape_header_json;
use crate::hooks::Interceptor;
use crate::lifecycle::{Call, Payload, Received};
use crate::retry::RetryPolicy;
use crate::route::{Host, RouteSpec};
use crate::validate::Validate;

/// Sends route calls. Every client holds one; generated route functions reach it through
/// [`AuthClient::transport`](crate::auth::AuthClient::transport).
#[derive(Clone)]
pub struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) config: Arc<Config>,
    pub(crate) credentials: Credentials,
    pub(crate) select: Option<Select>,
    pub(crate) path_root: Option<HeaderValue>,
    pub(crate) interceptors: Arc<[Arc<dyn Interceptor>]>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .field("credentials", &self.credentials)
            .field("select", &self.select)
            .field("path_root", &self.path_root)
            .field("interceptors", &self.interceptors.len())
            .finish_non_exhaustive()
    }
}

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

/// Values shared per account and type, process-wide (see [`Transport::shared`]).
type SharedValues = Mutex<HashMap<(u64, TypeId), Arc<dyn Any + Send + Sync>>>;

fn shared_values() -> &'static SharedValues {
    static VALUES: OnceLock<SharedValues> = OnceLock::new();
    VALUES.get_or_init(Default::default)
}

impl Transport {
    /// The underlying HTTP client (for requests outside the API, such as temporary upload links).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Where requests go, and the timeouts and retry policy that apply to them.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// A transport like this one with another retry policy (the HTTP client, credentials and
    /// interceptors are shared).
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Transport {
        let mut config = (*self.config).clone();
        config.retry = policy;
        Transport {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// A transport like this one with other timeouts (the connect timeout belongs to the
    /// HTTP client and stays as built).
    pub fn with_timeouts(&self, timeouts: Timeouts) -> Transport {
        let mut config = (*self.config).clone();
        config.timeouts = Timeouts {
            connect: self.config.timeouts.connect,
            ..timeouts
        };
        Transport {
            config: Arc::new(config),
            ..self.clone()
        }
    }

    /// An opaque key of the account this transport acts for: the same for every client made
    /// from the same credentials for the same servers (and team member selection), different
    /// otherwise. Secrets go into it hashed only.
    pub fn account_key(&self) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        self.config.api_url.hash(&mut h);
        self.credentials.identify(&mut h);
        self.select.hash(&mut h);
        h.finish()
    }

    /// A value of type `T` shared by every client of the same account ([`Transport::account_key`]),
    /// in this process, created on first use: two clients made from the same token share it,
    /// and a team client's `as_user`/`as_admin` clients, which act for another account, get
    /// their own.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let key = (self.account_key(), TypeId::of::<T>());
        let mut map = shared_values()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = map
            .entry(key)
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>);
        match entry.clone().downcast::<T>() {
            Ok(v) => v,
            Err(_) => {
                // Unreachable: the map is keyed by the type. Replace rather than panic.
                let v = Arc::new(T::default());
                *entry = v.clone();
                v
            }
        }
    }

    /// A transport like this one that sends no credentials (for a temporary upload link,
    /// whose URL is the only authorisation).
    pub fn without_credentials(&self) -> Transport {
        Transport {
            credentials: Credentials::None,
            select: None,
            path_root: None,
            ..self.clone()
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

    pub(crate) fn with_select(&self, select: Select) -> Transport {
        let mut t = self.clone();
        t.select = Some(select);
        t
    }

    pub(crate) fn url(&self, route: &RouteSpec) -> String {
        let base = match route.host {
            Host::Api => &self.config.api_url,
            Host::Content => &self.config.content_url,
            Host::Notify => &self.config.notify_url,
        };
        format!("{base}{}", route.path)
    }

    /// Calls an RPC route: JSON argument in the body, JSON result in the body.
    pub async fn rpc<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
    ) -> Result<R, Error<E, P>>
    where
        A: Serialize + Validate + ?Sized,
        R: DeserializeOwned,
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
    pub async fn upload<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
        body: crate::Body,
    ) -> Result<R, Error<E, P>>
    where
        A: Serialize + Validate + ?Sized,
        R: DeserializeOwned,
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
    pub async fn download<A, R, E, P>(
        &self,
        route: &'static RouteSpec,
        arg: &A,
        range: Option<ByteRange>,
    ) -> Result<Download<R>, Error<E, P>>
    where
        A: Serialize + Validate + ?Sized,
        R: DeserializeOwned,
        E: DeserializeOwned + RouteError,
        P: ErrorTypes,
    {
        arg.validate().map_err(Error::Validation)?;
        let header = arg_header(route, arg)?;
        let mut call = Call::new(route, Payload::Empty, Some(header), range);
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
        let result: R = serde_json::from_slice(raw.as_bytes()).map_err(|e| Error::Decode {
            route: route.path,
            message: format!("Dropbox-API-Result: {e}"),
            request_id: request_id.clone(),
        })?;
        Ok(Download::new(
            result,
            response,
            request_id,
            self.config.timeouts.idle_rule(),
        ))
    }
}

fn encode_arg<A: Serialize + ?Sized, E, P: ErrorTypes>(
    route: &'static RouteSpec,
    arg: &A,
) -> Result<String, Error<E, P>> {
    serde_json::to_string(arg).map_err(|e| Error::Decode {
        route: route.path,
        message: format!("could not encode the argument: {e}"),
        request_id: None,
    })
}

fn arg_header<A: Serialize + ?Sized, E, P: ErrorTypes>(
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

fn decode_body<R: DeserializeOwned, E, P: ErrorTypes>(
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
    serde_json::from_slice(body).map_err(|e| Error::Decode {
        route: route.path,
        message: e.to_string(),
        request_id,
    })
}
