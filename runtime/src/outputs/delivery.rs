//! How a pushing output reaches its receiver beyond the URL: credentials
//! (read at every send from a file or variable, so they rotate and never
//! sit in a flag's value), extra headers, a private CA, a client
//! certificate and the timeout of one request. One [`Delivery`] per output,
//! from its `--push.*`, `--remote-write.*` or `--otlp.*` flags.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;

use crate::config::{OtlpDelivery, PushDelivery, RemoteWriteDelivery};
use crate::https::{self, Client};
use crate::plan::Secret;

/// Longest one request may take, unless a `.timeout` flag says otherwise.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// One output's delivery settings.
#[derive(Debug)]
pub(crate) struct Delivery {
    /// The flag prefix (`push`, `remote-write`, `otlp`), for messages.
    pub(crate) prefix: &'static str,
    pub(crate) auth: Option<Auth>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) ca_file: Option<String>,
    pub(crate) client_cert: Option<(String, String)>,
    pub(crate) timeout: Duration,
}

/// Where a credential comes from (a [`Secret`] is read at every send).
#[derive(Debug)]
pub(crate) enum Auth {
    /// `Authorization: Bearer` with this secret.
    Bearer(Secret),
    /// Basic auth as this user; `None`: no password flag was given.
    Basic(String, Option<Secret>),
}

/// `OTEL_EXPORTER_OTLP_METRICS_{name}`, else `OTEL_EXPORTER_OTLP_{name}`,
/// as the OpenTelemetry exporter specification orders them; an empty value
/// is unset.
pub(crate) fn otel_var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(&format!("OTEL_EXPORTER_OTLP_METRICS_{name}"))
        .or_else(|| env(&format!("OTEL_EXPORTER_OTLP_{name}")))
        .filter(|v| !v.trim().is_empty())
}

macro_rules! from_flags {
    ($flags:ty, $prefix:literal) => {
        impl From<&$flags> for Delivery {
            fn from(f: &$flags) -> Delivery {
                // Flags live as long as the process, as a spec's names do.
                let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
                let secret = |file: &Option<PathBuf>, env: &Option<String>| {
                    file.as_ref()
                        .map(|f| Secret::File(leak(f.display().to_string())))
                        .or_else(|| env.clone().map(|e| Secret::Env(leak(e))))
                };
                let auth = match (
                    &f.basic_auth_username,
                    secret(&f.bearer_token_file, &f.bearer_token_env),
                ) {
                    (Some(user), _) => Some(Auth::Basic(
                        user.clone(),
                        secret(&f.basic_auth_password_file, &f.basic_auth_password_env),
                    )),
                    (None, token) => token.map(Auth::Bearer),
                };
                let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
                Delivery {
                    prefix: $prefix,
                    auth,
                    headers: f.headers.clone(),
                    ca_file: path(&f.ca_file),
                    client_cert: path(&f.cert_file).zip(path(&f.key_file)),
                    timeout: f.timeout.unwrap_or(DEFAULT_TIMEOUT),
                }
            }
        }
    };
}

from_flags!(PushDelivery, "push");
from_flags!(RemoteWriteDelivery, "remote-write");
from_flags!(OtlpDelivery, "otlp");

