//! The TLS backend, chosen by the crate's cargo features (`rustls-ring`, the default; `rustls`;
//! `rustls-no-provider`; `native-tls`). With none of them only `http://`
//! servers can be reached, such as the emulator.

/// A `reqwest::ClientBuilder` for the TLS backend the features chose, which
/// [`ClientBuilder`](crate::ClientBuilder) uses for its HTTP client.
///
/// With `rustls-ring` it first installs rustls' ring crypto provider as the process default,
/// unless the application installed a provider already (so it also wins over `rustls`'s
/// aws-lc-rs when both features are on). A `reqwest::Client` built elsewhere and passed to
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client) gets no such help: build
/// it from this function, or install a provider first.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    #[cfg(feature = "rustls-ring")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // An error means another thread installed one in the meantime; that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    reqwest::Client::builder()
}

#[cfg(test)]
mod tests {
    #[test]
    fn builds_a_client() {
        let client = super::http_client_builder().build();
        assert!(client.is_ok(), "{:?}", client.err());
    }

    #[cfg(feature = "rustls-ring")]
    #[test]
    fn ring_is_the_process_default() {
        let _ = super::http_client_builder();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
