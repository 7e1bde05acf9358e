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

fn main() {
    use pme::MetricGroup as _;
    let mut q = Queues::default();
    q.depth.set(["a\"b"], 3.0);
    q.jobs.set([], 12.0);
    let mut out = ::std::vec::Vec::new();
    q.encode(&mut out, pme::encode::Format::Prometheus);
    assert_eq!(
        ::std::string::String::from_utf8(out).unwrap(),
        "# HELP queue_depth Items waiting.\n# TYPE queue_depth gauge\nqueue_depth{site=\"eu-1\",queue=\"a\\\"b\"} 3\n\
         # HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 12\n"
    );
    q.fail();
    assert_eq!(q.jobs.series()[0].value, 0.0);
    assert_eq!(Queues::DEPTH.name, "queue_depth");
}
