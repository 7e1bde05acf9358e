//! `--push.gateway URL`: after every cycle (or every `--push.interval`),
//! the exposition goes to a Pushgateway at
//! `/metrics/job/<job>{/<label>/<value>}`: PUT replaces the group (the
//! default), POST replaces only the families sent; `--push.delete-on-shutdown`
//! deletes the group when pme stops.
//!
//! Label values holding `/` (or empty ones) use the `@base64` form of the
//! path; others are percent-encoded. Connection errors, 429 and 5xx are
//! retried three times with doubling waits; other 4xx answers are not
//! retried (the push itself is wrong). Every outcome is a self-metric.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::watch;

use super::OutputStatus;
use crate::app::Shared;
use crate::encode::{Format, TEXT_CONTENT_TYPE};
use crate::sources::http::{error_chain, https_client};

/// Characters left as they are in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Attempts per push, and the wait before the second.
const ATTEMPTS: u32 = 3;
const FIRST_WAIT: Duration = Duration::from_millis(250);
/// Longest one request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to push.
#[derive(Clone, Debug)]
pub struct Pushgateway {
    /// `http(s)://host:port` (a path prefix is kept).
    pub url: String,
    /// The `job` grouping label.
    pub job: String,
    /// More grouping labels.
    pub labels: Vec<(String, String)>,
    /// PUT (replace the group) or POST (replace the families sent).
    pub method: Method,
    /// Push at most this often (zero: after every cycle).
    pub interval: Duration,
    /// DELETE the group when pme stops.
    pub delete_on_shutdown: bool,
}

impl Pushgateway {
    /// The group's URL.
    pub fn group_url(&self) -> String {
        let mut url = self.url.trim_end_matches('/').to_owned();
        url.push_str("/metrics");
        for (name, value) in std::iter::once(("job", self.job.as_str()))
            .chain(self.labels.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        {
            if value.is_empty() || value.contains('/') {
                let encoded = base64::engine::general_purpose::URL_SAFE.encode(value);
                // An empty value is `=` in the base64 form.
                let encoded = if encoded.is_empty() {
                    "=".to_owned()
                } else {
                    encoded
                };
                url.push_str(&format!("/{name}@base64/{encoded}"));
            } else {
                url.push_str(&format!("/{name}/{}", utf8_percent_encode(value, SEGMENT)));
            }
        }
        url
    }
}

/// Pushes after each cycle sent on `cycles` until `stop` resolves.
pub async fn run(
    config: Pushgateway,
    shared: Arc<Shared>,
    status: Arc<OutputStatus>,
    mut cycles: watch::Receiver<u64>,
    stop: impl std::future::Future<Output = ()>,
) {
    let client = match https_client() {
        Ok(c) => c,
        Err(e) => {
            status.record(Err(e));
            return;
        }
    };
    let url = config.group_url();
    let mut last_push: Option<Instant> = None;
    tokio::pin!(stop);
    loop {
        tokio::select! {
            changed = cycles.changed() => if changed.is_err() { break },
            () = &mut stop => break,
        }
        if last_push.is_some_and(|t| t.elapsed() < config.interval) {
            continue;
        }
        last_push = Some(Instant::now());
        let (body, _) = shared
            .cache
            .get(shared.plan, &shared.store, Format::Prometheus, false);
        let result = send(&client, config.method.clone(), &url, body).await;
        status.record(result);
        shared.store.touch();
    }
    if config.delete_on_shutdown {
        let result = send(&client, Method::DELETE, &url, Bytes::new()).await;
        if let Err(e) = &result {
            tracing::warn!("deleting the Pushgateway group failed: {e}");
        }
        status.record(result);
    }
}

type Client = hyper_util::client::legacy::Client<crate::sources::http::Connector, Full<Bytes>>;

/// One request with bounded retries.
async fn send(client: &Client, method: Method, url: &str, body: Bytes) -> Result<(), String> {
    let mut wait = FIRST_WAIT;
    let mut attempt = 1;
    loop {
        let request = Request::builder()
            .method(method.clone())
            .uri(url)
            .header(hyper::header::CONTENT_TYPE, TEXT_CONTENT_TYPE)
            .body(Full::new(body.clone()))
            .map_err(|e| format!("{url}: {e}"))?;
        let outcome = match tokio::time::timeout(REQUEST_TIMEOUT, client.request(request)).await {
            Err(_) => Err((
                true,
                format!("{method} {url}: timed out after {REQUEST_TIMEOUT:?}"),
            )),
            Ok(Err(e)) => Err((true, format!("{method} {url}: {}", error_chain(&e)))),
            Ok(Ok(response)) => {
                let status = response.status();
                if status.is_success() {
                    Ok(())
                } else {
                    let retry = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    Err((retry, format!("{method} {url} answered {status}")))
                }
            }
        };
        match outcome {
            Ok(()) => return Ok(()),
            Err((true, e)) if attempt < ATTEMPTS => {
                tracing::debug!("push attempt {attempt} failed, retrying in {wait:?}: {e}");
                tokio::time::sleep(wait).await;
                wait *= 2;
                attempt += 1;
            }
            Err((_, e)) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(labels: &[(&str, &str)]) -> Pushgateway {
        Pushgateway {
            url: "http://127.0.0.1:9091/".to_owned(),
            job: "pme".to_owned(),
            labels: labels
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            method: Method::PUT,
            interval: Duration::ZERO,
            delete_on_shutdown: false,
        }
    }

    #[test]
    fn group_urls_encode_label_values() {
        assert_eq!(
            gateway(&[]).group_url(),
            "http://127.0.0.1:9091/metrics/job/pme"
        );
        assert_eq!(
            gateway(&[("instance", "db 1"), ("path", "/var/tmp"), ("empty", "")]).group_url(),
            "http://127.0.0.1:9091/metrics/job/pme/instance/db%201/path@base64/L3Zhci90bXA=/empty@base64/="
        );
    }
}
