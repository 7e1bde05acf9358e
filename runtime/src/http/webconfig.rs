//! `--web.config.file`: Prometheus exporter-toolkit's web configuration
//! (<https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md>),
//! plus `bearer_tokens` with scopes, which exporter-toolkit lacks.
//!
//! The file is read at startup and again on `SIGHUP` or `POST /-/reload`;
//! a file that does not load leaves the previous configuration in force.
//! Relative paths in it are relative to the file's directory, as in
//! exporter-toolkit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::auth::{Auth, Scope, TokenSpec};
use super::tls;

/// The file as written; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    tls_server_config: Option<tls::TlsServerConfig>,
    #[serde(default)]
    http_server_config: HttpServerConfig,
    #[serde(default)]
    basic_auth_users: BTreeMap<String, String>,
    #[serde(default)]
    bearer_tokens: Vec<BearerToken>,
    rate_limit: Option<RateLimitSpec>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpServerConfig {
    /// Accepted for compatibility; pme speaks HTTP/1.1, which every
    /// Prometheus scrapes.
    #[serde(default)]
    #[allow(dead_code, reason = "read for compatibility only")]
    http2: Option<bool>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// pme's extension: `Authorization: Bearer` tokens, each with its scopes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BearerToken {
    /// A name for logs; never the token.
    name: Option<String>,
    token_file: Option<String>,
    token_env: Option<String>,
    scopes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitSpec {
    /// Time between two requests of one client (`0s` turns the limit off).
    interval: String,
    /// Requests a client may make at once before the interval applies.
    burst: u32,
}

/// The headers exporter-toolkit lets a web config add to responses.
const ALLOWED_HEADERS: &[&str] = &[
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "X-XSS-Protection",
    "Strict-Transport-Security",
];

/// A per-client token bucket: one request per `interval`, `burst` at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RateLimit {
    /// Time between two requests of one client.
    pub interval: Duration,
    /// Requests allowed at once.
    pub burst: u32,
}

/// A loaded web configuration.
#[derive(Debug, Default)]
pub(crate) struct WebConfig {
    /// TLS, when configured.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// Who may do what.
    pub auth: Auth,
    /// Per-client limit, when configured.
    pub rate_limit: Option<RateLimit>,
    /// Headers added to every response.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl WebConfig {
    /// Reads and checks the file at `path`.
    ///
    /// # Errors
    /// The message names the file and the problem; never a secret.
    pub(crate) fn load(path: &Path) -> Result<WebConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        WebConfig::parse(&text, dir).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse(text: &str, dir: &Path) -> Result<WebConfig, String> {
        // An empty file is a valid, empty configuration.
        let file: File = if text.trim().is_empty() {
            File::default()
        } else {
            serde_json::from_value(super::yaml::parse(text)?).map_err(|e| e.to_string())?
        };
        let resolve = |p: &str| -> PathBuf { dir.join(p) };
        let tls = file
            .tls_server_config
            .map(|t| tls::server_config(&t, &resolve))
            .transpose()
            .map_err(|e| format!("tls_server_config: {e}"))?;
        let tokens = bearer_tokens(&file.bearer_tokens, &resolve)?;
        let auth = Auth::new(file.basic_auth_users, tokens)?;
        let rate_limit = file
            .rate_limit
            .as_ref()
            .map(rate_limit)
            .transpose()?
            .flatten();
        let headers = response_headers(&file.http_server_config.headers)?;
        Ok(WebConfig {
            tls,
            auth,
            rate_limit,
            headers,
        })
    }
}

