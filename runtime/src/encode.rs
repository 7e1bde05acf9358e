//! The serializer: families to text format 0.0.4 or OpenMetrics 1.0 bytes
//! (the same series lines; the headers differ).
//!
//! Headers and series prefixes arrive precomputed ([`MetricDesc`]); at run
//! time only dynamic label values are escaped and numbers formatted, into
//! one reused buffer, without allocating.

use crate::metric::{Family, MetricDesc};

/// `Content-Type` of the text format.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `Content-Type` of OpenMetrics 1.0 text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub use pme_content::exposition::Format;

/// Appends one family: header, then one line per series. A family with no
/// series is left out entirely, as client_golang does.
pub fn family<const N: usize>(
    out: &mut Vec<u8>,
    desc: &MetricDesc,
    family: &Family<N>,
    format: Format,
) {
    if desc.pieces.is_empty() || family.series().is_empty() {
        return;
    }
    out.extend_from_slice(match format {
        Format::Prometheus => desc.header,
        Format::OpenMetrics => desc.openmetrics_header,
    });
    // The pieces, a value of up to 24 bytes, and some label text per series.
    let fixed: usize = desc.pieces.iter().map(|p| p.len()).sum();
    out.reserve(family.series().len() * (fixed + 24 + 16 * N));
    for series in family.series() {
        series_head(out, desc.pieces, &series.labels);
        value(out, series.value);
        out.push(b'\n');
    }
}

pub use pme_content::exposition::{label_value, series_head, value};

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(v: f64) -> String {
        let mut out = Vec::new();
        value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_values() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-42.0, "-42"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e-7, "1e-7"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (9_007_199_254_740_991.0, "9007199254740991"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (v, want) in cases {
            assert_eq!(fmt(v), want, "{v:?}");
            let back: f64 = match want {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                w => w.parse().unwrap(),
            };
            assert!(back == v || (v.is_nan() && back.is_nan()));
        }
    }

    #[test]
    fn escapes_label_values() {
        let cases = [
            ("plain", "plain"),
            ("a\\b", "a\\\\b"),
            ("say \"hi\"", "say \\\"hi\\\""),
            ("two\nlines", "two\\nlines"),
            ("ünïcode ✓", "ünïcode ✓"),
            ("\\\"\n", "\\\\\\\"\\n"),
            ("", ""),
        ];
        for (raw, want) in cases {
            let mut out = Vec::new();
            label_value(&mut out, raw);
            assert_eq!(String::from_utf8(out).unwrap(), want);
            // The same rule as the build-time escaper that renders constant labels.
            assert_eq!(pme_codegen::names::escape_label_value(raw), want);
        }
    }

    #[test]
    fn encodes_a_family() {
        static DESC: MetricDesc = MetricDesc {
            max_series: None,
            name: "m",
            header: b"# HELP m h\n# TYPE m gauge\n",
            openmetrics_header: b"# TYPE m gauge\n# HELP m h\n",
            pieces: &[b"m{a=\"x\",b=\"", b"\"} "],
            value_on_error: None,
        };
        let mut f = Family::<1>::default();
        f.set(["q\""], 2.5);
        let mut out = Vec::new();
        family(&mut out, &DESC, &f, Format::Prometheus);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# HELP m h\n# TYPE m gauge\nm{a=\"x\",b=\"q\\\"\"} 2.5\n"
        );
        let mut out = Vec::new();
        family(&mut out, &DESC, &Family::<1>::default(), Format::Prometheus);
        assert!(out.is_empty());
    }
}
