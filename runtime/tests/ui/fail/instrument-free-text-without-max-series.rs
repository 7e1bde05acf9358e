#[derive(Debug, pme::Instruments)]
struct Metrics {
    /// Requests per tenant.
    #[counter(labels("tenant"))]
    requests_total: pme::instrument::BoundedFamily<pme::instrument::Counter, 1>,
}

fn main() {}