/// `bearer_tokens`: each read from its file or variable now, at least 16
/// characters, with at least one scope.
fn bearer_tokens(
    specs: &[BearerToken],
    resolve: &dyn Fn(&str) -> PathBuf,
) -> Result<Vec<TokenSpec>, String> {
    let mut tokens = Vec::with_capacity(specs.len());
    for (i, t) in specs.iter().enumerate() {
        let name = t.name.clone().unwrap_or_else(|| format!("#{}", i + 1));
        let what = format!("bearer_tokens[{i}] ({name})");
        let token = match (&t.token_file, &t.token_env) {
            (Some(f), None) => {
                let path = resolve(f);
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("{what}: cannot read {}: {e}", path.display()))?
                    .trim_end_matches(['\n', '\r'])
                    .to_owned()
            }
            (None, Some(var)) => {
                std::env::var(var).map_err(|_| format!("{what}: variable {var} is not set"))?
            }
            _ => return Err(format!("{what}: set one of token_file and token_env")),
        };
        if token.len() < 16 {
            return Err(format!(
                "{what}: the token is shorter than 16 characters; use a random one, e.g. `openssl rand -hex 32`"
            ));
        }
        let scopes = t
            .scopes
            .iter()
            .map(|s| Scope::parse(s).map_err(|e| format!("{what}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if scopes.is_empty() {
            return Err(format!("{what}: no scopes"));
        }
        tokens.push(TokenSpec {
            name,
            token,
            scopes,
        });
    }
    Ok(tokens)
}

/// `rate_limit`: `None` when the interval is zero (no limit).
fn rate_limit(r: &RateLimitSpec) -> Result<Option<RateLimit>, String> {
    let interval = pme_content::duration::parse(&r.interval)
        .or_else(|e| {
            if r.interval == "0" {
                Ok(Duration::ZERO)
            } else {
                Err(e)
            }
        })
        .map_err(|e| format!("rate_limit.interval: {e}"))?;
    if r.burst == 0 && !interval.is_zero() {
        return Err("rate_limit.burst: must be at least 1".to_owned());
    }
    Ok((!interval.is_zero()).then_some(RateLimit {
        interval,
        burst: r.burst,
    }))
}

/// `http_server_config.headers`: only the headers exporter-toolkit allows;
/// an empty value sets nothing.
fn response_headers(
    configured: &BTreeMap<String, String>,
) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    let mut headers = Vec::new();
    for (name, value) in configured {
        let Some(known) = ALLOWED_HEADERS
            .iter()
            .find(|h| h.eq_ignore_ascii_case(name))
        else {
            return Err(format!(
                "http_server_config.headers: `{name}` is not one of {}",
                ALLOWED_HEADERS.join(", ")
            ));
        };
        if value.is_empty() {
            continue;
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("http_server_config.headers.{known}: not a header value"))?;
        let name = HeaderName::from_bytes(known.as_bytes())
            .map_err(|_| format!("http_server_config.headers: `{known}`"))?;
        headers.push((name, value));
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WebConfig, String> {
        WebConfig::parse(text, Path::new("/nonexistent"))
    }

    #[test]
    fn an_empty_file_is_an_open_server() {
        let config = parse("").unwrap();
        assert!(config.tls.is_none() && config.rate_limit.is_none());
        assert!(config.auth.is_open());
    }

    #[test]
    fn mistakes_are_named() {
        for (text, expected) in [
            ("tls_server_confg: {}", "unknown field `tls_server_confg`"),
            (
                "rate_limit: {interval: 1x, burst: 1}",
                "rate_limit.interval: invalid duration",
            ),
            (
                "rate_limit: {interval: 1s, burst: 0}",
                "burst: must be at least 1",
            ),
            (
                "http_server_config: {headers: {X-Powered-By: pme}}",
                "`X-Powered-By` is not one of",
            ),
            (
                "bearer_tokens: [{token_env: PME_TEST_UNSET_VARIABLE, scopes: [admin]}]",
                "variable PME_TEST_UNSET_VARIABLE is not set",
            ),
            (
                "bearer_tokens: [{token_file: t, token_env: T, scopes: [admin]}]",
                "set one of token_file and token_env",
            ),
            (
                "basic_auth_users: {alice: not-a-bcrypt-hash}",
                "basic_auth_users.alice: not a bcrypt hash",
            ),
            (
                "tls_server_config: {cert: x}",
                "tls_server_config: set key_file or key",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn rate_limit_and_headers() {
        let config = parse(
            "rate_limit: {interval: 100ms, burst: 5}\n\
             http_server_config: {headers: {x-frame-options: deny, X-XSS-Protection: ''}}\n",
        )
        .unwrap();
        assert_eq!(
            config.rate_limit,
            Some(RateLimit {
                interval: Duration::from_millis(100),
                burst: 5
            })
        );
        assert_eq!(config.headers.len(), 1);
        assert_eq!(config.headers[0].0, "x-frame-options");
        let off = parse("rate_limit: {interval: 0s, burst: 0}").unwrap();
        assert_eq!(off.rate_limit, None);
    }
}
