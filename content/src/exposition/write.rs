//! Families back to bytes: text format 0.0.4 (what `/metrics` serves) and
//! OpenMetrics 1.0.
//!
//! OpenMetrics-only types become text-format ones as client_python writes
//! them: an info is a gauge named `<name>_info`, a stateset a gauge, a gauge
//! histogram a histogram of its buckets, and `_created`, `_gcount` and
//! `_gsum` samples separate gauges after their family. Exemplars have no
//! place in the text format and are left out of it.

use super::{Family, Format, MetricType, Sample, is_legacy_label_name, is_legacy_metric_name};

/// Appends `families` in text format 0.0.4. Families without samples are
/// left out, as client_golang does.
pub fn write_text<'f, 'a: 'f>(
    out: &mut Vec<u8>,
    families: impl IntoIterator<Item = &'f Family<'a>>,
) {
    for family in families.into_iter().filter(|f| !f.samples.is_empty()) {
        let name = family.prometheus_name();
        text_header(out, &name, family.help.as_deref(), family.kind.text_name());
        // OpenMetrics-only samples, by suffix, for the gauges that follow.
        let mut extra: [(&str, Vec<&Sample<'_>>); 3] =
            [("_created", vec![]), ("_gcount", vec![]), ("_gsum", vec![])];
        for sample in &family.samples {
            let suffix = sample.name.strip_prefix(&*family.name).unwrap_or("");
            match extra.iter_mut().find(|(s, _)| *s == suffix) {
                Some((_, list)) if family.format == Format::OpenMetrics => list.push(sample),
                _ => sample_line(out, sample, Format::Prometheus),
            }
        }
        for (suffix, samples) in extra.iter().filter(|(_, l)| !l.is_empty()) {
            let name = format!("{}{suffix}", family.name);
            text_header(out, &name, family.help.as_deref(), "gauge");
            for sample in samples {
                sample_line(out, sample, Format::Prometheus);
            }
        }
    }
}

/// Appends `families` in OpenMetrics 1.0 text, `# EOF` included. Families
/// read from the text format get OpenMetrics names: a counter `a_total` is
/// the family `a` (its samples keep `a_total`), and untyped is unknown.
pub fn write_openmetrics(out: &mut Vec<u8>, families: &[Family<'_>]) {
    write_openmetrics_families(out, families);
    out.extend_from_slice(b"# EOF\n");
}

/// [`write_openmetrics`] without the closing `# EOF`, for expositions put
/// together from several parts.
pub fn write_openmetrics_families<'f, 'a: 'f>(
    out: &mut Vec<u8>,
    families: impl IntoIterator<Item = &'f Family<'a>>,
) {
    for family in families {
        let from_text = family.format == Format::Prometheus;
        let name = match family.kind {
            MetricType::Counter if from_text => {
                family.name.strip_suffix("_total").unwrap_or(&family.name)
            }
            _ => &family.name,
        };
        // A stateset's state label carries the family's name; one renamed
        // on import no longer does, and is a gauge (as in the text format).
        let stateset_label_lost = family.kind == MetricType::StateSet
            && family
                .samples
                .iter()
                .any(|s| !s.labels.iter().any(|(l, _)| *l == family.name));
        let kind = if stateset_label_lost {
            MetricType::Gauge
        } else {
            family.kind
        };
        let unit = family.unit.as_deref().filter(|u| !u.is_empty());
        openmetrics_header(
            out,
            name,
            kind.openmetrics_name(),
            unit,
            family.help.as_deref(),
        );
        for sample in &family.samples {
            if from_text && family.kind == MetricType::Counter && !sample.name.ends_with("_total") {
                let renamed = super::Sample {
                    name: format!("{}_total", sample.name).into(),
                    ..sample.clone()
                };
                sample_line(out, &renamed, Format::OpenMetrics);
            } else {
                sample_line(out, sample, Format::OpenMetrics);
            }
        }
    }
}

/// A family's `# HELP` (when it has one) and `# TYPE` lines in the text
/// format: HELP escapes `\\` and newline. The derive's header constants,
/// the self-metrics and re-imports all come from here.
pub fn text_header(out: &mut Vec<u8>, name: &str, help: Option<&str>, kind: &str) {
    if let Some(help) = help {
        out.extend_from_slice(b"# HELP ");
        metric_name(out, name, Format::Prometheus);
        out.push(b' ');
        escape_help(out, help);
        out.push(b'\n');
    }
    out.extend_from_slice(b"# TYPE ");
    metric_name(out, name, Format::Prometheus);
    out.push(b' ');
    out.extend_from_slice(kind.as_bytes());
    out.push(b'\n');
}

/// A family's `# TYPE`, `# UNIT` and `# HELP` lines in OpenMetrics 1.0;
/// `family` is the family name (a counter's without `_total`). HELP
/// escapes `"` too, as label values do.
pub fn openmetrics_header(
    out: &mut Vec<u8>,
    family: &str,
    kind: &str,
    unit: Option<&str>,
    help: Option<&str>,
) {
    let mut head = Vec::new();
    metric_name(&mut head, family, Format::OpenMetrics);
    out.extend_from_slice(b"# TYPE ");
    out.extend_from_slice(&head);
    out.push(b' ');
    out.extend_from_slice(kind.as_bytes());
    out.push(b'\n');
    if let Some(unit) = unit {
        out.extend_from_slice(b"# UNIT ");
        out.extend_from_slice(&head);
        out.push(b' ');
        out.extend_from_slice(unit.as_bytes());
        out.push(b'\n');
    }
    if let Some(help) = help {
        out.extend_from_slice(b"# HELP ");
        out.extend_from_slice(&head);
        out.push(b' ');
        label_value(out, help);
        out.push(b'\n');
    }
}

/// A name outside `[a-zA-Z_:][a-zA-Z0-9_:]*` is written quoted, as
/// Prometheus 3 and client_python write UTF-8 names.
fn metric_name(out: &mut Vec<u8>, name: &str, _format: Format) {
    if is_legacy_metric_name(name) {
        out.extend_from_slice(name.as_bytes());
    } else {
        out.push(b'"');
        label_value(out, name);
        out.push(b'"');
    }
}

fn sample_line(out: &mut Vec<u8>, sample: &Sample<'_>, format: Format) {
    let legacy = is_legacy_metric_name(&sample.name);
    if legacy {
        out.extend_from_slice(sample.name.as_bytes());
    }
    if !legacy || !sample.labels.is_empty() {
        out.push(b'{');
        let mut first = true;
        if !legacy {
            metric_name(out, &sample.name, format);
            first = false;
        }
        labels(out, &sample.labels, first);
        out.push(b'}');
    }
    out.push(b' ');
    value(out, sample.value);
    if let Some(ts) = sample.timestamp {
        out.push(b' ');
        match format {
            Format::Prometheus => {
                out.extend_from_slice(ts.millis().to_string().as_bytes());
            }
            Format::OpenMetrics => out.extend_from_slice(ts.to_string().as_bytes()),
        }
    }
    if format == Format::OpenMetrics
        && let Some(e) = &sample.exemplar
    {
        out.extend_from_slice(b" # {");
        labels(out, &e.labels, true);
        out.extend_from_slice(b"} ");
        value(out, e.value);
        if let Some(ts) = e.timestamp {
            out.push(b' ');
            out.extend_from_slice(ts.to_string().as_bytes());
        }
    }
    out.push(b'\n');
}

fn labels(out: &mut Vec<u8>, labels: &[(impl AsRef<str>, impl AsRef<str>)], mut first: bool) {
    for (name, v) in labels {
        if !first {
            out.push(b',');
        }
        first = false;
        let name = name.as_ref();
        if is_legacy_label_name(name) {
            out.extend_from_slice(name.as_bytes());
        } else {
            out.push(b'"');
            label_value(out, name);
            out.push(b'"');
        }
        out.extend_from_slice(b"=\"");
        label_value(out, v.as_ref());
        out.push(b'"');
    }
}

/// Text-format HELP: `\` and newline escaped (`"` stays).
fn escape_help(out: &mut Vec<u8>, text: &str) {
    for b in text.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// Appends the head of a series line from precomputed `pieces` around
/// its dynamic label values: `pieces[0]`, then each value escaped and the
/// piece after it (`m{a="`, value, `",b="`, value, `"} `). The sample
/// value and newline are the caller's. Collected families and
/// application instruments both write their lines with it.
#[inline]
pub fn series_head<S: AsRef<str>>(out: &mut Vec<u8>, pieces: &[&[u8]], labels: &[S]) {
    let Some((first, rest)) = pieces.split_first() else {
        return;
    };
    out.extend_from_slice(first);
    for (label, piece) in labels.iter().zip(rest) {
        label_value(out, label.as_ref());
        out.extend_from_slice(piece);
    }
}

/// Appends a label value escaped for both formats: `\` `"` and newline.
#[inline]
pub fn label_value(out: &mut Vec<u8>, value: &str) {
    let mut rest = value.as_bytes();
    // Short values are checked in one branch-free pass the compiler
    // vectorizes, cheaper than a call into memchr.
    if rest.len() <= SHORT
        && !rest
            .iter()
            .fold(false, |special, &b| special | needs_escape(b))
    {
        out.extend_from_slice(rest);
        return;
    }
    // Most label values need no escaping: find specials with memchr (SIMD)
    // instead of matching byte by byte.
    while let Some(i) = memchr::memchr3(b'\\', b'"', b'\n', rest) {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(match rest[i] {
            b'\\' => b"\\\\",
            b'"' => b"\\\"",
            _ => b"\\n",
        });
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
}

/// The bytes a label value escapes.
#[inline]
fn needs_escape(b: u8) -> bool {
    b == b'\\' || b == b'"' || b == b'\n'
}

/// Label values up to this length are checked for escapes without memchr.
const SHORT: usize = 32;

/// Appends a sample value: integers without a fraction, `NaN`, `+Inf`,
/// `-Inf`, and otherwise the shortest decimal that reads back exactly.
#[inline]
pub fn value(out: &mut Vec<u8>, v: f64) {
    // 2^53: every integer up to here is exact in an f64.
    const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v == 0.0 && v.is_sign_negative() {
        out.extend_from_slice(b"-0");
    } else if v.fract() == 0.0 && v.abs() < EXACT_INTEGERS {
        out.extend_from_slice(itoa::Buffer::new().format(v as i64).as_bytes());
    } else if !short_decimal(out, v) {
        out.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes());
    }
}

/// Appends a finite, non-integer `v` that has a decimal of at most three fraction
/// digits (`0.25`, `-99.5`, `0.001`: what counters of seconds, ratios and
/// rates mostly hold) and returns true; otherwise appends nothing.
///
/// The digits are the integer `m = round(v × 10^k)` for the smallest `k`
/// whose `m / 10^k` reads back as `v` (the division is correctly rounded,
/// so it is exactly the parse of the decimal). Below 2^50, `v`'s rounding
/// interval spans less than half a unit of `m`, so at most one `m` per `k`
/// reads back and `round` finds it; the first `k` that works is the
/// shortest decimal, the one [`zmij`] writes for the same value (a test
/// compares them).
#[inline]
fn short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    const SCALES: [f64; 3] = [10.0, 100.0, 1000.0];
    const LIMIT: f64 = (1u64 << 50) as f64;
    for (k, scale) in SCALES.into_iter().enumerate() {
        let scaled = v * scale;
        if scaled.abs() >= LIMIT {
            return false;
        }
        let m = scaled.round();
        if m / scale == v {
            let mut digits = itoa::Buffer::new();
            let digits = digits.format(m.abs() as u64).as_bytes();
            let fraction = k + 1;
            if v < 0.0 {
                out.push(b'-');
            }
            if digits.len() > fraction {
                let (int, frac) = digits.split_at(digits.len() - fraction);
                out.extend_from_slice(int);
                out.push(b'.');
                out.extend_from_slice(frac);
            } else {
                out.extend_from_slice(b"0.");
                out.extend_from_slice(&b"000"[..fraction - digits.len()]);
                out.extend_from_slice(digits);
            }
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zmij(v: f64) -> String {
        zmij::Buffer::new().format_finite(v).to_owned()
    }

    fn written(v: f64) -> String {
        let mut out = Vec::new();
        value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    /// The short-decimal path writes exactly what zmij writes: every decimal
    /// of up to four fraction digits in a range, their neighbours one ulp
    /// away, and values across the magnitudes where the path gives up.
    #[test]
    fn short_decimals_are_zmijs() {
        let mut checked = 0;
        let mut check = |v: f64| {
            if v.is_finite() && v.fract() != 0.0 {
                assert_eq!(written(v), zmij(v), "{v:e}");
                checked += 1;
            }
        };
        for m in -200_000i64..200_000 {
            for scale in [10.0, 100.0, 1000.0, 10_000.0] {
                let v = m as f64 / scale;
                check(v);
                check(f64::from_bits(v.to_bits() + 1));
                check(f64::from_bits(v.to_bits().wrapping_sub(1)));
            }
        }
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..200_000 {
            // xorshift: values of every exponent from 1e-6 to 2^55.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let exponent = (x % 80) as i32 - 20;
            let v = (x >> 11) as f64 / (1u64 << 53) as f64 * 2f64.powi(exponent);
            check(v);
            check((v * 1000.0).round() / 1000.0);
            check(-(v * 100.0).round() / 100.0);
        }
        assert!(checked > 4_000_000, "{checked}");
    }
}