impl Delivery {
    /// What the OpenTelemetry variables give where the `--otlp.*` flags
    /// gave nothing: `OTEL_EXPORTER_OTLP_METRICS_{HEADERS,TIMEOUT,
    /// CERTIFICATE,CLIENT_CERTIFICATE,CLIENT_KEY}`, or the same without
    /// `METRICS_`. Headers are `name=value` pairs separated by commas with
    /// percent-encoded values; the timeout is in milliseconds. A value that
    /// does not parse is logged and left out.
    pub(crate) fn with_otel_env(
        mut self,
        flags: &OtlpDelivery,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Delivery {
        let var = |name: &str| otel_var(env, name);
        if flags.headers.is_empty()
            && let Some(list) = var("HEADERS")
        {
            for pair in list.split(',') {
                let decoded = pair.split_once('=').map(|(n, v)| {
                    let value = percent_encoding::percent_decode_str(v.trim()).decode_utf8_lossy();
                    (n.trim().to_owned(), value.into_owned())
                });
                match decoded {
                    Some((name, value))
                        if !name.eq_ignore_ascii_case("authorization") || self.auth.is_none() =>
                    {
                        self.headers.push((name, value));
                    }
                    Some(_) => {}
                    None => {
                        tracing::warn!("OTEL_EXPORTER_OTLP_HEADERS: `{pair}` is not name=value")
                    }
                }
            }
        }
        if flags.timeout.is_none()
            && let Some(ms) = var("TIMEOUT")
        {
            match ms.trim().parse::<u64>() {
                Ok(ms) if ms > 0 => self.timeout = Duration::from_millis(ms),
                _ => tracing::warn!(
                    "OTEL_EXPORTER_OTLP_TIMEOUT: `{ms}` is not a number of milliseconds"
                ),
            }
        }
        if self.ca_file.is_none() {
            self.ca_file = var("CERTIFICATE");
        }
        if self.client_cert.is_none() {
            self.client_cert = var("CLIENT_CERTIFICATE").zip(var("CLIENT_KEY"));
        }
        self
    }

    /// A client trusting `ca_file` and showing `client_cert`; HTTP/2 only
    /// when `http2_only` (gRPC).
    ///
    /// # Errors
    /// A file cannot be read or parsed.
    pub(crate) fn client(&self, http2_only: bool) -> Result<Client, String> {
        let settings = https::Settings {
            http2_only,
            ca_file: self.ca_file.as_deref(),
            client_cert: self
                .client_cert
                .as_ref()
                .map(|(c, k)| (c.as_str(), k.as_str())),
            ..https::Settings::default()
        };
        https::client_with(&settings)
            .map(|(client, _)| client)
            .map_err(|e| format!("--{}: {e}", self.prefix))
    }

    /// The headers of one send: the extra ones, then `Authorization` with
    /// the credential as it is now.
    ///
    /// # Errors
    /// The credential cannot be read.
    pub(crate) fn headers(&self) -> Result<Vec<(String, String)>, String> {
        let mut headers = self.headers.clone();
        let value = match &self.auth {
            None => return Ok(headers),
            Some(Auth::Bearer(token)) => format!("Bearer {}", token.read()?),
            Some(Auth::Basic(user, Some(password))) => {
                let pair = format!("{user}:{}", password.read()?);
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Some(Auth::Basic(_, None)) => {
                return Err(format!(
                    "--{0}.basic-auth.username needs --{0}.basic-auth.password-file or --{0}.basic-auth.password-env",
                    self.prefix
                ));
            }
        };
        headers.push(("authorization".to_owned(), value));
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_read_at_each_send() {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, "one\n").unwrap();
        let flags = PushDelivery {
            bearer_token_file: Some(token.clone()),
            headers: vec![("X-Scope-OrgID".into(), "t1".into())],
            ..PushDelivery::default()
        };
        let d = Delivery::from(&flags);
        assert_eq!(d.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            d.headers().unwrap(),
            [
                ("X-Scope-OrgID".to_owned(), "t1".to_owned()),
                ("authorization".to_owned(), "Bearer one".to_owned())
            ]
        );
        std::fs::write(&token, "two\n").unwrap();
        assert_eq!(d.headers().unwrap()[1].1, "Bearer two");
        std::fs::remove_file(&token).unwrap();
        assert!(
            d.headers()
                .unwrap_err()
                .contains("cannot read credential file")
        );

        let env = |name: &str| match name {
            "OTEL_EXPORTER_OTLP_HEADERS" => Some("x-tenant=a%20b, api-key=k1".to_owned()),
            "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT" => Some("2500".to_owned()),
            "OTEL_EXPORTER_OTLP_TIMEOUT" => Some("1000".to_owned()),
            "OTEL_EXPORTER_OTLP_CERTIFICATE" => Some("/etc/ca.pem".to_owned()),
            _ => None,
        };
        let flags = OtlpDelivery::default();
        let otlp = Delivery::from(&flags).with_otel_env(&flags, &env);
        assert_eq!(
            otlp.headers,
            [
                ("x-tenant".to_owned(), "a b".to_owned()),
                ("api-key".to_owned(), "k1".to_owned())
            ]
        );
        assert_eq!(otlp.timeout, Duration::from_millis(2500), "METRICS_ first");
        assert_eq!(otlp.ca_file.as_deref(), Some("/etc/ca.pem"));
        let flags = OtlpDelivery {
            timeout: Some(Duration::from_secs(3)),
            ..OtlpDelivery::default()
        };
        let otlp = Delivery::from(&flags).with_otel_env(&flags, &env);
        assert_eq!(otlp.timeout, Duration::from_secs(3), "a flag wins");

        let basic = Delivery::from(&RemoteWriteDelivery {
            basic_auth_username: Some("alice".into()),
            ..RemoteWriteDelivery::default()
        });
        assert!(
            basic
                .headers()
                .unwrap_err()
                .contains("--remote-write.basic-auth.username needs")
        );
    }
}
