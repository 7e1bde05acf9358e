//! `--otlp.endpoint URL` (or `OTEL_EXPORTER_OTLP_ENDPOINT`): OTLP after
//! every cycle, over HTTP/protobuf (`POST …/v1/metrics`) or gRPC
//! (`MetricsService/Export` over HTTP/2, see [`super::grpc`]), optionally
//! gzip-compressed.
//!
//! The metrics are the exposition a scrape gets, read back with pme's own
//! parser and mapped as OpenTelemetry's Prometheus compatibility rules say:
//! a counter is a monotonic cumulative `Sum` named without `_total`
//! (an OTLP-to-Prometheus exporter adds it back), a histogram a cumulative
//! `Histogram` (per-bucket counts, explicit bounds without `+Inf`), a
//! summary a `Summary` with its quantiles, everything else a `Gauge`;
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

use super::delivery::{Delivery, otel_var};
#[cfg(feature = "otlp-grpc")]
use super::grpc;
use super::{Sender, after_each_cycle, send, sender_or_record};
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
    /// Gauge, sum, histogram or summary.
    #[prost(oneof = "Data", tags = "5, 7, 9, 11")]
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
    /// `histogram`.
    #[prost(message, tag = "9")]
    Histogram(Histogram),
    /// `summary`.
    #[prost(message, tag = "11")]
    Summary(Summary),
}

/// `Histogram`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Histogram {
    /// Points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<HistogramDataPoint>,
    /// 2: cumulative.
    #[prost(int32, tag = "2")]
    pub aggregation_temporality: i32,
}

/// `HistogramDataPoint`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct HistogramDataPoint {
    /// The series' labels, `le` left out.
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    /// When counting started (pme's start).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// When the value was read.
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// Observations.
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    /// Their sum.
    #[prost(double, optional, tag = "5")]
    pub sum: Option<f64>,
    /// Observations per bucket (not cumulative), one more than the bounds.
    #[prost(fixed64, repeated, tag = "6")]
    pub bucket_counts: Vec<u64>,
    /// The buckets' upper bounds, `+Inf` left out.
    #[prost(double, repeated, tag = "7")]
    pub explicit_bounds: Vec<f64>,
}

/// `Summary`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Summary {
    /// Points.
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<SummaryDataPoint>,
}

/// `SummaryDataPoint`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct SummaryDataPoint {
    /// The series' labels, `quantile` left out.
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    /// When counting started (pme's start).
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    /// When the value was read.
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// Observations.
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    /// Their sum.
    #[prost(double, tag = "5")]
    pub sum: f64,
    /// The quantiles.
    #[prost(message, repeated, tag = "6")]
    pub quantile_values: Vec<ValueAtQuantile>,
}

/// `SummaryDataPoint.ValueAtQuantile`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ValueAtQuantile {
    /// In [0, 1].
    #[prost(double, tag = "1")]
    pub quantile: f64,
    /// The value at it.
    #[prost(double, tag = "2")]
    pub value: f64,
}

#[cfg(feature = "otlp-grpc")]
/// `ExportMetricsServiceResponse`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ExportMetricsServiceResponse {
    /// Set when the receiver took only part of the request.
    #[prost(message, optional, tag = "1")]
    pub partial_success: Option<ExportMetricsPartialSuccess>,
}

#[cfg(feature = "otlp-grpc")]
/// `ExportMetricsPartialSuccess`.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct ExportMetricsPartialSuccess {
    /// Points the receiver refused.
    #[prost(int64, tag = "1")]
    pub rejected_data_points: i64,
    /// Why.
    #[prost(string, tag = "2")]
    pub error_message: String,
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

/// How OTLP travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `grpc`: `MetricsService/Export` over HTTP/2.
    Grpc,
    /// `http/protobuf`: `POST …/v1/metrics`.
    HttpProtobuf,
}

