//! `--push.gateway URL`: after every cycle (or every `--push.interval`),
//! the exposition goes to a Pushgateway at
//! `/metrics/job/<job>{/<label>/<value>}`: PUT replaces the group (the
//! default), POST replaces only the families sent; `--push.delete-on-shutdown`
//! deletes the group when pme stops.
//!
//! Label values holding `/` (or empty ones) use the `@base64` form of the
//! path; others are percent-encoded. Failed pushes are retried as
//! [`send`] says. Every outcome is a self-metric.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use hyper::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tokio::sync::watch;

use super::delivery::Delivery;
use super::{after_each_cycle, client_or_record, send};
use crate::encode::TEXT_CONTENT_TYPE;
use crate::exposition::Exposition;
use crate::store::OutputStatus;

/// Characters left as they are in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const TEXT_HEADERS: [(&str, &str); 1] = [("content-type", TEXT_CONTENT_TYPE)];

/// Where and how to push.
#[derive(Clone, Debug)]
pub(crate) struct Pushgateway {
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
    pub(crate) fn group_url(&self) -> String {
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
pub(crate) async fn run(
    config: Pushgateway,
    delivery: Delivery,
    exposition: Arc<Exposition>,
    status: Arc<OutputStatus>,
    cycles: watch::Receiver<u64>,
    stop: impl std::future::Future<Output = ()>,
) {
    let Some(client) = client_or_record(&status, delivery) else {
        return;
    };
    let url = config.group_url();
    let mut last_push: Option<Instant> = None;
    after_each_cycle(&exposition, &status, cycles, stop, |body| {
        if last_push.is_some_and(|t| t.elapsed() < config.interval) {
            return None;
        }
        last_push = Some(Instant::now());
        let (client, url, method) = (client.clone(), url.clone(), config.method.clone());
        Some(async move { send(&client, method, &url, &TEXT_HEADERS, body).await })
    })
    .await;
    if config.delete_on_shutdown {
        let result = send(&client, Method::DELETE, &url, &[], Bytes::new()).await;
        if let Err(e) = &result {
            tracing::warn!("deleting the Pushgateway group failed: {e}");
        }
        status.record(result);
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
