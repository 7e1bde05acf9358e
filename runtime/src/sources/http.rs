//! `source_type: http`: one request per read; the response body (capped at
//! `max_bytes`) is the content, when its status is one the spec accepts
//! (any `2xx` unless `valid_status_codes` says otherwise).
//!
//! Credentials are read at each request from the file or variable the spec
//! names, so they never appear in the binary and can rotate. The TLS files
//! (`ca_file`, `cert_file`, `key_file`) are read when the client is made and
//! again when one of them changes, so a renewed CA or client certificate is
//! picked up without a restart. With `cache: true`, a response with
//! `Cache-Control: max-age=N` is reused for N seconds without a request;
//! with `cache: 30s`, every response is reused for 30 s. Either way an
//! `ETag` is sent back as `If-None-Match`, so a 304 reuses the cached body.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use super::{Reading, SourceError};
use crate::https::{self, error_chain};
use crate::plan::{Cache, HttpAuth, HttpSource, Method};
use base64::Engine;
use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::header::{
    AUTHORIZATION, CACHE_CONTROL, ETAG, HeaderName, HeaderValue, IF_NONE_MATCH,
    PROXY_AUTHORIZATION, USER_AGENT,
};
use hyper::{Request, StatusCode};

/// A client for one source, with its response cache.
#[derive(Debug)]
pub(super) struct Client {
    /// `None` until a client could be made (a TLS file may be missing at
    /// start and appear later).
    made: Mutex<Option<Made>>,
    cache: Mutex<Option<Cached>>,
}

/// A client as made from the TLS files in the state `stamps` saw them.
#[derive(Debug, Clone)]
struct Made {
    client: https::Client,
    proxies: https::Proxies,
    stamps: Vec<Option<(SystemTime, u64)>>,
}

#[derive(Debug, Clone)]
struct Cached {
    reading: Reading,
    etag: Option<HeaderValue>,
    fresh_until: Option<Instant>,
}

impl Client {
    pub(super) fn new(source: &HttpSource) -> Client {
        if source.tls.as_ref().is_some_and(|t| t.insecure_skip_verify) {
            tracing::warn!(
                url = source.url,
                "insecure_skip_verify: the server's TLS certificate is not checked"
            );
        }
        let made = make(source)
            .inspect_err(|e| tracing::warn!(url = source.url, "HTTP client: {e}"))
            .ok();
        Client {
            made: Mutex::new(made),
            cache: Mutex::new(None),
        }
    }

    /// The client, made (again) first if there is none yet or a TLS file
    /// changed since.
    fn current(&self, source: &HttpSource) -> Result<Made, SourceError> {
        let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
        match &*made {
            Some(m) if stamps(source) == m.stamps => Ok(m.clone()),
            _ => {
                let fresh =
                    make(source).map_err(|e| SourceError::Io(format!("{}: {e}", source.url)))?;
                *made = Some(fresh.clone());
                Ok(fresh)
            }
        }
    }

    /// Requests `url`: the source's own, or its template filled in for a
    /// request (which is never cached: the build refuses `cache` there).
    pub(super) async fn read(
        &self,
        source: &HttpSource,
        url: &str,
        limit: usize,
        timeout: Duration,
    ) -> Result<Reading, SourceError> {
        let cache = if url == source.url {
            source.cache
        } else {
            Cache::Off
        };
        let cached = if cache == Cache::Off {
            None
        } else {
            self.cache.lock().unwrap_or_else(|p| p.into_inner()).clone()
        };
        if let Some(c) = &cached
            && c.fresh_until.is_some_and(|t| Instant::now() < t)
        {
            return Ok(c.reading.clone());
        }
        let made = self.current(source)?;
        let request = build_request(
            source,
            url,
            &made.proxies,
            cached.as_ref().and_then(|c| c.etag.clone()),
        )?;
        let exchange = async {
            let response = made
                .client
                .request(request)
                .await
                .map_err(|e| SourceError::Io(format!("{url}: {}", error_chain(&e))))?;
            let (parts, body) = response.into_parts();
            let content = read_capped(body, limit).await?;
            Ok::<_, SourceError>((parts, content))
        };
        let (parts, content) = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| SourceError::Timeout(timeout))??;
        let lifetime = match cache {
            Cache::For(lifetime) => Some(lifetime),
            Cache::Headers | Cache::Off => max_age(&parts.headers),
        };
        match parts.status {
            StatusCode::NOT_MODIFIED if cached.is_some() => {
                let mut c = cached.unwrap_or_else(|| unreachable!("checked above"));
                c.fresh_until = lifetime.map(|age| Instant::now() + age);
                let reading = c.reading.clone();
                *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Some(c);
                Ok(reading)
            }
            status if accepted(source.valid_status, status) => {
                let reading = Reading::new(content);
                if cache != Cache::Off {
                    let etag = parts.headers.get(ETAG).cloned();
                    let entry = (lifetime.is_some() || etag.is_some()).then(|| Cached {
                        reading: reading.clone(),
                        etag,
                        fresh_until: lifetime.map(|age| Instant::now() + age),
                    });
                    *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = entry;
                }
                Ok(reading)
            }
            status => Err(SourceError::Io(refused(url, source.valid_status, status))),
        }
    }
}

