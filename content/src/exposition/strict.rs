//! Strict mode: the rules beyond syntax, as the reference parsers check
//! them — client_python's OpenMetrics parser (whose verdicts are the
//! OpenMetrics suite's) and Go's expfmt for the text format.

use std::collections::HashSet;

use super::number::parse_value;
use super::{Family, MetricType, Sample, Timestamp};

type Group = Vec<(String, String)>;

/// The series group a sample belongs to: its labels without the one that
/// tells its siblings apart (`le`, `quantile`, the stateset's state).
fn group_of(family: &Family<'_>, sample: &Sample<'_>) -> Group {
    let skip = match family.kind {
        MetricType::Info => return Group::new(),
        MetricType::Summary if sample.name == family.name => "quantile",
        MetricType::StateSet => &family.name,
        MetricType::Histogram | MetricType::GaugeHistogram if is_bucket(family, sample) => "le",
        _ => "",
    };
    let mut group: Group = sample
        .labels
        .iter()
        .filter(|(n, _)| n != skip)
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    group.sort();
    group
}

fn is_bucket(family: &Family<'_>, sample: &Sample<'_>) -> bool {
    suffix(family, sample) == Some("_bucket")
}

fn suffix<'s>(family: &Family<'_>, sample: &'s Sample<'_>) -> Option<&'s str> {
    sample.name.strip_prefix(&*family.name)
}

/// OpenMetrics: the groups seen in one family, which may not come back
/// once left, and the timestamps within the current one.
#[derive(Default)]
pub(super) struct Groups {
    current: Option<Group>,
    timestamp: Option<Timestamp>,
    seen: HashSet<Group>,
    at_timestamp: HashSet<(String, Group)>,
}

impl Groups {
    /// Checks grouping and timestamps; `false` for a sample that repeats
    /// one already taken at the same timestamp (client_python drops those:
    /// they come from timestamps finer than nanoseconds).
    pub(super) fn admit(
        &mut self,
        family: &Family<'_>,
        sample: &Sample<'_>,
    ) -> Result<bool, String> {
        let group = group_of(family, sample);
        let same = self.current.as_ref() == Some(&group);
        if self.current.is_some() && !same && self.seen.contains(&group) {
            return Err(format!(
                "`{}`: a series group that came earlier in the family (samples must be grouped)",
                sample.name
            ));
        }
        if same {
            if sample.timestamp.is_some() != self.timestamp.is_some() {
                return Err(format!(
                    "`{}`: some samples of a group have timestamps and some do not",
                    sample.name
                ));
            }
            if family.kind != MetricType::Info && self.timestamp > sample.timestamp {
                return Err(format!("`{}`: timestamps go backwards", sample.name));
            }
        } else {
            self.at_timestamp.clear();
        }
        let mut labels: Group = sample
            .labels
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        labels.sort();
        let series = (sample.name.to_string(), labels);
        let fresh = sample.timestamp != self.timestamp || !self.at_timestamp.contains(&series);
        self.at_timestamp.insert(series);
        self.timestamp = sample.timestamp;
        self.seen.insert(group.clone());
        self.current = Some(group);
        Ok(fresh)
    }
}

/// OpenMetrics: the checks on one sample of `family`.
pub(super) fn check_om_sample(family: &Family<'_>, sample: &Sample<'_>) -> Result<(), String> {
    let name = &sample.name;
    let kind = family.kind;
    let suffix = suffix(family, sample).unwrap_or("");
    let label = |l: &str| sample.labels.iter().find(|(n, _)| n == l).map(|(_, v)| v);
    if kind == MetricType::StateSet && label(&family.name).is_none() {
        return Err(format!(
            "`{name}`: a stateset sample without its `{}` label",
            family.name
        ));
    }
    if matches!(kind, MetricType::Histogram | MetricType::GaugeHistogram) && suffix == "_bucket" {
        match label("le").map(|le| (le, parse_value(le))) {
            Some((le, Some(bound))) if !bound.is_nan() && canonical(le, bound) => {}
            _ => return Err(format!("`{name}`: a bucket without a valid `le` label")),
        }
        if sample.value.fract() != 0.0 {
            return Err(format!("`{name}`: a bucket count must be an integer"));
        }
    }
    if matches!(suffix, "_count" | "_gcount")
        && kind != MetricType::Unknown
        && sample.value.fract() != 0.0
    {
        return Err(format!("`{name}`: a count must be an integer"));
    }
    if kind == MetricType::Summary && suffix.is_empty() {
        match label("quantile").map(|q| (q, parse_value(q))) {
            Some((q, Some(v))) if (0.0..=1.0).contains(&v) && canonical(q, v) => {}
            _ => {
                return Err(format!(
                    "`{name}`: a quantile label between 0 and 1 is required"
                ));
            }
        }
        if sample.value < 0.0 {
            return Err(format!("`{name}`: quantile values cannot be negative"));
        }
    }
    if kind == MetricType::StateSet && sample.value != 0.0 && sample.value != 1.0 {
        return Err(format!("`{name}`: stateset values are 0 or 1"));
    }
    if kind == MetricType::Info && sample.value != 1.0 {
        return Err(format!("`{name}`: info values are 1"));
    }
    if kind != MetricType::Unknown {
        let counter_like = ["_total", "_sum", "_count", "_bucket", "_gcount", "_gsum"];
        if counter_like.contains(&suffix) && sample.value.is_nan() {
            return Err(format!("`{name}`: counter-like samples cannot be NaN"));
        }
        if counter_like[..5].contains(&suffix) && sample.value < 0.0 {
            return Err(format!("`{name}`: counter-like samples cannot be negative"));
        }
    }
    let exemplar_allowed = match kind {
        MetricType::Histogram | MetricType::GaugeHistogram => suffix == "_bucket",
        MetricType::Counter => suffix == "_total",
        _ => false,
    };
    if sample.exemplar.is_some() && !exemplar_allowed {
        return Err(format!(
            "`{name}`: only counter totals and histogram buckets have exemplars"
        ));
    }
    Ok(())
}

