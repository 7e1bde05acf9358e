//! `--otlp.endpoint URL` (or `OTEL_EXPORTER_OTLP_ENDPOINT`): OTLP/HTTP
//! protobuf after every cycle.
//!
//! The metrics are the exposition a scrape gets, read back with pme's own
//! parser and mapped as OpenTelemetry's Prometheus compatibility rules say:
//! a counter is a monotonic cumulative `Sum` named without `_total`
//! (an OTLP-to-Prometheus exporter adds it back), everything else a
//! `Gauge` (re-imported histograms and summaries go as gauges of their
//! series, `_bucket`, `_sum` and `_count`, a documented simplification);
//! labels become attributes. The resource carries `service.name`,
//! `service.version` and `service.instance.id` from the standard OTEL
//! variables (`OTEL_SERVICE_NAME`, and also `SERVICE_INSTANCE_ID` and
//! `INSTANCE_ID`), defaulting to `pme`, pme's version and the host name.
//!
//! The messages are written here with prost's derive, field numbers as in
//! opentelemetry-proto's `metrics.proto`, `common.proto` and
//! `resource.proto` (v1); tests decode them with the official definitions.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::Method;
use prost::{Message, Oneof};
use tokio::sync::watch;

use super::delivery::Delivery;
use super::{after_each_cycle, client_or_record, send};
use crate::exposition::Exposition;
use crate::store::OutputStatus;
use pme_content::exposition::{self, MetricType};

/// `ExportMetricsServiceRequest`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ExportMetricsServiceRequest {
    /// One resource: this pme.
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// `ResourceMetrics`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ResourceMetrics {
    /// Who sends.
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    /// One scope: pme.
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
}

/// `Resource`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Resource {
    /// `service.name` and friends.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
}

/// `ScopeMetrics`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ScopeMetrics {
    /// `pme` and its version.
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    /// The metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
}

/// `InstrumentationScope`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct InstrumentationScope {
    /// Name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Version.
    #[prost(string, tag = "2")]
    pub version: String,
}

/// `KeyValue` with a string value (all pme ever sends).
#[derive(Clone, PartialEq, Message)]
pub(crate) struct KeyValue {
    /// Key.
    #[prost(string, tag = "1")]
    pub key: String,
    /// Value.
    #[prost(message, optional, tag = "2")]
    pub value: Option<AnyValue>,
}

/// `AnyValue`, string case only.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct AnyValue {
    /// `string_value`.
    #[prost(string, tag = "1")]
    pub string_value: String,
}

/// `Metric`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Metric {
    /// Name (a counter's without `_total`).
    #[prost(string, tag = "1")]
    pub name: String,
    /// The HELP text.
    #[prost(string, tag = "2")]
    pub description: String,
    /// The OpenMetrics unit, if any.
    #[prost(string, tag = "3")]
    pub unit: String,
    /// Gauge or sum.
    #[prost(oneof = "Data", tags = "5, 7")]
    pub data: Option<Data>,
}

/// `Metric.data`.
#[derive(Clone, PartialEq, Oneof)]
pub(crate) enum Data {
    /// `gauge`.
    #[prost(message, tag = "5")]
    Gauge(Gauge),
    /// `sum`.
    #[prost(message, tag = "7")]
    Sum(Sum),
}

/// `Gauge`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Gauge {
    /// Points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

/// `Sum`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Sum {
    /// Points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// 2: cumulative.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
    /// Counters are monotonic.
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

/// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
pub(crate) const CUMULATIVE: i32 = 2;

/// `NumberDataPoint` with a double value.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct NumberDataPoint {
    /// The series' labels.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    /// For sums: when counting started (pme's start).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// When the value was read.
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// `as_double`.
    #[prost(double, tag = "4")]
    pub as_double: f64,
}

/// Where and as whom to send.
#[derive(Clone, Debug)]
pub(crate) struct Otlp {
    /// The full `…/v1/metrics` URL.
    pub url: String,
    /// Resource attributes.
    pub resource: Vec<(String, String)>,
    /// pme's start, the start of every cumulative sum.
    pub started: SystemTime,
}