impl Protocol {
    /// As `--otlp.protocol` and `OTEL_EXPORTER_OTLP_PROTOCOL` spell it.
    pub(crate) fn parse(text: &str) -> Result<Protocol, String> {
        match text.trim() {
            "grpc" if cfg!(not(feature = "otlp-grpc")) => Err(crate::https::NO_GRPC.to_owned()),
            "grpc" => Ok(Protocol::Grpc),
            "http/protobuf" => Ok(Protocol::HttpProtobuf),
            "http/json" => Err(
                "OTLP protocol `http/json` is not offered; use `grpc` or `http/protobuf`"
                    .to_owned(),
            ),
            other => Err(format!(
                "unknown OTLP protocol `{other}`; use `grpc` or `http/protobuf`"
            )),
        }
    }
}

/// The gRPC method pme calls.
const EXPORT: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// OTLP/gRPC's registered port: an endpoint on it speaks gRPC unless a
/// protocol is given.
const GRPC_PORT: &str = "4317";

/// Where and as whom to send.
#[derive(Clone, Debug)]
pub(crate) struct Otlp {
    /// The full URL: `…/v1/metrics`, or the gRPC method's.
    pub url: String,
    /// How.
    pub protocol: Protocol,
    /// Whether bodies are gzip-compressed.
    pub gzip: bool,
    /// Resource attributes.
    pub resource: Vec<(String, String)>,
    /// pme's start, the start of every cumulative sum.
    pub started: SystemTime,
    /// A setting that cannot be honoured: every send fails with it.
    pub refused: Option<String>,
}

/// The `--otlp.*` flags [`Otlp::configured`] reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flags<'a> {
    /// `--otlp.endpoint`.
    pub endpoint: Option<&'a str>,
    /// `--otlp.protocol`.
    pub protocol: Option<&'a str>,
    /// `--otlp.compression`.
    pub compression: Option<&'a str>,
}

