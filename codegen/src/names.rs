//! The Prometheus data model's rules for names, and the exposition bytes
//! that depend only on them (escaped HELP, label prefixes).
//!
//! Shared by the spec validator and by the derive macros in `pme-macros`, so
//! a hand-written collector obeys exactly the rules a generated one does.
//! The bytes themselves (headers, escapes) come from the exposition writer
//! of `pme-content`, which also writes re-imported families.

use pme_content::exposition::{self, MetricType};

pub use pme_content::Kind;
pub use pme_content::exposition::DEFAULT_BUCKETS;

/// Metric names reserved for pme's own self-metrics.
pub const RESERVED_METRIC_NAMES: &[&str] = &[
    "pme_source_up",
    "pme_collection_duration_seconds",
    "pme_collection_errors_total",
    "pme_collections_total",
    "pme_last_success_timestamp_seconds",
    "pme_collection_interval_seconds",
    "pme_command_exit_code",
    "pme_file_matches",
    "pme_file_matches_dropped_total",
    "pme_series_dropped_total",
    "pme_group_max_series",
    "pme_output_sends_total",
    "pme_output_dropped_samples_total",
    "pme_output_failures_total",
    "pme_output_last_success_timestamp_seconds",
    "pme_cardinality_rejected_total",
    "pme_instrument_invalid_updates_total",
    "pme_statsd_lines_total",
    "pme_statsd_refused_total",
];

/// The base units Prometheus names families in (its naming practice).
const BASE_UNITS: &[&str] = &[
    "seconds", "bytes", "celsius", "ratio", "meters", "volts", "amperes", "joules", "grams",
    "hertz",
];

/// The base unit `name` ends in, before `_total` or `_info` (`_bytes` in
/// `node_network_receive_bytes_total`); `""` when it names none.
pub fn unit_of(name: &str) -> &'static str {
    let stem = name
        .strip_suffix("_total")
        .or_else(|| name.strip_suffix("_info"))
        .unwrap_or(name);
    BASE_UNITS
        .iter()
        .find(|u| {
            stem.strip_suffix(*u)
                .is_some_and(|rest| rest.ends_with('_'))
        })
        .copied()
        .unwrap_or("")
}

/// Checks a metric name against the data model (`[a-zA-Z_:][a-zA-Z0-9_:]*`)
/// and the exporter conventions (no colons, no reserved `__` prefix).
pub fn check_metric_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        }
        _ => false,
    };
    if !valid {
        return Err(format!(
            "invalid metric name `{name}`; help: metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`"
        ));
    }
    if name.contains(':') {
        return Err(format!(
            "metric name `{name}` contains `:`; help: colons are reserved for recording rules, use `_`"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "metric name `{name}` starts with `__`, which Prometheus reserves for internal use"
        ));
    }
    Ok(())
}

/// Checks the naming conventions that depend on the type: counters end in
/// `_total`, gauges and info metrics do not, and info metrics end in
/// `_info`. An untyped family may end in `_total` (the `processes` built-in's
/// `node_processes_total` does; promtool accepts it).
pub fn check_kind_suffix(name: &str, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Counter if !name.ends_with("_total") => Err(format!(
            "counter `{name}` does not end in `_total`; help: name it `{name}_total`"
        )),
        Kind::Info if !name.ends_with("_info") => Err(format!(
            "info metric `{name}` does not end in `_info`; help: name it `{name}_info`"
        )),
        Kind::Gauge | Kind::Info if name.ends_with("_total") => Err(format!(
            "`{name}` ends in `_total` but is not a counter; help: `_total` marks counters, rename it or use `type: counter`"
        )),
        _ => Ok(()),
    }
}

/// Naming practice (<https://prometheus.io/docs/practices/naming>): base
/// units, ratios instead of percentages, and no histogram/summary sample
/// suffixes on other types. `None` when the name follows it. These are
/// advice, reported as build warnings, not errors.
pub fn naming_advice(name: &str, kind: Kind) -> Option<String> {
    const UNITS: &[(&str, &str, &str)] = &[
        ("_nanoseconds", "_seconds", "1e-9"),
        ("_microseconds", "_seconds", "1e-6"),
        ("_milliseconds", "_seconds", "0.001"),
        ("_minutes", "_seconds", "60"),
        ("_hours", "_seconds", "3600"),
        ("_days", "_seconds", "86400"),
        ("_ns", "_seconds", "1e-9"),
        ("_us", "_seconds", "1e-6"),
        ("_ms", "_seconds", "0.001"),
        ("_kilobytes", "_bytes", "1000"),
        ("_megabytes", "_bytes", "1e6"),
        ("_gigabytes", "_bytes", "1e9"),
        ("_kibibytes", "_bytes", "1024"),
        ("_mebibytes", "_bytes", "1048576"),
        ("_gibibytes", "_bytes", "1073741824"),
        ("_kb", "_bytes", "1024"),
        ("_mb", "_bytes", "1048576"),
        ("_gb", "_bytes", "1073741824"),
        ("_percent", "_ratio", "0.01"),
    ];
    let (stem, total) = match name.strip_suffix("_total") {
        Some(stem) if kind == Kind::Counter => (stem, "_total"),
        _ => (name, ""),
    };
    for (unit, base, factor) in UNITS {
        if let Some(head) = stem.strip_suffix(unit) {
            return Some(format!(
                "`{name}` is not in a base unit; help: Prometheus names use base units: `{head}{base}{total}` with `scale: {factor}`"
            ));
        }
    }
    ["_count", "_sum", "_bucket"]
        .iter()
        .find(|suffix| stem.ends_with(*suffix))
        .map(|suffix| format!("`{name}` ends in `{suffix}`, the sample suffix of histograms and summaries; help: queries and tools will read it as part of one, so pick another name (e.g. `…_entries`)"))
}

