//! A collector written by hand with the same derive the generated code
//! uses, in a scope that shadows the prelude names the expansion must not
//! rely on.

#![allow(dead_code)]

mod shadows {
    pub struct Result;
    pub struct Ok;
    pub struct Vec;
    pub struct Option;
}
#[allow(unused_imports)]
use shadows::*;

#[derive(Debug, Default, pme::MetricGroup)]
struct Queues {
    #[metric(name = "queue_depth", help = "Items waiting.", labels("queue", "site" = "eu-1"))]
    depth: pme::Gauge<1>,
    #[metric(name = "jobs_total", help = "Jobs done.", value_on_error = "0")]
    jobs: pme::Counter,
}

/// Labels every family shares, declared once on the group.
#[derive(Debug, Default, pme::MetricGroup)]
#[group(labels("host", "zone" = "b"))]
struct Disks {
    #[metric(name = "disk_bytes", help = "Bytes.", labels("disk"))]
    bytes: pme::Gauge<2>,
    #[metric(name = "disk_errors_total", help = "Errors.")]
    errors: pme::Counter<1>,
}

/// JSON: a label from the document root and a constant value, as in
/// json_exporter's `active: 1`.
#[derive(Debug, Default, pme::MetricGroup)]
#[group(content = "json")]
struct Planets {
    #[metric(
        name = "value_active",
        help = "One series per value.",
        filter = "$.values[*]",
        value = "1",
        match_all,
        labels("id" = "${@.id}", "location" = "planet-${$.location}")
    )]
    active: pme::Gauge<2>,
}

fn main() {
    use pme::MetricGroup as _;
    let mut q = Queues::default();
    q.depth.set(["a\"b"], 3.0);
    q.jobs.set([], 12.0);
    let mut out = ::std::vec::Vec::new();
    q.encode(&mut out, pme::Format::Prometheus);
    assert_eq!(
        ::std::string::String::from_utf8(out).unwrap(),
        "# HELP queue_depth Items waiting.\n# TYPE queue_depth gauge\nqueue_depth{site=\"eu-1\",queue=\"a\\\"b\"} 3\n\
         # HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 12\n"
    );
    q.fail();
    assert_eq!(q.jobs.series()[0].value, 0.0);
    assert_eq!(Queues::DEPTH.name, "queue_depth");

    let mut d = Disks::default();
    d.bytes.set(["db1", "sda"], 5.0);
    d.errors.set(["db1"], 1.0);
    let mut out = ::std::vec::Vec::new();
    d.encode(&mut out, pme::Format::Prometheus);
    assert_eq!(
        ::std::string::String::from_utf8(out).unwrap(),
        "# HELP disk_bytes Bytes.\n# TYPE disk_bytes gauge\ndisk_bytes{zone=\"b\",host=\"db1\",disk=\"sda\"} 5\n\
         # HELP disk_errors_total Errors.\n# TYPE disk_errors_total counter\ndisk_errors_total{zone=\"b\",host=\"db1\"} 1\n"
    );

    let mut p = Planets::default();
    p.extract(br#"{"location": "mars", "values": [{"id": "a"}, {"id": "b"}]}"#)
        .unwrap();
    let mut out = ::std::vec::Vec::new();
    p.encode(&mut out, pme::Format::Prometheus);
    assert_eq!(
        ::std::string::String::from_utf8(out).unwrap(),
        "# HELP value_active One series per value.\n# TYPE value_active gauge\n\
         value_active{id=\"a\",location=\"planet-mars\"} 1\nvalue_active{id=\"b\",location=\"planet-mars\"} 1\n"
    );
}
