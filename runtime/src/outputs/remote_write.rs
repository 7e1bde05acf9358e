//! `--remote-write.url URL`: Prometheus remote_write 1.0 after every cycle.
//!
//! The samples are the exposition a scrape gets (read back with pme's own
//! parser, so the names and labels are the same everywhere), each series
//! labelled `__name__` plus its labels plus `--remote-write.label`s, sorted,
//! timestamped with the cycle's end (or its own timestamp, for re-imported
//! samples that carry one). Requests hold at most [`BATCH`] series, as
//! protobuf `WriteRequest`s compressed with Snappy's block format, and are
//! retried as [`super::send`] says.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::Method;
use prost::Message;
use tokio::sync::watch;

use super::delivery::Delivery;
use super::{after_each_cycle, client_or_record, send};
use crate::exposition::Exposition;
use crate::store::OutputStatus;
use pme_content::exposition;

/// Series per request (Prometheus's own `max_samples_per_send` is 2000).
pub(crate) const BATCH: usize = 2000;

/// `prometheus.WriteRequest` (remote_write 1.0), fields as in
/// prometheus/prompb/remote.proto; metadata is not sent.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct WriteRequest {
    /// The series.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct TimeSeries {
    /// Sorted by name, `__name__` among them.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// One sample per cycle.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Label {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

const HEADERS: [(&str, &str); 4] = [
    ("content-type", "application/x-protobuf"),
    ("content-encoding", "snappy"),
    ("x-prometheus-remote-write-version", "0.1.0"),
    ("user-agent", concat!("pme/", env!("CARGO_PKG_VERSION"))),
];

/// Sends after each cycle sent on `cycles` until `stop` resolves.
pub(crate) async fn run(
    url: String,
    labels: Vec<(String, String)>,
    delivery: Delivery,
    exposition: Arc<Exposition>,
    status: Arc<OutputStatus>,
    cycles: watch::Receiver<u64>,
    stop: impl std::future::Future<Output = ()>,
) {
    let Some(client) = client_or_record(&status, delivery) else {
        return;
    };
    after_each_cycle(&exposition, &status, cycles, stop, |body| {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let batches = requests(&body, &labels, now_ms);
        let (client, url) = (client.clone(), url.clone());
        Some(async move {
            for batch in batches? {
                send(&client, Method::POST, &url, &HEADERS, batch).await?;
            }
            Ok(())
        })
    })
    .await;
}

/// The exposition `text` as snappy-compressed `WriteRequest`s of at most
/// [`BATCH`] series.
///
/// # Errors
/// The exposition does not parse (a bug: pme wrote it).
pub(crate) fn requests(
    text: &[u8],
    extra: &[(String, String)],
    now_ms: i64,
) -> Result<Vec<Bytes>, String> {
    let families = exposition::parse(text, exposition::Format::Prometheus, false)
        .map_err(|e| format!("reading pme's own exposition: {e}"))?;
    let series: Vec<TimeSeries> = families
        .iter()
        .flat_map(|f| &f.samples)
        .map(|s| {
            let mut labels: Vec<Label> = std::iter::once(("__name__", &*s.name))
                .chain(s.labels.iter().map(|(n, v)| (&**n, &**v)))
                .chain(extra.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .map(|(name, value)| Label {
                    name: name.to_owned(),
                    value: value.to_owned(),
                })
                .collect();
            labels.sort_by(|a, b| a.name.cmp(&b.name));
            // An extra label replaces one of the same name from the series.
            labels.dedup_by(|later, earlier| later.name == earlier.name);
            let timestamp = s.timestamp.map_or(now_ms, |t| (t.nanos / 1_000_000) as i64);
            TimeSeries {
                labels,
                samples: vec![Sample {
                    value: s.value,
                    timestamp,
                }],
            }
        })
        .collect();
    series
        .chunks(BATCH)
        .map(|chunk| {
            let request = WriteRequest {
                timeseries: chunk.to_vec(),
            };
            snap::raw::Encoder::new()
                .compress_vec(&request.encode_to_vec())
                .map(Bytes::from)
                .map_err(|e| format!("snappy: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_sorted_labels_and_batches() {
        let mut text = String::from("# TYPE a gauge\n");
        for i in 0..(BATCH + 1) {
            text.push_str(&format!("a{{z=\"{i}\",B=\"x\"}} {i}\n"));
        }
        text.push_str("b 1.5 1700000000123\n");
        let extra = vec![("instance".to_owned(), "h".to_owned())];
        let requests = requests(text.as_bytes(), &extra, 42).unwrap();
        assert_eq!(requests.len(), 2);
        let decode = |b: &Bytes| {
            let raw = snap::raw::Decoder::new().decompress_vec(b).unwrap();
            WriteRequest::decode(raw.as_slice()).unwrap()
        };
        let first = decode(&requests[0]);
        assert_eq!(first.timeseries.len(), BATCH);
        let names: Vec<&str> = first.timeseries[0]
            .labels
            .iter()
            .map(|l| l.name.as_str())
            .collect();
        assert_eq!(names, ["B", "__name__", "instance", "z"]);
        assert_eq!(
            first.timeseries[0].samples[0],
            Sample {
                value: 0.0,
                timestamp: 42
            }
        );
        let second = decode(&requests[1]);
        let b = second.timeseries.last().unwrap();
        assert_eq!(
            b.samples[0],
            Sample {
                value: 1.5,
                timestamp: 1_700_000_000_123
            }
        );
    }
}
