//! The HTTP(S) client pme sends with: HTTP sources read through it, and the
//! outputs that push (Pushgateway, remote_write, OTLP) send through it.
//! HTTP/1.1 over rustls on ring, with the Mozilla roots compiled in, so a
//! static binary in an empty container can reach `https://` endpoints.
//!
//! [`Settings`] change what the defaults do: other trusted roots, a client
//! certificate, the name the server's certificate must carry, no
//! verification at all, and a proxy. A proxy is reached in plain HTTP:
//! `https://` destinations through a `CONNECT` tunnel, `http://` ones by
//! sending the request to the proxy in absolute form.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Uri;
use hyper::header::HeaderValue;
use hyper_rustls::FixedServerNameResolver;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

/// The connector of [`Client`]: `http://` and `https://`, directly or
/// through a proxy.
pub(crate) type Connector = hyper_rustls::HttpsConnector<ProxyConnector>;

/// A client with whole-body requests.
pub(crate) type Client = hyper_util::client::legacy::Client<Connector, Full<Bytes>>;

/// How a client differs from the defaults. Files are read when the client
/// is made.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Settings<'a> {
    /// PEM certificates trusted instead of the Mozilla roots.
    pub(crate) ca_file: Option<&'a str>,
    /// PEM certificate chain and private key shown to the server.
    pub(crate) client_cert: Option<(&'a str, &'a str)>,
    /// The name the server's certificate must carry.
    pub(crate) server_name: Option<&'a str>,
    /// Accept any server certificate.
    pub(crate) insecure_skip_verify: bool,
    /// Where requests go first.
    pub(crate) proxy: Proxy<'a>,
    /// Speak HTTP/2 only (gRPC): with prior knowledge over `http://`, by
    /// ALPN over `https://`.
    pub(crate) http2_only: bool,
}

/// The proxy a client uses.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proxy<'a> {
    /// None: every connection is direct.
    #[default]
    Direct,
    /// `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (or their
    /// lower-case forms), read when the client is made. As in Go's
    /// `net/http`, `localhost` and loopback addresses are never proxied.
    Environment,
    /// This `http://` proxy for every destination.
    Url(&'a str),
}