impl Otlp {
    /// From the flags or the environment; `None` when no endpoint is set.
    ///
    /// The endpoint is `--otlp.endpoint`, else
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (used as is for HTTP), else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` or the shorter `OTEL_ENDPOINT` (which
    /// get `/v1/metrics` for HTTP). The protocol is `--otlp.protocol`,
    /// else `OTEL_EXPORTER_OTLP_[METRICS_]PROTOCOL`, else gRPC for an
    /// endpoint on port 4317 and HTTP/protobuf otherwise. Compression is
    /// `--otlp.compression`, else `OTEL_EXPORTER_OTLP_[METRICS_]COMPRESSION`:
    /// `gzip` or `none`.
    pub(crate) fn configured(
        flags: Flags<'_>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Otlp> {
        let var = |name: &str| otel_var(env, name);
        let mut refused = None;
        // A scheme-less endpoint is plain HTTP unless `…INSECURE=false`.
        let secure = match var("INSECURE").or_else(|| env("OTEL_INSECURE")) {
            None => false,
            Some(v) => match v.trim().to_ascii_lowercase().as_str() {
                "true" => false,
                "false" => true,
                other => {
                    refused = Some(format!(
                        "OTLP insecure setting `{other}` is not `true` or `false`"
                    ));
                    false
                }
            },
        };
        let with_scheme = |url: &str| with_scheme(url, secure);
        let (endpoint, full) = match (flags.endpoint, env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")) {
            (Some(f), _) => (with_scheme(f), false),
            (None, Some(full)) => (with_scheme(&full), true),
            (None, None) => (
                with_scheme(&env("OTEL_EXPORTER_OTLP_ENDPOINT").or_else(|| env("OTEL_ENDPOINT"))?),
                false,
            ),
        };
        let protocol = match flags
            .protocol
            .map(str::to_owned)
            .or_else(|| var("PROTOCOL"))
        {
            Some(p) => Protocol::parse(&p).unwrap_or_else(|e| {
                refused = Some(e);
                Protocol::HttpProtobuf
            }),
            None if port(&endpoint) == Some(GRPC_PORT) => {
                if cfg!(not(feature = "otlp-grpc")) {
                    refused = Some(format!(
                        "port {GRPC_PORT} is OTLP/gRPC: {}",
                        crate::https::NO_GRPC
                    ));
                }
                Protocol::Grpc
            }
            None => Protocol::HttpProtobuf,
        };
        let gzip = match flags
            .compression
            .map(str::to_owned)
            .or_else(|| var("COMPRESSION"))
        {
            None => false,
            Some(c) => match c.trim() {
                "gzip" => true,
                "none" => false,
                other => {
                    refused.get_or_insert(format!(
                        "unknown OTLP compression `{other}`; use `gzip` or `none`"
                    ));
                    false
                }
            },
        };
        let url = match protocol {
            Protocol::Grpc => format!("{}{EXPORT}", origin(&endpoint)),
            Protocol::HttpProtobuf if full => endpoint,
            Protocol::HttpProtobuf => base_to_metrics_url(&endpoint),
        };
        Some(Otlp {
            url,
            protocol,
            gzip,
            resource: resource(env),
            started: SystemTime::now(),
            refused,
        })
    }
}

/// `scheme://authority` of `url`, without a path.
fn origin(url: &str) -> &str {
    let after = url.find("://").map_or(0, |i| i + 3);
    let end = url[after..].find('/').map_or(url.len(), |i| after + i);
    &url[..end]
}

/// The explicit port of `url`, if any.
fn port(url: &str) -> Option<&str> {
    let origin = origin(url);
    let authority = &origin[origin.find("://").map_or(0, |i| i + 3)..];
    let (host, port) = authority.rsplit_once(':')?;
    (!host.ends_with(':') && port.bytes().all(|b| b.is_ascii_digit())).then_some(port)
}

fn with_scheme(url: &str, secure: bool) -> String {
    match (url.contains("://"), secure) {
        (true, _) => url.to_owned(),
        (false, false) => format!("http://{url}"),
        (false, true) => format!("https://{url}"),
    }
}

/// A base endpoint gets the signal path, as the OTLP exporter spec says.
fn base_to_metrics_url(base: &str) -> String {
    let base = base.to_owned();
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

const USER_AGENT: (&str, &str) = ("user-agent", concat!("pme/", env!("CARGO_PKG_VERSION")));

/// Sends after each cycle sent on `cycles` until `stop` resolves.
pub(crate) async fn run(
    config: Otlp,
    delivery: Delivery,
    exposition: Arc<Exposition>,
    status: Arc<OutputStatus>,
    cycles: watch::Receiver<u64>,
    stop: impl std::future::Future<Output = ()>,
) {
    if let Some(why) = &config.refused {
        tracing::error!("OTLP output: {why}");
        status.record(Err(why.clone()));
        return;
    }
    let grpc = config.protocol == Protocol::Grpc;
    let Some(sender) = sender_or_record(&status, delivery, grpc) else {
        return;
    };
    let config = Arc::new(config);
    after_each_cycle(&exposition, &status, cycles, stop, |body| {
        let request = request(&body, &config, SystemTime::now());
        let (sender, config) = (sender.clone(), config.clone());
        Some(async move { export(&sender, &config, request?).await })
    })
    .await;
}

/// Sends one encoded request as `config` says.
async fn export(sender: &Sender, config: &Otlp, message: Vec<u8>) -> Result<(), String> {
    let message = if config.gzip {
        gzip(&message)?
    } else {
        message
    };
    match config.protocol {
        Protocol::HttpProtobuf => {
            let mut headers = vec![("content-type", "application/x-protobuf"), USER_AGENT];
            if config.gzip {
                headers.push(("content-encoding", "gzip"));
            }
            send(sender, Method::POST, &config.url, &headers, message.into()).await
        }
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => {
            let mut headers = vec![USER_AGENT];
            if config.gzip {
                headers.push(("grpc-encoding", "gzip"));
            }
            let framed = grpc::frame(&message, config.gzip);
            let reply = grpc::call(sender, &config.url, &headers, framed).await?;
            partial_success(&reply)
        }
        // Refused when configured; kept for the match.
        #[cfg(not(feature = "otlp-grpc"))]
        Protocol::Grpc => Err(crate::https::NO_GRPC.to_owned()),
    }
}

#[cfg(feature = "otlp-grpc")]
/// A reply that says some points were rejected is a failure, with the
/// receiver's reason.
fn partial_success(reply: &[u8]) -> Result<(), String> {
    let response = ExportMetricsServiceResponse::decode(reply)
        .map_err(|e| format!("the OTLP reply does not decode: {e}"))?;
    match response.partial_success {
        Some(p) if p.rejected_data_points > 0 => Err(format!(
            "the receiver rejected {} data points: {}",
            p.rejected_data_points, p.error_message
        )),
        _ => Ok(()),
    }
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip: {e}"))
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
            MetricType::Histogram => {
                let histogram = Histogram {
                    data_points: histogram_points(family, start, now),
                    aggregation_temporality: CUMULATIVE,
                };
                metrics.push(describe(&family.name, Data::Histogram(histogram)));
            }
            MetricType::Summary => {
                let summary = Summary {
                    data_points: summary_points(family, start, now),
                };
                metrics.push(describe(&family.name, Data::Summary(summary)));
            }
            _ => {
                // One gauge per sample name: a gauge's own name, or a
                // gauge histogram's `_bucket`, `_gsum` and `_gcount` series.
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

/// A histogram's or summary's samples of one label set (its `le` or
/// `quantile` left out).
#[derive(Default)]
struct Parts {
    attributes: Vec<KeyValue>,
    time: u64,
    /// `(le, cumulative count)` or `(quantile, value)`.
    pairs: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
}

/// The samples of `family` by label set, in first-seen order; `split` is
/// the label that tells a bucket or quantile apart.
fn by_label_set(family: &exposition::Family<'_>, split: &str, now: u64) -> Vec<Parts> {
    let mut sets: Vec<(Vec<(&str, &str)>, Parts)> = Vec::new();
    for sample in &family.samples {
        let key: Vec<(&str, &str)> = sample
            .labels
            .iter()
            .filter(|(k, _)| k != split)
            .map(|(k, v)| (&**k, &**v))
            .collect();
        let index = match sets.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                let attributes = key.iter().map(|(k, v)| key_value(k, v)).collect();
                sets.push((
                    key,
                    Parts {
                        attributes,
                        ..Parts::default()
                    },
                ));
                sets.len() - 1
            }
        };
        let parts = &mut sets[index].1;
        parts.time = sample.timestamp.map_or(now, |t| t.nanos.max(0) as u64);
        match sample.name.strip_prefix(&*family.name) {
            Some("_sum") => parts.sum = Some(sample.value),
            Some("_count") => parts.count = Some(sample.value),
            _ => {
                let at = sample.label(split);
                let at = if at == "+Inf" {
                    f64::INFINITY
                } else {
                    at.parse().unwrap_or(f64::NAN)
                };
                parts.pairs.push((at, sample.value));
            }
        }
    }
    sets.into_iter().map(|(_, parts)| parts).collect()
}

/// A count as OTLP carries it.
fn whole(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.round() as u64
    } else {
        0
    }
}

/// A histogram's points: Prometheus' cumulative buckets become per-bucket
/// counts, the `+Inf` bucket the last of them.
fn histogram_points(
    family: &exposition::Family<'_>,
    start: u64,
    now: u64,
) -> Vec<HistogramDataPoint> {
    by_label_set(family, "le", now)
        .into_iter()
        .map(|mut parts| {
            parts.pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let total = parts
                .count
                .or_else(|| {
                    parts
                        .pairs
                        .last()
                        .filter(|(le, _)| le.is_infinite())
                        .map(|p| p.1)
                })
                .unwrap_or(0.0);
            let mut explicit_bounds = Vec::new();
            let mut bucket_counts = Vec::new();
            let mut below = 0.0;
            for (le, cumulative) in &parts.pairs {
                if le.is_infinite() {
                    break;
                }
                explicit_bounds.push(*le);
                bucket_counts.push(whole(cumulative - below));
                below = *cumulative;
            }
            bucket_counts.push(whole(total - below));
            HistogramDataPoint {
                attributes: parts.attributes,
                start_time_unix_nano: start,
                time_unix_nano: parts.time,
                count: whole(total),
                sum: parts.sum,
                bucket_counts,
                explicit_bounds,
            }
        })
        .collect()
}

/// A summary's points, quantiles in the exposition's order.
fn summary_points(family: &exposition::Family<'_>, start: u64, now: u64) -> Vec<SummaryDataPoint> {
    by_label_set(family, "quantile", now)
        .into_iter()
        .map(|parts| SummaryDataPoint {
            attributes: parts.attributes,
            start_time_unix_nano: start,
            time_unix_nano: parts.time,
            count: whole(parts.count.unwrap_or(0.0)),
            sum: parts.sum.unwrap_or(0.0),
            quantile_values: parts
                .pairs
                .iter()
                .map(|&(quantile, value)| ValueAtQuantile { quantile, value })
                .collect(),
        })
        .collect()
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
        let otlp = Otlp::configured(Flags::default(), &env).unwrap();
        assert_eq!(otlp.url, "http://collector:4318/v1/metrics");
        assert_eq!(otlp.protocol, Protocol::HttpProtobuf);
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
        let flags = Flags {
            endpoint: Some("https://otel.example/v1/metrics"),
            ..Flags::default()
        };
        let flag = Otlp::configured(flags, &env).unwrap();
        assert_eq!(flag.url, "https://otel.example/v1/metrics");
        assert!(Otlp::configured(Flags::default(), &env_of(&[])).is_none());
    }