/// `+Inf`/`-Inf` only in that spelling.
fn canonical(text: &str, value: f64) -> bool {
    !value.is_infinite() || text == "+Inf" || text == "-Inf"
}

/// OpenMetrics: the checks on a whole family, when it ends.
pub(super) fn check_family(family: &Family<'_>) -> Result<(), String> {
    let name = &family.name;
    if let Some(unit) = family.unit.as_deref().filter(|u| !u.is_empty()) {
        if matches!(family.kind, MetricType::Info | MetricType::StateSet) {
            return Err(format!("`{name}`: info and stateset metrics have no unit"));
        }
        if !name.ends_with(&format!("_{unit}")) {
            return Err(format!("unit `{unit}` is not a suffix of `{name}`"));
        }
    }
    if matches!(
        family.kind,
        MetricType::Histogram | MetricType::GaugeHistogram
    ) {
        check_histogram(family)?;
    }
    Ok(())
}

/// Per group (and timestamp): buckets in increasing order with
/// non-decreasing counts ending at `+Inf`, `_count` equal to it, `_sum`
/// and `_count` together, no `_sum` with negative buckets, no negative
/// `_gsum` without them.
fn check_histogram(family: &Family<'_>) -> Result<(), String> {
    #[derive(Default)]
    struct Acc {
        bucket: Option<f64>,
        last_count: f64,
        count: Option<f64>,
        negative_buckets: bool,
        sum: bool,
        gsum: bool,
        negative_gsum: bool,
    }
    let name = &family.name;
    let done = |a: &Acc| -> Result<(), String> {
        if a.bucket != Some(f64::INFINITY) {
            return Err(format!("`{name}`: the `+Inf` bucket is missing"));
        }
        if a.count.is_some_and(|c| c != a.last_count) {
            return Err(format!(
                "`{name}`: the count differs from the `+Inf` bucket"
            ));
        }
        if (a.sum || a.gsum) != a.count.is_some() {
            return Err(format!("`{name}`: a sum needs a count and a count a sum"));
        }
        if a.negative_buckets && a.sum {
            return Err(format!("`{name}`: a `_sum` with negative buckets"));
        }
        if !a.negative_buckets && a.negative_gsum {
            return Err(format!(
                "`{name}`: a negative `_gsum` without negative buckets"
            ));
        }
        Ok(())
    };
    let mut key: Option<(Group, Option<Timestamp>)> = None;
    let mut acc = Acc::default();
    for sample in &family.samples {
        let suffix = suffix(family, sample).unwrap_or("");
        let k = (group_of(family, sample), sample.timestamp);
        if key.as_ref() != Some(&k) {
            if key.is_some() {
                done(&acc)?;
            }
            acc = Acc::default();
            key = Some(k);
        }
        match suffix {
            "_bucket" => {
                let le = parse_value(sample.label("le")).unwrap_or(f64::NAN);
                if le < 0.0 {
                    acc.negative_buckets = true;
                }
                if acc.bucket.is_some_and(|b| le <= b) {
                    return Err(format!("`{name}`: buckets out of order"));
                }
                if sample.value < acc.last_count {
                    return Err(format!("`{name}`: bucket counts decrease"));
                }
                acc.bucket = Some(le);
                acc.last_count = sample.value;
            }
            "_count" | "_gcount" => acc.count = Some(sample.value),
            "_sum" => acc.sum = true,
            "_gsum" => {
                acc.gsum = true;
                acc.negative_gsum |= sample.value < 0.0;
            }
            _ => {}
        }
    }
    if key.is_some() {
        done(&acc)?;
    }
    Ok(())
}

/// Text format: the checks Go's expfmt makes on a sample.
pub(super) fn check_text_sample(family: &Family<'_>, sample: &Sample<'_>) -> Result<(), String> {
    let name = &sample.name;
    let suffix = suffix(family, sample).unwrap_or("");
    let float_label = |label: &str| {
        parse_value(sample.label(label))
            .map(|_| ())
            .ok_or_else(|| format!("`{name}`: expected a number in the `{label}` label"))
    };
    match (family.kind, suffix) {
        (MetricType::Summary, "") => float_label("quantile")?,
        (MetricType::Histogram, "_bucket") => {
            float_label("le")?;
            if sample.value < 0.0 {
                return Err(format!("`{name}`: a negative bucket count"));
            }
        }
        (MetricType::Histogram, "_count") if sample.value < 0.0 => {
            return Err(format!("`{name}`: a negative count"));
        }
        _ => {}
    }
    Ok(())
}
