//! TLS: the runtime's HTTP client checks certificates by default (rustls), so a server
//! with a certificate no trusted authority signed never sees a request or a token.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dropbox_api::files::{self, GetMetadataArg};
use dropbox_api_runtime::ClientBuilder;
use tokio::io::AsyncReadExt;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A TLS server on loopback with a self-signed certificate for 127.0.0.1 and localhost;
/// counts the handshakes that succeed.
async fn self_signed_server() -> (u16, Arc<AtomicUsize>) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
        .expect("certificate");
    let der = CertificateDer::from(cert.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocols")
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let count = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    count.fetch_add(1, Ordering::SeqCst);
                    let mut buf = [0u8; 1024];
                    let _ = tls.read(&mut buf).await;
                }
            });
        }
    });
    (port, handshakes)
}

#[tokio::test]
async fn untrusted_certificates_are_refused_by_default() {
    let (port, handshakes) = self_signed_server().await;
    let client = ClientBuilder::new()
        .access_token("sl.tls-test-token-123")
        .base_url(&format!("https://127.0.0.1:{port}"))
        .build_user()
        .expect("client");
    let err = files::get_metadata(&client, &GetMetadataArg::new("/x"))
        .await
        .expect_err("a self-signed certificate must not be trusted");
    let text = format!("{err} {err:?}");
    assert!(text.contains("InvalidCertificate(UnknownIssuer)"), "{text}");
    assert!(!text.contains("sl.tls-test-token-123"), "{text}");
    assert_eq!(
        handshakes.load(Ordering::SeqCst),
        0,
        "no handshake completed"
    );
}