impl Otlp {
    /// From `--otlp.endpoint` or the environment (`OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`
    /// is used as is; `OTEL_EXPORTER_OTLP_ENDPOINT` and the shorter
    /// `OTEL_ENDPOINT` get `/v1/metrics` appended); `None` when neither is set.
    pub(crate) fn from_flag_or_env(
        flag: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Otlp> {
        let url = match (flag, env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) {
            (Some(f), _) => base_to_metrics_url(f),
            (None, Some(full)) => with_scheme(&full),
            (None, None) => base_to_metrics_url(
                &env("OTEL_EXPORTER_OTLP_ENDPOINT").or_else(|| env("OTEL_ENDPOINT"))?,
            ),
        };
        Some(Otlp {
            url,
            resource: resource(env),
            started: SystemTime::now(),
        })
    }
}

fn with_scheme(url: &str) -> String {
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

/// A base endpoint gets the signal path, as the OTLP exporter spec says.
fn base_to_metrics_url(base: &str) -> String {
    let base = with_scheme(base);
    if base.trim_end_matches('/').ends_with("/v1/metrics") {
        base
    } else {
        format!("{}/v1/metrics", base.trim_end_matches('/'))
    }
}

/// `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k=v`), then the specific variables,
/// then the defaults, each key once.
fn resource(env: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let mut attributes: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| {
        if let Some(slot) = attributes.iter_mut().find(|(key, _)| key == k) {
            slot.1 = v;
        } else {
            attributes.push((k.to_owned(), v));
        }
    };
    if let Some(list) = env("OTEL_RESOURCE_ATTRIBUTES") {
        for pair in list.split(',') {
            if let Some((k, v)) = pair.split_once('=') {
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s.trim())
                        .decode_utf8_lossy()
                        .into_owned()
                };
                set(&decode(k), decode(v));
            }
        }
    }
    if let Some(name) = env("OTEL_SERVICE_NAME") {
        set("service.name", name);
    }
    if let Some(version) = env("OTEL_SERVICE_VERSION") {
        set("service.version", version);
    }
    if let Some(id) = env("SERVICE_INSTANCE_ID").or_else(|| env("INSTANCE_ID")) {
        set("service.instance.id", id);
    }
    let mut defaults = vec![
        ("service.name", "pme".to_owned()),
        ("service.version", env!("CARGO_PKG_VERSION").to_owned()),
    ];
    if let Ok(host) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        defaults.push(("service.instance.id", host.trim().to_owned()));
    }
    for (k, v) in defaults {
        if !attributes.iter().any(|(key, _)| key == k) {
            attributes.push((k.to_owned(), v));
        }
    }
    attributes
}

const HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/x-protobuf"),
    ("user-agent", concat!("pme/", env!("CARGO_PKG_VERSION"))),
];

/// Sends after each cycle sent on `cycles` until `stop` resolves.
pub(crate) async fn run(
    config: Otlp,
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
        let request = request(&body, &config, SystemTime::now());
        let (client, url) = (client.clone(), config.url.clone());
        Some(async move { send(&client, Method::POST, &url, &HEADERS, request?.into()).await })
    })
    .await;
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

fn key_value(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue {
            string_value: value.to_owned(),
        }),
    }
}

