//! The catalog as data: every family a model declares, with its type,
//! HELP, labels (closed values where the spec fixes them), service,
//! group, source kind, period, line and the most series it can have.
//! `expand/catalog.rs` writes it into `PLAN.catalog` (for `pme describe`);
//! `lock.rs` checks it against the spec's `metrics.lock`; `budget.rs` sums
//! the bounds against the spec's `max_series`.

use regex_syntax::hir::{Hir, HirKind};

use crate::ir::{Content, Group, Instrument, Model, Service, SourceKind};
use crate::names::{InstrumentType, Kind};

/// One catalogued family (or a re-import's or a collector's set of them).
pub(crate) struct Family<'a> {
    pub(crate) name: &'a str,
    pub(crate) kind: &'static str,
    /// The base unit its name ends in (`seconds`, `bytes`), or `""`.
    pub(crate) unit: &'static str,
    pub(crate) help: &'a str,
    pub(crate) labels: Vec<Label<'a>>,
    pub(crate) service: &'a str,
    pub(crate) group: &'a str,
    pub(crate) source: &'static str,
    /// Collected every this many ticks; 0 per request or for instruments.
    pub(crate) every: u32,
    pub(crate) line: u32,
    /// The most series it can have: 1 for a metric without `match: all`
    /// (per file, for a path pattern), its `max_series`, or the product
    /// of an instrument's closed labels; `None` when the source decides.
    pub(crate) max_series: Option<u64>,
}

/// A label and, when the spec closes them, every value it can take.
pub(crate) struct Label<'a> {
    pub(crate) name: &'a str,
    pub(crate) values: Option<Vec<String>>,
}

/// The catalog's entries, in spec order.
pub(crate) fn families(m: &Model) -> Vec<Family<'_>> {
    let mut out = Vec::new();
    for s in &m.services {
        let every = if s.per_request() { 0 } else { 1 };
        for g in &s.groups {
            out.extend(group(m, s, g, every));
        }
        for i in &s.instruments {
            out.push(instrument(s, i));
        }
    }
    out
}

/// The most series a group's families can serve together; `None` when
/// one of them has no bound.
pub(crate) fn group_bound(m: &Model, s: &Service, g: &Group) -> Option<u64> {
    group(m, s, g, 1)
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.max_series?))
}

fn group<'a>(m: &'a Model, s: &'a Service, g: &'a Group, scheduled: u32) -> Vec<Family<'a>> {
    let source = &m.sources[g.source].kind;
    let kind_of_source = match source {
        SourceKind::Command { .. } => "command",
        SourceKind::File { .. } => "file",
        SourceKind::Files { .. } => "files",
        SourceKind::Static { .. } => "static",
        SourceKind::Http(_) => "http",
        SourceKind::Collector(_) => "collector",
    };
    let every = g.every * scheduled;
    // A path pattern serves each family once per file.
    let per_file = match source {
        SourceKind::Files { max_files, .. } => u64::from(*max_files),
        _ => 1,
    };
    let bound = |n: Option<u64>| n.and_then(|n| n.checked_mul(per_file));
    let place =
        |name: &'a str, kind: &'static str, help: &'a str, labels, line, max_series| Family {
            name,
            kind,
            unit: if matches!(kind, "collector" | "imported") {
                ""
            } else {
                crate::names::unit_of(name)
            },
            help,
            labels,
            service: &s.id,
            group: &g.id,
            source: kind_of_source,
            every,
            line,
            max_series,
        };
    let constant = |(n, v): &'a (String, String)| Label {
        name: n,
        values: Some(vec![v.clone()]),
    };
    if let SourceKind::Collector(c) = source {
        let labels = c.labels.iter().map(constant).collect();
        return vec![place(&c.path, "collector", "", labels, g.line, None)];
    }
    let mut out: Vec<Family<'a>> = g
        .metrics
        .iter()
        .map(|metric| {
            let labels = metric
                .labels
                .iter()
                .map(|(n, v)| {
                    // A value without a `$` reference is a constant; one
                    // that is a whole capture of literal alternatives,
                    // `(?P<state>ok|down)`, takes only those.
                    let constant = !v.contains('$') || v.contains("$$");
                    let values = if constant {
                        Some(vec![v.clone()])
                    } else if g.content == Content::Text {
                        metric
                            .filter
                            .as_deref()
                            .and_then(|f| alternatives(f, capture_of(v)?))
                    } else {
                        None
                    };
                    Label { name: n, values }
                })
                .collect();
            let series = if metric.match_all {
                metric.max_series
            } else {
                Some(1)
            };
            place(
                &metric.name,
                kind(metric.kind),
                &metric.help,
                labels,
                metric.line,
                bound(series),
            )
        })
        .collect();
    out.extend(g.imports.iter().map(|import| {
        let labels = import.labels.iter().map(constant).collect();
        place(
            &import.select,
            "imported",
            "",
            labels,
            import.line,
            bound(import.max_series),
        )
    }));
    out
}