/// The types of application instruments (`instruments:` in a spec,
/// `#[derive(pme::Instruments)]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstrumentType {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations counted into buckets.
    Histogram,
}

impl InstrumentType {
    /// Keywords in `metrics.yaml`, in the order error messages list them.
    pub const NAMES: &'static [&'static str] = pme_content::spec::keys::INSTRUMENT_TYPES;

    /// Reads a `type:` keyword.
    pub fn from_keyword(s: &str) -> Option<InstrumentType> {
        match s {
            "counter" => Some(InstrumentType::Counter),
            "gauge" => Some(InstrumentType::Gauge),
            "histogram" => Some(InstrumentType::Histogram),
            _ => None,
        }
    }

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            InstrumentType::Counter => "counter",
            InstrumentType::Gauge => "gauge",
            InstrumentType::Histogram => "histogram",
        }
    }

    fn metric_type(self) -> MetricType {
        match self {
            InstrumentType::Counter => MetricType::Counter,
            InstrumentType::Gauge => MetricType::Gauge,
            InstrumentType::Histogram => MetricType::Histogram,
        }
    }
}

/// The naming rules of [`check_kind_suffix`] for instruments, and for
/// histograms: no `_total`, and none of the sample suffixes a histogram
/// writes itself (`_bucket`, `_sum`, `_count`).
pub fn check_instrument_suffix(name: &str, kind: InstrumentType) -> Result<(), String> {
    match kind {
        InstrumentType::Counter => check_kind_suffix(name, Kind::Counter),
        InstrumentType::Gauge => check_kind_suffix(name, Kind::Gauge),
        InstrumentType::Histogram => {
            match ["_total", "_bucket", "_sum", "_count", "_created"]
                .into_iter()
                .find(|s| name.ends_with(s))
            {
                Some(suffix) => Err(format!(
                    "histogram `{name}` ends in `{suffix}`; help: a histogram's samples add `_bucket`, `_sum` and `_count` to its name, so name it for what it observes (e.g. `…_seconds`)"
                )),
                None => Ok(()),
            }
        }
    }
}

/// Checks histogram bounds: at least one, finite, strictly increasing
/// (`+Inf` is always added).
pub fn check_buckets(bounds: &[f64]) -> Result<(), String> {
    if bounds.is_empty() {
        return Err("`buckets` is empty; help: list at least one upper bound, or leave `buckets` out for the default ones".into());
    }
    if let Some(b) = bounds.iter().find(|b| !b.is_finite()) {
        return Err(format!(
            "bucket bound `{}` is not a finite number; help: `+Inf` is always the last bucket, leave it out",
            format_value(*b)
        ));
    }
    if let Some(w) = bounds.windows(2).find(|w| w[0] >= w[1]) {
        return Err(format!(
            "bucket bounds must increase: `{}` comes before `{}`",
            format_value(w[0]),
            format_value(w[1])
        ));
    }
    Ok(())
}

/// The text-format and OpenMetrics headers of an instrument family.
pub fn instrument_headers(name: &str, help: &str, kind: InstrumentType) -> (String, String) {
    let metric_type = kind.metric_type();
    let mut text = Vec::new();
    exposition::text_header(&mut text, name, Some(help), metric_type.text_name());
    let family = match kind {
        InstrumentType::Counter => name.strip_suffix("_total").unwrap_or(name),
        InstrumentType::Gauge | InstrumentType::Histogram => name,
    };
    let mut openmetrics = Vec::new();
    exposition::openmetrics_header(
        &mut openmetrics,
        family,
        metric_type.openmetrics_name(),
        None,
        Some(help),
    );
    (
        String::from_utf8(text).unwrap_or_default(),
        String::from_utf8(openmetrics).unwrap_or_default(),
    )
}

/// Checks a label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`).
pub fn check_label_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {
            chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        _ => false,
    };
    if !valid {
        return Err(format!(
            "invalid label name `{name}`; help: label names match `[a-zA-Z_][a-zA-Z0-9_]*`"
        ));
    }
    if name.starts_with("__") {
        return Err(format!(
            "label name `{name}` is reserved; help: names starting with `__` are for Prometheus's internal use"
        ));
    }
    Ok(())
}