/// A client made with `settings`, and the proxies it uses (for the
/// `Proxy-Authorization` of requests sent to a proxy in absolute form).
///
/// # Errors
/// A file cannot be read or holds no usable PEM, or the proxy URL is invalid.
pub(crate) fn client_with(settings: &Settings<'_>) -> Result<(Client, Proxies), String> {
    let provider = Arc::new(ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?;
    let builder = if settings.insecure_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else {
        builder.with_root_certificates(roots(settings.ca_file)?)
    };
    let config = match settings.client_cert {
        Some((cert, key)) => builder
            .with_client_auth_cert(chain(cert)?, private_key(key)?)
            .map_err(|e| format!("client certificate {cert}: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    let proxies = Proxies::new(settings.proxy)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let inner = ProxyConnector {
        http,
        proxies: proxies.clone(),
    };
    let builder = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http();
    let builder = match settings.server_name {
        Some(name) => {
            let name = ServerName::try_from(name.to_owned())
                .map_err(|e| format!("server name {name}: {e}"))?;
            builder.with_server_name_resolver(FixedServerNameResolver::new(name))
        }
        None => builder,
    };
    #[cfg(feature = "otlp-grpc")]
    let (connector, client) = if settings.http2_only {
        let mut client = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        client.http2_only(true);
        (builder.enable_http2().wrap_connector(inner), client)
    } else {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        (builder.enable_http1().wrap_connector(inner), client)
    };
    #[cfg(not(feature = "otlp-grpc"))]
    let (connector, client) = if settings.http2_only {
        return Err(NO_GRPC.to_owned());
    } else {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new());
        (builder.enable_http1().wrap_connector(inner), client)
    };
    let client = client.build(connector);
    Ok((client, proxies))
}

/// Why a build without the `otlp-grpc` feature cannot speak gRPC.
pub(crate) const NO_GRPC: &str =
    "this pme is built without gRPC (cargo feature `otlp-grpc`); use OTLP `http/protobuf`";

/// The Mozilla roots, or the certificates of `ca_file` alone.
fn roots(ca_file: Option<&str>) -> Result<RootCertStore, String> {
    let Some(path) = ca_file else {
        return Ok(RootCertStore::from_iter(
            webpki_roots::TLS_SERVER_ROOTS.iter().cloned(),
        ));
    };
    let mut roots = RootCertStore::empty();
    for cert in chain(path)? {
        roots
            .add(cert)
            .map_err(|e| format!("CA file {path}: {e}"))?;
    }
    Ok(roots)
}

/// Every certificate of a PEM file; at least one.
fn chain(path: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{path}: {e}"))?;
    if certs.is_empty() {
        return Err(format!("{path}: no certificate in the PEM text"));
    }
    Ok(certs)
}

fn private_key(path: &str) -> Result<PrivateKeyDer<'static>, String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| format!("{path}: {e}"))
}

/// Which destinations go through which proxy.
#[derive(Debug, Clone, Default)]
pub(crate) struct Proxies {
    matcher: Option<Arc<Matcher>>,
    /// From the environment: loopback destinations stay direct.
    environment: bool,
}

/// A proxy chosen for one destination.
#[derive(Debug)]
pub(crate) struct Intercept {
    /// The proxy's URI.
    pub(crate) uri: Uri,
    /// `Proxy-Authorization` from the proxy URL's `user:password@`.
    pub(crate) auth: Option<HeaderValue>,
}

impl Proxies {
    fn new(proxy: Proxy<'_>) -> Result<Proxies, String> {
        Ok(match proxy {
            Proxy::Direct => Proxies::default(),
            Proxy::Environment => Proxies {
                matcher: Some(Arc::new(Matcher::from_env())),
                environment: true,
            },
            Proxy::Url(url) => {
                url.parse::<Uri>()
                    .map_err(|e| format!("proxy URL {url}: {e}"))?;
                Proxies {
                    matcher: Some(Arc::new(Matcher::builder().all(url.to_owned()).build())),
                    environment: false,
                }
            }
        })
    }

    /// The proxy for `dst`, if it has one.
    pub(crate) fn intercept(&self, dst: &Uri) -> Option<Intercept> {
        let matcher = self.matcher.as_ref()?;
        if self.environment && dst.host().is_some_and(is_loopback) {
            return None;
        }
        let intercept = matcher.intercept(dst)?;
        Some(Intercept {
            uri: intercept.uri().clone(),
            auth: intercept.basic_auth().cloned(),
        })
    }
}

/// `localhost` or a loopback address (`[::1]` with its brackets, as in a URI).
fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A TCP connector that goes through the proxy its [`Proxies`] choose.
#[derive(Debug, Clone)]
pub(crate) struct ProxyConnector {
    http: HttpConnector,
    proxies: Proxies,
}

type Boxed<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for ProxyConnector {
    type Response = ProxyStream;
    type Error = BoxError;
    type Future = Boxed<Result<ProxyStream, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let intercept = self.proxies.intercept(&dst);
        let mut http = self.http.clone();
        Box::pin(async move {
            let Some(proxy) = intercept else {
                let io = http.call(dst).await?;
                return Ok(ProxyStream { io, forward: false });
            };
            if dst.scheme() == Some(&hyper::http::uri::Scheme::HTTPS) {
                let mut tunnel = Tunnel::new(proxy.uri, http);
                if let Some(auth) = proxy.auth {
                    tunnel = tunnel.with_auth(auth);
                }
                let io = tunnel.call(dst).await.map_err(|e| -> BoxError {
                    format!("proxy CONNECT: {}", error_chain(&e)).into()
                })?;
                Ok(ProxyStream { io, forward: false })
            } else {
                let io = http.call(proxy.uri).await?;
                Ok(ProxyStream { io, forward: true })
            }
        })
    }
}

/// A connection, direct or through a proxy; `forward` when requests on it
/// go to a proxy in absolute form.
#[derive(Debug)]
pub(crate) struct ProxyStream {
    io: TokioIo<TcpStream>,
    forward: bool,
}

impl Connection for ProxyStream {
    fn connected(&self) -> Connected {
        let connected = self.io.connected();
        if self.forward {
            connected.proxy(true)
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for ProxyStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ProxyStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }
}

/// `insecure_skip_verify`: every certificate is accepted; signatures are
/// still checked, so the handshake itself is sound.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_destinations_skip_environment_proxies() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "LOCALHOST"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["example.com", "10.0.0.1", "[::2]", "localhost.example"] {
            assert!(!is_loopback(host), "{host}");
        }
        let explicit = Proxies::new(Proxy::Url("http://127.0.0.1:3128")).unwrap();
        let dst: Uri = "http://127.0.0.1:9/x".parse().unwrap();
        assert_eq!(
            explicit.intercept(&dst).map(|i| i.uri.to_string()),
            Some("http://127.0.0.1:3128/".to_owned())
        );
        assert!(Proxies::default().intercept(&dst).is_none());
    }
}