/// A client for `source`'s TLS and proxy settings.
fn make(source: &HttpSource) -> Result<Made, String> {
    let tls = source.tls.as_ref();
    let settings = https::Settings {
        ca_file: tls.and_then(|t| t.ca_file),
        client_cert: tls.and_then(|t| t.client_cert),
        server_name: tls.and_then(|t| t.server_name),
        insecure_skip_verify: tls.is_some_and(|t| t.insecure_skip_verify),
        proxy: source
            .proxy
            .map_or(https::Proxy::Environment, https::Proxy::Url),
        http2_only: false,
    };
    let stamps = stamps(source);
    let (client, proxies) = https::client_with(&settings)?;
    Ok(Made {
        client,
        proxies,
        stamps,
    })
}

/// When each TLS file last changed, and its size (`None`: unreadable).
fn stamps(source: &HttpSource) -> Vec<Option<(SystemTime, u64)>> {
    let Some(tls) = &source.tls else {
        return Vec::new();
    };
    let cert = tls.client_cert.map(|(c, k)| [c, k]);
    tls.ca_file
        .iter()
        .chain(cert.iter().flatten())
        .map(|path| {
            let meta = std::fs::metadata(path).ok()?;
            Some((meta.modified().ok()?, meta.len()))
        })
        .collect()
}

/// Whether `status` carries a reading.
fn accepted(valid: &[u16], status: StatusCode) -> bool {
    if valid.is_empty() {
        status.is_success()
    } else {
        valid.contains(&status.as_u16())
    }
}

fn refused(url: &str, valid: &[u16], status: StatusCode) -> String {
    let expected: Vec<String> = valid.iter().map(u16::to_string).collect();
    match expected.as_slice() {
        [] => format!("{url} answered {status}"),
        [one] => format!("{url} answered {status}; expected {one}"),
        [init @ .., last] => format!(
            "{url} answered {status}; expected {} or {last}",
            init.join(", ")
        ),
    }
}

fn build_request(
    source: &HttpSource,
    url: &str,
    proxies: &https::Proxies,
    etag: Option<HeaderValue>,
) -> Result<Request<Full<Bytes>>, SourceError> {
    let bad = |e: String| SourceError::Io(format!("{url}: {e}"));
    let (method, body) = match source.method {
        Method::Get => (hyper::Method::GET, Bytes::new()),
        Method::Post => (
            hyper::Method::POST,
            Bytes::from_static(source.body.unwrap_or("").as_bytes()),
        ),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(url)
        .header(USER_AGENT, concat!("pme/", env!("CARGO_PKG_VERSION")))
        .body(Full::new(body))
        .map_err(|e| bad(e.to_string()))?;
    let headers = request.headers_mut();
    for (name, value) in source.headers {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| bad(e.to_string()))?;
        let value = HeaderValue::from_str(value).map_err(|e| bad(e.to_string()))?;
        headers.insert(name, value);
    }
    if let Some(auth) = &source.auth {
        let value = match auth {
            HttpAuth::Bearer(token) => format!("Bearer {}", token.read().map_err(bad)?),
            HttpAuth::Basic { username, password } => {
                let password = password.read().map_err(bad)?;
                let pair = format!("{username}:{password}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
        };
        let mut value = HeaderValue::from_str(&value)
            .map_err(|_| bad("the credential is not a valid header value".to_owned()))?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    if let Some(etag) = etag {
        headers.insert(IF_NONE_MATCH, etag);
    }
    // A plain-HTTP request goes to the proxy itself, with its credentials;
    // an https:// one sends them in the tunnel's CONNECT instead.
    if url.starts_with("http://")
        && let Some(auth) = proxies
            .intercept(request.uri())
            .and_then(|proxy| proxy.auth)
    {
        request.headers_mut().insert(PROXY_AUTHORIZATION, auth);
    }
    Ok(request)
}

/// Reads the body, failing as soon as it passes `limit` (the rest is never read).
async fn read_capped(mut body: hyper::body::Incoming, limit: usize) -> Result<Bytes, SourceError> {
    let mut content = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| SourceError::Io(format!("reading the response body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if content.len() + data.len() > limit {
                return Err(SourceError::TooLarge(limit));
            }
            content.extend_from_slice(&data);
        }
    }
    Ok(content.freeze())
}

/// `max-age=N` from `Cache-Control`, unless `no-store` or `no-cache` say otherwise.
fn max_age(headers: &hyper::HeaderMap) -> Option<Duration> {
    let value = headers.get(CACHE_CONTROL)?.to_str().ok()?;
    let directives: Vec<&str> = value.split(',').map(str::trim).collect();
    if directives
        .iter()
        .any(|d| d.eq_ignore_ascii_case("no-store") || d.eq_ignore_ascii_case("no-cache"))
    {
        return None;
    }
    directives.iter().find_map(|d| {
        let (key, value) = d.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| value.trim().parse().ok().map(Duration::from_secs))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_max_age() {
        let mut h = hyper::HeaderMap::new();
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=30"),
        );
        assert_eq!(max_age(&h), Some(Duration::from_secs(30)));
        h.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("no-cache, max-age=30"),
        );
        assert_eq!(max_age(&h), None);
        h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=abc"));
        assert_eq!(max_age(&h), None);
    }
}