/// The `# TYPE` and `# HELP` lines of one family in OpenMetrics 1.0, as
/// the exposition writer of `pme-content` writes them.
pub fn openmetrics_header(name: &str, help: &str, kind: Kind) -> String {
    let mut out = Vec::new();
    let family = kind.openmetrics_family(name);
    exposition::openmetrics_header(&mut out, family, kind.openmetrics_type(), None, Some(help));
    String::from_utf8(out).unwrap_or_default()
}

/// A label value escaped as the exposition writer escapes it.
pub fn escape_label_value(value: &str) -> String {
    let mut out = Vec::new();
    exposition::label_value(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

/// The `# HELP` and `# TYPE` lines of one family in the text format, as
/// the exposition writer of `pme-content` writes them.
pub fn header(name: &str, help: &str, kind: Kind) -> String {
    let mut out = Vec::new();
    exposition::text_header(&mut out, name, Some(help), kind.text_type());
    String::from_utf8(out).unwrap_or_default()
}

/// A number as the exposition format spells it: `NaN`, `+Inf`, `-Inf`, or
/// the shortest decimal that reads back as the same `f64`.
pub fn format_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        v.to_string()
    }
}

/// Reads a number the way [`format_value`] writes it (also `Inf`, `inf`).
pub fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// The bytes of one series line around its dynamic label values: a line
/// with `N` of them is `pieces[0]`, then for each value `i` the escaped
/// value and `pieces[i + 1]`, then the sample value and a newline. So a
/// series costs `N + 1` copies of precomputed bytes, whatever its constant
/// labels.
///
/// For `m{a="x",b=<value>} 1`: `["m{a=\"x\",b=\"", "\"} "]`; with no
/// dynamic label, the one piece is `m{a="x"} ` or `m `.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesShape {
    /// `N + 1` pieces, never empty.
    pub pieces: Vec<String>,
}

/// Precomputes the bytes around a series' dynamic label values.
pub fn series_shape(
    name: &str,
    const_labels: &[(String, String)],
    dynamic: &[String],
) -> SeriesShape {
    let mut piece = name.to_owned();
    let mut labels = 0;
    let mut open = |piece: &mut String| {
        piece.push(if labels == 0 { '{' } else { ',' });
        labels += 1;
    };
    for (label, value) in const_labels {
        open(&mut piece);
        piece.push_str(&format!("{label}=\"{}\"", escape_label_value(value)));
    }
    let mut pieces = Vec::with_capacity(dynamic.len() + 1);
    for label in dynamic {
        open(&mut piece);
        piece.push_str(&format!("{label}=\""));
        pieces.push(std::mem::replace(&mut piece, "\"".to_owned()));
    }
    piece.push_str(if labels > 0 { "} " } else { " " });
    pieces.push(piece);
    SeriesShape { pieces }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_metric_names() {
        assert!(check_metric_name("node_load1").is_ok());
        assert!(check_metric_name("_x").is_ok());
        for bad in ["", "1x", "a-b", "a b", "é", "a:b", "__x"] {
            assert!(check_metric_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn advises_on_naming_practice() {
        assert!(
            naming_advice("app_latency_milliseconds", Kind::Gauge)
                .unwrap()
                .contains("`app_latency_seconds` with `scale: 0.001`")
        );
        assert!(
            naming_advice("disk_read_kibibytes_total", Kind::Counter)
                .unwrap()
                .contains("`disk_read_bytes_total` with `scale: 1024`")
        );
        assert!(
            naming_advice("cpu_percent", Kind::Gauge)
                .unwrap()
                .contains("_ratio")
        );
        assert!(
            naming_advice("queue_count", Kind::Gauge)
                .unwrap()
                .contains("histograms and summaries")
        );
        assert_eq!(naming_advice("node_load1", Kind::Gauge), None);
        assert_eq!(naming_advice("http_requests_total", Kind::Counter), None);
    }

    #[test]
    fn checks_label_names() {
        assert!(check_label_name("device").is_ok());
        for bad in ["", "1x", "a:b", "a-b", "__name__"] {
            assert!(check_label_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escapes_help_and_label_values() {
        assert_eq!(
            header("m", "a\\b\n\"c\"", Kind::Gauge),
            "# HELP m a\\\\b\\n\"c\"\n# TYPE m gauge\n"
        );
        assert_eq!(
            openmetrics_header("m_total", "a\"b", Kind::Counter),
            "# TYPE m counter\n# HELP m a\\\"b\n"
        );
        assert_eq!(escape_label_value("a\\b\n\"c\""), "a\\\\b\\n\\\"c\\\"");
        assert_eq!(escape_label_value("ünï"), "ünï");
    }

    #[test]
    fn shapes_series_lines() {
        let s = series_shape("m", &[("a".into(), "x\"y".into())], &["b".into()]);
        assert_eq!(s.pieces, ["m{a=\"x\\\"y\",b=\"", "\"} "]);
        let s = series_shape("m", &[], &["b".into(), "c".into()]);
        assert_eq!(s.pieces, ["m{b=\"", "\",c=\"", "\"} "]);
        let s = series_shape("m", &[("a".into(), "x".into())], &[]);
        assert_eq!(s.pieces, ["m{a=\"x\"} "]);
        let s = series_shape("m", &[], &[]);
        assert_eq!(s.pieces, ["m "]);
    }
}
