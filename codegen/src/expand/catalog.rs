//! `PLAN.catalog`: every family the spec declares, with its type, HELP,
//! labels (closed values where the spec fixes them), service, group,
//! source kind, period and line, for `pme describe`.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{Group, Instrument, Model, Service, SourceKind};
use crate::names::{InstrumentType, Kind};

/// The catalog's entries, in spec order.
pub(super) fn entries(m: &Model) -> Vec<TokenStream> {
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

fn group(m: &Model, s: &Service, g: &Group, scheduled: u32) -> Vec<TokenStream> {
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
    let place = |name: &str, kind: &str, help: &str, labels: Vec<TokenStream>, line: u32| {
        entry(Entry {
            name,
            kind,
            help,
            labels,
            service: &s.id,
            group: &g.id,
            source: kind_of_source,
            every,
            line,
        })
    };
    if let SourceKind::Collector(c) = source {
        let labels = c
            .labels
            .iter()
            .map(|(n, v)| label(n, Some(&[v.as_str()])))
            .collect();
        return vec![place(&c.path, "collector", "", labels, g.line)];
    }
    let mut out: Vec<TokenStream> = g
        .metrics
        .iter()
        .map(|metric| {
            let labels = metric
                .labels
                .iter()
                .map(|(n, v)| {
                    // A value without a `$` reference is a constant.
                    let constant = !v.contains('$') || v.contains("$$");
                    label(n, constant.then_some(&[v.as_str()][..]))
                })
                .collect();
            place(
                &metric.name,
                kind(metric.kind),
                &metric.help,
                labels,
                metric.line,
            )
        })
        .collect();
    out.extend(g.imports.iter().map(|import| {
        let labels = import
            .labels
            .iter()
            .map(|(n, v)| label(n, Some(&[v.as_str()])))
            .collect();
        place(&import.select, "imported", "", labels, import.line)
    }));
    out
}

fn instrument(s: &Service, i: &Instrument) -> TokenStream {
    let kind = match i.kind {
        InstrumentType::Counter => "counter",
        InstrumentType::Gauge => "gauge",
        InstrumentType::Histogram => "histogram",
    };
    let mut labels: Vec<TokenStream> = i
        .constant_labels
        .iter()
        .map(|(n, v)| label(n, Some(&[v.as_str()])))
        .collect();
    labels.extend(i.labels.iter().map(|l| {
        let values: Option<Vec<&str>> = l
            .closed
            .map(|e| s.enums[e].values.iter().map(|(v, _)| v.as_str()).collect());
        label(&l.name, values.as_deref())
    }));
    entry(Entry {
        name: &i.name,
        kind,
        help: &i.help,
        labels,
        service: &s.id,
        group: &i.id,
        source: "instrument",
        every: 0,
        line: i.line,
    })
}

fn kind(k: Kind) -> &'static str {
    match k {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Info => "info",
        Kind::Untyped => "untyped",
    }
}

struct Entry<'a> {
    name: &'a str,
    kind: &'a str,
    help: &'a str,
    labels: Vec<TokenStream>,
    service: &'a str,
    group: &'a str,
    source: &'a str,
    every: u32,
    line: u32,
}

fn entry(e: Entry<'_>) -> TokenStream {
    let Entry {
        name,
        kind,
        help,
        labels,
        service,
        group,
        source,
        every,
        line,
    } = e;
    quote! {
        ::pme::__private::plan::CatalogEntry {
            name: #name,
            kind: #kind,
            help: #help,
            labels: &[#(#labels),*],
            service: #service,
            group: #group,
            source: #source,
            every: #every,
            line: #line,
        }
    }
}

fn label(name: &str, values: Option<&[&str]>) -> TokenStream {
    let values = match values {
        Some(v) => quote!(::core::option::Option::Some(&[#(#v),*])),
        None => quote!(::core::option::Option::None),
    };
    quote!(::pme::__private::plan::CatalogLabel { name: #name, values: #values })
}
