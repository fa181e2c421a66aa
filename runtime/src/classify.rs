//! Which route errors mean "try again later".
//!
//! The generator implements [`RouteError`] for every type used as a route's error: a union
//! with a `too_many_write_operations` member, or a member holding a `RateLimitError` or
//! another such union (as `UploadSessionFinishError::Path(WriteError::TooManyWriteOperations)`),
//! answers [`RouteError::is_transient`] for those members, so the request lifecycle and
//! every crate above it classify route errors the same way without matching on them again.

use std::any::Any;
use std::fmt;
use std::time::Duration;

/// A route's own error type (the body of a 409), classified for retries.
pub trait RouteError: fmt::Debug + Send + Sync + 'static {
    /// Whether this error means the request was refused for now and may succeed later (for
    /// example `too_many_write_operations`: lock contention in the namespace). Such a
    /// request had no effect, so sending it again is safe for any route.
    fn is_transient(&self) -> bool {
        false
    }

    /// How long the error asks to wait (a `RateLimitError`'s `retry_after`), if it does.
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// The error as [`Any`], to get the concrete type back from a boxed one:
    /// `e.as_any().downcast_ref::<files::UploadSessionFinishError>()`.
    fn as_any(&self) -> &dyn Any;

    /// The error as a `std::error::Error`, when it is one (every generated route error is:
    /// its `Display` names its type and tag path). `dropbox_api::Error::source()` returns it,
    /// so an `anyhow` chain prints the route's own error too.
    fn as_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        None
    }
}

impl RouteError for Box<dyn RouteError> {
    fn is_transient(&self) -> bool {
        (**self).is_transient()
    }

    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }

    fn as_any(&self) -> &dyn Any {
        (**self).as_any()
    }

    fn as_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        (**self).as_error()
    }
}

impl dyn RouteError {
    /// The concrete route error, if it is a `T`.
    pub fn downcast_ref<T: RouteError>(&self) -> Option<&T> {
        self.as_any().downcast_ref::<T>()
    }
}

/// Untyped route errors are transient when a `.tag` on their path is
/// `too_many_write_operations`, and take a `retry_after` found beside it.
impl RouteError for serde_json::Value {
    fn is_transient(&self) -> bool {
        let mut v = self;
        loop {
            let tag = match v {
                serde_json::Value::String(s) => return s == "too_many_write_operations",
                serde_json::Value::Object(m) => match m.get(".tag").and_then(|t| t.as_str()) {
                    Some(t) => t,
                    None => return false,
                },
                _ => return false,
            };
            if tag == "too_many_write_operations" {
                return true;
            }
            match v.get(tag) {
                Some(next) => v = next,
                None => return false,
            }
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        self.get("retry_after")
            .and_then(|s| s.as_u64())
            .map(Duration::from_secs)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn untyped_errors_find_write_contention_on_their_tag_path() {
        assert!(json!("too_many_write_operations").is_transient());
        assert!(json!({".tag": "too_many_write_operations"}).is_transient());
        assert!(
            json!({".tag": "path", "path": {".tag": "too_many_write_operations"}}).is_transient()
        );
        assert!(!json!({".tag": "path", "path": {".tag": "conflict"}}).is_transient());
        assert!(!json!(null).is_transient());
        let boxed: Box<dyn RouteError> = Box::new(json!("too_many_write_operations"));
        assert!(boxed.is_transient());
        assert!(boxed.downcast_ref::<serde_json::Value>().is_some());
    }
}
