//! One statsd or DogStatsD line, parsed without allocating beyond its
//! tags: `name:value[:value…]|type[|@rate][|#tag:value,…][|c:container]`.
//!
//! Everything the line says is kept or refused, never guessed: a value that
//! is not a finite number, a rate outside (0, 1], a tag without a value, a
//! sample timestamp (`|T…`, which pme cannot honour: the value would be
//! applied now), sets, events and service checks are refused with a
//! reason.

/// What kind of update a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Type {
    /// `c`: add to a counter.
    Counter,
    /// `g`: set a gauge, or move it when the value is signed.
    Gauge,
    /// `ms`: a duration in milliseconds, observed by a histogram.
    Timer,
    /// `h` or `d`: an observation.
    Histogram,
}

/// A parsed line, borrowing from the datagram.
#[derive(Debug, PartialEq)]
pub(crate) struct Line<'a> {
    pub(crate) name: &'a str,
    /// At least one value (DogStatsD packs several: `name:1:2:3|h`).
    pub(crate) values: Vec<f64>,
    /// For gauges: the values are deltas (`+3`, `-1`), not new values.
    pub(crate) delta: bool,
    pub(crate) kind: Type,
    /// The sample rate, in (0, 1].
    pub(crate) rate: f64,
    pub(crate) tags: Vec<(&'a str, &'a str)>,
}

/// Why a line was refused: the `reason` label of
/// `pme_statsd_refused_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not `name:value|type`.
    Malformed,
    /// A value that is not a finite number.
    BadValue,
    /// A type pme does not map: sets (`s`) and unknown ones.
    UnsupportedType,
    /// `@rate` outside (0, 1].
    BadRate,
    /// A tag without a value, or a repeated tag.
    BadTag,
    /// A sample timestamp (`|T…`).
    Timestamp,
    /// A DogStatsD event (`_e{…}`) or service check (`_sc|…`).
    NotAMetric,
    /// No declared instrument has this name.
    UnknownMetric,
    /// The type does not fit the instrument (a `g` for a counter).
    TypeMismatch,
    /// The tags are not exactly the instrument's labels.
    Labels,
    /// A tag value outside the label's declared values, or past a limit.
    LabelValue,
}

impl Refusal {
    /// Every reason, in `reason` label order.
    pub(crate) const ALL: [Refusal; 11] = [
        Refusal::Malformed,
        Refusal::BadValue,
        Refusal::UnsupportedType,
        Refusal::BadRate,
        Refusal::BadTag,
        Refusal::Timestamp,
        Refusal::NotAMetric,
        Refusal::UnknownMetric,
        Refusal::TypeMismatch,
        Refusal::Labels,
        Refusal::LabelValue,
    ];

    /// The `reason` label value.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::BadValue => "bad_value",
            Refusal::UnsupportedType => "unsupported_type",
            Refusal::BadRate => "bad_rate",
            Refusal::BadTag => "bad_tag",
            Refusal::Timestamp => "timestamp",
            Refusal::NotAMetric => "not_a_metric",
            Refusal::UnknownMetric => "unknown_metric",
            Refusal::TypeMismatch => "type_mismatch",
            Refusal::Labels => "labels",
            Refusal::LabelValue => "label_value",
        }
    }
}