    #[test]
    fn insecure_false_asks_for_tls_on_a_scheme_less_endpoint() {
        let plain = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_INSECURE", "true"),
        ]);
        let otlp = Otlp::configured(Flags::default(), &plain).unwrap();
        assert_eq!(otlp.url, "http://collector:4318/v1/metrics");
        let secure = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_INSECURE", "false"),
        ]);
        let otlp = Otlp::configured(Flags::default(), &secure).unwrap();
        assert_eq!(otlp.url, "https://collector:4318/v1/metrics");
        let bad = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_INSECURE", "yes"),
        ]);
        let refused = Otlp::configured(Flags::default(), &bad).unwrap().refused;
        assert!(refused.unwrap().contains("`yes` is not `true` or `false`"));
    }

    #[cfg(not(feature = "otlp-grpc"))]
    #[test]
    fn without_grpc_a_grpc_endpoint_is_refused_with_the_reason() {
        let seed = env_of(&[("OTEL_ENDPOINT", "collector:4317")]);
        let refused = Otlp::configured(Flags::default(), &seed).unwrap().refused;
        assert!(refused.unwrap().contains("built without gRPC"));
        let asked = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ]);
        let refused = Otlp::configured(Flags::default(), &asked).unwrap().refused;
        assert!(refused.unwrap().contains("cargo feature `otlp-grpc`"));
    }

    #[cfg(feature = "otlp-grpc")]
    #[test]
    fn port_4317_means_grpc_unless_a_protocol_is_given() {
        let seed = env_of(&[("OTEL_ENDPOINT", "collector:4317")]);
        let otlp = Otlp::configured(Flags::default(), &seed).unwrap();
        assert_eq!(otlp.protocol, Protocol::Grpc);
        assert_eq!(
            otlp.url,
            "http://collector:4317/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
        );
        assert!(!otlp.gzip);
        let http = Flags {
            protocol: Some("http/protobuf"),
            ..Flags::default()
        };
        let otlp = Otlp::configured(http, &seed).unwrap();
        assert_eq!(otlp.url, "http://collector:4317/v1/metrics");
        let env = env_of(&[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://otel.example:443/base",
            ),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ]);
        let otlp = Otlp::configured(Flags::default(), &env).unwrap();
        assert_eq!(otlp.protocol, Protocol::Grpc, "the METRICS_ variable first");
        assert!(
            otlp.url
                .starts_with("https://otel.example:443/opentelemetry.")
        );
        assert!(otlp.gzip);
        assert!(otlp.refused.is_none());
        let bad = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ]);
        let refused = Otlp::configured(Flags::default(), &bad).unwrap().refused;
        assert!(refused.unwrap().contains("`http/json` is not offered"));
        let bad = env_of(&[
            ("OTEL_ENDPOINT", "collector:4318"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
        ]);
        let refused = Otlp::configured(Flags::default(), &bad).unwrap().refused;
        assert!(refused.unwrap().contains("unknown OTLP compression `zstd`"));
        assert_eq!(port("http://[::1]:4317/x"), Some("4317"));
        assert_eq!(port("http://collector/x:4317"), None);
    }

    #[test]
    fn histograms_and_summaries_are_otlp_histograms_and_summaries() {
        let config = config();
        let text = b"# TYPE d histogram\n\
            d_bucket{m=\"a\",le=\"0.1\"} 10\nd_bucket{m=\"a\",le=\"1\"} 15\nd_bucket{m=\"a\",le=\"+Inf\"} 16\n\
            d_sum{m=\"a\"} 4.5\nd_count{m=\"a\"} 16\n\
            d_bucket{m=\"b\",le=\"0.1\"} 0\nd_bucket{m=\"b\",le=\"1\"} 0\nd_bucket{m=\"b\",le=\"+Inf\"} 0\n\
            d_sum{m=\"b\"} 0\nd_count{m=\"b\"} 0\n\
            # TYPE r summary\nr{quantile=\"0.5\"} 0.05\nr{quantile=\"0.99\"} 0.3\nr_sum 12.5\nr_count 200\n";
        let bytes = request(text, &config, UNIX_EPOCH).unwrap();
        let decoded = ExportMetricsServiceRequest::decode(bytes.as_slice()).unwrap();
        let metrics = &decoded.resource_metrics[0].scope_metrics[0].metrics;
        let Some(Data::Histogram(h)) = &metrics[0].data else {
            panic!("a histogram: {metrics:?}")
        };
        assert_eq!(h.aggregation_temporality, CUMULATIVE);
        assert_eq!(h.data_points.len(), 2);
        let a = &h.data_points[0];
        assert_eq!(a.attributes, vec![key_value("m", "a")]);
        assert_eq!(a.explicit_bounds, [0.1, 1.0]);
        assert_eq!(a.bucket_counts, [10, 5, 1]);
        assert_eq!((a.count, a.sum), (16, Some(4.5)));
        assert_eq!(a.start_time_unix_nano, 100_000_000_000);
        assert_eq!(h.data_points[1].bucket_counts, [0, 0, 0]);
        let Some(Data::Summary(summary)) = &metrics[1].data else {
            panic!("a summary: {metrics:?}")
        };
        let point = &summary.data_points[0];
        assert_eq!((point.count, point.sum), (200, 12.5));
        assert!(point.attributes.is_empty());
        assert_eq!(
            point.quantile_values,
            [
                ValueAtQuantile {
                    quantile: 0.5,
                    value: 0.05
                },
                ValueAtQuantile {
                    quantile: 0.99,
                    value: 0.3
                },
            ]
        );
    }

    #[cfg(feature = "otlp-grpc")]
    #[test]
    fn a_partial_success_is_a_failure_with_the_reason() {
        let reply = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: 3,
                error_message: "too old".to_owned(),
            }),
        }
        .encode_to_vec();
        assert_eq!(
            partial_success(&reply),
            Err("the receiver rejected 3 data points: too old".to_owned())
        );
        assert_eq!(partial_success(&[]), Ok(()));
    }

    fn config() -> Otlp {
        Otlp {
            url: String::new(),
            protocol: Protocol::HttpProtobuf,
            gzip: false,
            resource: vec![],
            started: UNIX_EPOCH + std::time::Duration::from_secs(100),
            refused: None,
        }
    }

    #[test]
    fn counters_are_monotonic_cumulative_sums_without_total() {
        let config = config();
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
