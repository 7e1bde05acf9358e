//! Prometheus text (0.0.4) and OpenMetrics 1.0 text: parsing an exposition
//! into families, selecting and relabelling them, and writing them back.
//!
//! Own code, because the crates on offer lose data (escapes left in label
//! values, invented timestamps; `docs/dependencies.md` in the repository).
//!
//! Two modes:
//! - **lenient** (what pme uses on a source): the syntax Prometheus's scrape
//!   parser accepts. Families that come back after other families are
//!   merged; grouping, ordering and histogram consistency are not checked.
//!   Unknown escapes in label values stay as written (`\t` is two
//!   characters), as in Prometheus.
//! - **strict**: the rules of the reference parsers, so that pme can tell a
//!   broken exposition from a good one: OpenMetrics as client_python's
//!   parser checks it (the OpenMetrics suite's verdicts), Prometheus text as
//!   Go's expfmt checks it (what `promtool check metrics` uses).

mod number;
mod parse;
pub mod relabel;
mod select;
mod strict;
mod write;

use std::borrow::Cow;
use std::fmt;

pub use parse::parse;
pub use select::{Import, Matcher, Op, Routed, Selector, route};
pub use write::{
    label_value, openmetrics_header, series_head, text_header, value, write_openmetrics,
    write_openmetrics_families, write_text,
};

/// The histogram buckets client libraries use when none are given
/// (client_golang's `DefBuckets`, client_python's, prometheus-client's):
/// request latencies in seconds, from 5 ms to 10 s.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The two text formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`.
    Prometheus,
    /// `application/openmetrics-text; version=1.0.0`: ends with `# EOF`.
    OpenMetrics,
}

impl Format {
    /// The format of a document whose media type is not known (a file, a
    /// command's output): OpenMetrics if its last line is `# EOF`.
    pub fn detect(input: &[u8]) -> Format {
        let trimmed = input.strip_suffix(b"\n").unwrap_or(input);
        let last = match memchr::memrchr(b'\n', trimmed) {
            Some(i) => &trimmed[i + 1..],
            None => trimmed,
        };
        if last == b"# EOF" {
            Format::OpenMetrics
        } else {
            Format::Prometheus
        }
    }
}

/// The metric types of both formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// Monotonic; OpenMetrics samples are `<family>_total`.
    Counter,
    /// Goes up and down.
    Gauge,
    /// `_bucket{le}`, `_count`, `_sum`.
    Histogram,
    /// OpenMetrics: `_bucket{le}`, `_gcount`, `_gsum`.
    GaugeHistogram,
    /// Quantiles, `_count`, `_sum`.
    Summary,
    /// OpenMetrics: `<family>_info`, value 1.
    Info,
    /// OpenMetrics: one 0/1 series per state, the state in a label named
    /// after the family.
    StateSet,
    /// No TYPE, `untyped` (text) or `unknown` (OpenMetrics).
    Unknown,
}

impl MetricType {
    /// The type named in a `# TYPE` line.
    pub fn from_name(name: &str, format: Format) -> Option<MetricType> {
        Some(match (name, format) {
            ("counter", _) => MetricType::Counter,
            ("gauge", _) => MetricType::Gauge,
            ("histogram", _) => MetricType::Histogram,
            ("summary", _) => MetricType::Summary,
            ("untyped", Format::Prometheus) | ("unknown", Format::OpenMetrics) => {
                MetricType::Unknown
            }
            ("gaugehistogram", Format::OpenMetrics) => MetricType::GaugeHistogram,
            ("info", Format::OpenMetrics) => MetricType::Info,
            ("stateset", Format::OpenMetrics) => MetricType::StateSet,
            _ => return None,
        })
    }

    /// The name in text-format `# TYPE` lines, which know neither info nor
    /// stateset (gauges) nor gauge histograms (histograms).
    pub fn text_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge | MetricType::Info | MetricType::StateSet => "gauge",
            MetricType::Histogram | MetricType::GaugeHistogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Unknown => "untyped",
        }
    }

    /// The name in OpenMetrics `# TYPE` lines.
    pub fn openmetrics_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// Sample-name suffixes a family of this type owns, in `format`.
    pub fn suffixes(self, format: Format) -> &'static [&'static str] {
        match (self, format) {
            (MetricType::Counter, Format::OpenMetrics) => &["_total", "_created"],
            (MetricType::Summary, Format::OpenMetrics) => &["", "_count", "_sum", "_created"],
            (MetricType::Summary, Format::Prometheus) => &["", "_count", "_sum"],
            (MetricType::Histogram, Format::OpenMetrics) => {
                &["_bucket", "_count", "_sum", "_created"]
            }
            (MetricType::Histogram, Format::Prometheus) => &["_bucket", "_count", "_sum"],
            (MetricType::GaugeHistogram, _) => &["_bucket", "_gcount", "_gsum"],
            (MetricType::Info, _) => &["_info"],
            _ => &[""],
        }
    }
}

/// A timestamp, exactly as written: OpenMetrics writes seconds with any
/// number of decimals, Prometheus text integer milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Nanoseconds since the epoch (wide enough for any timestamp the
    /// suites write, e.g. 12345678901234567890.1234 s).
    pub nanos: i128,
}

