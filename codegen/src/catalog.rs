//! The catalog as data: every family a model declares, with its type,
//! HELP, labels (closed values where the spec fixes them), service,
//! group, source kind, period, line and the most series it can have.
//! `expand/catalog.rs` writes it into `PLAN.catalog` (for `pme describe`);
//! `lock.rs` checks it against the spec's `metrics.lock`; `budget.rs` sums
//! the bounds against the spec's `max_series`.

use crate::ir::{Group, Instrument, Model, Service, SourceKind};
use crate::names::{InstrumentType, Kind};

/// One catalogued family (or a re-import's or a collector's set of them).
pub(crate) struct Family<'a> {
    pub(crate) name: &'a str,
    pub(crate) kind: &'static str,
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
    pub(crate) values: Option<Vec<&'a str>>,
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
        values: Some(vec![v.as_str()]),
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
                    // A value without a `$` reference is a constant.
                    let constant = !v.contains('$') || v.contains("$$");
                    Label {
                        name: n,
                        values: constant.then(|| vec![v.as_str()]),
                    }
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
            values: Some(vec![v.as_str()]),
        })
        .collect();
    labels.extend(i.labels.iter().map(|l| {
        Label {
            name: &l.name,
            values: l
                .closed
                .map(|e| s.enums[e].values.iter().map(|(v, _)| v.as_str()).collect()),
        }
    }));
    let combinations = i.labels.iter().try_fold(1u64, |product, l| {
        let values = s.enums[l.closed?].values.len() as u64;
        product.checked_mul(values)
    });
    Family {
        name: &i.name,
        kind,
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
    match k {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Info => "info",
        Kind::Untyped => "untyped",
    }
}