fn instrument<'a>(s: &'a Service, i: &'a Instrument) -> Family<'a> {
    let kind = match i.kind {
        InstrumentType::Counter => "counter",
        InstrumentType::Gauge => "gauge",
        InstrumentType::Histogram => "histogram",
    };
    let mut labels: Vec<Label<'a>> = i
        .constant_labels
        .iter()
        .map(|(n, v)| Label {
            name: n,
            values: Some(vec![v.clone()]),
        })
        .collect();
    labels.extend(i.labels.iter().map(|l| {
        Label {
            name: &l.name,
            values: l
                .closed
                .map(|e| s.enums[e].values.iter().map(|(v, _)| v.clone()).collect()),
        }
    }));
    let combinations = i.labels.iter().try_fold(1u64, |product, l| {
        let values = s.enums[l.closed?].values.len() as u64;
        product.checked_mul(values)
    });
    Family {
        name: &i.name,
        kind,
        unit: crate::names::unit_of(&i.name),
        help: &i.help,
        labels,
        service: &s.id,
        group: &i.id,
        source: "instrument",
        every: 0,
        line: i.line,
        max_series: i.max_series.or(combinations),
    }
}

fn kind(k: Kind) -> &'static str {
    k.keyword()
}

/// The capture a label template is made of alone: `$name` or `${name}`.
fn capture_of(template: &str) -> Option<&str> {
    let rest = template.strip_prefix('$')?;
    let name = rest
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(rest);
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then_some(name)
}

/// The values capture `name` of `filter` can take, when it is literal
/// alternatives (`(?P<state>ok|degraded|down)`); `None` otherwise.
fn alternatives(filter: &str, name: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::parse(filter).ok()?;
    let group = find_capture(&hir, name)?;
    let literal = |h: &Hir| match h.kind() {
        HirKind::Literal(l) => String::from_utf8(l.0.to_vec()).ok(),
        _ => None,
    };
    match group.kind() {
        HirKind::Alternation(options) => options.iter().map(literal).collect(),
        HirKind::Literal(_) => literal(group).map(|l| vec![l]),
        _ => None,
    }
}

fn find_capture<'h>(hir: &'h Hir, name: &str) -> Option<&'h Hir> {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some(name) => Some(&c.sub),
        HirKind::Capture(c) => find_capture(&c.sub, name),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => {
            hs.iter().find_map(|h| find_capture(h, name))
        }
        HirKind::Repetition(r) => find_capture(&r.sub, name),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_capture_of_literal_alternatives_is_closed() {
        let f = r"^(?P<state>ok|degraded|down) (?P<n>\d+)$";
        assert_eq!(
            alternatives(f, "state"),
            Some(vec!["ok".into(), "degraded".into(), "down".into()])
        );
        assert_eq!(alternatives(f, "n"), None);
        assert_eq!(alternatives("(?i)(?P<s>ok|down)", "s"), None);
        assert_eq!(capture_of("${state}"), Some("state"));
        assert_eq!(capture_of("$state"), Some("state"));
        assert_eq!(capture_of("/q/$state"), None);
    }
}
