//! `--remote-write.url URL`: Prometheus remote_write 1.0 after every cycle.
//!
//! The samples are the exposition a scrape gets (read back with pme's own
//! parser, so the names and labels are the same everywhere), each series
//! labelled `__name__` plus its labels plus `--remote-write.label`s, sorted,
//! timestamped with the cycle's end (or its own timestamp, for re-imported
//! samples that carry one). Requests hold at most [`BATCH`] series, as
//! protobuf `WriteRequest`s compressed with Snappy's block format, and are
//! retried as [`super::send`] says. Requests the receiver did not take (no
//! answer, 429, 5xx) wait in a [`Queue`] bounded in samples and are sent
//! again, oldest first, at the next cycle; so a receiver's outage delays
//! samples instead of losing them, until the queue is full.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::Method;
use prost::Message;
use tokio::sync::watch;

use super::delivery::Delivery;
use super::{after_each_cycle, client_or_record, send_or_say_why};
use crate::exposition::Exposition;
use crate::store::OutputStatus;
use pme_content::exposition;

/// `--remote-write.url` and its options.
#[derive(Debug)]
pub(crate) struct RemoteWrite {
    /// The receiver.
    pub(crate) url: String,
    /// Labels added to every series (`--remote-write.label`).
    pub(crate) labels: Vec<(String, String)>,
    /// Most samples kept for a receiver that is not taking them
    /// (`--remote-write.queue-samples`).
    pub(crate) queue_samples: usize,
}

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

/// Sends after each cycle sent on `cycles` until `stop` resolves: this
/// cycle's requests join the queue, and the queue is sent oldest first.
pub(crate) async fn run(
    config: RemoteWrite,
    delivery: Delivery,
    exposition: Arc<Exposition>,
    status: Arc<OutputStatus>,
    cycles: watch::Receiver<u64>,
    stop: impl std::future::Future<Output = ()>,
) {
    let Some(client) = client_or_record(&status, delivery) else {
        return;
    };
    let RemoteWrite {
        url,
        labels,
        queue_samples,
    } = config;
    let queue = Arc::new(Mutex::new(Queue::new(queue_samples)));
    after_each_cycle(&exposition, &status, cycles, stop, |body| {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        let batches = requests(&body, &labels, now_ms);
        let (client, url, queue, status) =
            (client.clone(), url.clone(), queue.clone(), status.clone());
        Some(async move {
            let dropped = lock(&queue).push(batches?);
            if dropped > 0 {
                status.drop_samples(dropped as u64);
                tracing::warn!("remote_write queue full: dropped the oldest {dropped} samples");
            }
            // Oldest first; the first that fails waits, with all after it,
            // for the next cycle.
            loop {
                let Some(batch) = lock(&queue).front() else {
                    break;
                };
                match send_or_say_why(&client, Method::POST, &url, &HEADERS, batch.body).await {
                    Ok(()) => {
                        lock(&queue).pop_front();
                    }
                    Err((false, e)) => {
                        // Refused for good (4xx other than 429): sending
                        // it again cannot help.
                        let samples = lock(&queue).pop_front().map_or(0, |b| b.samples);
                        status.drop_samples(samples as u64);
                        return Err(e);
                    }
                    Err((true, e)) => {
                        let waiting = lock(&queue).samples;
                        return Err(format!("{e} ({waiting} samples queued)"));
                    }
                }
            }
            Ok(())
        })
    })
    .await;
}

fn lock(queue: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    queue.lock().unwrap_or_else(|p| p.into_inner())
}

/// One request, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// Snappy-compressed `WriteRequest`.
    pub(crate) body: Bytes,
    /// Its samples (one per series).
    pub(crate) samples: usize,
}

/// Requests not yet accepted, oldest first, holding at most `capacity`
/// samples.
#[derive(Debug)]
pub(crate) struct Queue {
    batches: VecDeque<Batch>,
    samples: usize,
    capacity: usize,
}

impl Queue {
    pub(crate) fn new(capacity: usize) -> Queue {
        Queue {
            batches: VecDeque::new(),
            samples: 0,
            capacity,
        }
    }

    /// Appends `batches`, dropping the oldest to make room; the samples
    /// dropped (a batch larger than the whole queue is dropped itself).
    fn push(&mut self, batches: Vec<Batch>) -> usize {
        let mut dropped = 0;
        for batch in batches {
            if batch.samples > self.capacity {
                dropped += batch.samples;
                continue;
            }
            while self.samples + batch.samples > self.capacity {
                dropped += self.pop_front().map_or(0, |b| b.samples);
            }
            self.samples += batch.samples;
            self.batches.push_back(batch);
        }
        dropped
    }

    fn front(&self) -> Option<Batch> {
        self.batches.front().cloned()
    }

    fn pop_front(&mut self) -> Option<Batch> {
        let batch = self.batches.pop_front()?;
        self.samples -= batch.samples;
        Some(batch)
    }
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
) -> Result<Vec<Batch>, String> {
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
                .map(|body| Batch {
                    body: Bytes::from(body),
                    samples: chunk.len(),
                })
                .map_err(|e| format!("snappy: {e}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_its_oldest_samples() {
        let batch = |samples| Batch {
            body: Bytes::from(vec![0; samples]),
            samples,
        };
        let mut q = Queue::new(10);
        assert_eq!(q.push(vec![batch(4), batch(4)]), 0);
        assert_eq!(q.push(vec![batch(4)]), 4, "the oldest makes room");
        assert_eq!(q.samples, 8);
        assert_eq!(q.push(vec![batch(11)]), 11, "larger than the queue");
        assert_eq!(q.pop_front().map(|b| b.samples), Some(4));
        assert_eq!(q.samples, 4);
    }

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
        let decode = |b: &Batch| {
            let raw = snap::raw::Decoder::new().decompress_vec(&b.body).unwrap();
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
