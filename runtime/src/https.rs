//! The HTTP(S) client pme sends with: HTTP sources read through it, and the
//! outputs that push (Pushgateway, remote_write, OTLP) send through it.
//! HTTP/1.1 over rustls on ring, with the Mozilla roots compiled in, so a
//! static binary in an empty container can reach `https://` endpoints.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// The connector of [`Client`]: `http://` and `https://`.
pub(crate) type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A client with whole-body requests.
pub(crate) type Client = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// A new client.
///
/// # Errors
/// The TLS setup failed.
pub(crate) fn client() -> Result<Client, String> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(hyper_util::client::legacy::Client::builder(TokioExecutor::new()).build(connector))
}

/// An error and its causes, joined with `: `, for messages like
/// "client error (Connect): tcp connect error: Connection refused".
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
