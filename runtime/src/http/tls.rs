//! `tls_server_config` → a rustls server configuration (ring provider).
//!
//! exporter-toolkit's Go names are mapped to rustls: versions TLS12/TLS13,
//! the ECDHE suites by their IANA names (Go's names), curves X25519,
//! CurveP256 and CurveP384. What rustls does not offer (TLS 1.0/1.1, CBC
//! suites, P-521) and client-auth modes that accept unverified certificates
//! are configuration errors, never silently dropped.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use serde::Deserialize;

/// `tls_server_config` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TlsServerConfig {
    cert: Option<String>,
    key: Option<String>,
    client_ca: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    client_auth_type: Option<String>,
    client_ca_file: Option<String>,
    #[serde(default)]
    client_allowed_sans: Vec<String>,
    min_version: Option<String>,
    max_version: Option<String>,
    #[serde(default)]
    cipher_suites: Vec<String>,
    prefer_server_cipher_suites: Option<bool>,
    #[serde(default)]
    curve_preferences: Vec<String>,
}

/// PEM text written inline, or read from a file (relative to the config).
fn pem(
    inline: Option<&String>,
    file: Option<&String>,
    what: &str,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Option<Vec<u8>>, String> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(format!("set {what}_file or {what}, not both")),
        (Some(text), None) => Ok(Some(text.as_bytes().to_vec())),
        (None, Some(path)) => {
            let path = resolve(path);
            std::fs::read(&path)
                .map(Some)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
        }
        (None, None) => Ok(None),
    }
}

pub(super) fn server_config(
    t: &TlsServerConfig,
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Arc<ServerConfig>, String> {
    let cert = pem(t.cert.as_ref(), t.cert_file.as_ref(), "cert", resolve)?
        .ok_or("set cert_file or cert")?;
    let key =
        pem(t.key.as_ref(), t.key_file.as_ref(), "key", resolve)?.ok_or("set key_file or key")?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cert: {e}"))?;
    if chain.is_empty() {
        return Err("cert: no certificate in the PEM text".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(&key).map_err(|e| format!("key: {e}"))?;

    let provider = Arc::new(provider(t)?);
    let versions = versions(t.min_version.as_deref(), t.max_version.as_deref())?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("versions and cipher_suites do not fit: {e}"))?;

    let client_ca = pem(
        t.client_ca.as_ref(),
        t.client_ca_file.as_ref(),
        "client_ca",
        resolve,
    )?;
    let mode = t.client_auth_type.as_deref().unwrap_or("NoClientCert");
    if !t.client_allowed_sans.is_empty() {
        return Err("client_allowed_sans is not supported by pme yet".to_owned());
    }
    let verifier = match mode {
        "NoClientCert" => None,
        "RequireAndVerifyClientCert" | "VerifyClientCertIfGiven" => {
            let ca =
                client_ca.ok_or_else(|| format!("client_auth_type {mode} needs client_ca_file"))?;
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&ca) {
                let cert = cert.map_err(|e| format!("client_ca: {e}"))?;
                roots.add(cert).map_err(|e| format!("client_ca: {e}"))?;
            }
            let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let builder = if mode == "VerifyClientCertIfGiven" {
                builder.allow_unauthenticated()
            } else {
                builder
            };
            Some(builder.build().map_err(|e| format!("client_ca: {e}"))?)
        }
        "RequestClientCert" | "RequireAnyClientCert" => {
            return Err(format!(
                "client_auth_type {mode} accepts certificates without verifying them; use RequireAndVerifyClientCert"
            ));
        }
        other => return Err(format!("unknown client_auth_type `{other}`")),
    };
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| format!("cert and key: {e}"))?;
    config.ignore_client_order = t.prefer_server_cipher_suites.unwrap_or(true);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// ring's provider with the configured TLS 1.2 suites (TLS 1.3 suites are
/// not configurable, as in Go) and curves.
fn provider(t: &TlsServerConfig) -> Result<CryptoProvider, String> {
    let mut provider = ring::default_provider();
    if !t.cipher_suites.is_empty() {
        let all = provider.cipher_suites.clone();
        let tls13 = all
            .iter()
            .filter(|s| s.version() == &rustls::version::TLS13);
        let mut chosen: Vec<_> = tls13.copied().collect();
        for name in &t.cipher_suites {
            let suite = all
                .iter()
                .find(|s| {
                    s.version() == &rustls::version::TLS12 && s.suite().as_str() == Some(name)
                })
                .ok_or_else(|| {
                    format!("cipher_suites: `{name}` is not a TLS 1.2 suite pme offers (ECDHE with AES-GCM or ChaCha20-Poly1305)")
                })?;
            chosen.push(*suite);
        }
        provider.cipher_suites = chosen;
    }
    if !t.curve_preferences.is_empty() {
        provider.kx_groups = t
            .curve_preferences
            .iter()
            .map(|name| match name.as_str() {
                "X25519" => Ok(ring::kx_group::X25519),
                "CurveP256" => Ok(ring::kx_group::SECP256R1),
                "CurveP384" => Ok(ring::kx_group::SECP384R1),
                other => Err(format!(
                    "curve_preferences: `{other}` is not offered; use X25519, CurveP256 or CurveP384"
                )),
            })
            .collect::<Result<_, _>>()?;
    }
    Ok(provider)
}

fn versions(
    min: Option<&str>,
    max: Option<&str>,
) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let rank = |name: &str, what: &str| match name {
        "TLS12" => Ok(12),
        "TLS13" => Ok(13),
        "TLS10" | "TLS11" => Err(format!("{what} {name}: TLS before 1.2 is not supported")),
        other => Err(format!(
            "{what}: unknown version `{other}`; use TLS12 or TLS13"
        )),
    };
    let min = rank(min.unwrap_or("TLS12"), "min_version")?;
    let max = rank(max.unwrap_or("TLS13"), "max_version")?;
    let versions: Vec<_> = [(12, &rustls::version::TLS12), (13, &rustls::version::TLS13)]
        .into_iter()
        .filter(|(v, _)| (min..=max).contains(v))
        .map(|(_, v)| v)
        .collect();
    if versions.is_empty() {
        return Err("min_version is above max_version".to_owned());
    }
    Ok(versions)
}