/// The exposition `text` as an encoded `ExportMetricsServiceRequest`.
///
/// # Errors
/// The exposition does not parse (a bug: pme wrote it).
pub(crate) fn request(text: &[u8], config: &Otlp, now: SystemTime) -> Result<Vec<u8>, String> {
    let families = exposition::parse(text, exposition::Format::Prometheus, false)
        .map_err(|e| format!("reading pme's own exposition: {e}"))?;
    let (start, now) = (nanos(config.started), nanos(now));
    let mut metrics = Vec::new();
    for family in &families {
        let point = |s: &exposition::Sample<'_>, start| NumberDataPoint {
            attributes: s.labels.iter().map(|(k, v)| key_value(k, v)).collect(),
            start_time_unix_nano: start,
            time_unix_nano: s.timestamp.map_or(now, |t| t.nanos.max(0) as u64),
            as_double: s.value,
        };
        let describe = |name: &str, data| Metric {
            name: name.to_owned(),
            description: family.help.as_deref().unwrap_or_default().to_owned(),
            unit: family.unit.as_deref().unwrap_or_default().to_owned(),
            data: Some(data),
        };
        match family.kind {
            MetricType::Counter => {
                let name = family.name.strip_suffix("_total").unwrap_or(&family.name);
                let sum = Sum {
                    data_points: family.samples.iter().map(|s| point(s, start)).collect(),
                    aggregation_temporality: CUMULATIVE,
                    is_monotonic: true,
                };
                metrics.push(describe(name, Data::Sum(sum)));
            }
            _ => {
                // One gauge per sample name: a gauge's own name, or a
                // histogram's `_bucket`, `_sum` and `_count` series.
                let mut names: Vec<&str> = family.samples.iter().map(|s| &*s.name).collect();
                names.dedup();
                for name in names {
                    let data_points = family
                        .samples
                        .iter()
                        .filter(|s| s.name == name)
                        .map(|s| point(s, 0))
                        .collect();
                    metrics.push(describe(name, Data::Gauge(Gauge { data_points })));
                }
            }
        }
    }
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: config
                    .resource
                    .iter()
                    .map(|(k, v)| key_value(k, v))
                    .collect(),
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "pme".to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                }),
                metrics,
            }],
        }],
    };
    Ok(request.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn endpoint_and_resource_from_the_environment() {
        let env = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_SERVICE_NAME", "metrics-exporter"),
            ("INSTANCE_ID", "host-7"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,service.name=overridden",
            ),
        ]);
        let otlp = Otlp::from_flag_or_env(None, &env).unwrap();
        assert_eq!(otlp.url, "http://collector:4318/v1/metrics");
        let get = |k: &str| {
            otlp.resource
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("service.name"), Some("metrics-exporter"));
        assert_eq!(get("service.instance.id"), Some("host-7"));
        assert_eq!(get("deployment.environment"), Some("prod"));
        assert_eq!(get("service.version"), Some(env!("CARGO_PKG_VERSION")));
        let flag = Otlp::from_flag_or_env(Some("https://otel.example/v1/metrics"), &env).unwrap();
        assert_eq!(flag.url, "https://otel.example/v1/metrics");
        assert!(Otlp::from_flag_or_env(None, &env_of(&[])).is_none());
    }

    #[test]
    fn counters_are_monotonic_cumulative_sums_without_total() {
        let config = Otlp {
            url: String::new(),
            resource: vec![],
            started: UNIX_EPOCH + std::time::Duration::from_secs(100),
        };
        let text = b"# HELP req_total Requests.\n# TYPE req_total counter\nreq_total{code=\"200\"} 7\n# TYPE t gauge\nt 1.5\n";
        let now = UNIX_EPOCH + std::time::Duration::from_secs(200);
        let bytes = request(text, &config, now).unwrap();
        let decoded = ExportMetricsServiceRequest::decode(bytes.as_slice()).unwrap();
        let metrics = &decoded.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics[0].name, "req");
        assert_eq!(metrics[0].description, "Requests.");
        let Some(Data::Sum(sum)) = &metrics[0].data else {
            panic!("a sum")
        };
        assert!(sum.is_monotonic);
        assert_eq!(sum.aggregation_temporality, CUMULATIVE);
        assert_eq!(sum.data_points[0].start_time_unix_nano, 100_000_000_000);
        assert_eq!(sum.data_points[0].time_unix_nano, 200_000_000_000);
        assert_eq!(
            sum.data_points[0].attributes,
            vec![key_value("code", "200")]
        );
        assert!(
            matches!(&metrics[1].data, Some(Data::Gauge(g)) if g.data_points[0].as_double == 1.5)
        );
    }
}
