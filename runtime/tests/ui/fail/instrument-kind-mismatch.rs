// The attribute says gauge, the field holds a counter.
#[derive(Debug, pme::Instruments)]
struct Metrics {
    /// Requests.
    #[gauge]
    in_flight: pme::instrument::Counter,
}

fn main() {}
