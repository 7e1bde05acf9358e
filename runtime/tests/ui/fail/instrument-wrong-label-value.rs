// A value outside a declared label set does not compile.
#[derive(Clone, Copy, Debug, pme::LabelValue)]
enum Status {
    Ok,
    Error,
}

#[derive(Debug, pme::Instruments)]
struct Metrics {
    /// Requests by outcome.
    #[counter(labels("status"))]
    requests_total: pme::instrument::Family<Status, pme::instrument::Counter>,
}

fn main() {
    let m = Metrics::default();
    m.requests_total.get(Status::Timeout).inc();
}