/// Parses one line (no newline).
pub(crate) fn parse(line: &str) -> Result<Line<'_>, Refusal> {
    if line.starts_with("_e{") || line.starts_with("_sc|") {
        return Err(Refusal::NotAMetric);
    }
    let mut sections = line.split('|');
    let head = sections.next().unwrap_or_default();
    let (name, values) = head.split_once(':').ok_or(Refusal::Malformed)?;
    if name.is_empty() || values.is_empty() {
        return Err(Refusal::Malformed);
    }
    let kind = match sections.next().ok_or(Refusal::Malformed)? {
        "c" => Type::Counter,
        "g" => Type::Gauge,
        "ms" => Type::Timer,
        "h" | "d" => Type::Histogram,
        "" => return Err(Refusal::Malformed),
        _ => return Err(Refusal::UnsupportedType),
    };
    let delta = kind == Type::Gauge && values.starts_with(['+', '-']);
    let values = values
        .split(':')
        .map(|v| match v.parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(n),
            _ => Err(Refusal::BadValue),
        })
        .collect::<Result<Vec<f64>, Refusal>>()?;
    let mut parsed = Line {
        name,
        values,
        delta,
        kind,
        rate: 1.0,
        tags: Vec::new(),
    };
    for section in sections {
        if let Some(rate) = section.strip_prefix('@') {
            parsed.rate = match rate.parse::<f64>() {
                Ok(r) if r > 0.0 && r <= 1.0 => r,
                _ => return Err(Refusal::BadRate),
            };
        } else if let Some(tags) = section.strip_prefix('#') {
            for tag in tags.split(',') {
                let (key, value) = tag.split_once(':').ok_or(Refusal::BadTag)?;
                if key.is_empty() || parsed.tags.iter().any(|(k, _)| *k == key) {
                    return Err(Refusal::BadTag);
                }
                parsed.tags.push((key, value));
            }
        } else if section.starts_with("c:") {
            // A DogStatsD container id: says who sent it, nothing about the value.
        } else if section.starts_with('T') {
            return Err(Refusal::Timestamp);
        } else {
            return Err(Refusal::Malformed);
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_statsd_and_dogstatsd_forms() {
        let l = parse("requests_total:1|c").unwrap();
        assert_eq!(
            (l.name, l.values.as_slice(), l.kind, l.rate),
            ("requests_total", &[1.0][..], Type::Counter, 1.0)
        );
        let l = parse("requests_total:2|c|@0.5|#model:gpt-4o,status:ok").unwrap();
        assert_eq!(l.rate, 0.5);
        assert_eq!(l.tags, [("model", "gpt-4o"), ("status", "ok")]);
        let l = parse("queue:-3|g").unwrap();
        assert!(l.delta);
        assert_eq!(l.values, [-3.0]);
        assert!(!parse("queue:3|g").unwrap().delta);
        assert_eq!(parse("latency:320|ms").unwrap().kind, Type::Timer);
        assert_eq!(parse("size:1:2:3|h").unwrap().values, [1.0, 2.0, 3.0]);
        assert_eq!(parse("size:1|d|c:abc123").unwrap().kind, Type::Histogram);
        // A tag value may hold a colon (`url:http://x`): only the first splits.
        assert_eq!(
            parse("a:1|c|#url:http://x").unwrap().tags,
            [("url", "http://x")]
        );
    }

    #[test]
    fn refuses_what_it_cannot_apply_exactly() {
        let cases = [
            ("", Refusal::Malformed),
            ("name", Refusal::Malformed),
            ("name:1", Refusal::Malformed),
            (":1|c", Refusal::Malformed),
            ("name:|c", Refusal::Malformed),
            ("name:1|", Refusal::Malformed),
            ("name:x|c", Refusal::BadValue),
            ("name:NaN|g", Refusal::BadValue),
            ("name:inf|g", Refusal::BadValue),
            ("name:1::2|h", Refusal::BadValue),
            ("users:alice|s", Refusal::UnsupportedType),
            ("name:1|q", Refusal::UnsupportedType),
            ("name:1|c|@0", Refusal::BadRate),
            ("name:1|c|@1.5", Refusal::BadRate),
            ("name:1|c|@x", Refusal::BadRate),
            ("name:1|c|#production", Refusal::BadTag),
            ("name:1|c|#a:1,a:2", Refusal::BadTag),
            ("name:1|c|#:v", Refusal::BadTag),
            ("name:1|c|T1656581400", Refusal::Timestamp),
            ("name:1|c|zzz", Refusal::Malformed),
            ("_e{5,4}:title|text", Refusal::NotAMetric),
            ("_sc|check|0", Refusal::NotAMetric),
        ];
        for (line, reason) in cases {
            assert_eq!(parse(line), Err(reason), "{line:?}");
        }
    }
}