impl Timestamp {
    /// From Prometheus text milliseconds.
    pub fn from_millis(ms: i64) -> Timestamp {
        Timestamp {
            nanos: i128::from(ms) * 1_000_000,
        }
    }

    /// Milliseconds, rounded down (Prometheus text timestamps).
    pub fn millis(self) -> i128 {
        self.nanos.div_euclid(1_000_000)
    }
}

impl fmt::Display for Timestamp {
    /// Seconds as an exact decimal without trailing zeros: `1`, `1.1`,
    /// `-0.005`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let abs = self.nanos.unsigned_abs();
        let (secs, frac) = (abs / 1_000_000_000, abs % 1_000_000_000);
        if frac == 0 {
            write!(f, "{sign}{secs}")
        } else {
            let digits = format!("{frac:09}");
            write!(f, "{sign}{secs}.{}", digits.trim_end_matches('0'))
        }
    }
}

/// An exemplar attached to a counter or bucket sample (OpenMetrics).
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar<'a> {
    /// Its labels.
    pub labels: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// Its value.
    pub value: f64,
    /// Its timestamp, if written.
    pub timestamp: Option<Timestamp>,
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample<'a> {
    /// The full sample name (`a_total`, `a_bucket`, …).
    pub name: Cow<'a, str>,
    /// Labels, unescaped, in input order.
    pub labels: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    /// The value.
    pub value: f64,
    /// The timestamp, if written.
    pub timestamp: Option<Timestamp>,
    /// The exemplar, if written (OpenMetrics only). Boxed: few samples
    /// have one, and a smaller `Sample` is cheaper to move and store.
    pub exemplar: Option<Box<Exemplar<'a>>>,
}

impl Sample<'_> {
    /// The value of label `name`, or `""` when the sample has none (as
    /// PromQL matchers treat a missing label).
    pub fn label(&self, name: &str) -> &str {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v)
    }
}

/// One metric family: its metadata and samples, in input order.
#[derive(Clone, Debug, PartialEq)]
pub struct Family<'a> {
    /// The family name as the input's metadata writes it (OpenMetrics
    /// counters and infos without `_total`/`_info`).
    pub name: Cow<'a, str>,
    /// Its type.
    pub kind: MetricType,
    /// `# HELP` text, unescaped.
    pub help: Option<Cow<'a, str>>,
    /// `# UNIT` (OpenMetrics).
    pub unit: Option<Cow<'a, str>>,
    /// The format it was read from, which decides its sample suffixes.
    pub format: Format,
    /// Its samples.
    pub samples: Vec<Sample<'a>>,
}

impl Family<'_> {
    /// The name a Prometheus user sees: the text-format family name, so an
    /// OpenMetrics counter `a` is `a_total` and an info `a` is `a_info`.
    pub fn prometheus_name(&self) -> Cow<'_, str> {
        match (self.format, self.kind) {
            (Format::OpenMetrics, MetricType::Counter) => {
                Cow::Owned(format!("{}_total", self.name))
            }
            (Format::OpenMetrics, MetricType::Info) => Cow::Owned(format!("{}_info", self.name)),
            _ => Cow::Borrowed(&self.name),
        }
    }

    /// A copy that borrows nothing from the input.
    pub fn into_owned(self) -> Family<'static> {
        Family {
            name: own(self.name),
            kind: self.kind,
            help: self.help.map(own),
            unit: self.unit.map(own),
            format: self.format,
            samples: self.samples.into_iter().map(Sample::into_owned).collect(),
        }
    }
}

impl Sample<'_> {
    /// A copy that borrows nothing from the input.
    pub fn into_owned(self) -> Sample<'static> {
        Sample {
            name: own(self.name),
            labels: own_labels(self.labels),
            value: self.value,
            timestamp: self.timestamp,
            exemplar: self.exemplar.map(|e| {
                Box::new(Exemplar {
                    labels: own_labels(e.labels),
                    value: e.value,
                    timestamp: e.timestamp,
                })
            }),
        }
    }
}

fn own(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

fn own_labels(
    labels: Vec<(Cow<'_, str>, Cow<'_, str>)>,
) -> Vec<(Cow<'static, str>, Cow<'static, str>)> {
    labels.into_iter().map(|(n, v)| (own(n), own(v))).collect()
}

/// Why an exposition was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`: a metric name without quotes.
pub fn is_legacy_metric_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b':')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`: a label name without quotes.
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_openmetrics_by_its_eof_line() {
        assert_eq!(Format::detect(b"a 1\n# EOF\n"), Format::OpenMetrics);
        assert_eq!(Format::detect(b"a 1\n# EOF"), Format::OpenMetrics);
        assert_eq!(Format::detect(b"# EOF"), Format::OpenMetrics);
        assert_eq!(Format::detect(b"a 1\n"), Format::Prometheus);
        assert_eq!(Format::detect(b"a 1\n# EOF x\n"), Format::Prometheus);
    }

    #[test]
    fn timestamps_print_as_exact_seconds() {
        let ts = |nanos| Timestamp { nanos }.to_string();
        assert_eq!(ts(0), "0");
        assert_eq!(ts(1_100_000_000), "1.1");
        assert_eq!(ts(-5_000_000), "-0.005");
        assert_eq!(Timestamp::from_millis(-1).millis(), -1);
        assert_eq!(Timestamp { nanos: 1_999_999 }.millis(), 1);
    }
}
