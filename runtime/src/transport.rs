//! The transport: what every client holds (HTTP client, configuration, credentials,
//! interceptors), and the values shared per account. The calls themselves are in `calls`
//! (by route style) and `lifecycle` (attempts, retries, timeouts).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::header::HeaderValue;

use crate::config::{Config, Timeouts};
use crate::credentials::{Credentials, Select};
use crate::hooks::Interceptor;
use crate::retry::RetryPolicy;
use crate::route::{Host, RouteSpec};

/// Sends route calls. Every client holds one; generated route functions reach it through
/// `AuthClient::transport`.
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
}
